//! `lodge-bench cluster`: the chat example on one `lodge serve` and on
//! three sharing PostgreSQL and an S3-compatible store, same machine, same
//! run, same load; then the time from killing a server to its rooms
//! answering again, over many kills.
//!
//! Rows (each under the same load, one after the other):
//! - one server, embedded storage: the baseline;
//! - three servers, every member on its room's server;
//! - three servers, members spread over all three (most forwarded);
//! - three servers, every member but a room's first on another server
//!   (all forwarded): against the row before last, the cost of forwarding.
//!
//! Servers are `lodge serve` children; the CPU column is theirs (all
//! three's for the cluster rows), not the load generator's.

use crate::load::{self, Load, Placement, Target};
use crate::report::{self, Row};
use crate::served::Served;
use anyhow::{Context, bail};
use futures::StreamExt;
use lodge_testkit::{Postgres, S3};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "chat";

#[derive(clap::Args)]
pub struct ClusterArgs {
    /// The `lodge` binary to serve with.
    #[arg(long, default_value = "target/release/lodge")]
    lodge: PathBuf,
    /// Servers in the cluster.
    #[arg(long, default_value_t = 3)]
    servers: usize,
    /// WebSocket members, spread evenly over the rooms.
    #[arg(long, default_value_t = 300)]
    members: usize,
    /// Rooms the members are spread over.
    #[arg(long, default_value_t = 30)]
    rooms: usize,
    /// Messages per second each member sends.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Seconds measured per row.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Servers killed (SIGKILL) one after another to time failover.
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// A server's lease in the cluster, in milliseconds (Lodge's default).
    #[arg(long, default_value_t = 3000)]
    lease_ttl_ms: u64,
    /// How often servers renew it, in milliseconds (Lodge's default).
    #[arg(long, default_value_t = 750)]
    heartbeat_ms: u64,
    /// The chat example (its components must be built).
    #[arg(long, default_value = "examples/chat")]
    app_dir: PathBuf,
}

/// The cluster's backends and servers.
struct Cluster {
    servers: Vec<Served>,
    _postgres: Postgres,
    _s3: S3,
    _data: tempfile::TempDir,
}

impl Cluster {
    fn start(args: &ClusterArgs, connections: usize) -> anyhow::Result<Self> {
        let postgres = Postgres::start();
        let database = postgres.create_database("lodge");
        let s3 = S3::start();
        let data = tempfile::tempdir()?;
        let mut env: Vec<(String, String)> = s3
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.extend([
            ("LODGE_REGISTRY".to_owned(), database.clone()),
            ("LODGE_KV".to_owned(), database.clone()),
            ("LODGE_CLUSTER".to_owned(), database),
            ("LODGE_BLOBS".to_owned(), s3.url("blobs")),
            (
                "LODGE_LEASE_TTL_MS".to_owned(),
                args.lease_ttl_ms.to_string(),
            ),
            (
                "LODGE_HEARTBEAT_MS".to_owned(),
                args.heartbeat_ms.to_string(),
            ),
        ]);
        let servers = (0..args.servers)
            .map(|n| {
                let id = ["--node-id".to_owned(), format!("bench-{n}")];
                Served::start(
                    &args.lodge,
                    &data.path().join(format!("s{n}")),
                    connections,
                    &id,
                    &env,
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            servers,
            _postgres: postgres,
            _s3: s3,
            _data: data,
        })
    }

    fn target(&self, placement: Placement) -> anyhow::Result<Target> {
        Ok(Target {
            servers: self
                .servers
                .iter()
                .map(Served::addr)
                .collect::<anyhow::Result<_>>()?,
            app: APP.to_owned(),
            placement,
            cpu_pids: self.servers.iter().map(Served::pid).collect(),
        })
    }
}

pub async fn run(args: ClusterArgs) -> anyhow::Result<()> {
    if args.servers < 2 || args.rooms == 0 || args.members < args.rooms {
        bail!("--servers must be at least 2, --rooms at least 1 and --members at least --rooms");
    }
    let load = Load {
        members: args.members,
        rooms: args.rooms,
        rate: args.rate,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        saturate: false,
        window: 8,
    };
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "lodge-bench cluster: the chat example on 1 server and on {} servers sharing PostgreSQL and S3 (moto)",
        args.servers
    );
    println!(
        "command:  {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "machine:  {cores} cores shared by the load generator, every server, PostgreSQL and the S3 server"
    );
    println!(
        "load:     {} members in {} rooms; each sends {} msg/s; {} s warm-up, {} s measured per row",
        load.members, load.rooms, load.rate, args.warmup, args.duration
    );
    let connections = args.members * 2 + 1000;
    let mut rows = Vec::new();

