//! Rooms: one live instance of an app's room part per named room, each in
//! its own task with its own mailbox, its members connected elsewhere (the
//! server's WebSocket gateway) through a [`Membership`].

mod actor;
mod changes;
mod codes;
mod command;
mod create;
mod events;
mod listing;
mod placement;
mod remote;
mod seats;
mod settings;

pub use changes::RoomChange;
pub use command::{Command, CommandRefused, MemberView};
pub use create::{CreateRefused, Created, NewRoom, Reservation, StartRefused};
pub use listing::{ListedMember, RoomInfo};
pub use placement::{Located, Placed, Placement};
pub use remote::SharedRoom;
pub use seats::SEAT_RESERVATION;
pub(crate) use seats::Seats;
pub use settings::{
    MAX_METADATA_KEY, MAX_METADATA_KEYS, MAX_METADATA_VALUE, MemberRole, Metadata, MetadataRefused,
    RoomSettings, check_metadata, set_metadata,
};

use crate::capabilities::Linkers;
use crate::metrics::Metrics;
use crate::rate::RateLimiter;
use crate::sched::GuestThreads;
use crate::shared::Shared;
use bytes::Bytes;
use lodge_manifest::{CapabilityName, LateJoin, RoomStart, RoomVisibility};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// WebSocket close codes Lodge uses; 4000-4999 are application codes.
pub mod close {
    /// A normal close: the member left.
    pub const NORMAL: u16 = 1000;
    /// The server is going away (shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// The member didn't read its messages (policy violation).
    pub const TOO_SLOW: u16 = 1008;
    /// A message was larger than the limit.
    pub const TOO_BIG: u16 = 1009;
    /// The room crashed (trap, CPU deadline, memory limit).
    pub const CRASHED: u16 = 1011;
    /// The room restarted on a new version.
    pub const RESTART: u16 = 1012;
    /// Try again later: a server limit was reached (rooms, room starts,
    /// guest memory), or the room kept restarting. The reason names it.
    pub const TRY_AGAIN: u16 = 1013;
    /// The app refused the join in `on-join`.
    pub const REFUSED: u16 = 4001;
    /// The room has `max-members` members.
    pub const FULL: u16 = 4002;
    /// The app kicked the member.
    pub const KICKED: u16 = 4003;
    /// The room could not start (see the app log).
    pub const UNAVAILABLE: u16 = 4004;
    /// The room has `unique-names` and a member already has this name, or
    /// a guest asked for the name of an account.
    pub const NAME_TAKEN: u16 = 4005;
    /// The app's rooms are for signed-in members (`[room].require-account`).
    pub const SIGN_IN_REQUIRED: u16 = 4006;
    /// A newer connection with the member's resume token took their place.
    pub const REPLACED: u16 = 4007;
    /// The invite expired, is forged, or is for another room (the reason says which).
    pub const INVITE_INVALID: u16 = 4008;
    /// The room is invite-only, and the join brought no invite.
    pub const INVITE_REQUIRED: u16 = 4009;
    /// The room has a password, and the join brought no admission for it.
    pub const PASSWORD_REQUIRED: u16 = 4010;
    /// The room is playing and takes no one new (`[room].late-join = "deny"`).
    pub const LATE_JOIN_DENIED: u16 = 4011;
    /// The room takes no spectators, or has its most.
    pub const NO_SPECTATORS: u16 = 4012;
    /// The room is moving to another server (its server stopped, or lost
    /// touch with the cluster): reconnect, and it goes on there.
    pub const MOVED: u16 = 4013;
}

/// A message between a member and its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// UTF-8 text.
    Text(Bytes),
    Binary(Bytes),
}

