//! Lobbies, hosts, late joiners, spectators, invitations, passwords and
//! members who drop and come back: real servers, real WebSocket clients,
//! and `tests/guests/lobby-probe`, a 0.3 room that reports every event it
//! sees.

use crate::support::*;
use serde_json::{Value, json};
use std::time::Duration;

/// `lobby-probe` as `app`, with extra `[room]` settings.
fn push_probe(server: &Server, app: &str, settings: &str) -> AppDir {
    let manifest = format!(
        "[app]\nname = \"{app}\"\nversion = \"0.1.0\"\ndescription = \"Lobby probe.\"\n\n[room]\ncomponent = \"room.wasm\"\n{settings}"
    );
    let dir = AppDir::new(&manifest, &[("room.wasm", &guest_component("lobby_probe"))]);
    server.ok(&["app", "push", dir.path()]);
    dir
}

/// The app's rooms as a visitor (no token) sees them.
async fn public_rooms(server: &Server, app: &str) -> Vec<String> {
    let response = server
        .http()
        .get(server.api(&format!("/api/apps/{app}/rooms")))
        .send()
        .await
        .unwrap();
    let list: Value = response.json().await.unwrap();
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The room as the operator's `lodge rooms ls` shows it.
fn room_info(server: &Server, app: &str, room: &str) -> Value {
    let list = server.json(&["rooms", "ls", app]);
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == room)
        .cloned()
        .unwrap_or_else(|| panic!("{room} is not in {list}"))
}

/// A resume token for `who` (as a client would make: long and random enough).
fn resume(who: &str) -> String {
    format!("resume-{who}-0123456789abcdefghij")
}

/// Joins with `resume`, plus `extra` query text.
async fn join(server: &Server, app: &str, room: &str, name: &str, extra: &str) -> Ws {
    Ws::try_join(
        server,
        app,
        room,
        name,
        &format!("&resume={}{extra}", resume(name)),
    )
    .await
    .expect("the upgrade succeeds")
}

/// Reads until `line` arrives, panicking on a close.
async fn expect(ws: &mut Ws, line: &str) {
    loop {
        let text = ws.text().await;
        if text == line {
            return;
        }
    }
}

/// Asks the probe something and reads its answer (skipping event lines).
async fn ask(ws: &mut Ws, question: &str) -> String {
    ws.send(question).await;
    loop {
        let text = ws.text().await;
        let event = ["join ", "leave ", "drop ", "rejoin ", "phase "]
            .iter()
            .any(|p| text.starts_with(p));
        if !event {
            return text;
        }
    }
}

/// Creates a room with `body` and answers its name.
async fn create(server: &Server, app: &str, body: Value) -> (String, Value) {
    let (status, created) = post_json(server, &format!("/apps/{app}/rooms"), body).await;
    assert_eq!(status, 201, "{created}");
    (created["room"].as_str().unwrap().to_owned(), created)
}

