//! A data folder written by the previous release opens in this one: the
//! fixture `tests/e2e/fixtures/data-0.1` is what `lodge serve` of the
//! release before issue 10 left after `lodge app push` of the readme room
//! (registry schema 1, kv, one blob; its compiled cache left out, so this
//! release compiles the component again).

use crate::support::*;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
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
}
