//! `lodge-bench rooms`: the chat example on an in-process Lodge server
//! against a plain Rust chat server written only for the comparison
//! ([`native`](crate::native)), under the same load ([`load`](crate::load)) one
//! after the other, printed side by side ([`report`](crate::report)).

use crate::{load, lodge, native, report};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct RoomsArgs {
    /// WebSocket members, spread evenly over the rooms.
    #[arg(long, default_value_t = 1000)]
    members: usize,
    /// Rooms the members are spread over.
    #[arg(long, default_value_t = 50)]
    rooms: usize,
    /// Messages per second each member sends (ignored with --saturate).
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Seconds measured per target.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Send as fast as the server echoes: each member keeps --window of its
    /// own messages in flight, to find the throughput.
    #[arg(long)]
    saturate: bool,
    /// Own messages a member may have unanswered with --saturate.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// The chat app to push to Lodge (its components must be built).
    #[arg(long, default_value = "examples/chat")]
    app_dir: PathBuf,
    /// Also measure the native server with tuned connections (TCP_NODELAY,
    /// a 4 KiB read buffer, queued messages written together); by default
    /// it keeps axum's defaults, like Lodge's gateway.
    #[arg(long)]
    native_tuned: bool,
    /// Measure one target only.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Threads that run Lodge's guest code [default: one per core].
    #[arg(long)]
    guest_threads: Option<usize>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Lodge,
    Native,
}

impl RoomsArgs {
    fn load(&self) -> anyhow::Result<load::Load> {
        if self.rooms == 0 || self.members < self.rooms {
            bail!("--members must be at least --rooms, and --rooms at least 1");
        }
        if !(self.rate > 0.0 && self.rate.is_finite()) {
            bail!("--rate must be a positive number of messages per second");
        }
        if self.duration == 0 || self.window == 0 {
            bail!("--duration and --window must be at least 1");
        }
        Ok(load::Load {
            members: self.members,
            rooms: self.rooms,
            rate: self.rate,
            warmup: Duration::from_secs(self.warmup),
            duration: Duration::from_secs(self.duration),
            saturate: self.saturate,
            window: self.window,
        })
    }

    /// The command line with every setting spelled out, to run it again.
    fn as_run(&self) -> String {
        let mut line = format!(
            "lodge-bench rooms --members {} --rooms {} --rate {} --duration {} --warmup {} --app-dir {}",
            self.members,
            self.rooms,
            self.rate,
            self.duration,
            self.warmup,
            self.app_dir.display()
        );
        if self.saturate {
            line.push_str(&format!(" --saturate --window {}", self.window));
        }
        if self.native_tuned {
            line.push_str(" --native-tuned");
        }
        if let Some(n) = self.guest_threads {
            line.push_str(&format!(" --guest-threads {n}"));
        }
        match self.only {
            Some(Only::Lodge) => line.push_str(" --only lodge"),
            Some(Only::Native) => line.push_str(" --only native"),
            None => {}
        }
        line
    }
}

pub async fn run(args: RoomsArgs) -> anyhow::Result<()> {
    let load = args.load()?;
    report::header(&args.as_run(), &load);
    let mut rows = Vec::new();
    if args.only != Some(Only::Native) {
        rows.push(lodge(&load, &args.app_dir, args.guest_threads).await?);
    }
    if args.only != Some(Only::Lodge) {
        rows.push(native(&load, native::Transport::Plain, "native").await?);
        if args.native_tuned {
            rows.push(native(&load, native::Transport::Tuned, "native-tuned").await?);
        }
    }
    report::results(&load, &rows);
    Ok(())
}

async fn lodge(
    load: &load::Load,
    app_dir: &Path,
    guest_threads: Option<usize>,
) -> anyhow::Result<report::Row> {
    let server = lodge::Lodge::start_with(app_dir, load.largest_room(), |config| {
        config.guest_threads = guest_threads;
    })
    .await
    .context("starting the in-process Lodge server")?;
    eprintln!("lodge: {} members on {}", load.members, server.addr);
    let outcome = load::run(load, &server.target()).await;
    server.stop().await;
    Ok(report::Row {
        target: "lodge",
        outcome: outcome.context("measuring Lodge")?,
    })
}

async fn native(
    load: &load::Load,
    transport: native::Transport,
    name: &'static str,
) -> anyhow::Result<report::Row> {
    let server = native::Native::start(transport)
        .await
        .context("starting the native baseline server")?;
    eprintln!("{name}: {} members on {}", load.members, server.addr);
    let outcome = load::run(load, &server.target()).await;
    server.stop().await;
    Ok(report::Row {
        target: name,
        outcome: outcome.with_context(|| format!("measuring the baseline ({name})"))?,
    })
}
