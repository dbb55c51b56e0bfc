//! The counter example's client: the shared number, large, with keys and a
//! button to change it. The room owns the number; this only draws what the
//! room says and sends "+" or "-".

use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Message, Pointer, PointerKind, server};

const BG: Rgb = Rgb::new(24, 26, 33);
const FG: Rgb = Rgb::new(225, 228, 235);
const ACCENT: Rgb = Rgb::new(90, 200, 110);

/// Digits 0-9 in a 3×5 block font, one string per row.
const DIGITS: [[&str; 5]; 10] = [
    ["███", "█ █", "█ █", "█ █", "███"],
    ["  █", "  █", "  █", "  █", "  █"],
    ["███", "  █", "███", "█  ", "███"],
    ["███", "  █", "███", "  █", "███"],
    ["█ █", "█ █", "███", "  █", "  █"],
    ["███", "█  ", "███", "  █", "███"],
    ["███", "█  ", "███", "█ █", "███"],
    ["███", "  █", "  █", "  █", "  █"],
    ["███", "█ █", "███", "█ █", "███"],
    ["███", "█ █", "███", "  █", "███"],
];

/// Where the "+" button is drawn, to hit-test clicks.
#[derive(Default, Clone, Copy)]
struct Button {
    col: u16,
    row: u16,
    width: u16,
}

#[derive(Default)]
struct Counter {
    value: Option<i64>,
    status: String,
    button: Button,
}

impl Counter {
    fn draw(&mut self) {
        let size = terminal::size();
        terminal::clear(BG);
        terminal::write_centered(1, "counter", ACCENT, BG);
        let middle = size.rows / 2;
        match self.value {
            Some(value) => {
                let text = value.to_string();
                let width = text.chars().count() as u16 * 4;
                let left = size.cols.saturating_sub(width) / 2;
                for (i, c) in text.chars().enumerate() {
                    let col = left + i as u16 * 4;
                    let glyph = match c.to_digit(10) {
                        Some(d) => DIGITS[d as usize],
                        None => ["   ", "   ", "███", "   ", "   "],
                    };
                    for (r, line) in glyph.iter().enumerate() {
                        terminal::write(col, middle.saturating_sub(4) + r as u16, line, FG, BG);
                    }
                }
                terminal::write_centered(middle + 2, &format!("count: {value}"), FG, BG);
            }
            None => terminal::write_centered(middle, "waiting for the room…", FG, BG),
        }
        let label = "[ + add one ]";
        self.button = Button {
            col: size.cols.saturating_sub(label.len() as u16) / 2,
            row: middle + 4,
            width: label.len() as u16,
        };
        terminal::write(self.button.col, self.button.row, label, BG, ACCENT);
        terminal::write_centered(middle + 6, "+ or space: add one    -: take one", FG, BG);
        terminal::write(0, size.rows.saturating_sub(1), &self.status, FG, BG);
    }
}

impl Client for Counter {
    fn on_init(&mut self, init: &Init) {
        self.status = format!(
            "{} in room {}",
            init.name,
            init.room.as_deref().unwrap_or("-")
        );
        self.draw();
    }

    fn on_key(&mut self, key: &Key) {
        match key.char() {
            Some('+' | ' ' | '=') => server::send_text("+"),
            Some('-') => server::send_text("-"),
            _ => {}
        }
    }

    fn on_pointer(&mut self, pointer: &Pointer) {
        let b = self.button;
        let columns = i32::from(b.col)..i32::from(b.col) + i32::from(b.width);
        let on_button = pointer.y == i32::from(b.row) && columns.contains(&pointer.x);
        if pointer.kind == PointerKind::Down && on_button {
            server::send_text("+");
        }
    }

    fn on_message(&mut self, message: Message) {
        if let Some(value) = message.as_text().and_then(|t| t.parse().ok()) {
            self.value = Some(value);
            self.draw();
        }
    }

    fn on_resize(&mut self, _size: lodge_client::Size) {
        self.draw();
    }

    fn on_connected(&mut self) {
        self.draw();
    }

    fn on_disconnected(&mut self, reason: &str) {
        self.status = format!("disconnected: {reason}");
        self.draw();
    }
}

lodge_client::export_client!(Counter);
