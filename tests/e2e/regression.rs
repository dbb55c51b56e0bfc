//! Regression tests: each is named for a bug that was fixed, with a line
//! saying what went wrong, so it can't come back unnoticed.

use crate::support::*;
use std::time::{Duration, Instant};

// A wrong method got axum's bare 405 with an empty body, outside the JSON
// envelope every other refusal uses.
#[tokio::test]
async fn a_wrong_method_got_an_empty_405() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let response = server
        .http()
        .put(server.api("/api/apps"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

// `Authorization: bearer TOKEN` (the scheme in lower case, which RFC 9110
// allows) was refused with 401.
#[tokio::test]
async fn a_lower_case_bearer_scheme_was_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = server
            .http()
            .delete(server.api("/api/apps/nope"))
            .header("authorization", format!("{scheme} {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{scheme}: the token was accepted");
    }
}

/// The `lodge_room_members` gauge, as /metrics shows it now.
async fn members_gauge(server: &Server) -> i64 {
    let metrics = server.metrics().await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("lodge_room_members "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lodge_room_members in {metrics}"))
}

// A member whose connection went away while joining was counted out but
// never in, so the members gauge drifted below zero.
#[tokio::test]
async fn the_members_gauge_drifted_when_a_member_left_while_joining() {
    use tokio::io::AsyncWriteExt;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&["app", "push", examples().join("chat").to_str().unwrap()]);
    let mut stay = Ws::join(&server, "chat", "lobby", "stays").await;
    assert!(matches!(stay.recv().await, Received::Text(_)));
    let addr = server.url.trim_start_matches("http://").to_owned();
    for i in 0..20 {
        // Ask to join, then hang up before the answer.
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET /apps/chat/rooms/lobby?name=gone{i} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        drop(tcp);
    }
    let left = Ws::join(&server, "chat", "lobby", "leaves").await;
    left.leave().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let members = members_gauge(&server).await;
        assert!(members >= 0, "the gauge went below zero: {members}");
        if members == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gauge stays at {members}, not 1"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stay.leave().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while members_gauge(&server).await != 0 {
        assert!(Instant::now() < deadline, "the gauge never came back to 0");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// `git archive` writes a pax global header (the commit id) first, and the
// bundle reader refused it as an entry that is not a file.
#[tokio::test]
async fn a_git_archive_bundle_was_refused_for_its_pax_global_header() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let good_manifest = crate::bad_bundles::manifest_with_kv("room.wasm");
    let room = component("tic_tac_toe_room");
    let body = crate::bad_bundles::raw_bundle(&[
        (
            b"pax_global_header",
            tar::EntryType::XGlobalHeader,
            b"52 comment=0123456789abcdef0123456789abcdef01234567\n",
            None,
        ),
        (
            b"lodge.toml",
            tar::EntryType::Regular,
            good_manifest.as_bytes(),
            None,
        ),
        (b"./room.wasm", tar::EntryType::Regular, &room, None),
    ]);
    let (status, code, message) = upload(&server, body).await;
    assert_eq!(status, 201, "{code}: {message}");
}

// Wasmtime's backtrace header ("error while executing at wasm backtrace:")
// was all a crash reason said, so a stack overflow read like any trap.
#[tokio::test]
async fn a_stack_overflow_read_like_any_trap() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _dir = push_misbehave(&server, "deep", "");
    let mut bystander = Ws::join(&server, "deep", "calm", "bystander").await;
    let mut ws = Ws::join(&server, "deep", "abyss", "diver").await;
    ws.send("recurse").await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1011);
    assert!(
        reason.starts_with("the room crashed: stack overflow"),
        "{reason}"
    );
    let log = server.ok(&["logs", "deep/abyss"]);
    assert!(log.contains("crashed: stack overflow"), "{log}");
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"lodge_guest_traps_total{reason="stack_overflow"} 1"#),
        "{metrics}"
    );
    // A panic still says what it was.
    let mut p = Ws::join(&server, "deep", "panic", "p").await;
    p.send("panic").await;
    let (_, reason) = p.closed().await;
    assert!(
        reason.contains("wasm `unreachable` instruction executed"),
        "{reason}"
    );
    bystander.send("fine").await;
    assert_eq!(bystander.text().await, "fine");

    // An http part's overflow says so too.
    let dir = AppDir::new(
        "[app]\nname = \"probe\"\nversion = \"0.1.0\"\ndescription = \"Probes.\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n",
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let (status, body) = get(&server, "/run/probe/recurse").await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains("the app's handler failed: stack overflow"),
        "{body}"
    );
    assert_eq!(get(&server, "/run/probe/info").await.0, 200);
}
