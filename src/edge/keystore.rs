//! The three tiers of keys for this isolate: memory → KV (binding `JWKS`) → Entra. Every
//! "when" is asked of the core's [`CachePolicy`]; this file only moves bytes and counts.

use super::bindings::{ExecutionContext, LazyKv};
use super::kv::KvNamespace;
use super::single_flight::SingleFlight;
use super::{fetch, log, webcrypto};
use entra_gate_core::ClaimRules;
use entra_gate_core::Endpoint;
use entra_gate_core::GateConfig;
use entra_gate_core::JwksLimits;
use entra_gate_core::KeySet;
use entra_gate_core::KeySetSource;
use entra_gate_core::KeysView;
use entra_gate_core::UnixTime;
use entra_gate_core::{parse_metadata, MAX_METADATA_BYTES};
use entra_gate_core::{Action, CachePolicy, Held, KvFound, UnknownKids};
use entra_gate_core::{HeldCopy, RecordError, StoredKeySet, StoredSource};
use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsValue;
use web_sys::CryptoKey;

/// Keys ready to verify with, and the rules that came with them.
pub struct Loaded {
    pub keys: KeySet<CryptoKey>,
    pub rules: ClaimRules,
    /// Timestamps move when KV or Entra confirm the same content; the keys (with their
    /// imported `CryptoKey`s) stay.
    held: Cell<Held>,
    content_hash: String,
}

/// One key set's state in this isolate.
pub struct SetState {
    source: KeySetSource,
    config: Rc<GateConfig>,
    held: RefCell<Option<Rc<Loaded>>>,
    last_fetch_attempt: Cell<Option<UnixTime>>,
    unknown_kids: RefCell<UnknownKids>,
    refreshing: SingleFlight,
    /// How the latest refresh from Entra ended, for requests that waited on it.
    last_refresh_ok: Cell<bool>,
    /// The seal line of the last record refused, so each bad record is logged once.
    last_rejected: RefCell<Option<String>>,
}

pub struct KeyStore {
    sets: Vec<Rc<SetState>>,
}

thread_local! {
    static STORE: OnceCell<Rc<KeyStore>> = const { OnceCell::new() };
}

/// Longest a refresh can take: metadata and keys for two versions, each with its timeout.
const REFRESH_LIMIT: Duration = Duration::from_secs(4 * fetch::FETCH_TIMEOUT.as_secs() + 2);

pub fn now() -> UnixTime {
    UnixTime::from_millis(js_sys::Date::now())
}

impl KeyStore {
    pub fn for_isolate(config: &Rc<GateConfig>) -> Rc<KeyStore> {
        STORE.with(|cell| {
            Rc::clone(cell.get_or_init(|| {
                let sets = config
                    .key_sets
                    .iter()
                    .cloned()
                    .map(|source| {
                        Rc::new(SetState {
                            source,
                            config: Rc::clone(config),
                            held: RefCell::new(None),
                            last_fetch_attempt: Cell::new(None),
                            unknown_kids: RefCell::new(UnknownKids::default()),
                            refreshing: SingleFlight::default(),
                            last_refresh_ok: Cell::new(false),
                            last_rejected: RefCell::new(None),
                        })
                    })
                    .collect();
                Rc::new(KeyStore { sets })
            }))
        })
    }

    pub fn sets(&self) -> &[Rc<SetState>] {
        &self.sets
    }

    /// Key set `index` of `GateConfig::key_sets` (the walk names sets by index).
    pub fn set(&self, index: usize) -> Option<&Rc<SetState>> {
        self.sets.get(index)
    }
}

impl Loaded {
    /// The keys as the core's walk reads them.
    pub fn view(&self) -> KeysView<'_, CryptoKey> {
        KeysView {
            keys: &self.keys,
            rules: &self.rules,
            content_hash: &self.content_hash,
        }
    }
}

impl SetState {
    fn policy(&self) -> &CachePolicy {
        &self.config.cache
    }

    pub fn id(&self) -> &str {
        &self.source.id
    }

    fn held(&self) -> Option<Rc<Loaded>> {
        self.held.borrow().clone()
    }

    fn held_meta(&self) -> Option<Held> {
        self.held.borrow().as_ref().map(|l| l.held.get())
    }