#[tokio::test]
async fn a_lobby_room_only_plays_when_the_host_starts_it() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(&server, "party", "start = \"lobby\"\nmax-members = 4\n");
    let (room, created) = create(&server, "party", json!({})).await;
    assert_eq!(created["info"]["phase"], "lobby", "{created}");

    let mut ann = join(&server, "party", &room, "ann", "").await;
    expect(&mut ann, "join ann player lobby").await;
    let mut bob = join(&server, "party", &room, "bob", "").await;
    expect(&mut bob, "join bob player lobby").await;
    assert_eq!(ask(&mut ann, "whoami").await, "#1 player host=true lobby");
    assert_eq!(ask(&mut bob, "whoami").await, "#2 player host=false lobby");
    let info = room_info(&server, "party", &room);
    assert_eq!(
        (info["phase"].as_str(), info["host"].as_str()),
        (Some("lobby"), Some("ann"))
    );

    // Only the host starts, through Lodge (the lobby screen's button).
    let path = format!("/apps/party/rooms/{room}/start");
    let (status, refused) = post_json(&server, &path, json!({"resume": resume("bob")})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("not_host"))
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ann")
    );
    let (status, _) = post_json(
        &server,
        &path,
        json!({"resume": "not-a-member-0123456789abc"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        room_info(&server, "party", &room)["phase"],
        "lobby",
        "nobody but the host moved it"
    );
    let (status, started) = post_json(&server, &path, json!({"resume": resume("ann")})).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(
        (started["phase"].as_str(), started["host"].as_bool()),
        (Some("playing"), Some(true))
    );
    assert_eq!(started["room"]["phase"], "playing");
    expect(&mut ann, "phase playing").await;
    expect(&mut bob, "phase playing").await;
    let (status, again) = post_json(&server, &path, json!({"resume": resume("ann")})).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("already_playing"))
    );

    // The host hands the role on; the old host no longer may.
    let host = format!("/apps/party/rooms/{room}/host");
    let (status, moved) = post_json(
        &server,
        &host,
        json!({"resume": resume("ann"), "member": 2}),
    )
    .await;
    assert_eq!(
        (status, moved["host"].as_bool()),
        (200, Some(false)),
        "{moved}"
    );
    assert_eq!(room_info(&server, "party", &room)["host"], "bob");
    assert_eq!(ask(&mut bob, "whoami").await, "#2 player host=true playing");
    let (status, _) = post_json(
        &server,
        &host,
        json!({"resume": resume("ann"), "member": 1}),
    )
    .await;
    assert_eq!(status, 403);

    // The host leaving hands the role to the earliest player left.
    bob.leave().await;
    expect(&mut ann, "leave bob").await;
    assert_eq!(ask(&mut ann, "whoami").await, "#1 player host=true playing");
}

#[tokio::test]
async fn each_late_join_policy_in_each_phase() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "game",
        "start = \"lobby\"\nmax-members = 8\nspectators = true\n",
    );
    for policy in ["allow", "spectate", "deny"] {
        let (room, _) = create(&server, "game", json!({"late_join": policy})).await;
        let mut ann = join(&server, "game", &room, "ann", "").await;
        expect(&mut ann, "join ann player lobby").await;
        // In the lobby everyone joins as a player, whatever the policy.
        let mut cat = join(&server, "game", &room, "cat", "").await;
        expect(&mut cat, "join cat player lobby").await;
        assert_eq!(ask(&mut ann, "go").await, "ok");
        assert_eq!(ask(&mut ann, "whoami").await, "#1 player host=true playing");

        let late = Ws::try_join(
            &server,
            "game",
            &room,
            "dan",
            &format!("&resume={}", resume("dan")),
        )
        .await
        .unwrap();
        let mut dan = late;
        match policy {
            "allow" => expect(&mut dan, "join dan player playing").await,
            "spectate" => expect(&mut dan, "join dan spectator playing").await,
            _ => {
                let (code, reason) = dan.closed().await;
                assert_eq!(code, 4011, "{policy}: {reason}");
                assert!(reason.contains("started"), "{reason}");
            }
        }
        // Back in the lobby (between rounds), everyone gets in as a player again.
        assert_eq!(ask(&mut ann, "lobby").await, "ok");
        let mut eve = join(&server, "game", &room, "eve", "").await;
        expect(&mut eve, "join eve player lobby").await;
    }
}

