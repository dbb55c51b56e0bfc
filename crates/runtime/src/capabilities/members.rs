//! `members`: a room's members as its guest sees them. Sends, broadcasts
//! and kicks, with the outbox limits that keep one slow member from holding
//! the room.

use super::room_control::RoomControl;
use super::{GuestState, InstanceContext};
use crate::bindings::lodge::app::{members, types};
use crate::logs::AppLogs;
use crate::metrics::Metrics;
use crate::rooms::{Closer, MemberRole, Payload, close};
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;
use wasmtime::component::{HasSelf, Linker};

/// A member, as the room sees it: connected, or dropped with its seat held.
pub(crate) struct MemberSlot {
    pub name: String,
    /// The account the member signed in with; `None` for a guest, whose
    /// name is only a display name (`identity` tells the guest).
    pub account: Option<String>,
    pub role: MemberRole,
    pub outbox: mpsc::Sender<Payload>,
    /// The outbox's receiving end, which each of the member's connections
    /// reads in turn: what was sent while they were away waits in it.
    pub inbox: Inbox,
    /// Bytes waiting in `outbox`.
    pub queued: Arc<AtomicUsize>,
    /// Closes the member's current connection.
    pub closer: Arc<Closer>,
    pub joined: Instant,
    /// The token a new connection presents to be this member again.
    pub resume: Option<String>,
    /// Counts the member's connections; a leave or drop reported by an
    /// older one is stale.
    pub attachment: u64,
    /// When the member's connection dropped, while their seat is held.
    pub away_since: Option<Instant>,
    /// Where the member connects from (one IPv6 /64 counts as one), to
    /// bound the seats held for one address.
    pub client: Option<std::net::IpAddr>,
}

/// A member's outbox as its connections read it.
pub(crate) type Inbox = Arc<tokio::sync::Mutex<mpsc::Receiver<Payload>>>;

impl MemberSlot {
    /// A new member with a fresh outbox of `capacity` messages.
    pub(crate) fn new(
        name: String,
        account: Option<String>,
        role: MemberRole,
        resume: Option<String>,
        capacity: usize,
    ) -> Self {
        let (outbox, inbox) = mpsc::channel(capacity);
        MemberSlot {
            name,
            account,
            role,
            outbox,
            inbox: Arc::new(tokio::sync::Mutex::new(inbox)),
            queued: Arc::default(),
            closer: Closer::new(),
            joined: Instant::now(),
            resume,
            attachment: 0,
            away_since: None,
            client: None,
        }
    }
}

/// One room's members and what its host calls did to them.
pub(crate) struct Members {
    app: String,
    room: String,
    /// Members in join order (ids only grow).
    pub members: BTreeMap<u64, MemberSlot>,
    /// The member whose `on-join` is running: sends reach them if accepted.
    pub joining: Option<(u64, MemberSlot)>,
    /// The member whose `on-leave` is running, and their account: a room
    /// may still ask who they were.
    pub leaving: Option<(u64, Option<String>)>,
    /// Members removed during a call (kicked, too slow), whose `on-leave`
    /// runs once the call returns.
    pub deferred_leaves: Vec<(u64, String, Option<String>, Instant)>,
    /// A limit a host call reached during the current call: the room ends
    /// with this reason once the call returns.
    pub fault: Option<String>,
    logs: AppLogs,
    metrics: Metrics,
    /// Bytes that may wait for one member before they count as too slow.
    outbox_bytes: usize,
    /// The largest message the room may send.
    max_message_bytes: usize,
    /// The room's phase, host, metadata and seats (`room-control`).
    pub control: RoomControl,
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    let room = ctx
        .room
        .as_ref()
        .expect("members is granted to room parts only");
    Box::new(Members {
        app: ctx.app.to_owned(),
        room: room.name.to_owned(),
        members: BTreeMap::new(),
        joining: None,
        leaving: None,
        deferred_leaves: Vec::new(),
        fault: None,
        logs: ctx.shared.logs.clone(),
        metrics: ctx.shared.metrics.clone(),
        outbox_bytes: room.config.outbox_bytes,
        max_message_bytes: room.config.max_message_bytes,
        control: RoomControl::new(room.settings, room.seats.clone(), room.metadata.clone()),
    })
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    types::add_to_linker::<GuestState, HasSelf<Members>>(linker, |s| s.get_mut::<Members>())?;
    members::add_to_linker::<GuestState, HasSelf<Members>>(linker, |s| s.get_mut::<Members>())
}

impl Members {
    /// A member in the room, or the one joining (whose `on-join` is running).
    pub(super) fn reachable(&self, id: u64) -> Option<&MemberSlot> {
        match self.members.get(&id) {
            Some(slot) => Some(slot),
            None => match &self.joining {
                Some((joining, slot)) if *joining == id => Some(slot),
                _ => None,
            },
        }
    }

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
        let Some(slot) = self.reachable(id) else {
            return;
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
    pub(crate) fn remove(&mut self, id: u64) {
        if let Some(slot) = self.members.remove(&id) {
            self.control.dirty = true;
            self.deferred_leaves
                .push((id, slot.name, slot.account, slot.joined));
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

impl types::Host for Members {}

impl members::Host for Members {
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

#[cfg(test)]
impl Members {
    /// An empty room's members, for tests of the host calls.
    pub(super) fn for_tests() -> Self {
        Members {
            app: "app".into(),
            room: "room".into(),
            members: BTreeMap::new(),
            joining: None,
            leaving: None,
            deferred_leaves: Vec::new(),
            fault: None,
            logs: AppLogs::default(),
            metrics: Metrics::default(),
            outbox_bytes: 1 << 20,
            max_message_bytes: 64 << 10,
            control: RoomControl::for_tests(),
        }
    }
}

#[cfg(test)]
impl MemberSlot {
    /// A member whose connection nobody reads, for tests of the host calls.
    pub(super) fn for_tests(name: &str, account: Option<&str>) -> Self {
        MemberSlot::new(
            name.into(),
            account.map(str::to_owned),
            MemberRole::Player,
            None,
            1,
        )
    }
}
