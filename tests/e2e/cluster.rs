//! Several `lodge serve` processes as one Lodge: a shared PostgreSQL
//! (registry, kv, leases and events) and an S3-compatible blob store, each
//! a real server the test starts. Any server takes any member (forwarding
//! to the room's owner); a room lives on exactly one; when its server dies,
//! is paused or stops, the room comes back on another with everything
//! acknowledged.

use crate::support::*;
use lodge_testkit::{Postgres, S3};
use std::time::{Duration, Instant};

const COUNTER: &str = "[app]\nname = \"tally\"\nversion = \"1.0.0\"\ndescription = \"A count per room.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\nvisibility = \"public\"\n";

/// How long a server's lease lasts in these tests, and how often it beats.
const LEASE_TTL_MS: u64 = 2000;
const HEARTBEAT_MS: u64 = 400;

/// The shared backends, and how to start a server on them.
struct Backends {
    postgres: Postgres,
    s3: S3,
    database: String,
    dir: tempfile::TempDir,
}

impl Backends {
    fn start() -> Backends {
        let postgres = Postgres::start();
        let database = postgres.create_database("lodge");
        Backends {
            postgres,
            s3: S3::start(),
            database,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts server `id` (its own data folder: its compiled cache).
    fn server(&self, id: &str) -> Server {
        self.server_via(id, &self.database)
    }

    /// Starts server `id` reaching PostgreSQL at `database` (through a
    /// proxy the test can cut, say).
    fn server_via(&self, id: &str, database: &str) -> Server {
        let config = self.dir.path().join(format!("{id}.toml"));
        std::fs::write(
            &config,
            format!(
                "[storage]\nregistry = \"{db}\"\nkv = \"{db}\"\nblobs = \"{blobs}\"\n\n[storage.blobs-options]\nendpoint = \"{endpoint}\"\nallow_http = \"true\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n\n[cluster]\nurl = \"{db}\"\nnode-id = \"{id}\"\nlease-ttl-ms = {LEASE_TTL_MS}\nheartbeat-ms = {HEARTBEAT_MS}\n",
                db = database,
                blobs = self.s3.url("blobs"),
                endpoint = self.s3.endpoint(),
            ),
        )
        .unwrap();
        let data = self.dir.path().join(id);
        Server::start(&data, &["--config", config.to_str().unwrap()])
    }
}

fn push_counter(server: &Server) {
    let dir = AppDir::new(COUNTER, &[("room.wasm", &guest_component("room_counter"))]);
    server.ok(&["app", "push", dir.path()]);
}

/// Joins room `room` on `server` as `name` and reads its greeting: the
/// count the room holds.
async fn join_counter(server: &Server, room: &str, name: &str) -> (Ws, i64) {
    let mut ws = Ws::join(server, "tally", room, name).await;
    let greeting = ws.text().await;
    (ws, count_of(&greeting))
}

fn count_of(said: &str) -> i64 {
    said.strip_prefix("count ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected `count N`, got {said:?}"))
}

/// Joins until the room answers (it may be moving: `MOVED`, `TRY_AGAIN`),
/// for at most `limit`; the member and the count it found.
async fn rejoin(servers: &[&Server], room: &str, name: &str, limit: Duration) -> (Ws, i64) {
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        let server = servers[attempt % servers.len()];
        attempt += 1;
        if let Ok(mut ws) = Ws::try_join(server, "tally", room, name, "").await {
            match ws.recv_within(Duration::from_secs(3)).await {
                Some(Received::Text(said)) => return (ws, count_of(&said)),
                Some(Received::Close(code, _)) if [4013, 1013, 1006].contains(&code) => {}
                other => panic!("joining {room} again: {other:?}"),
            }
        }
        assert!(
            start.elapsed() < limit,
            "{room} did not come back within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one message and waits for the count it made, as `ws` hears it.
async fn add(ws: &mut Ws) -> i64 {
    ws.send("+").await;
    count_of(&ws.text().await)
}

async fn cluster_status(server: &Server) -> serde_json::Value {
    server.json(&["cluster", "status"])
}

/// The server id owning `room`, from any server's view of the cluster.
async fn owner_of(server: &Server, room: &str) -> String {
    let status = cluster_status(server).await;
    status["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"] == room)
        .map(|r| r["node"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no owner of {room}: {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_are_one_lodge() {
    let backends = Backends::start();
    let (a, b, c) = (
        backends.server("a"),
        backends.server("b"),
        backends.server("c"),
    );
    // Pushed on one server, played on the others.
    push_counter(&a);
    // Every server compiles a newly published app ahead, into its own
    // cache, before any room of it runs there.
    for server in [&b, &c] {
        let compiled = server.data.join("cache/compiled");
        let start = Instant::now();
        while files_under(&compiled).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nothing compiled ahead in {}",
                compiled.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (mut ann, count) = join_counter(&b, "den", "ann").await;
    assert_eq!(count, 0);
    assert_eq!(owner_of(&a, "den").await, "b");
    // A member reaching another server is forwarded to the owner: one room.
    let (mut bob, count) = join_counter(&c, "den", "bob").await;
    assert_eq!(count, 0);
    assert_eq!(add(&mut ann).await, 1);
    assert_eq!(count_of(&bob.text().await), 1);
    assert_eq!(add(&mut bob).await, 2);
    assert_eq!(count_of(&ann.text().await), 2);
    // The status shows every server and where the room lives.
    let status = cluster_status(&c).await;
    let nodes: Vec<&str> = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["alive"] == true)
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["a", "b", "c"]);
    let text = c.ok(&["cluster", "status"]);
    assert!(text.contains("den") && text.contains("alive"), "{text}");
    // Each server's metrics say which server they are.
    assert!(c.metrics().await.contains("lodge_node_info{node=\"c\"} 1"));
    // The same app from any server's API.
    assert_eq!(app_names(&c.json(&["app", "ls"])), ["tally"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_first_joins_at_once_make_one_owner() {
    let backends = Backends::start();
    let servers = [
        backends.server("a"),
        backends.server("b"),
        backends.server("c"),
    ];
    push_counter(&servers[0]);
    let joins = servers
        .iter()
        .enumerate()
        .map(|(i, server)| async move { join_counter(server, "race", &format!("p{i}")).await });
    let mut members: Vec<Ws> = futures::future::join_all(joins)
        .await
        .into_iter()
        .map(|(ws, count)| {
            assert_eq!(count, 0);
            ws
        })
        .collect();
    // One room: a message reaches all three.
    assert_eq!(add(&mut members[0]).await, 1);
    for member in &mut members[1..] {
        assert_eq!(count_of(&member.text().await), 1);
    }
    let status = cluster_status(&servers[1]).await;
    let owners = status["rooms"].as_array().unwrap().len();
    assert_eq!(owners, 1, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_owners_rooms_come_back_elsewhere_within_5s_with_every_acknowledged_write() {
    let backends = Backends::start();
    let (a, b, c) = (
        backends.server("a"),
        backends.server("b"),
        backends.server("c"),
    );
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    let (mut bob, _) = join_counter(&c, "den", "bob").await;
    let mut acked = 0;
    for _ in 0..5 {
        acked = add(&mut ann).await;
        assert_eq!(count_of(&bob.text().await), acked);
    }
    let killed = Instant::now();
    b.kill();
    // Ann was on the owner: her connection just breaks. Bob was forwarded:
    // his server tells him the room moved.
    assert!(matches!(ann.recv().await, Received::Close(1006, _)));
    assert_eq!(bob.closed().await.0, 4013);
    let (mut ann, count) = rejoin(&[&a, &c], "den", "ann", Duration::from_secs(5)).await;
    let back = killed.elapsed();
    assert!(back < Duration::from_secs(5), "back after {back:?}");
    assert_eq!(count, acked, "an acknowledged write was lost");
    let (mut bob, count) = rejoin(&[&c], "den", "bob", Duration::from_secs(5)).await;
    assert_eq!(count, acked);
    assert_eq!(add(&mut bob).await, acked + 1);
    assert_eq!(count_of(&ann.text().await), acked + 1);
    assert_ne!(owner_of(&a, "den").await, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_is_fenced_and_its_late_writes_refused() {
    let backends = Backends::start();
    let (a, b) = (backends.server("a"), backends.server("b"));
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    assert_eq!(add(&mut ann).await, 1);
    // Paused past its lease: the others count it dead.
    let pid = b.child.id() as i32;
    let pause = |signal: &str| {
        std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
    };
    pause("-STOP");
    tokio::time::sleep(Duration::from_millis(LEASE_TTL_MS + 500)).await;
    let (mut bob, count) = rejoin(&[&a], "den", "bob", Duration::from_secs(5)).await;
    assert_eq!(count, 1);
    assert_eq!(add(&mut bob).await, 2);
    // Back: whatever it tries, it writes nothing, and its members are told
    // the room moved.
    pause("-CONT");
    ann.send("+").await;
    let mut heard = Vec::new();
    let code = loop {
        match ann.recv().await {
            Received::Close(code, _) => break code,
            Received::Text(said) => heard.push(said),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, 4013, "heard {heard:?}");
    assert!(
        heard.iter().all(|said| !said.starts_with("count")),
        "{heard:?}"
    );
    assert_eq!(add(&mut bob).await, 3, "a fenced write landed");
    assert_eq!(owner_of(&a, "den").await, "a");
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_rooms_over_at_once() {
    let backends = Backends::start();
    let (a, b) = (backends.server("a"), backends.server("b"));
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    assert_eq!(add(&mut ann).await, 1);
    let stopping = Instant::now();
    let stopped = std::thread::spawn(move || b.stop());
    assert_eq!(ann.closed().await.0, 4013);
    // No waiting for a lease to lapse: the room starts on `a` at once.
    let (_ann, count) = rejoin(&[&a], "den", "ann", Duration::from_secs(2)).await;
    assert_eq!(count, 1);
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "{:?}",
        stopping.elapsed()
    );
    stopped.join().unwrap();
    let ready = get(&a, "/readyz").await;
    assert_eq!(ready.0, 200, "{}", ready.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_deleted_on_one_server_stops_its_rooms_on_the_others() {
    let backends = Backends::start();
    let (a, b) = (backends.server("a"), backends.server("b"));
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    a.ok(&["app", "rm", "tally"]);
    let (code, reason) = ann.closed().await;
    assert_eq!(code, 1001, "{reason}");
    assert!(reason.contains("deleted"), "{reason}");
    assert!(app_names(&b.json(&["app", "ls"])).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarting_or_gone_for_a_while_loses_nothing() {
    let mut backends = Backends::start();
    let (a, b) = (backends.server("a"), backends.server("b"));
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    let mut acked = 0;
    for _ in 0..3 {
        acked = add(&mut ann).await;
    }
    // A quick restart (a crash and recovery): the game goes on, here or,
    // when the restart outlasted the lease, after a move.
    backends.postgres.crash();
    backends.postgres.start_again();
    let (mut ann, count) = match ann.recv_within(Duration::from_millis(200)).await {
        None => (ann, acked),
        Some(Received::Close(4013, _)) => {
            rejoin(&[&a, &b], "den", "ann", Duration::from_secs(10)).await
        }
        Some(other) => panic!("{other:?}"),
    };
    assert_eq!(count, acked);
    let mut answer = None;
    for _ in 0..50 {
        ann.send("+").await;
        match ann.recv().await {
            Received::Text(said) if said.starts_with("count") => {
                answer = Some(count_of(&said));
                break;
            }
            Received::Text(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Received::Close(4013, _) => {
                let (again, count) = rejoin(&[&a, &b], "den", "ann", Duration::from_secs(10)).await;
                assert_eq!(count, acked);
                ann = again;
            }
            other => panic!("{other:?}"),
        }
    }
    acked = answer.expect("the room counts again");
    assert_eq!(acked, 4);

    // Gone for longer than a lease: rooms close with 4013, joins are
    // refused with a reason (not a hang), and nothing answers unready
    // until it is back.
    backends.postgres.crash();
    let (code, reason) = ann.closed().await;
    assert_eq!(code, 4013, "{reason}");
    tokio::time::sleep(Duration::from_millis(LEASE_TTL_MS)).await;
    // Refused at once and saying why: 503 (the registry can't be read),
    // or a close with 1013 (try again) when the version was cached.
    match Ws::try_join(&a, "tally", "den", "bob", "").await {
        Err((status, body)) => {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("storage_unavailable"), "{body}");
        }
        Ok(mut refused) => match refused.recv().await {
            Received::Close(code, reason) => assert_eq!(code, 1013, "{reason}"),
            other => panic!("a join while PostgreSQL is gone: {other:?}"),
        },
    }
    assert_eq!(get(&a, "/readyz").await.0, 503);
    backends.postgres.start_again();
    let (mut ann, count) = rejoin(&[&a, &b], "den", "ann", Duration::from_secs(15)).await;
    assert_eq!(count, acked, "an acknowledged write was lost");
    assert_eq!(add(&mut ann).await, acked + 1);
    assert_eq!(get(&a, "/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_cut_off_from_postgresql_fences_itself_while_another_takes_over() {
    let backends = Backends::start();
    let proxy = Proxy::start(([127, 0, 0, 1], backends.postgres.port()).into()).await;
    let through_proxy = backends.database.replace(
        &format!(":{}/", backends.postgres.port()),
        &format!(":{}/", proxy.port()),
    );
    let a = backends.server("a");
    let b = backends.server_via("b", &through_proxy);
    push_counter(&a);
    let (mut ann, _) = join_counter(&b, "den", "ann").await;
    let acked = add(&mut ann).await;
    // Players still reach `b`; `b` no longer reaches PostgreSQL.
    proxy.cut();
    let cut = Instant::now();
    let (code, _) = ann.closed().await;
    assert_eq!(code, 4013);
    // It gave the room up before its lease ran out.
    assert!(
        cut.elapsed() < Duration::from_millis(LEASE_TTL_MS),
        "{:?}",
        cut.elapsed()
    );
    assert_eq!(get(&b, "/readyz").await.0, 503);
    let (mut ann, count) = rejoin(&[&a], "den", "ann", Duration::from_secs(5)).await;
    assert_eq!(count, acked);
    assert_eq!(add(&mut ann).await, acked + 1);
    assert_eq!(owner_of(&a, "den").await, "a");
    // Back in touch: it rejoins the cluster and takes members again
    // (forwarding them to the room's owner).
    proxy.heal();
    let mut ready = 0;
    for _ in 0..50 {
        ready = get(&b, "/readyz").await.0;
        if ready == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready, 200);
    let (_bob, count) = join_counter(&b, "den", "bob").await;
    assert_eq!(count, acked + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_lists_and_room_requests_work_from_any_server() {
    use crate::lobby::LiveList;
    let backends = Backends::start();
    let (a, b, c) = (
        backends.server("a"),
        backends.server("b"),
        backends.server("c"),
    );
    push_counter(&a);
    let (status, mut live) = LiveList::open(&c, "tally", "").await;
    assert_eq!(status, 200);
    let (event, snapshot) = live.next().await;
    assert_eq!(event, "snapshot", "{snapshot}");
    // A room opening on `b` reaches `c`'s live list; so does a member
    // joining it through `a`.
    let resume = "resume-ann-0123456789abcdefghij";
    let mut ann = Ws::try_join(&b, "tally", "den", "ann", &format!("&resume={resume}"))
        .await
        .unwrap();
    assert_eq!(count_of(&ann.text().await), 0);
    let what = members_seen(&mut live, 1).await;
    assert!(what.contains(&"opened".to_owned()), "{what:?}");
    let (_bob, _) = join_counter(&a, "den", "bob").await;
    members_seen(&mut live, 2).await;
    // The plain list, from a third server.
    let list = a.json(&["rooms", "ls", "tally"]);
    let den = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "den")
        .unwrap_or_else(|| panic!("{list}"))
        .clone();
    assert_eq!(den["members"], 2, "{den}");
    // Join-or-create on a server with no open room takes a seat in
    // another server's, and the seat works through any server.
    let (status, seat) = post_json(
        &a,
        "/apps/tally/rooms/join-or-create",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{seat}");
    assert_eq!(seat["room"], "den", "{seat}");
    let token = seat["seat"].as_str().unwrap();
    let mut cat = Ws::try_join(&c, "tally", "den", "cat", &format!("&seat={token}"))
        .await
        .unwrap();
    assert_eq!(count_of(&cat.text().await), 0);
    members_seen(&mut live, 3).await;
    cat.leave().await;
    // A room's own requests go to its server: who is this resume token?
    let (status, answer) = post_json(
        &c,
        "/apps/tally/rooms/den/whoami",
        serde_json::json!({ "resume": resume }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["name"], "ann", "{answer}");
    assert_eq!(answer["room"]["members"], 2, "{answer}");
    // A room that ends on its server leaves every list.
    b.kill();
    drop(ann);
    loop {
        let (_, what, name, _) = live.change().await;
        if name == "den" && what.contains(&"closed".to_owned()) {
            break;
        }
    }
}

/// Reads changes until room `den` has `want` members; what changed last.
async fn members_seen(live: &mut crate::lobby::LiveList, want: u64) -> Vec<String> {
    loop {
        let (_, what, name, room) = live.change().await;
        if name == "den" && room["members"] == want {
            return what;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_room_limit_counts_every_servers_rooms() {
    let backends = Backends::start();
    let (a, b) = (backends.server("a"), backends.server("b"));
    let dir = AppDir::new(
        &COUNTER.replace("[room]\n", "[room]\nmax-rooms = 2\n"),
        &[("room.wasm", &guest_component("room_counter"))],
    );
    a.ok(&["app", "push", dir.path()]);
    let (_one, _) = join_counter(&a, "one", "ann").await;
    let (_two, _) = join_counter(&b, "two", "bob").await;
    // A third room, on either server, is one too many for the app.
    for server in [&a, &b] {
        let mut refused = Ws::join(server, "tally", "three", "cat").await;
        match refused.recv().await {
            Received::Close(code, reason) => {
                assert_eq!(code, 1013, "{reason}");
                assert!(reason.contains("max-rooms"), "{reason}");
            }
            other => panic!("a third room started: {other:?}"),
        }
    }
    // Joining a room that runs still works.
    let (_dan, count) = join_counter(&b, "one", "dan").await;
    assert_eq!(count, 0);
}
