//! What a room's guest can call: `members`, `kv`, `timers`, `log`, and the
//! WASI baseline. One `RoomState` per room instance, owned by its store.

use super::{Closer, Event, Payload, close};
use crate::app_host::AppHost;
use crate::bindings::lodge::app::{members, timers, types};
use crate::epoch::{Guest, GuestCore};
use crate::logs::AppLogs;
use crate::metrics::Metrics;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A connected member, as the room sees it.
pub(crate) struct MemberSlot {
    pub name: String,
    pub outbox: mpsc::Sender<Payload>,
    /// Bytes waiting in `outbox`.
    pub queued: Arc<AtomicUsize>,
    pub closer: Arc<Closer>,
    pub joined: Instant,
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
    pub deferred_leaves: Vec<(u64, String, Instant)>,
    /// `kv` and `log`, scoped to this app and room.
    pub host: AppHost,
    pub logs: AppLogs,
    pub metrics: Metrics,
    pub mailbox: mpsc::Sender<Event>,
    pub timers: HashMap<u64, tokio::task::AbortHandle>,
    pub next_timer: u64,
    pub max_timers: usize,
    /// Bytes that may wait for one member before they count as too slow.
    pub outbox_bytes: usize,
    /// The largest message the room may send.
    pub max_message_bytes: usize,
    /// A limit a host call reached during the current call: the room ends
    /// with this reason once the call returns.
    pub fault: Option<String>,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// CPU budget, memory limits and turns.
    pub core: GuestCore,
}

impl Guest for RoomState {
    fn core(&mut self) -> &mut GuestCore {
        &mut self.core
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
    /// Whether the room may send `payload`: a message past the limit is a
    /// fault that ends the room (its members could never receive it).
    fn may_send(&mut self, payload: &Payload) -> bool {
        if self.fault.is_some() {
            return false;
        }
        if payload.len() > self.max_message_bytes {
            self.fault = Some(format!(
                "it sent a message of {} bytes; the limit is {} bytes (--max-message-bytes)",
                payload.len(),
                self.max_message_bytes
            ));
            self.metrics.limit_reached("max_message_bytes");
            return false;
        }
        true
    }

    /// Queues a payload for one member, disconnecting them when their outbox
    /// is full, by count or by bytes.
    fn deliver(&mut self, id: u64, payload: &Payload) {
        let slot = match self.members.get(&id) {
            Some(slot) => slot,
            None => match &self.joining {
                Some((joining, slot)) if *joining == id => slot,
                _ => return,
            },
        };
        let len = payload.len();
        let queued = slot.queued.fetch_add(len, Ordering::Relaxed) + len;
        let too_slow = if queued > self.outbox_bytes {
            format!(
                "too slow: {queued} bytes were waiting to be read (the limit is {}, --member-outbox-bytes)",
                self.outbox_bytes
            )
        } else {
            match slot.outbox.try_send(payload.clone()) {
                Ok(()) => {
                    self.metrics.messages_out.inc();
                    return;
                }
                Err(mpsc::error::TrySendError::Full(_)) => format!(
                    "too slow: {} messages were waiting to be read (--member-outbox)",
                    slot.outbox.max_capacity()
                ),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    slot.queued.fetch_sub(len, Ordering::Relaxed);
                    return;
                }
            }
        };
        slot.queued.fetch_sub(len, Ordering::Relaxed);
        self.metrics.members_disconnected_slow.inc();
        self.logs.lodge(
            &self.app,
            Some(&self.room),
            "warn",
            format!("member #{id} disconnected: not reading its messages ({too_slow})"),
        );
        slot.closer.close(close::TOO_SLOW, too_slow);
        self.remove(id);
    }

    /// Takes a member out of the room during a call; `on-leave` follows it.
    fn remove(&mut self, id: u64) {
        if let Some(slot) = self.members.remove(&id) {
            self.deferred_leaves.push((id, slot.name, slot.joined));
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
        if self.may_send(&payload) {
            self.deliver(to, &payload);
        }
    }

    async fn broadcast(&mut self, message: types::Payload, except: Vec<u64>) {
        let payload = Payload::from(message);
        if !self.may_send(&payload) {
            return;
        }
        // A set, so a long `except` list costs one lookup per member.
        let except: std::collections::HashSet<u64> = except.into_iter().collect();
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
            slot.closer
                .close(close::KICKED, format!("kicked: {reason}"));
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
