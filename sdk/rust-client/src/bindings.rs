//! Generated bindings for Lodge's client world. Not for authors: use the
//! modules of this crate instead.
//!
//! The client world lives in its own crate (not in `lodge-sdk`) because a
//! component carries the world of every binding linked into it, and a part
//! must export exactly its own world.

wit_bindgen::generate!({
    path: "../../wit",
    world: "lodge:app/client",
    pub_export_macro: true,
    export_macro_name: "export_client_bindings",
    default_bindings_module: "lodge_client::bindings",
    generate_all,
});
