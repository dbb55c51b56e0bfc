//! A count in the room's kv scope, for the cluster tests. A joiner hears
//! `count N` (what the room's kv holds: after a move, what the last server
//! acknowledged); every message adds one and everyone hears `count N` once
//! the write is acknowledged, or `error E` when it was refused (a room that
//! moved away is fenced). `who` answers `member ID` to the asker.

use lodge_sdk::kv::{self, Scope};
use lodge_sdk::{Member, MemberId, Message, Room, members};

#[derive(Default)]
struct Counter;

impl Room for Counter {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        let count = kv::increment(Scope::Room, "count", 0).map_err(|e| e.to_string())?;
        members::send(member.id, &Message::Text(format!("count {count}")));
        Ok(())
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        if message.as_text() == Some("who") {
            members::send(from, &Message::Text(format!("member {from}")));
            return;
        }
        let said = match kv::increment(Scope::Room, "count", 1) {
            Ok(count) => format!("count {count}"),
            Err(e) => format!("error {e}"),
        };
        members::broadcast(&Message::Text(said));
    }
}

lodge_sdk::export_room!(Counter);
