//! Creating rooms and join-or-create, through the API, the CLI and real
//! WebSocket clients.

use crate::support::*;
use std::collections::HashMap;
use std::time::Duration;

/// The chat room as `app`, with `max-members = 4` and public rooms.
fn push_chat(server: &Server, app: &str) -> AppDir {
    let manifest = format!(
        "[app]\nname = \"{app}\"\nversion = \"0.1.0\"\ndescription = \"Chat.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\", \"timers\"]\nmax-members = 4\nvisibility = \"public\"\n"
    );
    let dir = AppDir::new(&manifest, &[("room.wasm", &component("chat_room"))]);
    server.ok(&["app", "push", dir.path()]);
    dir
}

fn is_code(room: &str) -> bool {
    room.len() == 9
        && room.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)
            }
        })
}

#[tokio::test]
async fn create_with_a_code_or_a_name_and_refuse_a_live_name_or_too_many_members() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_chat(&server, "chat");

    let (status, created) = post_json(&server, "/apps/chat/rooms", serde_json::json!({})).await;
    assert_eq!(status, 201, "{created}");
    let room = created["room"].as_str().unwrap().to_owned();
    assert!(is_code(&room), "{room}");
    assert_eq!(created["version"], "0.1.0");
    assert_eq!(created["max_members"], 4);
    assert_eq!(created["join"], format!("/apps/chat/rooms/{room}"));
    assert_eq!(created["play"], format!("/play/chat/{room}"));
    // It runs before anyone joins, and is joined like any room.
    let rooms = server.json(&["rooms", "ls", "chat"]);
    assert_eq!(rooms["rooms"][0]["name"], room.as_str());
    assert_eq!(rooms["rooms"][0]["members"], 0);
    let mut ada = Ws::join(&server, "chat", &room, "ada").await;
    assert_eq!(ada.text().await, "* ada joined");

    let (status, named) = post_json(
        &server,
        "/apps/chat/rooms",
        serde_json::json!({"name": "den", "max_members": 2}),
    )
    .await;
    assert_eq!(status, 201, "{named}");
    assert_eq!(
        (named["room"].as_str(), named["max_members"].as_u64()),
        (Some("den"), Some(2))
    );
    let (status, again) = post_json(
        &server,
        "/apps/chat/rooms",
        serde_json::json!({"name": "den"}),
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("room_exists")),
        "{again}"
    );
    // The lowered limit holds: a third member is refused.
    let _a = Ws::join(&server, "chat", "den", "a").await;
    let _b = Ws::join(&server, "chat", "den", "b").await;
    let mut c = Ws::join(&server, "chat", "den", "c").await;
    assert_eq!(c.closed().await.0, 4002);

    let (status, over) = post_json(
        &server,
        "/apps/chat/rooms",
        serde_json::json!({"max_members": 5}),
    )
    .await;
    assert_eq!(status, 400, "{over}");
    assert_eq!(over["error"]["code"], "invalid_max_members");
    assert!(
        over["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max-members"),
        "{over}"
    );
    let (status, bad) = post_json(
        &server,
        "/apps/chat/rooms",
        serde_json::json!({"name": "a b"}),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_room"))
    );

    // The CLI prints the room and its play link.
    let out = server.ok(&["rooms", "create", "chat", "--name", "nook"]);
    assert!(
        out.contains("chat/nook") && out.contains("/play/chat/nook"),
        "{out}"
    );
}

