//! `lodge-bench lobby`: the live room list under a crowd. A `lodge serve`
//! child process (so its CPU is measured apart from the load) serves an
//! app whose 4-seat rooms fill through join-or-create while a thousand
//! watchers follow the app's live list; then members drop and reconnect
//! with their resume token.
//!
//! Figures, each beside its baseline from the same run:
//! - join → every watcher's update, beside join → the joiner's own welcome;
//! - the server's CPU over the fill, and per update delivered;
//! - reconnect → the first message that waited for the member, beside a
//!   fresh join → its first message.

use crate::served::Served;
use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "party";

#[derive(clap::Args)]
pub struct LobbyArgs {
    /// The `lodge` binary to serve with.
    #[arg(long, default_value = "target/release/lodge")]
    lodge: PathBuf,
    /// Clients following the app's live room list.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Rooms to fill.
    #[arg(long, default_value_t = 25)]
    rooms: usize,
    /// Seats per room (`max-members`).
    #[arg(long, default_value_t = 4)]
    seats: u32,
    /// Joins per second while filling.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Drops and reconnects to time.
    #[arg(long, default_value_t = 20)]
    reconnects: usize,
    /// The chat example's room part, which the bench's app runs.
    #[arg(
        long,
        default_value = "examples/target/wasm32-wasip2/release/chat_room.wasm"
    )]
    room: PathBuf,
}

/// What one watcher saw: (room, players) → when.
type Seen = HashMap<(String, u64), Instant>;

