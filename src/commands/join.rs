//! `lodge join APP/ROOM --name NAME`: a room from the terminal, as a guest,
//! or under your username when `lodge login` signed you in to the server.
//! `lodge join APP` is join-or-create: a seat reserved in an open public
//! room of the app (or a new one), then taken.
//!
//! The connection carries a resume token made for this run, so when it
//! drops (or the server restarts the room), `lodge join` reconnects by
//! itself with backoff and is the same member again if it is back within
//! the room's `reconnect-seconds`. Lines typed meanwhile wait and go out
//! once it is back.

use crate::client::{ApiClient, Connection};
use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// APP/ROOM to join, or APP@VERSION/ROOM for a room running that version
    /// (by default a new room starts with the latest version). Just APP
    /// joins an open public room of the app with a free seat, or a new one.
    target: String,
    /// Your display name in the room, as a guest. When `lodge login` signed
    /// you in to this server, you join under your username instead.
    #[arg(long, required_unless_present = "signed_in")]
    name: Option<String>,
    /// Join as a guest even when signed in.
    #[arg(long, conflicts_with = "signed_in")]
    guest: bool,
    /// Join under your username; fails unless `lodge login` signed you in.
    #[arg(long)]
    signed_in: bool,
    /// Watch as a spectator (when the room takes spectators).
    #[arg(long)]
    spectate: bool,
    /// An invite into the room: the token, or the whole link
    /// (`…/play/APP/ROOM#invite=…`).
    #[arg(long)]
    invite: Option<String>,
    /// The room has a password: ask for it.
    #[arg(long, conflicts_with = "password_stdin")]
    password: bool,
    /// Read the room's password from the first line of standard input (the
    /// lines after it are sent to the room).
    #[arg(long)]
    password_stdin: bool,
    /// With just APP: only rooms whose metadata has KEY=VALUE (repeatable);
    /// a new room starts with them.
    #[arg(long, value_name = "KEY=VALUE")]
    filter: Vec<String>,
    /// Don't reconnect when the connection drops.
    #[arg(long)]
    no_reconnect: bool,
    #[command(flatten)]
    connection: Connection,
}

/// Attempts to reconnect before giving up (about a minute with the backoff).
const RECONNECT_ATTEMPTS: u32 = 10;
/// Lines kept while disconnected.
const MAX_WAITING_LINES: usize = 256;

/// Why a session with the room ended.
enum Ended {
    /// We left (end of input, then a normal close).
    Left,
    /// The room closed us with this code and reason.
    Closed(u16, String),
    /// The connection broke without a close frame.
    Broken(String),
}

/// Whether a close lets the client come back: the server going away or
/// restarting the room, a crash, a busy server, a lost connection, or the
/// room moving to another server.
fn may_reconnect(code: u16) -> bool {
    matches!(code, 1001 | 1006 | 1011 | 1012 | 1013 | 4013)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut lines = read_lines();
    let (app, room, seat) = match args.target.split_once('/') {
        Some((app, room)) => (app.to_owned(), room.to_owned(), None),
        None if args.target.contains('@') => {
            bail!("a version needs a room: APP@VERSION/ROOM, like chat@0.1.0/lobby")
        }
        None => {
            let (room, seat) = reserve(&args.connection, &args.target, &args.filter).await?;
            (args.target.clone(), room, Some(seat))
        }
    };
    let (app, version) = match app.split_once('@') {
        Some((app, version)) => (app.to_owned(), Some(version.to_owned())),
        None => (app, None),
    };
    let base = args.connection.server.trim_end_matches('/').to_owned();
    let client = ApiClient::new(&args.connection)?;
    let mut invite = args.invite.as_deref().map(invite_token);
    if args.password || args.password_stdin {
        let password = if args.password_stdin {
            lines
                .recv()
                .await
                .context("standard input ended before the password")?
        } else {
            crate::commands::account::read_password(false)?
        };
        invite = Some(admit(&client, &app, &room, &password).await?);
    }
    // Only `lodge login`'s token makes you a member by account: the
    // operator's token (LODGE_TOKEN) is not a player.
    let login = if args.guest {
        None
    } else {
        args.connection.login()
    };
    if args.signed_in && login.is_none() {
        bail!("not signed in to {base}: run `lodge login` first, or join as a guest with --name");
    }
    let who = match (&login, &args.name) {
        (Some(login), _) => login.username.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => unreachable!("clap requires --name or --signed-in"),
    };
    let mut resume = [0u8; 24];
    getrandom::fill(&mut resume).context("no randomness for a resume token")?;
    let join = Join {
        url: join_url(&base, &app, &room)?,
        name: args.name.clone(),
        version,
        seat,
        invite,
        spectate: args.spectate,
        resume: hex::encode(resume),
        bearer: login.as_ref().map(|l| l.token.clone()),
        tls: args.connection.tls()?,
    };
    let how = if login.is_some() { "your account " } else { "" };
    let watching = if args.spectate { " to watch" } else { "" };
    let mut waiting = Vec::new();
    let mut attempt = 0;
    let mut first = true;
    loop {
        let socket = match join.connect(first).await {
            Ok(socket) => socket,
            Err(ConnectError::Refused(message)) => bail!("{message}"),
            Err(ConnectError::Unreachable(e)) if first || args.no_reconnect => {
                bail!("could not reach {base}: {e}")
            }
            Err(ConnectError::Unreachable(e)) => {
                attempt += 1;
                backoff(attempt, &e).await?;
                continue;
            }
        };
        if first {
            eprintln!(
                "joined {app}/{room} as {how}{who}{watching}; type lines to send, Ctrl-D to leave"
            );
        } else {
            eprintln!("reconnected to {app}/{room}");
        }
        first = false;
        attempt = 0;
        match session(socket, &mut lines, &mut waiting).await? {
            Ended::Left => return Ok(()),
            Ended::Closed(code, reason) if args.no_reconnect || !may_reconnect(code) => {
                bail!("the room closed the connection ({code}): {reason}")
            }
            Ended::Broken(e) if args.no_reconnect => bail!("the connection broke: {e}"),
            Ended::Closed(code, reason) => {
                attempt += 1;
                backoff(
                    attempt,
                    &format!("the room closed the connection ({code}): {reason}"),
                )
                .await?;
            }
            Ended::Broken(e) => {
                attempt += 1;
                backoff(attempt, &format!("the connection broke: {e}")).await?;
            }
        }
        if waiting.len() > MAX_WAITING_LINES {
            waiting.drain(..waiting.len() - MAX_WAITING_LINES);
        }
    }
}

