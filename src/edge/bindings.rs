//! Wrangler bindings → [`GateConfig`], parsed once per isolate (bindings cannot change within
//! an isolate's life: a new deployment starts new isolates).

use super::log;
use crate::core::config::{self, binding, ConfigProblem, GateConfig};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    static CONFIG: OnceCell<Result<Rc<GateConfig>, ()>> = const { OnceCell::new() };
}

pub fn config(env: &Env) -> Result<Rc<GateConfig>, ()> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            let parsed = config::from_bindings(|name| env.var(name).ok().map(|v| v.to_string()));
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
