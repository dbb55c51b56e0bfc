//! The room itself: its phase (waiting in a lobby, or playing), its host,
//! who plays and who watches, its seats and its metadata. Every room has
//! these; nothing needs declaring in the manifest.
//!
//! ```ignore
//! use lodge_sdk::{Member, MemberId, Message, Room, members, room};
//!
//! #[derive(Default)]
//! struct Party;
//!
//! impl Room for Party {
//!     fn on_message(&mut self, from: MemberId, message: Message) {
//!         // The host says "go": the game starts, and late joiners now
//!         // follow `[room].late-join`.
//!         if message.as_text() == Some("go") && room::host() == Some(from) {
//!             room::set_phase(room::Phase::Playing);
//!             members::broadcast(&"the game is on".into(), &[]);
//!         }
//!     }
//! }
//! ```

use crate::MemberId;
use crate::bindings::lodge::app0_3::room_control as host;

/// Where the room is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the host to start (`[room].start = "lobby"`).
    Lobby,
    /// Playing: joins follow `[room].late-join`.
    Playing,
}

/// How a member takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Fills one of the room's `max-members` seats.
    Player,
    /// Watches: receives what the room sends, may send messages, and is not
    /// counted in `max-members`.
    Spectator,
}

/// A member of the room, with their role and whether they are connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Unique within the room.
    pub id: MemberId,
    /// The name they joined with.
    pub name: String,
    /// Player or spectator.
    pub role: Role,
    /// False while their connection is down and their seat held.
    pub connected: bool,
}

/// The room's seats now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    /// `max-members` for this room.
    pub max_players: u32,
    /// Players in the room, connected or held.
    pub players: u32,
    /// Held for members on their way (join-or-create, invitations).
    pub reserved: u32,
    /// Spectators the room takes at most (0: none).
    pub max_spectators: u32,
    /// Spectators in the room.
    pub spectators: u32,
}

impl From<host::Phase> for Phase {
    fn from(phase: host::Phase) -> Self {
        match phase {
            host::Phase::Lobby => Phase::Lobby,
            host::Phase::Playing => Phase::Playing,
        }
    }
}

impl From<Phase> for host::Phase {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::Lobby => host::Phase::Lobby,
            Phase::Playing => host::Phase::Playing,
        }
    }
}

impl From<host::Role> for Role {
    fn from(role: host::Role) -> Self {
        match role {
            host::Role::Player => Role::Player,
            host::Role::Spectator => Role::Spectator,
        }
    }
}

impl From<Role> for host::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Player => host::Role::Player,
            Role::Spectator => host::Role::Spectator,
        }
    }
}

/// The room's phase.
pub fn phase() -> Phase {
    host::current_phase().into()
}

/// Moves the room to `phase`: `Playing` starts the game, `Lobby` lets
/// people in again for another round. [`Room::on_phase`](crate::Room::on_phase)
/// is not called for it.
pub fn set_phase(phase: Phase) {
    host::set_phase(phase.into())
}

/// The host: the first player to join, until they leave or hand it on.
pub fn host() -> Option<MemberId> {
    host::host()
}

/// Makes a player the host; `Err` names why not.
pub fn set_host(member: MemberId) -> Result<(), String> {
    host::set_host(member)
}

/// Everyone in the room, players and spectators, in join order.
pub fn members() -> Vec<MemberInfo> {
    host::members()
        .into_iter()
        .map(|m| MemberInfo {
            id: m.id,
            name: m.name,
            role: m.role.into(),
            connected: m.connected,
        })
        .collect()
}

/// A member's role (from their `on_join` on); `None` for an id not in the room.
pub fn role(member: MemberId) -> Option<Role> {
    host::role_of(member).map(Role::from)
}

/// Makes a spectator a player (when a seat is free) or a player a
/// spectator (when the room takes one more); `Err` names why not.
pub fn set_role(member: MemberId, role: Role) -> Result<(), String> {
    host::set_role(member, role.into())
}

/// The room's seats.
pub fn seats() -> Seats {
    let s = host::seats();
    Seats {
        max_players: s.max_players,
        players: s.players,
        reserved: s.reserved,
        max_spectators: s.max_spectators,
        spectators: s.spectators,
    }
}

/// The room's metadata, shown in the room list and matched by
/// join-or-create's filters.
pub fn metadata() -> Vec<(String, String)> {
    host::metadata()
}

/// Sets one metadata key (removes it with `None`). Keys are 1-32 characters
/// of a-z, 0-9, '-' and '_', values at most 256 bytes, at most 16 keys;
/// `Err` names the limit.
pub fn set_metadata(key: &str, value: Option<&str>) -> Result<(), String> {
    host::set_metadata(key, value)
}
