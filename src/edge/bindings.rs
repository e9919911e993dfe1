//! Wrangler bindings → [`GateConfig`], parsed once per isolate (bindings cannot change within
//! an isolate's life: a new deployment starts new isolates).

use super::log;
use crate::core::config::{self, GateConfig};
use std::cell::OnceCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    static CONFIG: OnceCell<Result<Rc<GateConfig>, ()>> = const { OnceCell::new() };
}

pub fn config(env: &Env) -> Result<Rc<GateConfig>, ()> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            config::from_bindings(|name| env.var(name).ok().map(|v| v.to_string()))
                .map(Rc::new)
                .map_err(|problems| log::config_invalid(&problems))
        })
        .clone()
    })
}