/// Says why and waits before reconnect attempt `attempt` (0.25 s, doubling
/// to 8 s, with jitter); gives up after [`RECONNECT_ATTEMPTS`].
async fn backoff(attempt: u32, why: &str) -> anyhow::Result<()> {
    if attempt > RECONNECT_ATTEMPTS {
        bail!("{why}; gave up reconnecting after {RECONNECT_ATTEMPTS} attempts");
    }
    let base = Duration::from_millis(250) * 2u32.pow((attempt - 1).min(5));
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let wait = base + base * u32::from(jitter[0]) / 1024;
    eprintln!(
        "{why}; reconnecting in {:.1} s (attempt {attempt} of {RECONNECT_ATTEMPTS})",
        wait.as_secs_f64()
    );
    tokio::time::sleep(wait).await;
    Ok(())
}

/// Standard input's lines, read once for the whole run (reconnects included).
fn read_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = stdin.next_line().await {
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    rx
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Relays lines and messages until the session ends. Lines that could not
/// be sent stay in `waiting` for the next session.
async fn session(
    socket: Socket,
    lines: &mut mpsc::Receiver<String>,
    waiting: &mut Vec<String>,
) -> anyhow::Result<Ended> {
    let (mut sink, mut stream) = socket.split();
    while !waiting.is_empty() {
        let line = waiting.remove(0);
        if let Err(e) = sink.send(Message::text(line.clone())).await {
            waiting.insert(0, line);
            return Ok(Ended::Broken(e.to_string()));
        }
    }
    let mut input_open = true;
    // After end of input, answers still on their way are printed: leave once
    // the room has been quiet for a moment.
    let quiet = Duration::from_millis(300);
    let mut leave_at: Option<tokio::time::Instant> = None;
    let mut left = false;
    loop {
        tokio::select! {
            line = lines.recv(), if input_open && leave_at.is_none() => match line {
                Some(line) => {
                    if let Err(e) = sink.send(Message::text(line.clone())).await {
                        waiting.push(line);
                        return Ok(Ended::Broken(e.to_string()));
                    }
                }
                None => {
                    input_open = false;
                    leave_at = Some(tokio::time::Instant::now() + quiet);
                }
            },
            _ = tokio::time::sleep_until(leave_at.unwrap_or_else(tokio::time::Instant::now)), if leave_at.is_some() && !left => {
                left = true;
                sink.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await?;
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    println!("{text}");
                    if leave_at.is_some() && !left {
                        leave_at = Some(tokio::time::Instant::now() + quiet);
                    }
                }
                Some(Ok(Message::Binary(bytes))) => println!("<{} bytes of binary>", bytes.len()),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    if left && matches!(code, 1000 | 1005) {
                        return Ok(Ended::Left);
                    }
                    return Ok(Ended::Closed(code, reason));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) if left => return Ok(Ended::Left),
                Some(Err(e)) => return Ok(Ended::Broken(e.to_string())),
                None if left => return Ok(Ended::Left),
                None => return Ok(Ended::Broken("the connection ended".into())),
            }
        }
    }
}

