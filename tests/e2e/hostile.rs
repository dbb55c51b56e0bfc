//! Attacks on the server, as a hostile player or author would try them:
//! each asserts the attack is refused or contained with a reason that names
//! the limit, and that everyone else kept being served.

use crate::support::*;
use std::time::{Duration, Instant};

/// Reads messages until one equals `expected`.
async fn until(ws: &mut Ws, expected: &str) {
    while ws.text().await != expected {}
}

fn push_example(server: &Server, example: &str) {
    server.ok(&["app", "push", examples().join(example).to_str().unwrap()]);
}

/// A chat message goes round in a room, from another client address.
async fn chat_still_works(server: &Server, from: &str, room: &str) {
    let mut ws = Ws::join_from(server, from, "chat", room, "alice").await;
    until(&mut ws, "* alice joined").await;
    ws.send("still here").await;
    until(&mut ws, "alice: still here").await;
}

fn live_rooms(server: &Server, app: &str) -> usize {
    server.json(&["rooms", "ls", app])["rooms"]
        .as_array()
        .unwrap()
        .len()
}

// One client opening and leaving a thousand room names used to fill the
// instance pool for 30 s, and every app's rooms and http parts stopped.
#[tokio::test]
async fn a_room_name_flood_is_refused_and_everyone_else_keeps_playing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--room-starts-per-minute", "20"]);
    push_example(&server, "chat");
    push_example(&server, "http-hello");

    let (mut started, mut refused) = (0, 0);
    for i in 0..1000 {
        let mut ws = Ws::join(&server, "chat", &format!("flood-{i}"), "x").await;
        match ws.recv().await {
            Received::Text(_) => {
                started += 1;
                ws.leave().await;
            }
            Received::Binary(bytes) => panic!("unexpected binary message: {bytes:?}"),
            Received::Close(code, reason) => {
                assert_eq!(code, 1013, "{reason}");
                assert!(reason.contains("--room-starts-per-minute"), "{reason}");
                refused += 1;
            }
        }
    }
    assert!(started <= 22, "{started} rooms started");
    assert_eq!(started + refused, 1000);
    // Nobody stayed in those rooms, so none of them idles on.
    let deadline = Instant::now() + Duration::from_secs(5);
    while live_rooms(&server, "chat") > 0 {
        assert!(Instant::now() < deadline, "flooded rooms are still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server
            .ok(&["logs", "chat"])
            .contains("stopped: everyone left before anyone stayed")
    );

    chat_still_works(&server, "127.0.0.2", "lobby").await;
    let (status, body) = get(&server, "/run/http-hello/").await;
    assert_eq!(status, 200, "{body}");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("lodge_limits_reached_total{limit=\"room_starts\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn live_rooms_are_capped_per_app_and_in_total_before_anything_runs() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--rooms-per-app", "2", "--rooms-max", "4"]);
    push_example(&server, "chat");
    let _one = push_misbehave(&server, "one-room", "max-rooms = 1");

    let mut staying = Vec::new();
    for room in ["a", "b"] {
        let mut ws = Ws::join(&server, "chat", room, "stays").await;
        until(&mut ws, "* stays joined").await;
        staying.push(ws);
    }
    let mut third = Ws::join(&server, "chat", "c", "late").await;
    let (code, reason) = third.closed().await;
    assert_eq!(code, 1013);
    assert!(
        reason.contains("chat runs its most rooms at once (2")
            && reason.contains("--rooms-per-app"),
        "{reason}"
    );
    // Joining a running room is always fine.
    let mut more = Ws::join(&server, "chat", "a", "more").await;
    until(&mut more, "* more joined").await;

    // The manifest may ask for fewer rooms.
    let mut first = Ws::join(&server, "one-room", "x", "p").await;
    first.send("hi").await;
    assert_eq!(first.text().await, "hi");
    let (code, reason) = Ws::join(&server, "one-room", "y", "q").await.closed().await;
    assert_eq!(code, 1013);
    assert!(reason.contains("[room].max-rooms"), "{reason}");

    // Four rooms run: the server's cap refuses a fifth, whatever the app.
    let _counter = push_misbehave(&server, "other", "");
    let mut fourth = Ws::join(&server, "other", "x", "p").await;
    fourth.send("hi").await;
    assert_eq!(fourth.text().await, "hi");
    let (code, reason) = Ws::join(&server, "other", "y", "q").await.closed().await;
    assert_eq!(code, 1013);
    assert!(reason.contains("--rooms-max"), "{reason}");
    assert_eq!(live_rooms(&server, "chat"), 2);

    // A manifest can't ask for more rooms than the server runs.
    let dir = AppDir::new(
        "[app]\nname = \"greedy\"\nversion = \"0.1.0\"\ndescription = \"wants rooms\"\n[room]\ncomponent = \"room.wasm\"\nmax-rooms = 5\n",
        &[("room.wasm", &guest_component("misbehave"))],
    );
    let refused = server.lodge(&["app", "push", dir.path()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "[room].max-rooms = 5 is more than this server allows (4 rooms, --rooms-max)"
        ),
        "{stderr}"
    );
}

