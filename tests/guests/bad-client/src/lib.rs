//! A client part that misbehaves on request, for the browser tests: "p"
//! panics (a trap), "l" loops for ever, "e" writes to stderr and stdout,
//! "t" turns frame ticks on and counts them, and any other key is echoed
//! so the test can tell it still runs. Resizes are shown on row 2.

use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Size, frames};

#[derive(Default)]
struct Bad {
    keys: u32,
    ticks: u32,
}

impl Client for Bad {
    fn on_init(&mut self, init: &Init) {
        terminal::clear(Rgb::BLACK);
        let room = init.room.as_deref().unwrap_or("no room");
        let line = format!("ready: {} ({room})", init.name);
        terminal::write(0, 0, &line, Rgb::WHITE, Rgb::BLACK);
    }

    fn on_key(&mut self, key: &Key) {
        match key.key.as_str() {
            "p" => panic!("asked to panic"),
            "l" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "t" => frames::request_ticks(true),
            "T" => frames::request_ticks(false),
            "e" => {
                eprintln!("to stderr");
                println!("to stdout");
                lodge_client::log::warn("to the log");
            }
            other => {
                self.keys += 1;
                let line = format!("key {}: {other}", self.keys);
                terminal::write(0, 1, &line, Rgb::GREEN, Rgb::BLACK);
            }
        }
    }

    fn on_tick(&mut self, _now_ms: f64) {
        self.ticks += 1;
        let line = format!("ticks: {}", self.ticks);
        terminal::write(0, 3, &line, Rgb::WHITE, Rgb::BLACK);
    }

    fn on_resize(&mut self, size: Size) {
        let line = format!("size: {}x{}", size.cols, size.rows);
        terminal::write(0, 2, &line, Rgb::WHITE, Rgb::BLACK);
    }
}

lodge_client::export_client!(Bad);
