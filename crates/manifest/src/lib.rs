//! `lodge.toml`: the app manifest's types, parsing and validation.
//!
//! Parsing goes through two layers: serde structs that mirror the file and
//! reject unknown fields, then [`Manifest::parse`] turns them into checked
//! types. Every error names the field and what is allowed, because authors
//! read these messages, not the code.

mod capability;
mod error;
mod room_settings;

pub use capability::{CapabilityName, Role};
pub use error::ManifestError;
pub use room_settings::{
    DEFAULT_MAX_SPECTATORS, DEFAULT_RECONNECT_SECONDS, LateJoin, MAX_RECONNECT_SECONDS,
    MAX_SPECTATORS, Phase, RoomStart,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The manifest's file name, at the root of an app directory and of a bundle.
pub const MANIFEST_FILE: &str = "lodge.toml";

/// The largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The highest `max-members` a room part may ask for.
pub const MAX_ROOM_MEMBERS: u32 = 10_000;
/// The most live rooms a room part may ask for (servers may allow less).
pub const MAX_ROOMS_PER_APP: u32 = 100_000;
/// The most memory a room part may ask for, in MiB (servers may allow less).
pub const MAX_ROOM_MEMORY_MIB: u32 = 4096;
/// The most hosts an http part may list in `allowed-hosts`.
pub const MAX_ALLOWED_HOSTS: usize = 64;
/// The highest `[http].timeout-ms` and `cpu-ms` any server accepts (ten minutes).
pub const MAX_HTTP_LIMIT_MS: u32 = 600_000;
/// The most files `[client].assets` may list (servers may allow less).
pub const MAX_ASSETS: usize = 256;
/// The longest asset path, in bytes.
pub const MAX_ASSET_PATH: usize = 128;

/// A validated `lodge.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub app: App,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpPart>,
}

/// The `[app]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub name: AppName,
    pub version: semver::Version,
    pub description: String,
}

/// The `[room]` table: server-side logic for live rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RoomPart {
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Live rooms of this app at once; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rooms: Option<u32>,
    /// Linear memory the room may grow to, in MiB; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
    #[serde(default)]
    pub capabilities: Vec<CapabilityName>,
    /// Who may see the app's live rooms listed (`GET /api/apps/{app}/rooms`).
    #[serde(default, skip_serializing_if = "RoomVisibility::is_default")]
    pub visibility: RoomVisibility,
    /// Refuse a join whose display name a member of the room already has
    /// (compared trimmed and case-insensitively).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique_names: bool,
    /// Only signed-in members may join the app's rooms; guests (a display
    /// name and no account) are refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_account: bool,
    /// Whether a new room plays at once or waits in its lobby for the host.
    #[serde(default, skip_serializing_if = "RoomStart::is_default")]
    pub start: RoomStart,
    /// What a join into a room that is playing becomes.
    #[serde(default, skip_serializing_if = "LateJoin::is_default")]
    pub late_join: LateJoin,
    /// How many spectators a room takes besides its `max-members` players;
    /// 0 (the default) takes none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_spectators: u32,
    /// How long a member whose connection dropped keeps their seat, waiting
    /// for them to come back; `None` is [`DEFAULT_RECONNECT_SECONDS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect_seconds: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RoomPart {
    /// How long a dropped member's seat is held.
    pub fn reconnect_seconds(&self) -> u32 {
        self.reconnect_seconds.unwrap_or(DEFAULT_RECONNECT_SECONDS)
    }
}

/// `[room].visibility`: whether anyone may list the app's live rooms. A
/// room's name is what lets people join it, so by default only the app's
/// collaborators and admins see the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomVisibility {
    /// Listed to everyone, signed in or not.
    Public,
    /// Listed only to the app's collaborators and admins; joinable by anyone who
    /// knows the room's name.
    #[default]
    Unlisted,
    /// Listed only to the app's collaborators and admins; joinable only
    /// with an invite (the room's first member, who starts it, needs none).
    Invite,
}

impl RoomVisibility {
    pub const ALL: [RoomVisibility; 3] = [
        RoomVisibility::Public,
        RoomVisibility::Unlisted,
        RoomVisibility::Invite,
    ];