    eprintln!("one server, embedded storage");
    {
        let data = tempfile::tempdir()?;
        let one = Served::start(&args.lodge, data.path(), connections, &[], &[])?;
        one.push(&args.app_dir).await?;
        let target = Target {
            servers: vec![one.addr()?],
            app: APP.to_owned(),
            placement: Placement::Owner,
            cpu_pids: vec![one.pid()],
        };
        rows.push(Row {
            target: "1 server",
            outcome: load::run(&load, &target).await?,
        });
    }

    eprintln!("{} servers", args.servers);
    let mut cluster = Cluster::start(&args, connections)?;
    cluster.servers[0].push(&args.app_dir).await?;
    for (name, placement) in [
        ("cluster: members on the room's server", Placement::Owner),
        ("cluster: members spread", Placement::Spread),
        ("cluster: members forwarded", Placement::Elsewhere),
    ] {
        eprintln!("  {name}");
        rows.push(Row {
            target: name,
            outcome: load::run(&load, &cluster.target(placement)?).await?,
        });
    }
    report::results_noting(
        &load,
        &rows,
        "cpu: the servers' processes (all of the cluster's) during the window, in cores",
    );

    eprintln!("failover: {} kills", args.kills);
    let mut times = Vec::with_capacity(args.kills);
    for kill in 0..args.kills {
        times.push(failover(&mut cluster, kill).await?);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!(
        "failover over {} kills (lease {} ms, heartbeat {} ms): kill → the room answers a join on another server",
        times.len(),
        args.lease_ttl_ms,
        args.heartbeat_ms
    );
    println!(
        "  median {:.0} ms, worst {:.0} ms, best {:.0} ms",
        ms(times[times.len() / 2]),
        ms(*times.last().expect("at least one kill")),
        ms(times[0])
    );
    Ok(())
}

/// Kills the server owning a fresh room and times until a join of that
/// room on another server is answered; then restarts the killed server.
async fn failover(cluster: &mut Cluster, kill: usize) -> anyhow::Result<Duration> {
    let n = cluster.servers.len();
    let victim = kill % n;
    let room = format!("failover-{kill}");
    // Its first member joins on the victim: the room lives there.
    let anchor = join(&cluster.servers[victim], &room, "anchor").await?;
    let started = Instant::now();
    cluster.servers[victim].kill();
    drop(anchor);
    let others: Vec<usize> = (0..n).filter(|i| *i != victim).collect();
    let mut attempt = 0;
    let took = loop {
        let server = &cluster.servers[others[attempt % others.len()]];
        attempt += 1;
        if join(server, &room, &format!("probe{attempt}"))
            .await
            .is_ok()
        {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("{room} did not come back within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("  kill {kill}: {:.0} ms", took.as_secs_f64() * 1000.0);
    cluster.servers[victim].restart()?;
    let ready = format!("{}/readyz", cluster.servers[victim].base);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(&ready)
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        if Instant::now() > deadline {
            bail!("the restarted server was not ready within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(took)
}

/// Joins `room` on `server` as `name` and waits for the join notice.
async fn join(
    server: &Served,
    room: &str,
    name: &str,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let url = server.ws(&format!("/apps/{APP}/rooms/{room}?name={name}"));
    let (mut socket, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url.as_str()),
    )
    .await
    .context("connecting timed out")??;
    let notice = format!("* {name} joined");
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.as_str() == notice => return Ok(socket),
            Ok(Some(Ok(Message::Close(frame)))) => bail!("closed: {frame:?}"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => bail!("{e}"),
            Ok(None) => bail!("the connection ended"),
            Err(_) => bail!("no join notice within 5 s"),
        }
    }
}
