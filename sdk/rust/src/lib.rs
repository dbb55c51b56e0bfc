//! Write [Lodge](https://example.invalid/lodge) apps in Rust.
//!
//! A room is a type implementing [`Room`], exported with [`export_room!`].
//! Lodge runs one instance of it per named room and calls it one event at a
//! time: joins, messages, leaves and timers. From inside a handler, talk to
//! members with [`members`], keep data with [`kv`], schedule work with
//! [`timers`] and write to the app's log with [`log`].
//!
//! ```ignore
//! use lodge_sdk::{Member, MemberId, Message, Room, members};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Room for Echo {
//!     fn on_message(&mut self, from: MemberId, message: Message) {
//!         members::send(from, &message);
//!     }
//! }
//!
//! lodge_sdk::export_room!(Echo);
//! ```

#[doc(hidden)]
pub mod bindings;
pub mod kv;
pub mod log;
pub mod members;
mod room;
pub mod timers;

pub use room::Room;

/// Identifies a member within its room; ids are never reused while the room runs.
pub type MemberId = u64;

/// Someone connected to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique within the room.
    pub id: MemberId,
    /// The display name they joined with.
    pub name: String,
}

/// A message between a member and the room: WebSocket text or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Message {
    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The bytes of either kind of message.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}
