//! Timers, delivered to [`Client::on_timer`](crate::Client::on_timer) with their tag.

use crate::bindings::lodge::app::timers as host;
use std::time::Duration;

/// Identifies a pending timer.
pub type TimerId = u64;

/// Schedules `on_timer(tag)` once, `after` from now. Returns `None` when the
/// client already has as many pending timers as it may (1024).
pub fn set(after: Duration, tag: &str) -> Option<TimerId> {
    host::set(after.as_millis().min(u64::MAX as u128) as u64, tag)
}

/// Cancels a pending timer; false if it already fired or was cancelled.
pub fn cancel(id: TimerId) -> bool {
    host::cancel(id)
}