/// Everything a (re)connection presents.
struct Join {
    url: reqwest::Url,
    name: Option<String>,
    version: Option<String>,
    seat: Option<String>,
    invite: Option<String>,
    spectate: bool,
    resume: String,
    bearer: Option<String>,
    tls: std::sync::Arc<rustls::ClientConfig>,
}

enum ConnectError {
    /// The server answered the upgrade with an error: no point retrying.
    Refused(String),
    /// The server could not be reached.
    Unreachable(String),
}

impl Join {
    /// Connects; the first connection also presents the seat reservation.
    async fn connect(&self, first: bool) -> Result<Socket, ConnectError> {
        let mut url = self.url.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(name) = &self.name {
                query.append_pair("name", name);
            }
            if let Some(version) = &self.version {
                query.append_pair("version", version);
            }
            if let (true, Some(seat)) = (first, &self.seat) {
                query.append_pair("seat", seat);
            }
            if let Some(invite) = &self.invite {
                query.append_pair("invite", invite);
            }
            if self.spectate {
                query.append_pair("spectate", "true");
            }
            query.append_pair("resume", &self.resume);
        }
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .map_err(|e| ConnectError::Refused(format!("building the request: {e}")))?;
        if let Some(token) = &self.bearer {
            let value = format!("Bearer {token}").parse().map_err(|_| {
                ConnectError::Refused("the stored token is not a valid header".into())
            })?;
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, value);
        }
        let tls = tokio_tungstenite::Connector::Rustls(self.tls.clone());
        match tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(tls))
            .await
        {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                let message = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("the server answered {}", response.status()));
                if response.status().is_server_error() {
                    Err(ConnectError::Unreachable(message))
                } else {
                    Err(ConnectError::Refused(message))
                }
            }
            Err(e) => Err(ConnectError::Unreachable(e.to_string())),
        }
    }
}

/// The room's WebSocket URL on the server at `base`.
fn join_url(base: &str, app: &str, room: &str) -> anyhow::Result<reqwest::Url> {
    let ws_base = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        bail!("--server {base:?} must start with http:// or https://");
    };
    reqwest::Url::parse(&format!("{ws_base}/apps/{app}/rooms/{room}"))
        .with_context(|| format!("{app}/{room} does not make a valid URL"))
}

/// The invite token in what was given: the token itself, or a link with
/// `#invite=` or `?invite=`.
fn invite_token(given: &str) -> String {
    match given.split_once("invite=") {
        Some((_, token)) => token
            .split(['&', '#'])
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => given.to_owned(),
    }
}

#[derive(serde::Deserialize)]
struct Reservation {
    room: String,
    seat: String,
}

/// Join-or-create: a seat held in an open public room of `app` whose
/// metadata has `filters`; its room and seat token.
async fn reserve(
    connection: &Connection,
    app: &str,
    filters: &[String],
) -> anyhow::Result<(String, String)> {
    let mut wanted = serde_json::Map::new();
    for filter in filters {
        let Some((key, value)) = filter.split_once('=') else {
            bail!("--filter {filter:?} must look like KEY=VALUE");
        };
        wanted.insert(key.to_owned(), value.into());
    }
    let client = ApiClient::new(connection)?;
    let reservation: Reservation = client
        .send(
            client
                .request_anonymous(
                    reqwest::Method::POST,
                    &format!("/api/apps/{app}/rooms/join-or-create"),
                )
                .json(&serde_json::json!({ "filters": wanted })),
        )
        .await?;
    Ok((reservation.room, reservation.seat))
}

#[derive(serde::Deserialize)]
struct Admission {
    invite: String,
}

/// The room's password for an invite to join with.
async fn admit(
    client: &ApiClient,
    app: &str,
    room: &str,
    password: &str,
) -> anyhow::Result<String> {
    let admission: Admission = client
        .send(
            client
                .request_anonymous(
                    reqwest::Method::POST,
                    &format!("/api/apps/{app}/rooms/{room}/admit"),
                )
                .json(&serde_json::json!({ "password": password })),
        )
        .await?;
    Ok(admission.invite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_is_taken_from_a_link_or_given_as_is() {
        assert_eq!(invite_token("abc.def"), "abc.def");
        assert_eq!(
            invite_token("https://lodge.example/play/chat/R#invite=abc.def"),
            "abc.def"
        );
        assert_eq!(
            invite_token("/apps/chat/rooms/R?invite=abc.def&name=x"),
            "abc.def"
        );
    }

    #[test]
    fn only_closes_that_may_pass_are_retried() {
        for code in [1001, 1006, 1011, 1012, 1013, 4013] {
            assert!(may_reconnect(code), "{code}");
        }
        for code in [1000, 1008, 1009, 4001, 4002, 4003, 4005, 4007, 4008, 4011] {
            assert!(!may_reconnect(code), "{code}");
        }
    }
}