#[tokio::test]
async fn spectators_are_not_counted_and_refused_where_not_taken() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "duel",
        "max-members = 2\nspectators = true\nmax-spectators = 1\n",
    );
    let mut ann = join(&server, "duel", "arena", "ann", "").await;
    expect(&mut ann, "join ann player playing").await;
    let mut bob = join(&server, "duel", "arena", "bob", "").await;
    expect(&mut bob, "join bob player playing").await;
    let mut sue = join(&server, "duel", "arena", "sue", "&spectate=true").await;
    expect(&mut sue, "join sue spectator playing").await;
    assert_eq!(
        ask(&mut ann, "seats").await,
        "players 2/2 reserved 0 spectators 1/1"
    );
    let mut carl = join(&server, "duel", "arena", "carl", "").await;
    assert_eq!(carl.closed().await.0, 4002, "two players fill the room");
    let mut tom = join(&server, "duel", "arena", "tom", "&spectate=true").await;
    let (code, reason) = tom.closed().await;
    assert_eq!(
        (code, reason.as_str()),
        (4012, "the room has its most spectators (1)")
    );
    let info = room_info(&server, "duel", "arena");
    assert_eq!(
        (info["players"].as_u64(), info["spectators"].as_u64()),
        (Some(2), Some(1))
    );

    // The room part promotes a spectator only into a free seat.
    assert!(ask(&mut ann, "promote 3").await.contains("no player seat"));
    bob.leave().await;
    expect(&mut ann, "leave bob").await;
    assert_eq!(ask(&mut ann, "promote 3").await, "ok");
    assert_eq!(
        ask(&mut sue, "whoami").await,
        "#3 player host=false playing"
    );

    // A room made without spectators, and an app without them, refuse them.
    let (room, _) = create(&server, "duel", json!({"spectators": false})).await;
    let mut watcher = join(&server, "duel", &room, "wat", "&spectate=true").await;
    assert_eq!(
        watcher.closed().await,
        (4012, "this room takes no spectators".to_owned())
    );
    let _plain = push_probe(&server, "solo", "");
    let mut watcher = join(&server, "solo", "r", "wat", "&spectate=true").await;
    assert_eq!(watcher.closed().await.0, 4012);
    let (status, refused) =
        post_json(&server, "/apps/solo/rooms", json!({"spectators": true})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_spectators"))
    );

    // A room part built before 0.3 can't tell spectators apart: refused at upload.
    let manifest = "[app]\nname = \"old\"\nversion = \"0.1.0\"\ndescription = \"Old.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"identity\"]\nspectators = true\n";
    let old = AppDir::new(manifest, &[("room.wasm", &guest_component("room_v0_2"))]);
    let message = server.fails(&["app", "push", old.path()]);
    assert!(
        message
            .contains("[room].spectators needs a room part that can tell spectators from players")
            && message.contains("lodge:app/room-events@0.1.0"),
        "{message}"
    );
}

