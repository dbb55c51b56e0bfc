//! Catch the falling stars: move the basket with the d-pad, the left stick
//! or the arrow keys. A caught star scores a point; three missed end the
//! game, and A (or Enter) starts a new one.
use lodge_client::audio::{Note, effects, pitch};
use lodge_client::input::Button;
use lodge_client::screen::{Flip, Framebuffer, Rect, Sprite, colours};
use lodge_client::{Client, Frame};

const WIDTH: i32 = 160;
const HEIGHT: i32 = 120;
const BASKET_Y: i32 = HEIGHT - 14;
const LIVES: u32 = 3;

struct Star {
    x: f32,
    y: f32,
    speed: f32,
}

struct Game {
    screen: Framebuffer,
    star: Sprite,
    basket: Sprite,
    basket_x: f32,
    facing_left: bool,
    stars: Vec<Star>,
    next_star_ms: f64,
    score: u32,
    missed: u32,
    seed: u32,
}

impl Default for Game {
    fn default() -> Self {
        let star = Sprite::from_art(
            &[
                "...#...", "..###..", "#######", ".#####.", "..###..", ".##.##.", "##...##",
            ],
            &[('#', colours::YELLOW)],
        );
        let basket = Sprite::from_art(
            &[
                "o..............o",
                "oo............oo",
                "ohhhhhhhhhhhhhho",
                ".oooooooooooooo.",
                ".ohhhhhhhhhhhho.",
                "..oooooooooooo..",
                "...o........o...",
            ],
            &[('o', colours::ORANGE), ('h', 0x8a4b12)],
        );
        Game {
            screen: Framebuffer::rgba(WIDTH as u16, HEIGHT as u16),
            star,
            basket,
            basket_x: (WIDTH / 2 - 8) as f32,
            facing_left: false,
            stars: Vec::new(),
            next_star_ms: 500.0,
            score: 0,
            missed: 0,
            seed: 2463534242,
        }
    }
}

impl Game {
    /// A pseudo-random number from 0 to `below - 1` (xorshift).
    fn random(&mut self, below: u32) -> u32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        self.seed % below
    }

    fn restart(&mut self, now_ms: f64) {
        self.stars.clear();
        self.score = 0;
        self.missed = 0;
        self.next_star_ms = now_ms + 500.0;
        Note::square(pitch("C5").unwrap()).duration(80).play(2);
    }

    fn update(&mut self, frame: &Frame) {
        // The arrow keys, or pad 1 (which the page also drives from the keyboard).
        let keys = frame.key_held("ArrowRight") as i32 - frame.key_held("ArrowLeft") as i32;
        let dx = if keys != 0 {
            keys
        } else {
            frame.input.pad(0).direction().0
        };
        if dx != 0 {
            self.facing_left = dx < 0;
        }
        let step = dx as f32 * 100.0 * frame.delta_secs();
        self.basket_x = (self.basket_x + step).clamp(0.0, (WIDTH - 16) as f32);

        if frame.time_ms >= self.next_star_ms {
            let x = self.random(WIDTH as u32 - 7) as f32;
            let speed = 25.0 + self.random(40) as f32 + self.score as f32;
            self.stars.push(Star { x, y: -7.0, speed });
            self.next_star_ms = frame.time_ms + 600.0 + self.random(600) as f64;
        }

        let catch = Rect::new(self.basket_x as i32, BASKET_Y, 16, 4);
        let (mut caught, mut missed) = (0, 0);
        self.stars.retain_mut(|star| {
            star.y += star.speed * frame.delta_secs();
            let hitbox = Rect::new(star.x as i32, star.y as i32, 7, 7);
            if hitbox.overlaps(&catch) {
                caught += 1;
                false
            } else if star.y as i32 >= HEIGHT {
                missed += 1;
                false
            } else {
                true
            }
        });
        if caught > 0 {
            self.score += caught;
            effects::coin().play(0);
        }
        if missed > 0 {
            self.missed = (self.missed + missed).min(LIVES);
            effects::hurt().play(1);
            if self.missed == LIVES {
                Note::triangle(pitch("C3").unwrap()).duration(600).play(2);
            }
        }
    }

    fn draw(&mut self, frame: &Frame) {
        let fb = &mut self.screen;
        fb.clear(colours::NAVY);
        for i in 0..24 {
            // A fixed sky of twinkling dots.
            let (x, y) = ((i * 53) % WIDTH, (i * 31) % (HEIGHT - 20));
            let on = (frame.time_ms / 400.0) as i32 % 5 != i % 5;
            fb.set_pixel(x, y, if on { colours::GREY } else { colours::WHITE });
        }
        fb.fill_rect(0, HEIGHT - 6, WIDTH, 6, colours::GREEN);
        for star in &self.stars {
            fb.sprite(&self.star, star.x as i32, star.y as i32, Flip::NONE);
        }
        let flip = if self.facing_left {
            Flip::HORIZONTAL
        } else {
            Flip::NONE
        };
        fb.sprite(&self.basket, self.basket_x as i32, BASKET_Y, flip);
        fb.text(2, 2, &format!("SCORE {}", self.score), colours::WHITE);
        for life in 0..LIVES - self.missed {
            fb.fill_circle(WIDTH - 6 - life as i32 * 8, 5, 2, colours::RED);
        }
        if self.missed == LIVES {
            fb.fill_rect(20, 40, WIDTH - 40, 34, colours::BLACK);
            fb.rect(20, 40, WIDTH - 40, 34, colours::YELLOW);
            fb.text_centered(46, "GAME OVER", colours::YELLOW, 2);
            fb.text_centered(64, "A or Enter: again", colours::WHITE, 1);
        }
    }
}

impl Client for Game {
    fn on_frame(&mut self, frame: &Frame) {
        if self.missed < LIVES {
            self.update(frame);
        } else if frame.pressed(0, Button::A) || frame.key_pressed("Enter") {
            self.restart(frame.time_ms);
        }
        self.draw(frame);
        self.screen.present().expect("160×120 fits the screen");
    }
}

lodge_client::export_client!(Game);
