//! The `[room]` settings that shape how people get into a room: when it
//! starts, who may join once it has, and whether it has spectators. Each is
//! a kebab-case word in `lodge.toml`, the same word in the API.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The most spectators a room may take (`[room].max-spectators`).
pub const MAX_SPECTATORS: u32 = 10_000;
/// How many spectators a room takes when `spectators = true` and
/// `max-spectators` is not given.
pub const DEFAULT_MAX_SPECTATORS: u32 = 100;
/// The longest `[room].reconnect-seconds`.
pub const MAX_RECONNECT_SECONDS: u32 = 600;
/// How long a dropped member's seat is held when the manifest doesn't say.
pub const DEFAULT_RECONNECT_SECONDS: u32 = 20;

/// A closed set of words, each with its manifest and API name.
macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The manifest and API name.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }

            pub fn is_default(&self) -> bool {
                *self == Self::$default
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

words! {
    /// `[room].start`: whether a new room plays at once or waits in a lobby
    /// until its host starts it.
    RoomStart {
        /// The room is `playing` from its first member on.
        #[default]
        Immediate = "immediate",
        /// The room waits in the `lobby` phase until the host (its first
        /// member, unless handed on) starts it.
        Lobby = "lobby",
    } default Immediate
}

words! {
    /// `[room].late-join`: what happens to someone who joins a room that is
    /// already `playing`.
    LateJoin {
        /// They join as a player, as in the lobby.
        #[default]
        Allow = "allow",
        /// They join as a spectator (the room must take spectators).
        Spectate = "spectate",
        /// They are refused until the room is back in its lobby.
        Deny = "deny",
    } default Allow
}

words! {
    /// A room's phase: waiting in its lobby, or playing.
    Phase {
        #[default]
        Lobby = "lobby",
        Playing = "playing",
    } default Lobby
}
