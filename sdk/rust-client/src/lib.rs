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
#[path = "../../rust/src/message.rs"]
mod message;
pub mod server;
pub mod terminal;
pub mod timers;

pub use client::Client;
#[doc(hidden)]
pub use client::dispatch as __dispatch;
pub use event::{Init, Key, Modifiers, Pointer, PointerKind};
pub use message::Message;
pub use terminal::{Rgb, Size};
