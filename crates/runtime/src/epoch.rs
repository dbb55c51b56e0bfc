//! The epoch ticker, which advances the engine's epoch at a fixed rate so
//! guest CPU deadlines can be checked without timers in the guest's way, and
//! the stores that count those ticks against a budget.

use crate::memory::GuestLimits;
use std::time::Duration;
use wasmtime::{Engine, Store, UpdateDeadline};

/// How often the epoch advances; CPU deadlines are counted in these ticks.
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

/// CPU time a guest may use, counted in epoch ticks while it runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuBudget {
    ticks: u64,
    limit: u64,
}

impl CpuBudget {
    pub fn new(cpu: Duration) -> Self {
        Self {
            ticks: 0,
            limit: (cpu.as_millis() / TICK.as_millis()).max(1) as u64,
        }
    }

    /// Starts counting again, for the next call or request.
    pub fn restart(&mut self) {
        self.ticks = 0;
    }

    /// Whether the guest has run past its budget.
    pub fn spent(&self) -> bool {
        self.ticks > self.limit
    }
}

/// Store data that carries a [`CpuBudget`] and [`GuestLimits`].
pub(crate) trait Guest: Send + 'static {
    fn budget(&mut self) -> &mut CpuBudget;
    fn limits(&mut self) -> &mut GuestLimits;
}

/// A store for a guest: its memory limit enforced, and its CPU budget
/// counted every tick, yielding to the scheduler each time so a busy guest
/// never holds a worker thread, and interrupting it once the budget is spent.
pub(crate) fn guest_store<T: Guest>(engine: &Engine, data: T) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|data| data.limits());
    store.epoch_deadline_callback(|mut ctx| {
        let budget = ctx.data_mut().budget();
        budget.ticks += 1;
        Ok(if budget.spent() {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });
    store.set_epoch_deadline(1);
    store
}