// A room sending large messages to members who don't read grew the
// server's memory by hundreds of MiB, far past the room's own limit.
#[tokio::test]
async fn a_room_flooding_members_who_dont_read_is_bounded_by_bytes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _dir = push_misbehave(&server, "flood", "");
    let mut reader = Ws::join(&server, "flood", "r", "reader").await;
    let mut sleepers = Vec::new();
    for i in 0..3 {
        sleepers.push(Ws::join(&server, "flood", "r", &format!("sleeper{i}")).await);
    }
    reset_peak_memory(server.child.id());
    let (_, before) = memory_of(server.child.id());
    // 1000 messages of 60 KB, ten at a time: 60 MB that the reader reads
    // as they come and three members never read.
    for _ in 0..100 {
        reader.send("flood 10 60000").await;
        let mut received = 0;
        while received < 10 {
            match reader.recv().await {
                Received::Text(text) if text.len() == 60000 => received += 1,
                Received::Text(_) => {}
                other => panic!("the reader was closed: {other:?}"),
            }
        }
    }
    let (peak, _) = memory_of(server.child.id());
    let grown = peak.saturating_sub(before) >> 20;
    assert!(grown < 32, "the server's memory grew by {grown} MiB");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("lodge_members_disconnected_slow_total 3"),
        "{metrics}"
    );
    let log = server.ok(&["logs", "flood/r"]);
    assert!(
        log.contains("disconnected: not reading its messages (too slow:")
            && log.contains("--member-outbox-bytes"),
        "{log}"
    );
    // A sleeper that reads now finds its connection closed after what fit.
    let (code, _) = sleepers[0].closed().await;
    assert!(code == 1008 || code == 1006, "{code}");
    reader.send("echo").await;
    assert_eq!(reader.text().await, "echo");
}

#[tokio::test]
async fn a_message_larger_than_the_limit_ends_the_room_that_sent_it() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--max-message-bytes", "1000"]);
    let _dir = push_misbehave(&server, "big", "");
    let mut other = Ws::join(&server, "big", "calm", "other").await;
    let mut ws = Ws::join(&server, "big", "loud", "p").await;
    ws.send("flood 1 1001").await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1011);
    assert!(
        reason.contains("a message of 1001 bytes; the limit is 1000 bytes"),
        "{reason}"
    );
    other.send("flood 1 1000").await;
    assert_eq!(other.text().await.len(), 1000);
}

