//! Restarts and crashes: what was committed stays, what wasn't leaves no trace.

use crate::support::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn everything_is_still_there_after_a_restart() {
    let examples = examples();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    for name in ["chat", "counter", "tic-tac-toe", "http-hello"] {
        server.ok(&["app", "push", examples.join(name).to_str().unwrap()]);
    }
    let before = server.json(&["app", "show", "chat"]);
    let list_before = server.json(&["app", "ls"]);
    server.stop();

    let server = Server::start(data.path(), &[]);
    assert_eq!(server.json(&["app", "ls"]), list_before);
    assert_eq!(server.json(&["app", "show", "chat"]), before);
    // The prepared parts survived too (no recompile needed): five server
    // parts compiled (three rooms, two http), three client parts transpiled.
    let cached = files_under(&data.path().join("cache"));
    let compiled = cached.iter().filter(|f| f.ends_with(".cwasm")).count();
    let browser = cached.iter().filter(|f| f.ends_with("/client.js")).count();
    assert_eq!((compiled, browser), (5, 3), "{cached:?}");
    let again = server.ok(&["app", "push", examples.join("chat").to_str().unwrap()]);
    assert!(again.contains("unchanged"), "{again}");
}

#[test]
fn killing_the_server_mid_upload_leaves_a_consistent_store() {
    let examples = examples();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&["app", "push", examples.join("counter").to_str().unwrap()]);

    // Start an upload and stop sending halfway, as a slow client would.
    let packed = bundle(&[
        (
            "lodge.toml",
            room_manifest("chat", "0.1.0", "", &["kv", "timers"]).as_bytes(),
        ),
        ("room.wasm", &component("chat_room")),
    ]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /api/apps HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        packed.len()
    )
    .unwrap();
    stream.write_all(&packed[..packed.len() / 2]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.kill();
    drop(stream);

    let server = Server::start(data.path(), &[]);
    let list = server.json(&["app", "ls"]);
    let names = app_names(&list);
    assert_eq!(
        names,
        ["counter"],
        "the half upload is invisible, the earlier push intact"
    );
    assert!(files_under(&data.path().join("tmp")).is_empty());
    assert_eq!(
        files_under(&data.path().join("blobs")).len(),
        2,
        "only the counter's blobs (room and client)"
    );

    // The same push then succeeds.
    let app = AppDir::new(
        &room_manifest("chat", "0.1.0", "", &["kv", "timers"]),
        &[("room.wasm", &component("chat_room"))],
    );
    let out = server.ok(&["app", "push", app.path()]);
    assert!(out.contains("pushed chat@0.1.0"), "{out}");
}

#[test]
fn blobs_left_by_a_crash_before_commit_are_collected_on_start() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.stop();
    // A blob and a compiled artifact no version names, and a half-written temp
    // file: what a crash between storing and committing leaves. The blob is
    // older than the grace period (an hour by default).
    let hash = "ab".repeat(32);
    let blob_dir = data.path().join("blobs/sha256/ab");
    std::fs::create_dir_all(&blob_dir).unwrap();
    std::fs::write(blob_dir.join(&hash), b"orphan").unwrap();
    std::fs::File::open(blob_dir.join(&hash))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(2 * 3600))
        .unwrap();
    std::fs::write(data.path().join("tmp/.tmpXYZ"), b"half").unwrap();
    let engine_dir = std::fs::read_dir(data.path().join("cache/compiled"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(engine_dir.join(format!("{hash}.cwasm")), b"orphan").unwrap();

    let server = Server::start(data.path(), &[]);
    assert_no_stored_files(data.path());
    server.stop();

    // A blob stored moments ago may belong to an upload another server
    // sharing the store has not committed yet: it stays until it is old.
    let young = "cd".repeat(32);
    let young_dir = data.path().join("blobs/sha256/cd");
    std::fs::create_dir_all(&young_dir).unwrap();
    std::fs::write(young_dir.join(&young), b"in flight").unwrap();
    let server = Server::start(data.path(), &[]);
    assert!(young_dir.join(&young).exists());
    server.stop();
    let _server = Server::start(data.path(), &["--gc-grace-secs", "0"]);
    assert!(!young_dir.join(&young).exists());
}
