//! The revocation list as this isolate holds it: the whole list (it is small) re-read from KV
//! when the core's [`RevocationPolicy`] says so, one read shared by concurrent requests, so
//! checking it costs nothing per request. Every "when" (re-read, back off, refuse) is the core's.

use super::bindings::LazyKv;
use super::keystore::now;
use super::log;
use super::single_flight::SingleFlight;
use entra_gate_core::{ReadState, RevocationList, RevocationPolicy, RevocationStep};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const LOAD_LIMIT: Duration = Duration::from_secs(10);

/// At most this many list pages (1,000 keys each) are read.
const MAX_PAGES: usize = 10;

#[derive(Default)]
pub struct Revocations {
    list: RefCell<Option<Rc<RevocationList>>>,
    state: Cell<ReadState>,
    loading: SingleFlight,
}

thread_local! {
    static REVOCATIONS: Rc<Revocations> = Rc::new(Revocations::default());
}

pub fn for_isolate() -> Rc<Revocations> {
    REVOCATIONS.with(Rc::clone)
}

impl Revocations {
    /// The list to check against, or `None` when no copy fresh enough can be had (fail closed).
    pub async fn current(
        self: &Rc<Self>,
        kv: &LazyKv<'_>,
        policy: &RevocationPolicy,
    ) -> Option<Rc<RevocationList>> {
        let step = match policy.on_request(&self.state.get(), now()) {
            RevocationStep::Read => {
                match self.loading.try_lead(LOAD_LIMIT) {
                    Some(_lead) => self.load(kv).await,
                    None => {
                        self.loading.wait(LOAD_LIMIT).await;
                    }
                }
                policy.after_read(&self.state.get(), now())
            }
            other => other,
        };
        match step {
            RevocationStep::UseHeld => self.list.borrow().clone(),
            RevocationStep::Read | RevocationStep::Refuse => None,
        }
    }

    fn failed(&self, detail: &str) {
        let mut state = self.state.get();
        state.failed(now());
        self.state.set(state);
        log::revocations_failed(detail, state.failures);
    }

    async fn load(&self, kv: &LazyKv<'_>) {
        let Some(store) = kv.store() else {
            self.failed("no REVOCATIONS binding");
            return;
        };
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        for page_number in 1..=MAX_PAGES {
            match store.list(cursor.as_deref()).await {
                Ok(page) => {
                    keys.extend(page.names);
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    self.failed(&e);
                    return;
                }
            }
            // A list cut short would let its missing entries through: never adopt one.
            if page_number == MAX_PAGES && cursor.is_some() {
                self.failed(&format!(
                    "more than {} entries; the list is not adopted",
                    MAX_PAGES * 1000
                ));
                return;
            }
        }
        log::revocations_loaded(keys.len());
        *self.list.borrow_mut() = Some(Rc::new(RevocationList::new(keys)));
        let mut state = self.state.get();
        state.succeeded(now());
        self.state.set(state);
    }
}