    /// Until when a request is answered with the keys held now without looking further.
    pub fn held_until(&self) -> Option<UnixTime> {
        self.held_meta().map(|held| self.policy().held_until(held))
    }

    /// The keys to verify with now, or `None` to fail closed.
    pub async fn current(
        self: &Rc<Self>,
        kv: &LazyKv<'_>,
        ctx: Option<&ExecutionContext>,
    ) -> Option<Rc<Loaded>> {
        if self.policy().on_request(self.held_meta(), now()) == Action::UseHeld {
            return self.held();
        }
        let record = self.read_kv(kv.store()).await;
        let found = match &record {
            Some(r) => KvFound::Record {
                checked_at: UnixTime(r.checked_at),
            },
            None => KvFound::Nothing,
        };
        if let Some(record) = record {
            self.adopt(&record);
        }
        match self
            .policy()
            .after_kv(found, self.last_fetch_attempt.get(), now())
        {
            Action::FetchEntra => {
                if !self.refresh_from_entra(kv.store(), ctx).await {
                    self.note_stale();
                }
            }
            // The backoff is there to spare Entra after a failure, not to refuse requests
            // that arrive while a fetch is still on its way: those wait for it.
            Action::FailClosed => {
                self.join_in_flight().await;
            }
            Action::UseHeld | Action::ReadKv => {}
        }
        self.usable_or_fail_closed()
    }

    /// An unknown `kid`: refresh straight from Entra if the window allows, else refuse fast.
    /// Returns fresh keys only if they now hold the kid.
    pub async fn kid_miss(
        self: &Rc<Self>,
        kid: &str,
        kv: &LazyKv<'_>,
        ctx: Option<&ExecutionContext>,
        request_id: &str,
    ) -> Option<Rc<Loaded>> {
        // A refresh already on its way may bring this very kid: wait for it, whatever the window.
        if self.join_in_flight().await {
            log::kid_miss(request_id, self.id(), kid, "joined");
            let loaded = self.held().filter(|l| l.keys.get(kid).is_some());
            if loaded.is_none() {
                // The refresh just made did not bring it: no second fetch.
                self.remember_unknown(kid, now().plus(self.policy().kid_miss_window_seconds));
            }
            return loaded;
        }
        let at = now();
        if self.unknown_kids.borrow().contains(kid, at) {
            log::kid_miss(request_id, self.id(), kid, "remembered");
            return None;
        }
        let window = self.policy().kid_miss_window_seconds;
        if !self
            .policy()
            .kid_miss_may_fetch(self.last_fetch_attempt.get(), at)
        {
            let until = self.last_fetch_attempt.get().unwrap_or(at).plus(window);
            self.remember_unknown(kid, until);
            log::kid_miss(request_id, self.id(), kid, "penalty_window");
            return None;
        }
        log::kid_miss(request_id, self.id(), kid, "fetching");
        self.refresh_from_entra(kv.store(), ctx).await;
        let loaded = self.usable_or_fail_closed()?;
        if loaded.keys.get(kid).is_some() {
            Some(loaded)
        } else {
            self.remember_unknown(kid, now().plus(window));
            None
        }
    }

    fn remember_unknown(&self, kid: &str, until: UnixTime) {
        let capacity = self.policy().unknown_kid_capacity;
        self.unknown_kids
            .borrow_mut()
            .remember(kid, until, capacity);
    }

    fn usable_or_fail_closed(&self) -> Option<Rc<Loaded>> {
        if self.policy().usable(self.held_meta(), now()) {
            self.held()
        } else {
            log::fail_closed(self.id());
            None
        }
    }

    fn note_stale(&self) {
        if let Some(meta) = self.held_meta() {
            log::stale_keys_served(self.id(), now().seconds() - meta.checked_at.seconds());
        }
    }

