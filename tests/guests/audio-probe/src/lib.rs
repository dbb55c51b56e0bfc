//! Plays a chord on all 8 voices (every waveform, a pitch slide, panned
//! across) and the sound asset `beep.wav` on the sample channels, again and
//! again, while busy-waiting 12 ms on each timer (one every ~16 ms, about a
//! display frame). It first checks what `lodge:app/audio` refuses, and shows
//! its figures on the text grid: `checks ok`, ticks, and how long it was busy.

wit_bindgen::generate!({
    path: ["../../../wit", "../../../wit/v0.2"],
    world: "lodge:app/client@0.2.0",
    generate_all,
});

use exports::lodge::app0_2_0::client_events::{Event, Guest};
use lodge::app0_1_0::terminal::{self, Rgb};
use lodge::app0_1_0::timers;
use lodge::app0_2_0::audio::{self, Envelope, Note, SampleOptions, Waveform};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// How long each timer's handler keeps the client busy.
const BUSY: Duration = Duration::from_millis(12);
/// The wait between one handler's end and the next timer: busy + wait ≈ 16 ms.
const WAIT_MS: u64 = 4;
/// Ticks between two chords (about half a second).
const CHORD_EVERY: u32 = 30;
const SOUND: &str = "beep.wav";

struct State {
    started: Instant,
    ticks: u32,
    busy: Duration,
    checks: String,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

const WHITE: Rgb = Rgb {
    r: 255,
    g: 255,
    b: 255,
};
const BLACK: Rgb = Rgb { r: 0, g: 0, b: 0 };

fn note(waveform: Waveform, frequency: f32, slide_to: Option<f32>, pan: f32) -> Note {
    Note {
        waveform,
        duty: 0.25,
        frequency,
        slide_to,
        duration_ms: 350,
        envelope: Envelope {
            attack_ms: 5,
            decay_ms: 60,
            sustain: 0.6,
            release_ms: 80,
        },
        volume: 0.5,
        pan,
    }
}

fn options(rate: f32, looping: bool) -> SampleOptions {
    SampleOptions {
        volume: 0.8,
        pan: 0.0,
        rate,
        looping,
    }
}

/// What the interface must refuse, and what it must take; "ok" or the failures.
fn checks() -> String {
    let mut failed = Vec::new();
    let mut expect = |what: &str, got: bool, want: bool| {
        if got != want {
            failed.push(format!("{what} returned {got}"));
        }
    };
    expect(
        "play on voice 8",
        audio::play(8, note(Waveform::Sine, 440.0, None, 0.0)),
        false,
    );
    expect(
        "play-sample on channel 8",
        audio::play_sample(8, SOUND, options(1.0, false)),
        false,
    );
    expect(
        "play-sample of an unknown name",
        audio::play_sample(0, "nope.wav", options(1.0, false)),
        false,
    );
    expect(
        "play-sample of a text asset",
        audio::play_sample(0, "notes.txt", options(1.0, false)),
        false,
    );
    expect(
        "play-sample of beep.wav",
        audio::play_sample(0, SOUND, options(1.0, false)),
        true,
    );
    expect(
        "play on voice 7",
        audio::play(7, note(Waveform::Sine, 440.0, None, 0.0)),
        true,
    );
    // Values out of range are clamped, not refused.
    expect(
        "play at 1 MHz",
        audio::play(7, note(Waveform::Sine, 1.0e6, None, 5.0)),
        true,
    );
    audio::set_master_volume(2.0);
    if failed.is_empty() {
        "ok".to_owned()
    } else {
        failed.join("; ")
    }
}

fn chord(round: u32) {
    let base = [220.0, 277.2, 329.6, 440.0, 554.4, 659.3, 880.0, 1108.7];
    let waveforms = [
        Waveform::Pulse,
        Waveform::Triangle,
        Waveform::Sawtooth,
        Waveform::Sine,
        Waveform::Noise,
        Waveform::Pulse,
        Waveform::Sawtooth,
        Waveform::Triangle,
    ];
    for voice in 0..8u8 {
        let i = voice as usize;
        let slide = (voice == 5).then_some(base[i] * 2.0);
        let pan = -1.0 + 2.0 * voice as f32 / 7.0;
        audio::play(voice, note(waveforms[i], base[i], slide, pan));
    }
    // One-shots over channels 0 to 3, at a few rates.
    let rate = [1.0, 1.5, 0.5, 2.0][(round % 4) as usize];
    audio::play_sample((round % 4) as u8, SOUND, options(rate, false));
}

fn draw(state: &State) {
    let elapsed = state.started.elapsed();
    terminal::clear(BLACK);
    let lines = [
        format!("checks {}", state.checks),
        format!("ticks {}", state.ticks),
        format!(
            "busy {} ms of {} ms",
            state.busy.as_millis(),
            elapsed.as_millis()
        ),
    ];
    for (row, line) in lines.iter().enumerate() {
        terminal::write(1, row as u16 + 1, line, WHITE, BLACK);
    }
}

struct Probe;

impl Guest for Probe {
    fn handle(event: Event) {
        match event {
            Event::Init(_) => {
                let state = State {
                    started: Instant::now(),
                    ticks: 0,
                    busy: Duration::ZERO,
                    checks: checks(),
                };
                // A looping sample asked for before its sound is decoded starts once it is.
                audio::play_sample(
                    7,
                    SOUND,
                    SampleOptions {
                        volume: 0.3,
                        pan: 0.5,
                        rate: 1.0,
                        looping: true,
                    },
                );
                draw(&state);
                STATE.with(|s| *s.borrow_mut() = Some(state));
                timers::set(WAIT_MS, "tick");
            }
            Event::Timer(_) => STATE.with(|s| {
                let mut slot = s.borrow_mut();
                let Some(state) = slot.as_mut() else { return };
                if state.ticks % CHORD_EVERY == 0 {
                    chord(state.ticks / CHORD_EVERY);
                    draw(state);
                }
                state.ticks += 1;
                let start = Instant::now();
                while start.elapsed() < BUSY {
                    std::hint::spin_loop();
                }
                state.busy += start.elapsed();
                timers::set(WAIT_MS, "tick");
            }),
            _ => {}
        }
    }
}

export!(Probe);
