//! `presence`: the app's live rooms, read-only, as a room may show them.
//! Only publicly listed rooms are named; the totals count every room.

use super::{GuestState, InstanceContext};
use crate::bindings::lodge::app::presence;
use crate::rooms::Directory;
use lodge_manifest::RoomVisibility;
use std::any::Any;
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// The most rooms one `public-rooms` call returns.
const MAX_LISTED: u32 = 1000;

/// One room's view of its app's live rooms.
pub(crate) struct Presence {
    app: String,
    directory: Arc<dyn Directory>,
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    let room = ctx
        .room
        .as_ref()
        .expect("presence is granted to room parts only");
    Box::new(Presence {
        app: ctx.app.to_owned(),
        directory: room.directory.clone(),
    })
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    presence::add_to_linker::<GuestState, HasSelf<Presence>>(linker, |s| s.get_mut::<Presence>())
}

impl presence::Host for Presence {
    async fn public_rooms(&mut self, limit: u32) -> Vec<presence::RoomSummary> {
        let mut rooms: Vec<_> = self
            .directory
            .list(&self.app)
            .into_iter()
            .filter(|r| r.visibility == RoomVisibility::Public)
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms.truncate(limit.min(MAX_LISTED) as usize);
        rooms
            .into_iter()
            .map(|r| presence::RoomSummary {
                name: r.name,
                members: u32::try_from(r.members).unwrap_or(u32::MAX),
                version: r.version,
            })
            .collect()
    }

    async fn totals(&mut self) -> presence::RoomTotals {
        let rooms = self.directory.list(&self.app);
        let members: usize = rooms.iter().map(|r| r.members).sum();
        presence::RoomTotals {
            rooms: u32::try_from(rooms.len()).unwrap_or(u32::MAX),
            members: u32::try_from(members).unwrap_or(u32::MAX),
        }
    }
}