    /// The record in KV, if it is one this gateway sealed for this set and configuration and is
    /// not older than the copy held; anything else counts as nothing (see `core::key_record`).
    async fn read_kv(&self, store: Option<&KvNamespace>) -> Option<StoredKeySet> {
        let key = self.source.kv_key();
        let text = match store?.text(&key).await {
            Ok(text) => text,
            Err(e) => {
                log::kv_read(self.id(), "error", Some(&e));
                return None;
            }
        };
        let Some(text) = text else {
            log::kv_read(self.id(), "nothing", None);
            return None;
        };
        let authenticator = match webcrypto::record_authenticator(&self.config.secret).await {
            Ok(authenticator) => authenticator,
            Err(e) => {
                log::kv_read(self.id(), "error", Some(&e.to_string()));
                return None;
            }
        };
        let held = self.held();
        let held_copy = held.as_ref().map(|h| HeldCopy {
            content_hash: &h.content_hash,
            checked_at: h.held.get().checked_at,
        });
        let opened = StoredKeySet::open(
            text.as_bytes(),
            &self.source,
            &self.config,
            authenticator.as_ref(),
            now(),
            held_copy,
        )
        .await;
        match opened {
            Ok(record) => {
                log::kv_read(self.id(), "record", None);
                Some(record)
            }
            Err(e) => {
                self.rejected(&text, &e);
                None
            }
        }
    }

    /// Logs a refused record once (per distinct record), then treats KV as empty.
    fn rejected(&self, text: &str, error: &RecordError) {
        let seal = text.lines().next().unwrap_or_default();
        let seal: String = seal.chars().take(80).collect();
        let mut last = self.last_rejected.borrow_mut();
        if last.as_deref() != Some(seal.as_str()) {
            log::kv_record_rejected(self.id(), &error.to_string());
            *last = Some(seal);
        }
    }

    /// Takes a record into memory. The same content keeps its prepared keys and only moves
    /// the timestamps; new content is vetted and built afresh.
    fn adopt(&self, record: &StoredKeySet) -> bool {
        let held = Held {
            loaded_at: now(),
            checked_at: UnixTime(record.checked_at),
        };
        let current = self.held();
        // A read that began before a newer copy arrived must not replace it.
        let stepping_back = current.as_ref().is_some_and(|c| {
            record.is_older_than(HeldCopy {
                content_hash: &c.content_hash,
                checked_at: c.held.get().checked_at,
            })
        });
        if stepping_back {
            return false;
        }
        if let Some(current) = current.filter(|c| c.content_hash == record.content_hash) {
            let newest = held.checked_at.max(current.held.get().checked_at);
            current.held.set(Held {
                loaded_at: held.loaded_at,
                checked_at: newest,
            });
            return true;
        }
        match record.build::<CryptoKey>(&self.config) {
            Ok(built) => {
                log::keys_loaded(self.id(), built.keys.len(), &built.notes);
                *self.held.borrow_mut() = Some(Rc::new(Loaded {
                    keys: built.keys,
                    rules: built.rules,
                    held: Cell::new(held),
                    content_hash: record.content_hash.clone(),
                }));
                self.unknown_kids.borrow_mut().clear();
                // As the token cache drops the tokens of a withdrawn key, no replay outlives
                // the keys it was decided with.
                super::js::forget_replays();
                true
            }
            Err(error) => {
                log::keys_refresh_failed(self.id(), &error.to_string());
                false
            }
        }
    }

    /// Waits for a refresh in progress, if there is one; true if there was.
    async fn join_in_flight(&self) -> bool {
        self.refreshing.wait(REFRESH_LIMIT).await
    }

    /// One fetch from Entra per set at a time: a request that finds one under way waits for it
    /// and uses what it brought. The fetch itself is handed to `waitUntil`, so the requests
    /// waiting on it are not stranded when the client that started it goes away.
    pub async fn refresh_from_entra(
        self: &Rc<Self>,
        store: Option<&KvNamespace>,
        ctx: Option<&ExecutionContext>,
    ) -> bool {
        let Some(lead) = self.refreshing.try_lead(REFRESH_LIMIT) else {
            self.join_in_flight().await;
            return self.last_refresh_ok.get();
        };
        let this = Rc::clone(self);
        let store = store.cloned();
        let refresh = async move {
            let ok = this.fetch_and_store(store.as_ref(), None).await;
            this.last_refresh_ok.set(ok);
            drop(lead);
            ok
        };
        match ctx {
            Some(ctx) => {
                let promise = wasm_bindgen_futures::future_to_promise(async move {
                    Ok(JsValue::from_bool(refresh.await))
                });
                // Without a context (a test harness), the refresh still runs inside this request.
                let _ = ctx.wait_until(&promise);
                let settled = wasm_bindgen_futures::JsFuture::from(promise).await;
                settled.ok().and_then(|v| v.as_bool()).unwrap_or(false)
            }
            None => refresh.await,
        }
    }

