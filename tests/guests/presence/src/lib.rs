//! Answers the message `rooms` with the app's live rooms as `presence` sees
//! them: `totals R M; public NAME:MEMBERS,...`.

use lodge_sdk::{MemberId, Message, Room, members, presence};

#[derive(Default)]
struct Lobby;

impl Room for Lobby {
    fn on_message(&mut self, from: MemberId, message: Message) {
        if message.as_text() != Some("rooms") {
            return;
        }
        let totals = presence::totals();
        let public: Vec<String> = presence::public_rooms(100)
            .into_iter()
            .map(|r| format!("{}:{}", r.name, r.members))
            .collect();
        let answer = format!(
            "totals {} {}; public {}",
            totals.rooms,
            totals.members,
            public.join(",")
        );
        members::send(from, &Message::Text(answer));
    }
}

lodge_sdk::export_room!(Lobby);