    /// The manifest and API name.
    pub fn name(self) -> &'static str {
        match self {
            RoomVisibility::Public => "public",
            RoomVisibility::Unlisted => "unlisted",
            RoomVisibility::Invite => "invite",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl fmt::Display for RoomVisibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `[client]` table: the part that runs in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPart {
    pub component: String,
    /// What kind of WebAssembly `component` is, and so which host runs it.
    #[serde(default, skip_serializing_if = "ClientAbi::is_default")]
    pub abi: ClientAbi,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<CapabilityName>,
    /// Files shipped with the app (images, sounds, data), by their path in
    /// the bundle, which is also the name a client reads them by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
}

/// How a client part is built: `[client].abi`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAbi {
    /// A component of Lodge's client world (`lodge:app/client`).
    #[default]
    Component,
    /// A WASM-4 cartridge: a core module with WASM-4's imports, exports and
    /// memory map (160×160, four colours, four sound channels).
    Wasm4,
}

impl ClientAbi {
    pub const ALL: [ClientAbi; 2] = [ClientAbi::Component, ClientAbi::Wasm4];

    pub fn name(self) -> &'static str {
        match self {
            ClientAbi::Component => "component",
            ClientAbi::Wasm4 => "wasm4",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|abi| abi.name() == name)
    }

    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl fmt::Display for ClientAbi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `[http]` table: a `wasi:http/proxy` component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HttpPart {
    pub component: String,
    #[serde(default)]
    pub capabilities: Vec<CapabilityName>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Wall-clock time one request may take, in ms; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// CPU time one request may use, in ms; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<u32>,
    /// Let one instance serve many requests, one after another, instead of
    /// a fresh instance per request (faster; the app must not rely on
    /// starting fresh).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuse_instances: bool,
}

/// An app name: 1–64 characters of `a-z`, `0-9` and `-`, not starting or
/// ending with `-` (so it also works as a host-name label).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppName(String);

impl AppName {
    pub const MAX_LEN: usize = 64;

    /// Checks `name`, returning why it is not a valid app name.
    pub fn new(name: impl Into<String>) -> Result<Self, ManifestError> {
        let name = name.into();
        let ok = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if ok {
            Ok(Self(name))
        } else {
            Err(ManifestError::InvalidName { value: name })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppName {
    type Error = ManifestError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<AppName> for String {
    fn from(name: AppName) -> Self {
        name.0
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AppName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parses a version the way the manifest does: semver, without build
/// metadata (two versions differing only in `+build` would have the same
/// precedence, so `latest` could not choose between them).
pub fn parse_version(value: &str) -> Result<semver::Version, ManifestError> {
    let version = semver::Version::parse(value).map_err(|e| ManifestError::InvalidVersion {
        value: value.to_owned(),
        reason: e.to_string(),
    })?;
    if !version.build.is_empty() {
        return Err(ManifestError::InvalidVersion {
            value: value.to_owned(),
            reason: "build metadata (`+...`) is not allowed; use a pre-release (`-...`) or a new version".into(),
        });
    }
    Ok(version)
}

/// A part of a version, with the component file the manifest names for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRef<'a> {
    pub role: Role,
    pub component: &'a str,
    pub capabilities: &'a [CapabilityName],
}

impl Manifest {
    /// Parses and validates the text of a `lodge.toml`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge {
                size: text.len(),
                max: MAX_MANIFEST_BYTES,
            });
        }
        let raw: raw::Manifest = toml::from_str(text)
            .map_err(|e| ManifestError::Syntax(e.to_string().trim_end().to_owned()))?;
        raw.validate()
    }

    /// Parses the bytes of a `lodge.toml`, which must be UTF-8.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ManifestError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::parse(text)
    }

    /// The parts this version has, in a fixed order (room, client, http).
    pub fn parts(&self) -> Vec<PartRef<'_>> {
        let mut parts = Vec::new();
        if let Some(room) = &self.room {
            parts.push(PartRef {
                role: Role::Room,
                component: &room.component,
                capabilities: &room.capabilities,
            });
        }
        if let Some(client) = &self.client {
            parts.push(PartRef {
                role: Role::Client,
                component: &client.component,
                capabilities: &client.capabilities,
            });
        }
        if let Some(http) = &self.http {
            parts.push(PartRef {
                role: Role::Http,
                component: &http.component,
                capabilities: &http.capabilities,
            });
        }
        parts
    }

