//! The word-race example's client: the lobby (who is here, who hosts), then
//! each round's word, the line you are typing, and the scores. Type the
//! word and press Enter; the first to get it scores.

use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Message, Size, server};
use serde::Deserialize;

const BG: Rgb = Rgb::new(22, 24, 32);
const FG: Rgb = Rgb::new(228, 230, 238);
const DIM: Rgb = Rgb::new(130, 136, 150);
const WORD: Rgb = Rgb::new(250, 210, 90);
const GOOD: Rgb = Rgb::new(120, 220, 140);
const INPUT_BG: Rgb = Rgb::new(44, 48, 62);
const MAX_INPUT: usize = 40;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum FromRoom {
    You { role: String },
    State(State),
}

#[derive(Deserialize, Default)]
struct State {
    /// "lobby", "round", "pause" or "over".
    stage: String,
    round: u32,
    rounds: u32,
    word: Option<String>,
    scores: Vec<Score>,
    host: Option<String>,
    notice: String,
}

#[derive(Deserialize)]
struct Score {
    name: String,
    score: u32,
    away: bool,
}

#[derive(Default)]
struct WordRace {
    me: String,
    spectator: bool,
    state: State,
    input: String,
    connected: bool,
    notice: String,
}

impl WordRace {
    fn headline(&self) -> String {
        let s = &self.state;
        match s.stage.as_str() {
            "round" => format!("Round {} of {}: type this word", s.round, s.rounds),
            "pause" => format!("Round {} of {} done", s.round, s.rounds),
            "over" => "The race is over".into(),
            _ => match &s.host {
                Some(host) if *host == self.me => {
                    "You host: press Start when 3-8 racers are here".into()
                }
                Some(host) => format!("Waiting for {host} to start the race"),
                None => "Waiting for racers".into(),
            },
        }
    }

    fn draw(&self) {
        let Size { cols, rows } = terminal::size();
        terminal::clear(BG);
        terminal::write_centered(0, "word race", FG, BG);
        let role = if self.spectator { "watching" } else { "racing" };
        terminal::write_centered(1, &format!("{} ({role})", self.me), DIM, BG);
        terminal::write_centered(3, &self.headline(), FG, BG);
        if let Some(word) = &self.state.word {
            let spaced: String = word.to_uppercase().chars().flat_map(|c| [c, ' ']).collect();
            terminal::write_centered(5, spaced.trim_end(), WORD, BG);
        }
        let notice = if self.notice.is_empty() {
            &self.state.notice
        } else {
            &self.notice
        };
        terminal::write_centered(7, notice, GOOD, BG);
        for (i, s) in self.state.scores.iter().enumerate() {
            let away = if s.away { "  (reconnecting…)" } else { "" };
            let host = if self.state.host.as_deref() == Some(s.name.as_str()) {
                " ★"
            } else {
                ""
            };
            let line = format!("{:>3}  {}{host}{away}", s.score, s.name);
            let row = 9 + i as u16;
            if row + 3 < rows {
                terminal::write(cols.saturating_sub(30) / 2, row, &line, FG, BG);
            }
        }
        if !self.spectator {
            let y = rows.saturating_sub(3);
            let width = (MAX_INPUT as u16 + 4).min(cols);
            let left = cols.saturating_sub(width) / 2;
            terminal::fill(left, y, width, 1, INPUT_BG);
            terminal::write(left + 1, y, &format!("> {}_", self.input), FG, INPUT_BG);
        }
        let help = if self.connected {
            "type the word, Enter to send"
        } else {
            "not connected"
        };
        terminal::write_centered(rows.saturating_sub(1), help, DIM, BG);
    }
}

impl Client for WordRace {
    fn on_init(&mut self, init: &Init) {
        self.me = init.name.clone();
        self.state.stage = "lobby".into();
        self.draw();
    }

    fn on_key(&mut self, key: &Key) {
        if self.spectator {
            return;
        }
        match key.key.as_str() {
            "Enter" => {
                let guess = std::mem::take(&mut self.input);
                if !guess.trim().is_empty() {
                    server::send_text(&serde_json::json!({ "guess": guess }).to_string());
                }
            }
            "Backspace" => {
                self.input.pop();
            }
            "Escape" => self.input.clear(),
            _ => match key.char() {
                Some(c) if self.input.chars().count() < MAX_INPUT && !c.is_control() => {
                    self.input.push(c)
                }
                _ => return,
            },
        }
        self.draw();
    }

    fn on_message(&mut self, message: Message) {
        let Some(text) = message.as_text() else {
            return;
        };
        match serde_json::from_str::<FromRoom>(text) {
            Ok(FromRoom::You { role }) => self.spectator = role == "spectator",
            Ok(FromRoom::State(state)) => {
                if state.round != self.state.round {
                    self.input.clear();
                }
                self.notice.clear();
                self.state = state;
            }
            Err(e) => lodge_client::log::warn(&format!("unexpected message {text:?}: {e}")),
        }
        self.draw();
    }

    fn on_resize(&mut self, _size: Size) {
        self.draw();
    }

    fn on_connected(&mut self) {
        self.connected = true;
        self.draw();
    }

    fn on_disconnected(&mut self, reason: &str) {
        self.connected = false;
        self.notice = reason.to_owned();
        self.draw();
    }
}

lodge_client::export_client!(WordRace);
