//! A room of `lodge:app/room@0.2.0`, built from the frozen WIT beside it
//! (`wit/`) with raw bindings as any toolchain would make them: it exports
//! `room-events@0.1.0`. It greets each member by account (`identity`), or
//! as a guest, echoes messages to their sender, and announces leaves, so a
//! test can check that a newer server still runs it unchanged.

wit_bindgen::generate!({
    path: ["wit/v0.1", "wit/v0.2"],
    world: "lodge:app/room@0.2.0",
    generate_all,
});

use exports::lodge::app0_1_0::room_events::Guest;
use lodge::app0_1_0::members;
use lodge::app0_1_0::types::{Member, Payload};
use lodge::app0_2_0::identity;

struct Room;

impl Guest for Room {
    fn on_join(member: Member) -> Result<(), String> {
        let greeting = match identity::account(member.id) {
            Some(account) => format!("v0.2 welcomes {account}"),
            None => format!("v0.2 welcomes {} (guest)", member.name),
        };
        members::send(member.id, &Payload::Text(greeting));
        Ok(())
    }

    fn on_message(sender: u64, message: Payload) {
        members::send(sender, &message);
    }

    fn on_leave(member: Member) {
        members::broadcast(&Payload::Text(format!("{} left", member.name)), &[]);
    }

    fn on_timer(_tag: String) {}
}

export!(Room);
