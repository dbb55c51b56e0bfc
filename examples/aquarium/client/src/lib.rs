//! An aquarium to look at and feed, all in the browser: fish from a sprite
//! sheet swim, turn (flipped sprites) and wiggle their tails, bubbles rise,
//! seaweed sways, and music loops, every picture and sound a bundled asset
//! (`assets/`, made by `assets/make-assets.py`). Click, or move the cursor
//! with a gamepad or the arrow keys and press A or Space, to drop food:
//! the nearest fish comes to eat it, with a "blub" from where it ate.

use lodge_client::audio::Sample;
use lodge_client::input::Button;
use lodge_client::screen::{Flip, Framebuffer, Rect, Sprite, colours, rgb};
use lodge_client::{Client, Frame, Init, assets, log};

const WIDTH: i32 = 320;
const HEIGHT: i32 = 180;
const SAND: i32 = HEIGHT - 14;
const SHEET: &str = "assets/sprites.png";
const MUSIC: &str = "assets/music.ogg";
const BLUB: &str = "assets/blub.wav";
const FISH_W: i32 = 16;
const FISH_H: i32 = 8;

struct Fish {
    x: f32,
    y: f32,
    /// Pixels a second; negative swims left.
    speed: f32,
    colour: i32,
    phase: f32,
}

struct Thing {
    x: f32,
    y: f32,
}

struct Aquarium {
    screen: Framebuffer,
    sheet: Option<Sprite>,
    problem: Option<String>,
    fish: Vec<Fish>,
    bubbles: Vec<Thing>,
    food: Vec<Thing>,
    cursor: (f32, f32),
    eaten: u32,
    seed: u32,
}

impl Default for Aquarium {
    fn default() -> Self {
        Aquarium {
            screen: Framebuffer::rgba(WIDTH as u16, HEIGHT as u16),
            sheet: None,
            problem: None,
            fish: Vec::new(),
            bubbles: Vec::new(),
            food: Vec::new(),
            cursor: (WIDTH as f32 / 2.0, 40.0),
            eaten: 0,
            seed: 0x9e37_79b9,
        }
    }
}

