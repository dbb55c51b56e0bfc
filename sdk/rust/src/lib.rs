//! Write [Lodge](https://example.invalid/lodge) apps in Rust.
//!
//! A room is a type implementing [`Room`], exported with [`export_room!`].
//! Lodge runs one instance of it per named room and calls it one event at a
//! time: joins, messages, leaves, timers, drops and rejoins, and the host
//! starting the game. From inside a handler, talk to members with
//! [`members`], run the lobby, host, spectators and metadata with [`room`],
//! keep data with [`kv`], schedule work with [`timers`], see the app's
//! other live rooms with [`presence`], tell signed-in members from guests
//! with [`identity`] and write to the app's log with [`log`].
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
mod handler;
pub mod identity;
pub mod kv;
pub mod log;
pub mod members;
mod message;
pub mod presence;
pub mod room;
pub mod timers;

pub use handler::Room;
pub use message::Message;

/// Identifies a member within its room; ids are never reused while the room runs.
pub type MemberId = u64;

/// Someone connected to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique within the room.
    pub id: MemberId,
    /// The name they joined with; [`identity`] tells whether they signed in
    /// with an account or are a guest with a display name.
    pub name: String,
}
