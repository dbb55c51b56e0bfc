//! The registry through the real CLI: push, list, show, re-push, conflicts, deletes.

use crate::support::*;

const EXAMPLES: [&str; 4] = ["chat", "counter", "tic-tac-toe", "http-hello"];

#[test]
fn push_list_show_repush_conflict_and_delete_through_the_cli() {
    let examples = examples();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);

    for name in EXAMPLES {
        let out = server.ok(&["app", "push", examples.join(name).to_str().unwrap()]);
        assert!(out.contains(&format!("pushed {name}@0.1.0")), "{out}");
        assert!(
            out.contains("sha256:"),
            "push prints each part's hash: {out}"
        );
    }

    let list = server.json(&["app", "ls"]);
    let names = app_names(&list);
    assert_eq!(names, ["chat", "counter", "http-hello", "tic-tac-toe"]);
    let chat = &list["apps"][0];
    assert_eq!(chat["latest"], "0.1.0");
    assert_eq!(chat["parts"], serde_json::json!(["room", "client"]));
    assert_eq!(
        chat["description"],
        "A chat room that remembers the last 50 messages."
    );

    let table = server.ok(&["app", "ls"]);
    assert!(table.lines().next().unwrap().starts_with("NAME"), "{table}");
    assert!(table.contains("tic-tac-toe"), "{table}");

    // show: versions with created time, size, parts, capabilities, hashes.
    let shown = server.json(&["app", "show", "chat"]);
    let version = &shown["versions"][0];
    let part = &version["parts"][0];
    let expected_hash = sha256_hex(&component("chat_room"));
    assert_eq!(part["role"], "room");
    assert_eq!(part["sha256"], expected_hash.as_str());
    assert_eq!(part["capabilities"], serde_json::json!(["kv", "timers"]));
    assert!(
        part["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "lodge:app/kv@0.1.0")
    );
    assert!(version["created"].as_str().unwrap().ends_with('Z'));
    assert!(version["size"].as_u64().unwrap() > 1000);
    let http = server.json(&["app", "show", "http-hello@0.1.0"]);
    assert_eq!(http["parts"][0]["role"], "http");
    assert!(
        http["parts"][0]["exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e
                .as_str()
                .unwrap()
                .starts_with("wasi:http/incoming-handler@0.2."))
    );

    // Pushing identical content again is a no-op that succeeds.
    let again = server.ok(&["app", "push", examples.join("chat").to_str().unwrap()]);
    assert!(again.contains("unchanged"), "{again}");

    // Changed content under the same version is refused, and the CLI says to bump.
    let changed = AppDir::new(
        &room_manifest(
            "chat",
            "0.1.0",
            "A different description",
            &["kv", "timers"],
        ),
        &[("room.wasm", &component("chat_room"))],
    );
    let out = server.lodge(&["app", "push", changed.path()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already published") && err.contains("bump [app].version"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "errors are one line: {err}");

    // A new version becomes latest (highest semver, not newest push).
    let v2 = AppDir::new(
        &room_manifest("chat", "0.10.0", "Version ten", &["kv", "timers"]),
        &[("room.wasm", &component("counter_room"))],
    );
    server.ok(&["app", "push", v2.path()]);
    let v3 = AppDir::new(
        &room_manifest("chat", "0.9.0", "Version nine", &["kv", "timers"]),
        &[("room.wasm", &component("chat_room"))],
    );
    server.ok(&["app", "push", v3.path()]);
    let shown = server.json(&["app", "show", "chat"]);
    assert_eq!(shown["latest"], "0.10.0");
    let versions: Vec<&str> = shown["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.10.0", "0.9.0", "0.1.0"]);
    assert_eq!(server.json(&["app", "ls"])["apps"][0]["latest"], "0.10.0");

    // Deleting a version keeps blobs other versions still name.
    let out = server.ok(&["app", "rm", "chat@0.1.0"]);
    assert!(out.contains("deleted chat@0.1.0"), "{out}");
    let blob = |hash: &str| data.path().join("blobs/sha256").join(&hash[..2]).join(hash);
    assert!(
        blob(&expected_hash).exists(),
        "0.9.0 still names the chat component"
    );
    server.ok(&["app", "rm", "chat@0.9.0"]);
    assert!(
        !blob(&expected_hash).exists(),
        "no version names the chat component any more"
    );
    let out = server.lodge(&["app", "rm", "chat@0.9.0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chat has no version 0.9.0"));

    // Deleting an app removes every version and every blob only it named.
    let out = server.ok(&["app", "rm", "chat"]);
    assert!(out.contains("deleted chat (1 version)"), "{out}");
    let counter_hash = sha256_hex(&component("counter_room"));
    assert!(
        blob(&counter_hash).exists(),
        "the counter app still names its component"
    );
    let out = server.lodge(&["app", "show", "chat"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no app named chat"));
    for name in ["counter", "tic-tac-toe", "http-hello"] {
        server.ok(&["app", "rm", name]);
    }
    assert_eq!(server.json(&["app", "ls"])["apps"], serde_json::json!([]));
    assert_no_stored_files(data.path());
}

#[test]
fn bad_manifests_are_refused_by_the_cli_before_uploading() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let app = AppDir::new(
        "[app]\nname = \"Bad Name\"\nversion = \"1.0.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\n",
        &[],
    );
    let out = server.lodge(&["app", "push", app.path()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[app].name = \"Bad Name\" is not a valid app name"),
        "{err}"
    );

    let missing = AppDir::new(&room_manifest("demo", "1.0.0", "", &[]), &[]);
    let out = server.lodge(&["app", "push", missing.path()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist; build it first"), "{err}");
}

#[test]
fn reading_commands_work_without_a_token_and_answer_json() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let out = server.lodge_with_token(&["app", "ls", "--json"], None);
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["apps"], serde_json::json!([]));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn client_parts_are_served_prepared_for_the_browser_and_rebuilt_when_missing() {
    let examples = examples();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&["app", "push", examples.join("counter").to_str().unwrap()]);
    let shown = server.json(&["app", "show", "counter"]);
    let client = shown["versions"][0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "client")
        .unwrap()
        .clone();
    let entry = client["browser"].as_str().unwrap().to_owned();
    let sha = client["sha256"].as_str().unwrap();
    assert!(
        entry.contains(sha) && entry.ends_with("/client.js"),
        "{entry}"
    );

    let http = server.http();
    let fetch = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", server.url);
        async move { http.get(url).send().await.unwrap() }
    };
    let module = fetch(entry.clone()).await;
    assert_eq!(module.status(), 200);
    assert!(
        module.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        module.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let text = module.text().await.unwrap();
    assert!(
        text.contains("export function instantiate"),
        "an ES module for the Worker"
    );
    let core = fetch(entry.replace("client.js", "client.core.wasm")).await;
    assert_eq!(core.headers()["content-type"], "application/wasm");
    assert_eq!(&core.bytes().await.unwrap()[..4], b"\0asm");

    // Nothing else is reachable through that route.
    for bad in ["..%2F..%2F..%2Flodge.db", "client.d.ts", "other.js"] {
        let path = entry.replace("client.js", bad);
        assert_eq!(fetch(path).await.status(), 404, "{bad}");
    }
    let unknown = format!(
        "/client/{}/{}/client.js",
        lodge_runtime_key(&entry),
        "0".repeat(64)
    );
    assert_eq!(fetch(unknown).await.status(), 404);

    // A cleared cache (or a Lodge upgrade) is rebuilt from the stored component.
    std::fs::remove_dir_all(data.path().join("cache/browser")).unwrap();
    std::fs::create_dir_all(data.path().join("cache/browser")).unwrap();
    let again = fetch(entry.clone()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.unwrap(), text);
}

/// The transpiler key in a `/client/{key}/{sha}/{file}` URL.
fn lodge_runtime_key(entry: &str) -> &str {
    entry.split('/').nth(2).unwrap()
}
