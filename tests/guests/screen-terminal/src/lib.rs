//! A `lodge:app@0.2.0` client on the text grid, for the browser tests: it
//! shows the 0.2 events it gets (key-down and key-up with codes, pointers
//! in cells, frames only once it asked with `frames.request-ticks`, which
//! KeyT does).

wit_bindgen::generate!({
    path: ["../../../wit", "../../../wit/v0.2"],
    world: "lodge:app/client@0.2.0",
    generate_all,
});

use exports::lodge::app0_2_0::client_events::{Event, Guest};
use lodge::app0_1_0::frames::request_ticks;
use lodge::app0_1_0::terminal::{Rgb, clear, size, write};
use std::cell::Cell;

const WHITE: Rgb = Rgb {
    r: 255,
    g: 255,
    b: 255,
};
const BLACK: Rgb = Rgb { r: 0, g: 0, b: 0 };

thread_local! {
    static FRAMES: Cell<u32> = const { Cell::new(0) };
}

fn line(row: u16, text: &str) {
    write(0, row, &format!("{text:<40}"), WHITE, BLACK);
}

struct Grid;

impl Guest for Grid {
    fn handle(event: Event) {
        match event {
            Event::Init(init) => {
                clear(BLACK);
                let grid = size();
                line(
                    0,
                    &format!("ready: {} {}x{}", init.name, grid.cols, grid.rows),
                );
            }
            Event::KeyDown(key) => {
                if key.code == "KeyT" {
                    request_ticks(true);
                }
                line(1, &format!("key-down {} {}", key.code, key.key));
            }
            Event::KeyUp(key) => line(2, &format!("key-up {}", key.code)),
            Event::Pointer(p) => line(3, &format!("pointer {},{}", p.x, p.y)),
            Event::Frame(frame) => {
                let n = FRAMES.get() + 1;
                FRAMES.set(n);
                line(4, &format!("frames: {n} (+{})", frame.frames));
            }
            _ => {}
        }
    }
}

export!(Grid);
