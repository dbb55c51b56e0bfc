//! `lodge join APP/ROOM --name NAME`: a room from the terminal, as a guest,
//! or under your username when `lodge login` signed you in to the server.
//! `lodge join APP` is join-or-create: a seat reserved in an open public
//! room of the app (or a new one), then taken.

use crate::client::{ApiClient, Connection};
use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use tokio::io::AsyncBufReadExt;
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
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (app, room, seat) = match args.target.split_once('/') {
        Some((app, room)) => (app.to_owned(), room.to_owned(), None),
        None if args.target.contains('@') => {
            bail!("a version needs a room: APP@VERSION/ROOM, like chat@0.1.0/lobby")
        }
        None => {
            let (room, seat) = reserve(&args.connection, &args.target).await?;
            (args.target.clone(), room, Some(seat))
        }
    };
    let (app, version) = match app.split_once('@') {
        Some((app, version)) => (app, Some(version)),
        None => (app.as_str(), None),
    };
    let base = args.connection.server.trim_end_matches('/');
    let ws_base = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        bail!("--server {base:?} must start with http:// or https://");
    };
    let mut url = reqwest::Url::parse(&format!("{ws_base}/apps/{app}/rooms/{room}"))
        .with_context(|| format!("{app}/{room} does not make a valid URL"))?;
    if let Some(name) = &args.name {
        url.query_pairs_mut().append_pair("name", name);
    }
    if let Some(version) = version {
        url.query_pairs_mut().append_pair("version", version);
    }
    if let Some(seat) = &seat {
        url.query_pairs_mut().append_pair("seat", seat);
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
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            url.as_str(),
        )
        .context("building the request")?;
    if let Some(login) = &login {
        request.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", login.token)
                .parse()
                .context("the stored token is not a valid header")?,
        );
    }
    let who = match (&login, &args.name) {
        (Some(login), _) => login.username.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => unreachable!("clap requires --name or --signed-in"),
    };
    let tls = tokio_tungstenite::Connector::Rustls(args.connection.tls()?);
    let connecting =
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(tls));
    let (socket, _) = match connecting.await {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            let message = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("the server answered {}", response.status()));
            bail!("{message}");
        }
        Err(e) => bail!("could not reach {ws_base}: {e}"),
    };
    let how = if login.is_some() { "your account " } else { "" };
    eprintln!("joined {app}/{room} as {how}{who}; type lines to send, Ctrl-D to leave");
    let (mut sink, mut stream) = socket.split();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    // After end of input, answers still on their way are printed: leave once
    // the room has been quiet for a moment.
    let quiet = std::time::Duration::from_millis(300);
    let mut leave_at: Option<tokio::time::Instant> = None;
    let mut left = false;
    loop {
        tokio::select! {
            line = stdin.next_line(), if stdin_open => match line? {
                Some(line) => sink.send(Message::text(line)).await.context("sending to the room")?,
                None => {
                    stdin_open = false;
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
                    if stdin_open || code != 1000 {
                        bail!("the room closed the connection ({code}): {reason}");
                    }
                    return Ok(());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("the connection broke: {e}"),
                None => return Ok(()),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct Reservation {
    room: String,
    seat: String,
}

/// Join-or-create: a seat held in an open public room of `app`; its room
/// and seat token.
async fn reserve(connection: &Connection, app: &str) -> anyhow::Result<(String, String)> {
    let client = ApiClient::new(connection)?;
    let reservation: Reservation = client
        .send(
            client
                .request_anonymous(
                    reqwest::Method::POST,
                    &format!("/api/apps/{app}/rooms/join-or-create"),
                )
                .json(&serde_json::json!({})),
        )
        .await?;
    Ok((reservation.room, reservation.seat))
}
