//! Reports what the room sees and does what members ask, so tests can
//! check lobbies, hosts, spectators, metadata and reconnection from the
//! outside. Each event is broadcast as one line (`join ann player lobby`,
//! `drop ann`, `rejoin ann`, `leave ann`, `phase playing`) and kept in
//! order (`history`). Members' commands:
//!
//! - `go` / `lobby`: set the phase (the host only for `go`);
//! - `promote ID` / `demote ID`: change a member's role;
//! - `meta KEY VALUE`: set a metadata key;
//! - `tell ID TEXT`: send TEXT to member ID (queued while they are away);
//! - `whoami`: the sender's role, whether they are host, and the phase;
//! - `seats`, `history`: what they say.

use lodge_sdk::room::{self, Phase, Role};
use lodge_sdk::{Member, MemberId, Message, Room, members};

#[derive(Default)]
struct Probe {
    history: Vec<String>,
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Lobby => "lobby",
        Phase::Playing => "playing",
    }
}

fn role_name(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Player) => "player",
        Some(Role::Spectator) => "spectator",
        None => "none",
    }
}

impl Probe {
    fn event(&mut self, line: String) {
        members::broadcast(&line.clone().into());
        self.history.push(line);
    }
}

impl Room for Probe {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        let line = format!(
            "join {} {} {}",
            member.name,
            role_name(room::role(member.id)),
            phase_name(room::phase())
        );
        self.event(line);
        Ok(())
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        let text = message.as_text().unwrap_or_default().to_owned();
        let mut words = text.splitn(3, ' ');
        let reply = match (words.next(), words.next(), words.next()) {
            (Some("go"), _, _) if room::host() == Some(from) => {
                room::set_phase(Phase::Playing);
                "ok".to_owned()
            }
            (Some("go"), _, _) => "not host".to_owned(),
            (Some("lobby"), _, _) => {
                room::set_phase(Phase::Lobby);
                "ok".to_owned()
            }
            (Some(verb @ ("promote" | "demote")), Some(id), _) => {
                let role = if verb == "promote" {
                    Role::Player
                } else {
                    Role::Spectator
                };
                match id.parse() {
                    Ok(id) => match room::set_role(id, role) {
                        Ok(()) => "ok".to_owned(),
                        Err(e) => format!("error: {e}"),
                    },
                    Err(_) => "error: not an id".to_owned(),
                }
            }
            (Some("meta"), Some(key), value) => match room::set_metadata(key, value) {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("error: {e}"),
            },
            (Some("tell"), Some(id), Some(text)) => {
                if let Ok(id) = id.parse() {
                    members::send(id, &text.into());
                }
                "ok".to_owned()
            }
            (Some("whoami"), _, _) => format!(
                "#{from} {} host={} {}",
                role_name(room::role(from)),
                room::host() == Some(from),
                phase_name(room::phase())
            ),
            (Some("seats"), _, _) => {
                let s = room::seats();
                format!(
                    "players {}/{} reserved {} spectators {}/{}",
                    s.players, s.max_players, s.reserved, s.spectators, s.max_spectators
                )
            }
            (Some("history"), _, _) => format!("history: {}", self.history.join(" | ")),
            _ => format!("echo: {text}"),
        };
        members::send(from, &reply.into());
    }

    fn on_leave(&mut self, member: &Member) {
        self.event(format!("leave {}", member.name));
    }

    fn on_drop(&mut self, member: &Member) {
        self.event(format!("drop {}", member.name));
    }

    fn on_rejoin(&mut self, member: &Member) {
        self.event(format!("rejoin {}", member.name));
    }

    fn on_phase(&mut self, phase: Phase) {
        self.event(format!("phase {}", phase_name(phase)));
    }
}

lodge_sdk::export_room!(Probe);
