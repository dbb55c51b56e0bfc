//! The snake arena's client: draws the arena the room sends after every
//! tick, moving each snake smoothly from where it was at the previous tick
//! to where it is now (the room ticks ten times a second, the screen sixty),
//! sends the player's turns (d-pad, left stick, arrows or WASD) and plays a
//! sound for what happened.

use lodge_client::audio::{Note, effects};
use lodge_client::input::Button;
use lodge_client::screen::{Framebuffer, colours, rgb};
use lodge_client::{Client, Frame, Message, server};
use snake_protocol::{Dir, FromRoom, HEIGHT, Happening, Snake, State, TICK_MS, WIDTH};

/// Pixels per cell: the arena fills the 320×180 screen.
const CELL: i32 = 5;
const BACKGROUND: u32 = rgb(16, 20, 32);
const GRID: u32 = rgb(24, 30, 46);
const FOOD: u32 = rgb(250, 90, 90);
const SNAKE_COLOURS: [u32; 8] = [
    rgb(90, 220, 110),
    rgb(90, 170, 255),
    rgb(250, 200, 70),
    rgb(230, 110, 230),
    rgb(255, 140, 60),
    rgb(90, 230, 220),
    rgb(200, 200, 200),
    rgb(170, 130, 255),
];

struct Arena {
    screen: Framebuffer,
    me: Option<u64>,
    previous: Option<State>,
    current: Option<State>,
    /// The frame time at which `current` arrived.
    arrived_ms: f64,
    now_ms: f64,
    /// The last turn sent, so a held direction is sent once.
    sent: Option<Dir>,
    connected: bool,
}

impl Default for Arena {
    fn default() -> Self {
        Arena {
            screen: Framebuffer::rgba(WIDTH as u16 * CELL as u16, HEIGHT as u16 * CELL as u16),
            me: None,
            previous: None,
            current: None,
            arrived_ms: 0.0,
            now_ms: 0.0,
            sent: None,
            connected: false,
        }
    }
}

/// The turn the player asks for this frame, if any: a new press wins over
/// a direction held from before.
fn wanted(frame: &Frame) -> Option<Dir> {
    let pressed = [
        (Button::Up, "ArrowUp", "KeyW", Dir::Up),
        (Button::Down, "ArrowDown", "KeyS", Dir::Down),
        (Button::Left, "ArrowLeft", "KeyA", Dir::Left),
        (Button::Right, "ArrowRight", "KeyD", Dir::Right),
    ];
    for (button, arrow, letter, dir) in pressed {
        if frame.pressed(0, button) || frame.key_pressed(arrow) || frame.key_pressed(letter) {
            return Some(dir);
        }
    }
    match frame.input.pad(0).direction() {
        (0, -1) => Some(Dir::Up),
        (0, 1) => Some(Dir::Down),
        (-1, 0) => Some(Dir::Left),
        (1, 0) => Some(Dir::Right),
        _ => None,
    }
}

fn lerp(a: (u8, u8), b: (u8, u8), t: f32) -> (i32, i32) {
    let at =
        |from: u8, to: u8| (f32::from(from) + (f32::from(to) - f32::from(from)) * t) * CELL as f32;
    (at(a.0, b.0) as i32, at(a.1, b.1) as i32)
}

impl Arena {
    fn play_sounds(&self, state: &State) {
        for (what, who) in &state.happenings {
            let mine = Some(*who) == self.me;
            let note = match (what, mine) {
                (Happening::Ate, true) => effects::coin(),
                (Happening::Died, true) => effects::explosion(),
                (Happening::Spawned, true) => effects::jump(),
                (Happening::Ate, false) => effects::blip().volume(0.1),
                (Happening::Died, false) => effects::hurt().volume(0.15),
                (Happening::Spawned, false) => continue,
            };
            // Voice 0 for the player's own sounds, 1-3 for everyone else's.
            note.play(if mine { 0 } else { 1 + (*who % 3) as u8 });
        }
    }

