//! A `lodge:app@0.2.0` screen client for the browser tests, built on raw
//! wit-bindgen against `wit/` and `wit/v0.2`. It draws test patterns the
//! test reads back from the canvas, busy-waits when asked, and logs what
//! the tests check (frame statistics, input snapshots, errors) as log lines.
//!
//! Keys (by DOM code): Digit1 an RGBA pattern at 320×180; Digit2 an indexed
//! pattern at 160×90 with palette entries 16–31 set; Digit3 fills the buffer
//! red but presents only the rectangle (10, 20, 30×40); Digit4 busy-waits
//! 8 ms in every frame from then on; Digit6 tries what the screen refuses.

wit_bindgen::generate!({
    path: ["../../../wit", "../../../wit/v0.2"],
    world: "lodge:app/client@0.2.0",
    generate_all,
});

use exports::lodge::app0_2_0::client_events::{Event, Frame, Guest};
use lodge::app0_1_0::log::{Level, write as log};
use lodge::app0_2_0::input::Snapshot;
use lodge::app0_2_0::screen::{self, Mode, PixelFormat, Rect};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// How long each frame busy-waits once Digit4 was pressed.
const BUSY: Duration = Duration::from_millis(8);
/// Frame events per `stats` line.
const STATS_EVERY: u32 = 60;

#[derive(Default)]
struct State {
    busy: bool,
    events: u32,
    frames: u32,
    total_ms: f64,
    max_ms: f64,
    last_input: String,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

struct Probe;

/// The RGBA pattern: red from x, green from y, blue from both.
fn rgba_pattern(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[x as u8, y as u8, (x ^ y) as u8, 255]);
        }
    }
    pixels
}

/// Palette entries 16–31: red rising, green falling, a little blue.
fn custom_colours() -> Vec<u32> {
    (16..32u32)
        .map(|i| ((i * 8) << 16) | ((255 - i * 8) << 8) | (0x40 + i))
        .collect()
}

fn show_rgba() {
    screen::set_mode(Mode {
        width: 320,
        height: 180,
        format: PixelFormat::Rgba8,
    })
    .expect("320×180 is allowed");
    screen::present(&rgba_pattern(320, 180), None).expect("a whole frame");
    log(Level::Info, "drew rgba");
}

fn show_indexed() {
    screen::set_mode(Mode {
        width: 160,
        height: 90,
        format: PixelFormat::Indexed8,
    })
    .expect("160×90 is allowed");
    screen::set_palette(16, &custom_colours());
    let mut pixels = Vec::with_capacity(160 * 90);
    for y in 0..90u32 {
        for x in 0..160u32 {
            pixels.push(((x / 4 + (y / 4) * 3) % 32) as u8);
        }
    }
    screen::present(&pixels, None).expect("a whole frame");
    log(Level::Info, "drew indexed");
}

fn show_dirty() {
    let mode = screen::get_mode();
    let red: Vec<u8> = [255u8, 0, 0, 255].repeat(mode.width as usize * mode.height as usize);
    let rect = Rect {
        x: 10,
        y: 20,
        width: 30,
        height: 40,
    };
    screen::present(&red, Some(rect)).expect("a dirty rectangle");
    log(Level::Info, "drew dirty");
}

fn try_refused() {
    let short = screen::present(&[0, 0, 0], None);
    log(Level::Info, &format!("short present: {short:?}"));
    let outside = screen::present(
        &rgba_pattern(320, 180),
        Some(Rect {
            x: 300,
            y: 0,
            width: 30,
            height: 10,
        }),
    );
    log(Level::Info, &format!("outside rect: {outside:?}"));
    let empty = screen::set_mode(Mode {
        width: 0,
        height: 180,
        format: PixelFormat::Rgba8,
    });
    log(Level::Info, &format!("zero mode: {empty:?}"));
    let large = screen::set_mode(Mode {
        width: 1281,
        height: 720,
        format: PixelFormat::Indexed8,
    });
    log(Level::Info, &format!("large mode: {large:?}"));
}

fn describe(input: &Snapshot) -> String {
    let pads: Vec<String> = input
        .gamepads
        .iter()
        .map(|p| {
            if !p.connected {
                return "-".into();
            }
            format!(
                "{:#x}/{:.2},{:.2}/{:.2},{:.2}/{:.2},{:.2}",
                p.buttons,
                p.left_stick.0,
                p.left_stick.1,
                p.right_stick.0,
                p.right_stick.1,
                p.triggers.0,
                p.triggers.1
            )
        })
        .collect();
    let p = &input.pointer;
    format!(
        "input pads=[{}] keys=[{}] pointer={},{},{},{}",
        pads.join(" "),
        input.keys.join(","),
        p.x,
        p.y,
        p.buttons,
        p.inside
    )
}

fn on_frame(frame: Frame) {
    STATE.with_borrow_mut(|s| {
        if s.busy {
            let start = Instant::now();
            while start.elapsed() < BUSY {
                std::hint::spin_loop();
            }
        }
        s.events += 1;
        s.frames += frame.frames;
        s.total_ms += frame.delta_ms;
        s.max_ms = s.max_ms.max(frame.delta_ms);
        if s.events == STATS_EVERY {
            log(
                Level::Info,
                &format!(
                    "stats events={} frames={} ms={:.1} max={:.1} busy={}",
                    s.events, s.frames, s.total_ms, s.max_ms, s.busy
                ),
            );
            s.events = 0;
            s.frames = 0;
            s.total_ms = 0.0;
            s.max_ms = 0.0;
        }
        let input = describe(&frame.input);
        if input != s.last_input {
            log(Level::Info, &input);
            s.last_input = input;
        }
    });
}

impl Guest for Probe {
    fn handle(event: Event) {
        match event {
            Event::Init(init) => {
                show_rgba();
                log(Level::Info, &format!("ready: {}", init.name));
            }
            Event::KeyDown(key) => {
                log(
                    Level::Info,
                    &format!("key-down {} {} repeat={}", key.code, key.key, key.repeat),
                );
                match key.code.as_str() {
                    "Digit1" => show_rgba(),
                    "Digit2" => show_indexed(),
                    "Digit3" => show_dirty(),
                    "Digit4" => STATE.with_borrow_mut(|s| s.busy = true),
                    "Digit6" => try_refused(),
                    _ => {}
                }
            }
            Event::KeyUp(key) => log(Level::Info, &format!("key-up {}", key.code)),
            Event::Pointer(p) => log(
                Level::Info,
                &format!("pointer {:?} {},{} button={}", p.kind, p.x, p.y, p.button),
            ),
            Event::Frame(frame) => on_frame(frame),
            _ => {}
        }
    }
}

export!(Probe);