#[tokio::test]
async fn unlisted_and_invite_rooms_are_never_listed_publicly() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(&server, "lounge", "visibility = \"public\"\n");
    create(&server, "lounge", json!({"name": "open"})).await;
    create(
        &server,
        "lounge",
        json!({"name": "quiet", "visibility": "unlisted"}),
    )
    .await;
    let (_, vip) = create(
        &server,
        "lounge",
        json!({"name": "vip", "visibility": "invite"}),
    )
    .await;
    assert!(
        vip["invite"].is_string(),
        "the creator gets an invite: {vip}"
    );
    assert_eq!(public_rooms(&server, "lounge").await, ["open"]);
    // The app's collaborators see every room.
    let all = server.json(&["rooms", "ls", "lounge"]);
    let names: Vec<&str> = all["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["open", "quiet", "vip"]);

    // A room can't be listed more widely than its app's rooms.
    let _hidden = push_probe(&server, "hidden", "");
    let (status, refused) = post_json(
        &server,
        "/apps/hidden/rooms",
        json!({"visibility": "public"}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_visibility"))
    );
}

#[tokio::test]
async fn an_invite_holds_a_seat_and_bad_invites_are_refused_with_their_own_code() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(&server, "club", "max-members = 2\n");
    let (room, created) = create(&server, "club", json!({"visibility": "invite"})).await;
    let creator_invite = created["invite"].as_str().unwrap().to_owned();
    assert_eq!(
        created["play"],
        format!("/play/club/{room}#invite={creator_invite}")
    );

    // The room was made through the API: even its first join needs an invite.
    let mut early = join(&server, "club", &room, "early", "").await;
    assert_eq!(early.closed().await.0, 4009);
    let mut ann = join(
        &server,
        "club",
        &room,
        "ann",
        &format!("&invite={creator_invite}"),
    )
    .await;
    expect(&mut ann, "join ann player playing").await;
    let mut bob = join(&server, "club", &room, "bob", "").await;
    let (code, reason) = bob.closed().await;
    assert_eq!(code, 4009, "{reason}");

    // Strangers can't make invites; a member can, and one may hold a seat.
    let path = format!("/apps/club/rooms/{room}/invites");
    let (status, refused) = post_json(&server, &path, json!({})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("invite_not_allowed"))
    );
    let (status, held) = post_json(
        &server,
        &path,
        json!({"resume": resume("ann"), "seat_secs": 60}),
    )
    .await;
    assert_eq!(status, 201, "{held}");
    assert!(held["seat_expires"].is_string(), "{held}");
    let seat_invite = held["invite"].as_str().unwrap().to_owned();
    assert_eq!(room_info(&server, "club", &room)["seats_reserved"], 1);
    let (status, plain) = post_json(&server, &path, json!({"invite": creator_invite})).await;
    assert_eq!(status, 201, "an invite holder passes it on: {plain}");
    let plain_invite = plain["invite"].as_str().unwrap().to_owned();

    // The only free seat is held: a plain invite finds the room full, the
    // invited person gets in.
    let mut carl = join(
        &server,
        "club",
        &room,
        "carl",
        &format!("&invite={plain_invite}"),
    )
    .await;
    assert_eq!(carl.closed().await.0, 4002);
    let mut dee = join(
        &server,
        "club",
        &room,
        "dee",
        &format!("&invite={seat_invite}"),
    )
    .await;
    expect(&mut dee, "join dee player playing").await;

    // Forged, for another room, expired: 4008, each with its reason.
    let forged = format!("{}x", &plain_invite[..plain_invite.len() - 1]);
    let mut eve = join(&server, "club", &room, "eve", &format!("&invite={forged}")).await;
    let (code, reason) = eve.closed().await;
    assert_eq!(code, 4008);
    assert!(reason.contains("not valid"), "{reason}");
    let (other, other_created) = create(&server, "club", json!({"visibility": "invite"})).await;
    let other_invite = other_created["invite"].as_str().unwrap();
    let mut fay = join(
        &server,
        "club",
        &room,
        "fay",
        &format!("&invite={other_invite}"),
    )
    .await;
    let (code, reason) = fay.closed().await;
    assert_eq!(code, 4008);
    assert!(reason.contains(&other), "{reason}");
    let (_, short) = post_json(
        &server,
        &path,
        json!({"resume": resume("ann"), "expires_secs": 1}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = short["invite"].as_str().unwrap();
    let mut gus = join(&server, "club", &room, "gus", &format!("&invite={expired}")).await;
    let (code, reason) = gus.closed().await;
    assert_eq!(code, 4008);
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_guessing_is_rate_limited() {
    let data = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_logging(data.path(), &[], log.path());
    let _app = push_probe(&server, "vault", "visibility = \"public\"\n");
    let (room, created) = create(&server, "vault", json!({"password": "open sesame"})).await;
    assert_eq!(created["info"]["password"], true);
    assert!(
        public_rooms(&server, "vault").await.contains(&room),
        "a password room is still listed"
    );
    let db = std::fs::read(data.path().join("lodge.db")).unwrap();
    assert!(
        !db.windows(11).any(|w| w == b"open sesame"),
        "the password is not stored"
    );
    let creator = created["invite"].as_str().unwrap().to_owned();
    let mut ann = join(
        &server,
        "vault",
        &room,
        "ann",
        &format!("&invite={creator}"),
    )
    .await;
    expect(&mut ann, "join ann player playing").await;

    let mut bob = join(&server, "vault", &room, "bob", "").await;
    assert_eq!(bob.closed().await.0, 4010);
    let admit = format!("/apps/vault/rooms/{room}/admit");
    let (status, wrong) = post_json(&server, &admit, json!({"password": "open barley"})).await;
    assert_eq!(
        (status, wrong["error"]["code"].as_str()),
        (403, Some("wrong_password"))
    );
    let (status, admitted) = post_json(&server, &admit, json!({"password": "open sesame"})).await;
    assert_eq!(status, 200, "{admitted}");
    let invite = admitted["invite"].as_str().unwrap();
    let mut bob = join(&server, "vault", &room, "bob", &format!("&invite={invite}")).await;
    expect(&mut bob, "join bob player playing").await;

    // Ten tries a minute per address and room; then even the right one waits.
    let mut limited = None;
    for _ in 0..10 {
        let response = server
            .http()
            .post(server.api(&format!("/api{admit}")))
            .json(&json!({"password": "guess"}))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("guessing is limited");
    assert!(limited.headers().contains_key("retry-after"));
    let (status, _) = post_json(&server, &admit, json!({"password": "open sesame"})).await;
    assert_eq!(status, 429);

    // Query strings carry invites and resume tokens: the server's log (at
    // debug level) has the paths, never them; nor the password.
    let written = std::fs::read_to_string(log.path()).unwrap();
    assert!(written.contains("/admit"), "the log is captured");
    let bob_resume = resume("bob");
    for secret in ["open sesame", creator.as_str(), invite, bob_resume.as_str()] {
        assert!(!written.contains(secret), "{secret} is in the log");
    }
}

#[tokio::test]
async fn a_dropped_member_who_comes_back_in_time_is_the_same_member() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(&server, "cards", "reconnect-seconds = 3\n");
    let ann = join(&server, "cards", "table", "ann", "").await;
    let mut bob = join(&server, "cards", "table", "bob", "").await;
    expect(&mut bob, "join bob player playing").await;

    ann.drop_connection();
    expect(&mut bob, "drop ann").await;
    let info = room_info(&server, "cards", "table");
    assert_eq!(info["members"], 2, "the seat is held: {info}");
    assert_eq!(info["roster"][0]["connected"], false, "{info}");
    assert_eq!(ask(&mut bob, "tell 1 while you were away").await, "ok");
    assert_eq!(ask(&mut bob, "tell 1 and this too").await, "ok");

    let mut ann = join(&server, "cards", "table", "ann", "").await;
    // What was sent while away comes first, in order (the room's broadcast
    // of the drop included), then the rejoin. (What the old connection had
    // not taken before it dropped, bob's join, comes before all that.)
    let mut first = ann.text().await;
    if first == "join bob player playing" {
        first = ann.text().await;
    }
    assert_eq!(first, "drop ann");
    assert_eq!(ann.text().await, "while you were away");
    assert_eq!(ann.text().await, "and this too");
    expect(&mut ann, "rejoin ann").await;
    expect(&mut bob, "rejoin ann").await;
    assert_eq!(ask(&mut ann, "whoami").await, "#1 player host=true playing");
    assert_eq!(
        ask(&mut bob, "history").await,
        "history: join ann player playing | join bob player playing | drop ann | rejoin ann",
        "nobody saw a leave and a join"
    );

    // Too late: a leave, then a new member.
    ann.drop_connection();
    expect(&mut bob, "drop ann").await;
    expect(&mut bob, "leave ann").await;
    let mut ann = join(&server, "cards", "table", "ann", "").await;
    expect(&mut ann, "join ann player playing").await;
    assert_eq!(
        ask(&mut ann, "whoami").await,
        "#3 player host=false playing"
    );

    // A normal close is a leave at once, and a member without a resume
    // token can't come back, so a drop is a leave too.
    ann.leave().await;
    expect(&mut bob, "leave ann").await;
    let cy = Ws::join(&server, "cards", "table", "cy").await;
    expect(&mut bob, "join cy player playing").await;
    cy.drop_connection();
    expect(&mut bob, "leave cy").await;
}

#[tokio::test]
async fn a_second_connection_with_a_resume_token_takes_the_members_place() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(&server, "tabs", "");
    let mut first = join(&server, "tabs", "t", "ann", "").await;
    expect(&mut first, "join ann player playing").await;
    let mut second = join(&server, "tabs", "t", "ann", "").await;
    assert_eq!(first.closed().await.0, 4007);
    assert_eq!(
        ask(&mut second, "whoami").await,
        "#1 player host=true playing"
    );
    assert_eq!(
        ask(&mut second, "history").await,
        "history: join ann player playing | drop ann | rejoin ann",
        "the room part hears that a new client took the member's place"
    );
    // Someone else's token isn't a way in as them.
    let response = Ws::try_join(&server, "tabs", "t", "mal", "&resume=short").await;
    assert_eq!(response.err().map(|(status, _)| status), Some(400));
}

#[tokio::test]
async fn join_or_create_matches_metadata_filters() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "arena",
        "visibility = \"public\"\nmax-members = 4\n",
    );
    let path = "/apps/arena/rooms/join-or-create";
    let (status, ranked) = post_json(&server, path, json!({"filters": {"mode": "ranked"}})).await;
    assert_eq!(status, 200, "{ranked}");
    let (_, again) = post_json(&server, path, json!({"filters": {"mode": "ranked"}})).await;
    assert_eq!(again["room"], ranked["room"]);
    let (_, casual) = post_json(&server, path, json!({"filters": {"mode": "casual"}})).await;
    assert_ne!(casual["room"], ranked["room"]);
    let (_, any) = post_json(&server, path, json!({})).await;
    assert!(any["room"] == ranked["room"] || any["room"] == casual["room"]);
    let room = ranked["room"].as_str().unwrap();
    assert_eq!(
        room_info(&server, "arena", room)["metadata"],
        json!({"mode": "ranked"})
    );

    // The room part changes its metadata; the filters follow it.
    let seat = ranked["seat"].as_str().unwrap();
    let mut ann = join(&server, "arena", room, "ann", &format!("&seat={seat}")).await;
    assert_eq!(ask(&mut ann, "meta mode closed").await, "ok");
    assert!(
        ask(&mut ann, "meta Bad-Key x")
            .await
            .starts_with("error: metadata key")
    );
    let (_, next) = post_json(&server, path, json!({"filters": {"mode": "ranked"}})).await;
    assert_ne!(next["room"], ranked["room"]);

    let (status, bad) =
        post_json(&server, path, json!({"filters": {"mode": "x".repeat(300)}})).await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_metadata"))
    );
}

