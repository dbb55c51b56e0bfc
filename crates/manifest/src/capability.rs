//! Part roles, and the names of the capabilities a manifest declares.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a part does, which decides its WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Server-side logic of live rooms (`lodge:app/room` world).
    Room,
    /// Runs in the browser (`lodge:app/client` world).
    Client,
    /// Serves HTTP (`wasi:http/proxy` world).
    Http,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Room, Role::Client, Role::Http];

    /// The manifest table and API name of this role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Room => "room",
            Role::Client => "client",
            Role::Http => "http",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A capability a part declares in `lodge.toml` (`capabilities = ["kv"]`):
/// a name of 1-32 characters from `a-z`, `0-9` and `-`. Which names exist
/// and which part kinds may declare them is the runtime's capability table
/// (`lodge_runtime::capabilities`), checked at upload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CapabilityName(String);

impl CapabilityName {
    pub const MAX_LEN: usize = 32;

    /// The name, if it is spelled like one.
    pub fn new(name: &str) -> Option<Self> {
        let ok = !name.is_empty()
            && name.len() <= Self::MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CapabilityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
