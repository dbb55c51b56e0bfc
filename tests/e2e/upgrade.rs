//! A data folder written by the previous release opens in this one: the
//! fixture `tests/e2e/fixtures/data-0.1` is what `lodge serve` of the
//! release before issue 10 left after `lodge app push` of the readme room
//! (registry schema 1, kv, one blob; its compiled cache left out, so this
//! release compiles the component again). Its registry is migrated to
//! schema 3 (assets) on open, and takes a version with assets.

use crate::support::*;

pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_data_folder_from_the_previous_release_opens_and_its_app_plays() {
    let data = tempfile::tempdir().unwrap();
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/data-0.1"),
        data.path(),
    );
    let server = Server::start(data.path(), &[]);
    let listed = server.ok(&["app", "ls"]);
    assert!(listed.contains("echo"), "{listed}");
    let shown = server.ok(&["app", "show", "echo"]);
    assert!(shown.contains("1.0.0") && shown.contains("kv"), "{shown}");

    let mut alice = Ws::join(&server, "echo", "lobby", "alice").await;
    assert_eq!(alice.recv().await, Received::Text("alice is here".into()));
    alice.send("still here").await;
    assert_eq!(alice.recv().await, Received::Text("still here".into()));

    // The migrated registry (schema 3) takes what this release adds: a
    // version with assets, listed and served, beside the old version.
    let get_json = |path: &'static str| async {
        let response = server.http().get(server.api(path)).send().await.unwrap();
        response.json::<serde_json::Value>().await.unwrap()
    };
    let old = get_json("/api/apps/echo").await;
    assert_eq!(old["versions"][0]["assets"], serde_json::json!([]));
    let manifest = "[app]\nname = \"pictures\"\nversion = \"1.0.0\"\ndescription = \"Pictures.\"\n\n[client]\ncomponent = \"client.wasm\"\ncapabilities = [\"assets\"]\nassets = [\"hello.txt\"]\n";
    let client = component("chat_client");
    let dir = AppDir::new(
        manifest,
        &[
            ("client.wasm", &client),
            ("hello.txt", b"hello from an asset"),
        ],
    );
    server.ok(&["app", "push", dir.path()]);
    let shown = get_json("/api/apps/pictures").await;
    let url = shown["versions"][0]["assets"][0]["url"].as_str().unwrap();
    let served = server.http().get(server.api(url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        b"hello from an asset"
    );
    let listed = server.ok(&["app", "ls"]);
    assert!(
        listed.contains("echo") && listed.contains("pictures"),
        "{listed}"
    );
}
