//! The snake arena example (examples/snake) played by WebSocket members:
//! the room is the authority, ticks on its own, and applies turns.

use crate::support::{Server, Ws, examples};
use snake_protocol::{Dir, FromRoom, State};

/// The next arena state a member receives (skipping anything else).
async fn next_state(ws: &mut Ws) -> State {
    loop {
        if let Some(FromRoom::State(state)) = FromRoom::decode(&ws.binary().await) {
            return state;
        }
    }
}

async fn welcome(ws: &mut Ws) -> u64 {
    match FromRoom::decode(&ws.binary().await) {
        Some(FromRoom::Welcome(id)) => id,
        other => panic!("expected a welcome, got {other:?}"),
    }
}

#[tokio::test]
async fn two_snakes_share_an_arena_that_ticks_on_its_own_and_follows_their_turns() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    server.ok(&["app", "push", examples().join("snake").to_str().unwrap()]);

    let mut ada = Ws::join(&server, "snake", "pit", "ada").await;
    let ada_id = welcome(&mut ada).await;
    let mut bob = Ws::join(&server, "snake", "pit", "bob").await;
    let bob_id = welcome(&mut bob).await;
    assert_ne!(ada_id, bob_id);

    // Both snakes come alive within a few ticks, on consecutive ticks.
    let mut state = next_state(&mut ada).await;
    for _ in 0..20 {
        let next = next_state(&mut ada).await;
        assert_eq!(next.tick, state.tick + 1, "every tick is sent, in order");
        state = next;
        if state.snakes.iter().filter(|s| s.alive).count() == 2 {
            break;
        }
    }
    let names: Vec<_> = state.snakes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ada", "bob"]);
    // Alive, and at least their spawn length (4): one that spawned beside
    // food may already have eaten.
    assert!(
        state.snakes.iter().all(|s| s.alive && s.body.len() >= 4),
        "{:?}",
        state
            .snakes
            .iter()
            .map(|s| (&s.name, s.alive, s.body.len()))
            .collect::<Vec<_>>()
    );
    assert!(
        state.food.len() >= 5,
        "three pieces of food and one per player"
    );

    // A snake spawns heading right; ada turns down and her head follows.
    let head = |state: &State, id: u64| state.snakes.iter().find(|s| s.id == id).unwrap().body[0];
    let (x, y) = head(&state, ada_id);
    ada.send_binary(&[Dir::Down.byte()]).await;
    let mut turned = false;
    for _ in 0..3 {
        let next = next_state(&mut ada).await;
        let snake = next.snakes.iter().find(|s| s.id == ada_id).unwrap();
        if snake.alive && snake.body[0].0 == x && snake.body[0].1 > y {
            turned = true;
            break;
        }
    }
    assert!(turned, "ada's head never went down from ({x}, {y})");

    // Bob sees the same arena.
    let seen = next_state(&mut bob).await;
    assert!(seen.snakes.iter().any(|s| s.id == ada_id));

    // When ada leaves, her snake is gone from the next states.
    drop(ada);
    let mut gone = false;
    for _ in 0..30 {
        if next_state(&mut bob)
            .await
            .snakes
            .iter()
            .all(|s| s.id != ada_id)
        {
            gone = true;
            break;
        }
    }
    assert!(gone);
}
