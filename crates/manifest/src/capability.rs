//! Part roles and the capabilities a manifest may grant each of them.

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

    /// The capabilities a manifest may declare for this role.
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Role::Room => &[Capability::Kv, Capability::Timers, Capability::Log],
            Role::Client => &[],
            Role::Http => &[Capability::Kv, Capability::Log],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An optional interface a part may import once its manifest declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// `lodge:app/kv`: key-value storage scoped to the room or the app.
    Kv,
    /// `lodge:app/timers`: timers delivered as events.
    Timers,
    /// `lodge:app/log`: log lines in the app's log (always granted to rooms).
    Log,
}

impl Capability {
    pub const ALL: [Capability; 3] = [Capability::Kv, Capability::Timers, Capability::Log];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Kv => "kv",
            Capability::Timers => "timers",
            Capability::Log => "log",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
