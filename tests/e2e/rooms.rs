//! Rooms through real WebSocket clients against a real server process.

use crate::support::*;
use std::time::{Duration, Instant};

/// Reads messages until one equals `expected`; returns everything read.
async fn until(ws: &mut Ws, expected: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let text = ws.text().await;
        let done = text == expected;
        seen.push(text);
        if done {
            return seen;
        }
    }
}

fn push(server: &Server, example: &str) {
    server.ok(&["app", "push", examples().join(example).to_str().unwrap()]);
}

#[tokio::test]
async fn chat_among_three_with_a_leave_and_replay_on_rejoin() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "chat");

    let mut alice = Ws::join(&server, "chat", "lobby", "alice").await;
    until(&mut alice, "* alice joined").await;
    let mut bob = Ws::join(&server, "chat", "lobby", "bob").await;
    until(&mut bob, "* bob joined").await;
    until(&mut alice, "* bob joined").await;
    let mut carol = Ws::join(&server, "chat", "lobby", "carol").await;
    until(&mut carol, "* carol joined").await;
    until(&mut alice, "* carol joined").await;
    until(&mut bob, "* carol joined").await;

    alice.send("hello, everyone").await;
    for ws in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(ws.text().await, "alice: hello, everyone");
    }
    carol.send("hi alice").await;
    for ws in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(ws.text().await, "carol: hi alice");
    }

    bob.leave().await;
    assert_eq!(alice.text().await, "* bob left");
    assert_eq!(carol.text().await, "* bob left");

    // Bob comes back and gets the history replayed, in order, before his own join.
    let mut bob = Ws::join(&server, "chat", "lobby", "bob").await;
    let replay = until(&mut bob, "* bob left").await;
    assert_eq!(
        replay,
        [
            "* alice joined",
            "* bob joined",
            "* carol joined",
            "alice: hello, everyone",
            "carol: hi alice",
            "* bob left"
        ]
    );
    assert_eq!(bob.text().await, "* bob joined");

    // The room is listed with its members, through the API and the CLI.
    let rooms = server.json(&["rooms", "ls", "chat"]);
    assert_eq!(rooms["rooms"][0]["name"], "lobby");
    assert_eq!(rooms["rooms"][0]["members"], 3);
    assert_eq!(rooms["rooms"][0]["version"], "0.1.0");
    let table = server.ok(&["rooms", "ls", "chat"]);
    assert!(table.contains("lobby") && table.contains('3'), "{table}");

    // `lodge join` from a terminal: typed lines are sent, messages printed.
    let mut cli = std::process::Command::new(lodge_bin())
        .args(["join", "chat/lobby", "--name", "dave"])
        .env("LODGE_SERVER", &server.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    until(&mut alice, "* dave joined").await;
    {
        use std::io::Write;
        let mut stdin = cli.stdin.take().unwrap();
        writeln!(stdin, "typed in a terminal").unwrap();
        assert_eq!(
            until(&mut alice, "dave: typed in a terminal").await.len(),
            1
        );
        // Closing stdin leaves the room.
    }
    until(&mut alice, "* dave left").await;
    let out = cli.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("alice: hello, everyone"),
        "the replay is printed: {printed}"
    );
    assert!(printed.contains("dave: typed in a terminal"), "{printed}");

    // The log has the lifecycle events.
    let log = server.ok(&["logs", "chat/lobby"]);
    assert!(log.contains("started (version 0.1.0)"), "{log}");
    let out = server.lodge(&["logs", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no app named nope"));
    assert!(log.contains("bob (#2) left"), "{log}");
}

#[tokio::test]
async fn the_counter_is_shared_across_rooms_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "counter");
    let mut a = Ws::join(&server, "counter", "one", "a").await;
    let mut b = Ws::join(&server, "counter", "two", "b").await;
    assert_eq!(a.text().await, "0");
    assert_eq!(b.text().await, "0");
    let mut a2 = Ws::join(&server, "counter", "one", "a2").await;
    assert_eq!(a2.text().await, "0");
    a.send("+").await;
    assert_eq!(a.text().await, "1");
    assert_eq!(
        a2.text().await,
        "1",
        "every member of the room sees each change"
    );
    b.send("+").await;
    assert_eq!(
        b.text().await,
        "2",
        "room two counts on from room one's value"
    );
    b.send("-").await;
    assert_eq!(b.text().await, "1");
    b.send("+").await;
    assert_eq!(b.text().await, "2");
    drop((a, a2, b));
    server.stop();

    let server = Server::start(data.path(), &[]);
    let mut c = Ws::join(&server, "counter", "three", "c").await;
    assert_eq!(c.text().await, "2", "app kv survives a restart");
}

