//! WASM-4 cartridges as client parts (`[client] abi = "wasm4"`): a core
//! module with WASM-4's imports and exports, checked at upload against the
//! public WASM-4 API and served to the page as it is. The page runs it
//! (`crates/server/ui/wasm4/`) on a 160×160 screen with four colours, four
//! sound channels, gamepads, the mouse and a 1 KiB disk.

use crate::browser::BrowserFiles;
use crate::inspect::{CheckedPart, PartError, WasmKind, wasm_kind};
use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator,
};

/// The largest cartridge WASM-4 accepts, in bytes.
pub const MAX_CARTRIDGE_BYTES: usize = 64 * 1024;

/// The file the page fetches for a cartridge (in the part's browser folder).
pub const CARTRIDGE_ENTRY: &str = "cart.wasm";

/// WASM-4's functions a cartridge may import from `env`: (name, parameter
/// count, whether it returns an i32). Every parameter is an i32.
const API: &[(&str, usize, bool)] = &[
    ("blit", 6, false),
    ("blitSub", 9, false),
    ("line", 4, false),
    ("hline", 3, false),
    ("vline", 3, false),
    ("oval", 4, false),
    ("rect", 4, false),
    ("text", 3, false),
    ("textUtf8", 4, false),
    ("textUtf16", 4, false),
    ("tone", 4, false),
    ("diskr", 2, true),
    ("diskw", 2, true),
    ("trace", 1, false),
    ("traceUtf8", 2, false),
    ("traceUtf16", 2, false),
    ("tracef", 2, false),
];

/// The functions WASM-4 calls, when a cartridge exports them: no
/// parameters, no results.
const CALLBACKS: &[&str] = &["start", "update"];

/// Checks a cartridge: a valid core module of at most 64 KiB whose imports
/// are WASM-4's (`env.memory` of one 64 KiB page, and API functions with
/// their signatures) and whose `start`/`update` exports take and return
/// nothing. Returns its import and export names (`env.blit`, `update`).
pub fn check_cartridge(file: &str, bytes: &[u8]) -> Result<CheckedPart, PartError> {
    let refuse = |reason: String| PartError::Cartridge {
        file: file.to_owned(),
        reason,
    };
    match wasm_kind(bytes) {
        WasmKind::NotWasm => {
            return Err(PartError::NotWasm {
                file: file.to_owned(),
            });
        }
        WasmKind::Component => {
            return Err(refuse(
                "is a component, but [client].abi = \"wasm4\" runs WASM-4 cartridges (core modules); remove `abi` to run it as a Lodge client".into(),
            ));
        }
        WasmKind::CoreModule => {}
    }
    if bytes.len() > MAX_CARTRIDGE_BYTES {
        return Err(refuse(format!(
            "is {} bytes; a WASM-4 cartridge is at most {MAX_CARTRIDGE_BYTES} bytes",
            bytes.len()
        )));
    }
    Validator::new()
        .validate_all(bytes)
        .map_err(|e| refuse(format!("is not a valid WebAssembly module: {e}")))?;

    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut functions: Vec<u32> = Vec::new();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut memory_imported = false;
    let invalid = |e: wasmparser::BinaryReaderError| refuse(e.to_string());
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for ty in group.map_err(invalid)?.into_types() {
                        types.push(match ty.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let name = format!("{}.{}", import.module, import.name);
                    if import.module != "env" {
                        return Err(refuse(format!(
                            "imports {name}; a cartridge imports only from \"env\" (WASM-4's API)"
                        )));
                    }
                    match import.ty {
                        TypeRef::Memory(memory) if import.name == "memory" => {
                            if memory.memory64
                                || memory.initial > 1
                                || memory.maximum.is_some_and(|m| m > 1)
                            {
                                return Err(refuse(
                                    "imports env.memory larger than WASM-4's one 64 KiB page; build with --initial-memory=65536 --max-memory=65536".into(),
                                ));
                            }
                            memory_imported = true;
                        }
                        TypeRef::Func(index) => {
                            let ty = types.get(index as usize).cloned().flatten();
                            check_api_function(import.name, ty.as_ref()).map_err(refuse)?;
                        }
                        _ => {
                            return Err(refuse(format!(
                                "imports {name}, which WASM-4 does not provide"
                            )));
                        }
                    }
                    imports.push(name);
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    functions.push(ty.map_err(invalid)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    if CALLBACKS.contains(&export.name) {
                        let kind_ok = export.kind == ExternalKind::Func;
                        let imported = imports.iter().filter(|i| !i.ends_with(".memory")).count();
                        let ty = (export.index as usize)
                            .checked_sub(imported)
                            .and_then(|i| functions.get(i))
                            .and_then(|t| types.get(*t as usize).cloned().flatten());
                        let empty =
                            ty.is_some_and(|t| t.params().is_empty() && t.results().is_empty());
                        if !(kind_ok && empty) {
                            return Err(refuse(format!(
                                "exports {} with parameters or results; WASM-4 calls it with none",
                                export.name
                            )));
                        }
                    }
                    exports.push(export.name.to_owned());
                }
            }
            _ => {}
        }
    }
    if !memory_imported {
        return Err(refuse(
            "does not import env.memory: WASM-4 cartridges import their memory (link with --import-memory)".into(),
        ));
    }
    if !exports.iter().any(|e| e == "update" || e == "start") {
        return Err(refuse(
            "exports neither `update` nor `start`, so it would never run".into(),
        ));
    }
    imports.sort();
    exports.sort();
    Ok(CheckedPart { imports, exports })
}

/// One imported function against WASM-4's API table.
fn check_api_function(name: &str, ty: Option<&FuncType>) -> Result<(), String> {
    let Some((_, params, returns)) = API.iter().find(|(n, ..)| *n == name) else {
        return Err(format!(
            "imports env.{name}, which is not part of WASM-4's API ({})",
            API.iter().map(|(n, ..)| *n).collect::<Vec<_>>().join(", ")
        ));
    };
    let matches = ty.is_some_and(|ty| {
        ty.params().len() == *params
            && ty.params().iter().all(|p| *p == ValType::I32)
            && match returns {
                true => ty.results() == [ValType::I32],
                false => ty.results().is_empty(),
            }
    });
    if matches {
        Ok(())
    } else {
        Err(format!(
            "imports env.{name} with the wrong signature: WASM-4's takes {params} i32 parameters and returns {}",
            if *returns { "an i32" } else { "nothing" }
        ))
    }
}

/// The files the page loads for a cartridge: the module itself.
pub fn prepare_cartridge(bytes: &[u8]) -> BrowserFiles {
    vec![(CARTRIDGE_ENTRY.to_owned(), bytes.to_vec())]
}
