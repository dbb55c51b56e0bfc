//! `lodge logs APP[/ROOM] [--follow]`: an app's log.

use crate::client::{ApiClient, Connection};
use anyhow::Context;
use futures::StreamExt;
use reqwest::Method;
use serde::Deserialize;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// APP, or APP/ROOM for one room's lines.
    target: String,
    /// Keep printing new lines as they happen.
    #[arg(long, short)]
    follow: bool,
    /// Print each line as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Deserialize)]
struct Line {
    time_ms: i64,
    room: Option<String>,
    level: String,
    source: String,
    message: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.connection)?;
    let (app, room) = match args.target.split_once('/') {
        Some((app, room)) => (app, Some(room)),
        None => (args.target.as_str(), None),
    };
    print(&client, app, room, args.follow, args.json).await
}

/// Prints an app's log lines (or one room's), and with `follow`, new ones
/// as they happen.
pub async fn print(
    client: &ApiClient,
    app: &str,
    room: Option<&str>,
    follow: bool,
    json: bool,
) -> anyhow::Result<()> {
    let mut request = client
        .request(Method::GET, &format!("/api/apps/{app}/logs"))
        .query(&[("follow", follow.to_string())]);
    if let Some(room) = room {
        request = request.query(&[("room", room)]);
    }
    let response = request.send().await.context("could not reach the server")?;
    if !response.status().is_success() {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("the server refused");
        if status == reqwest::StatusCode::UNAUTHORIZED && !client.has_token() {
            anyhow::bail!("{message} ({})", crate::client::NO_TOKEN_HINT);
        }
        anyhow::bail!("{message}");
    }
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let stdout = std::io::stdout();
    while let Some(chunk) = stream.next().await {
        buffer.extend_from_slice(&chunk.context("the log stream broke")?);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let mut out = stdout.lock();
            if json {
                out.write_all(&line)?;
            } else if let Ok(line) = serde_json::from_slice::<Line>(&line) {
                let time = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(line.time_ms.max(0) as u64);
                let room = line.room.map(|r| format!(" [{r}]")).unwrap_or_default();
                let source = if line.source == "lodge" {
                    " lodge:"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{} {:<5}{room}{source} {}",
                    humantime::format_rfc3339_millis(time),
                    line.level.to_uppercase(),
                    line.message
                )?;
            }
            out.flush()?;
        }
    }
    Ok(())
}
