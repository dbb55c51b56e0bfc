//! A lobby game: three players at least, and a welcome back after a drop.
use lodge_sdk::room::{self, Phase};
use lodge_sdk::{Member, MemberId, Message, Room, members};

#[derive(Default)]
struct Party;

impl Room for Party {
    fn on_phase(&mut self, phase: Phase) {
        // The host pressed Start: three players at least, or back to the lobby.
        if phase == Phase::Playing && room::seats().players < 3 {
            room::set_phase(Phase::Lobby);
            members::broadcast(&"a party needs three".into());
        }
    }

    fn on_rejoin(&mut self, member: &Member) {
        // A reloaded page starts from nothing: tell it where things stand.
        members::send(member.id, &"welcome back".into());
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        if room::phase() == Phase::Playing {
            members::broadcast(&message);
        } else {
            members::send(from, &"wait for the host to start".into());
        }
    }
}

lodge_sdk::export_room!(Party);
