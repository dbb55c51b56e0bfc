//! `lodge dev [DIR]`: the author's loop. Runs a local server with a
//! throwaway data directory, builds and pushes the app in DIR, then watches
//! its files and rebuilds and re-pushes on every change. Each push is a new
//! pre-release (`0.1.0-dev.3`), so it becomes the latest version at once;
//! the app's rooms restart on it and their members are told to rejoin.

use crate::client::{ApiClient, Connection};
use crate::pack::pack_as;
use anyhow::{Context, bail};
use lodge_manifest::{MANIFEST_FILE, Manifest, Role};
use lodge_server::{Server, ServerConfig};
use reqwest::Method;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

/// How often the files are checked for changes.
const POLL: Duration = Duration::from_millis(300);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The app directory, holding lodge.toml.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The command that builds the app's components, run in DIR with `sh -c`.
    /// [default: for components under a cargo target folder, `cargo build
    /// --release --target wasm32-wasip2` in the nearest cargo workspace;
    /// otherwise none]
    #[arg(long)]
    build: Option<String>,
    /// Serve http parts at APP.DOMAIN too, as `lodge serve --domain` does.
    #[arg(long, default_value = "lodge.localhost")]
    domain: String,
}

/// How to build the app, decided once at start.
enum Build {
    Shell(String),
    Cargo {
        manifest: PathBuf,
        target_dir: PathBuf,
        release: bool,
    },
    Nothing,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("{} does not exist", args.dir.display()))?;
    let manifest = read_manifest(&dir)?;
    let build = match args.build {
        Some(command) => Build::Shell(command),
        None => cargo_build(&dir, &manifest).unwrap_or(Build::Nothing),
    };

    let data = tempfile::Builder::new()
        .prefix("lodge-dev-")
        .tempdir()
        .context("making a throwaway data directory")?;
    // No token given: the server writes one into the throwaway directory,
    // where the pushes below find it.
    let mut config = ServerConfig::new(data.path().to_owned(), args.listen);
    config.domain = Some(args.domain.clone());
    config.restart_rooms_on_publish = true;
    config.rooms.idle_grace = Duration::from_secs(5);
    let server = Server::bind(config).await?;
    let addr = server
        .local_addr()
        .context("reading the listening address")?;
    let url = format!("http://{addr}");
    println!("lodge listening on {url}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    let client = ApiClient::new(&Connection {
        server: url.clone(),
        token: None,
        data: Some(data.path().to_owned()),
        ca_cert: None,
    })?;
    let name = manifest.app.name.to_string();
    print_urls(&url, &manifest, &args.domain, addr.port());
    // Logs and unlisted rooms need the token, which lives in the throwaway folder.
    println!(
        "from another terminal: LODGE_SERVER={url} LODGE_DATA={} lodge logs {name} (or rooms ls)",
        data.path().display()
    );
    println!(
        "watching {} for changes (Ctrl-C to stop; the data is thrown away)",
        dir.display()
    );

    // One Ctrl-C listener for the whole session, so a press during a build
    // is not lost.
    let (interrupt, mut interrupted) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = interrupt.send(true);
    });
    let mut round = 0u64;
    let mut follower: Option<tokio::task::JoinHandle<()>> = None;
    let mut seen = fingerprint(&dir);
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                _ = interrupted.changed() => break,
                _ = tokio::time::sleep(POLL) => {}
            }
            if fingerprint(&dir) == seen {
                continue;
            }
            // Let a burst of saves settle before building.
            tokio::time::sleep(POLL).await;
            println!("\nchanged: rebuilding {name}");
        }
        first = false;
        // Taken before building: a file saved during the build counts as a
        // change. (The build's own output lives in target/, which is skipped.)
        seen = fingerprint(&dir);
        let pushed = tokio::select! {
            _ = interrupted.changed() => break,
            pushed = cycle(&dir, &build, &client, &mut round) => pushed,
        };
        // The app's log (its own lines, room and request events) from its
        // first push on.
        if pushed && follower.is_none() {
            let client = client.clone();
            let name = name.clone();
            follower = Some(tokio::spawn(async move {
                let _ = super::logs::print(&client, &name, None, true, false).await;
            }));
        }
    }
    println!("\nstopping");
    if let Some(follower) = follower {
        follower.abort();
    }
    let _ = stop.send(());
    if tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .is_err()
    {
        println!("the server did not stop within 5 s; leaving anyway");
    }
    Ok(())
}

