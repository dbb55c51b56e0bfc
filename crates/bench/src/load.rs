//! The load generator: the same members and messages for every target.
//!
//! Members connect a few at a time and wait for their own `* NAME joined`.
//! Once all are in, each sends `b T SEQ` (T: microseconds since a clock
//! shared by the whole process) either at a fixed rate with jitter, or, when
//! saturating, as fast as its own echoes come back with a bounded window in
//! flight. Every member reads everything; `NAME: b T SEQ` lines whose T falls
//! in the measured window count as receipts, with latency now − T.

use anyhow::{Context, bail};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// Bytes the members' WebSocket read buffer holds (see [`client_config`]).
const CLIENT_READ_BUFFER: usize = 4 * 1024;
/// Members connecting at once.
const CONNECTING: usize = 32;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one member may wait for its join notice.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long all members may take to join.
const ALL_JOINED_TIMEOUT: Duration = Duration::from_secs(120);
/// How long after the window messages sent in it may still arrive.
const DRAIN: Duration = Duration::from_secs(5);
/// How long members may take to hang up and report.
const HANG_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// Between the plan and the first message, so every member is waiting.
const START_DELAY: Duration = Duration::from_millis(200);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = SplitSink<Socket, Message>;
type Stream = SplitStream<Socket>;

/// What load to put on a target.
#[derive(Debug, Clone)]
pub struct Load {
    pub members: usize,
    pub rooms: usize,
    /// Messages per second per member, when not saturating.
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub saturate: bool,
    /// Own messages in flight per member, when saturating.
    pub window: usize,
}

impl Load {
    fn room_of(&self, member: usize) -> usize {
        member % self.rooms
    }

    fn room_size(&self, room: usize) -> usize {
        self.members / self.rooms + usize::from(room < self.members % self.rooms)
    }

    pub fn largest_room(&self) -> usize {
        self.room_size(0)
    }
}

/// Servers speaking the rooms WebSocket protocol: one, or several that
/// share one Lodge (a cluster).
pub struct Target {
    pub servers: Vec<SocketAddr>,
    pub app: String,
    /// Which server each member connects to.
    pub placement: Placement,
    /// Processes whose CPU the run measures (servers run as children);
    /// empty: this process (a server in-process).
    pub cpu_pids: Vec<u32>,
}

/// Which of a cluster's servers members connect to. A room lives where its
/// first member joined: member `r` (of room `r`) joins first, on server
/// `r % n` in every placement, so rooms spread over the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A room's members on every server in turn: most are forwarded.
    Spread,
    /// Every member on its room's server.
    Owner,
    /// Every member but the first of each room on another server than the
    /// room's: all forwarded.
    Elsewhere,
}

impl Target {
    /// One server, measured in this process.
    pub fn one(addr: SocketAddr, app: impl Into<String>) -> Self {
        Self {
            servers: vec![addr],
            app: app.into(),
            placement: Placement::Owner,
            cpu_pids: Vec::new(),
        }
    }

    /// The server member `index` connects to under `load`.
    fn server_for(&self, index: usize, load: &Load) -> usize {
        let n = self.servers.len();
        let room = load.room_of(index);
        // Room r's members are r, r + rooms, r + 2 rooms, …; r comes first.
        let nth = index / load.rooms;
        match self.placement {
            _ if nth == 0 => room % n,
            Placement::Spread => (room + nth) % n,
            Placement::Owner => room % n,
            Placement::Elsewhere => (room + 1) % n,
        }
    }
}

/// What one run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Messages sent during the measured window.
    pub sent: u64,
    /// Receipts those should make: each message times its room's size.
    pub expected: u64,
    /// Receipts of those that arrived (by the end of the drain).
    pub delivered: u64,
    /// Latency of each receipt, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Members whose connection ended before the run did, and the first reason.
    pub dropped: usize,
    pub first_drop: Option<String>,
    /// The measured window.
    pub window: Duration,
    /// CPU the whole process used during the window, in cores (2.0 = two cores busy).
    pub cpu_cores: Option<f64>,
}

/// When the phases of a run happen; times in microseconds since the shared clock.
#[derive(Debug, Clone, Copy)]
struct Plan {
    start: Instant,
    end: Instant,
    window_from_us: u64,
    window_to_us: u64,
}

impl Plan {
    fn in_window(&self, t_us: u64) -> bool {
        (self.window_from_us..self.window_to_us).contains(&t_us)
    }
}

/// What every member shares.
struct Shared {
    base: Instant,
    load: Load,
    /// Each member's room URL prefix (`ws://SERVER/apps/APP/rooms`).
    urls: Vec<String>,
    connecting: Semaphore,
    plan: watch::Sender<Option<Plan>>,
    stop: CancellationToken,
    sent: AtomicU64,
    expected: AtomicU64,
    delivered: AtomicU64,
}

