//! `identity`, the room capability that tells signed-in members from guests
//! (issue 12, players), and `[room].require-account`: through a real
//! server, with the room in sdk/rust/README.md built by the 0.2 SDK.

use crate::support::*;
use lodge_manifest::{CapabilityName, Role};
use lodge_runtime::{ComponentLimits, check_part};

fn lounge_manifest(app: &str, capabilities: &str, extra: &str) -> String {
    format!(
        "[app]\nname = \"{app}\"\nversion = \"0.1.0\"\ndescription = \"identity\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [{capabilities}]\n{extra}"
    )
}

/// The imports `check_part` finds in a guest built by the tests, as a room
/// part that declared `declared`.
fn room_imports(guest: &str, declared: &[&str]) -> Vec<String> {
    let declared: Vec<CapabilityName> = declared
        .iter()
        .map(|name| CapabilityName::new(name).unwrap())
        .collect();
    check_part(
        Role::Room,
        &declared,
        guest,
        &guest_component(guest),
        &ComponentLimits::default(),
    )
    .unwrap_or_else(|e| panic!("{guest}: {e}"))
    .imports
}

#[tokio::test]
async fn a_guest_is_told_by_identity_that_it_is_a_guest() {
    let readme = std::fs::read_to_string(repo().join("sdk/rust/README.md")).unwrap();
    let section = readme.find("## Signed-in members and guests").unwrap();
    let start = section + readme[section..].find("```rust\n").unwrap() + "```rust\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let source =
        std::fs::read_to_string(repo().join("tests/guests/identity-probe/src/lib.rs")).unwrap();
    assert_eq!(
        &readme[start..end],
        source,
        "tests/guests/identity-probe must be the README's identity room"
    );

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        &lounge_manifest("lounge", "\"identity\"", ""),
        &[("room.wasm", &guest_component("identity_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let mut ada = Ws::join(&server, "lounge", "bar", "ada").await;
    assert_eq!(ada.text().await, "welcome, ada (guest)");
    // Every member is asked about by their own id.
    let mut bob = Ws::join(&server, "lounge", "bar", "bob").await;
    assert_eq!(bob.text().await, "welcome, bob (guest)");
    let log = server.ok(&["logs", "lounge"]);
    assert!(log.contains("ada (#1) joined"), "{log}");
}

#[tokio::test]
async fn a_room_calling_identity_without_declaring_it_is_refused_at_upload() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        &lounge_manifest("undeclared", "", ""),
        &[("room.wasm", &guest_component("identity_probe"))],
    );
    let out = server.fails(&["app", "push", dir.path()]);
    assert!(
        out.contains("room.wasm imports lodge:app/identity@0.2.0, which room parts get only when the manifest declares it: add \"identity\" to [room].capabilities"),
        "{out}"
    );
    assert!(
        server.ok(&["app", "ls"]).contains("no apps"),
        "nothing was published"
    );
}

#[test]
fn the_sdk_imports_identity_only_for_rooms_that_call_it() {
    // The 0.3 room world imports the interfaces that did not change at
    // 0.1.0, and room-control (whose phase type room-events@0.3.0 uses) at
    // 0.3.0; identity only when the room calls it.
    for guest in ["presence", "readme_echo"] {
        let imports = room_imports(guest, &["presence", "kv"]);
        let lodge: Vec<&String> = imports.iter().filter(|i| i.starts_with("lodge:")).collect();
        assert!(!lodge.is_empty(), "{guest}: {imports:?}");
        assert!(
            lodge
                .iter()
                .all(|i| i.ends_with("@0.1.0") || *i == "lodge:app/room-control@0.3.0"),
            "{guest}: {imports:?}"
        );
    }
    let imports = room_imports("identity_probe", &["identity"]);
    assert!(
        imports.iter().any(|i| i == "lodge:app/identity@0.2.0"),
        "{imports:?}"
    );
    assert!(
        imports.iter().any(|i| i == "lodge:app/members@0.1.0"),
        "{imports:?}"
    );
}

#[tokio::test]
async fn an_app_requiring_signed_in_members_is_published_with_it() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let room = guest_component("identity_probe");
    let members_only = AppDir::new(
        &lounge_manifest("club", "\"identity\"", "require-account = true\n"),
        &[("room.wasm", &room)],
    );
    server.ok(&["app", "push", members_only.path()]);
    let shown = server.json(&["app", "show", "club@0.1.0"]);
    assert_eq!(
        shown["manifest"]["room"]["require-account"], true,
        "{shown}"
    );

    // Left out when false, so an app that doesn't use it keeps its digest.
    let open = AppDir::new(
        &lounge_manifest("open", "\"identity\"", "require-account = false\n"),
        &[("room.wasm", &room)],
    );
    server.ok(&["app", "push", open.path()]);
    let shown = server.json(&["app", "show", "open@0.1.0"]);
    assert!(
        shown["manifest"]["room"].get("require-account").is_none(),
        "{shown}"
    );
}

/// A signed-in member (a token here; the page sends its session cookie)
/// is their account to the room; an app that requires sign-in closes on
/// guests with 4006 before its room sees them.
#[tokio::test]
async fn a_signed_in_member_is_their_account_and_require_account_refuses_guests() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let signed_up = server
        .http()
        .post(server.api("/api/signup"))
        .json(&serde_json::json!({ "username": "ada", "password": "ada-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);
    let token: serde_json::Value = server
        .http()
        .post(server.api("/api/tokens"))
        .json(&serde_json::json!({ "name": "t", "username": "ada", "password": "ada-password" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let dir = AppDir::new(
        &lounge_manifest("members-only", "\"identity\"", "require-account = true\n"),
        &[("room.wasm", &guest_component("identity_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let mut guest = Ws::join(&server, "members-only", "bar", "visitor").await;
    let (code, reason) = guest.closed().await;
    assert_eq!(code, 4006, "{reason}");
    assert!(reason.contains("signed-in members"), "{reason}");
    let mut ada = Ws::join_with_token(&server, "members-only", "bar", &token)
        .await
        .unwrap();
    assert_eq!(ada.text().await, "welcome back, ada");
    let log = server.ok(&["logs", "members-only"]);
    assert!(log.contains("signed in as ada"), "{log}");
}
