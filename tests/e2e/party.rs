//! The word-race example (examples/word-race), a party game for 3 to 8
//! players, played by real WebSocket clients from its lobby to its end.

use crate::support::*;
use serde_json::{Value, json};
use std::time::Duration;

/// The next state message (skipping `you`), waiting up to 30 s (the room's
/// own timers pace the game).
async fn state(ws: &mut Ws) -> Value {
    loop {
        let text = match ws.recv_within(Duration::from_secs(30)).await {
            Some(Received::Text(text)) => text,
            other => panic!("expected a state, got {other:?}"),
        };
        let message: Value = serde_json::from_str(&text).unwrap();
        if message["type"] == "state" {
            return message;
        }
    }
}

/// States until one matches `wanted`.
async fn state_where(ws: &mut Ws, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let s = state(ws).await;
        if wanted(&s) {
            return s;
        }
    }
}

async fn start(server: &Server, resume: &str) -> u16 {
    server
        .http()
        .post(server.api("/api/apps/word-race/rooms/party/start"))
        .json(&json!({ "resume": resume }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn word_race_gathers_three_in_the_lobby_and_races_five_rounds() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&[
        "app",
        "push",
        examples().join("word-race").to_str().unwrap(),
    ]);
    let host_token = "ann-resume-token-0123456789abcdef";
    let mut ann = Ws::try_join(
        &server,
        "word-race",
        "party",
        "ann",
        &format!("&resume={host_token}"),
    )
    .await
    .unwrap();
    assert_eq!(ann.text().await, r#"{"type":"you","role":"player"}"#);
    let mut bob = Ws::join(&server, "word-race", "party", "bob").await;

    // Two are too few: the room goes back to its lobby and says so.
    state_where(&mut ann, |s| s["scores"].as_array().unwrap().len() == 2).await;
    assert_eq!(start(&server, host_token).await, 200);
    let refused = state_where(&mut ann, |s| !s["notice"].as_str().unwrap().is_empty()).await;
    assert_eq!(refused["stage"], "lobby");
    assert!(
        refused["notice"].as_str().unwrap().contains("at least 3"),
        "{refused}"
    );

    let mut cy = Ws::join(&server, "word-race", "party", "cy").await;
    let mut sue = Ws::try_join(&server, "word-race", "party", "sue", "&spectate=true")
        .await
        .unwrap();
    assert_eq!(sue.text().await, r#"{"type":"you","role":"spectator"}"#);
    state_where(&mut ann, |s| s["scores"].as_array().unwrap().len() == 3).await;
    assert_eq!(start(&server, host_token).await, 200);

    // Five rounds: the word goes to whoever types it first; a spectator's
    // guess scores nothing; a latecomer can't join the race.
    let racers = ["ann", "bob", "cy", "bob", "bob"];
    let mut done = Value::Null;
    for (round, racer) in racers.iter().enumerate() {
        let up = state_where(&mut sue, |s| {
            s["stage"] == "round" && s["round"] == round + 1
        })
        .await;
        let word = up["word"].as_str().unwrap().to_owned();
        if round == 0 {
            sue.send(&json!({ "guess": word }).to_string()).await;
            let mut late = Ws::join(&server, "word-race", "party", "dan").await;
            assert_eq!(late.closed().await.0, 4011);
        }
        let ws = match *racer {
            "ann" => &mut ann,
            "bob" => &mut bob,
            _ => &mut cy,
        };
        ws.send(&json!({ "guess": word.to_uppercase() }).to_string())
            .await;
        done = state_where(&mut sue, |s| s["stage"] != "round").await;
        assert!(
            done["notice"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{racer} typed")),
            "{done}"
        );
    }
    let over = done;
    assert_eq!(over["stage"], "over", "{over}");
    let scores: Vec<(String, u64)> = over["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["score"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scores,
        [
            ("ann".to_owned(), 1),
            ("bob".to_owned(), 3),
            ("cy".to_owned(), 1)
        ]
    );
    assert!(
        over["notice"]
            .as_str()
            .unwrap()
            .contains("The race goes to bob!")
    );

    // Then back to the lobby, where newcomers race next time.
    let lobby = state_where(&mut sue, |s| s["stage"] == "lobby").await;
    assert_eq!(lobby["host"], "ann");
    let mut dan = Ws::join(&server, "word-race", "party", "dan").await;
    assert_eq!(dan.text().await, r#"{"type":"you","role":"player"}"#);
    let _ = tokio::time::timeout(Duration::from_secs(1), bob.text()).await;
    let _ = cy;
}