#[tokio::test]
async fn a_hundred_join_or_create_calls_fill_twenty_five_rooms() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_chat(&server, "party");

    let calls: Vec<_> = (0..100)
        .map(|_| {
            let (http, url) = (
                server.http(),
                server.api("/api/apps/party/rooms/join-or-create"),
            );
            tokio::spawn(async move {
                let response = http
                    .post(url)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                response.json::<serde_json::Value>().await.unwrap()
            })
        })
        .collect();
    let mut seats: HashMap<String, Vec<String>> = HashMap::new();
    for call in calls {
        let answer = call.await.unwrap();
        let room = answer["room"].as_str().unwrap().to_owned();
        let seat = answer["seat"].as_str().unwrap().to_owned();
        assert!(is_code(&room), "{answer}");
        assert_eq!(
            answer["join"],
            format!("/apps/party/rooms/{room}?seat={seat}")
        );
        assert!(
            answer["expires"].as_str().unwrap().ends_with('Z'),
            "{answer}"
        );
        seats.entry(room).or_default().push(seat);
    }
    assert_eq!(seats.len(), 25, "{seats:?}");
    assert!(seats.values().all(|s| s.len() == 4));
    let listed = server.json(&["rooms", "ls", "party"]);
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 25);
    assert_eq!(listed["rooms"][0]["seats_reserved"], 4);
    assert_eq!(listed["rooms"][0]["max_members"], 4);

    // A join without a seat finds the room full of reservations.
    let (first, _) = seats.iter().next().unwrap();
    let mut stranger = Ws::join(&server, "party", first, "stranger").await;
    assert_eq!(stranger.closed().await.0, 4002);

    // Every reservation is claimed by its join.
    let mut members = Vec::new();
    for (room, tokens) in &seats {
        for (i, token) in tokens.iter().enumerate() {
            let mut ws = Ws::try_join(
                &server,
                "party",
                room,
                &format!("p{i}"),
                &format!("&seat={token}"),
            )
            .await
            .unwrap();
            // The chat replays what happened before: read up to our own join.
            let mine = format!("* p{i} joined");
            while ws.text().await != mine {}
            members.push(ws);
        }
    }
    let listed = server.json(&["rooms", "ls", "party"]);
    for room in listed["rooms"].as_array().unwrap() {
        assert_eq!(
            (room["members"].as_u64(), room["seats_reserved"].as_u64()),
            (Some(4), Some(0))
        );
    }
}

#[tokio::test]
async fn an_unused_reservation_frees_its_seat_when_it_expires() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--seat-reservation-secs", "1"]);
    let _app = push_chat(&server, "party");
    let (status, created) = post_json(
        &server,
        "/apps/party/rooms",
        serde_json::json!({"name": "duo", "max_members": 2}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let _ada = Ws::join(&server, "party", "duo", "ada").await;
    let (status, held) = post_json(
        &server,
        "/apps/party/rooms/join-or-create",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(
        (status, held["room"].as_str()),
        (200, Some("duo")),
        "{held}"
    );
    let mut early = Ws::join(&server, "party", "duo", "early").await;
    assert_eq!(early.closed().await.0, 4002);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut late = Ws::join(&server, "party", "duo", "late").await;
    while late.text().await != "* late joined" {}
    let listed = server.json(&["rooms", "ls", "party"]);
    assert_eq!(listed["rooms"][0]["seats_reserved"], 0);
}

/// `lodge join APP` (no room) holds a seat and joins with it; a second
/// one lands in the same room. Creating counts against the start rate.
#[tokio::test]
async fn lodge_join_without_a_room_joins_or_creates_and_creation_is_rate_limited() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--room-starts-per-minute", "2"]);
    let _app = push_chat(&server, "chat");
    let join = |name: &str| {
        std::process::Command::new(lodge_bin())
            .args(["join", "chat", "--name", name])
            .env("LODGE_SERVER", &server.url)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // A member stays, so the room lives while the CLI comes and goes.
    let (status, held) = post_json(
        &server,
        "/apps/chat/rooms/join-or-create",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{held}");
    let room = held["room"].as_str().unwrap().to_owned();
    let seat = held["seat"].as_str().unwrap().to_owned();
    let mut ada = Ws::try_join(&server, "chat", &room, "ada", &format!("&seat={seat}"))
        .await
        .unwrap();
    assert_eq!(ada.text().await, "* ada joined");
    let out = join("bob");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("joined chat/{room} as bob")),
        "{said}"
    );
    assert_eq!(ada.text().await, "* bob joined");

    // Two starts a minute from this address: the second creation is refused.
    let (status, _) = post_json(&server, "/apps/chat/rooms", serde_json::json!({})).await;
    assert_eq!(status, 201);
    let response = server
        .http()
        .post(server.api("/api/apps/chat/rooms"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "room_starts");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--room-starts-per-minute"),
        "{body}"
    );
}