// A few dozen rooms each at their memory limit reached gigabytes, since
// nothing added them up.
#[tokio::test]
async fn guest_memory_is_budgeted_across_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--guest-memory-mib", "100"]);
    let _dir = push_misbehave(&server, "hog", "");
    let mut holders = Vec::new();
    for room in ["a", "b"] {
        let mut ws = Ws::join(&server, "hog", room, "p").await;
        ws.send("hold 40").await;
        assert_eq!(ws.text().await, "holding 40");
        holders.push(ws);
    }
    let mut third = Ws::join(&server, "hog", "c", "p").await;
    third.send("hold 40").await;
    let (code, reason) = third.closed().await;
    assert_eq!(code, 1011);
    assert!(
        reason.contains(
            "the server's memory for guests is used up (100 MiB in all, --guest-memory-mib)"
        ),
        "{reason}"
    );
    for ws in &mut holders {
        ws.send("still").await;
        assert_eq!(ws.text().await, "still");
    }
    // A room that stops gives its memory back.
    holders.pop().unwrap().leave().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = Ws::join(&server, "hog", "c", "p").await;
        again.send("hold 40").await;
        match again.recv().await {
            Received::Text(text) => {
                assert_eq!(text, "holding 40");
                break;
            }
            Received::Binary(bytes) => panic!("unexpected binary message: {bytes:?}"),
            Received::Close(..) => {
                assert!(Instant::now() < deadline, "the memory never came back");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

// A thousand idle connections used to exhaust the open-file limit, and
// /healthz stopped answering.
#[tokio::test]
async fn a_connection_flood_leaves_room_for_everyone_else() {
    let data = tempfile::tempdir().unwrap();
    let server =
        Server::start_with_open_files(data.path(), &["--max-connections-per-address", "50"], 256);
    push_example(&server, "chat");
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..400 {
        match connect_from(&server, "127.0.0.1").await {
            Ok(tcp) => held.push(tcp),
            Err(_) => refused += 1,
        }
    }
    // Past 50 from one address, a connection gets a 503 naming the limit.
    use tokio::io::AsyncReadExt;
    let mut answer = String::new();
    let mut last = held.pop().unwrap();
    tokio::time::timeout(Duration::from_secs(5), last.read_to_string(&mut answer))
        .await
        .expect("the refused connection is answered at once")
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("--max-connections-per-address"),
        "{answer:?} ({refused} refused by the kernel)"
    );
    // While those 50 are held open, other clients are served.
    assert_eq!(healthz_from(&server, "127.0.0.2").await, Ok(200));
    chat_still_works(&server, "127.0.0.3", "lobby").await;
    drop(held);
}

// Half-sent request headers and silent WebSockets stayed open for ever and
// could squat every seat of a room.
#[tokio::test]
async fn slow_headers_idle_keep_alive_and_silent_members_are_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &["--header-timeout-secs", "1", "--ping-secs", "1"],
    );
    let _dir = push_misbehave(&server, "seat", "max-members = 1");

    let mut slow = connect_from(&server, "127.0.0.1").await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: lodge\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("half-sent headers are cut off");
    assert!(started.elapsed() < Duration::from_secs(4));

    let mut keep_alive = connect_from(&server, "127.0.0.1").await.unwrap();
    keep_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: lodge\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = keep_alive.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while keep_alive.read(&mut answer).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    assert!(closed.is_ok(), "an idle keep-alive connection is closed");

    // A member that stops answering pings loses their seat.
    let silent = Ws::join(&server, "seat", "one", "silent").await;
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let mut next = Ws::join(&server, "seat", "one", "next").await;
        next.send("hi").await;
        match next.recv().await {
            Received::Text(text) => {
                assert_eq!(text, "hi");
                break;
            }
            Received::Binary(bytes) => panic!("unexpected binary message: {bytes:?}"),
            Received::Close(code, reason) => {
                assert_eq!(code, 4002, "{reason}");
                assert!(Instant::now() < deadline, "the silent member kept the seat");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    drop(silent);
}

/// Round trips of one chat message each: the median and the slowest.
async fn chat_round_trips(ws: &mut Ws, name: &str, count: usize) -> (Duration, Duration) {
    let mut times = Vec::new();
    for i in 0..count {
        let sent = Instant::now();
        ws.send(&format!("ping {i}")).await;
        until(ws, &format!("{name}: ping {i}")).await;
        times.push(sent.elapsed());
    }
    times.sort();
    (times[count / 2], times[count - 1])
}

// A couple of dozen spinning rooms of one app made a chat in another app
// take more than half a second per message.
#[tokio::test]
async fn a_spinning_app_leaves_another_apps_chat_fast() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &["--room-cpu-ms", "60000", "--guest-threads", "1"],
    );
    push_example(&server, "chat");
    let _dir = push_misbehave(&server, "spinner", "");
    let mut chat = Ws::join(&server, "chat", "lobby", "chatter").await;
    until(&mut chat, "* chatter joined").await;
    let (calm, _) = chat_round_trips(&mut chat, "chatter", 10).await;

    let mut spinners = Vec::new();
    for i in 0..24 {
        let mut ws = Ws::join(&server, "spinner", &format!("spin-{i}"), "s").await;
        ws.send("spin").await;
        spinners.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (median, slowest) = chat_round_trips(&mut chat, "chatter", 30).await;
    assert!(
        median < Duration::from_millis(100) && slowest < Duration::from_millis(500),
        "chat round trips while 24 rooms spin: median {median:?}, slowest {slowest:?} (calm: {calm:?})"
    );
    // The spinning app still runs: its rooms spin on, none was stopped.
    for ws in &mut spinners {
        assert_eq!(ws.recv_within(Duration::from_millis(1)).await, None);
    }
}