/// One build and push; whether a version was pushed. Failures are
/// printed, and the last good version keeps serving.
async fn cycle(dir: &Path, build: &Build, client: &ApiClient, round: &mut u64) -> bool {
    if let Err(e) = run_build(dir, build).await {
        println!(
            "build failed: {e:#}\n(the previous version keeps running; fix and save to try again)"
        );
        return false;
    }
    *round += 1;
    match push(dir, client, *round).await {
        Ok(version) => {
            println!("pushed {version} (live rooms restart on it)");
            true
        }
        Err(e) => {
            println!("push refused: {e:#}");
            false
        }
    }
}

async fn run_build(dir: &Path, build: &Build) -> anyhow::Result<()> {
    let mut command = match build {
        Build::Nothing => return Ok(()),
        Build::Shell(line) => {
            println!("building: {line}");
            let mut command = tokio::process::Command::new("sh");
            command.arg("-c").arg(line);
            command
        }
        Build::Cargo {
            manifest,
            target_dir,
            release,
        } => {
            let profile = if *release { " --release" } else { "" };
            println!("building: cargo build{profile} --workspace --target wasm32-wasip2");
            let mut command = tokio::process::Command::new("cargo");
            command.args(["build", "--workspace", "--target", "wasm32-wasip2"]);
            if *release {
                command.arg("--release");
            }
            command
                .arg("--manifest-path")
                .arg(manifest)
                .arg("--target-dir")
                .arg(target_dir);
            command
        }
    };
    let status = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .status()
        .await
        .context("starting the build")?;
    if !status.success() {
        bail!("the build exited with {status}");
    }
    Ok(())
}

async fn push(dir: &Path, client: &ApiClient, round: u64) -> anyhow::Result<String> {
    let manifest = read_manifest(dir)?;
    let mut version = manifest.app.version.clone();
    version.pre = semver::Prerelease::new(&format!("dev.{round}"))?;
    let dir = dir.to_owned();
    let packed = tokio::task::spawn_blocking(move || pack_as(&dir, Some(version)))
        .await
        .context("packing the bundle")??;
    let name = format!(
        "{}@{}",
        packed.manifest.app.name, packed.manifest.app.version
    );
    let request = client
        .request(Method::POST, "/api/apps")
        .header(reqwest::header::CONTENT_TYPE, "application/gzip")
        .body(packed.bytes);
    let _: serde_json::Value = client.send(request).await?;
    Ok(name)
}

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (lodge dev runs in an app directory)",
            path.display()
        )
    })?;
    lodge_runtime::capabilities::parse_manifest(&bytes).with_context(|| path.display().to_string())
}

/// `cargo build` when the components live in a cargo target folder
/// (`…/target/wasm32-wasip2/release/x.wasm`): the whole workspace of the
/// nearest Cargo.toml up from DIR, in that profile, into that target folder.
fn cargo_build(dir: &Path, manifest: &Manifest) -> Option<Build> {
    let parts = manifest.parts();
    let (target, profile) = parts.iter().find_map(|part| {
        let (target, rest) = part.component.split_once("/wasm32-wasip2/")?;
        let profile = rest.split('/').next()?;
        Some((target.to_owned(), profile.to_owned()))
    })?;
    let cargo_manifest = dir
        .ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())?;
    Some(Build::Cargo {
        manifest: cargo_manifest,
        target_dir: dir.join(target),
        release: profile == "release",
    })
}

/// Every file under DIR (not in target, node_modules or hidden folders)
/// with its size and modification time.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>)> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                walk(&entry.path(), out);
            } else {
                out.insert(entry.path(), (meta.len(), meta.modified().ok()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

fn print_urls(url: &str, manifest: &Manifest, domain: &str, port: u16) {
    let name = &manifest.app.name;
    println!("  {url}/app/{name}");
    let roles: Vec<Role> = manifest.parts().iter().map(|p| p.role).collect();
    if roles.contains(&Role::Room) {
        println!("  {url}/play/{name}/lobby");
    } else if roles.contains(&Role::Client) {
        println!("  {url}/play/{name}");
    }
    if roles.contains(&Role::Http) {
        println!("  {url}/run/{name}/");
        println!("  http://{name}.{domain}:{port}/");
    }
}
