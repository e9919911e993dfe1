//! The revocation list as this isolate holds it: the whole list (it is small) re-read from KV
//! at most every `GATE_REVOCATION_REFRESH_SECONDS`, one read shared by concurrent requests, so
//! checking it costs nothing per request. A failed read keeps the last copy; with no copy at
//! all the gateway fails closed.

use super::bindings::LazyKv;
use super::keystore::now;
use super::log;
use super::single_flight::SingleFlight;
use crate::core::revocation::RevocationList;
use crate::core::time::UnixTime;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const LOAD_LIMIT: Duration = Duration::from_secs(10);

/// At most this many list pages (1,000 keys each) are read.
const MAX_PAGES: usize = 10;

#[derive(Default)]
pub struct Revocations {
    list: RefCell<Option<Rc<RevocationList>>>,
    loaded_at: Cell<Option<UnixTime>>,
    loading: SingleFlight,
}

thread_local! {
    static REVOCATIONS: Rc<Revocations> = Rc::new(Revocations::default());
}

pub fn for_isolate() -> Rc<Revocations> {
    REVOCATIONS.with(Rc::clone)
}

impl Revocations {
    /// The list to check against, or `None` when none could ever be read.
    pub async fn current(
        self: &Rc<Self>,
        kv: &LazyKv<'_>,
        refresh_seconds: i64,
    ) -> Option<Rc<RevocationList>> {
        let due = self
            .loaded_at
            .get()
            .is_none_or(|t| now().seconds() - t.seconds() >= refresh_seconds);
        if due {
            match self.loading.try_lead(LOAD_LIMIT) {
                Some(_lead) => self.load(kv).await,
                None => {
                    self.loading.wait(LOAD_LIMIT).await;
                }
            }
        }
        self.list.borrow().clone()
    }

    async fn load(&self, kv: &LazyKv<'_>) {
        let Some(store) = kv.store() else {
            log::revocations_failed("no REVOCATIONS binding");
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
                    log::revocations_failed(&e);
                    return;
                }
            }
            // A list cut short would let its missing entries through: never adopt one.
            if page_number == MAX_PAGES && cursor.is_some() {
                log::revocations_failed(&format!(
                    "more than {} entries; the list is not adopted",
                    MAX_PAGES * 1000
                ));
                return;
            }
        }
        log::revocations_loaded(keys.len());
        *self.list.borrow_mut() = Some(Rc::new(RevocationList::new(keys)));
        self.loaded_at.set(Some(now()));
    }
}
