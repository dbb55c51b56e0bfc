//! A Redis (or Valkey) server of the test's own, in a temp folder.

use crate::process::{find_program, signal, spawn_tied, stop_child, wait_until};
use rustix::process::Signal;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

/// A running Redis on a free loopback port, keeping its data in a temp
/// folder. Dropping it stops it and removes its files.
pub struct Redis {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    append_only: bool,
    child: Option<Child>,
}

impl Redis {
    /// Starts Redis with append-only persistence (`appendfsync everysec`),
    /// what Lodge requires of a kv Redis.
    pub fn start() -> Redis {
        Self::start_with(true)
    }

    /// Starts Redis without persistence (which Lodge must refuse).
    pub fn start_without_append_only() -> Redis {
        Self::start_with(false)
    }

    fn start_with(append_only: bool) -> Redis {
        let bin = find_program(
            "redis-server",
            &[],
            "install Redis with  sudo apt-get install redis-server",
        );
        let dir = tempfile::Builder::new()
            .prefix("lodge-redis-")
            .tempdir()
            .expect("making a temp folder");
        let mut redis = Redis {
            dir,
            bin,
            port: crate::free_port(),
            append_only,
            child: None,
        };
        redis.start_again();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Signal::KILL);
        }
    }

    /// Starts the server again on the same port with the same files; it
    /// answers once it has loaded them.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = self.dir.path().join("log");
        let mut args: Vec<String> = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            self.port.to_string(),
            "--dir".into(),
            self.dir.path().display().to_string(),
            "--save".into(),
            String::new(),
        ];
        if self.append_only {
            args.extend(["--appendonly", "yes", "--appendfsync", "everysec"].map(String::from));
        } else {
            args.extend(["--appendonly", "no"].map(String::from));
        }
        self.child = Some(spawn_tied(&self.bin, &args, None, &log));
        let port = self.port;
        wait_until("Redis", Duration::from_secs(30), &log, || ping(port));
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::CONT);
            stop_child(&mut child, Signal::KILL);
        }
    }
}

/// Whether Redis answers PING with PONG (not LOADING, while it reads its
/// files after a restart).
fn ping(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = [0u8; 5];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG"
}