impl Payload {
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(b) | Payload::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Start failures remembered at once (see `Inner::failed_starts`).
const MAX_FAILED_STARTS: usize = 1024;

/// Who joins a room.
#[derive(Debug, Clone)]
pub struct Joiner {
    /// The display name (a signed-in member's username).
    pub name: String,
    /// The account the member signed in with (the caller verified it),
    /// `None` for a guest; the room's `identity` capability tells the guest
    /// which.
    pub account: Option<String>,
    /// A reservation's token ([`Rooms::join_or_create`], an invite's seat):
    /// it takes the seat it holds, even in a room otherwise full; an unknown
    /// or expired one is ignored.
    pub seat: Option<String>,
    /// Where the member connects from (room starts are rate limited per address).
    pub client: IpAddr,
    /// Join as a spectator.
    pub spectate: bool,
    /// The member's resume token: a later connection presenting it within
    /// `reconnect-seconds` of a drop is the same member.
    pub resume: Option<String>,
    /// The caller checked an invite to this room (or the password it
    /// admits with): rooms that need one let the member in.
    pub admitted: bool,
}

impl Joiner {
    /// A plain join: a player with no seat, invite or resume token.
    pub fn new(name: impl Into<String>, account: Option<String>, client: IpAddr) -> Self {
        Self {
            name: name.into(),
            account,
            seat: None,
            client,
            spectate: false,
            resume: None,
            admitted: false,
        }
    }
}

/// How a member's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// They closed it (a normal close): they leave at once.
    Left,
    /// It dropped (an error, no answer to pings, a page going away): their
    /// seat is held for `reconnect-seconds` if they can come back.
    Dropped,
}

/// What to run for a room: one app version's room part.
#[derive(Debug, Clone)]
pub struct RoomSpec {
    pub app: String,
    pub version: semver::Version,
    pub sha256: String,
    pub capabilities: Vec<CapabilityName>,
    pub max_members: u32,
    /// Live rooms of this app at once (`[room].max-rooms`, else the server's default).
    pub max_rooms: u32,
    /// Linear memory the room may grow to.
    pub memory_bytes: usize,
    /// `[room].visibility`: who sees the room in the app's room list.
    pub visibility: RoomVisibility,
    /// `[room].unique-names`: a join whose name is taken is refused.
    pub unique_names: bool,
    /// `[room].require-account`: only signed-in members may join (the
    /// gateway refuses guests before joining).
    pub require_account: bool,
    /// `[room].start`.
    pub start: RoomStart,
    /// `[room].late-join`.
    pub late_join: LateJoin,
    /// `[room].max-spectators` (0 without `spectators = true`).
    pub max_spectators: u32,
    /// `[room].reconnect-seconds`.
    pub reconnect: Duration,
}

impl RoomSpec {
    /// The settings of a room started by a join: the app's, unchanged.
    pub fn settings(&self) -> RoomSettings {
        RoomSettings {
            max_players: self.max_members,
            max_spectators: self.max_spectators,
            start: self.start,
            late_join: self.late_join,
            visibility: self.visibility,
            reconnect: self.reconnect,
            password: None,
        }
    }
}

/// Server-wide room settings (`lodge serve` flags).
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// CPU time one guest call may take before the room is ended.
    pub cpu_per_call: Duration,
    /// Linear memory a room may grow to when its manifest doesn't say.
    pub memory_bytes: usize,
    /// The most a manifest may ask for (`[room].memory-mib`).
    pub max_memory_bytes: usize,
    /// How long a room with no members lives on.
    pub idle_grace: Duration,
    /// Messages queued per member before they count as too slow.
    pub outbox: usize,
    /// Bytes queued per member before they count as too slow.
    pub outbox_bytes: usize,
    /// Events queued per room before senders wait.
    pub mailbox: usize,
    /// Bytes of members' messages queued per room before senders wait.
    pub mailbox_bytes: usize,
    /// The largest message a member may send, and a room may send to a member.
    pub max_message_bytes: usize,
    /// Live rooms across every app; a join that would start one more is refused.
    pub max_rooms: usize,
    /// Live rooms of one app when its manifest doesn't say (`[room].max-rooms`).
    pub rooms_per_app: u32,
    /// Rooms one client address may start per minute.
    pub starts_per_minute: u32,
    /// Pending timers per room.
    pub max_timers: usize,
    /// `max-members` when the manifest doesn't say.
    pub default_max_members: u32,
    /// How long a reserved seat (join-or-create) waits for its member.
    pub seat_reservation: Duration,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            cpu_per_call: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            max_memory_bytes: 256 << 20,
            idle_grace: Duration::from_secs(30),
            outbox: 1024,
            outbox_bytes: 1 << 20,
            mailbox: 4096,
            mailbox_bytes: 4 << 20,
            max_message_bytes: 64 << 10,
            max_rooms: 500,
            rooms_per_app: 100,
            starts_per_minute: 60,
            max_timers: 64,
            default_max_members: 1000,
            seat_reservation: SEAT_RESERVATION,
        }
    }
}

