//! The epoch ticker: advances the engine's epoch at a fixed rate so guest
//! CPU deadlines can be checked without timers in the guest's way.

use std::time::Duration;
use wasmtime::Engine;

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
