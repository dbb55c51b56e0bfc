//! `lodge join` coming back by itself: through a proxy the test cuts, the
//! CLI reconnects with its resume token and is the same member, and the
//! room part saw a drop and a rejoin, never a leave.

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Reads a child's stream line by line on a thread.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `text`.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {text:?} within 15 s; saw {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lodge_join_reconnects_by_itself_and_is_the_same_member() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let manifest = "[app]\nname = \"cards\"\nversion = \"0.1.0\"\ndescription = \"Probe.\"\n\n[room]\ncomponent = \"room.wasm\"\nreconnect-seconds = 10\n";
    let app = AppDir::new(manifest, &[("room.wasm", &guest_component("lobby_probe"))]);
    server.ok(&["app", "push", app.path()]);
    let upstream = server.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(upstream).await;

    let mut cli = Command::new(lodge_bin())
        .args(["join", "cards/table", "--name", "ann", "--server"])
        .arg(proxy.url())
        .env_remove("LODGE_TOKEN")
        .env("LODGE_CONFIG_DIR", data.path().join("cli-config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = cli.stdin.take().unwrap();
    let out = lines_of(cli.stdout.take().unwrap());
    let err = lines_of(cli.stderr.take().unwrap());
    wait_for(&out, "join ann player playing");
    let mut bob = Ws::join(&server, "cards", "table", "bob").await;
    wait_for(&out, "join bob player playing");

    proxy.sever();
    assert_eq!(bob.text().await, "join bob player playing");
    assert_eq!(bob.text().await, "drop ann");
    wait_for(&err, "reconnecting in");
    wait_for(&err, "reconnected to cards/table");
    assert_eq!(bob.text().await, "rejoin ann");
    writeln!(stdin, "whoami").unwrap();
    wait_for(&out, "#1 player host=true playing");
    writeln!(stdin, "history").unwrap();
    let history = wait_for(&out, "history:");
    assert_eq!(
        history,
        "history: join ann player playing | join bob player playing | drop ann | rejoin ann"
    );

    // Ctrl-D: a normal close, and the room sees a leave at once.
    drop(stdin);
    assert_eq!(bob.text().await, "leave ann");
    let status = tokio::task::spawn_blocking(move || cli.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lodge_join_gives_up_on_a_refusal_and_says_why() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let manifest = "[app]\nname = \"club\"\nversion = \"0.1.0\"\ndescription = \"Probe.\"\n\n[room]\ncomponent = \"room.wasm\"\nvisibility = \"invite\"\n";
    let app = AppDir::new(manifest, &[("room.wasm", &guest_component("lobby_probe"))]);
    server.ok(&["app", "push", app.path()]);
    let created = server.ok(&["rooms", "create", "club", "--name", "vip"]);
    let invite = created
        .lines()
        .find_map(|l| l.split("--invite ").nth(1))
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let mut host = Ws::try_join(&server, "club", "vip", "host", &format!("&invite={invite}"))
        .await
        .unwrap();
    assert_eq!(host.text().await, "join host player playing");
    let refused = server.fails(&["join", "club/vip", "--name", "eve"]);
    assert!(
        refused.contains("(4009)") && refused.contains("invite-only"),
        "{refused}"
    );
    // With the link, in; the invite travels in the URL's fragment or query.
    let mut cli = Command::new(lodge_bin())
        .args(["join", "club/vip", "--name", "guest", "--invite"])
        .arg(format!("{}/play/club/vip#invite={invite}", server.url))
        .env("LODGE_SERVER", &server.url)
        .env_remove("LODGE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(cli.stdout.take().unwrap());
    wait_for(&out, "join guest player playing");
    drop(cli.stdin.take());
    let status = tokio::task::spawn_blocking(move || cli.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
