//! An in-process Lodge server in a temporary data directory, with the chat app pushed.

use crate::load::Target;
use anyhow::{Context, bail};
use lodge_manifest::MANIFEST_FILE;
use lodge_server::{Server, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The token the bench's own server accepts; it listens on 127.0.0.1 only.
const TOKEN: &str = "lodge-bench-token";
/// How long pushing the app (upload and compile) may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the server may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const BUILD_HINT: &str =
    "cargo build --release --target wasm32-wasip2 --manifest-path examples/Cargo.toml";

pub struct Lodge {
    pub addr: SocketAddr,
    app: String,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    _data: tempfile::TempDir,
}

impl Lodge {
    /// Starts a server whose rooms take `room_members` members, and pushes the app in `app_dir`.
    pub async fn start(app_dir: &Path, room_members: usize) -> anyhow::Result<Self> {
        Self::start_with(app_dir, room_members, |_| {}).await
    }

    /// Like [`Lodge::start`], with the server's settings changed by `tweak` first.
    pub async fn start_with(
        app_dir: &Path,
        room_members: usize,
        tweak: impl FnOnce(&mut ServerConfig),
    ) -> anyhow::Result<Self> {
        check_built(app_dir)?;
        let packed = crate::pack::pack(app_dir)?;
        let data = tempfile::tempdir().context("creating a temporary data directory")?;
        let mut config = ServerConfig::new(data.path().to_path_buf(), "127.0.0.1:0".parse()?);
        config.token = Some(TOKEN.to_owned());
        config.rooms.default_max_members = config
            .rooms
            .default_max_members
            .max(u32::try_from(room_members).unwrap_or(u32::MAX));
        // Every simulated member comes from this machine's one address.
        config.connections.max_per_address = config.connections.max_total;
        config.rooms.starts_per_minute = u32::MAX;
        // Uploads compile in this process: the `lodge __compile` child the
        // server would start is the `lodge` binary's, not this one's, and the
        // apps pushed here are the repository's own.
        config.compile.exe = None;
        tweak(&mut config);
        let server = Server::bind(config).await?;
        let addr = server.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let lodge = Self {
            addr,
            app: packed.manifest.app.name.to_string(),
            shutdown,
            task,
            _data: data,
        };
        lodge.push(packed.bytes).await?;
        Ok(lodge)
    }

    pub async fn push(&self, bundle: Vec<u8>) -> anyhow::Result<()> {
        let response = reqwest::Client::new()
            .post(format!("http://{}/api/apps", self.addr))
            .bearer_auth(TOKEN)
            .body(bundle)
            .timeout(PUSH_TIMEOUT)
            .send()
            .await
            .context("pushing the app")?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("pushing the app: the server answered {status}: {body}");
        }
        Ok(())
    }

    pub fn target(&self) -> Target {
        Target::one(self.addr, self.app.clone())
    }

    /// Stops serving; rooms left idle end on their own when the process exits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        if tokio::time::timeout(STOP_TIMEOUT, self.task).await.is_err() {
            eprintln!("lodge: the server did not stop within {STOP_TIMEOUT:?}; moving on");
        }
    }
}

/// Fails with the build command when a component the manifest names is missing.
fn check_built(app_dir: &Path) -> anyhow::Result<()> {
    let path = app_dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (run from the repository root, or pass --app-dir)",
            path.display()
        )
    })?;
    let manifest = lodge_runtime::capabilities::parse_manifest(&bytes)
        .with_context(|| path.display().to_string())?;
    for part in manifest.parts() {
        let component = app_dir.join(part.component);
        if !component.is_file() {
            bail!(
                "{} is not built; run `{BUILD_HINT}` first",
                component.display()
            );
        }
    }
    Ok(())
}
