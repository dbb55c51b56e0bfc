//! Key-value data for apps: scoped to one room (by name) or to the whole app.
//!
//! Two traits, as in Spin's key-value factor: [`Kv`] is what the runtime
//! calls, and [`KvStore`] is what a backend implements. [`LimitedKv`] turns
//! any `KvStore` into a `Kv`, checking key and value sizes before the
//! backend sees them; quotas are decided by [`rules::check_write`], which
//! the backend calls inside the transaction of its write, so every backend
//! enforces the same limits the same way.

pub mod rules;
mod sqlite;

pub use rules::{Quota, QuotaExceeded};
pub use sqlite::SqliteKv;

use crate::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::RwLock;

/// Whose data: one room's (by name), or the app's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvScope {
    Room {
        name: String,
        /// The ownership number of the server writing, when rooms move
        /// between servers: writes are refused ([`KvError::Fenced`]) once a
        /// later owner advanced the room's fence past it
        /// ([`Kv::advance_fence`]). `None` on one server, where a room
        /// never moves.
        fence: Option<i64>,
    },
    App,
}

impl KvScope {
    /// Room `name`'s scope, unfenced.
    pub fn room_named(name: impl Into<String>) -> Self {
        KvScope::Room {
            name: name.into(),
            fence: None,
        }
    }

    /// The room's name, or empty for app scope (how backends store it).
    pub fn room(&self) -> &str {
        match self {
            KvScope::Room { name, .. } => name,
            KvScope::App => "",
        }
    }

    /// The fence a write to this scope carries.
    pub fn fence(&self) -> Option<i64> {
        match self {
            KvScope::Room { fence, .. } => *fence,
            KvScope::App => None,
        }
    }
}

/// Bounds on what one scope, and one app in all its scopes, may hold.
#[derive(Debug, Clone, Copy)]
pub struct KvLimits {
    pub max_key_bytes: u32,
    pub max_value_bytes: u32,
    /// Keys plus values, per scope.
    pub max_scope_bytes: u64,
    /// Keys plus values, per app: its app scope and every room scope.
    pub max_app_bytes: u64,
    /// Room scopes holding data, per app.
    pub max_room_scopes: u32,
    /// Room scopes unwritten for this long are removed (rooms long gone).
    pub room_scope_days: u32,
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 512,
            max_value_bytes: 256 * 1024,
            max_scope_bytes: 16 << 20,
            max_app_bytes: 256 << 20,
            max_room_scopes: 10_000,
            room_scope_days: 90,
        }
    }
}

/// Why a kv operation was refused; the guest sees these as ordinary errors.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("key longer than {0} bytes")]
    KeyTooLarge(u32),
    #[error("value longer than {0} bytes")]
    ValueTooLarge(u32),
    #[error("the scope is full ({0} bytes, --kv-scope-bytes)")]
    ScopeFull(u64),
    #[error(
        "the app's data is full ({0} bytes in all its scopes: --kv-app-bytes, or what its owner's kv quota leaves)"
    )]
    AppFull(u64),
    #[error(
        "the app has data in its most room scopes ({0}, --kv-room-scopes); rooms' data unwritten for {1} days is removed"
    )]
    TooManyRoomScopes(u32, u32),
    #[error("the value is not a decimal 64-bit integer, or the result overflows")]
    NotANumber,
    /// The room moved: another server advanced its fence to `current`,
    /// past the `held` this write carried. Nothing was written.
    #[error("the room moved to another server (its fence is {current}, this write held {held})")]
    Fenced { held: i64, current: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for KvError {
    fn from(e: rusqlite::Error) -> Self {
        KvError::Store(e.into())
    }
}

/// Where app data lives, as the runtime sees it: limits already applied.
#[async_trait]
pub trait Kv: Send + Sync + 'static {
    fn limits(&self) -> KvLimits;
    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), KvError>;
    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError>;
    async fn list_keys(
        &self,
        app: &str,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError>;
    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
    ) -> Result<i64, KvError>;
    /// Raises room `room`'s fence to `fence` (never lowers it): from now on
    /// writes carrying a smaller fence are refused. The server that takes a
    /// room over calls this before the room runs.
    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError>;
    /// Removes every key of an app (when the app is deleted).
    async fn delete_app(&self, app: &str) -> Result<(), KvError>;
    /// Removes room scopes no one wrote to since `before_ms` (of rooms long
    /// gone); returns how many.
    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError>;
    /// The bytes (keys plus values) every app holds, by app.
    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError>;
    /// Narrows the per-app quota of some apps below `max_app_bytes` (what
    /// is left of their owner's account quota); replaces the last call's.
    fn set_app_budgets(&self, budgets: HashMap<String, u64>);
}