    fn draw_snake(&mut self, snake: &Snake, before: Option<&Snake>, t: f32) {
        let colour = SNAKE_COLOURS[usize::from(snake.colour) % SNAKE_COLOURS.len()];
        let moving = before.filter(|b| b.alive && !b.body.is_empty());
        for (i, cell) in snake.body.iter().enumerate().rev() {
            let from = moving.map_or(*cell, |b| *b.body.get(i).unwrap_or(b.body.last().unwrap()));
            let (x, y) = lerp(from, *cell, t);
            let shade = if i == 0 { colours::WHITE } else { colour };
            self.screen.fill_rect(x, y, CELL, CELL, colour);
            if i == 0 {
                // The head: a lighter centre, and the player's own marked.
                self.screen
                    .fill_rect(x + 1, y + 1, CELL - 2, CELL - 2, shade);
                if Some(snake.id) == self.me {
                    self.screen
                        .rect(x - 1, y - 1, CELL + 2, CELL + 2, colours::WHITE);
                }
            }
        }
    }

    fn draw(&mut self) {
        self.screen.clear(BACKGROUND);
        for x in (0..WIDTH as i32).step_by(4) {
            for y in (0..HEIGHT as i32).step_by(4) {
                self.screen.set_pixel(x * CELL + 2, y * CELL + 2, GRID);
            }
        }
        let Some(state) = self.current.clone() else {
            let text = if self.connected {
                "waiting for the arena..."
            } else {
                "connecting..."
            };
            self.screen.text_centered(84, text, colours::WHITE, 1);
            return;
        };
        let previous = self.previous.clone();
        let t = ((self.now_ms - self.arrived_ms) / f64::from(TICK_MS)).clamp(0.0, 1.0) as f32;
        let pulse = ((self.now_ms / 150.0).sin() * 0.5 + 0.5) as i32;
        for (x, y) in &state.food {
            let (cx, cy) = (i32::from(*x) * CELL + 2, i32::from(*y) * CELL + 2);
            self.screen.fill_circle(cx, cy, 1 + pulse, FOOD);
        }
        for snake in state.snakes.iter().filter(|s| s.alive) {
            let before = previous
                .as_ref()
                .and_then(|p| p.snakes.iter().find(|s| s.id == snake.id));
            self.draw_snake(snake, before, t);
        }
        // The scores, best first, in each snake's colour.
        let mut ranked: Vec<&Snake> = state.snakes.iter().collect();
        ranked.sort_by_key(|s| std::cmp::Reverse(s.score));
        for (row, snake) in ranked.iter().enumerate() {
            let colour = SNAKE_COLOURS[usize::from(snake.colour) % SNAKE_COLOURS.len()];
            let mark = if Some(snake.id) == self.me { ">" } else { " " };
            let name: String = snake.name.chars().take(10).collect();
            let line = format!("{mark}{name:<10} {:>3}", snake.score);
            self.screen.text(230, 2 + row as i32 * 8, &line, colour);
        }
        self.screen
            .text(2, 2, &format!("best {}", state.best), colours::GREY);
        let me = state.snakes.iter().find(|s| Some(s.id) == self.me);
        if me.is_some_and(|s| !s.alive) {
            self.screen
                .text_centered(84, "you crashed - back in a moment", colours::WHITE, 1);
        }
    }
}

impl Client for Arena {
    fn on_connected(&mut self) {
        self.connected = true;
    }

    fn on_disconnected(&mut self, _reason: &str) {
        self.connected = false;
        self.current = None;
        self.previous = None;
    }

    fn on_message(&mut self, message: Message) {
        match FromRoom::decode(message.as_bytes()) {
            Some(FromRoom::Welcome(id)) => self.me = Some(id),
            Some(FromRoom::State(state)) => {
                self.play_sounds(&state);
                // A snake comes back heading right with no turn pending:
                // the next direction pressed must be sent again.
                let respawned = state
                    .happenings
                    .iter()
                    .any(|(what, who)| *what == Happening::Spawned && Some(*who) == self.me);
                if respawned {
                    self.sent = None;
                }
                self.previous = self.current.replace(state);
                self.arrived_ms = self.now_ms;
            }
            None => {}
        }
    }

    fn on_frame(&mut self, frame: &Frame) {
        self.now_ms = frame.time_ms;
        if let Some(dir) = wanted(frame)
            && Some(dir) != self.sent
        {
            server::send(&Message::from(vec![dir.byte()]));
            self.sent = Some(dir);
        }
        if frame.pressed(0, Button::Start) {
            Note::square(660.0).duration(40).volume(0.2).play(0);
        }
        self.draw();
        self.screen.present().expect("the arena fits the screen");
    }
}

lodge_client::export_client!(Arena);
