//! One room's task: owns the instance and its store, handles the mailbox one
//! event at a time, and ends the room (only this room) on a guest fault.

use super::seats::Seats;
use super::{
    Closer, Directory, Event, Inner, JoinRefused, JoinReply, LocalMembership, Membership, Ready,
    RoomSpec, close,
};
use crate::bindings::exports::lodge::app::room_events;
use crate::bindings::lodge::app::types;
use crate::capabilities::{GuestState, InstanceContext, MemberSlot, Members, RoomContext, Timers};
use crate::epoch::{GuestCore, guest_store};
use crate::memory::{GuestLimits, MemoryRefused};
use lodge_manifest::Role;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};
use wasmtime::Store;

pub(crate) struct RoomActor {
    inner: Arc<Inner>,
    spec: RoomSpec,
    room: String,
    generation: u64,
    mailbox: mpsc::Sender<Event>,
    /// Members and reservations; shared with the room's live-rooms entry.
    seats: Arc<Seats>,
    /// Told once whether the instance started.
    ready: watch::Sender<Ready>,
    next_member: u64,
    /// The byte budget of member messages waiting in the mailbox.
    mailbox_bytes: Arc<Semaphore>,
    /// Whether anyone has asked to join yet (the first join is in the mailbox
    /// when the room starts).
    joined_once: bool,
    /// Whether any member stayed at least [`STAYED`]; a room nobody stayed in
    /// stops as soon as it is empty instead of idling.
    stayed: bool,
}

/// How long a member must stay (or the idle grace, if shorter) for the room
/// to idle after everyone left.
const STAYED: Duration = Duration::from_secs(5);

/// Why a guest call failed: the room ends with this reason.
struct Crash {
    kind: &'static str,
    reason: String,
}

struct Running {
    store: Store<GuestState>,
    /// The room's exported `room-events`.
    events: room_events::Guest,
}

impl Running {
    fn members(&self) -> &Members {
        self.store.data().get::<Members>()
    }

    fn members_mut(&mut self) -> &mut Members {
        self.store.data_mut().get_mut::<Members>()
    }

    /// Whether the room has timers pending (it has none without the capability).
    fn timers_pending(&self) -> bool {
        self.store
            .data()
            .try_get::<Timers>()
            .is_some_and(|t| !t.pending.is_empty())
    }
}

impl RoomActor {
    pub(crate) fn new(
        inner: Arc<Inner>,
        spec: RoomSpec,
        room: String,
        generation: u64,
        mailbox: mpsc::Sender<Event>,
        seats: Arc<Seats>,
        ready: watch::Sender<Ready>,
    ) -> Self {
        Self {
            spec,
            room,
            generation,
            mailbox,
            seats,
            ready,
            next_member: 0,
            mailbox_bytes: Arc::new(Semaphore::new(inner.config.mailbox_bytes)),
            joined_once: false,
            stayed: false,
            inner,
        }
    }

    fn log(&self, level: &'static str, message: impl Into<String>) {
        self.inner
            .shared
            .logs
            .lodge(&self.spec.app, Some(&self.room), level, message);
    }

