//! Starting servers that end with the test, and waiting for them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a free loopback port")
        .port()
}

/// Whether this process runs as root (the servers then run as another user
/// where they refuse root: PostgreSQL).
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// `program args…`, killed with `signal` when this test process ends, as
/// `user` when given. Output goes to `log`.
pub(crate) fn spawn_tied(program: &Path, args: &[String], user: Option<&str>, log: &Path) -> Child {
    let mut command = Command::new("setpriv");
    if let Some(user) = user {
        command.args([
            &format!("--reuid={user}"),
            &format!("--regid={user}"),
            "--init-groups",
        ]);
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("opening a server log");
    let err = out.try_clone().expect("cloning a log handle");
    command
        .args(["--pdeathsig", "KILL", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} (with setpriv): {e}", program.display()))
}

/// Polls `ready` until it says yes, or panics after `limit` with the log.
pub(crate) fn wait_until(what: &str, limit: Duration, log: &Path, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > limit {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} did not start within {limit:?}; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `signal` to `pid` (a server of ours that may have exited already).
pub(crate) fn signal(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Sends `kill` to `child`, waits for it to exit and reaps it.
pub(crate) fn stop_child(child: &mut Child, kill: rustix::process::Signal) {
    signal(child.id(), kill);
    let _ = child.wait();
}

/// One HTTP/1.1 request over a fresh connection; the status code, or
/// `None` when nothing answered.
pub(crate) fn http_status(port: u16, method: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// The first of `candidates` that exists, or the program found on `PATH`.
pub(crate) fn find_program(name: &str, candidates: &[PathBuf], install: &str) -> PathBuf {
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{name} is missing: {install} (scripts/test does this)"))
}

/// The repository's root (for the test venv under `tests/.venv`).
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
