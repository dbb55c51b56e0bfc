//! The word-race example's room: a party game for 3 to 8 players. Everyone
//! gathers in the lobby; the host starts; each of five rounds shows a word,
//! and the first player to type it scores. Spectators watch; after the last
//! round the room goes back to its lobby for another race.
//!
//! Protocol (JSON text messages):
//! - members send `{"guess":"word"}`;
//! - the room sends `{"type":"you","role":"player"|"spectator"}` to each
//!   member on joining (and on coming back), and `{"type":"state",...}`
//!   (phase, round, word, scores, host, notice) to everyone after every change.

use lodge_sdk::room::{self, Phase, Role};
use lodge_sdk::{Member, MemberId, Message, Room, members, timers};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Players a race needs, and takes.
const MIN_PLAYERS: usize = 3;
const ROUNDS: u32 = 5;
/// How long a round lasts when nobody types the word, and the pause after one.
const ROUND: Duration = Duration::from_secs(20);
const PAUSE: Duration = Duration::from_secs(3);
/// How long the final scores show before the room is back in its lobby.
const OVER: Duration = Duration::from_secs(10);

const WORDS: &[&str] = &[
    "lantern", "harbour", "pebble", "thunder", "meadow", "biscuit", "compass", "whistle",
    "glacier", "saffron", "marble", "orchard", "velvet", "canyon", "puzzle", "falcon", "juniper",
    "tundra", "quartz", "sparrow", "lagoon", "ember", "zephyr", "walnut",
];

#[derive(Serialize, Clone)]
struct Score {
    name: String,
    score: u32,
    away: bool,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
enum Stage {
    /// Waiting in the lobby for the host.
    #[default]
    Lobby,
    /// A word is up.
    Round,
    /// Between rounds.
    Pause,
    /// The race is over; back to the lobby soon.
    Over,
}

#[derive(Default)]
struct Race {
    /// Players, in join order: id, name, score, away.
    players: Vec<(MemberId, String, u32, bool)>,
    stage: Stage,
    round: u32,
    word: Option<String>,
    notice: String,
    /// Picks words: advanced by every round, seeded from the clock.
    seed: u64,
}

#[derive(Deserialize)]
struct Guess {
    guess: String,
}

impl Race {
    fn state(&self) -> String {
        let scores: Vec<Score> = self
            .players
            .iter()
            .map(|(_, name, score, away)| Score {
                name: name.clone(),
                score: *score,
                away: *away,
            })
            .collect();
        let host = room::host().and_then(|h| self.players.iter().find(|p| p.0 == h));
        serde_json::json!({
            "type": "state",
            "stage": self.stage,
            "round": self.round,
            "rounds": ROUNDS,
            "word": self.word,
            "scores": scores,
            "host": host.map(|p| p.1.clone()),
            "notice": self.notice,
        })
        .to_string()
    }

    fn announce(&self) {
        members::broadcast(&Message::Text(self.state()));
    }

    fn tell_role(id: MemberId) {
        let role = match room::role(id) {
            Some(Role::Spectator) => "spectator",
            _ => "player",
        };
        members::send(
            id,
            &Message::Text(format!(r#"{{"type":"you","role":"{role}"}}"#)),
        );
    }

    fn next_word(&mut self) -> String {
        // xorshift: enough to vary the words from race to race.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        WORDS[(self.seed % WORDS.len() as u64) as usize].to_owned()
    }

    fn start_round(&mut self) {
        self.round += 1;
        self.stage = Stage::Round;
        self.word = Some(self.next_word());
        self.notice.clear();
        let _ = room::set_metadata("round", Some(&format!("{}/{ROUNDS}", self.round)));
        timers::set(ROUND, &format!("round-{}", self.round));
    }

    fn end_round(&mut self, winner: Option<usize>) {
        let word = self.word.take().unwrap_or_default();
        self.notice = match winner {
            Some(i) => {
                self.players[i].2 += 1;
                format!("{} typed \"{word}\" first!", self.players[i].1)
            }
            None => format!("Nobody typed \"{word}\" in time."),
        };
        if self.round >= ROUNDS {
            self.stage = Stage::Over;
            let best = self.players.iter().map(|p| p.2).max().unwrap_or(0);
            let winners: Vec<&str> = self
                .players
                .iter()
                .filter(|p| p.2 == best)
                .map(|p| p.1.as_str())
                .collect();
            self.notice = format!(
                "{} The race goes to {}!",
                self.notice,
                winners.join(" and ")
            );
            timers::set(OVER, "over");
        } else {
            self.stage = Stage::Pause;
            timers::set(PAUSE, "pause");
        }
    }
}

impl Room for Race {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        if self.seed == 0 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            self.seed = now | 1;
        }
        if room::role(member.id) == Some(Role::Player) {
            self.players
                .push((member.id, member.name.clone(), 0, false));
        }
        Self::tell_role(member.id);
        self.announce();
        Ok(())
    }

    fn on_phase(&mut self, phase: Phase) {
        if phase != Phase::Playing {
            return;
        }
        if self.players.len() < MIN_PLAYERS {
            room::set_phase(Phase::Lobby);
            self.notice = format!(
                "A race needs at least {MIN_PLAYERS} players; invite {} more.",
                MIN_PLAYERS - self.players.len()
            );
            return self.announce();
        }
        for player in &mut self.players {
            player.2 = 0;
        }
        self.round = 0;
        self.start_round();
        self.announce();
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        let Some(Ok(Guess { guess })) = message.as_text().map(serde_json::from_str::<Guess>) else {
            return;
        };
        if self.stage != Stage::Round {
            return;
        }
        let Some(index) = self.players.iter().position(|p| p.0 == from) else {
            return; // spectators cheer, they don't race
        };
        if self.word.as_deref() == Some(guess.trim().to_lowercase().as_str()) {
            self.end_round(Some(index));
            self.announce();
        }
    }

    fn on_timer(&mut self, tag: &str) {
        match tag {
            t if self.stage == Stage::Round && t == format!("round-{}", self.round) => {
                self.end_round(None);
            }
            "pause" if self.stage == Stage::Pause => self.start_round(),
            "over" if self.stage == Stage::Over => {
                self.stage = Stage::Lobby;
                self.round = 0;
                let _ = room::set_metadata("round", None);
                room::set_phase(Phase::Lobby);
            }
            _ => return,
        }
        self.announce();
    }

    fn on_drop(&mut self, member: &Member) {
        if let Some(player) = self.players.iter_mut().find(|p| p.0 == member.id) {
            player.3 = true;
            self.announce();
        }
    }

    fn on_rejoin(&mut self, member: &Member) {
        if let Some(player) = self.players.iter_mut().find(|p| p.0 == member.id) {
            player.3 = false;
        }
        Self::tell_role(member.id);
        self.announce();
    }

    fn on_leave(&mut self, member: &Member) {
        self.players.retain(|p| p.0 != member.id);
        if self.stage != Stage::Lobby && self.players.len() < 2 {
            self.notice = "Too few racers left: back to the lobby.".into();
            self.stage = Stage::Lobby;
            self.word = None;
            let _ = room::set_metadata("round", None);
            room::set_phase(Phase::Lobby);
        }
        self.announce();
    }
}

lodge_sdk::export_room!(Race);
