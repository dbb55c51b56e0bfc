//! The chat example's client: scrolling messages with coloured names above
//! an input line. Type and press Enter to send; PageUp/PageDown or the wheel
//! scroll back through what was said.

use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Message, Pointer, PointerKind, Size, server};

const BG: Rgb = Rgb::new(24, 26, 33);
const FG: Rgb = Rgb::new(225, 228, 235);
const DIM: Rgb = Rgb::new(130, 136, 150);
const BAR: Rgb = Rgb::new(44, 48, 60);
const NAME_COLOURS: [Rgb; 6] = [
    Rgb::new(110, 180, 255),
    Rgb::new(255, 170, 90),
    Rgb::new(120, 220, 140),
    Rgb::new(230, 120, 200),
    Rgb::new(240, 220, 100),
    Rgb::new(150, 140, 255),
];
/// Lines kept for scrolling back.
const KEEP: usize = 1000;
/// The most characters one message may have.
const MAX_INPUT: usize = 500;

#[derive(Default)]
struct Chat {
    lines: Vec<String>,
    input: String,
    /// How many wrapped rows up from the newest the view is scrolled.
    scroll: usize,
    title: String,
    status: String,
}

/// The colour for a name: the same name always gets the same colour.
fn colour_of(name: &str) -> Rgb {
    let hash = name
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    NAME_COLOURS[hash as usize % NAME_COLOURS.len()]
}

/// Splits `text` into rows of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || width == 0 {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

impl Chat {
    fn draw(&self) {
        let Size { cols, rows } = terminal::size();
        terminal::clear(BG);
        terminal::fill(0, 0, cols, 1, BAR);
        terminal::write(1, 0, &self.title, FG, BAR);
        let status_col = cols.saturating_sub(self.status.chars().count() as u16 + 1);
        terminal::write(status_col, 0, &self.status, DIM, BAR);

        // Messages, newest at the bottom, above the input line.
        let area = rows.saturating_sub(3) as usize;
        let width = cols.saturating_sub(2) as usize;
        let mut wrapped: Vec<(String, &str)> = Vec::new();
        for line in &self.lines {
            for row in wrap(line, width) {
                wrapped.push((row, line));
            }
        }
        let end = wrapped.len().saturating_sub(self.scroll);
        let start = end.saturating_sub(area);
        for (i, (row, line)) in wrapped[start..end].iter().enumerate() {
            let y = 1 + i as u16;
            if line.starts_with("* ") {
                terminal::write(1, y, row, DIM, BG);
            } else if let Some((name, _)) = line.split_once(": ")
                && row.starts_with(name)
            {
                terminal::write(1, y, row, FG, BG);
                terminal::write(1, y, name, colour_of(name), BG);
            } else {
                terminal::write(1, y, row, FG, BG);
            }
        }
        if self.scroll > 0 {
            let more = format!(" ↓ {} more ", self.scroll);
            let col = cols.saturating_sub(more.chars().count() as u16 + 1);
            terminal::write(col, rows.saturating_sub(3), &more, BG, DIM);
        }

        // The input line, showing its end when it is wider than the grid.
        let y = rows.saturating_sub(1);
        terminal::write(0, y.saturating_sub(1), &"─".repeat(cols as usize), BAR, BG);
        let room = width.saturating_sub(2);
        let shown: String = {
            let n = self.input.chars().count();
            self.input.chars().skip(n.saturating_sub(room)).collect()
        };
        terminal::write(0, y, "> ", DIM, BG);
        terminal::write(2, y, &shown, FG, BG);
        terminal::write(2 + shown.chars().count() as u16, y, " ", BG, FG);
    }

    fn scroll_by(&mut self, rows: isize) {
        self.scroll = self
            .scroll
            .saturating_add_signed(rows)
            .min(self.lines.len() * 4);
        self.draw();
    }
}

impl Client for Chat {
    fn on_init(&mut self, init: &Init) {
        self.title = match &init.room {
            Some(room) => format!("chat · #{room} · {}", init.name),
            None => format!("chat · {}", init.name),
        };
        self.status = "connecting…".into();
        self.draw();
    }

    fn on_key(&mut self, key: &Key) {
        match key.key.as_str() {
            "Enter" => {
                let text = std::mem::take(&mut self.input);
                if !text.trim().is_empty() {
                    server::send_text(&text);
                }
                self.scroll = 0;
            }
            "Backspace" => {
                self.input.pop();
            }
            "Escape" => self.input.clear(),
            "PageUp" => return self.scroll_by(10),
            "PageDown" => return self.scroll_by(-10),
            _ => match key.char() {
                Some(c) if self.input.chars().count() < MAX_INPUT => self.input.push(c),
                _ => return,
            },
        }
        self.draw();
    }

    fn on_pointer(&mut self, pointer: &Pointer) {
        match pointer.kind {
            PointerKind::WheelUp => self.scroll_by(3),
            PointerKind::WheelDown => self.scroll_by(-3),
            _ => {}
        }
    }

    fn on_message(&mut self, message: Message) {
        let Some(text) = message.as_text() else {
            return;
        };
        self.lines.push(text.to_owned());
        if self.lines.len() > KEEP {
            self.lines.drain(..self.lines.len() - KEEP);
        }
        self.draw();
    }

    fn on_resize(&mut self, _size: Size) {
        self.draw();
    }

    fn on_connected(&mut self) {
        self.status = "connected".into();
        self.draw();
    }

    fn on_disconnected(&mut self, reason: &str) {
        self.status = format!("disconnected: {reason}");
        self.draw();
    }
}

lodge_client::export_client!(Chat);