    async fn start(&self) -> anyhow::Result<Running> {
        let component = self.inner.shared.loader.load(&self.spec.sha256).await?;
        let linker = self
            .inner
            .linkers
            .get(Role::Room, &self.spec.capabilities)?;
        let pre = linker.instantiate_pre(&component)?;
        let indices = room_events::GuestIndices::new(&pre)?;
        let config = &self.inner.config;
        let directory: Arc<dyn Directory> = self.inner.clone();
        let ctx = InstanceContext {
            shared: &self.inner.shared,
            role: Role::Room,
            app: &self.spec.app,
            room: Some(RoomContext {
                name: &self.room,
                mailbox: &self.mailbox,
                config,
                directory: &directory,
            }),
            allowed_hosts: &[],
            allow_private_outbound: false,
        };
        let core = GuestCore::new(
            config.cpu_per_call,
            GuestLimits::new(self.spec.memory_bytes, self.inner.shared.memory.clone()),
            &self.spec.app,
            self.inner.shared.threads.turns(),
        );
        let state = GuestState::new(&ctx, &self.spec.capabilities, core);
        let mut store = guest_store(&self.inner.shared.engine, state);
        store.data().core.take_turn().await;
        let instance = pre.instantiate_async(&mut store).await.map_err(|e| {
            // Keep a memory refusal findable: it decides the close code.
            match MemoryRefused::find(&e) {
                Some(refused) => anyhow::Error::new(refused.clone()),
                None => anyhow::Error::from(e),
            }
        });
        store.data().core.give_turn_back();
        let instance = instance?;
        let events = indices.load(&mut store, &instance)?;
        Ok(Running { store, events })
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Event>) {
        self.inner.shared.metrics.rooms_live.inc();
        let mut running = match self.start().await {
            Ok(running) => running,
            Err(e) => {
                let code = match e.downcast_ref::<MemoryRefused>() {
                    Some(MemoryRefused::Server { .. }) => {
                        self.inner.shared.metrics.limit_reached("guest_memory");
                        close::TRY_AGAIN
                    }
                    _ => close::UNAVAILABLE,
                };
                let reason = format!("the room could not start: {e:#}");
                self.log("error", reason.clone());
                self.ready.send_replace(Some(Err(JoinRefused {
                    code,
                    reason: reason.clone(),
                })));
                self.finish(rx, Some((code, reason))).await;
                return;
            }
        };
        self.ready.send_replace(Some(Ok(())));
        self.log("info", format!("started (version {})", self.spec.version));
        let idle = self.inner.config.idle_grace;
        loop {
            let event = if running.members().members.is_empty() {
                // Seats held for members on their way keep the room up.
                let awaited = self.seats.reserved(Instant::now()) > 0;
                if self.joined_once
                    && !self.stayed
                    && !running.timers_pending()
                    && rx.is_empty()
                    && !awaited
                {
                    self.log("info", "stopped: everyone left before anyone stayed");
                    break;
                }
                match tokio::time::timeout(idle, rx.recv()).await {
                    Ok(event) => event,
                    Err(_) if self.seats.reserved(Instant::now()) > 0 => continue,
                    Err(_) => {
                        self.log(
                            "info",
                            format!("stopped: no members for {}s", idle.as_secs()),
                        );
                        break;
                    }
                }
            } else {
                rx.recv().await
            };
            let Some(event) = event else { break };
            let outcome = match event {
                Event::Join {
                    name,
                    account,
                    seat,
                    reply,
                } => {
                    self.joined_once = true;
                    self.join(&mut running, name, account, seat, reply).await
                }
                Event::Message {
                    member, payload, ..
                } => {
                    if running.members().members.contains_key(&member) {
                        let message = types::Payload::from(payload);
                        self.call(&mut running, |events, store| {
                            Box::pin(async move {
                                events.call_on_message(store, member, &message).await
                            })
                        })
                        .await
                    } else {
                        Ok(())
                    }
                }
                Event::Leave { member } => match running.members_mut().members.remove(&member) {
                    Some(slot) => {
                        let stay = STAYED.min(self.inner.config.idle_grace);
                        self.stayed |= slot.joined.elapsed() >= stay;
                        self.leave(&mut running, member, slot.name, slot.account)
                            .await
                    }
                    None => Ok(()),
                },
                Event::Timer { id, tag } => {
                    if running
                        .store
                        .data_mut()
                        .try_get_mut::<Timers>()
                        .and_then(|t| t.pending.remove(&id))
                        .is_some()
                    {
                        self.call(&mut running, |events, store| {
                            Box::pin(async move { events.call_on_timer(store, &tag).await })
                        })
                        .await
                    } else {
                        Ok(())
                    }
                }
                Event::CloseAccount { account, reason } => {
                    // Their connections end; each leave then runs as usual.
                    for slot in running.members().members.values() {
                        if slot.account.as_deref() == Some(account.as_str()) {
                            slot.closer.close(close::KICKED, reason.clone());
                        }
                    }
                    Ok(())
                }
                Event::Stop { code, reason } => {
                    self.log("info", format!("stopped: {reason}"));
                    for slot in running.members().members.values() {
                        slot.closer.close(code, reason.clone());
                    }
                    break;
                }
            };
            let outcome = match outcome {
                Ok(()) => self.run_deferred_leaves(&mut running).await,
                Err(crash) => Err(crash),
            };
            self.seats.set_members(running.members().members.len());
            if let Err(crash) = outcome {
                self.crash(&mut running, crash);
                break;
            }
        }
        if let Some(timers) = running.store.data().try_get::<Timers>() {
            timers.abort_all();
        }
        for slot in running.members().members.values() {
            slot.closer.close(close::GOING_AWAY, "the room stopped");
        }
        self.inner
            .shared
            .metrics
            .members
            .dec_by(running.members().members.len() as i64);
        drop(running);
        self.finish(rx, None).await;
    }

