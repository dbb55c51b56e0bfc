//! `lodge serve` as a child process, so the server's CPU is measured apart
//! from the load generator's: started on a free loopback port with the
//! bench's token, stopped (killed) when dropped.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The operator token every served child takes.
pub const TOKEN: &str = "lodge-bench-token";

/// A running `lodge serve`.
pub struct Served {
    child: Child,
    pub base: String,
    lodge: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    data: PathBuf,
}

impl Served {
    /// Starts `lodge serve` with its data in `data`, allowing
    /// `connections` connections (from one address too: the load comes from
    /// loopback), with `args` and `env` added.
    pub fn start(
        lodge: &Path,
        data: &Path,
        connections: usize,
        args: &[String],
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let limit = connections.to_string();
        let mut all: Vec<String> = [
            "--max-connections",
            &limit,
            "--max-connections-per-address",
            &limit,
            "--room-starts-per-minute",
            "100000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        all.extend_from_slice(args);
        let (child, base) = spawn(lodge, data, &all, env)?;
        Ok(Self {
            child,
            base,
            lodge: lodge.to_owned(),
            args: all,
            env: env.to_vec(),
            data: data.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's CPU time so far, in seconds.
    pub fn cpu(&self) -> Option<f64> {
        crate::load::cpu_seconds_of(&self.child.id().to_string())
    }

    /// The WebSocket URL of `path` on this server.
    pub fn ws(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http", "ws", 1))
    }

    /// The address it listens on.
    pub fn addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        self.base
            .trim_start_matches("http://")
            .parse()
            .context("the server's address")
    }

    /// Kills it with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again (after [`Served::kill`]) with the same arguments and
    /// data; it may listen on another port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let (child, base) = spawn(&self.lodge, &self.data, &self.args, &self.env)?;
        self.child = child;
        self.base = base;
        Ok(())
    }

    /// Pushes the app folder `dir` with the bench's token.
    pub async fn push(&self, dir: &Path) -> anyhow::Result<()> {
        let bundle = crate::pack::pack(dir)?.bytes;
        let response = reqwest::Client::new()
            .post(format!("{}/api/apps", self.base))
            .bearer_auth(TOKEN)
            .body(bundle)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "pushing the app: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns the child and reads the address it printed.
fn spawn(
    lodge: &Path,
    data: &Path,
    args: &[String],
    env: &[(String, String)],
) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(lodge)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("LODGE_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it with `cargo build --release`, or pass --lodge)",
                lodge.display()
            )
        })?;
    let stdout = child.stdout.take().context("the server's output")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("lodge listening on ") {
                    break url.to_owned();
                }
            }
            _ => bail!("lodge serve ended before it listened"),
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((child, base))
}
