//! The tic-tac-toe example's room: two players take turns on one board,
//! after the host starts the game from the lobby; anyone else watches.
//!
//! Protocol (text messages):
//! - players send a cell number `0`-`8` (row by row) to play, or `again`
//!   for a new game once one has ended;
//! - the room sends `{"type":"you","mark":"X"}` to each player on joining
//!   (and on coming back), `{"type":"you","mark":null}` to a spectator,
//!   `{"type":"state",...}` to everyone after every change, and
//!   `{"type":"error","message":...}` to a player whose move was refused.
//!
//! The room waits in its lobby (`[room].start = "lobby"`) until the host
//! starts it with two players; whoever joins after that watches
//! (`late-join = "spectate"`). A player whose connection drops keeps their
//! mark for `reconnect-seconds` (the state says they are away), and forfeits
//! only if they don't come back.
//!
//! Every win is counted in app kv (`wins/NAME`, and `games` for every game
//! that ended), which the app's http part serves as a leaderboard.

use lodge_sdk::kv::{self, Scope};
use lodge_sdk::room::{self, Phase, Role};
use lodge_sdk::{Member, MemberId, Message, Room, members};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    X,
    O,
}

impl Mark {
    fn as_str(self) -> &'static str {
        match self {
            Mark::X => "X",
            Mark::O => "O",
        }
    }
    fn other(self) -> Mark {
        match self {
            Mark::X => Mark::O,
            Mark::O => Mark::X,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Status {
    /// In the lobby, for the host to start.
    Lobby,
    Waiting,
    Playing,
    Won {
        winner: Mark,
        forfeit: bool,
    },
    Draw,
}

struct Player {
    id: MemberId,
    name: String,
    mark: Mark,
    /// Their connection dropped; their seat is held for them.
    away: bool,
}

struct TicTacToe {
    players: Vec<Player>,
    board: [Option<Mark>; 9],
    turn: Mark,
    status: Status,
}

impl Default for TicTacToe {
    fn default() -> Self {
        Self {
            players: Vec::new(),
            board: [None; 9],
            turn: Mark::X,
            status: Status::Lobby,
        }
    }
}

const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl TicTacToe {
    fn player(&self, id: MemberId) -> Option<&Player> {
        self.players.iter().find(|p| p.id == id)
    }

    fn name_of(&self, mark: Mark) -> Option<&str> {
        self.players
            .iter()
            .find(|p| p.mark == mark)
            .map(|p| p.name.as_str())
    }

    fn state(&self) -> String {
        let board: String = self
            .board
            .iter()
            .map(|c| c.map_or(".", Mark::as_str))
            .collect();
        let (status, winner, forfeit) = match &self.status {
            Status::Lobby => ("lobby", None, false),
            Status::Waiting => ("waiting", None, false),
            Status::Playing => ("playing", None, false),
            Status::Won { winner, forfeit } => ("won", Some(*winner), *forfeit),
            Status::Draw => ("draw", None, false),
        };
        let name = |m: Mark| self.name_of(m).map_or("null".into(), json_str);
        let away: Vec<String> = self
            .players
            .iter()
            .filter(|p| p.away)
            .map(|p| json_str(p.mark.as_str()))
            .collect();
        format!(
            r#"{{"type":"state","board":"{board}","turn":"{}","status":"{status}","winner":{},"forfeit":{forfeit},"x":{},"o":{},"away":[{}]}}"#,
            self.turn.as_str(),
            winner.map_or("null".into(), |w| json_str(w.as_str())),
            name(Mark::X),
            name(Mark::O),
            away.join(","),
        )
    }

    /// Counts a finished game, and the winner's win, in app kv.
    fn record(&self, winner: Option<Mark>) {
        let mut keys = vec!["games".to_owned()];
        if let Some(name) = winner.and_then(|w| self.name_of(w)) {
            keys.push(format!("wins/{name}"));
        }
        for key in keys {
            if let Err(e) = kv::increment(Scope::App, &key, 1) {
                lodge_sdk::log::warn(&format!("could not record {key}: {e}"));
            }
        }
    }

    fn announce(&self) {
        members::broadcast(&Message::Text(self.state()));
    }

    fn refuse(id: MemberId, why: &str) {
        members::send(
            id,
            &Message::Text(format!(r#"{{"type":"error","message":{}}}"#, json_str(why))),
        );
    }

    fn new_game(&mut self) {
        self.board = [None; 9];
        self.turn = Mark::X;
        self.status = if room::phase() == Phase::Lobby {
            Status::Lobby
        } else if self.players.len() == 2 {
            Status::Playing
        } else {
            Status::Waiting
        };
    }

    /// Tells `id` who they are here: their mark, or none (watching).
    fn tell_mark(&self, id: MemberId) {
        let mark = self
            .player(id)
            .map_or("null".to_owned(), |p| json_str(p.mark.as_str()));
        members::send(
            id,
            &Message::Text(format!(r#"{{"type":"you","mark":{mark}}}"#)),
        );
    }

    fn play(&mut self, id: MemberId, cell: usize) {
        let Some(mark) = self.player(id).map(|p| p.mark) else {
            return;
        };
        if self.status != Status::Playing {
            return Self::refuse(id, "the game is not running");
        }
        if mark != self.turn {
            return Self::refuse(id, "it is not your turn");
        }
        if self.board[cell].is_some() {
            return Self::refuse(id, "that cell is taken");
        }
        self.board[cell] = Some(mark);
        if LINES
            .iter()
            .any(|line| line.iter().all(|&i| self.board[i] == Some(mark)))
        {
            self.status = Status::Won {
                winner: mark,
                forfeit: false,
            };
            self.record(Some(mark));
        } else if self.board.iter().all(Option::is_some) {
            self.status = Status::Draw;
            self.record(None);
        } else {
            self.turn = mark.other();
        }
        self.announce();
    }
}

impl Room for TicTacToe {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        if room::role(member.id) == Some(Role::Player) && self.players.len() < 2 {
            let mark = match self.players.first() {
                Some(first) => first.mark.other(),
                None => Mark::X,
            };
            self.players.push(Player {
                id: member.id,
                name: member.name.clone(),
                mark,
                away: false,
            });
            if self.players.len() == 2 && room::phase() == Phase::Playing {
                self.new_game();
            }
        } else if room::role(member.id) == Some(Role::Player) {
            // Two players already (one of them away): this one watches.
            let _ = room::set_role(member.id, Role::Spectator);
        }
        self.tell_mark(member.id);
        self.announce();
        Ok(())
    }

    fn on_phase(&mut self, phase: Phase) {
        if phase != Phase::Playing {
            return;
        }
        if self.players.len() < 2 {
            // Started too early: back to the lobby until someone joins.
            room::set_phase(Phase::Lobby);
            let host = room::host();
            if let Some(host) = host {
                Self::refuse(host, "tic-tac-toe needs two players: invite someone first");
            }
            return;
        }
        self.new_game();
        self.announce();
    }

    fn on_drop(&mut self, member: &Member) {
        if let Some(player) = self.players.iter_mut().find(|p| p.id == member.id) {
            player.away = true;
            self.announce();
        }
    }

    fn on_rejoin(&mut self, member: &Member) {
        if let Some(player) = self.players.iter_mut().find(|p| p.id == member.id) {
            player.away = false;
        }
        // A reloaded page starts from nothing: who it is, then the board.
        self.tell_mark(member.id);
        self.announce();
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        match message.as_text().map(str::trim) {
            Some("again") => {
                if matches!(self.status, Status::Won { .. } | Status::Draw) {
                    self.new_game();
                    self.announce();
                }
            }
            Some(text) => match text.parse::<usize>() {
                Ok(cell) if cell < 9 => self.play(from, cell),
                _ => Self::refuse(from, "send a cell number from 0 to 8, or `again`"),
            },
            None => Self::refuse(from, "send text"),
        }
    }

    fn on_leave(&mut self, member: &Member) {
        let Some(index) = self.players.iter().position(|p| p.id == member.id) else {
            // A spectator: nothing changes for the players.
            return;
        };
        if self.status == Status::Playing {
            let winner = self.players[index].mark.other();
            self.status = Status::Won {
                winner,
                forfeit: true,
            };
            self.record(Some(winner));
        } else if self.status == Status::Waiting || self.status == Status::Lobby {
            self.status = if room::phase() == Phase::Lobby {
                Status::Lobby
            } else {
                Status::Waiting
            };
        }
        self.players.remove(index);
        self.announce();
    }
}

lodge_sdk::export_room!(TicTacToe);
