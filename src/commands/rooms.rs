//! `lodge rooms ls APP`: the live rooms of an app; `lodge rooms create APP`:
//! a new room, named or with a generated code, with its own settings;
//! `lodge rooms stop APP ROOM`: a room ended now.

use crate::client::{ApiClient, Connection};
use crate::output::table;
use reqwest::Method;
use serde::Deserialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List an app's live rooms: name, phase, players, spectators, host,
    /// version, start time.
    Ls {
        app: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Stop a live room now; its members are told it stopped (close 1001,
    /// so clients reconnect to a fresh room).
    Stop {
        app: String,
        room: String,
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
        /// Fewer players than the app's [room].max-members.
        #[arg(long)]
        max_members: Option<u32>,
        /// Wait in a lobby until the host starts (`lobby`), or play at once
        /// (`immediate`).
        #[arg(long, value_parser = ["immediate", "lobby"])]
        start: Option<String>,
        /// Who joins once the room is playing: `allow`, `spectate` or `deny`.
        #[arg(long, value_parser = ["allow", "spectate", "deny"])]
        late_join: Option<String>,
        /// No spectators in this room (when the app takes them).
        #[arg(long)]
        no_spectators: bool,
        /// `public`, `unlisted` or `invite` (no wider than the app's).
        #[arg(long, value_parser = ["public", "unlisted", "invite"])]
        visibility: Option<String>,
        /// Joining takes a password: read it from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Metadata the room starts with (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        metadata: Vec<String>,
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
    invite: Option<String>,
}

#[derive(Deserialize)]
struct RoomList {
    rooms: Vec<Room>,
}

#[derive(Deserialize)]
struct Room {
    name: String,
    version: String,
    players: usize,
    max_members: u32,
    spectators: usize,
    phase: String,
    host: Option<String>,
    started: String,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Ls {
            app,
            json,
            connection,
        } => list(app, json, connection).await,
        Command::Stop {
            app,
            room,
            connection,
        } => {
            let client = ApiClient::new(&connection)?;
            let _: serde_json::Value = client
                .send(client.request(Method::DELETE, &format!("/api/apps/{app}/rooms/{room}")))
                .await?;
            println!("stopped {app}/{room}");
            Ok(())
        }
        Command::Create {
            app,
            name,
            max_members,
            start,
            late_join,
            no_spectators,
            visibility,
            password_stdin,
            metadata,
            json,
            connection,
        } => {
            let password = match password_stdin {
                true => Some(crate::commands::account::read_password(true)?),
                false => None,
            };
            let mut meta = serde_json::Map::new();
            for entry in &metadata {
                let Some((key, value)) = entry.split_once('=') else {
                    anyhow::bail!("--metadata {entry:?} must look like KEY=VALUE");
                };
                meta.insert(key.to_owned(), value.into());
            }
            let body = serde_json::json!({
                "name": name,
                "max_members": max_members,
                "start": start,
                "late_join": late_join,
                "spectators": no_spectators.then_some(false),
                "visibility": visibility,
                "password": password,
                "metadata": meta,
            });
            create(app, body, json, connection).await
        }
    }
}

async fn create(
    app: String,
    body: serde_json::Value,
    json: bool,
    connection: Connection,
) -> anyhow::Result<()> {
    let client = ApiClient::new(&connection)?;
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
        "created {app}/{} (version {}, up to {} players)",
        created.room, created.version, created.max_members
    );
    println!("play: {}{}", client.base(), created.play);
    match created.invite {
        Some(invite) => println!(
            "join: lodge join {app}/{} --name NAME --invite {invite}",
            created.room
        ),
        None => println!("join: lodge join {app}/{} --name NAME", created.room),
    }
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
        .map(|r| {
            vec![
                r.name,
                r.phase,
                format!("{}/{}", r.players, r.max_members),
                r.spectators.to_string(),
                r.host.unwrap_or_else(|| "-".into()),
                r.version,
                r.started,
            ]
        })
        .collect();
    table(
        &[
            "ROOM",
            "PHASE",
            "PLAYERS",
            "SPECTATORS",
            "HOST",
            "VERSION",
            "STARTED",
        ],
        &rows,
    );
    Ok(())
}