impl Aquarium {
    /// A pseudo-random number in 0.0..1.0 (xorshift).
    fn random(&mut self) -> f32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        (self.seed % 10_000) as f32 / 10_000.0
    }

    fn drop_food(&mut self, x: f32, y: f32) {
        if self.food.len() < 12 && y < SAND as f32 {
            self.food.push(Thing { x, y });
        }
    }

    fn update(&mut self, frame: &Frame) {
        let dt = frame.delta_secs().min(0.1);
        let t = (frame.time_ms / 1000.0) as f32;
        // Fish: swim, turn at the glass, or head for the nearest food.
        let food = &mut self.food;
        let mut ate = Vec::new();
        for fish in &mut self.fish {
            let centre = fish.x + FISH_W as f32 / 2.0;
            let nearest = food
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| {
                    let d = |f: &Thing| (f.x - centre).abs() + (f.y - fish.y).abs();
                    d(a).total_cmp(&d(b))
                })
                .map(|(i, f)| (i, f.x, f.y));
            match nearest {
                Some((i, fx, fy)) => {
                    let speed = fish.speed.abs().max(30.0);
                    fish.speed = if fx < centre { -speed } else { speed };
                    fish.y += (fy - fish.y - FISH_H as f32 / 2.0).clamp(-40.0 * dt, 40.0 * dt);
                    if (fx - centre).abs() < 6.0 && (fy - fish.y - 4.0).abs() < 6.0 {
                        ate.push(i);
                    }
                }
                None => fish.y += (t * 1.5 + fish.phase).sin() * 6.0 * dt,
            }
            fish.x += fish.speed * dt;
            if fish.x < 0.0 || fish.x > (WIDTH - FISH_W) as f32 {
                fish.x = fish.x.clamp(0.0, (WIDTH - FISH_W) as f32);
                fish.speed = -fish.speed;
            }
            fish.y = fish.y.clamp(16.0, (SAND - FISH_H) as f32);
        }
        ate.sort_unstable();
        ate.dedup();
        for i in ate.into_iter().rev() {
            let flake = self.food.swap_remove(i);
            self.eaten += 1;
            let pan = flake.x / WIDTH as f32 * 2.0 - 1.0;
            Sample::new(BLUB)
                .pan(pan)
                .rate(0.9 + self.random() * 0.3)
                .play(1 + (self.eaten % 3) as u8);
        }
        // Food sinks to the sand; bubbles rise and pop at the top.
        for flake in &mut self.food {
            flake.y = (flake.y + 12.0 * dt).min(SAND as f32 - 2.0);
        }
        for bubble in &mut self.bubbles {
            bubble.y -= 25.0 * dt;
            bubble.x += (bubble.y / 9.0).sin() * 0.3;
        }
        self.bubbles.retain(|b| b.y > 4.0);
        if self.random() < dt * 3.0 {
            let x = 20.0 + self.random() * (WIDTH - 40) as f32;
            self.bubbles.push(Thing { x, y: SAND as f32 });
        }
        // Input: the pointer, or a cursor moved with the pad or the keys.
        let (dx, dy) = frame.input.pad(0).direction();
        let keys = |a: &str, b: &str| i32::from(frame.key_held(b)) - i32::from(frame.key_held(a));
        let (kx, ky) = (
            keys("ArrowLeft", "ArrowRight"),
            keys("ArrowUp", "ArrowDown"),
        );
        self.cursor.0 =
            (self.cursor.0 + (dx + kx).signum() as f32 * 90.0 * dt).clamp(0.0, WIDTH as f32 - 1.0);
        self.cursor.1 =
            (self.cursor.1 + (dy + ky).signum() as f32 * 90.0 * dt).clamp(0.0, HEIGHT as f32 - 1.0);
        if frame.pressed(0, Button::A) || frame.key_pressed("Space") {
            self.drop_food(self.cursor.0, self.cursor.1);
        }
        let pointer = frame.input.pointer;
        if frame.pointer_pressed(0) && pointer.inside {
            self.drop_food(pointer.x as f32, pointer.y as f32);
        }
    }

    fn draw(&mut self, time_ms: f64) {
        // Water, darker with depth, and the sand.
        for y in 0..SAND {
            let depth = y * 60 / SAND;
            self.screen.fill_rect(
                0,
                y,
                WIDTH,
                1,
                rgb(20, (110 - depth) as u8, (170 - depth) as u8),
            );
        }
        self.screen
            .fill_rect(0, SAND, WIDTH, HEIGHT - SAND, rgb(194, 170, 110));
        let Some(sheet) = self.sheet.as_ref() else {
            let problem = self.problem.clone().unwrap_or_default();
            self.screen.text(4, 4, &problem, colours::WHITE);
            return;
        };
        let sway = (time_ms / 700.0) as i32 % 2 == 0;
        for (i, x) in [18, 60, 150, 232, 290].into_iter().enumerate() {
            let flip = if sway ^ (i % 2 == 0) {
                Flip::HORIZONTAL
            } else {
                Flip::NONE
            };
            self.screen
                .sprite_part(sheet, Rect::new(48, 0, 8, 16), x, SAND - 14, flip);
        }
        for bubble in &self.bubbles {
            self.screen.sprite_part(
                sheet,
                Rect::new(32, 0, 4, 4),
                bubble.x as i32,
                bubble.y as i32,
                Flip::NONE,
            );
        }
        for flake in &self.food {
            self.screen.sprite_part(
                sheet,
                Rect::new(40, 0, 2, 2),
                flake.x as i32,
                flake.y as i32,
                Flip::NONE,
            );
        }
        let tail = ((time_ms / 180.0) as i32) % 2;
        for fish in &self.fish {
            let source = Rect::new(tail * FISH_W, fish.colour * FISH_H, FISH_W, FISH_H);
            // The sheet's fish face right; one swimming left is flipped.
            let flip = if fish.speed < 0.0 {
                Flip::HORIZONTAL
            } else {
                Flip::NONE
            };
            self.screen
                .sprite_part(sheet, source, fish.x as i32, fish.y as i32, flip);
        }
        let (cx, cy) = (self.cursor.0 as i32, self.cursor.1 as i32);
        self.screen.line(cx - 3, cy, cx + 3, cy, colours::WHITE);
        self.screen.line(cx, cy - 3, cx, cy + 3, colours::WHITE);
        self.screen
            .text(4, 4, "click or press A to feed", colours::WHITE);
        self.screen.text(
            4,
            13,
            &format!("flakes eaten: {}", self.eaten),
            colours::YELLOW,
        );
    }
}

impl Client for Aquarium {
    fn on_init(&mut self, _init: &Init) {
        match assets::sprite(SHEET) {
            Ok(sheet) => self.sheet = Some(sheet),
            Err(e) => {
                log::error(&format!("no sprites: {e}"));
                self.problem = Some(e.to_string());
            }
        }
        for i in 0..6 {
            let x = self.random() * (WIDTH - FISH_W) as f32;
            let y = 30.0 + self.random() * 110.0;
            let speed = (20.0 + self.random() * 25.0) * if i % 2 == 0 { 1.0 } else { -1.0 };
            let phase = self.random() * 6.0;
            self.fish.push(Fish {
                x,
                y,
                speed,
                colour: i % 3,
                phase,
            });
        }
        Sample::new(MUSIC).volume(0.5).looping().play(0);
    }

    fn on_frame(&mut self, frame: &Frame) {
        self.update(frame);
        self.draw(frame.time_ms);
        self.screen.present().expect("320×180 fits the screen");
    }
}

lodge_client::export_client!(Aquarium);
