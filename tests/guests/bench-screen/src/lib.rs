//! The client of `tests/browser/bench-canvas.mjs`: every frame it redraws
//! the whole 320×180 RGBA screen (a moving gradient) and presents it. The
//! room name says how long to stay busy first ("busy-12": 12 ms of work per
//! frame). After `SECONDS` it logs the frames it drew and their intervals.

wit_bindgen::generate!({
    path: ["../../../wit", "../../../wit/v0.2"],
    world: "lodge:app/client@0.2.0",
    generate_all,
});

use exports::lodge::app0_2_0::client_events::{Event, Guest};
use lodge::app0_1_0::log;
use lodge::app0_2_0::screen::{self, Mode, PixelFormat};
use std::cell::RefCell;

const WIDTH: usize = 320;
const HEIGHT: usize = 180;
const SECONDS: f64 = 10.0;

#[derive(Default)]
struct Bench {
    pixels: Vec<u8>,
    busy_ms: f64,
    started: Option<f64>,
    last: Option<f64>,
    intervals: Vec<f64>,
    dropped: u32,
    done: bool,
}

thread_local! {
    static BENCH: RefCell<Bench> = RefCell::new(Bench::default());
}

/// Works (spins) for `ms` milliseconds, as a busy game would.
fn busy(ms: f64) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(ms / 1000.0);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}

struct Client;

impl Guest for Client {
    fn handle(event: Event) {
        BENCH.with_borrow_mut(|b| match event {
            Event::Init(init) => {
                let room = init.room.unwrap_or_default();
                b.busy_ms = room
                    .split('-')
                    .find_map(|part| part.parse::<f64>().ok())
                    .unwrap_or(0.0);
                b.pixels = vec![0; WIDTH * HEIGHT * 4];
                let mode = Mode {
                    width: WIDTH as u16,
                    height: HEIGHT as u16,
                    format: PixelFormat::Rgba8,
                };
                screen::set_mode(mode).expect("320×180 is a valid mode");
            }
            Event::Frame(frame) if !b.done => {
                busy(b.busy_ms);
                let t = (frame.time_ms / 16.0) as usize;
                for (i, px) in b.pixels.chunks_exact_mut(4).enumerate() {
                    let (x, y) = (i % WIDTH, i / WIDTH);
                    px[0] = (x + t) as u8;
                    px[1] = (y + t) as u8;
                    px[2] = (x ^ y) as u8;
                    px[3] = 255;
                }
                screen::present(&b.pixels, None).expect("a full frame");
                let started = *b.started.get_or_insert(frame.time_ms);
                if let Some(last) = b.last {
                    b.intervals.push(frame.time_ms - last);
                }
                b.last = Some(frame.time_ms);
                b.dropped += frame.frames.saturating_sub(1);
                if frame.time_ms - started >= SECONDS * 1000.0 {
                    b.done = true;
                    let mut sorted = b.intervals.clone();
                    sorted.sort_by(f64::total_cmp);
                    let p95 = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
                    let elapsed = (frame.time_ms - started) / 1000.0;
                    log::write(
                        log::Level::Info,
                        &format!(
                            "bench: frames={} fps={:.1} p95={:.1}ms dropped={}",
                            b.intervals.len() + 1,
                            b.intervals.len() as f64 / elapsed,
                            p95,
                            b.dropped
                        ),
                    );
                }
            }
            _ => {}
        });
    }
}

export!(Client);