// The CPU budget counts the time a guest's code runs, not the time it
// waits: for a host call, or for its turn while other apps are busy.
#[tokio::test]
async fn waiting_does_not_count_against_the_cpu_budget() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &["--room-cpu-ms", "60000", "--guest-threads", "1"],
    );
    let _spinner = push_misbehave(&server, "spinner", "");
    let probe = AppDir::new(
        "[app]\nname = \"patient\"\nversion = \"0.1.0\"\ndescription = \"waits\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\ncpu-ms = 50\n",
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", probe.path()]);
    let mut spinners = Vec::new();
    for i in 0..8 {
        let mut ws = Ws::join(&server, "spinner", &format!("spin-{i}"), "s").await;
        ws.send("spin").await;
        spinners.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = get(&server, "/run/patient/sleep?300").await;
    assert_eq!((status, body.as_str()), (200, "slept"));
    for _ in 0..5 {
        let (status, body) = get(&server, "/run/patient/info").await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = get(&server, "/run/patient/spin").await;
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("CPU time of 50 ms"), "{body}");
}

// kv written into many room names of one app grew without bound.
#[tokio::test]
async fn kv_over_many_room_names_is_bounded_per_app() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &["--kv-room-scopes", "5", "--room-starts-per-minute", "1000"],
    );
    let echo = AppDir::new(
        "[app]\nname = \"echo\"\nversion = \"0.1.0\"\ndescription = \"Counts in room kv.\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\n",
        &[("room.wasm", &guest_component("readme_echo"))],
    );
    server.ok(&["app", "push", echo.path()]);
    // The room counts each message in its room scope and logs the count
    // (-1 when the write was refused).
    for i in 0..8 {
        let mut ws = Ws::join(&server, "echo", &format!("r{i}"), "w").await;
        assert_eq!(ws.text().await, "w is here");
        ws.send("hi").await;
        assert_eq!(ws.text().await, "hi");
        ws.leave().await;
    }
    let log = server.ok(&["logs", "echo"]);
    assert_eq!(log.matches("message 1 from").count(), 5, "{log}");
    assert_eq!(log.matches("message -1 from").count(), 3, "{log}");
    assert!(
        log.contains(
            "kv write refused: the app has data in its most room scopes (5, --kv-room-scopes)"
        ),
        "{log}"
    );
    // Rooms that already have data keep writing.
    let mut ws = Ws::join(&server, "echo", "r0", "w").await;
    assert_eq!(ws.text().await, "w is here");
    ws.send("again").await;
    assert_eq!(ws.text().await, "again");
    ws.leave().await;
    assert!(server.ok(&["logs", "echo"]).contains("message 2 from"));
}

#[tokio::test]
async fn rooms_and_requests_that_cannot_get_guest_memory_are_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--guest-memory-mib", "1"]);
    push_example(&server, "http-hello");
    push_example(&server, "chat");
    let (status, body) = get(&server, "/run/http-hello/").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("guest_memory") && body.contains("--guest-memory-mib"),
        "{body}"
    );
    let (code, reason) = Ws::join(&server, "chat", "lobby", "ada")
        .await
        .closed()
        .await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("--guest-memory-mib"), "{reason}");
    assert_eq!(healthz_from(&server, "127.0.0.1").await, Ok(200));
}