    /// Points the part `role` at another component file (the CLI packs
    /// components under fixed names inside a bundle).
    pub fn set_component(&mut self, role: Role, component: String) {
        match role {
            Role::Room => {
                if let Some(p) = &mut self.room {
                    p.component = component
                }
            }
            Role::Client => {
                if let Some(p) = &mut self.client {
                    p.component = component
                }
            }
            Role::Http => {
                if let Some(p) = &mut self.http {
                    p.component = component
                }
            }
        }
    }

    /// Renders the manifest back to TOML (normalized: fields in a fixed order).
    pub fn to_toml(&self) -> String {
        let raw = raw::Manifest::from(self);
        toml::to_string(&raw).expect("a manifest always serializes")
    }
}

mod raw {
    //! The file's shape, as serde sees it: strings in, nothing checked yet.

    use super::*;

    #[derive(Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct Manifest {
        pub app: App,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub room: Option<Room>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub client: Option<Client>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub http: Option<Http>,
    }

    #[derive(Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct App {
        pub name: String,
        pub version: String,
        pub description: String,
    }

    #[derive(Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Room {
        pub component: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_members: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_rooms: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub memory_mib: Option<i64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub capabilities: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub visibility: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub unique_names: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub require_account: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub start: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub late_join: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub spectators: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_spectators: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reconnect_seconds: Option<i64>,
    }

    #[derive(Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct Client {
        pub component: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub abi: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub capabilities: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub assets: Vec<String>,
    }

    #[derive(Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Http {
        pub component: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub capabilities: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub allowed_hosts: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timeout_ms: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cpu_ms: Option<i64>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub reuse_instances: bool,
    }

    /// A millisecond limit of `[http]`, within 1..=MAX_HTTP_LIMIT_MS.
    fn http_limit(field: &'static str, value: Option<i64>) -> Result<Option<u32>, ManifestError> {
        in_range(value, MAX_HTTP_LIMIT_MS, |value, max| {
            ManifestError::HttpLimit { field, value, max }
        })
    }

    impl Manifest {
        pub fn validate(self) -> Result<super::Manifest, ManifestError> {
            let name = AppName::new(self.app.name)?;
            let version = parse_version(&self.app.version)?;
            let description_chars = self.app.description.chars().count();
            if description_chars > MAX_DESCRIPTION_CHARS {
                return Err(ManifestError::DescriptionTooLong {
                    chars: description_chars,
                    max: MAX_DESCRIPTION_CHARS,
                });
            }
            if self.room.is_none() && self.client.is_none() && self.http.is_none() {
                return Err(ManifestError::NoParts);
            }
            let room = self
                .room
                .map(|room| {
                    let max_members =
                        in_range(room.max_members, MAX_ROOM_MEMBERS, |value, max| {
                            ManifestError::MaxMembers { value, max }
                        })?;
                    let max_rooms = in_range(room.max_rooms, MAX_ROOMS_PER_APP, |value, max| {
                        ManifestError::MaxRooms { value, max }
                    })?;
                    let memory_mib =
                        in_range(room.memory_mib, MAX_ROOM_MEMORY_MIB, |value, max| {
                            ManifestError::MemoryMib { value, max }
                        })?;
                    let component = component_path(Role::Room, room.component)?;
                    let capabilities = capabilities(Role::Room, &room.capabilities)?;
                    let visibility = room
                        .visibility
                        .map(|v| {
                            RoomVisibility::from_name(&v)
                                .ok_or(ManifestError::RoomVisibility { value: v })
                        })
                        .transpose()?
                        .unwrap_or_default();
                    let start = word(room.start, RoomStart::from_name, |value| {
                        ManifestError::RoomStart { value }
                    })?;
                    let late_join = word(room.late_join, LateJoin::from_name, |value| {
                        ManifestError::LateJoin { value }
                    })?;
                    let max_spectators = match (room.spectators, room.max_spectators) {
                        (false, None) => 0,
                        (false, Some(_)) => return Err(ManifestError::MaxSpectatorsWithout),
                        (true, max) => in_range(max, MAX_SPECTATORS, |value, max| {
                            ManifestError::MaxSpectators { value, max }
                        })?
                        .unwrap_or(DEFAULT_MAX_SPECTATORS),
                    };
                    if late_join == LateJoin::Spectate && max_spectators == 0 {
                        return Err(ManifestError::SpectateWithoutSpectators);
                    }
                    let reconnect_seconds = room
                        .reconnect_seconds
                        .map(|n| match u32::try_from(n) {
                            Ok(n) if n <= MAX_RECONNECT_SECONDS => Ok(n),
                            _ => Err(ManifestError::ReconnectSeconds {
                                value: n,
                                max: MAX_RECONNECT_SECONDS,
                            }),
                        })
                        .transpose()?;
                    Ok::<_, ManifestError>(RoomPart {
                        component,
                        max_members,
                        max_rooms,
                        memory_mib,
                        capabilities,
                        visibility,
                        unique_names: room.unique_names,
                        require_account: room.require_account,
                        start,
                        late_join,
                        max_spectators,
                        reconnect_seconds,
                    })
                })
                .transpose()?;
            let client = self
                .client
                .map(|client| {
                    let abi = client
                        .abi
                        .map(|abi| {
                            ClientAbi::from_name(&abi)
                                .ok_or(ManifestError::ClientAbi { value: abi })
                        })
                        .transpose()?
                        .unwrap_or_default();
                    if abi == ClientAbi::Wasm4
                        && !(client.capabilities.is_empty() && client.assets.is_empty())
                    {
                        return Err(ManifestError::Wasm4Capabilities);
                    }
                    Ok::<_, ManifestError>(ClientPart {
                        component: component_path(Role::Client, client.component)?,
                        abi,
                        capabilities: capabilities(Role::Client, &client.capabilities)?,
                        assets: asset_paths(client.assets)?,
                    })
                })
                .transpose()?;
            let http = self
                .http
                .map(|http| {
                    if http.allowed_hosts.len() > MAX_ALLOWED_HOSTS {
                        return Err(ManifestError::TooManyAllowedHosts {
                            count: http.allowed_hosts.len(),
                            max: MAX_ALLOWED_HOSTS,
                        });
                    }
                    let allowed_hosts = http
                        .allowed_hosts
                        .into_iter()
                        .map(allowed_host)
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(HttpPart {
                        component: component_path(Role::Http, http.component)?,
                        capabilities: capabilities(Role::Http, &http.capabilities)?,
                        allowed_hosts,
                        timeout_ms: http_limit("timeout-ms", http.timeout_ms)?,
                        cpu_ms: http_limit("cpu-ms", http.cpu_ms)?,
                        reuse_instances: http.reuse_instances,
                    })
                })
                .transpose()?;
            Ok(super::Manifest {
                app: super::App {
                    name,
                    version,
                    description: self.app.description,
                },
                room,
                client,
                http,
            })
        }
    }

    impl From<&super::Manifest> for Manifest {
        fn from(m: &super::Manifest) -> Self {
            let names = |caps: &[CapabilityName]| caps.iter().map(|c| c.to_string()).collect();
            Manifest {
                app: App {
                    name: m.app.name.to_string(),
                    version: m.app.version.to_string(),
                    description: m.app.description.clone(),
                },
                room: m.room.as_ref().map(|r| Room {
                    component: r.component.clone(),
                    max_members: r.max_members.map(i64::from),
                    max_rooms: r.max_rooms.map(i64::from),
                    memory_mib: r.memory_mib.map(i64::from),
                    capabilities: names(&r.capabilities),
                    visibility: (r.visibility != RoomVisibility::default())
                        .then(|| r.visibility.name().to_owned()),
                    unique_names: r.unique_names,
                    require_account: r.require_account,
                    start: (!r.start.is_default()).then(|| r.start.name().to_owned()),
                    late_join: (!r.late_join.is_default()).then(|| r.late_join.name().to_owned()),
                    spectators: r.max_spectators > 0,
                    max_spectators: (r.max_spectators > 0
                        && r.max_spectators != DEFAULT_MAX_SPECTATORS)
                        .then_some(i64::from(r.max_spectators)),
                    reconnect_seconds: r.reconnect_seconds.map(i64::from),
                }),
                client: m.client.as_ref().map(|c| Client {
                    component: c.component.clone(),
                    abi: (c.abi != ClientAbi::default()).then(|| c.abi.name().to_owned()),
                    capabilities: names(&c.capabilities),
                    assets: c.assets.clone(),
                }),
                http: m.http.as_ref().map(|h| Http {
                    component: h.component.clone(),
                    capabilities: names(&h.capabilities),
                    allowed_hosts: h.allowed_hosts.clone(),
                    timeout_ms: h.timeout_ms.map(i64::from),
                    cpu_ms: h.cpu_ms.map(i64::from),
                    reuse_instances: h.reuse_instances,
                }),
            }
        }
    }

    /// An optional word of a closed set, or the error `unknown` makes.
    fn word<T: Default>(
        value: Option<String>,
        from_name: fn(&str) -> Option<T>,
        unknown: impl FnOnce(String) -> ManifestError,
    ) -> Result<T, ManifestError> {
        match value {
            None => Ok(T::default()),
            Some(v) => from_name(&v).ok_or_else(|| unknown(v)),
        }
    }

    /// An optional integer field within 1..=max, or the error `out_of_range` makes.
    fn in_range(
        value: Option<i64>,
        max: u32,
        out_of_range: impl FnOnce(i64, u32) -> ManifestError,
    ) -> Result<Option<u32>, ManifestError> {
        value
            .map(|n| match u32::try_from(n) {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(out_of_range(n, max)),
            })
            .transpose()
    }

    fn component_path(role: Role, path: String) -> Result<String, ManifestError> {
        let reason = if path.is_empty() {
            Some("must name the part's component file")
        } else if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
            Some("must be a path relative to the directory holding lodge.toml")
        } else if path.contains('\0') {
            Some("must not contain NUL")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(ManifestError::ComponentPath {
                role,
                value: path,
                reason,
            }),
            None => Ok(path),
        }
    }

    /// `[client].assets`: at most [`MAX_ASSETS`] paths, each relative, made
    /// of `/`-separated segments of letters, digits, `.`, `_` and `-` (none
    /// of them `.` or `..`), and each listed once.
    fn asset_paths(paths: Vec<String>) -> Result<Vec<String>, ManifestError> {
        if paths.len() > MAX_ASSETS {
            return Err(ManifestError::TooManyAssets {
                count: paths.len(),
                max: MAX_ASSETS,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for path in &paths {
            let segment_ok = |seg: &str| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            };
            let reason = if path.len() > MAX_ASSET_PATH {
                Some("is too long: use at most 128 bytes")
            } else if !path.split('/').all(segment_ok) {
                Some(
                    "is not a relative path of letters, digits, '.', '_' and '-' segments joined by '/'",
                )
            } else if !seen.insert(path.as_str()) {
                Some("is listed twice")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ManifestError::AssetPath {
                    value: path.clone(),
                    reason,
                });
            }
        }
        Ok(paths)
    }

    /// The declared capability names, spelled right and each once. Whether
    /// they exist and suit the part is the runtime's table to say.
    fn capabilities(role: Role, names: &[String]) -> Result<Vec<CapabilityName>, ManifestError> {
        let mut caps: Vec<CapabilityName> = Vec::with_capacity(names.len());
        for name in names {
            let Some(cap) = CapabilityName::new(name) else {
                return Err(ManifestError::CapabilityName {
                    role,
                    value: name.clone(),
                });
            };
            if caps.contains(&cap) {
                return Err(ManifestError::DuplicateCapability {
                    role,
                    capability: cap,
                });
            }
            caps.push(cap);
        }
        Ok(caps)
    }

    fn allowed_host(host: String) -> Result<String, ManifestError> {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host.as_str(), None),
        };
        let name_ok = {
            let name = name.strip_prefix("*.").unwrap_or(name);
            !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        };
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p != 0));
        if name_ok && port_ok {
            Ok(host)
        } else {
            Err(ManifestError::AllowedHost { value: host })
        }
    }
}
