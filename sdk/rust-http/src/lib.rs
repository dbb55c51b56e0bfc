//! Lodge's `kv` and `log` for http parts written in Rust.
//!
//! An http part is an ordinary `wasi:http/proxy` component: implement
//! [`wasip2::exports::http::incoming_handler::Guest`] and export it with
//! [`wasip2::http::proxy::export!`]. This crate adds what Lodge offers
//! beside the standard world: [`kv`] (the app scope, shared with the app's
//! rooms) and [`log`] (the app's log), each needing its capability in the
//! manifest's `[http]` table.
//!
//! ```ignore
//! use lodge_http::kv::{self, Scope};
//! let visits = kv::increment(Scope::App, "visits", 1)?;
//! ```

#[doc(hidden)]
pub mod bindings {
    //! Generated bindings for the `http-imports` world.
    wit_bindgen::generate!({
        path: "../../wit",
        world: "lodge:app/http-imports",
        default_bindings_module: "lodge_http::bindings",
        generate_all,
    });
}

/// The rooms' kv interface, the same code as `lodge-sdk`'s: an http part
/// has no room, so [`kv::Scope::Room`] answers [`kv::Error::NoSuchScope`].
#[path = "../../rust/src/kv.rs"]
pub mod kv;

/// The app's log (`lodge logs APP`), the same code as `lodge-sdk`'s.
#[path = "../../rust/src/log.rs"]
pub mod log;

pub use wasip2;
