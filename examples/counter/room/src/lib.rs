//! The counter example's room: one number in app kv, shared by every room.
//! Any message increments it ("-" decrements); everyone sees each change.

use lodge_sdk::kv::{self, Scope};
use lodge_sdk::{Member, MemberId, Message, Room, members};

const KEY: &str = "count";

#[derive(Default)]
struct Counter;

fn announce(value: i64) {
    members::broadcast(&Message::Text(value.to_string()));
}

impl Room for Counter {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        let value = kv::increment(Scope::App, KEY, 0).map_err(|e| e.to_string())?;
        members::send(member.id, &Message::Text(value.to_string()));
        Ok(())
    }

    fn on_message(&mut self, _from: MemberId, message: Message) {
        let delta = if message.as_text() == Some("-") {
            -1
        } else {
            1
        };
        match kv::increment(Scope::App, KEY, delta) {
            Ok(value) => announce(value),
            Err(e) => lodge_sdk::log::error(&format!("could not count: {e}")),
        }
    }
}

lodge_sdk::export_room!(Counter);
