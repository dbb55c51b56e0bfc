//! Write the browser part of [Lodge](https://example.invalid/lodge) apps in Rust.
//!
//! A client is a type implementing [`Client`], exported with
//! [`export_client!`]. The page keeps one value of it and calls its handlers
//! one at a time: init, keys, pointer, messages from the room, timers,
//! resizes, display frames, and the connection coming and going.
//!
//! A client draws on one kind of graphics, as its manifest declares: the
//! text grid ([`terminal`], the default) or a pixel [`screen`] (declare
//! `screen`), where it owns a [`screen::Framebuffer`] to draw on with
//! lines, rectangles, circles, sprites and a built-in font, and presents it
//! every [`Frame`]. A frame carries the [`input`] snapshot (gamepads, keys
//! held, pointer). [`audio`] plays synthesized notes and sampled sounds,
//! [`assets`] reads the files bundled with the app, [`server`] talks to the
//! room, [`timers`] and [`frames`] schedule events, and [`log`] writes to the
//! page's console.
//!
//! ```ignore
//! use lodge_client::{Client, Frame, screen::{Framebuffer, colours}};
//!
//! struct Hello { fb: Framebuffer }
//!
//! impl Default for Hello {
//!     fn default() -> Self { Hello { fb: Framebuffer::rgba(160, 90) } }
//! }
//!
//! impl Client for Hello {
//!     fn on_frame(&mut self, frame: &Frame) {
//!         self.fb.clear(colours::NAVY);
//!         self.fb.text(4, 4, &format!("{:.0} s", frame.time_ms / 1000.0), colours::WHITE);
//!         self.fb.present().expect("160×90 RGBA fits the screen");
//!     }
//! }
//!
//! lodge_client::export_client!(Hello);
//! ```
//!
//! The drawing code, the input types and the note builders are plain Rust
//! and build on any target (their tests run on the host); what talks to the
//! page exists only on `wasm32`.

pub mod assets;
pub mod audio;
mod event;
pub mod input;
pub mod screen;

pub use event::{Frame, Init, Key, Modifiers, Pointer, PointerKind};

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
pub mod frames;
#[cfg(target_arch = "wasm32")]
#[path = "../../rust/src/log.rs"]
pub mod log;
#[cfg(target_arch = "wasm32")]
#[path = "../../rust/src/message.rs"]
mod message;
#[cfg(target_arch = "wasm32")]
pub mod server;
#[cfg(target_arch = "wasm32")]
pub mod terminal;
#[cfg(target_arch = "wasm32")]
pub mod timers;

#[cfg(target_arch = "wasm32")]
pub use client::Client;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub use client::dispatch as __dispatch;
#[cfg(target_arch = "wasm32")]
pub use message::Message;
#[cfg(target_arch = "wasm32")]
pub use terminal::{Rgb, Size};
