//! Awaiting a promise without making closures for it: `settled(promise).await` opens a slot
//! (`runtime::slots`), and `js::then_numbered` chains the promise to two long-lived callbacks
//! with the slot's number. For the awaits every new or bad token makes (WebCrypto's `verify`);
//! `JsFuture` remains where an await happens once per isolate.

use crate::runtime::slots::Slots;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

type Settlement = Result<JsValue, JsValue>;
type Callback = Closure<dyn Fn(u32, JsValue)>;

thread_local! {
    static SLOTS: RefCell<Slots<Settlement>> = RefCell::new(Slots::default());
    static CALLBACKS: (Callback, Callback) = (
        Closure::new(|id: u32, value: JsValue| arrive(id, Ok(value))),
        Closure::new(|id: u32, error: JsValue| arrive(id, Err(error))),
    );
}

fn arrive(id: u32, settlement: Settlement) {
    // The table is released before waking: the wake polls the future, which reads it.
    if let Some(waker) = SLOTS.with(|slots| slots.borrow_mut().arrive(id, settlement)) {
        waker.wake();
    }
}

/// The promise's outcome, like `JsFuture` (`Err`: what it was rejected with).
pub struct Settled {
    id: u32,
}

pub fn settled(promise: &js_sys::Promise) -> Settled {
    let id = SLOTS.with(|slots| slots.borrow_mut().open());
    // The chained promise is not needed: the slot receives the outcome.
    let _chained = CALLBACKS.with(|(fulfilled, rejected)| {
        super::js::then_numbered(promise, id, fulfilled.as_ref(), rejected.as_ref())
    });
    Settled { id }
}

impl Future for Settled {
    type Output = Settlement;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Settlement> {
        match SLOTS.with(|slots| slots.borrow_mut().take_or_wait(self.id, cx.waker())) {
            Some(settlement) => Poll::Ready(settlement),
            None => Poll::Pending,
        }
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        // Taken already, or abandoned: either way nothing may wait in the table for it.
        SLOTS.with(|slots| slots.borrow_mut().close(self.id));
    }
}
