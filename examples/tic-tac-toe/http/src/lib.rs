//! The tic-tac-toe example's http part: the leaderboard the room keeps in
//! app kv, as JSON. `GET /leaderboard` (or `/`) answers
//! `{"games": N, "players": [{"name": "ada", "wins": 3}, …]}`, most wins first.

use lodge_http::kv::{self, Scope};
use lodge_http::wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use serde::Serialize;

/// The most players listed.
const TOP: u32 = 100;

#[derive(Serialize)]
struct Leaderboard {
    games: i64,
    players: Vec<Player>,
}

#[derive(Serialize)]
struct Player {
    name: String,
    wins: i64,
}

fn count(key: &str) -> Result<i64, kv::Error> {
    Ok(kv::get_string(Scope::App, key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn leaderboard() -> Result<Leaderboard, kv::Error> {
    let mut players = Vec::new();
    for key in kv::list_keys(Scope::App, "wins/", 1000)? {
        let wins = count(&key)?;
        let name = key.trim_start_matches("wins/").to_owned();
        players.push(Player { name, wins });
    }
    players.sort_by(|a, b| b.wins.cmp(&a.wins).then_with(|| a.name.cmp(&b.name)));
    players.truncate(TOP as usize);
    Ok(Leaderboard {
        games: count("games")?,
        players,
    })
}

fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: &[u8]) {
    let headers = Fields::from_list(&[
        ("content-type".into(), content_type.as_bytes().to_vec()),
        ("cache-control".into(), b"no-store".to_vec()),
    ])
    .expect("static headers are valid");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("a new response has a body");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("a new body has a stream");
    for chunk in body.chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}

struct Api;

impl lodge_http::wasip2::exports::http::incoming_handler::Guest for Api {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        if !matches!(request.method(), Method::Get | Method::Head) {
            return respond(out, 405, "text/plain", b"only GET\n");
        }
        match path {
            "/" | "/leaderboard" => match leaderboard() {
                Ok(board) => {
                    let json = serde_json::to_vec(&board).expect("serializable");
                    respond(out, 200, "application/json", &json);
                }
                Err(e) => {
                    lodge_http::log::error(&format!("reading the leaderboard: {e}"));
                    respond(out, 503, "text/plain", b"the leaderboard is unavailable\n");
                }
            },
            _ => respond(out, 404, "text/plain", b"try /leaderboard\n"),
        }
    }
}

lodge_http::wasip2::http::proxy::export!(Api with_types_in lodge_http::wasip2);