/// Why a join didn't happen; `code` and `reason` go in the close frame.
#[derive(Debug, Clone)]
pub struct JoinRefused {
    pub code: u16,
    pub reason: String,
}

/// How a member's connection is told to close, from anywhere.
pub struct Closer {
    token: CancellationToken,
    reason: Mutex<Option<(u16, String)>>,
}

impl Closer {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            token: CancellationToken::new(),
            reason: Mutex::new(None),
        })
    }

    /// Closes with `code` and `reason`; the first close wins.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut slot = self.reason.lock().expect("closer lock");
        if slot.is_none() {
            *slot = Some((code, reason.into()));
        }
        self.token.cancel();
    }

    fn reason(&self) -> (u16, String) {
        self.reason
            .lock()
            .expect("closer lock")
            .clone()
            .unwrap_or((close::GOING_AWAY, "the room stopped".into()))
    }
}

/// What the connection should do next.
#[derive(Debug)]
pub enum Outgoing {
    Message(Payload),
    Close { code: u16, reason: String },
}

/// One member's link to its room, wherever the room runs. A room on this
/// server today; a room on another server later is one more variant here,
/// and the gateway, which only calls these methods, does not change.
pub enum Membership {
    Local(LocalMembership),
}

impl Membership {
    /// The next thing to send to the member's connection.
    pub async fn next(&mut self) -> Outgoing {
        match self {
            Membership::Local(m) => m.next().await,
        }
    }

    /// A message already queued for the member, without waiting.
    pub fn try_next(&mut self) -> Option<Payload> {
        match self {
            Membership::Local(m) => m.try_next(),
        }
    }

    /// Resolves once the room has closed this member (kicked, too slow, crashed, stopped).
    pub async fn closed(&self) {
        match self {
            Membership::Local(m) => m.closed().await,
        }
    }

    /// Passes a message from the member to the room; the future waits
    /// while the room is busy and owns what it needs, so the connection can
    /// keep serving the member's outbox meanwhile. False when the room is gone.
    pub fn send(&self, payload: Payload) -> impl Future<Output = bool> + Send + 'static {
        match self {
            Membership::Local(m) => m.send(payload),
        }
    }

    /// Tells the room how the member's connection ended.
    pub async fn end(self, how: Ended) {
        match self {
            Membership::Local(m) => m.end(how).await,
        }
    }
}

/// A member's link to a room of this server: its outbox, close signal and
/// the room's mailbox.
pub struct LocalMembership {
    id: u64,
    /// Which of the member's connections this is.
    attachment: u64,
    /// The member's outbox, which outlives this connection when it drops.
    inbox: crate::capabilities::Inbox,
    /// Bytes waiting in the outbox (the room adds, the connection takes away).
    queued: Arc<AtomicUsize>,
    closer: Arc<Closer>,
    room: mpsc::Sender<Event>,
    /// The room's byte budget for messages waiting in its mailbox.
    mailbox_bytes: Arc<Semaphore>,
    metrics: Metrics,
    /// Where the room runs, told when a message is on its way.
    threads: GuestThreads,
    app: Arc<str>,
}

