//! A client of `lodge:app@0.1.0`, built from the frozen WIT beside it
//! (`wit/`), with raw bindings as any toolchain would make them. It shows
//! every 0.1 event on the text grid so the browser test can check that a
//! newer server still delivers them unchanged: its init, keys, pointer
//! cells, ticks, timers and messages from the room.

wit_bindgen::generate!({
    path: "wit",
    world: "lodge:app/client@0.1.0",
    generate_all,
});

use exports::lodge::app::client_events::{Event, Guest, PointerKind};
use lodge::app::terminal::{self, Rgb};
use lodge::app::types::Payload;
use lodge::app::{frames, log, server, timers};
use std::cell::RefCell;

const FG: Rgb = Rgb {
    r: 230,
    g: 230,
    b: 230,
};
const BG: Rgb = Rgb { r: 0, g: 0, b: 0 };

#[derive(Default)]
struct State {
    ticks: u32,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn line(row: u16, text: &str) {
    terminal::write(0, row, &format!("{text:<40}"), FG, BG);
}

struct Client;

impl Guest for Client {
    fn handle(event: Event) {
        match event {
            Event::Init(init) => {
                terminal::clear(BG);
                line(
                    0,
                    &format!(
                        "v0.1 client: {} in {} ({}x{})",
                        init.name,
                        init.room.as_deref().unwrap_or("-"),
                        init.size.cols,
                        init.size.rows
                    ),
                );
                log::write(log::Level::Info, "v0.1 client started");
                timers::set(50, "hello");
            }
            Event::Key(key) => {
                line(
                    1,
                    &format!(
                        "key: {} shift={}",
                        key.key,
                        key.modifiers
                            .contains(exports::lodge::app::client_events::Modifiers::SHIFT)
                    ),
                );
                match key.key.as_str() {
                    "t" => frames::request_ticks(true),
                    "s" => server::send(&Payload::Text(format!("from v0.1: {}", key.key))),
                    _ => {}
                }
            }
            Event::Pointer(p) if p.kind == PointerKind::Down => {
                line(2, &format!("pointer: col {} row {}", p.col, p.row));
            }
            Event::Pointer(_) => {}
            Event::Tick(ms) => {
                let ticks = STATE.with_borrow_mut(|s| {
                    s.ticks += 1;
                    s.ticks
                });
                if ticks == 30 {
                    frames::request_ticks(false);
                    line(3, &format!("ticks: 30, last at {:.0} ms", ms.max(0.0)));
                }
            }
            Event::Timer(tag) => line(4, &format!("timer: {tag}")),
            Event::Message(Payload::Text(text)) => line(5, &format!("room says: {text}")),
            Event::Message(Payload::Binary(bytes)) => {
                line(5, &format!("room sent {} bytes", bytes.len()))
            }
            Event::Resize(size) => line(6, &format!("resized: {}x{}", size.cols, size.rows)),
            Event::Connected => line(7, "connected"),
            Event::Disconnected(reason) => line(7, &format!("disconnected: {reason}")),
        }
    }
}

export!(Client);
