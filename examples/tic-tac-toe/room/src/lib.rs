//! The tic-tac-toe example's room: two players take turns on one board.

use lodge_sdk::{Member, MemberId, Message, Room, members};

#[derive(Default)]
struct TicTacToe {
    players: Vec<MemberId>,
}

impl Room for TicTacToe {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        if self.players.len() >= 2 {
            return Err("this game already has two players".into());
        }
        self.players.push(member.id);
        members::broadcast(&Message::Text(format!("{} joined", member.name)));
        Ok(())
    }

    fn on_leave(&mut self, member: &Member) {
        self.players.retain(|p| *p != member.id);
    }
}

lodge_sdk::export_room!(TicTacToe);