impl LocalMembership {
    /// The next thing to send to the member's connection.
    async fn next(&mut self) -> Outgoing {
        let closed = || {
            let (code, reason) = self.closer.reason();
            Outgoing::Close { code, reason }
        };
        // The outbox is this connection's alone unless a newer one took the
        // member over, which closes this one first.
        let mut inbox = tokio::select! {
            biased;
            _ = self.closer.token.cancelled() => return closed(),
            inbox = self.inbox.lock() => inbox,
        };
        tokio::select! {
            biased;
            _ = self.closer.token.cancelled() => closed(),
            message = inbox.recv() => match message {
                Some(payload) => {
                    self.queued.fetch_sub(payload.len(), Ordering::Relaxed);
                    Outgoing::Message(payload)
                }
                None => closed(),
            }
        }
    }

    /// A message already queued for the member, without waiting.
    fn try_next(&mut self) -> Option<Payload> {
        let payload = self.inbox.try_lock().ok()?.try_recv().ok()?;
        Some(self.taken(payload))
    }

    fn taken(&self, payload: Payload) -> Payload {
        self.queued.fetch_sub(payload.len(), Ordering::Relaxed);
        payload
    }

    /// Resolves once the room has closed this member (kicked, too slow, crashed, stopped).
    async fn closed(&self) {
        self.closer.token.cancelled().await
    }

    /// Passes a message from the member to the room; the future waits
    /// while the room's mailbox is full (by count or by bytes), and owns
    /// what it needs, so the connection can keep serving the member's
    /// outbox meanwhile. False when the room is gone.
    fn send(&self, payload: Payload) -> impl Future<Output = bool> + Send + 'static {
        self.metrics.messages_in.inc();
        let (member, room, mailbox_bytes) =
            (self.id, self.room.clone(), self.mailbox_bytes.clone());
        let (threads, app) = (self.threads.clone(), self.app.clone());
        async move {
            // Messages are at most `max_message_bytes`, which the budget always covers.
            let bytes = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            let Ok(budget) = mailbox_bytes.acquire_many_owned(bytes).await else {
                return false;
            };
            let sent = room
                .send(Event::Message {
                    member,
                    payload,
                    _budget: budget,
                })
                .await
                .is_ok();
            threads.nudge(&app);
            sent
        }
    }

    /// Tells the room how this connection ended.
    async fn end(self, how: Ended) {
        let (member, attachment) = (self.id, self.attachment);
        let event = match how {
            Ended::Left => Event::Leave { member, attachment },
            Ended::Dropped => Event::Drop { member, attachment },
        };
        let _ = self.room.send(event).await;
    }
}

/// An event in a room's mailbox.
pub(crate) enum Event {
    Join {
        joiner: Joiner,
        reply: oneshot::Sender<JoinReply>,
    },
    Message {
        member: u64,
        payload: Payload,
        /// Its bytes in the room's mailbox budget, returned once handled.
        _budget: OwnedSemaphorePermit,
    },
    /// The member's connection `attachment` was closed by the member.
    Leave {
        member: u64,
        attachment: u64,
    },
    /// The member's connection `attachment` dropped.
    Drop {
        member: u64,
        attachment: u64,
    },
    /// The time a dropped member had to come back (for the drop of
    /// `attachment`) is over.
    Expire {
        member: u64,
        attachment: u64,
    },
    Timer {
        id: u64,
        tag: String,
    },
    Stop {
        code: u16,
        reason: String,
    },
    /// Close the connections of members signed in as `account`.
    CloseAccount {
        account: String,
        reason: String,
    },
    /// Something a member asks of the room itself, proved by their resume token.
    Command {
        resume: String,
        command: Command,
        reply: oneshot::Sender<Result<MemberView, CommandRefused>>,
    },
}

pub(crate) enum JoinReply {
    Joined(Box<Membership>),
    Refused(JoinRefused),
    /// The room is stopping; start a new one and try again.
    Retry,
}

/// Whether a room's instance is up: `None` while it starts, then whether
/// it started (or why not).
type Ready = Option<Result<(), JoinRefused>>;