    /// Stops taking events, answers joins that were waiting (they start a
    /// fresh room), and forgets this room.
    async fn finish(&self, mut rx: mpsc::Receiver<Event>, refuse: Option<(u16, String)>) {
        if let Some((code, reason)) = &refuse {
            self.inner.start_failed(
                (self.spec.app.clone(), self.room.clone()),
                self.generation,
                JoinRefused {
                    code: *code,
                    reason: reason.clone(),
                },
            );
        }
        self.seats.close();
        rx.close();
        while let Some(event) = rx.recv().await {
            if let Event::Join { reply, .. } = event {
                let answer = match &refuse {
                    Some((code, reason)) => JoinReply::Refused(JoinRefused {
                        code: *code,
                        reason: reason.clone(),
                    }),
                    None => JoinReply::Retry,
                };
                let _ = reply.send(answer);
            }
        }
        self.inner
            .remove(&(self.spec.app.clone(), self.room.clone()), self.generation);
        self.inner.shared.metrics.rooms_live.dec();
    }

    fn crash(&self, running: &mut Running, crash: Crash) {
        self.inner
            .shared
            .metrics
            .traps
            .get_or_create(&crate::metrics::TrapLabels { reason: crash.kind })
            .inc();
        self.log("error", format!("crashed: {}", crash.reason));
        let reason = format!("the room crashed: {}", crash.reason);
        for slot in running.members().members.values() {
            slot.closer.close(close::CRASHED, reason.clone());
        }
        if let Some((_, slot)) = &running.members().joining {
            slot.closer.close(close::CRASHED, reason.clone());
        }
    }

    async fn join(
        &mut self,
        running: &mut Running,
        name: String,
        account: Option<String>,
        seat: Option<String>,
        reply: tokio::sync::oneshot::Sender<JoinReply>,
    ) -> Result<(), Crash> {
        if self.spec.unique_names
            && running
                .members()
                .members
                .values()
                .any(|m| super::same_display_name(&m.name, &name))
        {
            let _ = reply.send(JoinReply::Refused(JoinRefused {
                code: close::NAME_TAKEN,
                reason: "that name is taken in this room: choose another".into(),
            }));
            return Ok(());
        }
        // Counts the member from here; a refusal below gives the seat back
        // when the member count is reported after this event (a claimed
        // reservation is spent either way).
        if self.seats.take(seat.as_deref(), Instant::now()).is_err() {
            let max = self.seats.max();
            let held = self.seats.reserved(Instant::now());
            let reason = match held {
                0 => format!("the room is full ({max} members)"),
                n => format!(
                    "the room is full ({max} members, {n} of the seats held for members on their way)"
                ),
            };
            let _ = reply.send(JoinReply::Refused(JoinRefused {
                code: close::FULL,
                reason,
            }));
            return Ok(());
        }
        self.next_member += 1;
        let id = self.next_member;
        let (outbox, inbox) = mpsc::channel(self.inner.config.outbox);
        let closer = Closer::new();
        let queued = Arc::new(AtomicUsize::new(0));
        running.members_mut().joining = Some((
            id,
            MemberSlot {
                name: name.clone(),
                account: account.clone(),
                outbox,
                queued: queued.clone(),
                closer: closer.clone(),
                joined: Instant::now(),
            },
        ));
        let member = types::Member {
            id,
            name: name.clone(),
        };
        let result = self
            .call(running, |events, store| {
                Box::pin(async move { events.call_on_join(store, &member).await })
            })
            .await;
        let slot = running.members_mut().joining.take().map(|(_, slot)| slot);
        match result {
            Err(crash) => {
                let _ = reply.send(JoinReply::Refused(JoinRefused {
                    code: close::CRASHED,
                    reason: format!("the room crashed: {}", crash.reason),
                }));
                Err(crash)
            }
            Ok(Err(reason)) => {
                let _ = reply.send(JoinReply::Refused(JoinRefused {
                    code: close::REFUSED,
                    reason,
                }));
                Ok(())
            }
            Ok(Ok(())) => {
                let Some(slot) = slot else { return Ok(()) };
                if closer.token.is_cancelled() {
                    // Disconnected during its own on-join (outbox overflow).
                    let (code, reason) = closer.reason();
                    let _ = reply.send(JoinReply::Refused(JoinRefused { code, reason }));
                    return Ok(());
                }
                let membership = Membership::Local(LocalMembership {
                    id,
                    outbox: inbox,
                    queued,
                    closer,
                    room: self.mailbox.clone(),
                    mailbox_bytes: self.mailbox_bytes.clone(),
                    threads: self.inner.shared.threads.clone(),
                    app: self.spec.app.as_str().into(),
                    metrics: self.inner.shared.metrics.clone(),
                });
                if reply.send(JoinReply::Joined(Box::new(membership))).is_ok() {
                    running.members_mut().members.insert(id, slot);
                    self.inner.shared.metrics.members.inc();
                    let signed_in = match &account {
                        Some(account) => format!(", signed in as {account}"),
                        None => String::new(),
                    };
                    self.log("info", format!("{name} (#{id}{signed_in}) joined"));
                } else {
                    // The connection went away while joining: it leaves at once.
                    self.inner.shared.metrics.members.inc();
                    return self.leave(running, id, name, account).await;
                }
                Ok(())
            }
        }
    }

