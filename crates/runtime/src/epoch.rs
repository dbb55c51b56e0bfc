//! The epoch ticker, which advances the engine's epoch at a fixed rate so
//! guests can be checked without timers in their way, and the guest stores
//! built on it: each counts the time its guest's code ran against a budget,
//! waits for a fair turn at every tick, and holds its memory within
//! [`GuestLimits`].

use crate::memory::GuestLimits;
use crate::sched::{Turn, Turns};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{CallHook, Engine, Store, UpdateDeadline};

/// How often the epoch advances: how often a running guest is checked
/// against its CPU budget and gives other guests their turn.
pub const TICK: Duration = Duration::from_millis(10);

/// Starts the ticker thread for `engine`. It lives as long as the process.
pub fn start_ticker(engine: Engine) {
    std::thread::Builder::new()
        .name("lodge-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch thread");
}

/// CPU time a guest may use per call or request: only the time its code
/// runs counts, from entering WebAssembly to leaving it for a host call, a
/// turn or the end of the call; time spent waiting for a host call (kv,
/// outbound http) or for a turn does not. (The thread's own CPU clock would
/// also leave out time the OS gives the core to another process, but
/// reading it costs a system call, twice per host call: a quarter of all
/// the CPU a busy chat server spends. Guest threads are at most one per
/// core, so that time is small.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuBudget {
    limit: Duration,
    used: Duration,
    /// When the guest's code last started running.
    running_since: Option<Instant>,
}

impl CpuBudget {
    pub fn new(limit: Duration) -> Self {
        Self {
            limit,
            used: Duration::ZERO,
            running_since: None,
        }
    }

    /// Starts counting again, for the next call or request.
    pub fn restart(&mut self) {
        self.used = Duration::ZERO;
        self.running_since = None;
    }

    fn resume(&mut self) {
        self.running_since = Some(Instant::now());
    }

    fn pause(&mut self) {
        if let Some(since) = self.running_since.take() {
            self.used += since.elapsed();
        }
    }

    /// Whether the guest has run past its budget.
    pub fn spent(&self) -> bool {
        self.used > self.limit
    }
}

/// What every guest store carries beside its host state.
pub(crate) struct GuestCore {
    pub cpu: CpuBudget,
    pub limits: GuestLimits,
    /// Whose guest this is, for fair turns.
    app: Arc<str>,
    turns: Arc<Turns>,
    /// The turn held while the guest runs (shared with the future that
    /// waits for the next one at a tick).
    turn: Arc<Mutex<Option<Turn>>>,
}

impl GuestCore {
    pub fn new(cpu: Duration, limits: GuestLimits, app: &str, turns: &Arc<Turns>) -> Self {
        Self {
            cpu: CpuBudget::new(cpu),
            limits,
            app: app.into(),
            turns: turns.clone(),
            turn: Arc::default(),
        }
    }

    /// Waits for this guest's turn; call before running its code.
    pub async fn take_turn(&self) {
        if self.turn.lock().expect("turn lock").is_some() {
            return;
        }
        let turn = self.turns.acquire(&self.app).await;
        *self.turn.lock().expect("turn lock") = Some(turn);
    }

    /// Gives the turn back, if this guest holds one (after a call, in case
    /// no WebAssembly ran to give it back on the way out).
    pub fn give_turn_back(&self) {
        // Dropped outside the lock: giving it back may wake the next guest.
        let turn = self.turn.lock().expect("turn lock").take();
        drop(turn);
    }

    /// Takes a turn if one is free at once; false when others wait.
    fn try_take_turn(&self) -> bool {
        let mut slot = self.turn.lock().expect("turn lock");
        if slot.is_none() {
            *slot = self.turns.try_acquire(&self.app);
        }
        slot.is_some()
    }

    /// A future that yields to other tasks, then waits for the next turn.
    fn next_turn(&self) -> impl Future<Output = ()> + Send + 'static {
        let (turns, app, slot) = (self.turns.clone(), self.app.clone(), self.turn.clone());
        async move {
            tokio::task::yield_now().await;
            let turn = turns.acquire(&app).await;
            *slot.lock().expect("turn lock") = Some(turn);
        }
    }
}

/// Store data that carries a [`GuestCore`].
pub(crate) trait Guest: Send + 'static {
    fn core(&mut self) -> &mut GuestCore;
}

/// A store for a guest: its memory limit enforced; its CPU time counted
/// while its code runs; at every epoch tick it yields to the scheduler and
/// waits for its next turn, and once its budget is spent it is interrupted.
///
/// A call waits for a turn before it starts. Every exit from WebAssembly (a
/// host call, the end of a call) gives it back, so a guest waiting on a
/// host call never holds a turn another app could use; coming back, it
/// takes one if free, else it waits in line at its next check.
pub(crate) fn guest_store<T: Guest>(engine: &Engine, data: T) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|data| &mut data.core().limits);
    store.call_hook(|mut ctx, hook| {
        let core = ctx.data_mut().core();
        match hook {
            // Entering for a call (or the allocator calls that pass it its
            // arguments): the call waited for its turn already. A turn the
            // allocator's exit gave back isn't chased: a call that runs on
            // past a tick lines up then, like any guest still running.
            CallHook::CallingWasm => core.cpu.resume(),
            CallHook::ReturningFromHost => {
                core.cpu.resume();
                if !core.try_take_turn() {
                    // Others are waiting: line up at the next check.
                    ctx.set_epoch_deadline(0);
                }
            }
            CallHook::CallingHost | CallHook::ReturningFromWasm => {
                core.cpu.pause();
                core.give_turn_back();
            }
        }
        Ok(())
    });
    store.epoch_deadline_callback(|mut ctx| {
        let core = ctx.data_mut().core();
        core.cpu.pause();
        if core.cpu.spent() {
            return Ok(UpdateDeadline::Interrupt);
        }
        core.give_turn_back();
        Ok(UpdateDeadline::YieldCustom(1, Box::pin(core.next_turn())))
    });
    store.set_epoch_deadline(1);
    store
}
