//! Everything that can be wrong with a manifest, each naming the field and the fix.

use crate::{CapabilityName, Role};
use thiserror::Error;

fn list(items: impl IntoIterator<Item = &'static str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("\"{s}\"")).collect();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// A manifest that cannot be accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ManifestError {
    #[error("lodge.toml: {0}")]
    Syntax(String),
    #[error("lodge.toml is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("lodge.toml is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error(
        "[app].name = \"{value}\" is not a valid app name: use 1-64 characters from a-z, 0-9 and '-', not starting or ending with '-'"
    )]
    InvalidName { value: String },
    #[error(
        "[app].version = \"{value}\" is not a valid semantic version (like \"1.2.3\"): {reason}"
    )]
    InvalidVersion { value: String, reason: String },
    #[error("[app].description is {chars} characters long; the limit is {max}")]
    DescriptionTooLong { chars: usize, max: usize },
    #[error(
        "lodge.toml has no parts: add at least one of [room], [client] or [http], each with a `component`"
    )]
    NoParts,
    #[error("[{role}].component = \"{value}\" {reason}")]
    ComponentPath {
        role: Role,
        value: String,
        reason: &'static str,
    },
    #[error("[room].memory-mib = {value} is out of range: use 1 to {max} (servers may allow less)")]
    MemoryMib { value: i64, max: u32 },
    #[error("[http].{field} = {value} is out of range: use 1 to {max} (servers may allow less)")]
    HttpLimit {
        field: &'static str,
        value: i64,
        max: u32,
    },
    #[error("[room].max-members = {value} is out of range: use 1 to {max}")]
    MaxMembers { value: i64, max: u32 },
    #[error("[room].max-rooms = {value} is out of range: use 1 to {max} (servers may allow less)")]
    MaxRooms { value: i64, max: u32 },
    #[error(
        "[room].visibility = \"{value}\" is not a visibility: use {}",
        list(crate::RoomVisibility::ALL.iter().map(|v| v.name()))
    )]
    RoomVisibility { value: String },
    #[error(
        "[room].start = \"{value}\" is not a start: use {}",
        list(crate::RoomStart::ALL.iter().map(|v| v.name()))
    )]
    RoomStart { value: String },
    #[error(
        "[room].late-join = \"{value}\" is not a late-join policy: use {}",
        list(crate::LateJoin::ALL.iter().map(|v| v.name()))
    )]
    LateJoin { value: String },
    #[error("[room].max-spectators = {value} is out of range: use 1 to {max}")]
    MaxSpectators { value: i64, max: u32 },
    #[error("[room].max-spectators needs spectators = true")]
    MaxSpectatorsWithout,
    #[error(
        "[room].late-join = \"spectate\" makes late joiners spectators, but the room takes none: add spectators = true, or use \"allow\" or \"deny\""
    )]
    SpectateWithoutSpectators,
    #[error("[room].reconnect-seconds = {value} is out of range: use 0 (no waiting) to {max}")]
    ReconnectSeconds { value: i64, max: u32 },
    #[error(
        "[{role}].capabilities: \"{value}\" is not a capability name: use 1-32 characters from a-z, 0-9 and '-'"
    )]
    CapabilityName { role: Role, value: String },
    #[error(
        "[{role}].capabilities: unknown capability \"{value}\"; {role} parts may declare {}",
        list(allowed.iter().copied())
    )]
    UnknownCapability {
        role: Role,
        value: String,
        /// What parts of this kind may declare, from the capability table.
        allowed: Vec<&'static str>,
    },
    #[error(
        "[{role}].capabilities: \"{capability}\" is not available to {role} parts; they may declare {}",
        list(allowed.iter().copied())
    )]
    CapabilityNotForRole {
        role: Role,
        capability: CapabilityName,
        allowed: Vec<&'static str>,
    },
    #[error("[{role}].capabilities: \"{capability}\" is listed twice")]
    DuplicateCapability {
        role: Role,
        capability: CapabilityName,
    },
    #[error(
        "[http].allowed-hosts: \"{value}\" is not a host name: use a lower-case name like \"api.example.com\", optionally \"*.\" in front or \":PORT\" behind"
    )]
    AllowedHost { value: String },
    #[error("[http].allowed-hosts lists {count} hosts; the limit is {max}")]
    TooManyAllowedHosts { count: usize, max: usize },
    #[error(
        "[client].abi = \"{value}\" is not a client ABI: use {}",
        list(crate::ClientAbi::ALL.iter().map(|v| v.name()))
    )]
    ClientAbi { value: String },
    #[error(
        "[client].capabilities and [client].assets must be empty with abi = \"wasm4\": a WASM-4 cartridge gets what WASM-4 has (screen, sound, gamepads, disk) and carries its data inside"
    )]
    Wasm4Capabilities,
    #[error("[client].assets lists {count} files; the limit is {max}")]
    TooManyAssets { count: usize, max: usize },
    #[error("[client].assets: \"{value}\" {reason}")]
    AssetPath { value: String, reason: &'static str },
    #[error(
        "[{role}].capabilities declares both \"{first}\" and \"{second}\", but a part has at most one {group} capability: keep one"
    )]
    ExclusiveCapabilities {
        role: Role,
        group: &'static str,
        first: CapabilityName,
        second: CapabilityName,
    },
}