struct Live {
    generation: u64,
    tx: mpsc::Sender<Event>,
    version: semver::Version,
    started_ms: i64,
    seats: Arc<Seats>,
    settings: Arc<RoomSettings>,
    board: Arc<listing::Board>,
    ready: watch::Receiver<Ready>,
    /// The lease fence it runs under (in a cluster).
    fence: Option<i64>,
}

impl Live {
    fn info(&self, name: &str, now: Instant) -> RoomInfo {
        RoomInfo::new(
            name.to_owned(),
            self.version.to_string(),
            self.started_ms,
            &self.settings,
            self.seats.reserved(now),
            self.board.read(),
        )
    }
}

pub(crate) struct Inner {
    shared: Shared,
    config: RoomConfig,
    live: Mutex<HashMap<(String, String), Live>>,
    /// Why the last room of a name could not start, by its generation: a
    /// join that reached it only after it had given up answers that
    /// reason, instead of starting it again and again.
    failed_starts: Mutex<HashMap<(String, String), (u64, JoinRefused)>>,
    /// Room starts per client address.
    starts: RateLimiter,
    linkers: Linkers,
    generation: AtomicU64,
    /// What live room lists are told.
    changes: changes::Changes,
    /// In a cluster: where rooms may start (set once at start-up).
    placement: std::sync::OnceLock<Arc<dyn Placement>>,
    /// Join-or-create callers take turns in a cluster (see `create.rs`).
    join_or_create_turn: tokio::sync::Mutex<()>,
    /// Rooms other servers of the cluster run (see `remote.rs`).
    remote: Mutex<remote::Remote>,
}

/// Where the live rooms of an app are found. Rooms of this server today;
/// rooms living on other servers later, behind the same calls.
pub(crate) trait Directory: Send + Sync {
    /// The app's live rooms, by name.
    fn list(&self, app: &str) -> Vec<RoomInfo>;
}

impl Directory for Inner {
    fn list(&self, app: &str) -> Vec<RoomInfo> {
        let mut rooms: Vec<RoomInfo> = {
            let live = self.live.lock().expect("rooms lock");
            let now = Instant::now();
            live.iter()
                .filter(|((a, _), _)| a == app)
                .map(|((_, name), room)| room.info(name, now))
                .collect()
        };
        // Rooms other servers run (in a cluster), unless one also runs
        // here (it moved here and the news hasn't reached the list yet).
        let remote = self.remote.lock().expect("remote rooms lock");
        for ((a, name), info) in remote.iter() {
            if a == app && !rooms.iter().any(|r| r.name == *name) {
                rooms.push(info.clone());
            }
        }
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }
}

#[derive(Clone)]
pub struct Rooms {
    inner: Arc<Inner>,
}

