//! Wrangler bindings → [`GateConfig`], parsed once per isolate (bindings cannot change within
//! an isolate's life: a new deployment starts new isolates).

use super::log;
use crate::core::config::{self, binding, ConfigProblem, GateConfig};
use std::cell::OnceCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::kv::KvStore;
use worker::Env;

thread_local! {
    static CONFIG: OnceCell<Result<Rc<GateConfig>, ()>> = const { OnceCell::new() };
}

/// A binding as text: strings as they are; objects (a `[vars]` table, such as the policy)
/// as their JSON.
fn text_binding(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if value.is_object() {
        return js_sys::JSON::stringify(&value).ok()?.as_string();
    }
    None
}

pub fn config(env: &Env) -> Result<Rc<GateConfig>, ()> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            let parsed = config::from_bindings(|name| text_binding(env, name));
            let kv_problem = env.kv(binding::JWKS_KV).err().map(|_| ConfigProblem {
                binding: binding::JWKS_KV,
                problem: "the KV namespace binding for key sets is missing".into(),
            });
            let problems = match (parsed, kv_problem) {
                (Ok(config), None) => return Ok(Rc::new(config)),
                (Ok(_), Some(problem)) => vec![problem],
                (Err(mut problems), kv) => {
                    problems.extend(kv);
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
/// served from memory, and looking a binding up costs several calls into JavaScript.
pub struct LazyKv<'e> {
    env: &'e Env,
    name: &'static str,
    store: OnceCell<Option<KvStore>>,
}

impl<'e> LazyKv<'e> {
    pub fn new(env: &'e Env, name: &'static str) -> Self {
        LazyKv {
            env,
            name,
            store: OnceCell::new(),
        }
    }

    pub fn store(&self) -> Option<&KvStore> {
        self.store
            .get_or_init(|| self.env.kv(self.name).ok())
            .as_ref()
    }
}

thread_local! {
    static HAS_REVOCATIONS: OnceCell<bool> = const { OnceCell::new() };
}

/// Whether the isolate's environment has a revocation list (bindings never change within an
/// isolate, so this is asked of the environment once).
pub fn has_revocations(env: &Env) -> bool {
    HAS_REVOCATIONS.with(|cell| *cell.get_or_init(|| env.kv(binding::REVOCATIONS_KV).is_ok()))
}
