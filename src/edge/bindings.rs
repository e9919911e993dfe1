//! Wrangler bindings → [`GateConfig`], parsed once per isolate (bindings cannot change within
//! an isolate's life: a new deployment starts new isolates).

use super::js;
use super::kv::KvNamespace;
use super::log;
use super::rate_limit;
use entra_gate_core::{
    binding, from_bindings_and_policy_file, kv_binding_problems, rate_limit_binding_problems,
    service_binding_problems, GateConfig, KvBinding, PolicyFile,
};
use js_sys::Reflect;
use std::cell::OnceCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;

/// The handler's `ctx` (worker-sys binds it): work handed to `waitUntil` outlives the request
/// that started it, so a client that disconnects does not strand a refresh others wait for.
pub use worker_sys::Context as ExecutionContext;

/// The `env` object a handler receives.
pub struct Env(JsValue);

impl Env {
    pub fn new(env: JsValue) -> Self {
        Env(env)
    }

    fn get(&self, name: &str) -> Option<JsValue> {
        Reflect::get(&self.0, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// A binding as text: strings as they are; anything else wrangler passes from `[vars]` (a
    /// table such as the policy, a number, a boolean) as its JSON, so `ENTRA_CLOCK_SKEW_SECONDS =
    /// 30` without quotes is read, not silently ignored.
    fn text(&self, name: &str) -> Option<String> {
        let value = self.get(name)?;
        if let Some(text) = value.as_string() {
            return Some(text);
        }
        js_sys::JSON::stringify(&value).ok()?.as_string()
    }

    fn kv_binding(&self, name: &str) -> KvBinding {
        match self.get(name).map(KvNamespace::from_binding) {
            None => KvBinding::Absent,
            Some(Some(_)) => KvBinding::Namespace,
            Some(None) => KvBinding::Other,
        }
    }

    pub fn kv(&self, name: &str) -> Option<KvNamespace> {
        KvNamespace::from_binding(self.get(name)?)
    }

    /// A binding object that has the method `method` (what tells a service binding or a rate
    /// limiter from a text var of the same name).
    pub fn object_with(&self, name: &str, method: &str) -> Option<JsValue> {
        let binding = self.object(name)?;
        let member = Reflect::get(&binding, &JsValue::from_str(method)).ok()?;
        member.is_function().then_some(binding)
    }

    /// A service binding (`[[services]]`).
    pub fn service(&self, name: &str) -> Option<worker_sys::Fetcher> {
        self.object_with(name, "fetch").map(JsCast::unchecked_into)
    }

    /// Any other binding object (an Analytics Engine dataset, for instance).
    pub fn object(&self, name: &str) -> Option<JsValue> {
        self.get(name).filter(JsValue::is_object)
    }
}

thread_local! {
    static CONFIG: OnceCell<Result<Rc<GateConfig>, ()>> = const { OnceCell::new() };
    static HAS_REVOCATIONS: OnceCell<bool> = const { OnceCell::new() };
}

pub fn config(env: &Env) -> Result<Rc<GateConfig>, ()> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            // The same loader `scripts/check.sh` runs on wrangler.toml before a deploy.
            let path = js::bundled_policy_path();
            let json = js::bundled_policy_json();
            let file = path
                .as_deref()
                .zip(json.as_deref())
                .map(|(path, json)| PolicyFile { path, json });
            let parsed = from_bindings_and_policy_file(|name| env.text(name), file);
            let mut binding_problems = kv_binding_problems(
                env.kv_binding(binding::JWKS_KV),
                env.kv_binding(binding::REVOCATIONS_KV),
            );
            let problems = match parsed {
                Ok(config) => {
                    binding_problems.extend(rate_limit_binding_problems(&config, |name| {
                        rate_limit::is_bound(env, name)
                    }));
                    binding_problems.extend(service_binding_problems(&config, |name| {
                        env.service(name).is_some()
                    }));
                    if binding_problems.is_empty() {
                        return Ok(Rc::new(config));
                    }
                    binding_problems
                }
                Err(mut problems) => {
                    problems.extend(binding_problems);
                    problems
                }
            };
            log::config_invalid(&problems);
            Err(())
        })
        .clone()
    })
}

/// A KV namespace binding looked up only when a tier actually reaches KV: most requests are
/// served from memory.
pub struct LazyKv<'e> {
    env: &'e Env,
    name: &'static str,
    store: OnceCell<Option<KvNamespace>>,
}

impl<'e> LazyKv<'e> {
    pub fn new(env: &'e Env, name: &'static str) -> Self {
        LazyKv {
            env,
            name,
            store: OnceCell::new(),
        }
    }

    pub fn store(&self) -> Option<&KvNamespace> {
        self.store.get_or_init(|| self.env.kv(self.name)).as_ref()
    }
}

/// Whether the isolate's environment has a revocation list (bindings never change within an
/// isolate, so this is asked of the environment once).
pub fn has_revocations(env: &Env) -> bool {
    HAS_REVOCATIONS.with(|cell| *cell.get_or_init(|| env.kv(binding::REVOCATIONS_KV).is_some()))
}
