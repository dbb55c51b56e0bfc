//! One room's settings: the app's `[room]` settings, narrowed by whoever
//! created the room (`POST /api/apps/{app}/rooms`), fixed for the room's
//! life. And the limits on room metadata, which the room part sets and the
//! room list shows.

use lodge_manifest::{LateJoin, Phase, RoomStart, RoomVisibility};
use std::collections::BTreeMap;
use std::time::Duration;

/// How a room takes members, from its start to its end.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// Players at most (`max-members`).
    pub max_players: u32,
    /// Spectators at most, besides the players; 0 takes none.
    pub max_spectators: u32,
    pub start: RoomStart,
    pub late_join: LateJoin,
    pub visibility: RoomVisibility,
    /// How long a dropped member's seat is held.
    pub reconnect: Duration,
    /// The room's password as an Argon2id PHC string; the server checks it
    /// before a join reaches the room.
    pub password: Option<String>,
}

impl RoomSettings {
    /// Whether a join needs an invite (or a password's admission) to get in.
    pub fn needs_admission(&self) -> bool {
        self.visibility == RoomVisibility::Invite || self.password.is_some()
    }

    /// The phase the room starts in: playing, or waiting in its lobby.
    pub fn first_phase(&self) -> Phase {
        match self.start {
            RoomStart::Immediate => Phase::Playing,
            RoomStart::Lobby => Phase::Lobby,
        }
    }

    /// Whether the room may be handed to join-or-create's callers: listed
    /// publicly, no password, and taking players in its phase.
    pub(crate) fn open_to_strangers(&self) -> bool {
        self.visibility == RoomVisibility::Public && self.password.is_none()
    }
}

/// How a member takes part in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Fills one of `max-members` seats.
    Player,
    /// Watches; not counted in `max-members`.
    Spectator,
}

/// Metadata keys a room may have.
pub const MAX_METADATA_KEYS: usize = 16;
/// The longest metadata key, in characters.
pub const MAX_METADATA_KEY: usize = 32;
/// The longest metadata value, in bytes.
pub const MAX_METADATA_VALUE: usize = 256;

/// Room metadata: short keys and values.
pub type Metadata = BTreeMap<String, String>;

/// Why a metadata entry was refused, naming the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataRefused {
    #[error(
        "metadata key \"{0}\" is not valid: use 1-{MAX_METADATA_KEY} characters from a-z, 0-9, '-' and '_'"
    )]
    Key(String),
    #[error("metadata value of \"{key}\" is {len} bytes; the limit is {MAX_METADATA_VALUE}")]
    Value { key: String, len: usize },
    #[error("a room has at most {MAX_METADATA_KEYS} metadata keys")]
    TooMany,
}

/// Sets `key` to `value` in `metadata` (removes it with `None`), within the limits.
pub fn set_metadata(
    metadata: &mut Metadata,
    key: &str,
    value: Option<&str>,
) -> Result<(), MetadataRefused> {
    let valid_key = (1..=MAX_METADATA_KEY).contains(&key.len())
        && key
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'));
    if !valid_key {
        return Err(MetadataRefused::Key(key.chars().take(40).collect()));
    }
    let Some(value) = value else {
        metadata.remove(key);
        return Ok(());
    };
    if value.len() > MAX_METADATA_VALUE {
        return Err(MetadataRefused::Value {
            key: key.to_owned(),
            len: value.len(),
        });
    }
    if !metadata.contains_key(key) && metadata.len() >= MAX_METADATA_KEYS {
        return Err(MetadataRefused::TooMany);
    }
    metadata.insert(key.to_owned(), value.to_owned());
    Ok(())
}

/// Checks a whole map against the limits (a creator's initial metadata,
/// join-or-create's filters).
pub fn check_metadata(entries: &Metadata) -> Result<(), MetadataRefused> {
    let mut checked = Metadata::new();
    for (key, value) in entries {
        set_metadata(&mut checked, key, Some(value))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_its_limits() {
        let mut m = Metadata::new();
        set_metadata(&mut m, "mode", Some("ranked")).unwrap();
        assert_eq!(m["mode"], "ranked");
        assert!(matches!(
            set_metadata(&mut m, "Mode", Some("x")),
            Err(MetadataRefused::Key(_))
        ));
        assert!(matches!(
            set_metadata(&mut m, "map", Some(&"x".repeat(257))),
            Err(MetadataRefused::Value { len: 257, .. })
        ));
        for i in 1..MAX_METADATA_KEYS {
            set_metadata(&mut m, &format!("k{i}"), Some("v")).unwrap();
        }
        assert_eq!(
            set_metadata(&mut m, "one-more", Some("v")),
            Err(MetadataRefused::TooMany)
        );
        // Replacing and removing are always allowed.
        set_metadata(&mut m, "mode", Some("casual")).unwrap();
        set_metadata(&mut m, "mode", None).unwrap();
        assert!(!m.contains_key("mode"));
    }
}
