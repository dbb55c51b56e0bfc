//! A PostgreSQL server of the test's own, in a temp folder.

use crate::process::{find_program, is_root, signal, spawn_tied, stop_child, wait_until};
use rustix::process::Signal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

/// The user PostgreSQL runs as when the tests run as root (it refuses root).
const SERVER_USER: &str = "postgres";

/// A running PostgreSQL on a free loopback port, trusting local logins as
/// `postgres`. Dropping it stops it and removes its files.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Serving TLS with this certificate (for 127.0.0.1), when set.
    tls: Option<PathBuf>,
}

impl Postgres {
    /// Starts a fresh server (a copy of a cluster made once per machine by
    /// `initdb`, so each start takes about a second).
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// Starts a server that also speaks TLS, with a self-signed
    /// certificate for 127.0.0.1 ([`Postgres::tls_certificate`]).
    pub fn start_with_tls() -> Postgres {
        Self::start_with(true)
    }

    /// The certificate (PEM) a TLS server presents: what a client trusts.
    pub fn tls_certificate(&self) -> Option<&Path> {
        self.tls.as_deref()
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("lodge-pg-")
            .tempdir()
            .expect("making a temp folder");
        let data = dir.path().join("data");
        let template = template(&bin);
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(&data)
            .status()
            .expect("running cp");
        assert!(copied.success(), "copying the PostgreSQL template cluster");
        let socket = dir.path().join("run");
        std::fs::create_dir(&socket).expect("making the socket folder");
        if is_root() {
            open_to_server_user(dir.path());
            chown_to_server_user(&socket);
        }
        let tls = tls.then(|| self_signed(dir.path()));
        let mut postgres = Postgres {
            dir,
            bin,
            port: crate::free_port(),
            child: None,
            tls,
        };
        postgres.start_again();
        postgres
    }

    /// The URL of database `postgres`, the one every server has.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Makes database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let made = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ])
            .status()
            .expect("running createdb");
        assert!(made.success(), "createdb {name}");
        self.url_of(name)
    }

    /// The server's process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server the way a crash would (`pg_ctl -m immediate`: no
    /// checkpoint; the next start recovers from the WAL).
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Signal::QUIT);
        }
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the server: connections hang.
    pub fn pause(&self, paused: bool) {
        if let Some(pid) = self.pid() {
            signal(pid, if paused { Signal::STOP } else { Signal::CONT });
        }
    }

    /// Starts the server again on the same port with the same data.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = self.dir.path().join("log");
        let data = self.dir.path().join("data");
        let socket = self.dir.path().join("run");
        let args: Vec<String> = [
            "-D",
            &data.to_string_lossy(),
            "-p",
            &self.port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", socket.display()),
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=32MB",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut args = args;
        if let Some(cert) = &self.tls {
            args.extend([
                "-c".to_owned(),
                "ssl=on".to_owned(),
                "-c".to_owned(),
                format!("ssl_cert_file={}", cert.display()),
                "-c".to_owned(),
                format!("ssl_key_file={}", cert.with_file_name("key.pem").display()),
            ]);
        }
        let user = is_root().then_some(SERVER_USER);
        self.child = Some(spawn_tied(&self.bin.join("postgres"), &args, user, &log));
        let (isready, port) = (self.bin.join("pg_isready"), self.port.to_string());
        wait_until("PostgreSQL", Duration::from_secs(60), &log, || {
            Command::new(&isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
                .status()
                .is_ok_and(|s| s.success())
        });
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::CONT);
            stop_child(&mut child, Signal::QUIT);
        }
    }
}

/// Where PostgreSQL's programs are: `LODGE_PG_BIN`, or the newest of
/// Debian's `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LODGE_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        let postgres = find_program(
            "postgres",
            &[],
            "install PostgreSQL with  sudo apt-get install postgresql  (or set LODGE_PG_BIN)",
        );
        postgres.parent().expect("a program's folder").to_owned()
    })
}

/// A cluster `initdb` made once per machine and user, copied by each start:
/// `<temp>/lodge-testkit/pg-<version>-template`.
fn template(bin: &Path) -> PathBuf {
    let version = bin
        .parent()
        .and_then(|p| p.file_name())
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| "local".into());
    let root = std::env::temp_dir().join("lodge-testkit");
    std::fs::create_dir_all(&root).expect("making the testkit folder");
    let template = root.join(format!("pg-{version}-template"));
    let lock = std::fs::File::create(root.join(format!("pg-{version}.lock")))
        .expect("making the template lock");
    lock.lock().expect("locking the template");
    if !template.join("PG_VERSION").is_file() {
        let building = root.join(format!("pg-{version}-building"));
        let _ = std::fs::remove_dir_all(&building);
        std::fs::create_dir(&building).expect("making the template folder");
        if is_root() {
            open_to_server_user(&root);
            chown_to_server_user(&building);
        }
        let mut initdb = Command::new("setpriv");
        if is_root() {
            initdb.args([
                &format!("--reuid={SERVER_USER}"),
                &format!("--regid={SERVER_USER}"),
                "--init-groups",
            ]);
        }
        let output = initdb
            .arg("--")
            .arg(bin.join("initdb"))
            .arg("-D")
            .arg(&building)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ])
            .args(["--no-sync"])
            .output()
            .expect("running initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::rename(&building, &template).expect("keeping the template");
    }
    template
}

/// A self-signed certificate for 127.0.0.1 ([`crate::self_signed`]) with
/// its key readable by the server user only, as PostgreSQL demands.
fn self_signed(dir: &Path) -> PathBuf {
    let (cert, key) = crate::self_signed(dir);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
        .expect("making the key private");
    if is_root() {
        chown_to_server_user(&key);
    }
    cert
}

/// Lets the server user into `dir` (temp folders are private to their owner).
fn open_to_server_user(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .expect("opening a temp folder to the server user");
}

fn chown_to_server_user(path: &Path) {
    let output = Command::new("id")
        .args(["-u", SERVER_USER])
        .output()
        .expect("running id");
    let uid: u32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("there is no user {SERVER_USER} to run PostgreSQL as"));
    std::os::unix::fs::chown(path, Some(uid), None).expect("handing a folder to the server user");
}
