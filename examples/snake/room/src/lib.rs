//! The snake arena's room: the one authority on the game. It advances the
//! arena at a fixed tick (every `TICK_MS`, kept to the clock so ticks don't
//! drift), applies each player's latest turn, and sends everyone the whole
//! arena after every tick; clients only draw it. The best score ever reached
//! is kept in the app's kv.

use lodge_sdk::kv::{self, Scope};
use lodge_sdk::{Member, MemberId, Message, Room, log, members, timers};
use snake_protocol::{
    Cell, Dir, HEIGHT, Happening, MAX_SNAKES, Snake, State, TICK_MS, WIDTH, welcome,
};
use std::time::{Duration, Instant};

/// Ticks a dead snake waits before it comes back.
const RESPAWN_TICKS: u32 = 20;
const START_LENGTH: usize = 4;
/// Columns a new snake has ahead of it before the wall.
const SPAWN_LEAD: u8 = 12;
const BEST_KEY: &str = "best-score";

struct Player {
    snake: Snake,
    heading: Dir,
    /// The turn to take at the next tick (the latest one sent).
    turn: Option<Dir>,
    /// Cells still to grow by.
    growing: u32,
    /// The tick at which a dead snake comes back.
    respawn_at: u32,
}

#[derive(Default)]
struct Arena {
    players: Vec<Player>,
    food: Vec<Cell>,
    tick: u32,
    best: u16,
    /// When tick 0 was, while the game runs.
    started: Option<Instant>,
    rng: u64,
}

