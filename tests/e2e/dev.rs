//! `lodge dev`: a local server that rebuilds and re-pushes on every change.

use crate::support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Waits for a line of `lodge dev`'s output containing `text`.
fn until_line(lines: &mpsc::Receiver<String>, text: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return line,
            Ok(_) => {}
            Err(_) => panic!("lodge dev never printed {text:?}"),
        }
    }
}

#[tokio::test]
async fn lodge_dev_rebuilds_and_repushes_on_change_and_rooms_restart() {
    let app = AppDir::new(
        "[app]\nname = \"devved\"\nversion = \"0.3.0\"\ndescription = \"In development.\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\nvisibility = \"public\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n",
        &[
            ("room.wasm", &guest_component("readme_echo")),
            ("src/http.wasm", &component("http_hello")),
        ],
    );
    let dir = std::path::Path::new(app.path());
    // The "build" copies the http part into place, as a compiler would.
    let mut child = Command::new(lodge_bin())
        .args(["dev", app.path(), "--listen", "127.0.0.1:0"])
        .args(["--build", "cp src/http.wasm http.wasm"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting lodge dev");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let url = until_line(&lines, "lodge listening on ")
        .trim_start_matches("lodge listening on ")
        .to_owned();
    let server = Server {
        child,
        url: url.clone(),
        data: dir.to_owned(),
        setup: Default::default(),
    };
    until_line(&lines, &format!("{url}/play/devved/lobby"));
    until_line(&lines, &format!("{url}/run/devved/"));
    until_line(&lines, "pushed devved@0.3.0-dev.1");

    let (_, hello) = get(&server, "/run/devved/info").await;
    assert!(hello.starts_with("Hello from Lodge"), "{hello}");
    let mut ws = Ws::join(&server, "devved", "lobby", "ada").await;
    assert_eq!(ws.text().await, "ada is here");

    // A change: the http part is replaced; the room restarts on the new version.
    std::fs::write(dir.join("src/http.wasm"), guest_component("http_probe")).unwrap();
    until_line(&lines, "pushed devved@0.3.0-dev.2");
    assert_eq!(
        ws.recv().await,
        Received::Close(
            1012,
            "devved@0.3.0-dev.2 was published: rejoin to run it".into()
        )
    );
    let (_, probe) = get(&server, "/run/devved/info").await;
    assert!(probe.contains("target=/info"), "{probe}");
    let mut again = Ws::join(&server, "devved", "lobby", "ada").await;
    assert_eq!(again.text().await, "ada is here");
    // The token is in lodge dev's throwaway folder; public rooms need none.
    let out = server.lodge_with_token(&["rooms", "ls", "devved", "--json"], None);
    assert!(out.status.success(), "{out:?}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["rooms"][0]["version"], "0.3.0-dev.2");

    // A broken build keeps the last good version serving.
    std::fs::remove_file(dir.join("src/http.wasm")).unwrap();
    until_line(&lines, "build failed");
    assert_eq!(get(&server, "/run/devved/info").await.0, 200);
}