#[tokio::test]
async fn a_room_built_against_0_2_keeps_running() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let manifest = "[app]\nname = \"old\"\nversion = \"0.1.0\"\ndescription = \"Old.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"identity\"]\nreconnect-seconds = 5\n";
    let old = AppDir::new(manifest, &[("room.wasm", &guest_component("room_v0_2"))]);
    server.ok(&["app", "push", old.path()]);
    let shown = server.json(&["app", "show", "old"]);
    assert!(
        shown.to_string().contains("lodge:app/room-events@0.1.0"),
        "{shown}"
    );
    let mut ann = join(&server, "old", "r", "ann", "").await;
    assert_eq!(ann.text().await, "v0.2 welcomes ann (guest)");
    ann.send("ping").await;
    assert_eq!(ann.text().await, "ping");
    let mut bob = join(&server, "old", "r", "bob", "").await;
    assert_eq!(bob.text().await, "v0.2 welcomes bob (guest)");
    // A 0.2 room isn't told of drops, but the seat is held all the same.
    ann.drop_connection();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ann = join(&server, "old", "r", "ann", "").await;
    ann.send("still me").await;
    assert_eq!(ann.text().await, "still me");
    assert!(
        bob.recv_within(Duration::from_millis(500)).await.is_none(),
        "bob saw no leave"
    );
}