impl Shared {
    fn micros(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn micros_at(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.base).as_micros()).unwrap_or(u64::MAX)
    }

    async fn plan(&self) -> Option<Plan> {
        let mut plan = self.plan.subscribe();
        tokio::select! {
            plan = plan.wait_for(Option::is_some) => plan.ok().and_then(|p| *p),
            _ = self.stop.cancelled() => None,
        }
    }
}

/// What one member saw.
#[derive(Default)]
struct MemberReport {
    latencies_us: Vec<u32>,
    error: Option<String>,
}

/// Puts `load` on `target` and measures it.
pub async fn run(load: &Load, target: &Target) -> anyhow::Result<Outcome> {
    let shared = Arc::new(Shared {
        base: Instant::now(),
        load: load.clone(),
        urls: (0..load.members)
            .map(|index| {
                let server = target.servers[target.server_for(index, load)];
                format!("ws://{server}/apps/{}/rooms", target.app)
            })
            .collect(),
        connecting: Semaphore::new(CONNECTING),
        plan: watch::Sender::new(None),
        stop: CancellationToken::new(),
        sent: AtomicU64::new(0),
        expected: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
    });
    let (joined_tx, mut joined_rx) = mpsc::channel(load.members);
    let joining = Instant::now();
    // The first member of each room joins first: it decides where the room
    // lives (see `Placement`).
    let first = load.rooms.min(load.members);
    let mut members: Vec<JoinHandle<MemberReport>> = (0..first)
        .map(|index| tokio::spawn(member(shared.clone(), index, joined_tx.clone())))
        .collect();
    let mut joined = all_joined(&mut joined_rx, first).await;
    if joined.is_ok() {
        members.extend(
            (first..load.members)
                .map(|index| tokio::spawn(member(shared.clone(), index, joined_tx.clone()))),
        );
        joined = all_joined(&mut joined_rx, load.members - first).await;
    }
    drop(joined_tx);
    if let Err(e) = joined {
        shared.stop.cancel();
        let _ = collect(members).await;
        return Err(e);
    }
    eprintln!(
        "  {} members joined in {:.1} s; warming up {} s, measuring {} s",
        load.members,
        joining.elapsed().as_secs_f64(),
        load.warmup.as_secs(),
        load.duration.as_secs()
    );
    let plan = plan(&shared);
    shared.plan.send_replace(Some(plan));
    sleep_until(plan.start + load.warmup).await;
    let cpu_of = || -> Option<f64> {
        if target.cpu_pids.is_empty() {
            cpu_seconds()
        } else {
            target
                .cpu_pids
                .iter()
                .map(|pid| cpu_seconds_of(&pid.to_string()))
                .sum()
        }
    };
    let cpu_before = cpu_of();
    sleep_until(plan.end).await;
    let cpu = cpu_before.zip(cpu_of()).map(|(a, b)| b - a);
    drain(&shared).await;
    shared.stop.cancel();
    let reports = collect(members).await?;
    Ok(outcome(&shared, reports, cpu))
}

fn plan(shared: &Shared) -> Plan {
    let start = Instant::now() + START_DELAY;
    let from = start + shared.load.warmup;
    let end = from + shared.load.duration;
    Plan {
        start,
        end,
        window_from_us: shared.micros_at(from),
        window_to_us: shared.micros_at(end),
    }
}

/// Waits until every member has joined, or fails with the first that couldn't.
async fn all_joined(
    joined: &mut mpsc::Receiver<anyhow::Result<()>>,
    members: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + ALL_JOINED_TIMEOUT;
    for count in 0..members {
        match timeout_at(deadline, joined.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) => bail!("a member task ended before joining"),
            Err(_) => bail!(
                "only {count} of {members} members joined within {} s",
                ALL_JOINED_TIMEOUT.as_secs()
            ),
        }
    }
    Ok(())
}

