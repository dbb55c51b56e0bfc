//! Per-frame ticks for animation, delivered to [`Client::on_tick`](crate::Client::on_tick).

use crate::bindings::lodge::app::frames as host;

/// Starts (`true`) or stops (`false`) a tick on every display frame.
pub fn request_ticks(on: bool) {
    host::request_ticks(on);
}
