//! Host-side bindings for every Lodge world the server runs
//! (`wit/v0.3/host.wit` includes 0.3's room world and, through
//! `wit/v0.2/host.wit` and `wit/host.wit`, 0.2's and 0.1's): the import
//! traits the capability modules implement, and the exports the runtime
//! calls. The only `bindgen!` of Lodge's WIT.

/// The bindings as `bindgen!` generates them: with three versions of
/// `lodge:app` in one resolve, its modules are `lodge::app0_1_0::…`,
/// `lodge::app0_2_0::…` and `lodge::app0_3_0::…`.
pub mod generated {
    wasmtime::component::bindgen!({
        path: ["../../wit", "../../wit/v0.2", "../../wit/v0.3"],
        world: "lodge:app/host@0.3.0",
        imports: { default: async },
        exports: { default: async },
    });
}

/// Lodge's interfaces by version: `lodge::app` is 0.1.0 (what most
/// capability modules implement), `lodge::app0_2` is 0.2.0, `lodge::app0_3`
/// is 0.3.0.
pub mod lodge {
    pub mod app {
        pub use super::super::generated::lodge::app0_1_0::*;
    }
    pub use super::generated::lodge::app0_2_0 as app0_2;
    pub use super::generated::lodge::app0_3_0 as app0_3;
}

/// The exports the runtime calls: `room-events` at 0.1.0 (the 0.1 and 0.2
/// room worlds) or at 0.3.0.
pub mod exports {
    pub mod lodge {
        pub mod app {
            pub use crate::bindings::generated::exports::lodge::app0_1_0::*;
        }
        pub use crate::bindings::generated::exports::lodge::app0_3_0 as app0_3;
    }
}
