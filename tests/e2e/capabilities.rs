//! Capabilities end to end: one added through the table (`presence`), the
//! upload check that names what to declare, and a check that every row of
//! the table has a guest that exercises it.

use crate::support::*;
use lodge_manifest::Role;
use lodge_runtime::capabilities::{CAPABILITIES, Package};
use lodge_runtime::{ComponentLimits, check_part};

/// Asks the room for `rooms` until it answers `expected` (member counts are
/// updated once each join has been handled, so the first answer may lag),
/// and returns the last answer.
async fn rooms_until(member: &mut Ws, expected: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        member.send("rooms").await;
        let Received::Text(answer) = member.recv().await else {
            panic!("the room closed");
        };
        if answer == expected || std::time::Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn presence_manifest(app: &str, capabilities: &str, visibility: &str) -> String {
    format!(
        "[app]\nname = \"{app}\"\nversion = \"0.1.0\"\ndescription = \"presence\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [{capabilities}]\nvisibility = \"{visibility}\"\n"
    )
}

#[tokio::test]
async fn a_room_sees_the_apps_live_rooms_through_presence() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let room = guest_component("presence");
    let public = AppDir::new(
        &presence_manifest("tables", "\"presence\"", "public"),
        &[("room.wasm", &room)],
    );
    server.ok(&["app", "push", public.path()]);

    let mut alice = Ws::join(&server, "tables", "red", "alice").await;
    let _bob = Ws::join(&server, "tables", "blue", "bob").await;
    let _carol = Ws::join(&server, "tables", "blue", "carol").await;
    // Another app's rooms are not this app's business.
    let other = AppDir::new(
        &presence_manifest("elsewhere", "\"presence\"", "public"),
        &[("room.wasm", &room)],
    );
    server.ok(&["app", "push", other.path()]);
    let _dave = Ws::join(&server, "elsewhere", "green", "dave").await;

    let expected = "totals 2 3; public blue:2,red:1";
    assert_eq!(rooms_until(&mut alice, expected).await, expected);
}

#[tokio::test]
async fn unlisted_rooms_are_counted_but_never_named() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        &presence_manifest("secret", "\"presence\"", "unlisted"),
        &[("room.wasm", &guest_component("presence"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let mut alice = Ws::join(&server, "secret", "hideout", "alice").await;
    let _bob = Ws::join(&server, "secret", "attic", "bob").await;
    let expected = "totals 2 2; public ";
    assert_eq!(rooms_until(&mut alice, expected).await, expected);
}

#[tokio::test]
async fn a_room_importing_an_undeclared_capability_is_told_what_to_declare() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        &presence_manifest("forgot", "", "public"),
        &[("room.wasm", &guest_component("presence"))],
    );
    let out = server.fails(&["app", "push", dir.path()]);
    assert!(
        out.contains("room.wasm imports lodge:app/presence@0.1.0, which room parts get only when the manifest declares it: add \"presence\" to [room].capabilities"),
        "{out}"
    );
}

#[test]
fn a_client_declaring_two_graphics_capabilities_is_refused_and_nothing_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let manifest = |capabilities: &str| {
        format!(
            "[app]\nname = \"painter\"\nversion = \"0.1.0\"\ndescription = \"Draws.\"\n\n[client]\ncomponent = \"client.wasm\"\ncapabilities = [{capabilities}]\n"
        )
    };
    let client = guest_component("readme_client");
    let both = AppDir::new(
        &manifest("\"terminal\", \"screen\""),
        &[("client.wasm", &client)],
    );
    let out = server.fails(&["app", "push", both.path()]);
    assert!(
        out.contains("[client].capabilities declares both \"terminal\" and \"screen\", but a part has at most one graphics capability: keep one"),
        "{out}"
    );
    assert!(
        server.ok(&["app", "ls"]).contains("no apps"),
        "nothing was published"
    );

    // The text grid, declared or not, is what a client draws on by default.
    let terminal = AppDir::new(&manifest("\"terminal\""), &[("client.wasm", &client)]);
    server.ok(&["app", "push", terminal.path()]);
}

/// Every server-side capability in the table is imported by at least one
/// guest the tests build and run, so a row nobody exercises fails here.
#[test]
fn every_capability_in_the_table_has_a_guest_that_exercises_it() {
    let guests: Vec<(&str, Role, Vec<u8>)> = vec![
        ("misbehave", Role::Room, guest_component("misbehave")),
        ("presence", Role::Room, guest_component("presence")),
        (
            "identity-probe",
            Role::Room,
            guest_component("identity_probe"),
        ),
        ("readme-echo", Role::Room, guest_component("readme_echo")),
        (
            "readme-client",
            Role::Client,
            guest_component("readme_client"),
        ),
        ("http-probe", Role::Http, guest_component("http_probe")),
        ("http-py", Role::Http, py_component()),
        ("chat room", Role::Room, component("chat_room")),
        ("chat client", Role::Client, component("chat_client")),
        ("bad-client", Role::Client, guest_component("bad_client")),
        (
            "screen-probe",
            Role::Client,
            guest_component("screen_probe"),
        ),
        ("readme-game", Role::Client, guest_component("readme_game")),
        ("audio-probe", Role::Client, guest_component("audio_probe")),
        (
            "assets-probe",
            Role::Client,
            guest_component("assets_probe"),
        ),
        (
            "aquarium client",
            Role::Client,
            component("aquarium_client"),
        ),
        (
            "tic-tac-toe http",
            Role::Http,
            component("tic_tac_toe_http"),
        ),
        ("counter room", Role::Room, component("counter_room")),
        (
            "tic-tac-toe room",
            Role::Room,
            component("tic_tac_toe_room"),
        ),
    ];
    let every: Vec<lodge_manifest::CapabilityName> = CAPABILITIES
        .iter()
        .filter_map(|c| lodge_manifest::CapabilityName::new(c.name))
        .collect();
    let limits = ComponentLimits::default();
    let imports: Vec<(Role, Vec<String>)> = guests
        .iter()
        .map(|(name, role, bytes)| {
            let declared: Vec<_> = every
                .iter()
                .filter(|c| {
                    lodge_runtime::capabilities::find(c.as_str())
                        .is_some_and(|cap| cap.declared_by.contains(role))
                })
                .cloned()
                .collect();
            let checked = check_part(*role, &declared, name, bytes, &limits)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (*role, checked.imports)
        })
        .collect();
    // A capability with no interface (gamepad) changes what the page
    // delivers; the browser tests exercise it.
    for capability in CAPABILITIES.iter().filter(|c| !c.interfaces.is_empty()) {
        let exercised = imports.iter().any(|(role, imports)| {
            (capability.granted_to.contains(role)
                || capability.declared_by.contains(role)
                || capability.package == Package::Wasi)
                && imports.iter().any(|import| {
                    let base = import.split('@').next().unwrap_or(import);
                    capability.interfaces.contains(&base)
                })
        });
        assert!(
            exercised,
            "no test guest imports {} ({:?}); add one under tests/guests with a test that uses it",
            capability.name, capability.interfaces
        );
    }
}
