//! The channel to this app's room on the server.

use crate::Message;
use crate::bindings::lodge::app::{server as host, types};

/// Sends `message` to the room. Dropped when there is no connection (the
/// client has already had [`Client::on_disconnected`](crate::Client::on_disconnected)).
pub fn send(message: &Message) {
    host::send(&message.into());
}

/// Sends a text message to the room.
pub fn send_text(text: &str) {
    host::send(&types::Payload::Text(text.to_owned()));
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
