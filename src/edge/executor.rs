//! The fetch handler's executor: a request's future is polled at once, and again from inside
//! the wake-up itself (the JavaScript callback of whatever promise it waited on), never through
//! the microtask queue. Most requests (a cached token, keys in memory) finish in the first poll
//! and answer synchronously; the rest answer through a promise made only then.
//!
//! Polling inside `wake` is sound here because every wake-up comes from a promise callback, run
//! by the runtime between polls; a wake that does arrive during a poll is remembered and the
//! future is polled again right after.

use super::sweep::Sweeper;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use wasm_bindgen::JsValue;

type Handler = Pin<Box<dyn Future<Output = JsValue>>>;

struct Task {
    /// `None` while the future is being polled.
    future: Option<Handler>,
    /// How a pending answer is delivered (the first poll returns a ready one directly).
    resolve: Option<Function>,
    woken_while_polling: bool,
    started_ms: f64,
}

/// Tasks older than any wait of ours (key refreshes give up after 22 s) are dropped.
const LONGEST_TASK_MS: f64 = 120_000.0;

struct Tasks {
    next: u32,
    running: HashMap<u32, Task>,
    sweeper: Sweeper,
}

thread_local! {
    static TASKS: RefCell<Tasks> = RefCell::new(Tasks {
        next: 0,
        running: HashMap::new(),
        sweeper: Sweeper::new(256, LONGEST_TASK_MS),
    });
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

/// What polling a task once came to.
enum Polled {
    Done(JsValue, Option<Function>),
    Waiting,
    /// Already being polled (a nested wake) or already finished.
    Busy,
}

fn poll_once(id: u32) -> Polled {
    let taken = TASKS.with(|tasks| {
        let mut tasks = tasks.borrow_mut();
        let task = tasks.running.get_mut(&id)?;
        match task.future.take() {
            Some(future) => Some(future),
            None => {
                task.woken_while_polling = true;
                None
            }
        }
    });
    let Some(mut future) = taken else {
        return Polled::Busy;
    };
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
    TASKS.with(|tasks| {
        let mut tasks = tasks.borrow_mut();
        match polled {
            Poll::Ready(value) => {
                let resolve = tasks.running.remove(&id).and_then(|task| task.resolve);
                Polled::Done(value, resolve)
            }
            Poll::Pending => match tasks.running.get_mut(&id) {
                Some(task) => {
                    task.future = Some(future);
                    if std::mem::take(&mut task.woken_while_polling) {
                        drop(tasks);
                        poll_once(id)
                    } else {
                        Polled::Waiting
                    }
                }
                None => Polled::Busy,
            },
        }
    })
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
        let mut tasks = tasks.borrow_mut();
        let now = js_sys::Date::now();
        let Tasks {
            running, sweeper, ..
        } = &mut *tasks;
        sweeper.before_insert(running, |task| task.started_ms, now);
        let id = tasks.next;
        tasks.next = tasks.next.wrapping_add(1);
        tasks.running.insert(
            id,
            Task {
                future: Some(Box::pin(future)),
                resolve: None,
                woken_while_polling: false,
                started_ms: now,
            },
        );
        id
    });
    match poll_once(id) {
        Polled::Done(value, _) => value,
        Polled::Waiting | Polled::Busy => {
            let mut resolve = None;
            let answer = Promise::new(&mut |fulfil, _reject| resolve = Some(fulfil));
            TASKS.with(|tasks| {
                if let Some(task) = tasks.borrow_mut().running.get_mut(&id) {
                    task.resolve = resolve;
                }
            });
            answer.into()
        }
    }
}
