//! `lodge cluster status`: the servers sharing one Lodge, their rooms and
//! members, and how fresh their leases are.

use crate::client::{ApiClient, Connection};
use crate::output::table;
use reqwest::Method;
use serde::Deserialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// The servers (alive or lately gone), their rooms and members, and
    /// the age of each lease (an admin's).
    Status {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Deserialize)]
struct Status {
    cluster: bool,
    this: Option<String>,
    nodes: Vec<Node>,
    rooms: Vec<Room>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    internal_url: String,
    alive: bool,
    heartbeat_age_ms: i64,
    up_ms: i64,
    report: Report,
}

#[derive(Deserialize)]
struct Report {
    rooms: u64,
    members: u64,
    draining: bool,
}

#[derive(Deserialize)]
struct Room {
    app: String,
    room: String,
    node: String,
    fence: i64,
    age_ms: i64,
    owner_alive: bool,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Status { json, connection } = command;
    let client = ApiClient::new(&connection)?;
    let status: serde_json::Value = client
        .send(client.request(Method::GET, "/api/cluster"))
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    let status: Status = serde_json::from_value(status)?;
    if !status.cluster {
        println!("this server is not in a cluster (lodge serve --cluster postgres://…)");
        return Ok(());
    }
    let this = status.this.unwrap_or_default();
    let rows: Vec<Vec<String>> = status
        .nodes
        .iter()
        .map(|node| {
            let state = match (node.alive, node.report.draining) {
                (true, true) => "draining",
                (true, false) => "alive",
                (false, _) => "gone",
            };
            let name = if node.id == this {
                format!("{} (this)", node.id)
            } else {
                node.id.clone()
            };
            vec![
                name,
                state.into(),
                node.report.rooms.to_string(),
                node.report.members.to_string(),
                seconds(node.heartbeat_age_ms),
                seconds(node.up_ms),
                node.internal_url.clone(),
            ]
        })
        .collect();
    table(
        &[
            "SERVER",
            "STATE",
            "ROOMS",
            "MEMBERS",
            "HEARTBEAT",
            "UP",
            "URL",
        ],
        &rows,
    );
    if !status.rooms.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = status
            .rooms
            .iter()
            .map(|room| {
                vec![
                    format!("{}/{}", room.app, room.room),
                    if room.owner_alive {
                        room.node.clone()
                    } else {
                        format!("{} (gone: moves on the next join)", room.node)
                    },
                    room.fence.to_string(),
                    seconds(room.age_ms),
                ]
            })
            .collect();
        table(&["ROOM", "SERVER", "FENCE", "LEASE AGE"], &rows);
    }
    Ok(())
}

/// Milliseconds as seconds with one decimal (`1.2s`).
fn seconds(ms: i64) -> String {
    format!("{:.1}s", ms.max(0) as f64 / 1000.0)
}
