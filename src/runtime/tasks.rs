//! The executor's task table: each request's future, polled at once and again from inside its
//! wake-up (never through a queue). A wake that arrives while the future is being polled (a
//! callback run from inside `poll`) is remembered and the future is polled again right after.
//! Tasks whose future never completes (their client went away and the promise they wait on
//! never settles) are swept once older than the longest wait.
//!
//! Generic over the future's output `O` and how a late answer is delivered `R` (a JavaScript
//! resolve function in the Worker), so the whole logic runs natively with fake futures.

use super::sweep::Sweeper;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A boxed future of the table.
pub type TaskFuture<O> = Pin<Box<dyn Future<Output = O>>>;

struct Task<O, R> {
    /// `None` while the future is being polled.
    future: Option<TaskFuture<O>>,
    /// How a late answer is delivered (an answer ready at the first poll is returned instead).
    deliver: Option<R>,
    woken_while_polling: bool,
    started_ms: f64,
}

/// What polling a task once came to.
pub enum Polled<O, R> {
    /// Finished: the output, and how to deliver it if the first poll did not return it.
    Done(O, Option<R>),
    /// Waiting on something that will wake it.
    Waiting,
    /// Already being polled (a nested wake, remembered) or gone (finished or swept).
    Busy,
}

/// The tasks of one isolate.
pub struct Tasks<O, R> {
    next: u32,
    running: HashMap<u32, Task<O, R>>,
    sweeper: Sweeper,
}

impl<O, R> Tasks<O, R> {
    /// Scanned from `floor` tasks on; tasks older than `max_age_ms` are dropped.
    pub fn new(floor: usize, max_age_ms: f64) -> Self {
        Tasks {
            next: 0,
            running: HashMap::new(),
            sweeper: Sweeper::new(floor, max_age_ms),
        }
    }

    /// Adds a task started at `now_ms`; its number wakes and polls it.
    pub fn insert(&mut self, future: TaskFuture<O>, now_ms: f64) -> u32 {
        self.sweeper
            .before_insert(&mut self.running, |task| task.started_ms, now_ms);
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.running.insert(
            id,
            Task {
                future: Some(future),
                deliver: None,
                woken_while_polling: false,
                started_ms: now_ms,
            },
        );
        id
    }

    /// Says how task `id`'s answer is delivered once it finishes (it did not at its first poll).
    pub fn deliver_with(&mut self, id: u32, deliver: R) {
        if let Some(task) = self.running.get_mut(&id) {
            task.deliver = Some(deliver);
        }
    }
}

