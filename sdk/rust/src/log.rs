//! Writing to the part's log: the app's log (`lodge logs APP`) for rooms and
//! http parts, the page's console for clients.

use crate::bindings::lodge::app::log as host;

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Useful while developing.
    Debug,
    /// Normal events.
    Info,
    /// Something unexpected that the app handled.
    Warn,
    /// Something failed.
    Error,
}

/// Writes one line at `level`. Lines longer than 4 KiB are cut.
pub fn write(level: Level, message: &str) {
    let level = match level {
        Level::Trace => host::Level::Trace,
        Level::Debug => host::Level::Debug,
        Level::Info => host::Level::Info,
        Level::Warn => host::Level::Warn,
        Level::Error => host::Level::Error,
    };
    host::write(level, message);
}

/// Writes an info line.
pub fn info(message: &str) {
    write(Level::Info, message)
}

/// Writes a warning.
pub fn warn(message: &str) {
    write(Level::Warn, message)
}

/// Writes an error line.
pub fn error(message: &str) {
    write(Level::Error, message)
}

/// Writes a debug line.
pub fn debug(message: &str) {
    write(Level::Debug, message)
}
