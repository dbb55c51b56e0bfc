//! Generated bindings for Lodge's client world, `lodge:app/client@0.2.0`.
//! Not for authors: use the modules of this crate instead.
//!
//! The client world lives in its own crate (not in `lodge-sdk`) because a
//! component carries the world of every binding linked into it, and a part
//! must export exactly its own world. The 0.2 world imports the unchanged
//! 0.1.0 interfaces (`terminal`, `server`, `timers`, `frames`, `log`,
//! `types`) beside the new 0.2.0 ones; only the interfaces a client calls
//! end up imported by its component.

#![allow(missing_docs)]

/// The bindings as wit-bindgen generates them: `lodge::app0_1_0::…`,
/// `lodge::app0_2_0::…` and `exports::lodge::app0_2_0::client_events`.
pub mod generated {
    wit_bindgen::generate!({
        path: ["../../wit", "../../wit/v0.2"],
        world: "lodge:app/client@0.2.0",
        pub_export_macro: true,
        export_macro_name: "export_client_bindings",
        default_bindings_module: "lodge_client::bindings::generated",
        generate_all,
    });
}

pub use generated::exports;

/// The 0.1.0 interfaces under the path the shared sources (`log.rs` and
/// `message.rs` from `sdk/rust`) use: `crate::bindings::lodge::app::…`.
pub mod lodge {
    pub mod app {
        pub use super::super::generated::lodge::app0_1_0::*;
    }
    pub use super::generated::lodge::app0_2_0 as app0_2;
}
