//! Greet signed-in members by their account, and guests as guests.
use lodge_sdk::{Member, Room, identity, members};

#[derive(Default)]
struct Lounge;

impl Room for Lounge {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        let greeting = match identity::account(member.id) {
            Some(account) => format!("welcome back, {account}"),
            None => format!("welcome, {} (guest)", member.name),
        };
        members::send(member.id, &greeting.into());
        Ok(())
    }
}

lodge_sdk::export_room!(Lounge);
