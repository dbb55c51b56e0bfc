//! Where guest code runs: its own bounded threads, apart from the threads
//! that serve sockets, and fair turns on them. A guest still running at an
//! epoch tick gives its turn back and waits for the next one; when several
//! apps wait, turns go round the apps in order, so an app's share doesn't
//! grow with the number of its rooms or requests, and a guest with a short
//! call to make (most are) finds a thread within a tick.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The guest threads and their turns.
#[derive(Clone)]
pub struct GuestThreads {
    inner: Arc<Threads>,
}

struct Threads {
    runtime: Option<Runtime>,
    handle: Handle,
    turns: Arc<Turns>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        // Dropping a runtime may happen inside another runtime's task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Makes every running guest check in at once (the engine's epoch moves on).
pub type Kick = Box<dyn Fn() + Send + Sync>;

impl GuestThreads {
    /// `threads` threads for guests, with as many turns; `kick` makes the
    /// guests holding turns give them back now, for an app that has none.
    pub fn new(threads: usize, kick: Kick) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("lodge-guest")
            // A room woken by a message (from the socket threads) waits in
            // the shared queue: look there after every task, not every 31st,
            // so it doesn't wait behind guests taking their turns.
            .global_queue_interval(1)
            .enable_all()
            .build()?;
        Ok(Self {
            inner: Arc::new(Threads {
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                turns: Arc::new(Turns::new(threads, kick)),
            }),
        })
    }

    /// One per core.
    pub fn per_core(kick: Kick) -> std::io::Result<Self> {
        Self::new(
            std::thread::available_parallelism().map_or(2, usize::from),
            kick,
        )
    }

    /// Runs a task that calls guests (a room, an http request) on the guest threads.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.handle.spawn(task)
    }

    pub(crate) fn turns(&self) -> &Arc<Turns> {
        &self.inner.turns
    }

    /// Tells the scheduler that a guest of `app` is about to want a turn
    /// (a message is on its way to a room): when other apps hold every turn,
    /// they check in now, so the room finds a thread without waiting a tick.
    pub fn nudge(&self, app: &str) {
        self.inner.turns.nudge(app);
    }
}

/// Turns to run guest code: as many as there are guest threads.
pub(crate) struct Turns {
    state: Mutex<Waiting>,
    kick: Kick,
    /// Whether every turn is taken (mirrors `Waiting::free == 0`), so a
    /// nudge costs nothing while turns are free.
    all_taken: AtomicBool,
}

/// The least time between two kicks.
const KICK_EVERY: Duration = Duration::from_millis(1);

#[derive(Default)]
struct Waiting {
    free: usize,
    /// Apps with someone waiting, in the order they get the next turns.
    order: VecDeque<Arc<str>>,
    by_app: HashMap<Arc<str>, VecDeque<oneshot::Sender<Turn>>>,
    /// Turns held, by app.
    holding: HashMap<Arc<str>, usize>,
    last_kick: Option<Instant>,
}

impl Waiting {
    fn hold(&mut self, app: &Arc<str>) {
        *self.holding.entry(app.clone()).or_default() += 1;
    }

    fn unhold(&mut self, app: &Arc<str>) {
        if let Some(n) = self.holding.get_mut(app) {
            *n -= 1;
            if *n == 0 {
                self.holding.remove(app);
            }
        }
    }
}

/// The right to run guest code; given back when dropped.
pub(crate) struct Turn {
    turns: Option<Arc<Turns>>,
    app: Arc<str>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(turns) = self.turns.take() {
            turns.release(&self.app);
        }
    }
}

impl Turns {
    fn new(slots: usize, kick: Kick) -> Self {
        Self {
            state: Mutex::new(Waiting {
                free: slots,
                ..Waiting::default()
            }),
            kick,
            all_taken: AtomicBool::new(slots == 0),
        }
    }

    /// A turn at once, if one is free and nobody waits for it.
    pub fn try_acquire(self: &Arc<Self>, app: &Arc<str>) -> Option<Turn> {
        let mut state = self.state.lock().expect("turns lock");
        if state.free > 0 && state.order.is_empty() {
            state.free -= 1;
            self.all_taken.store(state.free == 0, Ordering::Relaxed);
            state.hold(app);
            return Some(self.turn(app));
        }
        None
    }