#[tokio::test]
async fn tic_tac_toe_starts_from_its_lobby_lets_a_third_watch_and_plays_to_a_win() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "tic-tac-toe");
    let resume = "xavier-resume-token-0123456789";
    let mut x = Ws::try_join(
        &server,
        "tic-tac-toe",
        "game",
        "xavier",
        &format!("&resume={resume}"),
    )
    .await
    .unwrap();
    assert_eq!(x.text().await, r#"{"type":"you","mark":"X"}"#);
    assert!(x.text().await.contains(r#""status":"lobby""#));
    let mut o = Ws::join(&server, "tic-tac-toe", "game", "olga").await;
    assert_eq!(o.text().await, r#"{"type":"you","mark":"O"}"#);
    let both = o.text().await;
    assert!(
        both.contains(r#""status":"lobby""#) && both.contains(r#""x":"xavier","o":"olga""#),
        "{both}"
    );
    assert_eq!(x.text().await, both);

    // The host (the first to join) starts the game.
    let started = server
        .http()
        .post(server.api("/api/apps/tic-tac-toe/rooms/game/start"))
        .json(&serde_json::json!({ "resume": resume }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let start = x.text().await;
    assert!(start.contains(r#""status":"playing""#), "{start}");
    assert_eq!(o.text().await, start);

    // max-members = 2 and late-join = "spectate": a third person watches.
    let mut thea = Ws::join(&server, "tic-tac-toe", "game", "thea").await;
    assert_eq!(thea.text().await, r#"{"type":"you","mark":null}"#);
    assert_eq!(thea.text().await, start);
    assert_eq!(x.text().await, start, "everyone hears the newcomer's state");
    assert_eq!(o.text().await, start);

    // Out of turn is refused to that player only.
    o.send("4").await;
    assert_eq!(
        o.text().await,
        r#"{"type":"error","message":"it is not your turn"}"#
    );

    let moves = [(true, 0), (false, 3), (true, 1), (false, 4), (true, 2)];
    let mut last = String::new();
    for (is_x, cell) in moves {
        let mover = if is_x { &mut x } else { &mut o };
        mover.send(&cell.to_string()).await;
        last = x.text().await;
        assert_eq!(o.text().await, last);
        assert_eq!(thea.text().await, last, "the spectator sees every move");
    }
    assert!(
        last.contains(r#""board":"XXXOO....""#)
            && last.contains(r#""status":"won","winner":"X","forfeit":false"#),
        "{last}"
    );

    // A new game, and a leaver forfeits it.
    x.send("again").await;
    assert!(x.text().await.contains(r#""board":".........""#));
    o.text().await;
    x.send("8").await;
    x.text().await;
    o.text().await;
    o.leave().await;
    let after = x.text().await;
    assert!(
        after.contains(r#""status":"won","winner":"X","forfeit":true"#),
        "{after}"
    );

    // Both wins were recorded in app kv, which the http part serves.
    let board: serde_json::Value = server
        .http()
        .get(format!("{}/run/tic-tac-toe/leaderboard", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        board,
        serde_json::json!({"games": 2, "players": [{"name": "xavier", "wins": 2}]})
    );
}

#[tokio::test]
async fn a_looping_guest_ends_only_its_own_room_within_the_deadline() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--room-cpu-ms", "300"]);
    push(&server, "chat");
    let _dir = push_misbehave(&server, "bad", "");

    let mut chatter = Ws::join(&server, "chat", "lobby", "chatter").await;
    until(&mut chatter, "* chatter joined").await;
    let mut victim = Ws::join(&server, "bad", "r1", "victim").await;
    victim.send("are you there").await;
    assert_eq!(victim.text().await, "are you there");

    victim.send("spin").await;
    let started = Instant::now();
    // While the guest spins, the chat room keeps answering quickly.
    let mut slowest = Duration::ZERO;
    let mut i = 0;
    let crash = loop {
        i += 1;
        let sent = Instant::now();
        chatter.send(&format!("ping {i}")).await;
        assert_eq!(chatter.text().await, format!("chatter: ping {i}"));
        slowest = slowest.max(sent.elapsed());
        if let Some(received) = victim.recv_within(Duration::from_millis(20)).await {
            break received;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the spinning room was never stopped"
        );
    };
    let ended_after = started.elapsed();
    match crash {
        Received::Close(code, reason) => {
            assert_eq!(code, 1011);
            assert!(reason.contains("CPU deadline of 300 ms"), "{reason}");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert!(
        ended_after < Duration::from_secs(3),
        "ended after {ended_after:?}"
    );
    assert!(
        slowest < Duration::from_millis(500),
        "a chat reply took {slowest:?} while the guest spun"
    );
    assert!(
        i > 3,
        "the chat room answered {i} pings while the guest spun"
    );

    // The next join starts the room fresh.
    let mut again = Ws::join(&server, "bad", "r1", "again").await;
    again.send("still echoing").await;
    assert_eq!(again.text().await, "still echoing");

    let log = server.ok(&["logs", "bad"]);
    assert!(
        log.contains("crashed: a call ran longer than its CPU deadline"),
        "{log}"
    );
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"lodge_guest_traps_total{reason="cpu_deadline"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn memory_exhaustion_and_panics_end_the_room_with_a_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--room-memory-mib", "16"]);
    let _dir = push_misbehave(&server, "bad", "");

    let mut hog = Ws::join(&server, "bad", "mem", "hog").await;
    let mut bystander = Ws::join(&server, "bad", "mem", "bystander").await;
    // Both are in the room (the echo proves the join finished) before it crashes.
    for ws in [&mut hog, &mut bystander] {
        ws.send("here").await;
        assert_eq!(ws.text().await, "here");
    }
    hog.send("grow").await;
    let (code, reason) = hog.closed().await;
    assert_eq!(code, 1011);
    assert!(reason.contains("memory limit of 16 MiB"), "{reason}");
    let (code, _) = bystander.closed().await;
    assert_eq!(code, 1011, "every member of the crashed room is told");

    let mut p = Ws::join(&server, "bad", "mem", "p").await;
    p.send("panic").await;
    let (code, reason) = p.closed().await;
    assert_eq!(code, 1011);
    assert!(reason.starts_with("the room crashed:"), "{reason}");
    let log = server.ok(&["logs", "bad/mem"]);
    assert!(
        log.contains("asked to panic"),
        "the guest's panic message reaches the log: {log}"
    );

    // A manifest may ask for its own limit, up to the server's maximum.
    let _small = push_misbehave(&server, "small", "memory-mib = 8\n");
    let mut hog = Ws::join(&server, "small", "mem", "hog").await;
    hog.send("grow").await;
    let (_, reason) = hog.closed().await;
    assert!(reason.contains("memory limit of 8 MiB"), "{reason}");
    let greedy = AppDir::new(
        "[app]\nname = \"greedy\"\nversion = \"0.1.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\nmemory-mib = 1000\n",
        &[("room.wasm", &guest_component("misbehave"))],
    );
    let out = server.lodge(&["app", "push", greedy.path()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[room].memory-mib = 1000 is more than this server allows (256 MiB, --room-max-memory-mib)"),
        "{err}"
    );
}

#[tokio::test]
async fn an_oversize_message_closes_with_1009() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--max-message-bytes", "1024"]);
    let _dir = push_misbehave(&server, "bad", "");
    let mut ws = Ws::join(&server, "bad", "big", "big").await;
    ws.send(&"y".repeat(1000)).await;
    assert_eq!(ws.text().await.len(), 1000);
    ws.send(&"y".repeat(2000)).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1009);
    assert!(reason.contains("the limit is 1024"), "{reason}");
}

#[tokio::test]
async fn a_member_that_never_reads_is_disconnected_and_the_others_are_not() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--member-outbox", "8"]);
    let _dir = push_misbehave(&server, "bad", "");
    let mut reader = Ws::join(&server, "bad", "flood", "reader").await;
    let lazy = Ws::join(&server, "bad", "flood", "lazy").await;
    let mut left_seen = false;
    // Each round broadcasts one 32 KiB message; the reader keeps up, the lazy one never reads.
    for _ in 0..600 {
        reader.send("flood 1 32768").await;
        let mut text = reader.text().await;
        if text == "left: lazy" {
            left_seen = true;
            text = reader.text().await;
        }
        assert_eq!(text.len(), 32768);
    }
    assert!(left_seen, "the room got on-leave for the lazy member");
    let rooms = server.json(&["rooms", "ls", "bad"]);
    assert_eq!(
        rooms["rooms"][0]["members"], 1,
        "the lazy member was disconnected"
    );
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("lodge_members_disconnected_slow_total 1"),
        "{metrics}"
    );
    let log = server.ok(&["logs", "bad/flood"]);
    assert!(
        log.contains("disconnected: not reading its messages"),
        "{log}"
    );
    drop(lazy);
    reader.send("still here").await;
    assert_eq!(reader.text().await, "still here");
}

#[tokio::test]
async fn two_hundred_members_all_receive_one_broadcast() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "chat");
    let mut members = Vec::new();
    for i in 0..200 {
        members.push(Ws::join(&server, "chat", "crowd", &format!("m{i}")).await);
    }
    members[0].send("hello, crowd").await;
    let received =
        futures::future::join_all(members.iter_mut().map(|ws| until(ws, "m0: hello, crowd"))).await;
    assert_eq!(received.len(), 200);
    assert_eq!(
        server.json(&["rooms", "ls", "chat"])["rooms"][0]["members"],
        200
    );
}

#[tokio::test]
async fn joins_are_checked_before_the_upgrade() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "http-hello");
    push(&server, "chat");
    let cases = [
        ("nope", "lobby", "a", "", 404, "there is no app named nope"),
        ("http-hello", "lobby", "a", "", 404, "has no room part"),
        (
            "chat",
            "bad%20room",
            "a",
            "",
            400,
            "is not a valid room name",
        ),
        ("chat", "lobby", "", "", 400, "add ?name=NAME"),
        (
            "chat",
            "lobby",
            "a",
            "&version=9.9.9",
            404,
            "chat has no version 9.9.9",
        ),
    ];
    for (app, room, name, extra, status, message) in cases {
        let Err((got, body)) = Ws::try_join(&server, app, room, name, extra).await else {
            panic!("{app}/{room} should be refused");
        };
        assert_eq!(got, status, "{body}");
        assert!(body.contains(message), "{body}");
    }
}

#[tokio::test]
async fn timers_fire_and_cancel_and_kicks_close_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _dir = push_misbehave(&server, "bad", "");
    let mut a = Ws::join(&server, "bad", "t", "a").await;
    let mut b = Ws::join(&server, "bad", "t", "b").await;
    for ws in [&mut a, &mut b] {
        ws.send("here").await;
        assert_eq!(ws.text().await, "here");
    }
    let set = Instant::now();
    a.send("timer 150 soon").await;
    a.send("timer 100000 never").await;
    a.send("cancel never").await;
    assert_eq!(a.text().await, "cancelled: true");
    assert_eq!(a.text().await, "timer: soon");
    assert!(set.elapsed() >= Duration::from_millis(150));
    assert_eq!(b.text().await, "timer: soon");

    b.send("kick").await;
    assert_eq!(b.closed().await, (4003, "kicked: asked for it".to_owned()));
    assert_eq!(a.text().await, "left: b", "a kicked member gets on-leave");
    assert_eq!(
        server.json(&["rooms", "ls", "bad"])["rooms"][0]["members"],
        1
    );
}

#[tokio::test]
async fn a_room_without_the_timers_capability_cannot_be_uploaded_with_timer_imports() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        "[app]\nname = \"bad\"\nversion = \"0.1.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\n",
        &[("room.wasm", &guest_component("misbehave"))],
    );
    let out = server.lodge(&["app", "push", dir.path()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("add \"timers\" to [room].capabilities"),
        "{err}"
    );
}

#[tokio::test]
async fn logs_follow_streams_new_lines() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push(&server, "chat");
    let mut follower = std::process::Command::new(lodge_bin())
        .args(["logs", "chat", "--follow"])
        .env("LODGE_SERVER", &server.url)
        .env("LODGE_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ws = Ws::join(&server, "chat", "followed", "fay").await;
    until(&mut ws, "* fay joined").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let done = line.contains("[followed] lodge: fay (#1) joined");
            seen.push(line);
            if done {
                break;
            }
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    assert!(
        seen.iter().any(|l| l.contains("fay (#1) joined")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn the_room_in_the_sdk_readme_works_as_written() {
    let readme = std::fs::read_to_string(repo().join("sdk/rust/README.md")).unwrap();
    let start = readme.find("```rust\n").unwrap() + "```rust\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let source =
        std::fs::read_to_string(repo().join("tests/guests/readme-echo/src/lib.rs")).unwrap();
    assert_eq!(
        &readme[start..end],
        source,
        "tests/guests/readme-echo must be the README's room"
    );

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        "[app]\nname = \"echo\"\nversion = \"0.1.0\"\ndescription = \"Echoes.\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\n",
        &[("room.wasm", &guest_component("readme_echo"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let mut nobody = Ws::join(&server, "echo", "r", "nobody").await;
    assert_eq!(
        nobody.recv().await,
        Received::Close(4001, "pick a name".into())
    );
    let mut ada = Ws::join(&server, "echo", "r", "ada").await;
    assert_eq!(ada.text().await, "ada is here");
    ada.send("hello").await;
    assert_eq!(ada.text().await, "hello");
    // The refused join left a room nobody stayed in, which stopped at once;
    // ada may have started a new one (member 1) or caught the old one (2).
    let log = server.ok(&["logs", "echo"]);
    assert!(
        log.contains("message 1 from 1") || log.contains("message 1 from 2"),
        "{log}"
    );
}

#[tokio::test]
async fn an_empty_room_stops_after_the_grace_period_and_shutdown_tells_members() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--room-idle-secs", "1"]);
    push(&server, "chat");
    let mut ws = Ws::join(&server, "chat", "brief", "bea").await;
    until(&mut ws, "* bea joined").await;
    // Staying as long as the grace period makes the room worth keeping.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ws.leave().await;
    assert_eq!(
        server.json(&["rooms", "ls", "chat"])["rooms"][0]["name"],
        "brief"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        server.json(&["rooms", "ls", "chat"])["rooms"],
        serde_json::json!([])
    );
    assert!(
        server
            .ok(&["logs", "chat"])
            .contains("stopped: no members for 1s")
    );

    let mut stay = Ws::join(&server, "chat", "brief", "stay").await;
    let replay = until(&mut stay, "* stay joined").await;
    assert!(
        replay.contains(&"* bea left".to_owned()),
        "room kv outlives the instance: {replay:?}"
    );
    let stopping = std::thread::spawn(move || server.stop());
    assert_eq!(
        stay.closed().await,
        (1001, "the server is shutting down".to_owned())
    );
    stopping.join().unwrap();
}
