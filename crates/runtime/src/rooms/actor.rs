//! One room's task: owns the instance and its store, handles the mailbox one
//! event at a time, and ends the room (only this room) on a guest fault.

use super::events::{EventIndices, RoomEvents};
use super::listing::{Board, ListedMember, Listing};
use super::seats::Seats;
use super::{
    Closer, Command, CommandRefused, Directory, Event, Inner, JoinRefused, JoinReply, Joiner,
    LocalMembership, MemberRole, MemberView, Membership, Metadata, Ready, RoomSettings, RoomSpec,
    close,
};
use crate::bindings::lodge::app::types;
use crate::capabilities::{GuestState, InstanceContext, MemberSlot, Members, RoomContext, Timers};
use crate::epoch::{GuestCore, guest_store};
use crate::memory::{GuestLimits, MemoryRefused};
use lodge_manifest::{LateJoin, Phase, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use wasmtime::Store;

/// What a room starts with, besides its app's spec.
pub(crate) struct Setup {
    pub room: String,
    pub generation: u64,
    pub mailbox: mpsc::Sender<Event>,
    /// Members and reservations; shared with the room's live-rooms entry.
    pub seats: Arc<Seats>,
    pub settings: Arc<RoomSettings>,
    /// Where the room list reads the room's state.
    pub board: Arc<Board>,
    /// The room's metadata at its start.
    pub metadata: Metadata,
    /// When it started (Unix ms).
    pub started_ms: i64,
    /// The room was started by a join, whose member needs no invite to get
    /// into it (a room made through the API answered its creator an invite
    /// instead).
    pub first_join_free: bool,
    /// The ownership number this server holds the room under, which its kv
    /// writes carry (`None` on one server).
    pub fence: Option<i64>,
    /// Told once whether the instance started.
    pub ready: watch::Sender<Ready>,
}

pub(crate) struct RoomActor {
    inner: Arc<Inner>,
    spec: RoomSpec,
    setup: Setup,
    next_member: u64,
    /// The byte budget of member messages waiting in the mailbox.
    mailbox_bytes: Arc<Semaphore>,
    /// Whether anyone has been let in yet (past the room's own checks: an
    /// invite, a seat, the late-join policy), so the room part saw a join.
    joined_once: bool,
    /// Whether any member stayed at least [`STAYED`]; a room nobody stayed in
    /// stops as soon as it is empty instead of idling.
    stayed: bool,
}

/// How long a member must stay (or the idle grace, if shorter) for the room
/// to idle after everyone left.
const STAYED: Duration = Duration::from_secs(5);

/// Seats one client address may have held for it in a room at once: a drop
/// past these is a leave, so nobody fills a room with connections they
/// opened and dropped.
pub(crate) const MAX_HELD_PER_ADDRESS: usize = 4;

/// Why a guest call failed: the room ends with this reason.
struct Crash {
    kind: &'static str,
    reason: String,
}

struct Running {
    store: Store<GuestState>,
    /// The room's exported `room-events`, in its version.
    events: RoomEvents,
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

    /// The member whose resume token is `token`.
    fn member_by_resume(&self, token: &str) -> Option<u64> {
        self.members()
            .members
            .iter()
            .find(|(_, slot)| slot.resume.as_deref() == Some(token))
            .map(|(id, _)| *id)
    }
}

/// What a member's command does.
enum Decision {
    Nothing,
    Start,
    SetHost(u64),
}

/// A member as the room part's events see them.
fn member(id: u64, name: &str) -> types::Member {
    types::Member {
        id,
        name: name.to_owned(),
    }
}

impl RoomActor {
    pub(crate) fn new(inner: Arc<Inner>, spec: RoomSpec, setup: Setup) -> Self {
        Self {
            spec,
            setup,
            next_member: 0,
            mailbox_bytes: Arc::new(Semaphore::new(inner.config.mailbox_bytes)),
            joined_once: false,
            stayed: false,
            inner,
        }
    }

    fn settings(&self) -> &RoomSettings {
        &self.setup.settings
    }

    fn log(&self, level: &'static str, message: impl Into<String>) {
        self.inner
            .shared
            .logs
            .lodge(&self.spec.app, Some(&self.setup.room), level, message);
    }

    async fn start(&self) -> anyhow::Result<Running> {
        let component = self.inner.shared.loader.load(&self.spec.sha256).await?;
        let linker = self
            .inner
            .linkers
            .get(Role::Room, &self.spec.capabilities)?;
        let pre = linker.instantiate_pre(&component)?;
        let indices = EventIndices::new(&pre)?;
        let config = &self.inner.config;
        let directory: Arc<dyn Directory> = self.inner.clone();
        let ctx = InstanceContext {
            shared: &self.inner.shared,
            role: Role::Room,
            app: &self.spec.app,
            room: Some(RoomContext {
                name: &self.setup.room,
                mailbox: &self.setup.mailbox,
                config,
                directory: &directory,
                settings: &self.setup.settings,
                seats: &self.setup.seats,
                metadata: &self.setup.metadata,
                fence: self.setup.fence,
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
                self.setup.ready.send_replace(Some(Err(JoinRefused {
                    code,
                    reason: reason.clone(),
                })));
                self.finish(rx, Some((code, reason))).await;
                return;
            }
        };
        self.setup.ready.send_replace(Some(Ok(())));
        self.log("info", format!("started (version {})", self.spec.version));
        self.publish_as(&mut running, &["opened"]);
        let idle = self.inner.config.idle_grace;
        loop {
            let event = if running.members().members.is_empty() {
                // Seats held for members on their way keep the room up.
                let awaited = self.setup.seats.reserved(Instant::now()) > 0;
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
                    Err(_) if self.setup.seats.reserved(Instant::now()) > 0 => continue,
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
                Event::Join { joiner, reply } => self.join(&mut running, joiner, reply).await,
                Event::Message {
                    member, payload, ..
                } => {
                    if running.members().members.contains_key(&member) {
                        let message = types::Payload::from(payload);
                        self.call(&mut running, |events, store| {
                            Box::pin(
                                async move { events.on_message(store, member, &message).await },
                            )
                        })
                        .await
                    } else {
                        Ok(())
                    }
                }
                Event::Leave { member, attachment } => {
                    self.end(&mut running, member, attachment, "left").await
                }
                Event::Drop { member, attachment } => {
                    self.dropped(&mut running, member, attachment).await
                }
                Event::Expire { member, attachment } => {
                    let away = running
                        .members()
                        .members
                        .get(&member)
                        .is_some_and(|m| m.attachment == attachment && m.away_since.is_some());
                    if away {
                        let wait = self.settings().reconnect.as_secs();
                        let how = format!("left (did not come back within {wait} s)");
                        self.end(&mut running, member, attachment, &how).await
                    } else {
                        Ok(())
                    }
                }
                Event::Timer { id, tag } => {
                    if running
                        .store
                        .data_mut()
                        .try_get_mut::<Timers>()
                        .and_then(|t| t.pending.remove(&id))
                        .is_some()
                    {
                        self.call(&mut running, |events, store| {
                            Box::pin(async move { events.on_timer(store, &tag).await })
                        })
                        .await
                    } else {
                        Ok(())
                    }
                }
                Event::CloseAccount { account, reason } => {
                    // Their connections end and their seats are not held.
                    let ids: Vec<u64> = running
                        .members()
                        .members
                        .iter()
                        .filter(|(_, slot)| slot.account.as_deref() == Some(account.as_str()))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        let members = running.members_mut();
                        if let Some(slot) = members.members.get(&id) {
                            slot.closer.close(close::KICKED, reason.clone());
                        }
                        members.remove(id);
                    }
                    Ok(())
                }
                Event::Command {
                    resume,
                    command,
                    reply,
                } => self.command(&mut running, &resume, command, reply).await,
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
            self.publish(&mut running);
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

    /// After an event that changed who is in the room or what the room part
    /// set: a host if there is none, the seat count, and the room list's view.
    fn publish(&self, running: &mut Running) {
        self.publish_as(running, &[]);
    }

    /// [`publish`](Self::publish), telling live lists what changed, and
    /// `also` (the room opened).
    fn publish_as(&self, running: &mut Running, also: &[&'static str]) {
        let members = running.members_mut();
        if !members.control.dirty && also.is_empty() {
            return;
        }
        members.control.dirty = false;
        members.ensure_host();
        let players = members.count(MemberRole::Player);
        self.setup.seats.set_members(players);
        let listing = Listing {
            phase: members.control.phase,
            host: members.control.host,
            metadata: members.control.metadata.clone(),
            members: members
                .members
                .iter()
                .map(|(id, slot)| ListedMember {
                    id: *id,
                    name: slot.name.clone(),
                    role: slot.role,
                    connected: slot.away_since.is_none(),
                })
                .collect(),
        };
        let mut what = also.to_vec();
        what.extend(self.setup.board.publish(listing));
        if what.is_empty() {
            return;
        }
        let info = self.info();
        self.inner.changes.emit(
            &self.spec.app,
            &self.setup.room,
            self.settings().visibility,
            &what,
            Some(&info),
        );
    }

    /// The room as lists show it now.
    fn info(&self) -> super::RoomInfo {
        super::RoomInfo::new(
            self.setup.room.clone(),
            self.spec.version.to_string(),
            self.setup.started_ms,
            self.settings(),
            self.setup.seats.reserved(Instant::now()),
            self.setup.board.read(),
        )
    }

    /// Stops taking events, answers joins that were waiting (they start a
    /// fresh room), and forgets this room.
    async fn finish(&self, mut rx: mpsc::Receiver<Event>, refuse: Option<(u16, String)>) {
        let key = (self.spec.app.clone(), self.setup.room.clone());
        if let Some((code, reason)) = &refuse {
            self.inner.start_failed(
                key.clone(),
                self.setup.generation,
                JoinRefused {
                    code: *code,
                    reason: reason.clone(),
                },
            );
        }
        self.setup.seats.close();
        rx.close();
        while let Some(event) = rx.recv().await {
            match event {
                Event::Join { reply, .. } => {
                    let answer = match &refuse {
                        Some((code, reason)) => JoinReply::Refused(JoinRefused {
                            code: *code,
                            reason: reason.clone(),
                        }),
                        None => JoinReply::Retry,
                    };
                    let _ = reply.send(answer);
                }
                Event::Command { reply, .. } => {
                    let _ = reply.send(Err(CommandRefused::NoRoom));
                }
                _ => {}
            }
        }
        self.inner.remove(&key, self.setup.generation);
        self.inner.shared.metrics.rooms_live.dec();
        if refuse.is_none() {
            self.inner.changes.emit(
                &self.spec.app,
                &self.setup.room,
                self.settings().visibility,
                &["closed"],
                None,
            );
        }
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

    /// Why `joiner` may not come in as it asks, if so; else the role it
    /// takes (its seat is taken when it is a player).
    fn admit(
        &self,
        running: &Running,
        joiner: &Joiner,
        first: bool,
    ) -> Result<MemberRole, JoinRefused> {
        let refused = |code, reason: String| JoinRefused { code, reason };
        let settings = self.settings();
        // The member who starts a room by joining it needs no invite.
        let free = first && self.setup.first_join_free;
        if settings.needs_admission() && !joiner.admitted && !free {
            return Err(match settings.password {
                Some(_) => refused(
                    close::PASSWORD_REQUIRED,
                    "this room has a password: enter it to join".into(),
                ),
                None => refused(
                    close::INVITE_REQUIRED,
                    "this room is invite-only: ask someone in it for an invite link".into(),
                ),
            });
        }
        let members = running.members();
        if self.spec.unique_names
            && members
                .members
                .values()
                .any(|m| super::same_display_name(&m.name, &joiner.name))
        {
            return Err(refused(
                close::NAME_TAKEN,
                "that name is taken in this room: choose another".into(),
            ));
        }
        let role = if joiner.spectate {
            MemberRole::Spectator
        } else if members.control.phase == Phase::Playing {
            match settings.late_join {
                LateJoin::Allow => MemberRole::Player,
                LateJoin::Spectate => MemberRole::Spectator,
                LateJoin::Deny => {
                    return Err(refused(
                        close::LATE_JOIN_DENIED,
                        "the game has started and takes no one new until it is back in its lobby"
                            .into(),
                    ));
                }
            }
        } else {
            MemberRole::Player
        };
        match role {
            MemberRole::Spectator => {
                let max = settings.max_spectators;
                if max == 0 {
                    return Err(refused(
                        close::NO_SPECTATORS,
                        "this room takes no spectators".into(),
                    ));
                }
                if members.count(MemberRole::Spectator) >= max as usize {
                    return Err(refused(
                        close::NO_SPECTATORS,
                        format!("the room has its most spectators ({max})"),
                    ));
                }
            }
            // Counts the member from here; a refusal below gives the seat back
            // when the room publishes its count after this event (a claimed
            // reservation is spent either way).
            MemberRole::Player => {
                if self
                    .setup
                    .seats
                    .take(joiner.seat.as_deref(), Instant::now())
                    .is_err()
                {
                    let max = self.setup.seats.max();
                    let held = self.setup.seats.reserved(Instant::now());
                    let reason = match held {
                        0 => format!("the room is full ({max} players)"),
                        n => format!(
                            "the room is full ({max} players, {n} of the seats held for members on their way)"
                        ),
                    };
                    return Err(refused(close::FULL, reason));
                }
            }
        }
        Ok(role)
    }

    async fn join(
        &mut self,
        running: &mut Running,
        joiner: Joiner,
        reply: oneshot::Sender<JoinReply>,
    ) -> Result<(), Crash> {
        let first = !self.joined_once;
        running.members_mut().control.dirty = true;
        if let Some(token) = &joiner.resume
            && let Some(id) = running.member_by_resume(token)
        {
            return self.rejoin(running, id, &joiner, reply).await;
        }
        let role = match self.admit(running, &joiner, first) {
            Ok(role) => role,
            Err(refused) => {
                let _ = reply.send(JoinReply::Refused(refused));
                return Ok(());
            }
        };
        self.joined_once = true;
        let Joiner {
            name,
            account,
            resume,
            client: joiner_client,
            ..
        } = joiner;
        self.next_member += 1;
        let id = self.next_member;
        let mut slot = MemberSlot::new(
            name.clone(),
            account.clone(),
            role,
            resume,
            self.inner.config.outbox,
        );
        slot.client = Some(crate::rate::subscriber(joiner_client));
        let membership = self.membership(id, &slot);
        let closer = slot.closer.clone();
        running.members_mut().joining = Some((id, slot));
        let joining = member(id, &name);
        let result = self
            .call(running, |events, store| {
                Box::pin(async move { events.on_join(store, &joining).await })
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
                running.members_mut().members.insert(id, slot);
                self.inner.shared.metrics.members.inc();
                self.publish(running);
                if reply.send(JoinReply::Joined(Box::new(membership))).is_ok() {
                    let signed_in = match &account {
                        Some(account) => format!(", signed in as {account}"),
                        None => String::new(),
                    };
                    let watching = match role {
                        MemberRole::Spectator => " to watch",
                        MemberRole::Player => "",
                    };
                    self.log(
                        "info",
                        format!("{name} (#{id}{signed_in}) joined{watching}"),
                    );
                    Ok(())
                } else {
                    // The connection went away while joining: it leaves at once.
                    self.end(running, id, 0, "left while joining").await
                }
            }
        }
    }

    /// A connection for member `id` (its current attachment).
    fn membership(&self, id: u64, slot: &MemberSlot) -> Membership {
        Membership::Local(LocalMembership {
            id,
            attachment: slot.attachment,
            inbox: slot.inbox.clone(),
            queued: slot.queued.clone(),
            closer: slot.closer.clone(),
            room: self.setup.mailbox.clone(),
            mailbox_bytes: self.mailbox_bytes.clone(),
            threads: self.inner.shared.threads.clone(),
            app: self.spec.app.as_str().into(),
            metrics: self.inner.shared.metrics.clone(),
        })
    }

    /// Member `id` connects again with its resume token: after a drop (the
    /// room part sees `on-rejoin`), or while its old connection still looks
    /// alive, as a reloaded page's does for a moment (that one is closed with
    /// `REPLACED`, and the room part sees `on-drop` then `on-rejoin`: the new
    /// connection is a client starting from nothing).
    async fn rejoin(
        &mut self,
        running: &mut Running,
        id: u64,
        joiner: &Joiner,
        reply: oneshot::Sender<JoinReply>,
    ) -> Result<(), Crash> {
        let Some(slot) = running.members_mut().members.get_mut(&id) else {
            return Ok(());
        };
        if slot.account != joiner.account {
            let _ = reply.send(JoinReply::Refused(JoinRefused {
                code: close::REFUSED,
                reason: "that resume token is another member's".into(),
            }));
            return Ok(());
        }
        let was_away = slot.away_since.take().is_some();
        if !was_away {
            slot.closer.close(
                close::REPLACED,
                "you joined this room again from another connection",
            );
        }
        slot.attachment += 1;
        slot.closer = Closer::new();
        let name = slot.name.clone();
        let membership = self.membership(id, slot);
        running.members_mut().control.dirty = true;
        self.publish(running);
        if reply.send(JoinReply::Joined(Box::new(membership))).is_err() {
            // Gone again before it got here: the seat stays held.
            let attachment = running.members().members[&id].attachment;
            return self.dropped(running, id, attachment).await;
        }
        let back = member(id, &name);
        if was_away {
            self.log("info", format!("{name} (#{id}) came back"));
        } else {
            self.log(
                "info",
                format!("{name} (#{id}) connected again, replacing their connection"),
            );
            let gone = back.clone();
            self.call(running, |events, store| {
                Box::pin(async move { events.on_drop(store, &gone).await })
            })
            .await?;
        }
        self.call(running, |events, store| {
            Box::pin(async move { events.on_rejoin(store, &back).await })
        })
        .await
    }

    /// Member `id`'s connection `attachment` dropped: their seat is held
    /// when they can come back (a resume token, and `reconnect-seconds`),
    /// else they leave.
    async fn dropped(
        &mut self,
        running: &mut Running,
        id: u64,
        attachment: u64,
    ) -> Result<(), Crash> {
        let wait = self.settings().reconnect;
        let members = running.members();
        let Some(slot) = members.members.get(&id) else {
            return Ok(());
        };
        if slot.attachment != attachment || slot.away_since.is_some() {
            return Ok(());
        }
        let held_for_address = members
            .members
            .values()
            .filter(|m| m.away_since.is_some() && m.client.is_some() && m.client == slot.client)
            .count();
        if wait.is_zero() || slot.resume.is_none() {
            return self.end(running, id, attachment, "left").await;
        }
        if held_for_address >= MAX_HELD_PER_ADDRESS {
            let how = format!(
                "left (dropped, and {MAX_HELD_PER_ADDRESS} seats are already held for their address)"
            );
            return self.end(running, id, attachment, &how).await;
        }
        let Some(slot) = running.members_mut().members.get_mut(&id) else {
            return Ok(());
        };
        slot.away_since = Some(Instant::now());
        let name = slot.name.clone();
        running.members_mut().control.dirty = true;
        let mailbox = self.setup.mailbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = mailbox
                .send(Event::Expire {
                    member: id,
                    attachment,
                })
                .await;
        });
        self.log(
            "info",
            format!(
                "{name} (#{id}) dropped; their seat is held for {} s",
                wait.as_secs()
            ),
        );
        let gone = member(id, &name);
        self.call(running, |events, store| {
            Box::pin(async move { events.on_drop(store, &gone).await })
        })
        .await
    }

    /// Member `id` is gone for good (if `attachment` is still theirs):
    /// `on-leave`.
    async fn end(
        &mut self,
        running: &mut Running,
        id: u64,
        attachment: u64,
        how: &str,
    ) -> Result<(), Crash> {
        let current = running
            .members()
            .members
            .get(&id)
            .is_some_and(|m| m.attachment == attachment);
        if !current {
            return Ok(());
        }
        let Some(slot) = running.members_mut().members.remove(&id) else {
            return Ok(());
        };
        running.members_mut().control.dirty = true;
        let stay = STAYED.min(self.inner.config.idle_grace);
        self.stayed |= slot.joined.elapsed() >= stay;
        self.leave(running, id, slot.name, slot.account, how).await
    }

    async fn leave(
        &mut self,
        running: &mut Running,
        id: u64,
        name: String,
        account: Option<String>,
        how: &str,
    ) -> Result<(), Crash> {
        self.inner.shared.metrics.members.dec();
        self.log("info", format!("{name} (#{id}) {how}"));
        let gone = member(id, &name);
        running.members_mut().leaving = Some((id, account));
        let result = self
            .call(running, |events, store| {
                Box::pin(async move { events.on_leave(store, &gone).await })
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
            self.leave(running, id, name, account, "left").await?;
        }
        Ok(())
    }

    /// Does what a member asked of the room (`Rooms::command`).
    async fn command(
        &mut self,
        running: &mut Running,
        resume: &str,
        command: Command,
        reply: oneshot::Sender<Result<MemberView, CommandRefused>>,
    ) -> Result<(), Crash> {
        running.members_mut().control.dirty = true;
        running.members_mut().ensure_host();
        let Some(id) = running.member_by_resume(resume) else {
            let _ = reply.send(Err(CommandRefused::NotAMember));
            return Ok(());
        };
        let started = match self.decide(running, id, command) {
            Ok(Decision::Nothing) => false,
            Ok(Decision::Start) => true,
            Ok(Decision::SetHost(to)) => {
                running.members_mut().control.host = Some(to);
                false
            }
            Err(refused) => {
                let _ = reply.send(Err(refused));
                return Ok(());
            }
        };
        if started {
            running.members_mut().control.phase = Phase::Playing;
            let name = running.members().members[&id].name.clone();
            self.log("info", format!("{name} (#{id}) started the game"));
            let result = self
                .call(running, |events, store| {
                    Box::pin(async move { events.on_phase(store, Phase::Playing).await })
                })
                .await;
            if let Err(crash) = result {
                let _ = reply.send(Err(CommandRefused::Crashed(crash.reason.clone())));
                return Err(crash);
            }
        }
        // The answer and the room list agree from the moment it is read.
        self.publish(running);
        let members = running.members();
        let view = members.members.get(&id).map(|slot| MemberView {
            member: id,
            name: slot.name.clone(),
            role: slot.role,
            host: members.control.host == Some(id),
            phase: members.control.phase,
        });
        let _ = reply.send(view.ok_or(CommandRefused::NotAMember));
        Ok(())
    }

    /// What member `id`'s `command` does, if they may.
    fn decide(
        &self,
        running: &Running,
        id: u64,
        command: Command,
    ) -> Result<Decision, CommandRefused> {
        let members = running.members();
        let control = &members.control;
        let is_host = control.host == Some(id);
        let host_name = || {
            control
                .host
                .and_then(|h| members.members.get(&h))
                .map_or_else(|| "nobody".to_owned(), |m| m.name.clone())
        };
        match command {
            Command::Identify => Ok(Decision::Nothing),
            Command::Start | Command::SetHost(_) if !is_host => {
                Err(CommandRefused::NotHost { host: host_name() })
            }
            Command::Start if control.phase == Phase::Playing => {
                Err(CommandRefused::AlreadyPlaying)
            }
            Command::Start => Ok(Decision::Start),
            Command::SetHost(to) => match running.members().members.get(&to).map(|m| m.role) {
                Some(MemberRole::Player) => Ok(Decision::SetHost(to)),
                Some(MemberRole::Spectator) => Err(CommandRefused::Invalid(format!(
                    "member #{to} is a spectator; only a player can be the host"
                ))),
                None => Err(CommandRefused::Invalid(format!(
                    "member #{to} is not in the room"
                ))),
            },
        }
    }

    /// Calls into the guest with a fresh CPU budget, turning a fault into a `Crash`.
    async fn call<R>(
        &self,
        running: &mut Running,
        f: impl for<'a> FnOnce(
            &'a RoomEvents,
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
