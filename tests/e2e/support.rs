//! Test support: building the examples, starting servers, running the CLI.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "e2e-test-token";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn lodge_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lodge"))
}

/// Builds every example component from source (once per test process;
/// cargo itself serializes concurrent builds and makes repeats cheap).
pub fn examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_guest_workspace("examples"))
}

/// Builds a guest cargo workspace (`examples`, `tests/guests`) for
/// wasm32-wasip2 into its own `target/` folder, and returns its folder.
fn build_guest_workspace(relative: &str) -> PathBuf {
    let dir = repo().join(relative);
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap_or_else(|e| panic!("running cargo to build {relative}: {e}"));
    assert!(status.success(), "building {relative} failed");
    dir
}

/// The compiled component of an example, e.g. `component("chat_room")`.
pub fn component(name: &str) -> Vec<u8> {
    let path = examples().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A `lodge serve` process on an ephemeral port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub data: PathBuf,
    /// The first admin's setup link, once the server printed one.
    pub setup: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Server {
    /// Starts a server on `data` with the test token and extra arguments.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_with(data, extra, Some(TOKEN))
    }

    /// Starts `command` (the lodge binary, with its own environment) as a
    /// server with the test token.
    pub fn start_command(command: Command, data: &Path, extra: &[&str]) -> Server {
        Self::spawn(command, data, extra, Some(TOKEN))
    }

    pub fn start_with(data: &Path, extra: &[&str], token: Option<&str>) -> Server {
        Self::spawn(Command::new(lodge_bin()), data, extra, token)
    }

    /// Starts a server that may open at most `files` files (`ulimit -n`),
    /// soft and hard, so it can't raise the limit itself.
    pub fn start_with_open_files(data: &Path, extra: &[&str], files: u32) -> Server {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
            .arg(lodge_bin());
        Self::spawn(command, data, extra, Some(TOKEN))
    }

    /// Starts a server with the test token whose log (stderr, at the
    /// debug level) goes to the file `log`.
    pub fn start_logging(data: &Path, extra: &[&str], log: &Path) -> Server {
        let mut command = Command::new(lodge_bin());
        command
            .env("RUST_LOG", "debug")
            .stderr(std::fs::File::create(log).unwrap());
        Self::spawn(command, data, extra, Some(TOKEN))
    }

    fn spawn(mut command: Command, data: &Path, extra: &[&str], token: Option<&str>) -> Server {
        if command.get_envs().all(|(key, _)| key != "RUST_LOG") {
            command.env("RUST_LOG", "info").stderr(Stdio::null());
        }
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .env_remove("LODGE_TOKEN");
        if let Some(token) = token {
            command.env("LODGE_TOKEN", token);
        }
        let mut child = command.spawn().expect("starting lodge serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let setup = std::sync::Arc::new(std::sync::Mutex::new(None));
        let setup_seen = setup.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("lodge listening on ") {
                    let _ = tx.send(url.to_owned());
                } else if let Some(link) = line.strip_prefix("set the admin's password (once) at ")
                {
                    *setup_seen.lock().unwrap() = Some(link.to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("lodge serve did not print its address within 30 s");
        Server {
            child,
            url,
            data: data.to_owned(),
            setup,
        }
    }

    /// The setup link the server printed (waiting a moment for it), if any.
    pub fn setup_link(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(link) = self.setup.lock().unwrap().clone() {
                return Some(link);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the CLI against this server with the test token.
    pub fn lodge(&self, args: &[&str]) -> Output {
        self.lodge_with_token(args, Some(TOKEN))
    }

    pub fn lodge_with_token(&self, args: &[&str], token: Option<&str>) -> Output {
        let mut command = Command::new(lodge_bin());
        command
            .args(args)
            .env("LODGE_SERVER", &self.url)
            .env("LODGE_DATA", &self.data)
            .env_remove("LODGE_TOKEN")
            .current_dir(repo());
        if let Some(token) = token {
            command.env("LODGE_TOKEN", token);
        }
        command.output().expect("running the lodge CLI")
    }

    /// Runs the CLI and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.lodge(args);
        assert!(
            out.status.success(),
            "lodge {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the CLI and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.lodge(args);
        assert!(
            !out.status.success(),
            "lodge {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Runs the CLI with `--json` and parses its output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).expect("--json prints JSON")
    }

    /// Asks the server to stop (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lodge serve did not stop within 20 s of SIGTERM");
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn http(&self) -> reqwest::Client {
        // reqwest is built without a default TLS provider; the binary installs ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    /// The server's Prometheus metrics text.
    pub async fn metrics(&self) -> String {
        let response = self.http().get(self.api("/metrics")).send().await.unwrap();
        response.text().await.unwrap()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app names in a `GET /api/apps` answer, in order.
pub fn app_names(list: &serde_json::Value) -> Vec<&str> {
    list["apps"]
        .as_array()
        .expect("an app list")
        .iter()
        .map(|a| a["name"].as_str().expect("apps have names"))
        .collect()
}

/// Every regular file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts the data directory holds no blob, compiled artifact or temp file.
pub fn assert_no_stored_files(data: &Path) {
    for sub in ["blobs", "cache", "tmp"] {
        let files = files_under(&data.join(sub));
        assert!(
            files.is_empty(),
            "{sub}/ should be empty but holds {files:?}"
        );
    }
}

/// An app directory in a temp folder, holding a manifest and components.
pub struct AppDir {
    pub dir: tempfile::TempDir,
}

impl AppDir {
    pub fn new(manifest: &str, files: &[(&str, &[u8])]) -> AppDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lodge.toml"), manifest).unwrap();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        AppDir { dir }
    }

    pub fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }
}

/// A room-only manifest for `name@version` with a description and capabilities.
pub fn room_manifest(
    name: &str,
    version: &str,
    description: &str,
    capabilities: &[&str],
) -> String {
    let caps: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "[app]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"{description}\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [{}]\n",
        caps.join(", ")
    )
}

/// A gzip-compressed tar of `entries`, as `lodge app push` would send.
pub fn bundle(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Uploads raw bundle bytes; returns the status and the JSON error code and message.
pub async fn upload(server: &Server, body: Vec<u8>) -> (u16, String, String) {
    let response = server
        .http()
        .post(server.api("/api/apps"))
        .bearer_auth(TOKEN)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let json: serde_json::Value = response.json().await.unwrap();
    (
        status,
        json["error"]["code"].as_str().unwrap_or("").to_owned(),
        json["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

/// Builds the misbehaving test guests from source (tests/guests).
pub fn guest_component(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build_guest_workspace("tests/guests"));
    let path = dir.join(format!("target/wasm32-wasip2/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The WASM-4 cartridge of tests/guests/wasm4-cart, built from source (a
/// core module for wasm32-unknown-unknown, its own workspace).
pub fn cartridge() -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let guests = repo().join("tests/guests");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
            .arg("--manifest-path")
            .arg(guests.join("wasm4-cart/Cargo.toml"))
            .arg("--target-dir")
            .arg(guests.join("target"))
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("running cargo to build tests/guests/wasm4-cart");
        assert!(status.success(), "building tests/guests/wasm4-cart failed");
        guests.join("target/wasm32-unknown-unknown/release/wasm4_cart.wasm")
    });
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// What a room connection received.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Text(String),
    Binary(Vec<u8>),
    Close(u16, String),
}

/// A WebSocket member of a room.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    /// Joins `app/room` as `name`; panics if the HTTP upgrade is refused.
    pub async fn join(server: &Server, app: &str, room: &str, name: &str) -> Ws {
        Self::try_join(server, app, room, name, "")
            .await
            .expect("the upgrade succeeds")
    }

    /// Joins with extra query text (like `&version=1.0.0`); an HTTP refusal
    /// comes back as its status and body.
    pub async fn try_join(
        server: &Server,
        app: &str,
        room: &str,
        name: &str,
        extra: &str,
    ) -> Result<Ws, (u16, String)> {
        Self::try_join_from(server, "127.0.0.1", app, room, name, extra).await
    }

    /// Joins from another loopback address (`127.0.0.2`, …), which limits
    /// per client address count as another client.
    pub async fn join_from(server: &Server, from: &str, app: &str, room: &str, name: &str) -> Ws {
        Self::try_join_from(server, from, app, room, name, "")
            .await
            .expect("the upgrade succeeds")
    }

    pub async fn try_join_from(
        server: &Server,
        from: &str,
        app: &str,
        room: &str,
        name: &str,
        extra: &str,
    ) -> Result<Ws, (u16, String)> {
        let url = format!(
            "{}/apps/{app}/rooms/{room}?name={name}{extra}",
            server.url.replace("http://", "ws://")
        );
        let tcp = connect_from(server, from).await.expect("connecting");
        let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
        Self::upgraded(tokio_tungstenite::client_async(url, tcp).await)
    }

    /// A member from an upgrade's result; an HTTP refusal comes back as its
    /// status and body.
    fn upgraded<R>(
        result: Result<
            (
                tokio_tungstenite::WebSocketStream<
                    tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
                >,
                R,
            ),
            tokio_tungstenite::tungstenite::Error,
        >,
    ) -> Result<Ws, (u16, String)> {
        match result {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err((
                response.status().as_u16(),
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned(),
            )),
            Err(e) => panic!("connecting: {e}"),
        }
    }

    /// Joins `app/room` with `Authorization: Bearer token` (a signed-in
    /// member); an HTTP refusal comes back as its status and body.
    pub async fn join_with_token(
        server: &Server,
        app: &str,
        room: &str,
        token: &str,
    ) -> Result<Ws, (u16, String)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/apps/{app}/rooms/{room}",
            server.url.replace("http://", "ws://")
        );
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        Self::upgraded(tokio_tungstenite::connect_async(request).await)
    }

    pub async fn send(&mut self, text: &str) {
        use futures::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .expect("sending");
    }

    /// The next text or close, waiting at most 10 s.
    pub async fn recv(&mut self) -> Received {
        self.recv_within(Duration::from_secs(10))
            .await
            .expect("nothing arrived within 10 s")
    }

    pub async fn recv_within(&mut self, limit: Duration) -> Option<Received> {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            return Some(match next {
                Some(Ok(Message::Text(text))) => Received::Text(text.to_string()),
                Some(Ok(Message::Binary(bytes))) => Received::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => match frame {
                    Some(f) => Received::Close(u16::from(f.code), f.reason.to_string()),
                    None => Received::Close(1005, String::new()),
                },
                Some(Ok(_)) => continue,
                Some(Err(e)) => Received::Close(1006, e.to_string()),
                None => Received::Close(1006, "stream ended".into()),
            });
        }
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        use futures::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::binary(
                bytes.to_vec(),
            ))
            .await
            .expect("sending");
    }

    /// The next binary message; panics on a close or text.
    pub async fn binary(&mut self) -> Vec<u8> {
        match self.recv().await {
            Received::Binary(bytes) => bytes,
            other => panic!("expected a binary message, got {other:?}"),
        }
    }

    /// The next text message; panics on a close.
    pub async fn text(&mut self) -> String {
        match self.recv().await {
            Received::Text(text) => text,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Skips messages until the connection closes; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Received::Close(code, reason) = self.recv().await {
                return (code, reason);
            }
        }
    }

    /// Ends the connection without a closing handshake, as a lost network
    /// or a killed process does.
    pub fn drop_connection(self) {
        drop(self.stream);
    }

    /// Leaves with a normal close.
    pub async fn leave(mut self) {
        let _ = self.stream.close(None).await;
        // Wait for the server's half of the closing handshake.
        let _ = self.recv_within(Duration::from_secs(5)).await;
    }
}

/// The JavaScript http part (tests/guests/http-js), built with
/// componentize-js when its sources are newer than the last build.
pub fn js_component() -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let dir = repo().join("tests/guests/http-js");
        let out = repo().join("tests/guests/target/http_js.wasm");
        assert!(
            dir.join("node_modules/@bytecodealliance/componentize-js").is_dir(),
            "componentize-js is missing: run `npm install --no-save --prefix tests/guests/http-js` (scripts/test does)"
        );
        if stale(&out, &dir, &["app.js", "build.mjs", "package-lock.json"]) {
            let status = Command::new("node")
                .arg(dir.join("build.mjs"))
                .arg(&out)
                .status()
                .expect("running node (Node.js 20 or newer must be installed)");
            assert!(status.success(), "building the JavaScript guest failed");
        }
        out
    });
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The Python http part (tests/guests/http-py), built with componentize-py
/// (installed from PyPI into the guest's `.venv`) when its sources are
/// newer than the last build.
pub fn py_component() -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let dir = repo().join("tests/guests/http-py");
        let out = repo().join("tests/guests/target/http_py.wasm");
        assert!(
            dir.join(".venv/bin/componentize-py").is_file(),
            "componentize-py is missing: run `python3 -m venv tests/guests/http-py/.venv && tests/guests/http-py/.venv/bin/pip install -r tests/guests/http-py/requirements.txt` (scripts/test does)"
        );
        if stale(&out, &dir, &["app.py", "build.sh", "requirements.txt"]) {
            let status = Command::new(dir.join("build.sh"))
                .arg(&out)
                .env("CARGO", env!("CARGO"))
                .status()
                .expect("running tests/guests/http-py/build.sh");
            assert!(status.success(), "building the Python guest failed");
        }
        out
    });
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Whether `out` is missing or older than any of `sources` in `dir`.
fn stale(out: &Path, dir: &Path, sources: &[&str]) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_source = sources.iter().filter_map(|f| modified(&dir.join(f))).max();
    modified(out) < newest_source
}

