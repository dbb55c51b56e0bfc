//! The chat example's room: relays every message to everyone with the
//! sender's name, and replays the last 50 messages to whoever joins.
//!
//! The history lives in memory while the room runs and is saved to room kv
//! at most every quarter second (write-behind, with a timer), so a busy
//! room costs one kv write per interval rather than one per message.

use lodge_sdk::kv::{self, Scope};
use lodge_sdk::{Member, MemberId, Message, Room, members, timers};
use std::time::Duration;

const HISTORY: usize = 50;
const HISTORY_KEY: &str = "history";
const SAVE_TAG: &str = "save";
const SAVE_AFTER: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Chat {
    /// Lines in the order they were said, oldest first; saved to room kv.
    history: Option<Vec<String>>,
    /// A save is scheduled.
    save_pending: bool,
}

impl Chat {
    fn history(&mut self) -> &mut Vec<String> {
        self.history.get_or_insert_with(|| {
            kv::get_string(Scope::Room, HISTORY_KEY)
                .ok()
                .flatten()
                .map(|text| text.lines().map(str::to_owned).collect())
                .unwrap_or_default()
        })
    }

    fn say(&mut self, line: String) {
        members::broadcast(&Message::Text(line.clone()));
        let history = self.history();
        history.push(line);
        if history.len() > HISTORY {
            history.drain(..history.len() - HISTORY);
        }
        if !self.save_pending {
            self.save_pending = timers::set(SAVE_AFTER, SAVE_TAG).is_some();
            if !self.save_pending {
                self.save();
            }
        }
    }

    fn save(&mut self) {
        let joined = self.history().join("\n");
        if let Err(e) = kv::set(Scope::Room, HISTORY_KEY, joined) {
            lodge_sdk::log::warn(&format!("could not save the history: {e}"));
        }
    }
}

fn name_of(id: MemberId) -> String {
    members::list()
        .into_iter()
        .find(|m| m.id == id)
        .map(|m| m.name)
        .unwrap_or_else(|| format!("#{id}"))
}

impl Room for Chat {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        for line in self.history().clone() {
            members::send(member.id, &Message::Text(line));
        }
        self.say(format!("* {} joined", member.name));
        Ok(())
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        let Some(text) = message.as_text() else {
            return;
        };
        // One line per message, so the history stays line-oriented.
        let text = text.replace(['\r', '\n'], " ");
        if !text.trim().is_empty() {
            self.say(format!("{}: {}", name_of(from), text.trim()));
        }
    }

    fn on_leave(&mut self, member: &Member) {
        self.say(format!("* {} left", member.name));
    }

    fn on_timer(&mut self, tag: &str) {
        if tag == SAVE_TAG {
            self.save_pending = false;
            self.save();
        }
    }
}

lodge_sdk::export_room!(Chat);
