//! Lodge's WebAssembly runtime: the one wasmtime engine, the policy that decides
//! which imports a part may have, the compiled-component caches, and live rooms.

mod bindings;
mod browser;
mod cache;
pub mod capabilities;
mod compile;
mod engine;
mod epoch;
mod fault;
pub mod http;
mod inspect;
mod loader;
pub mod logs;
mod memory;
pub mod metrics;
mod policy;
pub mod rate;
pub mod rooms;
mod sched;
mod shared;
mod wasi_log;
pub mod wasm4;

pub use browser::{BROWSER_ENTRY, BROWSER_KEY, BrowserCache, BrowserFiles, transpile_client};
pub use cache::{CompiledCache, engine_key};
pub use compile::{COMPILE_COMMAND, CompileChild, CompileConfig, Compiler, compile_child};
pub use engine::{EngineOptions, new_engine};
pub use epoch::{TICK, start_ticker};
pub use http::{HttpConfig, HttpFailure, HttpParts, HttpSpec};
pub use inspect::{
    Artifact, CheckedPart, ComponentLimits, PartError, WasmKind, check_part, wasm_kind,
};
pub use loader::ComponentLoader;
pub use logs::{AppLogs, LogLine};
pub use memory::{MemoryBudget, MemoryRefused};
pub use metrics::Metrics;
pub use policy::{HOST_WASI_VERSION, LODGE_WIT_VERSION, allowed_interfaces};
pub use rooms::{
    Joiner, LocalMembership, Membership, Outgoing, Payload, RoomConfig, RoomInfo, RoomSpec, Rooms,
};
pub use sched::{GuestThreads, Kick};
pub use shared::Shared;
pub use wasmtime::Engine;
