//! Echo every message to everyone, and count messages in room kv.
use lodge_sdk::kv::{self, Scope};
use lodge_sdk::{Member, MemberId, Message, Room, log, members};

#[derive(Default)]
struct Echo;

impl Room for Echo {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        if member.name == "nobody" {
            return Err("pick a name".into());
        }
        members::broadcast(&format!("{} is here", member.name).into());
        Ok(())
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        let count = kv::increment(Scope::Room, "messages", 1).unwrap_or(-1);
        log::info(&format!("message {count} from {from}"));
        members::broadcast(&message);
    }
}

lodge_sdk::export_room!(Echo);
