//! Write the browser part of [Lodge](https://example.invalid/lodge) apps in Rust.
//!
//! A client is a type implementing [`Client`], exported with
//! [`export_client!`]. The page keeps one value of it and calls its handlers
//! one at a time: init, keys, pointer, messages from the room, timers,
//! resizes, frame ticks, and the connection coming and going. Draw on the
//! text grid with [`terminal`], talk to the room with [`server`], schedule
//! events with [`timers`] and [`frames`], and write to the page's console
//! with [`log`].
//!
//! ```ignore
//! use lodge_client::{Client, Init, Message, terminal::{self, Rgb}};
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl Client for Hello {
//!     fn on_init(&mut self, init: &Init) {
//!         terminal::clear(Rgb::BLACK);
//!         terminal::write(0, 0, &format!("hello, {}", init.name), Rgb::WHITE, Rgb::BLACK);
//!     }
//! }
//!
//! lodge_client::export_client!(Hello);
//! ```

#[doc(hidden)]
pub mod bindings;
mod client;
mod event;
pub mod frames;
#[path = "../../rust/src/log.rs"]
pub mod log;
pub mod server;
pub mod terminal;
pub mod timers;

pub use client::Client;
#[doc(hidden)]
pub use client::dispatch as __dispatch;
pub use event::{Init, Key, Modifiers, Pointer, PointerKind};
pub use terminal::{Rgb, Size};

/// A message between this page and its room: WebSocket text or binary.
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
