//! Host-side bindings for every Lodge world the server runs
//! (`wit/v0.2/host.wit` includes 0.2's room world and, through
//! `wit/host.wit`, every 0.1 world): the import traits the capability
//! modules implement, and the exports the runtime calls. The only
//! `bindgen!` of Lodge's WIT.

/// The bindings as `bindgen!` generates them: with two versions of
/// `lodge:app` in one resolve, its modules are `lodge::app0_1_0::…` and
/// `lodge::app0_2_0::…`.
pub mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit", "../../wit/v0.2"],
        world: "lodge:app/host@0.2.0",
        imports: { default: async },
        exports: { default: async },
    });
}

/// Lodge's interfaces by version: `lodge::app` is 0.1.0 (what most
/// capability modules implement), `lodge::app0_2` is 0.2.0.
pub mod lodge {
    pub mod app {
        pub use super::super::generated::lodge::app0_1_0::*;
    }
    pub use super::generated::lodge::app0_2_0 as app0_2;
}

/// The exports the runtime calls; `room-events` is still 0.1.0 in every
/// room world.
pub mod exports {
    pub mod lodge {
        pub mod app {
            pub use crate::bindings::generated::exports::lodge::app0_1_0::*;
        }
    }
}
