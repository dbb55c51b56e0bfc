//! [`Message`]: what members, pages and rooms send each other, and its
//! conversions to and from the WIT `payload`. Shared, as a source file, by
//! the room and client SDKs (each has the WIT types at `crate::bindings`).

use crate::bindings::lodge::app::types;

/// A message between a member (or a page) and the room: WebSocket text or binary.
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

impl From<types::Payload> for Message {
    fn from(p: types::Payload) -> Self {
        match p {
            types::Payload::Text(text) => Message::Text(text),
            types::Payload::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

impl From<&Message> for types::Payload {
    fn from(m: &Message) -> Self {
        match m {
            Message::Text(text) => types::Payload::Text(text.clone()),
            Message::Binary(bytes) => types::Payload::Binary(bytes.clone()),
        }
    }
}
