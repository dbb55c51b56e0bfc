//! Host-side bindings for every Lodge world (`wit/host.wit` includes them
//! all): the import traits the capability modules implement, and the
//! exports the runtime calls. The only `bindgen!` of Lodge's WIT.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "lodge:app/host",
    imports: { default: async },
    exports: { default: async },
});
