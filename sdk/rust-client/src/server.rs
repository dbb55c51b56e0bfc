//! The channel to this app's room on the server.

use crate::Message;
use crate::bindings::lodge::app::{server as host, types};

/// Sends `message` to the room. While the connection is opening it waits
/// (up to 256 messages); with no connection it is dropped (the client has
/// already had [`Client::on_disconnected`](crate::Client::on_disconnected)).
pub fn send(message: &Message) {
    host::send(&message.into());
}

/// Sends a text message to the room.
pub fn send_text(text: &str) {
    host::send(&types::Payload::Text(text.to_owned()));
}
