//! Lodge's WebAssembly runtime: the one wasmtime engine, the policy that decides
//! which imports a part may have, and the on-disk cache of compiled components.

mod cache;
mod engine;
mod inspect;
mod policy;

pub use cache::{CompiledCache, engine_key};
pub use engine::{EngineOptions, new_engine};
pub use inspect::{PartError, PreparedPart, WasmKind, prepare_part, wasm_kind};
pub use policy::{HOST_WASI_VERSION, LODGE_WIT_VERSION, allowed_interfaces};
pub use wasmtime::Engine;
