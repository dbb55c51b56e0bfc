//! A full disk: new writes are refused with `507 disk_full` naming what was
//! being written, reads and rooms go on, and deleting an app still works
//! and frees space. Needs root (a small tmpfs is the data folder).

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a temporary folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (like `24m`), or says why it can't.
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("not running as root".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "mount failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Free bytes, as `df` sees them.
    fn available(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(self.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("df prints the free bytes")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Chat's room with `pad` bytes of noise in a custom section, so each app
/// stores a blob of its own.
fn padded_room(seed: u64, pad: usize) -> Vec<u8> {
    let mut room = component("chat_room");
    let mut body = vec![3, b'p', b'a', b'd'];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    body.extend((0..pad).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    room.push(0);
    let mut len = body.len() as u64;
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            room.push(byte);
            break;
        }
        room.push(byte | 0x80);
    }
    room.extend(body);
    room
}

fn room_app(name: &str, capabilities: &str, room: &[u8]) -> Vec<u8> {
    let manifest = format!(
        "[app]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [{capabilities}]\n"
    );
    bundle(&[("lodge.toml", manifest.as_bytes()), ("room.wasm", room)])
}

/// Fills what is left of the disk with a file outside the data folder, as
/// another program would.
fn fill(path: &PathBuf) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![7u8; 64 << 10];
    while file.write_all(&chunk).is_ok() {}
    for size in [4096, 512, 1] {
        while file.write_all(&chunk[..size]).is_ok() {}
    }
    let _ = file.sync_all();
}

#[tokio::test]
async fn a_full_disk_refuses_writes_serves_reads_and_rooms_and_deletes_free_space() {
    let disk = match Tmpfs::mount("24m") {
        Ok(disk) => disk,
        Err(why) => {
            println!("skipped: a small tmpfs is needed as the data folder ({why})");
            return;
        }
    };
    let data = disk.path().join("data");
    let server = Server::start(&data, &["--disk-reserve-mib", "2"]);
    assert!(data.join("reserve").exists());
    let echo = guest_component("readme_echo");
    let (status, _, text) = upload(&server, room_app("echo", "\"kv\"", &echo)).await;
    assert_eq!(status, 201, "{text}");

    // Push apps of 1 MiB each until the disk is full.
    let mut pushed = Vec::new();
    let refusal = loop {
        assert!(pushed.len() < 40, "the 24 MiB disk never filled");
        let name = format!("filler-{}", pushed.len());
        let room = padded_room(pushed.len() as u64, 1 << 20);
        let (status, code, text) =
            upload(&server, room_app(&name, "\"kv\", \"timers\"", &room)).await;
        match status {
            201 => pushed.push(name),
            _ => break (status, code, text),
        }
    };
    println!("refused after {} apps: {refusal:?}", pushed.len());
    let (status, code, text) = refusal;
    assert_eq!((status, code.as_str()), (507, "disk_full"), "{text}");
    assert!(
        text.starts_with("the server's disk is full: ") && text.contains("failed"),
        "{text}"
    );
    assert!(pushed.len() >= 3, "only {} apps fit", pushed.len());
    // Another program takes what is left.
    fill(&disk.path().join("filler"));
    assert!(disk.available() < 4096, "{} bytes free", disk.available());

    // Reads go on: every app is listed.
    let list = server.json(&["app", "ls"]);
    let names = app_names(&list);
    assert!(names.contains(&"echo"), "{names:?}");
    for name in &pushed {
        assert!(
            names.contains(&name.as_str()),
            "{name} missing from {names:?}"
        );
    }
    // Rooms go on: a member joins and is answered; the room's kv write
    // fails and the guest sees the error (it logs -1) instead of crashing.
    let mut ann = Ws::join(&server, "echo", "lobby", "ann").await;
    assert_eq!(ann.text().await, "ann is here");
    ann.send("hello").await;
    assert_eq!(ann.text().await, "hello");
    let log = server.ok(&["logs", "echo/lobby"]);
    assert!(log.contains("message -1 from"), "{log}");
    assert!(
        log.contains("kv write refused: the server's disk is full"),
        "{log}"
    );
    let (status, code, _) = upload(
        &server,
        room_app("late", "\"kv\", \"timers\"", &padded_room(99, 4096)),
    )
    .await;
    assert_eq!((status, code.as_str()), (507, "disk_full"));

    // Deleting an app works on the full disk and frees its space.
    let before = disk.available();
    let response = server
        .http()
        .delete(server.api(&format!("/api/apps/{}", pushed[0])))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
    let after = disk.available();
    println!("free bytes: {before} before the delete, {after} after");
    assert!(after > before + (1 << 20), "{before} -> {after}");
    let names = app_names(&server.json(&["app", "ls"])).join(" ");
    assert!(!names.contains(pushed[0].as_str()), "{names}");

    // And a push fits again; the room still answers.
    let (status, _, text) = upload(
        &server,
        room_app("late", "\"kv\", \"timers\"", &padded_room(99, 4096)),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    ann.send("still here").await;
    assert_eq!(ann.text().await, "still here");
    drop(ann);
    server.stop();
}
