//! Checking an uploaded part before anything costly runs: is it a
//! component, is it small enough to compile (counted by walking it with
//! wasmparser), do its imports and exports fit its role and capabilities.

use crate::browser::BrowserFiles;
use crate::policy::{self, Denial};
use lodge_manifest::{CapabilityName, Role};
use thiserror::Error;
use wasmparser::{Encoding, Parser, Payload};

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
        "{file} is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2`, or wrap it with `wasm-tools component new`{hint}"
    )]
    CoreModule { file: String, hint: &'static str },
    #[error("{file} {reason}")]
    Cartridge { file: String, reason: String },
    #[error("{file} is not a valid WebAssembly component: {reason}")]
    Invalid { file: String, reason: String },
    #[error(
        "{file} imports {import}, which {role} parts get only when the manifest declares it: add \"{capability}\" to [{role}].capabilities"
    )]
    NeedsCapability {
        file: String,
        role: Role,
        import: String,
        capability: &'static str,
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
    #[error(
        "{file} has {value} {what}, more than this server allows ({max}; `lodge serve {flag}` sets it): build it smaller or split it"
    )]
    OverLimit {
        file: String,
        what: &'static str,
        value: u64,
        max: u64,
        flag: &'static str,
    },
    #[error("{file} could not be compiled: {reason}")]
    CompilerFailed { file: String, reason: String },
    #[error("{file} {reason} (`lodge serve {flag}` sets the limit): build it smaller or split it")]
    CompileLimit {
        file: String,
        reason: String,
        flag: &'static str,
    },
    #[error(
        "[room].{setting} needs a room part that can tell spectators from players, but {file} exports {found}: rebuild it against lodge:app/room@0.3.0 (lodge-sdk 0.3), or drop the setting"
    )]
    NeedsRoomEvents0_3 {
        file: String,
        setting: &'static str,
        found: String,
    },
    #[error("{file} does not export {export}, so it can't be a {role} part{hint}")]
    MissingExport {
        file: String,
        role: Role,
        export: String,
        hint: &'static str,
    },
}

/// Bounds on what one component may hold, checked before it is compiled:
/// compile time and memory grow with these counts, so a small upload can't
/// be a compile bomb. The defaults leave room for large real components
/// (a JavaScript engine built with componentize-js is among the largest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentLimits {
    /// Core modules, nested ones included.
    pub max_core_modules: u64,
    /// Functions defined (with a body) in all core modules together.
    pub max_functions: u64,
    /// Bytes of code (function bodies) in all core modules together.
    pub max_code_bytes: u64,
    /// Bytes of one function body.
    pub max_function_bytes: u64,
    /// Locals declared by one function (each one costs the compiler an
    /// instruction, and they are declared in a few bytes).
    pub max_function_locals: u64,
    /// Locals declared by all functions together.
    pub max_locals: u64,
    /// Initial elements of all tables together (the compiler lays out an
    /// initialized table's contents ahead of time).
    pub max_table_elements: u64,
}

impl Default for ComponentLimits {
    fn default() -> Self {
        Self {
            max_core_modules: 32,
            max_functions: 100_000,
            max_code_bytes: 32 << 20,
            max_function_bytes: 1 << 20,
            max_function_locals: 10_000,
            max_locals: 2_000_000,
            max_table_elements: 1_000_000,
        }
    }
}

/// A part that passed the checks, not yet compiled.
#[derive(Debug)]
pub struct CheckedPart {
    /// Import names, sorted (for `lodge app show`).
    pub imports: Vec<String>,
    /// Export names, sorted.
    pub exports: Vec<String>,
}

impl CheckedPart {
    /// Checks the `[room]` settings that need `room-events@0.3.0` against a
    /// room part's exports: a room with spectators must be able to tell
    /// them apart (`room-control`) and hear about them.
    pub fn check_room_settings(
        &self,
        file: &str,
        room: &lodge_manifest::RoomPart,
    ) -> Result<(), PartError> {
        if room.max_spectators == 0 {
            return Ok(());
        }
        let events = self
            .exports
            .iter()
            .find(|e| e.starts_with("lodge:app/room-events@"));
        match events {
            Some(e) if e.starts_with("lodge:app/room-events@0.3.") => Ok(()),
            found => Err(PartError::NeedsRoomEvents0_3 {
                file: file.to_owned(),
                setting: "spectators",
                found: found.cloned().unwrap_or_else(|| "no room-events".into()),
            }),
        }
    }
}

/// A part made ready to run.
pub enum Artifact {
    /// Room and http parts: the compiled component, from `Component::serialize`.
    Compiled(Vec<u8>),
    /// Client parts: the ES module and core modules the page loads.
    Browser(BrowserFiles),
}

/// What walking a component counted.
#[derive(Debug, Default)]
struct Counts {
    core_modules: u64,
    functions: u64,
    code_bytes: u64,
    locals: u64,
    table_elements: u64,
    imports: Vec<String>,
    exports: Vec<String>,
}

