//! `kv`: one app's durable data, scoped to the room when there is one
//! (room parts) or to the app (room and http parts).

use super::{GuestState, InstanceContext};
use crate::bindings::lodge::app::kv;
use crate::logs::AppLogs;
use lodge_store::{Kv, KvError, KvScope};
use std::any::Any;
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// What one instance may reach of its app's data.
pub(crate) struct KvAccess {
    app: String,
    /// The room, for a room part; `None` for an http part (app scope only).
    room: Option<String>,
    /// The room's fence (see `KvScope::Room`).
    fence: Option<i64>,
    /// The room's mailbox: a fenced write stops the room (it moved).
    mailbox: Option<tokio::sync::mpsc::Sender<crate::rooms::Event>>,
    kv: Arc<dyn Kv>,
    logs: AppLogs,
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    Box::new(KvAccess {
        app: ctx.app.to_owned(),
        room: ctx.room.as_ref().map(|r| r.name.to_owned()),
        fence: ctx.room.as_ref().and_then(|r| r.fence),
        mailbox: ctx.room.as_ref().map(|r| r.mailbox.clone()),
        kv: ctx.shared.kv.clone(),
        logs: ctx.shared.logs.clone(),
    })
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    kv::add_to_linker::<GuestState, HasSelf<KvAccess>>(linker, |s| s.get_mut::<KvAccess>())
}

impl KvAccess {
    fn scope(&self, scope: kv::Scope) -> Result<KvScope, kv::Error> {
        match (scope, &self.room) {
            (kv::Scope::App, _) => Ok(KvScope::App),
            (kv::Scope::Room, Some(room)) => Ok(KvScope::Room {
                name: room.clone(),
                fence: self.fence,
            }),
            (kv::Scope::Room, None) => Err(kv::Error::NoSuchScope),
        }
    }

    /// The guest's view of a kv failure; a quota refusal also goes to the
    /// app's log, naming the quota (the guest sees only `quota-exceeded`).
    fn kv_error(&self, e: KvError) -> kv::Error {
        if matches!(
            e,
            KvError::ScopeFull(_) | KvError::AppFull(_) | KvError::TooManyRoomScopes(..)
        ) {
            self.logs.lodge(
                &self.app,
                self.room.as_deref(),
                "warn",
                format!("kv write refused: {e}"),
            );
        }
        match e {
            KvError::KeyTooLarge(n) => kv::Error::KeyTooLarge(n),
            KvError::ValueTooLarge(n) => kv::Error::ValueTooLarge(n),
            KvError::ScopeFull(_) | KvError::AppFull(_) | KvError::TooManyRoomScopes(..) => {
                kv::Error::QuotaExceeded
            }
            KvError::NotANumber => kv::Error::NotANumber,
            KvError::Fenced { held, current } => {
                // Another server owns the room now: this instance stops,
                // and its members reconnect to the room's new home.
                tracing::warn!(app = %self.app, room = ?self.room, held, current, "room fenced: it moved to another server");
                if let Some(mailbox) = &self.mailbox {
                    let _ = mailbox.try_send(crate::rooms::Event::Stop {
                        code: crate::rooms::close::MOVED,
                        reason: "the room moved to another server; reconnect".into(),
                    });
                }
                kv::Error::Unavailable(
                    "the room moved to another server; nothing was written".into(),
                )
            }
            KvError::Store(e) if e.is_full() => {
                self.logs.lodge(
                    &self.app,
                    self.room.as_deref(),
                    "warn",
                    "kv write refused: the server's disk is full",
                );
                kv::Error::Unavailable("the server's disk is full; try again later".into())
            }
            KvError::Store(e) => {
                tracing::error!(error = %e, "kv store failed");
                kv::Error::Unavailable("the store failed; try again later".into())
            }
        }
    }
}

impl kv::Host for KvAccess {
    async fn get(&mut self, scope: kv::Scope, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        let scope = self.scope(scope)?;
        self.kv
            .get(&self.app, &scope, &key)
            .await
            .map_err(|e| self.kv_error(e))
    }

    async fn set(
        &mut self,
        scope: kv::Scope,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), kv::Error> {
        let scope = self.scope(scope)?;
        self.kv
            .set(&self.app, &scope, &key, value)
            .await
            .map_err(|e| self.kv_error(e))
    }

    async fn delete(&mut self, scope: kv::Scope, key: String) -> Result<bool, kv::Error> {
        let scope = self.scope(scope)?;
        self.kv
            .delete(&self.app, &scope, &key)
            .await
            .map_err(|e| self.kv_error(e))
    }

    async fn list_keys(
        &mut self,
        scope: kv::Scope,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<String>, kv::Error> {
        let scope = self.scope(scope)?;
        self.kv
            .list_keys(&self.app, &scope, &prefix, limit)
            .await
            .map_err(|e| self.kv_error(e))
    }

    async fn increment(
        &mut self,
        scope: kv::Scope,
        key: String,
        delta: i64,
    ) -> Result<i64, kv::Error> {
        let scope = self.scope(scope)?;
        self.kv
            .increment(&self.app, &scope, &key, delta)
            .await
            .map_err(|e| self.kv_error(e))
    }
}