/// A live room list (`Accept: text/event-stream`), read event by event.
pub(crate) struct LiveList {
    response: reqwest::Response,
    buffer: String,
}

impl LiveList {
    pub(crate) async fn open(server: &Server, app: &str, query: &str) -> (u16, LiveList) {
        let response = server
            .http()
            .get(server.api(&format!("/api/apps/{app}/rooms{query}")))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            LiveList {
                response,
                buffer: String::new(),
            },
        )
    }

    /// The next event's name and data (keep-alive comments skipped).
    pub(crate) async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = name.to_owned();
                    } else if let Some(text) = line.strip_prefix("data: ") {
                        data.push_str(text);
                    }
                }
                if event.is_empty() {
                    continue;
                }
                return (event, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next change: what changed, and the room's name and state.
    pub(crate) async fn change(&mut self) -> (u64, Vec<String>, String, Value) {
        let (event, data) = self.next().await;
        assert_eq!(event, "change", "{data}");
        let what = data["what"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect();
        (
            data["seq"].as_u64().unwrap(),
            what,
            data["name"].as_str().unwrap().to_owned(),
            data["room"].clone(),
        )
    }
}

#[tokio::test]
async fn the_live_list_delivers_every_change_in_order() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "live",
        "visibility = \"public\"\nstart = \"lobby\"\nmax-members = 4\n",
    );
    create(&server, "live", json!({"name": "early"})).await;
    let (status, mut list) = LiveList::open(&server, "live", "").await;
    assert_eq!(status, 200);
    let (event, snapshot) = list.next().await;
    assert_eq!(event, "snapshot");
    assert_eq!(snapshot["rooms"][0]["name"], "early", "{snapshot}");
    let first = snapshot["seq"].as_u64().unwrap();

    // Rooms that aren't public never appear: their events are skipped.
    create(
        &server,
        "live",
        json!({"name": "hidden", "visibility": "unlisted"}),
    )
    .await;
    create(
        &server,
        "live",
        json!({"name": "secret", "visibility": "invite"}),
    )
    .await;
    create(&server, "live", json!({"name": "table"})).await;
    let (mut last, what, name, room) = list.change().await;
    assert!(
        last >= first + 3,
        "the hidden rooms' changes were numbered too"
    );
    assert_eq!((what, name.as_str()), (vec!["opened".to_owned()], "table"));
    assert_eq!(room["phase"], "lobby");

    let mut ann = join(&server, "live", "table", "ann", "").await;
    let (what, _, room) = next_change(&mut list, &mut last).await;
    assert_eq!(what, ["members", "host"]);
    assert_eq!(room["roster"][0]["name"], "ann");
    assert_eq!(room["host"], "ann");
    let _bob = join(&server, "live", "table", "bob", "").await;
    let (what, _, room) = next_change(&mut list, &mut last).await;
    assert_eq!(
        (what, room["players"].as_u64()),
        (vec!["members".to_owned()], Some(2))
    );
    let (status, _) = post_json(
        &server,
        "/apps/live/rooms/table/start",
        json!({"resume": resume("ann")}),
    )
    .await;
    assert_eq!(status, 200);
    let (what, _, room) = next_change(&mut list, &mut last).await;
    assert_eq!(
        (what, room["phase"].as_str()),
        (vec!["phase".to_owned()], Some("playing"))
    );
    assert_eq!(ask(&mut ann, "meta map dunes").await, "ok");
    let (what, _, room) = next_change(&mut list, &mut last).await;
    assert_eq!(
        (what, room["metadata"].clone()),
        (vec!["metadata".to_owned()], json!({"map": "dunes"}))
    );
    ann.leave().await;
    let (what, _, room) = next_change(&mut list, &mut last).await;
    assert_eq!(
        (what, room["host"].as_str()),
        (vec!["members".to_owned(), "host".to_owned()], Some("bob"))
    );
    let stopped = server
        .http()
        .delete(server.api("/api/apps/live/rooms/table"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), 200);
    let (what, name, room) = next_change(&mut list, &mut last).await;
    assert_eq!(
        (what, name.as_str(), room),
        (vec!["closed".to_owned()], "table", Value::Null)
    );

    // One room, watched by a member even though it is invite-only; a
    // stranger may not.
    let (status, _) = LiveList::open(&server, "live", "?room=secret").await;
    assert_eq!(status, 403);
    let (status, mut one) = LiveList::open(&server, "live", "?room=hidden").await;
    assert_eq!(status, 200);
    let (_, snapshot) = one.next().await;
    assert_eq!(snapshot["rooms"][0]["name"], "hidden");
}

