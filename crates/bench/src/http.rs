//! `lodge-bench http`: requests per second and latency of the http-hello
//! component through Lodge, beside `wasmtime serve` running the same
//! component and a native axum hello-world written for the comparison. The
//! load comes from `wrk` (Debian's `wrk` package); every target gets the
//! same connections, threads and duration, one after another.

use crate::lodge::Lodge;
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct HttpArgs {
    /// Open connections wrk keeps.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seconds measured per target.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// The app to push to Lodge; its http part is also what `wasmtime serve` runs.
    #[arg(long, default_value = "examples/http-hello")]
    app_dir: PathBuf,
    /// The wasmtime CLI for the `wasmtime serve` row [default: `wasmtime` on PATH].
    #[arg(long)]
    wasmtime: Option<PathBuf>,
}

/// What wrk measured for one target.
struct Figures {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

pub async fn run(args: HttpArgs) -> anyhow::Result<()> {
    which("wrk").context("wrk is missing: install it with `apt-get install wrk`")?;
    println!(
        "lodge-bench http --connections {} --threads {} --duration {} --app-dir {}",
        args.connections,
        args.threads,
        args.duration,
        args.app_dir.display()
    );
    println!(
        "load: wrk -t{} -c{} -d{}s --latency, one target after another on this machine\n",
        args.threads, args.connections, args.duration
    );
    let mut rows: Vec<(&str, Figures)> = Vec::new();

    let lodge = Lodge::start(&args.app_dir, 1).await?;
    let component = http_component(&args.app_dir)?;
    let app = lodge.target().app;
    let url = format!("http://{}/run/{app}/", lodge.addr);
    warm(&url).await?;
    rows.push(("lodge", wrk(&args, &url).await?));
    // The same component as another app that opts in to reusing instances.
    let reuse_name = format!("{app}-reuse");
    let reused = crate::pack::pack_with(&args.app_dir, |manifest| {
        manifest.app.name = lodge_manifest::AppName::new(reuse_name.clone()).expect("a valid name");
        if let Some(http) = manifest.http.as_mut() {
            http.reuse_instances = true;
        }
    })?;
    lodge.push(reused.bytes).await?;
    let url = format!("http://{}/run/{reuse_name}/", lodge.addr);
    warm(&url).await?;
    rows.push(("lodge (reuse)", wrk(&args, &url).await?));
    lodge.stop().await;

    match args.wasmtime.clone().or_else(|| which("wasmtime").ok()) {
        Some(wasmtime) => {
            let figures = wasmtime_serve(&args, &wasmtime, &component).await?;
            rows.push(("wasmtime serve", figures));
        }
        None => eprintln!(
            "wasmtime is not on PATH: skipping `wasmtime serve` (install it with `cargo install wasmtime-cli --version 48.0.8 --locked`)"
        ),
    }

    let (addr, native) = native_hello().await?;
    let url = format!("http://{addr}/");
    rows.push(("native axum", wrk(&args, &url).await?));
    native.abort();

    println!(
        "{:<16} {:>12} {:>10} {:>10} {:>8} {:>14} {:>14}",
        "target", "requests/s", "p50 ms", "p99 ms", "errors", "lodge / this", "p99 vs lodge"
    );
    let lodge_rps = rows[0].1.requests_per_sec;
    let lodge_p99 = rows[0].1.p99_ms;
    for (name, f) in &rows {
        println!(
            "{:<16} {:>12.0} {:>10.2} {:>10.2} {:>8} {:>13.2}x {:>13.2}x",
            name,
            f.requests_per_sec,
            f.p50_ms,
            f.p99_ms,
            f.errors,
            lodge_rps / f.requests_per_sec,
            f.p99_ms / lodge_p99,
        );
    }
    Ok(())
}

/// The http part's component file, from the app's manifest.
fn http_component(app_dir: &Path) -> anyhow::Result<PathBuf> {
    let bytes = std::fs::read(app_dir.join(lodge_manifest::MANIFEST_FILE))?;
    let manifest = lodge_runtime::capabilities::parse_manifest(&bytes)?;
    let http = manifest
        .http
        .context("the app has no [http] part to measure")?;
    Ok(app_dir.join(http.component))
}

/// One request first, so compiling and caching are not measured.
async fn warm(url: &str) -> anyhow::Result<()> {
    let response = reqwest::get(url).await.context("the warm-up request")?;
    if !response.status().is_success() {
        bail!(
            "the warm-up request to {url} answered {}",
            response.status()
        );
    }
    Ok(())
}

async fn wrk(args: &HttpArgs, url: &str) -> anyhow::Result<Figures> {
    eprintln!("measuring {url}");
    let output = tokio::process::Command::new("wrk")
        .arg(format!("-t{}", args.threads))
        .arg(format!("-c{}", args.connections))
        .arg(format!("-d{}s", args.duration))
        .arg("--latency")
        .arg(url)
        .output()
        .await
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's output:\n{text}"))
}

/// Reads "Requests/sec:", the 50% and 99% latency lines, and error counts.
fn parse_wrk(text: &str) -> anyhow::Result<Figures> {
    let mut figures = Figures {
        requests_per_sec: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => figures.requests_per_sec = n.parse()?,
            ["50%", t] => figures.p50_ms = millis(t)?,
            ["99%", t] => figures.p99_ms = millis(t)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => figures.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                for n in rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                {
                    figures.errors += n;
                }
            }
            _ => {}
        }
    }
    if figures.requests_per_sec == 0.0 {
        bail!("no Requests/sec line");
    }
    Ok(figures)
}

/// wrk's durations: "1.23ms", "456.00us", "2.00s".
fn millis(t: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(n) = t.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unknown duration {t}");
    };
    Ok(number.parse::<f64>()? * factor)
}

async fn wasmtime_serve(
    args: &HttpArgs,
    wasmtime: &Path,
    component: &Path,
) -> anyhow::Result<Figures> {
    let addr = free_addr()?;
    let mut child = tokio::process::Command::new(wasmtime)
        .args(["serve", "-Scli", "--addr"])
        .arg(addr.to_string())
        .arg(component)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} serve", wasmtime.display()))?;
    let url = format!("http://{addr}/");
    let mut ready = false;
    for _ in 0..200 {
        if warm(&url).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready {
        bail!("wasmtime serve did not answer on {url} within 10 s");
    }
    let figures = wrk(args, &url).await;
    let _ = child.kill().await;
    figures
}

/// The native baseline: axum answering a fixed hello, on its own runtime task.
async fn native_hello() -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(|uri: axum::http::Uri| async move {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            format!("Hello from Lodge! You asked for {uri}\n"),
        )
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

fn which(program: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .with_context(|| format!("{program} is not on PATH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  452.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    3.50ms\n  100000 requests in 10.00s, 12.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:  10000.50\nTransfer/sec:      1.20MB\n";
        let f = parse_wrk(text).unwrap();
        assert_eq!(f.requests_per_sec, 10000.5);
        assert!((f.p50_ms - 0.452).abs() < 1e-9);
        assert_eq!(f.p99_ms, 3.5);
        assert_eq!(f.errors, 7);
    }
}