/// Polls task `id` of `tasks` once with `waker` (and again at once if it was woken meanwhile).
/// The table is not borrowed while the future runs, so a wake from inside `poll` can reach it.
pub fn poll<O, R>(tasks: &RefCell<Tasks<O, R>>, id: u32, waker: &Waker) -> Polled<O, R> {
    loop {
        let taken = {
            let mut tasks = tasks.borrow_mut();
            let Some(task) = tasks.running.get_mut(&id) else {
                return Polled::Busy;
            };
            match task.future.take() {
                Some(future) => future,
                None => {
                    task.woken_while_polling = true;
                    return Polled::Busy;
                }
            }
        };
        let mut future = taken;
        let polled = future.as_mut().poll(&mut Context::from_waker(waker));
        let mut tasks = tasks.borrow_mut();
        match polled {
            Poll::Ready(value) => {
                let deliver = tasks.running.remove(&id).and_then(|task| task.deliver);
                return Polled::Done(value, deliver);
            }
            Poll::Pending => {
                let Some(task) = tasks.running.get_mut(&id) else {
                    return Polled::Busy;
                };
                task.future = Some(future);
                if !std::mem::take(&mut task.woken_while_polling) {
                    return Polled::Waiting;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::task::Wake;

    type Table = RefCell<Tasks<u32, &'static str>>;

    /// A waker that only counts (the test drives polls itself).
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Counting(0.into())))
    }

    /// Pending until `gate` opens; counts its polls.
    struct Gate {
        open: Rc<Cell<bool>>,
        polls: Rc<Cell<u32>>,
    }

    impl Future for Gate {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            self.polls.set(self.polls.get() + 1);
            if self.open.get() {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn a_ready_future_is_answered_at_the_first_poll() {
        let tasks: Table = RefCell::new(Tasks::new(8, 1_000.0));
        let id = tasks
            .borrow_mut()
            .insert(Box::pin(std::future::ready(3)), 0.0);
        assert!(matches!(poll(&tasks, id, &waker()), Polled::Done(3, None)));
        assert!(tasks.borrow().running.is_empty());
        assert!(matches!(poll(&tasks, id, &waker()), Polled::Busy), "gone");
    }

    #[test]
    fn a_pending_future_is_delivered_when_a_later_poll_finishes_it() {
        let tasks: Table = RefCell::new(Tasks::new(8, 1_000.0));
        let open = Rc::new(Cell::new(false));
        let polls = Rc::new(Cell::new(0));
        let gate = Gate {
            open: Rc::clone(&open),
            polls: Rc::clone(&polls),
        };
        let id = tasks.borrow_mut().insert(Box::pin(gate), 0.0);
        assert!(matches!(poll(&tasks, id, &waker()), Polled::Waiting));
        tasks.borrow_mut().deliver_with(id, "resolve");
        open.set(true);
        assert!(matches!(
            poll(&tasks, id, &waker()),
            Polled::Done(7, Some("resolve"))
        ));
        assert_eq!(polls.get(), 2);
    }

    thread_local! {
        static NESTED: Table = RefCell::new(Tasks::new(8, 1_000.0));
        static NESTED_RESULT: Cell<Option<&'static str>> = const { Cell::new(None) };
    }

    /// Wakes (and so polls) its own task from inside `poll`, as a promise callback run during a
    /// poll would, then finishes on the poll after.
    struct WakesItselfWhilePolled {
        id: u32,
        polled: u32,
    }

    struct Repoll(u32);

    impl Wake for Repoll {
        fn wake(self: Arc<Self>) {
            let result = NESTED.with(|tasks| poll(tasks, self.0, &Waker::from(Arc::clone(&self))));
            let seen = match result {
                Polled::Busy => "busy",
                Polled::Waiting => "waiting",
                Polled::Done(..) => "done",
            };
            NESTED_RESULT.with(|r| r.set(Some(seen)));
        }
    }

    impl Future for WakesItselfWhilePolled {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            self.polled += 1;
            if self.polled == 1 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.id + 100)
        }
    }

    #[test]
    fn a_wake_during_a_poll_is_remembered_and_the_future_polled_again() {
        let id = NESTED.with(|tasks| tasks.borrow().next);
        let future = WakesItselfWhilePolled { id, polled: 0 };
        NESTED.with(|tasks| {
            let inserted = tasks.borrow_mut().insert(Box::pin(future), 0.0);
            assert_eq!(inserted, id);
            let waker = Waker::from(Arc::new(Repoll(id)));
            assert!(
                matches!(poll(tasks, id, &waker), Polled::Done(v, None) if v == id + 100),
                "finished in the same outer poll"
            );
        });
        assert_eq!(
            NESTED_RESULT.with(Cell::get),
            Some("busy"),
            "the nested wake found the task being polled"
        );
    }

    #[test]
    fn tasks_whose_wait_never_ends_are_swept() {
        let tasks: Table = RefCell::new(Tasks::new(2, 100.0));
        let never = || Box::pin(std::future::pending::<u32>()) as TaskFuture<u32>;
        let a = tasks.borrow_mut().insert(never(), 0.0);
        let b = tasks.borrow_mut().insert(never(), 0.0);
        assert!(matches!(poll(&tasks, a, &waker()), Polled::Waiting));
        // The third insert, long after: the two abandoned ones go.
        let c = tasks.borrow_mut().insert(never(), 1_000.0);
        assert_eq!(tasks.borrow().running.len(), 1);
        assert!(matches!(poll(&tasks, a, &waker()), Polled::Busy));
        assert!(matches!(poll(&tasks, b, &waker()), Polled::Busy));
        assert!(matches!(poll(&tasks, c, &waker()), Polled::Waiting));
    }

    #[test]
    fn the_table_stays_bounded_under_a_flood_of_abandoned_tasks() {
        let tasks: Table = RefCell::new(Tasks::new(16, 100.0));
        for i in 0..10_000u32 {
            let now = f64::from(i) * 10.0;
            tasks
                .borrow_mut()
                .insert(Box::pin(std::future::pending::<u32>()), now);
        }
        // Everything older than 100 ms (10 tasks at this rate) is eventually dropped: the table
        // never holds more than about twice what is young, plus the floor.
        assert!(
            tasks.borrow().running.len() <= 64,
            "{}",
            tasks.borrow().running.len()
        );
    }
}