/// Room names: 1-64 characters of letters, digits, `-`, `_` and `.`.
pub fn valid_room_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether two display names count as the same for `unique-names`:
/// trimmed and compared case-insensitively (look-alike letters from other
/// scripts still differ).
pub fn same_display_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Rooms {
    pub fn new(shared: Shared, config: RoomConfig) -> Self {
        let starts = RateLimiter::new(config.starts_per_minute);
        let linkers = Linkers::new(shared.engine.clone());
        Self {
            inner: Arc::new(Inner {
                shared,
                config: RoomConfig {
                    mailbox_bytes: config.mailbox_bytes.max(config.max_message_bytes),
                    ..config
                },
                live: Mutex::new(HashMap::new()),
                failed_starts: Mutex::new(HashMap::new()),
                starts,
                linkers,
                generation: AtomicU64::new(0),
                changes: changes::Changes::new(),
                placement: std::sync::OnceLock::new(),
                join_or_create_turn: tokio::sync::Mutex::new(()),
                remote: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &RoomConfig {
        &self.inner.config
    }

    /// Joins `room` of the app in `spec` as `joiner`, starting the room if
    /// it isn't running (when the server's and the app's room limits and the
    /// joiner's start rate allow). With `pinned`, a room running another
    /// version refuses. A room that needs an invite or a password lets in
    /// only an `admitted` joiner, or one coming back with a resume token.
    pub async fn join(
        &self,
        spec: RoomSpec,
        pinned: bool,
        room: &str,
        joiner: Joiner,
    ) -> Result<Membership, JoinRefused> {
        self.join_at(spec, pinned, room, joiner, None).await
    }

    /// [`Rooms::join`], where a room the join starts runs under `fence`
    /// (what [`Rooms::locate`] answered).
    pub async fn join_at(
        &self,
        spec: RoomSpec,
        pinned: bool,
        room: &str,
        joiner: Joiner,
        fence: Option<i64>,
    ) -> Result<Membership, JoinRefused> {
        let key = (spec.app.clone(), room.to_owned());
        for _ in 0..5 {
            let (tx, generation) = {
                let mut live = self.inner.live.lock().expect("rooms lock");
                match live.get(&key) {
                    Some(existing) => {
                        if pinned && existing.version != spec.version {
                            return Err(JoinRefused {
                                code: close::REFUSED,
                                reason: format!(
                                    "room {room} runs version {}, not {}",
                                    existing.version, spec.version
                                ),
                            });
                        }
                        (existing.tx.clone(), existing.generation)
                    }
                    None => {
                        self.inner
                            .may_start(&live, &spec, joiner.client)
                            .map_err(|refused| JoinRefused {
                                code: close::TRY_AGAIN,
                                reason: refused.to_string(),
                            })?;
                        let started = self.spawn(
                            &mut live,
                            &spec,
                            room,
                            Start {
                                settings: spec.settings(),
                                metadata: Metadata::new(),
                                by_join: true,
                                fence,
                            },
                        );
                        (started.tx, started.generation)
                    }
                }
            };
            let (reply, answer) = oneshot::channel();
            let sent = tx
                .send(Event::Join {
                    joiner: joiner.clone(),
                    reply,
                })
                .await;
            if sent.is_ok() {
                match answer.await {
                    Ok(JoinReply::Joined(membership)) => return Ok(*membership),
                    Ok(JoinReply::Refused(refused)) => return Err(refused),
                    Ok(JoinReply::Retry) | Err(_) => {}
                }
            }
            if let Some(refused) = self.inner.take_start_failure(&key, generation) {
                return Err(refused);
            }
            self.inner.remove(&key, generation);
        }
        Err(JoinRefused {
            code: close::TRY_AGAIN,
            reason: "the room keeps restarting; try again later".into(),
        })
    }

    /// Starts `room` of `spec`'s app with `settings` and initial `metadata`
    /// (the caller holds the live-rooms lock, checked the name is free and
    /// the limits allow it). `by_join`: a join started it, and its member
    /// needs no invite.
    fn spawn(
        &self,
        live: &mut HashMap<(String, String), Live>,
        spec: &RoomSpec,
        room: &str,
        start: Start,
    ) -> Spawned {
        let Start {
            settings,
            metadata,
            by_join,
            fence,
        } = start;
        let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.inner.config.mailbox);
        let seats = Arc::new(Seats::new(settings.max_players));
        let seats_for_caller = seats.clone();
        let settings = Arc::new(settings);
        let (ready_tx, ready) = watch::channel(None);
        let board = Arc::new(listing::Board::new(listing::Listing {
            phase: settings.first_phase(),
            metadata: metadata.clone(),
            ..Default::default()
        }));
        let started_ms = lodge_store::now_ms();
        live.insert(
            (spec.app.clone(), room.to_owned()),
            Live {
                generation,
                tx: tx.clone(),
                version: spec.version.clone(),
                started_ms,
                seats: seats.clone(),
                settings: settings.clone(),
                board: board.clone(),
                ready: ready.clone(),
                fence,
            },
        );
        let actor = actor::RoomActor::new(
            self.inner.clone(),
            spec.clone(),
            actor::Setup {
                room: room.to_owned(),
                generation,
                mailbox: tx.clone(),
                seats,
                settings,
                board,
                metadata,
                started_ms,
                first_join_free: by_join,
                fence,
                ready: ready_tx,
            },
        );
        self.inner.shared.threads.spawn(actor.run(rx));
        Spawned {
            tx,
            generation,
            seats: seats_for_caller,
            ready,
        }
    }

    /// A live room's settings (the server checks its password and invites
    /// against them); `None` when it isn't running.
    pub fn settings(&self, app: &str, room: &str) -> Option<Arc<RoomSettings>> {
        let live = self.inner.live.lock().expect("rooms lock");
        live.get(&(app.to_owned(), room.to_owned()))
            .map(|room| room.settings.clone())
    }

    /// One live room, as the list shows it.
    pub fn info(&self, app: &str, room: &str) -> Option<RoomInfo> {
        let live = self.inner.live.lock().expect("rooms lock");
        live.get(&(app.to_owned(), room.to_owned()))
            .map(|live| live.info(room, Instant::now()))
    }

    /// Asks `room` of `app` to do `command` for the member whose resume
    /// token is `resume`.
    pub async fn command(
        &self,
        app: &str,
        room: &str,
        resume: &str,
        command: Command,
    ) -> Result<MemberView, CommandRefused> {
        let tx = {
            let live = self.inner.live.lock().expect("rooms lock");
            live.get(&(app.to_owned(), room.to_owned()))
                .map(|room| room.tx.clone())
        };
        let Some(tx) = tx else {
            return Err(CommandRefused::NoRoom);
        };
        let (reply, answer) = oneshot::channel();
        tx.send(Event::Command {
            resume: resume.to_owned(),
            command,
            reply,
        })
        .await
        .map_err(|_| CommandRefused::NoRoom)?;
        answer.await.unwrap_or(Err(CommandRefused::NoRoom))
    }

    /// The live rooms of an app, by name.
    pub fn list(&self, app: &str) -> Vec<RoomInfo> {
        self.inner.list(app)
    }

    /// Watches every room change on this server: the feed, the number of
    /// the last change before it, and `app`'s rooms at that moment (or
    /// later: a change in the feed may already be in the snapshot; each
    /// change carries the whole room, so applying it again is harmless).
    pub fn watch(
        &self,
        app: &str,
    ) -> (
        tokio::sync::broadcast::Receiver<Arc<RoomChange>>,
        u64,
        Vec<RoomInfo>,
    ) {
        self.inner.changes.subscribe(|| self.inner.list(app))
    }

    /// Stops every room (the server is shutting down).
    pub async fn stop_all(&self, code: u16, reason: &str) {
        let apps: std::collections::BTreeSet<String> = {
            let live = self.inner.live.lock().expect("rooms lock");
            live.keys().map(|(app, _)| app.clone()).collect()
        };
        for app in apps {
            self.stop(&app, None, code, reason).await;
        }
    }

    /// Stops the rooms of an app (all, or those running `version`),
    /// closing their members with `code` and `reason`.
    pub async fn stop(
        &self,
        app: &str,
        version: Option<&semver::Version>,
        code: u16,
        reason: &str,
    ) {
        let senders: Vec<mpsc::Sender<Event>> = {
            let live = self.inner.live.lock().expect("rooms lock");
            live.iter()
                .filter(|((a, _), room)| a == app && version.is_none_or(|v| *v == room.version))
                .map(|(_, room)| room.tx.clone())
                .collect()
        };
        for tx in senders {
            let _ = tx
                .send(Event::Stop {
                    code,
                    reason: reason.to_owned(),
                })
                .await;
        }
    }

    /// Closes every connection of members signed in as `account`, in every
    /// room (with 4003 and `reason`): an account disabled or deleted stops
    /// playing at once.
    pub async fn close_account(&self, account: &str, reason: &str) {
        let senders: Vec<mpsc::Sender<Event>> = {
            let live = self.inner.live.lock().expect("rooms lock");
            live.values().map(|room| room.tx.clone()).collect()
        };
        for tx in senders {
            let _ = tx
                .send(Event::CloseAccount {
                    account: account.to_owned(),
                    reason: reason.to_owned(),
                })
                .await;
        }
    }

    /// Stops one room of an app, closing its members with `code` and
    /// `reason`. Returns whether it was running.
    pub async fn stop_room(&self, app: &str, room: &str, code: u16, reason: &str) -> bool {
        let tx = {
            let live = self.inner.live.lock().expect("rooms lock");
            live.get(&(app.to_owned(), room.to_owned()))
                .map(|room| room.tx.clone())
        };
        let Some(tx) = tx else { return false };
        let _ = tx
            .send(Event::Stop {
                code,
                reason: reason.to_owned(),
            })
            .await;
        true
    }
}

/// How a room starts: its settings and metadata, whether a join started
/// it (its member needs no invite), and the fence it runs under.
struct Start {
    settings: RoomSettings,
    metadata: Metadata,
    by_join: bool,
    fence: Option<i64>,
}

/// A room [`Rooms::spawn`] started: its mailbox, generation, seats, and
/// whether its instance is up.
struct Spawned {
    tx: mpsc::Sender<Event>,
    generation: u64,
    seats: Arc<Seats>,
    ready: watch::Receiver<Ready>,
}

impl Inner {
    /// Whether one more room of `spec`'s app may start for `client`: checked
    /// before anything is instantiated. The server-wide cap keeps rooms within
    /// their share of the instance pool, so http parts always have theirs.
    fn may_start(
        &self,
        live: &HashMap<(String, String), Live>,
        spec: &RoomSpec,
        client: IpAddr,
    ) -> Result<(), StartRefused> {
        let max = self.config.max_rooms;
        if live.len() >= max {
            self.shared.metrics.limit_reached("rooms_max");
            return Err(StartRefused::ServerRooms { max });
        }
        let per_app = spec.max_rooms as usize;
        if live.keys().filter(|(app, _)| *app == spec.app).count() >= per_app {
            self.shared.metrics.limit_reached("rooms_per_app");
            return Err(StartRefused::AppRooms {
                app: spec.app.clone(),
                max: per_app,
            });
        }
        if let Err(wait) = self.starts.check(client) {
            self.shared.metrics.limit_reached("room_starts");
            return Err(StartRefused::StartRate {
                per_minute: self.starts.per_minute(),
                retry_after: Duration::from_secs(wait.as_secs() + 1),
            });
        }
        Ok(())
    }

    /// Forgets a room, unless a newer one already took its name.
    /// Records why the room `key` of `generation` could not start.
    pub(crate) fn start_failed(
        &self,
        key: (String, String),
        generation: u64,
        refused: JoinRefused,
    ) {
        let mut failed = self.failed_starts.lock().expect("failed starts lock");
        // Bounded: these are read at once, by joins racing the failure.
        if failed.len() >= MAX_FAILED_STARTS {
            failed.clear();
        }
        failed.insert(key, (generation, refused));
    }

    /// Why the room `key` of `generation` could not start, if it couldn't.
    fn take_start_failure(&self, key: &(String, String), generation: u64) -> Option<JoinRefused> {
        let mut failed = self.failed_starts.lock().expect("failed starts lock");
        match failed.get(key) {
            Some((g, _)) if *g == generation => failed.remove(key).map(|(_, refused)| refused),
            _ => None,
        }
    }

    fn remove(&self, key: &(String, String), generation: u64) {
        let removed = {
            let mut live = self.live.lock().expect("rooms lock");
            if live
                .get(key)
                .is_some_and(|room| room.generation == generation)
            {
                live.remove(key)
            } else {
                None
            }
        };
        if let (Some(room), Some(placement)) = (removed, self.placement.get())
            && let Some(fence) = room.fence
        {
            placement.released(&key.0, &key.1, fence);
        }
    }
}
