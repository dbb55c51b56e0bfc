//! Frame events for a terminal client's animation, delivered to
//! [`Client::on_frame`](crate::Client::on_frame) (and by default
//! [`Client::on_tick`](crate::Client::on_tick)). A `screen` client gets a
//! frame event every display frame without asking.

use crate::bindings::lodge::app::frames as host;

/// Starts (`true`) or stops (`false`) a frame event on every display frame.
pub fn request_ticks(on: bool) {
    host::request_ticks(on);
}