    async fn leave(
        &mut self,
        running: &mut Running,
        id: u64,
        name: String,
        account: Option<String>,
    ) -> Result<(), Crash> {
        self.inner.shared.metrics.members.dec();
        self.log("info", format!("{name} (#{id}) left"));
        let member = types::Member { id, name };
        running.members_mut().leaving = Some((id, account));
        let result = self
            .call(running, |events, store| {
                Box::pin(async move { events.call_on_leave(store, &member).await })
            })
            .await;
        running.members_mut().leaving = None;
        result
    }

    /// `on-leave` for members removed during calls (kicked, too slow).
    async fn run_deferred_leaves(&mut self, running: &mut Running) -> Result<(), Crash> {
        let stay = STAYED.min(self.inner.config.idle_grace);
        while let Some((id, name, account, joined)) = running.members_mut().deferred_leaves.pop() {
            self.stayed |= joined.elapsed() >= stay;
            self.leave(running, id, name, account).await?;
        }
        Ok(())
    }

    /// Calls into the guest with a fresh CPU budget, turning a fault into a `Crash`.
    async fn call<R>(
        &self,
        running: &mut Running,
        f: impl for<'a> FnOnce(
            &'a room_events::Guest,
            &'a mut Store<GuestState>,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>,
        >,
    ) -> Result<R, Crash> {
        self.inner.shared.metrics.guest_calls.inc();
        running.store.data_mut().core.cpu.restart();
        running.store.data().core.take_turn().await;
        running.store.set_epoch_deadline(1);
        let budget_ms = self.inner.config.cpu_per_call.as_millis();
        let memory = self.spec.memory_bytes;
        let result = f(&running.events, &mut running.store)
            .await
            .map_err(|e| classify(e, budget_ms, memory));
        running.store.data().core.give_turn_back();
        // A limit a host call found (an oversized message) ends the room like a trap.
        match running.members_mut().fault.take() {
            Some(reason) => Err(Crash {
                kind: "message_too_big",
                reason,
            }),
            None => result,
        }
    }
}

/// Names what went wrong in a guest call.
fn classify(e: wasmtime::Error, budget_ms: u128, memory: usize) -> Crash {
    if e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
        return Crash {
            kind: "cpu_deadline",
            reason: format!("a call ran longer than its CPU deadline of {budget_ms} ms"),
        };
    }
    match MemoryRefused::find(&e) {
        Some(refused @ MemoryRefused::Instance { .. }) => {
            return Crash {
                kind: "memory_limit",
                reason: refused.to_string(),
            };
        }
        Some(refused @ MemoryRefused::Server { .. }) => {
            return Crash {
                kind: "guest_memory",
                reason: refused.to_string(),
            };
        }
        None => {}
    }
    let text = format!("{e:#}");
    if text.contains("growing memory") {
        return Crash {
            kind: "memory_limit",
            reason: format!(
                "it needed more than its memory limit of {} MiB",
                memory >> 20
            ),
        };
    }
    let (kind, reason) = crate::fault::describe(&e);
    Crash { kind, reason }
}
