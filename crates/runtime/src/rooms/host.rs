//! What a room's guest can call: `members`, `kv`, `timers`, `log`, and the
//! WASI baseline. One `RoomState` per room instance, owned by its store.

use super::bindings::lodge::app::{kv, log, members, timers, types};
use super::{Closer, Event, Payload};
use crate::logs::{AppLogs, LogSource};
use crate::metrics::Metrics;
use lodge_store::{Kv, KvError, KvScope};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A connected member, as the room sees it.
pub(crate) struct MemberSlot {
    pub name: String,
    pub outbox: mpsc::Sender<Payload>,
    pub closer: Arc<Closer>,
}

/// The store data of one room instance.
pub(crate) struct RoomState {
    pub app: String,
    pub room: String,
    /// Members in join order (ids only grow).
    pub members: BTreeMap<u64, MemberSlot>,
    /// The member whose `on-join` is running: sends reach them if accepted.
    pub joining: Option<(u64, MemberSlot)>,
    /// Members removed during a call (kicked, too slow), whose `on-leave`
    /// runs once the call returns.
    pub deferred_leaves: Vec<(u64, String)>,
    pub kv: Arc<dyn Kv>,
    pub logs: AppLogs,
    pub metrics: Metrics,
    pub mailbox: mpsc::Sender<Event>,
    pub timers: HashMap<u64, tokio::task::AbortHandle>,
    pub next_timer: u64,
    pub max_timers: usize,
    pub limits: StoreLimits,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// Epoch ticks the current call has run for, and how many it may.
    pub ticks: u64,
    pub tick_budget: u64,
}

impl WasiView for RoomState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl RoomState {
    /// Queues a payload for one member, disconnecting them when their outbox is full.
    fn deliver(&mut self, id: u64, payload: &Payload) {
        let slot = match self.members.get(&id) {
            Some(slot) => slot,
            None => match &self.joining {
                Some((joining, slot)) if *joining == id => slot,
                _ => return,
            },
        };
        match slot.outbox.try_send(payload.clone()) {
            Ok(()) => {
                self.metrics.messages_out.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                slot.closer.close(
                    1008,
                    format!(
                        "too slow: {} messages were waiting to be read",
                        slot.outbox.max_capacity()
                    ),
                );
                self.metrics.members_disconnected_slow.inc();
                self.logs.lodge(
                    &self.app,
                    Some(&self.room),
                    "warn",
                    format!("member #{id} disconnected: not reading its messages"),
                );
                self.remove(id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Takes a member out of the room during a call; `on-leave` follows it.
    fn remove(&mut self, id: u64) {
        if let Some(slot) = self.members.remove(&id) {
            self.deferred_leaves.push((id, slot.name));
        }
    }

    fn kv_scope(&self, scope: kv::Scope) -> KvScope {
        match scope {
            kv::Scope::Room => KvScope::Room(self.room.clone()),
            kv::Scope::App => KvScope::App,
        }
    }
}

impl From<types::Payload> for Payload {
    fn from(p: types::Payload) -> Self {
        match p {
            types::Payload::Text(text) => Payload::Text(text.into()),
            types::Payload::Binary(bytes) => Payload::Binary(bytes.into()),
        }
    }
}

impl From<Payload> for types::Payload {
    fn from(p: Payload) -> Self {
        match p {
            Payload::Text(text) => {
                types::Payload::Text(String::from_utf8_lossy(&text).into_owned())
            }
            Payload::Binary(bytes) => types::Payload::Binary(bytes.to_vec()),
        }
    }
}

impl types::Host for RoomState {}

impl members::Host for RoomState {
    async fn send(&mut self, to: u64, message: types::Payload) {
        let payload = Payload::from(message);
        self.deliver(to, &payload);
    }

    async fn broadcast(&mut self, message: types::Payload, except: Vec<u64>) {
        let payload = Payload::from(message);
        let mut ids: Vec<u64> = self.members.keys().copied().collect();
        if let Some((id, _)) = &self.joining {
            ids.push(*id);
        }
        for id in ids {
            if !except.contains(&id) {
                self.deliver(id, &payload);
            }
        }
    }

    async fn all(&mut self) -> Vec<types::Member> {
        self.members
            .iter()
            .map(|(id, slot)| types::Member {
                id: *id,
                name: slot.name.clone(),
            })
            .collect()
    }

    async fn kick(&mut self, who: u64, reason: String) {
        if let Some(slot) = self.members.get(&who) {
            slot.closer.close(4003, format!("kicked: {reason}"));
            self.logs.lodge(
                &self.app,
                Some(&self.room),
                "info",
                format!("member #{who} kicked: {reason}"),
            );
            self.remove(who);
        }
    }
}

impl log::Host for RoomState {
    async fn write(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        self.logs.push(
            &self.app,
            Some(&self.room),
            level,
            LogSource::Guest,
            message,
        );
    }
}

fn kv_error(e: KvError) -> kv::Error {
    match e {
        KvError::KeyTooLarge(n) => kv::Error::KeyTooLarge(n),
        KvError::ValueTooLarge(n) => kv::Error::ValueTooLarge(n),
        KvError::QuotaExceeded => kv::Error::QuotaExceeded,
        KvError::NotANumber => kv::Error::NotANumber,
        KvError::Store(e) => {
            tracing::error!(error = %e, "kv store failed");
            kv::Error::Unavailable("the store failed; try again later".into())
        }
    }
}

impl kv::Host for RoomState {
    async fn get(&mut self, scope: kv::Scope, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        let scope = self.kv_scope(scope);
        self.kv.get(&self.app, &scope, &key).await.map_err(kv_error)
    }

    async fn set(
        &mut self,
        scope: kv::Scope,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), kv::Error> {
        let scope = self.kv_scope(scope);
        self.kv
            .set(&self.app, &scope, &key, value)
            .await
            .map_err(kv_error)
    }

    async fn delete(&mut self, scope: kv::Scope, key: String) -> Result<bool, kv::Error> {
        let scope = self.kv_scope(scope);
        self.kv
            .delete(&self.app, &scope, &key)
            .await
            .map_err(kv_error)
    }

    async fn list_keys(
        &mut self,
        scope: kv::Scope,
        prefix: String,
        limit: u32,
    ) -> Result<Vec<String>, kv::Error> {
        let scope = self.kv_scope(scope);
        self.kv
            .list_keys(&self.app, &scope, &prefix, limit)
            .await
            .map_err(kv_error)
    }

    async fn increment(
        &mut self,
        scope: kv::Scope,
        key: String,
        delta: i64,
    ) -> Result<i64, kv::Error> {
        let scope = self.kv_scope(scope);
        self.kv
            .increment(&self.app, &scope, &key, delta)
            .await
            .map_err(kv_error)
    }
}

impl timers::Host for RoomState {
    async fn set(&mut self, after_ms: u64, tag: String) -> Option<u64> {
        if self.timers.len() >= self.max_timers {
            return None;
        }
        self.next_timer += 1;
        let id = self.next_timer;
        let mailbox = self.mailbox.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after_ms.min(u64::from(u32::MAX)))).await;
            let _ = mailbox.send(Event::Timer { id, tag }).await;
        });
        self.timers.insert(id, task.abort_handle());
        Some(id)
    }

    async fn cancel(&mut self, id: u64) -> bool {
        match self.timers.remove(&id) {
            Some(task) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}