/// Lets messages sent in the window arrive, up to `DRAIN` past it.
async fn drain(shared: &Shared) {
    let deadline = Instant::now() + DRAIN;
    while Instant::now() < deadline
        && shared.delivered.load(Ordering::Relaxed) < shared.expected.load(Ordering::Relaxed)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for every member's report; members that don't hang up in time are aborted.
async fn collect(members: Vec<JoinHandle<MemberReport>>) -> anyhow::Result<Vec<MemberReport>> {
    let aborts: Vec<_> = members.iter().map(JoinHandle::abort_handle).collect();
    match timeout(HANG_UP_TIMEOUT, futures::future::join_all(members)).await {
        Ok(results) => results
            .into_iter()
            .map(|r| r.context("a member task failed"))
            .collect(),
        Err(_) => {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
            bail!(
                "members did not hang up within {} s",
                HANG_UP_TIMEOUT.as_secs()
            )
        }
    }
}

fn outcome(shared: &Shared, reports: Vec<MemberReport>, cpu: Option<f64>) -> Outcome {
    let mut latencies_us = Vec::new();
    let mut dropped = 0;
    let mut first_drop = None;
    for report in reports {
        latencies_us.extend_from_slice(&report.latencies_us);
        if let Some(error) = report.error {
            dropped += 1;
            first_drop.get_or_insert(error);
        }
    }
    latencies_us.sort_unstable();
    let window = shared.load.duration;
    Outcome {
        sent: shared.sent.load(Ordering::Relaxed),
        expected: shared.expected.load(Ordering::Relaxed),
        delivered: latencies_us.len() as u64,
        latencies_us,
        dropped,
        first_drop,
        window,
        cpu_cores: cpu.map(|seconds| seconds / window.as_secs_f64()),
    }
}

/// One member: joins, then sends and reads until the run stops.
async fn member(
    shared: Arc<Shared>,
    index: usize,
    joined: mpsc::Sender<anyhow::Result<()>>,
) -> MemberReport {
    let name = format!("m{index}");
    let room = shared.load.room_of(index);
    let (sink, stream) = match connect(&shared, index, &name, room).await {
        Ok(socket) => socket,
        Err(e) => {
            let _ = joined.send(Err(e)).await;
            return MemberReport::default();
        }
    };
    let _ = joined.send(Ok(())).await;
    let acks = Arc::new(Semaphore::new(shared.load.window));
    let reader = tokio::spawn(read(shared.clone(), stream, name, acks.clone()));
    let room_size = shared.load.room_size(room) as u64;
    let sent = write(&shared, sink, index, room_size, acks).await;
    let mut report = match reader.await {
        Ok(report) => report,
        Err(e) => MemberReport {
            error: Some(format!("the reader failed: {e}")),
            ..MemberReport::default()
        },
    };
    if let Err(e) = sent {
        report.error.get_or_insert(format!("{e:#}"));
    }
    report
}

/// Connects member `index` as `name` to room `r{room}` and waits for the
/// join notice.
async fn connect(
    shared: &Shared,
    index: usize,
    name: &str,
    room: usize,
) -> anyhow::Result<(Sink, Stream)> {
    let _turn = shared.connecting.acquire().await?;
    let url = format!("{}/r{room}?name={name}", shared.urls[index]);
    let (socket, _) = timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(client_config()), true),
    )
    .await
    .with_context(|| format!("{name}: connecting timed out"))?
    .with_context(|| format!("{name}: connecting to {url}"))?;
    let (sink, mut stream) = socket.split();
    let notice = format!("* {name} joined");
    let joined = async {
        while let Some(message) = stream.next().await {
            match message.context("reading")? {
                Message::Text(text) if text.as_str() == notice => return Ok(()),
                Message::Close(frame) => {
                    bail!("the server closed the connection: {}", closed(frame))
                }
                _ => {}
            }
        }
        bail!("the connection ended")
    };
    timeout(JOIN_TIMEOUT, joined)
        .await
        .with_context(|| format!("{name}: no join notice within {} s", JOIN_TIMEOUT.as_secs()))?
        .with_context(|| format!("{name}: joining"))?;
    Ok((sink, stream))
}

/// The members' WebSocket settings: the defaults but a small read buffer.
/// tungstenite zeroes the free part of its read buffer before every read
/// (128 KiB by default), which for many small messages costs more than the
/// rest of the client; 4 KiB holds plenty of these messages per read.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER)
}

/// Sends for the whole run, then hangs up once told to stop.
async fn write(
    shared: &Shared,
    mut sink: Sink,
    index: usize,
    room_size: u64,
    acks: Arc<Semaphore>,
) -> anyhow::Result<()> {
    let Some(plan) = shared.plan().await else {
        return Ok(());
    };
    let sent = if shared.load.saturate {
        send_saturating(shared, &mut sink, &plan, room_size, &acks).await
    } else {
        send_at_rate(shared, &mut sink, &plan, index, room_size).await
    };
    shared.stop.cancelled().await;
    let _ = timeout(Duration::from_secs(2), sink.send(Message::Close(None))).await;
    sent
}

