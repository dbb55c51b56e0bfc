//! Durable key-value data, scoped to this room or shared by the whole app.
//!
//! Needs `capabilities = ["kv"]` in the manifest. Room-scoped data belongs to
//! the room's name and outlives its instance; app-scoped data is shared by
//! every room of the app and its http part.

use crate::bindings::lodge::app::kv as host;

/// Whose data a call reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This room only.
    Room,
    /// Every room of the app, and its http part.
    App,
}

/// Why a kv call failed. These are ordinary errors for the app to handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The key is longer than the limit (bytes), which is given.
    KeyTooLarge(u32),
    /// The value is longer than the limit (bytes), which is given.
    ValueTooLarge(u32),
    /// The scope holds as much data as it may.
    QuotaExceeded,
    /// `increment` found a value that is not a decimal integer, or it would overflow.
    NotANumber,
    /// This part has no such scope (an http part has no room).
    NoSuchScope,
    /// The store failed; trying again later may work.
    Unavailable(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::KeyTooLarge(max) => write!(f, "key longer than {max} bytes"),
            Error::ValueTooLarge(max) => write!(f, "value longer than {max} bytes"),
            Error::QuotaExceeded => f.write_str("storage quota exceeded"),
            Error::NotANumber => f.write_str("value is not a 64-bit decimal integer"),
            Error::NoSuchScope => f.write_str("no such scope here"),
            Error::Unavailable(why) => write!(f, "storage unavailable: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<host::Error> for Error {
    fn from(e: host::Error) -> Self {
        match e {
            host::Error::KeyTooLarge(n) => Error::KeyTooLarge(n),
            host::Error::ValueTooLarge(n) => Error::ValueTooLarge(n),
            host::Error::QuotaExceeded => Error::QuotaExceeded,
            host::Error::NotANumber => Error::NotANumber,
            host::Error::NoSuchScope => Error::NoSuchScope,
            host::Error::Unavailable(why) => Error::Unavailable(why),
        }
    }
}

fn scope(s: Scope) -> host::Scope {
    match s {
        Scope::Room => host::Scope::Room,
        Scope::App => host::Scope::App,
    }
}

/// The value at `key`, if any.
pub fn get(s: Scope, key: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(host::get(scope(s), key)?)
}

/// The value at `key` as UTF-8 text, if any (invalid UTF-8 is replaced).
pub fn get_string(s: Scope, key: &str) -> Result<Option<String>, Error> {
    Ok(get(s, key)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Stores `value` at `key`.
pub fn set(s: Scope, key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
    Ok(host::set(scope(s), key, value.as_ref())?)
}

/// Removes `key`; returns whether it existed.
pub fn delete(s: Scope, key: &str) -> Result<bool, Error> {
    Ok(host::delete(scope(s), key)?)
}

/// Keys starting with `prefix`, in byte order, at most `limit` of them.
pub fn list_keys(s: Scope, prefix: &str, limit: u32) -> Result<Vec<String>, Error> {
    Ok(host::list_keys(scope(s), prefix, limit)?)
}

/// Adds `delta` to the integer at `key` (missing counts as 0) atomically,
/// and returns the new value.
pub fn increment(s: Scope, key: &str, delta: i64) -> Result<i64, Error> {
    Ok(host::increment(scope(s), key, delta)?)
}
