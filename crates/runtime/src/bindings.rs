//! Host-side bindings for the `room` world (its `kv`, `log` and `types`
//! interfaces serve http parts too). The only `bindgen!` of Lodge's WIT.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "lodge:app/room",
    imports: { default: async },
    exports: { default: async },
});