/// Checks one part without compiling it: the header, the sizes in
/// `limits`, and that its imports and exports suit its role and
/// capabilities. Linear in the component's size; call it off the async
/// runtime. Compiling (which also validates every function) comes after.
pub fn check_part(
    role: Role,
    capabilities: &[CapabilityName],
    file: &str,
    bytes: &[u8],
    limits: &ComponentLimits,
) -> Result<CheckedPart, PartError> {
    let file = file.to_owned();
    match wasm_kind(bytes) {
        WasmKind::NotWasm => return Err(PartError::NotWasm { file }),
        WasmKind::CoreModule => {
            let hint = match role {
                Role::Client => " (a WASM-4 cartridge? add abi = \"wasm4\" to [client])",
                Role::Room | Role::Http => "",
            };
            return Err(PartError::CoreModule { file, hint });
        }
        WasmKind::Component => {}
    }
    let Counts {
        mut imports,
        mut exports,
        ..
    } = count(&file, bytes, limits)?;
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

    if !exports.iter().any(|e| policy::is_required_export(role, e)) {
        let hint = match role {
            Role::Room | Role::Client => " (implement it with the Lodge SDK, sdk/rust)",
            Role::Http => " (build it for the wasi:http/proxy world)",
        };
        let (required, versions) = policy::required_export(role);
        let export = versions
            .iter()
            .map(|v| format!("{required}@{v}"))
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(PartError::MissingExport {
            file,
            role,
            export,
            hint,
        });
    }
    Ok(CheckedPart { imports, exports })
}

/// Walks every section of the component (nested modules and components
/// included), counting what compiling would cost and collecting the
/// top-level import and export names. Stops at the first limit passed.
fn count(file: &str, bytes: &[u8], limits: &ComponentLimits) -> Result<Counts, PartError> {
    let invalid = |e: wasmparser::BinaryReaderError| PartError::Invalid {
        file: file.to_owned(),
        reason: e.to_string(),
    };
    let over = |what: &'static str, value: u64, max: u64, flag: &'static str| {
        if value > max {
            Err(PartError::OverLimit {
                file: file.to_owned(),
                what,
                value,
                max,
                flag,
            })
        } else {
            Ok(())
        }
    };
    let mut counts = Counts::default();
    // Nesting depth: 1 is the uploaded component itself.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::Version { encoding, .. } => {
                depth += 1;
                if encoding == Encoding::Module {
                    counts.core_modules += 1;
                    over(
                        "core modules",
                        counts.core_modules,
                        limits.max_core_modules,
                        "--max-component-modules",
                    )?;
                }
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    counts
                        .imports
                        .push(import.map_err(invalid)?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    counts
                        .exports
                        .push(export.map_err(invalid)?.name.name.to_owned());
                }
            }
            // The section's header says how many functions and bytes follow,
            // so an oversized one is refused before its bodies are read.
            Payload::CodeSectionStart { count, size, .. } => {
                counts.functions += u64::from(count);
                over(
                    "functions",
                    counts.functions,
                    limits.max_functions,
                    "--max-component-functions",
                )?;
                counts.code_bytes += u64::from(size);
                over(
                    "bytes of code",
                    counts.code_bytes,
                    limits.max_code_bytes,
                    "--max-code-bytes",
                )?;
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    counts.table_elements = counts
                        .table_elements
                        .saturating_add(table.map_err(invalid)?.ty.initial);
                    over(
                        "table elements",
                        counts.table_elements,
                        limits.max_table_elements,
                        "--max-table-elements",
                    )?;
                }
            }
            Payload::CodeSectionEntry(body) => {
                over(
                    "bytes in one function",
                    body.range().len() as u64,
                    limits.max_function_bytes,
                    "--max-function-bytes",
                )?;
                let mut locals = 0u64;
                for declared in body.get_locals_reader().map_err(invalid)? {
                    let (n, _) = declared.map_err(invalid)?;
                    locals += u64::from(n);
                    over(
                        "locals in one function",
                        locals,
                        limits.max_function_locals,
                        "--max-function-locals",
                    )?;
                }
                counts.locals += locals;
                over(
                    "locals in all functions",
                    counts.locals,
                    limits.max_locals,
                    "--max-locals",
                )?;
            }
            _ => {}
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = r#"(component
        (import "wasi:io/error@0.2.0" (instance))
        (component (import "nested:pkg/x" (instance)) (core module))
        (core module (table 7 funcref) (func (local i32 i64 i64)) (func))
    )"#;

    #[test]
    fn only_top_level_imports_are_the_parts_and_nested_modules_count() {
        let bytes = wat::parse_str(NESTED).unwrap();
        let counts = count("c.wasm", &bytes, &ComponentLimits::default()).unwrap();
        assert_eq!(counts.imports, ["wasi:io/error@0.2.0"]);
        assert_eq!(counts.core_modules, 2);
        assert_eq!(counts.functions, 2);
        assert_eq!(counts.locals, 3);
        assert_eq!(counts.table_elements, 7);
    }

    #[test]
    fn each_limit_is_named_with_its_flag() {
        let bytes = wat::parse_str(NESTED).unwrap();
        let cases = [
            (
                ComponentLimits {
                    max_core_modules: 1,
                    ..Default::default()
                },
                "--max-component-modules",
            ),
            (
                ComponentLimits {
                    max_functions: 1,
                    ..Default::default()
                },
                "--max-component-functions",
            ),
            (
                ComponentLimits {
                    max_code_bytes: 4,
                    ..Default::default()
                },
                "--max-code-bytes",
            ),
            (
                ComponentLimits {
                    max_function_bytes: 3,
                    ..Default::default()
                },
                "--max-function-bytes",
            ),
            (
                ComponentLimits {
                    max_function_locals: 2,
                    ..Default::default()
                },
                "--max-function-locals",
            ),
            (
                ComponentLimits {
                    max_table_elements: 6,
                    ..Default::default()
                },
                "--max-table-elements",
            ),
        ];
        for (limits, expected) in cases {
            match count("c.wasm", &bytes, &limits) {
                Err(PartError::OverLimit { flag, .. }) => assert_eq!(flag, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }
}
