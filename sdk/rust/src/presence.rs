//! The app's live rooms, as a room may show them ("3 other tables are playing").
//!
//! Needs `capabilities = ["presence"]` in the manifest's `[room]` table.

use crate::bindings::lodge::app::presence as host;

/// A live room of the app that is listed publicly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    /// The room's name: what joining it takes.
    pub name: String,
    /// Members connected now.
    pub members: u32,
    /// The app version the room runs.
    pub version: String,
}

/// How many rooms of the app are live, listed or not, and their members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Live rooms of the app.
    pub rooms: u32,
    /// Members connected to them.
    pub members: u32,
}

/// The app's publicly listed live rooms (`[room].visibility = "public"`),
/// by name, at most `limit` (and at most 1000). Unlisted rooms never appear.
pub fn public_rooms(limit: u32) -> Vec<RoomSummary> {
    host::public_rooms(limit)
        .into_iter()
        .map(|r| RoomSummary {
            name: r.name,
            members: r.members,
            version: r.version,
        })
        .collect()
}

/// Counts over every live room of the app, this one included.
pub fn totals() -> Totals {
    let t = host::totals();
    Totals {
        rooms: t.rooms,
        members: t.members,
    }
}
