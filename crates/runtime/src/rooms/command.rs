//! What a member may ask of the room itself, besides sending it messages:
//! start it from its lobby, hand the host role on, or just say who they
//! are. The member proves who they are with their resume token, so the web
//! UI's lobby screen (and any client) can act outside the room's own
//! message protocol.

use super::MemberRole;
use lodge_manifest::Phase;

/// A request to the room, made by one of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Who am I, and where is the room? (Nothing changes.)
    Identify,
    /// Start the room from its lobby (the host only).
    Start,
    /// Make another player the host (the host only).
    SetHost(u64),
}

/// The member who asked, and the room, after the command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberView {
    pub member: u64,
    pub name: String,
    pub role: MemberRole,
    pub host: bool,
    pub phase: Phase,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandRefused {
    #[error("the room is not running")]
    NoRoom,
    #[error("no member of this room has that resume token (join the room first)")]
    NotAMember,
    #[error("only the host may do that; the host is {host}")]
    NotHost { host: String },
    #[error("the room is already playing")]
    AlreadyPlaying,
    #[error("{0}")]
    Invalid(String),
    #[error("the room crashed: {0}")]
    Crashed(String),
}