    /// Fetches from Entra, takes the keys into memory and writes KV when the policy says so.
    /// `stored` is the KV record if the caller already read it.
    pub async fn fetch_and_store(
        &self,
        store: Option<&KvNamespace>,
        stored: Option<&StoredKeySet>,
    ) -> bool {
        self.last_fetch_attempt.set(Some(now()));
        let documents = match fetch_documents(&self.source).await {
            Ok(documents) => documents,
            Err(detail) => {
                log::keys_refresh_failed(self.id(), &detail);
                return false;
            }
        };
        let mut fresh = StoredKeySet::new(&self.source.id, documents, now());
        let previous = match stored {
            Some(record) => Some(record.clone()),
            None => self.read_kv(store).await,
        };
        if let Some(previous) = previous
            .as_ref()
            .filter(|p| p.content_hash == fresh.content_hash)
        {
            fresh.fetched_at = previous.fetched_at;
        }
        if !self.adopt(&fresh) {
            return false;
        }
        let stored_meta = previous
            .as_ref()
            .map(|p| (p.content_hash.as_str(), UnixTime(p.checked_at)));
        let changed = previous
            .as_ref()
            .is_none_or(|p| p.content_hash != fresh.content_hash);
        if self
            .policy()
            .kv_write_needed(stored_meta, &fresh.content_hash, now())
        {
            let why = if changed { "changed" } else { "confirm" };
            let written = match (store, self.sealed(&fresh).await) {
                (Some(store), Ok(text)) => store.put(&self.source.kv_key(), &text).await,
                (None, _) => Err("no JWKS binding".to_owned()),
                (_, Err(e)) => Err(e),
            };
            match written {
                Ok(()) => log::kv_write(self.id(), why),
                Err(e) => log::kv_write_failed(self.id(), &e),
            }
        }
        log::keys_refreshed(self.id(), changed);
        true
    }

    async fn sealed(&self, record: &StoredKeySet) -> Result<String, String> {
        let authenticator = webcrypto::record_authenticator(&self.config.secret)
            .await
            .map_err(|e| e.to_string())?;
        record
            .seal(&self.source.kv_key(), authenticator.as_ref())
            .await
            .map_err(|e| e.to_string())
    }

    /// The scheduled refresh of this set: fetch if due, write KV only when needed.
    pub async fn scheduled(&self, kv: &LazyKv<'_>) {
        let stored = self.read_kv(kv.store()).await;
        // Unchanged content is not rewritten to KV (to spare writes), so KV's checked_at can lag
        // behind what this isolate last confirmed; the later of the two decides.
        let held = self.held_meta().map(|h| h.checked_at);
        let checked_at = stored.as_ref().map(|r| UnixTime(r.checked_at)).max(held);
        if !self.policy().scheduled_due(self.id(), checked_at, now()) {
            log::scheduled(self.id(), "not_due");
            if let Some(record) = &stored {
                self.adopt(record);
            }
            return;
        }
        let ok = self.fetch_and_store(kv.store(), stored.as_ref()).await;
        log::scheduled(self.id(), if ok { "refreshed" } else { "failed" });
    }
}

async fn fetch_documents(source: &KeySetSource) -> Result<Vec<StoredSource>, String> {
    let mut documents = Vec::new();
    for (version, url) in &source.metadata {
        let authority = Endpoint::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let body = fetch::get_bounded(url, MAX_METADATA_BYTES).await?;
        let metadata = parse_metadata(&body, &authority, &source.tenant)
            .map_err(|e| format!("{} metadata: {e}", version.as_str()))?;
        let limits = JwksLimits::default();
        let jwks =
            fetch::get_bounded(metadata.jwks_uri.as_str(), limits.max_document_bytes).await?;
        let jwks =
            String::from_utf8(jwks).map_err(|_| format!("{}: not UTF-8", metadata.jwks_uri))?;
        documents.push(StoredSource {
            version: (*version).into(),
            metadata_url: url.clone(),
            jwks_uri: metadata.jwks_uri.to_string(),
            issuer: metadata.issuer.as_str().to_owned(),
            jwks,
        });
    }
    Ok(documents)
}
