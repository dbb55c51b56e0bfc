//! What rooms and http parts share: the engine, compiled components, app
//! data and logs, metrics, the server's guest memory budget and the threads
//! guest code runs on.

use crate::loader::ComponentLoader;
use crate::logs::AppLogs;
use crate::memory::MemoryBudget;
use crate::metrics::Metrics;
use crate::sched::GuestThreads;
use lodge_store::Kv;
use std::sync::Arc;
use wasmtime::Engine;

/// The host context every part kind runs guests in.
#[derive(Clone)]
pub struct Shared {
    pub engine: Engine,
    pub loader: ComponentLoader,
    pub kv: Arc<dyn Kv>,
    pub logs: AppLogs,
    pub metrics: Metrics,
    pub memory: MemoryBudget,
    pub threads: GuestThreads,
}