/// GETs `path` from the server: the status and the body as text.
pub async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = server
        .http()
        .get(format!("{}{path}", server.url))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A TCP connection to the server from the loopback address `from`.
pub async fn connect_from(server: &Server, from: &str) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().expect("an IPv4 address"))?;
    let addr = server.url.trim_start_matches("http://");
    socket
        .connect(addr.parse().expect("the server's address"))
        .await
}

/// `GET /healthz` from the loopback address `from`, over a fresh connection:
/// the status, or the error.
pub async fn healthz_from(server: &Server, from: &str) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut tcp = connect_from(server, from)
            .await
            .map_err(|e| e.to_string())?;
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: lodge\r\nconnection: close\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        let answer = String::from_utf8_lossy(&answer);
        answer
            .split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .ok_or_else(|| format!("no status line in {answer:?}"))
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| Err("no answer within 5 s".into()))
}

/// Starts measuring a process's peak resident memory afresh (Linux).
pub fn reset_peak_memory(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("resetting the peak RSS");
}

/// Peak and current resident memory of a process, in bytes (Linux).
pub fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Pushes the misbehaving room (tests/guests/misbehave) as `app`.
pub fn push_misbehave(server: &Server, app: &str, extra_room_settings: &str) -> AppDir {
    let manifest = format!(
        "[app]\nname = \"{app}\"\nversion = \"0.1.0\"\ndescription = \"misbehaves\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"timers\"]\n{extra_room_settings}"
    );
    let dir = AppDir::new(&manifest, &[("room.wasm", &guest_component("misbehave"))]);
    server.ok(&["app", "push", dir.path()]);
    dir
}

/// A TCP proxy in front of a server whose connections the test can cut.
pub use lodge_testkit::Proxy;

/// POSTs `body` as JSON to `/api{path}` with no credentials; the status and
/// the JSON answer (null when it has none).
pub async fn post_json(
    server: &Server,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = server
        .http()
        .post(server.api(&format!("/api{path}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}
