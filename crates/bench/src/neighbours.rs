//! `lodge-bench neighbours`: the chat round trip in one app, alone and while
//! another app's rooms spin, on one in-process Lodge server: how well guest
//! CPU is shared between apps.

use crate::lodge::Lodge;
use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args, Debug)]
pub struct NeighboursArgs {
    /// Rooms of the other app that spin (loop without end) while the chat is measured.
    #[arg(long, default_value_t = 24)]
    spinners: usize,
    /// Chat round trips measured in each phase.
    #[arg(long, default_value_t = 300)]
    round_trips: usize,
    /// Threads that run guest code [default: one per core].
    #[arg(long)]
    guest_threads: Option<usize>,
    /// The chat app (its components must be built).
    #[arg(long, default_value = "examples/chat")]
    app_dir: PathBuf,
    /// The spinning room component: tests/guests' `misbehave`, which loops on "spin".
    #[arg(
        long,
        default_value = "tests/guests/target/wasm32-wasip2/release/misbehave.wasm"
    )]
    spinner: PathBuf,
    /// Measure a running server instead of one in this process (for example
    /// an older release, started with a large --room-cpu-ms so the spinners
    /// spin throughout); both apps are pushed to it with --token.
    #[arg(long, requires = "token")]
    server: Option<String>,
    /// The API token of --server.
    #[arg(long, env = "LODGE_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// The server measured: one in this process, or one already running.
enum Target {
    Local(Lodge),
    Remote { ws: String },
}

impl Target {
    fn ws_url(&self, path: &str) -> String {
        match self {
            Target::Local(server) => format!("ws://{}{path}", server.addr),
            Target::Remote { ws } => format!("{ws}{path}"),
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn run(args: NeighboursArgs) -> anyhow::Result<()> {
    if !args.spinner.is_file() {
        bail!(
            "{} is not built; run `cargo build --release --target wasm32-wasip2 --manifest-path tests/guests/Cargo.toml --target-dir tests/guests/target` first",
            args.spinner.display()
        );
    }
    let threads = args.guest_threads;
    let server = match &args.server {
        None => {
            let server = Lodge::start_with(&args.app_dir, 2, |config| {
                // The spinners must spin for the whole run.
                config.rooms.cpu_per_call = Duration::from_secs(3600);
                config.guest_threads = threads;
            })
            .await
            .context("starting the in-process Lodge server")?;
            server.push(spinner_bundle(&args.spinner)?).await?;
            Target::Local(server)
        }
        Some(url) => {
            let token = args.token.as_deref().unwrap_or_default();
            let url = url.trim_end_matches('/');
            push(url, token, crate::pack::pack(&args.app_dir)?.bytes).await?;
            push(url, token, spinner_bundle(&args.spinner)?).await?;
            Target::Remote {
                ws: url.replacen("http", "ws", 1),
            }
        }
    };
    println!(
        "lodge-bench neighbours --spinners {} --round-trips {}{}",
        args.spinners,
        args.round_trips,
        threads.map_or(String::new(), |n| format!(" --guest-threads {n}"))
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9}",
        "chat round trip (ms)", "p50", "p99", "max"
    );
    let mut chat = join(&server, "chat", "lobby", "chatter").await?;
    let alone = round_trips(&mut chat, args.round_trips).await?;
    print_row("alone", &alone);
    let mut spinners = Vec::new();
    for i in 0..args.spinners {
        let mut ws = join(&server, "spinner", &format!("spin-{i}"), "s").await?;
        ws.send(Message::text("spin")).await?;
        spinners.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = round_trips(&mut chat, args.round_trips).await?;
    print_row(
        &format!("while {} rooms of another app spin", args.spinners),
        &busy,
    );
    drop(spinners);
    if let Target::Local(server) = server {
        server.stop().await;
    }
    Ok(())
}

async fn push(server: &str, token: &str, bundle: Vec<u8>) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .post(format!("{server}/api/apps"))
        .bearer_auth(token)
        .body(bundle)
        .send()
        .await
        .with_context(|| format!("pushing to {server}"))?;
    if !response.status().is_success() {
        bail!(
            "pushing to {server}: {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// The spinning app's bundle: a manifest and the component.
fn spinner_bundle(component: &Path) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("lodge.toml"),
        "[app]\nname = \"spinner\"\nversion = \"0.1.0\"\ndescription = \"Spins.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"timers\"]\n",
    )?;
    std::fs::copy(component, dir.path().join("room.wasm"))
        .with_context(|| format!("copying {}", component.display()))?;
    Ok(crate::pack::pack(dir.path())?.bytes)
}

async fn join(server: &Target, app: &str, room: &str, name: &str) -> anyhow::Result<Socket> {
    let url = server.ws_url(&format!("/apps/{app}/rooms/{room}?name={name}"));
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("joining {app}/{room}"))?;
    Ok(ws)
}

/// Sends `count` messages one after another, each once the previous came back.
async fn round_trips(chat: &mut Socket, count: usize) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let text = format!("ping {i}");
        let expected = format!("chatter: {text}");
        let sent = Instant::now();
        chat.send(Message::text(text)).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), chat.next()).await {
                Ok(Some(Ok(Message::Text(got)))) if got.as_str() == expected => break,
                Ok(Some(Ok(_))) => {}
                Ok(other) => bail!("the chat connection ended: {other:?}"),
                Err(_) => bail!("no answer within 30 s"),
            }
        }
        times.push(sent.elapsed());
    }
    times.sort();
    Ok(times)
}

fn print_row(label: &str, sorted: &[Duration]) {
    let at = |q: f64| {
        let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1000.0
    };
    println!(
        "{label:<44} {:>9.2} {:>9.2} {:>9.2}",
        at(0.50),
        at(0.99),
        at(1.0)
    );
}