/// The next change, which must be numbered right after `last`.
async fn next_change(list: &mut LiveList, last: &mut u64) -> (Vec<String>, String, Value) {
    let (seq, what, name, room) = list.change().await;
    assert_eq!(seq, *last + 1, "changes arrive in order, none missing");
    *last = seq;
    (what, name, room)
}

/// The lobby game in sdk/rust/README.md, built from `tests/guests/readme-lobby`.
#[tokio::test]
async fn the_readme_lobby_game_works_as_written() {
    let readme = std::fs::read_to_string(repo().join("sdk/rust/README.md")).unwrap();
    let section = readme.find("## A lobby game").unwrap();
    let start = section + readme[section..].find("```rust\n").unwrap() + "```rust\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let source =
        std::fs::read_to_string(repo().join("tests/guests/readme-lobby/src/lib.rs")).unwrap();
    assert_eq!(
        &readme[start..end],
        source,
        "tests/guests/readme-lobby must be the README's lobby game"
    );
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let manifest = "[app]\nname = \"party\"\nversion = \"0.1.0\"\ndescription = \"README.\"\n\n[room]\ncomponent = \"room.wasm\"\nstart = \"lobby\"\n";
    let app = AppDir::new(manifest, &[("room.wasm", &guest_component("readme_lobby"))]);
    server.ok(&["app", "push", app.path()]);
    let mut ann = join(&server, "party", "p", "ann", "").await;
    let mut bob = join(&server, "party", "p", "bob", "").await;
    ann.send("hi").await;
    assert_eq!(ann.text().await, "wait for the host to start");
    let start_path = "/apps/party/rooms/p/start";
    let (status, _) = post_json(&server, start_path, json!({"resume": resume("ann")})).await;
    assert_eq!(status, 200);
    assert_eq!(bob.text().await, "a party needs three");
    assert_eq!(room_info(&server, "party", "p")["phase"], "lobby");
    let _cy = join(&server, "party", "p", "cy", "").await;
    let (status, _) = post_json(&server, start_path, json!({"resume": resume("ann")})).await;
    assert_eq!(status, 200);
    ann.send("go team").await;
    assert_eq!(bob.text().await, "go team");
    bob.drop_connection();
    while room_info(&server, "party", "p")["roster"][1]["connected"] != false {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ann.send("while you were away").await;
    let mut bob = join(&server, "party", "p", "bob", "").await;
    assert_eq!(
        bob.text().await,
        "while you were away",
        "what was sent while away comes first"
    );
    assert_eq!(bob.text().await, "welcome back");
}

/// Dropped connections can't pile up: one address has at most 4 seats held
/// in a room; a fifth drop is a leave.
#[tokio::test]
async fn one_address_holds_at_most_four_seats_after_drops() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "crowd",
        "max-members = 10\nreconnect-seconds = 30\n",
    );
    let mut watcher = Ws::try_join_from(
        &server,
        "127.0.0.2",
        "crowd",
        "r",
        "obs",
        &format!("&resume={}", resume("obs")),
    )
    .await
    .unwrap();
    expect(&mut watcher, "join obs player playing").await;
    for i in 1..=5 {
        let name = format!("m{i}");
        let member = join(&server, "crowd", "r", &name, "").await;
        expect(&mut watcher, &format!("join {name} player playing")).await;
        member.drop_connection();
        let seen = if i <= 4 { "drop" } else { "leave" };
        expect(&mut watcher, &format!("{seen} {name}")).await;
    }
    let info = room_info(&server, "crowd", "r");
    assert_eq!(info["members"], 5, "obs and four held seats: {info}");
}

/// A held seat keeps others out, so only the room's members (and the
/// app's collaborators) may hold one with an invite.
#[tokio::test]
async fn only_members_hold_seats_with_invites() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _app = push_probe(
        &server,
        "open",
        "visibility = \"public\"\nmax-members = 3\n",
    );
    let mut ann = join(&server, "open", "r", "ann", "").await;
    expect(&mut ann, "join ann player playing").await;
    let path = "/apps/open/rooms/r/invites";
    let (status, plain) = post_json(&server, path, json!({})).await;
    assert_eq!(status, 201, "anyone may invite into an open room: {plain}");
    let (status, refused) = post_json(&server, path, json!({"seat_secs": 60})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("invite_not_allowed"))
    );
    let (status, _) = post_json(
        &server,
        path,
        json!({"seat_secs": 60, "resume": resume("ann")}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(room_info(&server, "open", "r")["seats_reserved"], 1);
}