/// What a kv backend implements. Keys and values arrive already within
/// their size limits ([`LimitedKv`] checked them). Quotas are the backend's
/// to keep race-free, since only it can read usage and write in one
/// transaction; it must:
///
/// - count, per app and scope, the bytes of keys plus values, per app the
///   bytes in all its scopes and the room scopes holding data;
/// - in `set` and `increment`, read that usage inside the write's
///   transaction, pass it to [`rules::check_write`] with `limits`, and
///   write nothing when it refuses (its `QuotaExceeded` becomes the
///   `KvError`);
/// - in `increment`, compute the new value with [`rules::increment`];
/// - forget a scope left empty, so it no longer counts as a room scope;
/// - in every write to a room scope carrying a fence, read the room's fence
///   in the write's transaction and refuse the write
///   ([`KvError::Fenced`]) when it is greater.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
        limits: KvLimits,
    ) -> Result<(), KvError>;
    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError>;
    /// Keys starting with `prefix`, in order, at most `limit` of them.
    async fn list_keys(
        &self,
        app: &str,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError>;
    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
        limits: KvLimits,
    ) -> Result<i64, KvError>;
    /// Raises a room's fence (see [`Kv::advance_fence`]).
    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError>;
    async fn delete_app(&self, app: &str) -> Result<(), KvError>;
    /// Removes room scopes, and the fences of rooms, unwritten since
    /// `before_ms`.
    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError>;
    /// The bytes (keys plus values) every app holds, by app.
    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError>;
}

/// The most keys one `list_keys` returns, whatever the caller asks.
pub const MAX_LIST: u32 = 10_000;

/// Any [`KvStore`] with Lodge's limits: the [`Kv`] the runtime gets.
pub struct LimitedKv<S> {
    store: S,
    limits: KvLimits,
    /// Apps held to less than `limits.max_app_bytes` (by their account's quota).
    budgets: RwLock<HashMap<String, u64>>,
}

impl<S: KvStore> LimitedKv<S> {
    pub fn new(store: S, limits: KvLimits) -> Self {
        Self {
            store,
            limits,
            budgets: RwLock::default(),
        }
    }

    /// The limits for a write of `app`'s.
    fn limits_for(&self, app: &str) -> KvLimits {
        let budget = self
            .budgets
            .read()
            .expect("kv budgets lock")
            .get(app)
            .copied();
        KvLimits {
            max_app_bytes: budget.map_or(self.limits.max_app_bytes, |b| {
                b.min(self.limits.max_app_bytes)
            }),
            ..self.limits
        }
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        if key.len() > self.limits.max_key_bytes as usize {
            return Err(KvError::KeyTooLarge(self.limits.max_key_bytes));
        }
        Ok(())
    }
}

#[async_trait]
impl<S: KvStore> Kv for LimitedKv<S> {
    fn limits(&self) -> KvLimits {
        self.limits
    }

    async fn get(&self, app: &str, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(key)?;
        self.store.get(app, scope, key).await
    }

    async fn set(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), KvError> {
        self.check_key(key)?;
        if value.len() > self.limits.max_value_bytes as usize {
            return Err(KvError::ValueTooLarge(self.limits.max_value_bytes));
        }
        self.store
            .set(app, scope, key, value, self.limits_for(app))
            .await
    }

    async fn delete(&self, app: &str, scope: &KvScope, key: &str) -> Result<bool, KvError> {
        self.check_key(key)?;
        self.store.delete(app, scope, key).await
    }

    async fn list_keys(
        &self,
        app: &str,
        scope: &KvScope,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, KvError> {
        self.check_key(prefix)?;
        self.store
            .list_keys(app, scope, prefix, limit.min(MAX_LIST))
            .await
    }

    async fn increment(
        &self,
        app: &str,
        scope: &KvScope,
        key: &str,
        delta: i64,
    ) -> Result<i64, KvError> {
        self.check_key(key)?;
        self.store
            .increment(app, scope, key, delta, self.limits_for(app))
            .await
    }

    async fn advance_fence(&self, app: &str, room: &str, fence: i64) -> Result<(), KvError> {
        self.store.advance_fence(app, room, fence).await
    }

    async fn delete_app(&self, app: &str) -> Result<(), KvError> {
        self.store.delete_app(app).await
    }

    async fn expire_room_scopes(&self, before_ms: i64) -> Result<u64, KvError> {
        self.store.expire_room_scopes(before_ms).await
    }

    async fn app_bytes(&self) -> Result<HashMap<String, u64>, KvError> {
        self.store.app_bytes().await
    }

    fn set_app_budgets(&self, budgets: HashMap<String, u64>) {
        *self.budgets.write().expect("kv budgets lock") = budgets;
    }
}