impl Arena {
    fn random(&mut self, below: u32) -> u32 {
        // xorshift64*: plenty for placing food.
        if self.rng == 0 {
            self.rng = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        ((self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % u64::from(below)) as u32
    }

    fn occupied(&self, cell: Cell) -> bool {
        self.food.contains(&cell)
            || self
                .players
                .iter()
                .any(|p| p.snake.alive && p.snake.body.contains(&cell))
    }

    /// A free cell with `room` free cells to its right, for a new snake.
    /// A free run of `room` cells ending at the returned cell, with `lead`
    /// columns to its right inside the arena.
    fn free_spot(&mut self, room: u8, lead: u8) -> Option<Cell> {
        for _ in 0..500 {
            let x = self.random(u32::from(WIDTH - room - lead)) as u8 + room;
            let y = self.random(u32::from(HEIGHT - 2)) as u8 + 1;
            if (0..room).all(|dx| !self.occupied((x - dx, y))) {
                return Some((x, y));
            }
        }
        None
    }

    fn place_food(&mut self) {
        let wanted = 3 + self.players.len();
        while self.food.len() < wanted {
            let Some(cell) = self.free_spot(1, 0) else {
                return;
            };
            self.food.push(cell);
        }
    }

    /// Puts a player's snake back at a free spot, heading right with room
    /// to turn before the wall.
    fn spawn(&mut self, index: usize) -> bool {
        let Some((x, y)) = self.free_spot(START_LENGTH as u8, SPAWN_LEAD) else {
            return false;
        };
        let player = &mut self.players[index];
        player.snake.body = (0..START_LENGTH as u8).map(|dx| (x - dx, y)).collect();
        player.snake.alive = true;
        player.heading = Dir::Right;
        player.turn = None;
        player.growing = 0;
        true
    }

    /// Advances the arena one tick and returns what happened.
    fn step(&mut self) -> Vec<(Happening, u64)> {
        self.tick += 1;
        let mut happenings = Vec::new();
        for index in 0..self.players.len() {
            let player = &self.players[index];
            if !player.snake.alive && self.tick >= player.respawn_at && self.spawn(index) {
                happenings.push((Happening::Spawned, self.players[index].snake.id));
            }
        }
        // Every living snake moves; heads are decided before anyone is judged.
        let mut heads: Vec<Option<Cell>> = Vec::new();
        for player in &mut self.players {
            if !player.snake.alive {
                heads.push(None);
                continue;
            }
            if let Some(turn) = player.turn.take()
                && turn != player.heading.opposite()
            {
                player.heading = turn;
            }
            let next = player.heading.step(player.snake.body[0]);
            if player.growing > 0 {
                player.growing -= 1;
            } else {
                player.snake.body.pop();
            }
            heads.push(next);
        }
        // Judge: off the edge, into any body, or head to head.
        let mut dead = vec![false; self.players.len()];
        for (i, head) in heads.iter().enumerate() {
            if !self.players[i].snake.alive {
                continue;
            }
            dead[i] = match head {
                None => true,
                Some(cell) => {
                    self.players
                        .iter()
                        .any(|p| p.snake.alive && p.snake.body.contains(cell))
                        || heads
                            .iter()
                            .enumerate()
                            .any(|(j, other)| j != i && other.as_ref() == Some(cell))
                }
            };
        }
        for (i, head) in heads.into_iter().enumerate() {
            let player = &mut self.players[i];
            if !player.snake.alive {
                continue;
            }
            if dead[i] {
                player.snake.alive = false;
                player.respawn_at = self.tick + RESPAWN_TICKS;
                happenings.push((Happening::Died, player.snake.id));
                // What was left of it becomes food.
                let remains: Vec<Cell> = player.snake.body.iter().step_by(3).copied().collect();
                self.food.extend(remains);
                continue;
            }
            let head = head.expect("a living snake that did not die has a head");
            player.snake.body.insert(0, head);
            if let Some(at) = self.food.iter().position(|f| *f == head) {
                self.food.swap_remove(at);
                player.growing += 1;
                player.snake.score += 1;
                happenings.push((Happening::Ate, player.snake.id));
                if player.snake.score > self.best {
                    self.best = player.snake.score;
                    let _ = kv::set(Scope::App, BEST_KEY, self.best.to_string().into_bytes());
                }
            }
        }
        self.place_food();
        happenings
    }

    fn state(&self, happenings: Vec<(Happening, u64)>) -> State {
        State {
            tick: self.tick,
            best: self.best,
            food: self.food.clone(),
            snakes: self.players.iter().map(|p| p.snake.clone()).collect(),
            happenings,
        }
    }

    /// Sets the timer for the next tick, at its place on the clock.
    fn schedule(&self) {
        let Some(started) = self.started else { return };
        let due = started + Duration::from_millis(u64::from(TICK_MS) * u64::from(self.tick + 1));
        timers::set(due.saturating_duration_since(Instant::now()), "tick");
    }
}

impl Room for Arena {
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        if self.players.len() >= MAX_SNAKES {
            return Err(format!("the arena is full ({MAX_SNAKES} snakes)"));
        }
        if self.started.is_none() {
            self.best = kv::get(Scope::App, BEST_KEY)
                .ok()
                .flatten()
                .and_then(|v| String::from_utf8(v).ok()?.parse().ok())
                .unwrap_or(0);
        }
        let used: Vec<u8> = self.players.iter().map(|p| p.snake.colour).collect();
        let colour = (0..MAX_SNAKES as u8)
            .find(|c| !used.contains(c))
            .unwrap_or(0);
        self.players.push(Player {
            snake: Snake {
                id: member.id,
                name: member.name.clone(),
                colour,
                alive: false,
                score: 0,
                body: Vec::new(),
            },
            heading: Dir::Right,
            turn: None,
            growing: 0,
            respawn_at: self.tick + 1,
        });
        members::send(member.id, &welcome(member.id).into());
        log::info(&format!("{} joined the arena", member.name));
        if self.started.is_none() {
            self.started = Some(Instant::now());
            self.tick = 0;
            self.place_food();
            self.schedule();
        }
        Ok(())
    }

    fn on_message(&mut self, from: MemberId, message: Message) {
        if let Some(turn) = Dir::from_message(message.as_bytes())
            && let Some(player) = self.players.iter_mut().find(|p| p.snake.id == from)
        {
            player.turn = Some(turn);
        }
    }

    fn on_leave(&mut self, member: &Member) {
        self.players.retain(|p| p.snake.id != member.id);
        if self.players.is_empty() {
            // Nobody is watching: stop ticking until someone joins.
            self.started = None;
            self.food.clear();
        }
    }

    fn on_timer(&mut self, tag: &str) {
        if tag != "tick" || self.started.is_none() {
            return;
        }
        let happenings = self.step();
        members::broadcast(&self.state(happenings).encode().into());
        self.schedule();
    }
}

lodge_sdk::export_room!(Arena);