pub async fn run(args: LobbyArgs) -> anyhow::Result<()> {
    raise_open_files();
    let data = tempfile::tempdir()?;
    let served = Served::start(&args.lodge, data.path(), args.watchers * 2 + 1000, &[], &[])?;
    push(&served, &args).await?;
    let http = reqwest::Client::new();

    println!(
        "live room list: {} watchers; {} rooms of {} seats filled by join-or-create at {}/s; {} reconnects",
        args.watchers, args.rooms, args.seats, args.rate, args.reconnects
    );
    let ready = Arc::new(tokio::sync::Semaphore::new(0));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut watchers = Vec::with_capacity(args.watchers);
    for _ in 0..args.watchers {
        watchers.push(tokio::spawn(watch(
            http.clone(),
            served.base.clone(),
            ready.clone(),
            stop.clone(),
        )));
    }
    let all = u32::try_from(args.watchers)?;
    tokio::time::timeout(Duration::from_secs(60), ready.acquire_many(all))
        .await
        .context("the watchers did not all get their snapshot within 60 s")??
        .forget();

    // Fill: one join at a time, at the given rate.
    let cpu_before = served.cpu();
    let fill_started = Instant::now();
    let mut joins: Vec<((String, u64), Instant)> = Vec::new();
    let mut welcomes = Vec::new();
    let mut members = Vec::new();
    let mut players: HashMap<String, u64> = HashMap::new();
    let pause = Duration::from_secs_f64(1.0 / args.rate);
    for i in 0..args.rooms * args.seats as usize {
        let next = fill_started + pause * u32::try_from(i)?;
        tokio::time::sleep_until(next.into()).await;
        let seat: serde_json::Value = http
            .post(format!(
                "{}/api/apps/{APP}/rooms/join-or-create",
                served.base
            ))
            .json(&serde_json::json!({}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let room = seat["room"].as_str().context("a room")?.to_owned();
        let count = players.entry(room.clone()).or_default();
        *count += 1;
        let name = format!("m{i}");
        let url = served.ws(&format!(
            "/apps/{APP}/rooms/{room}?name={name}&seat={}&resume=bench-resume-{i:0>24}",
            seat["seat"].as_str().context("a seat")?
        ));
        let started = Instant::now();
        joins.push(((room, *count), started));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        first_text(&mut ws).await?;
        welcomes.push(started.elapsed());
        members.push(ws);
    }
    let fill = fill_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu = cpu_before.zip(served.cpu()).map(|(a, b)| b - a);
    stop.cancel();
    let mut updates = Vec::new();
    let mut missed = 0usize;
    for watcher in watchers {
        let seen = watcher.await??;
        for (key, started) in &joins {
            match seen.get(key) {
                Some(at) => updates.push(at.saturating_duration_since(*started)),
                None => missed += 1,
            }
        }
    }
    let delivered = updates.len();

    println!();
    println!(
        "{:<48} {:>9} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    row("join → the joiner's own welcome (baseline)", &mut welcomes);
    row(
        &format!("join → each of {} watchers' update", args.watchers),
        &mut updates,
    );
    println!(
        "updates delivered: {delivered} of {} ({missed} missed)",
        joins.len() * args.watchers
    );
    if let Some(cpu) = cpu {
        let window = fill + Duration::from_secs(2);
        println!(
            "server CPU over the fill: {cpu:.2} s in {:.1} s ({:.0}% of one core), {:.1} µs per update delivered",
            window.as_secs_f64(),
            cpu / window.as_secs_f64() * 100.0,
            cpu * 1e6 / delivered.max(1) as f64
        );
    }

    // Reconnects: a member drops (no close frame), someone speaks, and the
    // member comes back with its resume token to what waited for it.
    let mut back = Vec::new();
    let mut fresh = Vec::new();
    for i in 0..args.reconnects {
        let room = format!("re-{i}");
        let resume = format!("bench-reconnect-{i:0>24}");
        let join = |name: &str, resume: &str| {
            served.ws(&format!(
                "/apps/{APP}/rooms/{room}?name={name}&resume={resume}"
            ))
        };
        let started = Instant::now();
        let (mut away, _) = tokio_tungstenite::connect_async(join("away", &resume)).await?;
        first_text(&mut away).await?;
        fresh.push(started.elapsed());
        let (mut other, _) =
            tokio_tungstenite::connect_async(join("other", "bench-other-0000000000000000000000"))
                .await?;
        first_text(&mut other).await?;
        drop(away);
        // The server notices the drop at once (the socket closed).
        tokio::time::sleep(Duration::from_millis(50)).await;
        other.send(Message::text("while you were away")).await?;
        first_text(&mut other).await?;
        let started = Instant::now();
        let (mut again, _) = tokio_tungstenite::connect_async(join("away", &resume)).await?;
        let text = first_text(&mut again).await?;
        back.push(started.elapsed());
        if !text.contains("while you were away") {
            bail!("the member came back to {text:?}, not what waited for it");
        }
        let _ = again.close(None).await;
        let _ = other.close(None).await;
    }
    println!();
    println!(
        "{:<48} {:>9} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    row("fresh join → its first message (baseline)", &mut fresh);
    row("reconnect → the first message that waited", &mut back);
    for mut ws in members {
        let _ = ws.close(None).await;
    }
    Ok(())
}

/// Follows the live list until stopped: when each (room, players) was seen.
async fn watch(
    http: reqwest::Client,
    base: String,
    ready: Arc<tokio::sync::Semaphore>,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Seen> {
    let mut response = http
        .get(format!("{base}/api/apps/{APP}/rooms"))
        .header("accept", "text/event-stream")
        .send()
        .await?
        .error_for_status()?;
    let seen = Mutex::new(Seen::new());
    let mut buffer = String::new();
    let mut snapshot = false;
    loop {
        let chunk = tokio::select! {
            _ = stop.cancelled() => break,
            chunk = response.chunk() => chunk?,
        };
        let Some(chunk) = chunk else { break };
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.starts_with("event: snapshot") && !snapshot {
                snapshot = true;
                ready.add_permits(1);
            }
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if !block.starts_with("event: change") {
                continue;
            }
            let change: serde_json::Value = serde_json::from_str(data)?;
            let players = change["room"]["players"].as_u64().unwrap_or(0);
            let name = change["name"].as_str().unwrap_or_default().to_owned();
            seen.lock()
                .expect("seen lock")
                .entry((name, players))
                .or_insert(now);
        }
    }
    Ok(seen.into_inner().expect("seen lock"))
}

async fn first_text(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> anyhow::Result<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Ok(text.to_string()),
            Ok(Some(Ok(Message::Close(frame)))) => bail!("closed: {frame:?}"),
            Ok(Some(Ok(_))) => {}
            Ok(other) => bail!("the connection ended: {other:?}"),
            Err(_) => bail!("no message within 10 s"),
        }
    }
}

/// The app: the chat example's room part with `seats` seats, public, and
/// a held seat for 20 s after a drop.
async fn push(served: &Served, args: &LobbyArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("lodge.toml"),
        format!(
            "[app]\nname = \"{APP}\"\nversion = \"0.1.0\"\ndescription = \"Lobby bench.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\", \"timers\"]\nmax-members = {}\nvisibility = \"public\"\n",
            args.seats
        ),
    )?;
    std::fs::copy(&args.room, dir.path().join("room.wasm")).with_context(|| {
        format!(
            "copying {} (build the examples first: cargo build --release --target wasm32-wasip2 --manifest-path examples/Cargo.toml --target-dir examples/target)",
            args.room.display()
        )
    })?;
    served.push(dir.path()).await
}

fn row(label: &str, times: &mut [Duration]) {
    if times.is_empty() {
        println!("{label:<48} (none)");
        return;
    }
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1000.0
    };
    println!(
        "{label:<48} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    );
}

/// Raises this process's open-file limit to the hard one: a thousand
/// watchers are a thousand sockets.
fn raise_open_files() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}
