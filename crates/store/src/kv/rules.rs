//! The kv rules every backend shares: whether a write fits the quotas, and
//! what `increment` makes of a stored value. Pure functions, so a backend
//! only reports usage and the decision is made here, once.

use super::{KvError, KvLimits, KvScope};

/// What a backend read about a scope, inside the transaction of a write,
/// before writing one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of keys plus values in the scope; `None` when the scope holds
    /// nothing (it would be a new room scope).
    pub scope_bytes: Option<u64>,
    /// Bytes of keys plus values in all the app's scopes.
    pub app_bytes: u64,
    /// Room scopes of the app holding data.
    pub room_scopes: u32,
    /// The length of the value the key holds now, if it holds one.
    pub old_value_bytes: Option<u64>,
}

/// What the write changes, for the backend to record with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The scope's bytes after the write.
    pub scope_bytes: u64,
    /// How much the app's bytes change (negative when a value shrinks).
    pub app_growth: i64,
    /// Whether the write starts a new room scope.
    pub new_room_scope: bool,
}

/// Which quota a write would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Bytes in one scope (`--kv-scope-bytes`).
    Scope,
    /// Bytes in all the app's scopes (`--kv-app-bytes`).
    App,
    /// Room scopes holding data (`--kv-room-scopes`); scopes unwritten for
    /// `expire_days` are removed.
    RoomScopes { expire_days: u32 },
}

/// A write refused by a quota: which one, what is used, what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("kv quota {which:?} exceeded: {used} used of {limit}")]
pub struct QuotaExceeded {
    pub which: Quota,
    pub used: u64,
    pub limit: u64,
}

impl From<QuotaExceeded> for KvError {
    fn from(e: QuotaExceeded) -> Self {
        match e.which {
            Quota::Scope => KvError::ScopeFull(e.limit),
            Quota::App => KvError::AppFull(e.limit),
            Quota::RoomScopes { expire_days } => {
                KvError::TooManyRoomScopes(u32::try_from(e.limit).unwrap_or(u32::MAX), expire_days)
            }
        }
    }
}

/// Whether writing a `value_len`-byte value at a `key_len`-byte key of
/// `scope` fits `limits`, given `usage`. A write that doesn't grow the data
/// is always allowed, so an app over its quota can still shrink.
pub fn check_write(
    limits: &KvLimits,
    scope: &KvScope,
    usage: &Usage,
    key_len: usize,
    value_len: usize,
) -> Result<Accepted, QuotaExceeded> {
    let new_room_scope = usage.scope_bytes.is_none() && matches!(scope, KvScope::Room { .. });
    if new_room_scope && usage.room_scopes >= limits.max_room_scopes {
        return Err(QuotaExceeded {
            which: Quota::RoomScopes {
                expire_days: limits.room_scope_days,
            },
            used: u64::from(usage.room_scopes),
            limit: u64::from(limits.max_room_scopes),
        });
    }
    let used = usage.scope_bytes.unwrap_or(0);
    let before = usage.old_value_bytes.map_or(0, |len| len + key_len as u64);
    let after = (used + (key_len + value_len) as u64).saturating_sub(before);
    let growth = after as i64 - used as i64;
    if growth > 0 && after > limits.max_scope_bytes {
        return Err(QuotaExceeded {
            which: Quota::Scope,
            used,
            limit: limits.max_scope_bytes,
        });
    }
    if growth > 0 && usage.app_bytes.saturating_add(growth as u64) > limits.max_app_bytes {
        return Err(QuotaExceeded {
            which: Quota::App,
            used: usage.app_bytes,
            limit: limits.max_app_bytes,
        });
    }
    Ok(Accepted {
        scope_bytes: after,
        app_growth: growth,
        new_room_scope,
    })
}

/// What `increment` stores: the current value (none counts as 0) read as
/// a decimal 64-bit integer (spaces around it allowed) plus `delta`.
pub fn increment(current: Option<&[u8]>, delta: i64) -> Result<i64, KvError> {
    let current = match current {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or(KvError::NotANumber)?,
    };
    current.checked_add(delta).ok_or(KvError::NotANumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> KvLimits {
        KvLimits {
            max_scope_bytes: 100,
            max_app_bytes: 150,
            max_room_scopes: 2,
            room_scope_days: 7,
            ..KvLimits::default()
        }
    }

    #[test]
    fn quotas_count_keys_and_values_and_let_a_full_scope_shrink() {
        let room = KvScope::room_named("r");
        let fresh = Usage::default();
        assert_eq!(
            check_write(&limits(), &room, &fresh, 1, 9),
            Ok(Accepted {
                scope_bytes: 10,
                app_growth: 10,
                new_room_scope: true
            })
        );
        let full = Usage {
            scope_bytes: Some(100),
            app_bytes: 100,
            room_scopes: 1,
            old_value_bytes: Some(50),
        };
        let refused = check_write(&limits(), &room, &full, 1, 51).unwrap_err();
        assert_eq!((refused.which, refused.limit), (Quota::Scope, 100));
        assert_eq!(
            check_write(&limits(), &room, &full, 1, 10)
                .unwrap()
                .app_growth,
            -40
        );
        let app_full = Usage {
            scope_bytes: Some(10),
            app_bytes: 145,
            ..full
        };
        assert_eq!(
            KvError::from(check_write(&limits(), &KvScope::App, &app_full, 1, 60).unwrap_err())
                .to_string(),
            KvError::AppFull(150).to_string()
        );
        let many = Usage {
            room_scopes: 2,
            ..fresh
        };
        assert!(matches!(
            check_write(&limits(), &room, &many, 1, 1).map_err(KvError::from),
            Err(KvError::TooManyRoomScopes(2, 7))
        ));
        // The app scope is not a room scope.
        assert!(check_write(&limits(), &KvScope::App, &many, 1, 1).is_ok());
    }

    #[test]
    fn increment_reads_decimal_integers_and_refuses_overflow() {
        assert_eq!(increment(None, 5).unwrap(), 5);
        assert_eq!(increment(Some(b" 41\n"), 1).unwrap(), 42);
        assert!(matches!(increment(Some(b"x"), 1), Err(KvError::NotANumber)));
        assert!(matches!(
            increment(Some(i64::MAX.to_string().as_bytes()), 1),
            Err(KvError::NotANumber)
        ));
    }
}
