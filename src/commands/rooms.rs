//! `lodge rooms ls APP`: the live rooms of an app; `lodge rooms create APP`:
//! a new room, named or with a generated code.

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
    /// Create a room now (named, or with a generated code like 7KQ2-M9XD)
    /// and print it with its play link.
    Create {
        app: String,
        /// The room's name (1-64 letters, digits, '-', '_' or '.').
        #[arg(long)]
        name: Option<String>,
        /// Fewer members than the app's [room].max-members.
        #[arg(long)]
        max_members: Option<u32>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Deserialize)]
struct CreatedRoom {
    room: String,
    version: String,
    max_members: u32,
    play: String,
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
    match command {
        Command::Ls {
            app,
            json,
            connection,
        } => list(app, json, connection).await,
        Command::Create {
            app,
            name,
            max_members,
            json,
            connection,
        } => create(app, name, max_members, json, connection).await,
    }
}

async fn create(
    app: String,
    name: Option<String>,
    max_members: Option<u32>,
    json: bool,
    connection: Connection,
) -> anyhow::Result<()> {
    let client = ApiClient::new(&connection)?;
    let body = serde_json::json!({ "name": name, "max_members": max_members });
    let value: serde_json::Value = client
        .send(
            client
                .request(Method::POST, &format!("/api/apps/{app}/rooms"))
                .json(&body),
        )
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let created: CreatedRoom = serde_json::from_value(value)?;
    println!(
        "created {app}/{} (version {}, up to {} members)",
        created.room, created.version, created.max_members
    );
    println!("play: {}{}", client.base(), created.play);
    println!("join: lodge join {app}/{} --name NAME", created.room);
    Ok(())
}

async fn list(app: String, json: bool, connection: Connection) -> anyhow::Result<()> {
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
