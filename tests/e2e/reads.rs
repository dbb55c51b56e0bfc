//! Reads that leak: an app's log (member names, whatever the app writes)
//! is for the app's collaborators and admins, and the room list shows anonymous callers only the
//! rooms an app marks public, since a room's name is all it takes to join.

use crate::support::*;

fn push_misbehave(server: &Server, version: &str, visibility: &str) -> AppDir {
    let dir = AppDir::new(
        &format!(
            "[app]\nname = \"mixed\"\nversion = \"{version}\"\ndescription = \"Rooms of both kinds.\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"timers\"]\nvisibility = \"{visibility}\"\n"
        ),
        &[("room.wasm", &guest_component("misbehave"))],
    );
    server.ok(&["app", "push", dir.path()]);
    dir
}

async fn get_with(server: &Server, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = server.http().get(server.api(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn room_names(body: &str) -> Vec<String> {
    let list: serde_json::Value = serde_json::from_str(body).unwrap();
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

// Anyone could read an app's log, with every member's name in it.
#[tokio::test]
async fn an_apps_log_needs_the_token() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&["app", "push", examples().join("chat").to_str().unwrap()]);
    let mut ws = Ws::join(&server, "chat", "lobby", "ada").await;
    ws.send("hello").await;
    while !ws.text().await.contains("hello") {}

    for path in ["/api/apps/chat/logs", "/api/apps/chat/logs?follow=true"] {
        let (status, body) = get_with(&server, path, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(!body.contains("ada"), "{body}");
        let (status, _) = get_with(&server, path, Some("wrong")).await;
        assert_eq!(status, 401);
    }
    let (status, body) = get_with(&server, "/api/apps/chat/logs", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(body.contains("ada (#1) joined"), "{body}");

    // The CLI says where a token comes from.
    let out = server.lodge_with_token(&["logs", "chat"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sign in first"), "{err}");
    assert!(err.contains("no token found"), "{err}");
    assert!(server.ok(&["logs", "chat"]).contains("ada (#1) joined"));

    // The room itself carried on.
    ws.send("still here").await;
    while !ws.text().await.contains("still here") {}
}

// A room's name is the only secret of a /play link, and anyone could list them.
#[tokio::test]
async fn anonymous_callers_see_only_public_rooms() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let _unlisted = push_misbehave(&server, "0.1.0", "unlisted");
    let _public = push_misbehave(&server, "0.2.0", "public");
    // Rooms run the version they started on: one of each kind.
    let mut secret = Ws::try_join(&server, "mixed", "secret-4f9a", "ada", "&version=0.1.0")
        .await
        .unwrap();
    let mut open = Ws::join(&server, "mixed", "open", "bob").await;
    for ws in [&mut secret, &mut open] {
        ws.send("here").await;
        assert_eq!(ws.text().await, "here");
    }

    let (status, body) = get_with(&server, "/api/apps/mixed/rooms", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(room_names(&body), ["open"]);
    assert!(!body.contains("secret"), "{body}");

    let (status, body) = get_with(&server, "/api/apps/mixed/rooms", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(room_names(&body), ["open", "secret-4f9a"]);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["rooms"][0]["visibility"], "public");
    assert_eq!(list["rooms"][1]["visibility"], "unlisted");
    assert_eq!(
        server.json(&["rooms", "ls", "mixed"])["rooms"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the CLI sends the token"
    );

    let (status, _) = get_with(&server, "/api/apps/mixed/rooms", Some("wrong")).await;
    assert_eq!(status, 401, "a wrong token is refused, not ignored");

    // The app list's counts stay: they name no room.
    let apps: serde_json::Value = serde_json::from_str(&get(&server, "/api/apps").await.1).unwrap();
    assert_eq!(apps["apps"][0]["live_rooms"], 2);

    // Anyone who knows the name still joins.
    let mut again = Ws::try_join(&server, "mixed", "secret-4f9a", "cy", "&version=0.1.0")
        .await
        .unwrap();
    again.send("hi").await;
    assert_eq!(again.text().await, "hi");
}
