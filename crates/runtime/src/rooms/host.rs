//! What a room's guest can call: `members`, `kv`, `timers`, `log`, and the
//! WASI baseline. One `RoomState` per room instance, owned by its store.

use super::{Closer, Event, Payload};
use crate::app_host::AppHost;
use crate::bindings::lodge::app::{members, timers, types};
use crate::epoch::{CpuBudget, Guest};
use crate::logs::AppLogs;
use crate::metrics::Metrics;
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
    /// `kv` and `log`, scoped to this app and room.
    pub host: AppHost,
    pub logs: AppLogs,
    pub metrics: Metrics,
    pub mailbox: mpsc::Sender<Event>,
    pub timers: HashMap<u64, tokio::task::AbortHandle>,
    pub next_timer: u64,
    pub max_timers: usize,
    pub limits: StoreLimits,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// CPU time the current call may use.
    pub cpu: CpuBudget,
}

impl Guest for RoomState {
    fn budget(&mut self) -> &mut CpuBudget {
        &mut self.cpu
    }

    fn limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
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
