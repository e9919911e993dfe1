//! The fetch handler's executor: a request's future is polled at once, and again from inside
//! the wake-up itself (the JavaScript callback of whatever promise it waited on), never through
//! the microtask queue. Most requests (a cached token, keys in memory) finish in the first poll
//! and answer synchronously; the rest answer through a promise made only then.
//!
//! Polling inside `wake` is sound here because every wake-up comes from a promise callback, run
//! by the runtime between polls; a wake that does arrive during a poll is remembered and the
//! future is polled again right after. The table and its rules are `runtime::tasks` (tested
//! natively); this adds the clock, the promise and the resolve function.

use crate::runtime::tasks::{poll, Polled, Tasks};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::task::{Wake, Waker};
use wasm_bindgen::JsValue;

/// Tasks older than any wait of ours (key refreshes give up after 22 s) are dropped.
const LONGEST_TASK_MS: f64 = 120_000.0;

thread_local! {
    static TASKS: RefCell<Tasks<JsValue, Function>> = RefCell::new(Tasks::new(256, LONGEST_TASK_MS));
}

/// A waker is just the task's number: the task itself stays in this isolate's table.
struct TaskWaker(u32);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        drive(self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        drive(self.0);
    }
}

fn poll_once(id: u32) -> Polled<JsValue, Function> {
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    TASKS.with(|tasks| poll(tasks, id, &waker))
}

fn drive(id: u32) {
    if let Polled::Done(value, Some(resolve)) = poll_once(id) {
        // A rejected delivery has nobody to tell: the answer is the value itself.
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    }
}

/// Runs `future`: its value if it completes without waiting, otherwise a promise of it.
pub fn run<F>(future: F) -> JsValue
where
    F: Future<Output = JsValue> + 'static,
{
    let id = TASKS.with(|tasks| {
        tasks
            .borrow_mut()
            .insert(Box::pin(future), js_sys::Date::now())
    });
    match poll_once(id) {
        Polled::Done(value, _) => value,
        Polled::Waiting | Polled::Busy => {
            let mut resolve = None;
            let answer = Promise::new(&mut |fulfil, _reject| resolve = Some(fulfil));
            if let Some(resolve) = resolve {
                TASKS.with(|tasks| tasks.borrow_mut().deliver_with(id, resolve));
            }
            answer.into()
        }
    }
}
