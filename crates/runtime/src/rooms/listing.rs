//! What the room list shows of a live room: its phase, host, metadata and
//! who is in it, published by the room's actor after every event that
//! changed them, and read by the list without waiting on the room.

use super::{MemberRole, Metadata, RoomSettings};
use lodge_manifest::{LateJoin, Phase, RoomStart, RoomVisibility};
use std::sync::Mutex;

/// The most members a listing names; the counts cover everyone.
pub const MAX_LISTED_MEMBERS: usize = 100;

/// A member, as the room list shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListedMember {
    pub id: u64,
    pub name: String,
    pub role: MemberRole,
    /// False while their connection is down and their seat held.
    pub connected: bool,
}

/// A room's state as its actor last published it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Listing {
    pub phase: Phase,
    pub host: Option<u64>,
    pub metadata: Metadata,
    /// Everyone in the room, in join order.
    pub members: Vec<ListedMember>,
}

/// The published listing of one room.
#[derive(Default)]
pub(crate) struct Board(Mutex<Listing>);

impl Board {
    pub(crate) fn new(listing: Listing) -> Self {
        Self(Mutex::new(listing))
    }

    /// Replaces the listing; what changed (`members`, `phase`, `host`,
    /// `metadata`), nothing when nothing did.
    pub(crate) fn publish(&self, listing: Listing) -> Vec<&'static str> {
        let mut current = self.0.lock().expect("board lock");
        let mut what = Vec::new();
        if current.members != listing.members {
            what.push("members");
        }
        if current.phase != listing.phase {
            what.push("phase");
        }
        if current.host != listing.host {
            what.push("host");
        }
        if current.metadata != listing.metadata {
            what.push("metadata");
        }
        *current = listing;
        what
    }

    pub(crate) fn read(&self) -> Listing {
        self.0.lock().expect("board lock").clone()
    }
}

/// A live room, as others see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomInfo {
    pub name: String,
    pub version: String,
    /// Everyone in the room: players and spectators, connected or held.
    pub members: usize,
    pub players: usize,
    pub spectators: usize,
    /// When the room started (Unix ms); the API shows it as `started`.
    #[serde(skip)]
    pub started_ms: i64,
    pub visibility: RoomVisibility,
    /// `max-members` for this room: the app's, or less if its creator asked.
    pub max_members: u32,
    pub max_spectators: u32,
    /// Seats held by reservations nobody has claimed yet.
    pub seats_reserved: usize,
    pub phase: Phase,
    pub start: RoomStart,
    pub late_join: LateJoin,
    /// Whether joining takes a password.
    pub password: bool,
    /// The host's name.
    pub host: Option<String>,
    /// The host's member id.
    pub host_id: Option<u64>,
    pub metadata: Metadata,
    /// Who is in the room, in join order (the first [`MAX_LISTED_MEMBERS`]).
    pub roster: Vec<ListedMember>,
}

impl RoomInfo {
    pub(crate) fn new(
        name: String,
        version: String,
        started_ms: i64,
        settings: &RoomSettings,
        seats_reserved: usize,
        listing: Listing,
    ) -> Self {
        let count = |role| listing.members.iter().filter(|m| m.role == role).count();
        let (players, spectators) = (count(MemberRole::Player), count(MemberRole::Spectator));
        let host = listing.host.and_then(|id| {
            listing
                .members
                .iter()
                .find(|m| m.id == id)
                .map(|m| m.name.clone())
        });
        let mut roster = listing.members;
        roster.truncate(MAX_LISTED_MEMBERS);
        Self {
            name,
            version,
            members: players + spectators,
            players,
            spectators,
            started_ms,
            visibility: settings.visibility,
            max_members: settings.max_players,
            max_spectators: settings.max_spectators,
            seats_reserved,
            phase: listing.phase,
            start: settings.start,
            late_join: settings.late_join,
            password: settings.password.is_some(),
            host,
            host_id: listing.host,
            metadata: listing.metadata,
            roster,
        }
    }

    /// Whether a stranger could take a player's seat now (join-or-create).
    pub fn takes_players(&self) -> bool {
        self.phase == Phase::Lobby || self.late_join == LateJoin::Allow
    }
}
