//! `lodge rooms ls APP`: the live rooms of an app.

use crate::client::{ApiClient, Connection};
use crate::output::table;
use reqwest::Method;
use serde::Deserialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List an app's live rooms: name, members, version, start time.
    Ls {
        app: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Deserialize)]
struct RoomList {
    rooms: Vec<Room>,
}

#[derive(Deserialize)]
struct Room {
    name: String,
    version: String,
    members: usize,
    started: String,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Ls {
        app,
        json,
        connection,
    } = command;
    let client = ApiClient::new(&connection)?;
    let value: serde_json::Value = client
        .send(client.request(Method::GET, &format!("/api/apps/{app}/rooms")))
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let list: RoomList = serde_json::from_value(value)?;
    if list.rooms.is_empty() {
        println!("{app} has no live rooms; join one with `lodge join {app}/ROOM --name NAME`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .rooms
        .into_iter()
        .map(|r| vec![r.name, r.members.to_string(), r.version, r.started])
        .collect();
    table(&["ROOM", "MEMBERS", "VERSION", "STARTED"], &rows);
    Ok(())
}
