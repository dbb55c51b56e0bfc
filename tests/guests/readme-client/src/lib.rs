//! Greet, count seconds with a timer, show the last key, and say hi to the
//! room on Enter.
use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Message, server, timers};
use std::time::Duration;

#[derive(Default)]
struct Hello {
    name: String,
    seconds: u32,
    last_key: String,
    heard: String,
}

impl Hello {
    fn draw(&self) {
        terminal::clear(Rgb::BLACK);
        let lines = [
            (format!("hello, {}", self.name), Rgb::GREEN),
            (format!("{} s", self.seconds), Rgb::WHITE),
            (format!("key: {}", self.last_key), Rgb::WHITE),
            (format!("room: {}", self.heard), Rgb::YELLOW),
        ];
        for (row, (text, colour)) in lines.iter().enumerate() {
            terminal::write(1, row as u16 + 1, text, *colour, Rgb::BLACK);
        }
    }
}

impl Client for Hello {
    fn on_init(&mut self, init: &Init) {
        self.name = init.name.clone();
        timers::set(Duration::from_secs(1), "second");
        self.draw();
    }

    fn on_timer(&mut self, _tag: &str) {
        self.seconds += 1;
        timers::set(Duration::from_secs(1), "second");
        self.draw();
    }

    fn on_key(&mut self, key: &Key) {
        self.last_key = key.key.clone();
        if key.key == "Enter" {
            server::send_text("hi");
        }
        self.draw();
    }

    fn on_message(&mut self, message: Message) {
        self.heard = message.as_text().unwrap_or("(binary)").to_owned();
        self.draw();
    }
}

lodge_client::export_client!(Hello);
