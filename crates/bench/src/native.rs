//! The baseline: a plain Rust chat server, written only for `lodge-bench`
//! to compare against. It is not part of Lodge.
//!
//! It speaks the chat example's wire protocol on the same route
//! (`/apps/{app}/rooms/{room}?name=NAME`), on the same HTTP/WebSocket stack
//! (axum with its default settings, like Lodge's gateway): on join it replays the last
//! 50 lines and says `* NAME joined`; each text message goes to every member,
//! sender included, as `NAME: text` (trimmed, newlines as spaces); on leave it
//! says `* NAME left`. Unlike Lodge there is no WebAssembly and no storage:
//! each room is a mutex over its members and its last 50 lines, kept in memory.
//! Like Lodge, each member has a bounded outbox and is dropped when it fills.
//! [`Transport::Tuned`] changes only how connections write and read, to show
//! what the transport settings are worth on their own.

use crate::load::Target;
use anyhow::Context;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{Listener, ListenerExt};
use futures::SinkExt;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Lines a room remembers for members who join.
const HISTORY: usize = 50;
/// Messages queued per member before it counts as too slow (Lodge's default).
const OUTBOX: usize = 1024;
/// How long one frame may take to reach a member (as in Lodge's gateway).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The close code for a member that didn't read its messages (as in Lodge).
const TOO_SLOW: u16 = 1008;

/// How the baseline's connections are set up.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    /// axum's defaults, like Lodge's gateway: Nagle on, a 128 KiB read
    /// buffer, one write (and flush) per message.
    Plain,
    /// TCP_NODELAY, a small read buffer, and the queued messages written
    /// together with one flush: what the gateway could do.
    Tuned,
}

/// The read buffer of a tuned connection; tungstenite zeroes its free part
/// before every read, so the 128 KiB default costs more than small messages do.
const TUNED_READ_BUFFER: usize = 4 * 1024;
/// The most queued messages a tuned connection writes before flushing.
const TUNED_BATCH: usize = 64;

/// The running baseline server.
pub struct Native {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Native {
    pub async fn start(transport: Transport) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("listening on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let router = Router::new()
            .route("/apps/{app}/rooms/{room}", get(join))
            .with_state(Arc::new(Rooms {
                transport,
                rooms: Mutex::default(),
            }));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = match transport {
            Transport::Plain => spawn_serve(listener, router, stopped),
            Transport::Tuned => {
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                spawn_serve(listener, router, stopped)
            }
        };
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    pub fn target(&self) -> Target {
        Target::one(self.addr, "chat")
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        if tokio::time::timeout(STOP_TIMEOUT, self.task).await.is_err() {
            eprintln!("native: the server did not stop within {STOP_TIMEOUT:?}; moving on");
        }
    }
}

fn spawn_serve<L>(
    listener: L,
    router: Router,
    stopped: oneshot::Receiver<()>,
) -> JoinHandle<std::io::Result<()>>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    let serve = axum::serve(listener, router).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    tokio::spawn(async move { serve.await })
}

/// Every room, by "app/room"; rooms stay for the life of the server.
struct Rooms {
    transport: Transport,
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    fn get(&self, app: &str, room: &str) -> Arc<Room> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms.entry(format!("{app}/{room}")).or_default().clone()
    }
}

#[derive(Default)]
struct Room {
    state: Mutex<RoomState>,
}

#[derive(Default)]
struct RoomState {
    next_id: u64,
    /// Each member's outbox, in join order.
    members: BTreeMap<u64, mpsc::Sender<Utf8Bytes>>,
    /// The last lines said, oldest first.
    history: VecDeque<Utf8Bytes>,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a member: replays the history to it, then tells everyone.
    fn join(&self, name: &str, outbox: mpsc::Sender<Utf8Bytes>) -> u64 {
        let mut state = self.lock();
        for line in &state.history {
            let _ = outbox.try_send(line.clone());
        }
        state.next_id += 1;
        let id = state.next_id;
        state.members.insert(id, outbox);
        state.say(format!("* {name} joined"));
        id
    }

    fn message(&self, name: &str, text: &str) {
        let text = text.replace(['\r', '\n'], " ");
        let text = text.trim();
        if !text.is_empty() {
            self.lock().say(format!("{name}: {text}"));
        }
    }

    fn leave(&self, id: u64, name: &str) {
        let mut state = self.lock();
        if state.members.remove(&id).is_some() {
            state.say(format!("* {name} left"));
        }
    }
}

impl RoomState {
    /// Queues a line for every member, dropping those whose outbox is full
    /// (their connection then closes), and remembers it.
    fn say(&mut self, line: String) {
        let line = Utf8Bytes::from(line);
        self.members
            .retain(|_, outbox| outbox.try_send(line.clone()).is_ok());
        self.history.push_back(line);
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }
}

#[derive(Deserialize)]
struct JoinQuery {
    name: Option<String>,
}

async fn join(
    State(rooms): State<Arc<Rooms>>,
    Path((app, room)): Path<(String, String)>,
    Query(query): Query<JoinQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let name = query.name.unwrap_or_default();
    if name.is_empty() || name.len() > 64 || name.trim() != name {
        return (StatusCode::BAD_REQUEST, "add ?name=NAME").into_response();
    }
    let room = rooms.get(&app, &room);
    match rooms.transport {
        Transport::Plain => ws.on_upgrade(move |socket| member(socket, room, name, false)),
        Transport::Tuned => ws
            .read_buffer_size(TUNED_READ_BUFFER)
            .on_upgrade(move |socket| member(socket, room, name, true)),
    }
}

/// Relays between one member's socket and its room until either side ends;
/// with `batch`, messages already queued go out with the first, in one flush.
async fn member(mut socket: WebSocket, room: Arc<Room>, name: String, batch: bool) {
    let (outbox, mut inbox) = mpsc::channel(OUTBOX);
    let id = room.join(&name, outbox);
    loop {
        tokio::select! {
            line = inbox.recv() => match line {
                Some(line) => {
                    let more = if batch { TUNED_BATCH } else { 0 };
                    let sent = tokio::time::timeout(SEND_TIMEOUT, send(&mut socket, line, &mut inbox, more)).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break;
                    }
                }
                None => {
                    let close = CloseFrame { code: TOO_SLOW, reason: "too slow".into() };
                    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(close)))).await;
                    break;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => room.message(&name, text.as_str()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    room.leave(id, &name);
}

/// Writes `line` and up to `more` lines already waiting, then flushes once.
async fn send(
    socket: &mut WebSocket,
    line: Utf8Bytes,
    inbox: &mut mpsc::Receiver<Utf8Bytes>,
    more: usize,
) -> Result<(), axum::Error> {
    socket.feed(Message::Text(line)).await?;
    for _ in 0..more {
        match inbox.try_recv() {
            Ok(line) => socket.feed(Message::Text(line)).await?,
            Err(_) => break,
        }
    }
    socket.flush().await
}