    /// A turn for a guest of `app`, after the apps ahead of it had theirs.
    /// An app holding no turn while others hold them all makes the holders
    /// check in at once rather than at their next tick, so its short calls
    /// wait microseconds, not a tick.
    pub async fn acquire(self: &Arc<Self>, app: &Arc<str>) -> Turn {
        let (granted, kick) = {
            let mut state = self.state.lock().expect("turns lock");
            if state.free > 0 && state.order.is_empty() {
                state.free -= 1;
                self.all_taken.store(state.free == 0, Ordering::Relaxed);
                state.hold(app);
                return self.turn(app);
            }
            let (tx, rx) = oneshot::channel();
            let queue = state.by_app.entry(app.clone()).or_default();
            queue.push_back(tx);
            if queue.len() == 1 {
                state.order.push_back(app.clone());
            }
            let starved = !state.holding.contains_key(app);
            let due = state.last_kick.is_none_or(|at| at.elapsed() >= KICK_EVERY);
            if starved && due {
                state.last_kick = Some(Instant::now());
            }
            (rx, starved && due)
        };
        if kick {
            (self.kick)();
        }
        // The sender is only dropped after handing over a turn.
        granted.await.expect("a waiting guest is always answered")
    }

    /// Kicks the holders when every turn is held and `app` holds none.
    fn nudge(&self, app: &str) {
        if !self.all_taken.load(Ordering::Relaxed) {
            return;
        }
        let kick = {
            let mut state = self.state.lock().expect("turns lock");
            let due = state.last_kick.is_none_or(|at| at.elapsed() >= KICK_EVERY);
            let starved = state.free == 0 && !state.holding.contains_key(app);
            if starved && due {
                state.last_kick = Some(Instant::now());
            }
            starved && due
        };
        if kick {
            (self.kick)();
        }
    }

    fn turn(self: &Arc<Self>, app: &Arc<str>) -> Turn {
        Turn {
            turns: Some(self.clone()),
            app: app.clone(),
        }
    }

    /// Hands a turn `from` gave back to the next app in line, or frees it.
    fn release(self: &Arc<Self>, from: &Arc<str>) {
        let mut state = self.state.lock().expect("turns lock");
        state.unhold(from);
        while let Some(app) = state.order.pop_front() {
            let queue = state.by_app.get_mut(&app).expect("an app in line waits");
            let next = queue.pop_front().expect("an app in line waits");
            if queue.is_empty() {
                state.by_app.remove(&app);
            } else {
                state.order.push_back(app.clone());
            }
            state.hold(&app);
            match next.send(self.turn(&app)) {
                Ok(()) => return,
                // The waiter went away: the turn goes on to the next in line.
                Err(mut unclaimed) => {
                    unclaimed.turns = None;
                    state.unhold(&app);
                }
            }
        }
        state.free += 1;
        self.all_taken.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_go_round_the_apps_not_the_guests() {
        let turns = Arc::new(Turns::new(1, Box::new(|| {})));
        let (busy, calm): (Arc<str>, Arc<str>) = ("busy".into(), "calm".into());
        let held = turns.acquire(&busy).await;
        let (order_tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut waiters = Vec::new();
        for (i, app) in [&busy, &busy, &busy, &calm].into_iter().enumerate() {
            let (turns, app, order_tx) = (turns.clone(), app.clone(), order_tx.clone());
            waiters.push(tokio::spawn(async move {
                let turn = turns.acquire(&app).await;
                order_tx.send(i).unwrap();
                drop(turn);
            }));
            tokio::task::yield_now().await;
        }
        assert!(
            turns.try_acquire(&"other".into()).is_none(),
            "someone is waiting"
        );
        drop(held);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        let mut seen = Vec::new();
        while let Ok(i) = order.try_recv() {
            seen.push(i);
        }
        // The calm app's one guest goes second, not after all busy ones.
        assert_eq!(seen, [0, 3, 1, 2]);
        assert!(turns.try_acquire(&"other".into()).is_some());
    }

    #[tokio::test]
    async fn a_waiter_that_went_away_passes_its_turn_on() {
        let turns = Arc::new(Turns::new(1, Box::new(|| {})));
        let app: Arc<str> = "app".into();
        let held = turns.acquire(&app).await;
        let gone = {
            let (turns, app) = (turns.clone(), app.clone());
            tokio::spawn(async move { turns.acquire(&app).await })
        };
        tokio::task::yield_now().await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        assert!(turns.try_acquire(&"other".into()).is_some());
    }
}