async fn send_at_rate(
    shared: &Shared,
    sink: &mut Sink,
    plan: &Plan,
    index: usize,
    room_size: u64,
) -> anyhow::Result<()> {
    let period = Duration::from_secs_f64(1.0 / shared.load.rate);
    let mut jitter = SplitMix(index as u64);
    // Members start spread over one period, then each gap is 0.5-1.5 periods.
    let mut next = plan.start + period.mul_f64(jitter.unit());
    let mut seq = 0;
    while next < plan.end {
        sleep_until(next).await;
        send(shared, sink, plan, seq, room_size).await?;
        seq += 1;
        next += period.mul_f64(0.5 + jitter.unit());
    }
    Ok(())
}

async fn send_saturating(
    shared: &Shared,
    sink: &mut Sink,
    plan: &Plan,
    room_size: u64,
    acks: &Semaphore,
) -> anyhow::Result<()> {
    sleep_until(plan.start).await;
    let end = sleep_until(plan.end);
    tokio::pin!(end);
    let mut seq = 0;
    loop {
        tokio::select! {
            permit = acks.acquire() => permit?.forget(),
            _ = &mut end => return Ok(()),
        }
        if Instant::now() >= plan.end {
            return Ok(());
        }
        send(shared, sink, plan, seq, room_size).await?;
        seq += 1;
    }
}

async fn send(
    shared: &Shared,
    sink: &mut Sink,
    plan: &Plan,
    seq: u64,
    room_size: u64,
) -> anyhow::Result<()> {
    let t = shared.micros();
    if plan.in_window(t) {
        shared.sent.fetch_add(1, Ordering::Relaxed);
        shared.expected.fetch_add(room_size, Ordering::Relaxed);
    }
    sink.send(Message::text(format!("b {t} {seq}")))
        .await
        .context("sending")
}

/// Reads every message until told to stop, timing the receipts in the window.
async fn read(
    shared: Arc<Shared>,
    mut stream: Stream,
    name: String,
    acks: Arc<Semaphore>,
) -> MemberReport {
    let mut report = MemberReport::default();
    let mut plan = None;
    // Made once: each `cancelled()` registers with the token, shared by every member.
    let stop = shared.stop.cancelled();
    tokio::pin!(stop);
    loop {
        let message = tokio::select! {
            biased;
            _ = &mut stop => break,
            message = stream.next() => message,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                report.error = Some(format!(
                    "the server closed the connection: {}",
                    closed(frame)
                ));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                report.error = Some(format!("reading: {e}"));
                break;
            }
            None => {
                report.error = Some("the connection ended".to_owned());
                break;
            }
        };
        let Some((from, t)) = parse(text.as_str()) else {
            continue;
        };
        let now = shared.micros();
        if shared.load.saturate && from == name {
            acks.add_permits(1);
        }
        let plan = match plan {
            Some(plan) => plan,
            None => match *shared.plan.borrow() {
                Some(p) => *plan.insert(p),
                None => continue,
            },
        };
        if plan.in_window(t) {
            shared.delivered.fetch_add(1, Ordering::Relaxed);
            let latency = now.saturating_sub(t);
            report
                .latencies_us
                .push(u32::try_from(latency).unwrap_or(u32::MAX));
        }
    }
    report
}

/// A close frame as "CODE REASON".
fn closed(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(frame) => format!("{} {}", u16::from(frame.code), frame.reason),
        None => "without a close frame".to_owned(),
    }
}

/// `NAME: b T SEQ` as (NAME, T).
fn parse(line: &str) -> Option<(&str, u64)> {
    let (from, rest) = line.split_once(": b ")?;
    let (t, _seq) = rest.split_once(' ')?;
    Some((from, t.parse().ok()?))
}

/// CPU time this process has used (all threads), in seconds, where /proc tells.
fn cpu_seconds() -> Option<f64> {
    cpu_seconds_of("self")
}

/// CPU time process `pid` (or `self`) has used, in seconds, where /proc tells.
pub fn cpu_seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports in USER_HZ, which is 100 on every mainstream configuration.
    Some(ticks as f64 / 100.0)
}

/// A small deterministic generator for send jitter (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timed_lines_only() {
        assert_eq!(parse("m3: b 12345 7"), Some(("m3", 12345)));
        assert_eq!(parse("* m3 joined"), None);
        assert_eq!(parse("m3: hello"), None);
    }

    #[test]
    fn rooms_share_members_evenly() {
        let load = Load {
            members: 10,
            rooms: 3,
            rate: 1.0,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
            saturate: false,
            window: 1,
        };
        let sizes: Vec<usize> = (0..3).map(|r| load.room_size(r)).collect();
        assert_eq!(sizes, [4, 3, 3]);
        assert_eq!((0..10).filter(|&m| load.room_of(m) == 0).count(), 4);
    }
}
