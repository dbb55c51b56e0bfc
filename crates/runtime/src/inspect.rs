//! Checking an uploaded part: is it a component, does it compile, do its
//! imports and exports fit its role and capabilities; then compile it for
//! the server, or transpile it for the browser.

use crate::browser::{BrowserFiles, transpile_client};
use crate::policy::{self, Denial};
use lodge_manifest::{Capability, Role};
use thiserror::Error;
use wasmtime::Engine;
use wasmtime::component::Component;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    NotWasm,
    CoreModule,
    Component,
}

/// Reads the WebAssembly header: magic, then version and layer.
pub fn wasm_kind(bytes: &[u8]) -> WasmKind {
    match bytes {
        [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => WasmKind::CoreModule,
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => WasmKind::Component,
        _ => WasmKind::NotWasm,
    }
}

/// Why a part was refused. Messages are read by app authors.
#[derive(Debug, Error)]
pub enum PartError {
    #[error("{file} is not WebAssembly (it does not start with the \\0asm header)")]
    NotWasm { file: String },
    #[error(
        "{file} is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2`, or wrap it with `wasm-tools component new`"
    )]
    CoreModule { file: String },
    #[error("{file} is not a valid WebAssembly component: {reason}")]
    Invalid { file: String, reason: String },
    #[error(
        "{file} imports {import}, which {role} parts get only when the manifest declares it: add \"{capability}\" to [{role}].capabilities"
    )]
    NeedsCapability {
        file: String,
        role: Role,
        import: String,
        capability: Capability,
    },
    #[error(
        "{file} imports {import}, which {role} parts may not use; they may import {allowed} (see docs/manifest.md)"
    )]
    ImportNotAllowed {
        file: String,
        role: Role,
        import: String,
        allowed: String,
    },
    #[error(
        "{file} imports {import}, but this server provides {provided} (and earlier {line}.x); rebuild against that version"
    )]
    ImportVersionUnsupported {
        file: String,
        import: String,
        provided: String,
        line: String,
    },
    #[error(
        "{file} imports {import}, newer than this server provides ({provided}); build against an older version or upgrade Lodge"
    )]
    ImportTooNew {
        file: String,
        import: String,
        provided: String,
    },
    #[error("{file} could not be prepared for the browser: {reason}")]
    Browser { file: String, reason: String },
    #[error("{file} does not export {export}, so it can't be a {role} part{hint}")]
    MissingExport {
        file: String,
        role: Role,
        export: String,
        hint: &'static str,
    },
}

/// A part that passed every check, compiled and ready to be cached.
pub struct PreparedPart {
    /// Import names, sorted (for `lodge app show`).
    pub imports: Vec<String>,
    /// Export names, sorted.
    pub exports: Vec<String>,
    /// What runs it: compiled code for the server, or files for the browser.
    pub artifact: Artifact,
}

/// A part made ready to run.
pub enum Artifact {
    /// Room and http parts: the compiled component, from `Component::serialize`.
    Compiled(Vec<u8>),
    /// Client parts: the ES module and core modules the page loads.
    Browser(BrowserFiles),
}

/// Validates and compiles one part. CPU-heavy: call it off the async runtime.
pub fn prepare_part(
    engine: &Engine,
    role: Role,
    capabilities: &[Capability],
    file: &str,
    bytes: &[u8],
) -> Result<PreparedPart, PartError> {
    let file = file.to_owned();
    match wasm_kind(bytes) {
        WasmKind::NotWasm => return Err(PartError::NotWasm { file }),
        WasmKind::CoreModule => return Err(PartError::CoreModule { file }),
        WasmKind::Component => {}
    }
    let component = Component::new(engine, bytes).map_err(|e| PartError::Invalid {
        file: file.clone(),
        reason: format!("{e:#}"),
    })?;
    let ty = component.component_type();
    let mut imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    imports.sort();
    exports.sort();

    for import in &imports {
        match policy::check_import(role, capabilities, import) {
            Ok(()) => {}
            Err(Denial::NeedsCapability(capability)) => {
                return Err(PartError::NeedsCapability {
                    file,
                    role,
                    import: import.clone(),
                    capability,
                });
            }
            Err(Denial::TooNew { provided }) => {
                let (base, _) = policy::split_versioned(import);
                return Err(PartError::ImportTooNew {
                    file,
                    import: import.clone(),
                    provided: format!("{base}@{provided}"),
                });
            }
            Err(Denial::VersionUnsupported { provided }) => {
                let (base, _) = policy::split_versioned(import);
                return Err(PartError::ImportVersionUnsupported {
                    file,
                    import: import.clone(),
                    provided: format!("{base}@{provided}"),
                    line: format!("{}.{}", provided.major, provided.minor),
                });
            }
            Err(Denial::NotInWorld | Denial::NotAnInterface) => {
                let allowed = policy::allowed_interfaces(role, capabilities)
                    .into_iter()
                    .filter(|i| !i.starts_with("wasi:cli/terminal"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(PartError::ImportNotAllowed {
                    file,
                    role,
                    import: import.clone(),
                    allowed,
                });
            }
        }
    }

    let required = policy::required_export(role);
    let exported = exports.iter().any(|e| {
        let (base, version) = policy::split_versioned(e);
        base == required
            && version.is_some_and(|v| {
                let provided = if base.starts_with("lodge:") {
                    policy::LODGE_WIT_VERSION
                } else {
                    policy::HOST_WASI_VERSION
                };
                v.major == provided.major && v.minor == provided.minor && v <= provided
            })
    });
    if !exported {
        let hint = match role {
            Role::Room | Role::Client => " (implement it with the Lodge SDK, sdk/rust)",
            Role::Http => " (build it for the wasi:http/proxy world)",
        };
        return Err(PartError::MissingExport {
            file,
            role,
            export: format!(
                "{required}@{}",
                if required.starts_with("lodge:") {
                    policy::LODGE_WIT_VERSION
                } else {
                    policy::HOST_WASI_VERSION
                }
            ),
            hint,
        });
    }

    let artifact = match role {
        Role::Client => Artifact::Browser(
            transpile_client(bytes).map_err(|reason| PartError::Browser { file, reason })?,
        ),
        Role::Room | Role::Http => {
            Artifact::Compiled(component.serialize().map_err(|e| PartError::Invalid {
                file: file.clone(),
                reason: format!("{e:#}"),
            })?)
        }
    };
    Ok(PreparedPart {
        imports,
        exports,
        artifact,
    })
}
