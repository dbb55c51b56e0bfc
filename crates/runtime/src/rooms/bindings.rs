//! Host-side bindings for the `room` world. The only `bindgen!` for it.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "lodge:app/room",
    imports: { default: async },
    exports: { default: async },
});
