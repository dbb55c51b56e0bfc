//! The tic-tac-toe example's client: the board, whose turn it is, and the
//! result. Play with the mouse, with the arrow keys and Enter, or with the
//! digits 1-9 (row by row); press N for a new game once one has ended.
//! Spectators see the same board; a player who is away is marked so.

use lodge_client::terminal::{self, Rgb};
use lodge_client::{Client, Init, Key, Message, Pointer, PointerKind, Size, server};
use serde::Deserialize;

const BG: Rgb = Rgb::new(24, 26, 33);
const FG: Rgb = Rgb::new(225, 228, 235);
const DIM: Rgb = Rgb::new(130, 136, 150);
const LINE: Rgb = Rgb::new(80, 86, 100);
const CURSOR: Rgb = Rgb::new(52, 58, 74);
const X_COLOUR: Rgb = Rgb::new(240, 110, 100);
const O_COLOUR: Rgb = Rgb::new(100, 170, 250);

/// A board cell's size in grid cells.
const CELL_W: u16 = 7;
const CELL_H: u16 = 3;

/// What the room says (see the room's protocol).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum FromRoom {
    /// The mark this member plays, or none for a spectator.
    You {
        mark: Option<String>,
    },
    State(State),
    Error {
        message: String,
    },
}

#[derive(Deserialize, Default, Clone)]
struct State {
    /// Nine characters, row by row: "X", "O" or ".".
    board: String,
    turn: String,
    /// "lobby", "waiting", "playing", "won" or "draw".
    status: String,
    winner: Option<String>,
    forfeit: bool,
    x: Option<String>,
    o: Option<String>,
    /// The marks of players whose connection dropped (their seat is held).
    #[serde(default)]
    away: Vec<String>,
}

#[derive(Default)]
struct Game {
    me: String,
    mark: Option<String>,
    state: State,
    cursor: usize,
    notice: String,
    connected: bool,
    /// The board's top-left grid cell, to hit-test the pointer.
    origin: (u16, u16),
}

fn colour_of(mark: &str) -> Rgb {
    if mark == "X" { X_COLOUR } else { O_COLOUR }
}

impl Game {
    fn headline(&self) -> String {
        let s = &self.state;
        let name = |mark: &str| {
            let name = if mark == "X" { &s.x } else { &s.o };
            name.clone().unwrap_or_else(|| "nobody".into())
        };
        match s.status.as_str() {
            "playing" if self.mark.as_deref() == Some(s.turn.as_str()) => {
                format!("Your turn ({})", s.turn)
            }
            "playing" => format!("{}'s turn ({})", name(&s.turn), s.turn),
            "won" => {
                let winner = s.winner.clone().unwrap_or_default();
                let how = if s.forfeit { " by forfeit" } else { "" };
                if self.mark.as_deref() == Some(winner.as_str()) {
                    format!("You win{how}! Press N for a new game.")
                } else {
                    format!(
                        "{} ({winner}) wins{how}. Press N for a new game.",
                        name(&winner)
                    )
                }
            }
            "draw" => "Draw. Press N for a new game.".into(),
            "lobby" if s.x.is_some() && s.o.is_some() => {
                "Both players are here: the host starts the game.".into()
            }
            _ => "Waiting for a second player…".into(),
        }
    }

    fn draw(&mut self) {
        let Size { cols, rows } = terminal::size();
        terminal::clear(BG);
        terminal::write_centered(0, "tic-tac-toe", FG, BG);
        let player = |mark: &str, name: &Option<String>| {
            let away = if self.state.away.iter().any(|m| m == mark) {
                " (reconnecting…)"
            } else {
                ""
            };
            format!("{mark}: {}{away}", name.as_deref().unwrap_or("-"))
        };
        let players = format!(
            "{}   {}",
            player("X", &self.state.x),
            player("O", &self.state.o)
        );
        terminal::write_centered(1, &players, DIM, BG);

        let width = CELL_W * 3 + 2;
        let height = CELL_H * 3 + 2;
        let left = cols.saturating_sub(width) / 2;
        let top = (rows.saturating_sub(height) / 2).max(3);
        self.origin = (left, top);
        let board: Vec<char> = self.state.board.chars().collect();
        for i in 0..9u16 {
            let (col, row) = (left + (i % 3) * (CELL_W + 1), top + (i / 3) * (CELL_H + 1));
            let mark = board.get(i as usize).copied().unwrap_or('.');
            let bg = if i as usize == self.cursor && self.state.status == "playing" {
                CURSOR
            } else {
                BG
            };
            terminal::fill(col, row, CELL_W, CELL_H, bg);
            let text = if mark == '.' { ' ' } else { mark };
            terminal::write(
                col + CELL_W / 2,
                row + 1,
                &text.to_string(),
                colour_of(&text.to_string()),
                bg,
            );
        }
        for k in 1..3u16 {
            let y = top + k * (CELL_H + 1) - 1;
            terminal::write(left, y, &"─".repeat(width as usize), LINE, BG);
            let x = left + k * (CELL_W + 1) - 1;
            for y in top..top + height {
                let crossing = (y + 1 - top) % (CELL_H + 1) == 0;
                terminal::write(x, y, if crossing { "┼" } else { "│" }, LINE, BG);
            }
        }

        let below = top + height + 1;
        let you = match &self.mark {
            Some(mark) => format!("You are {} ({mark})", self.me),
            None => format!("You are {} (watching)", self.me),
        };
        terminal::write_centered(below, &self.headline(), FG, BG);
        terminal::write_centered(below + 1, &you, DIM, BG);
        terminal::write_centered(below + 2, &self.notice, X_COLOUR, BG);
        let help = "arrows + Enter, 1-9 or click to play · N new game";
        terminal::write_centered(rows.saturating_sub(1), help, DIM, BG);
        if !self.connected {
            terminal::write_centered(below + 3, "not connected", X_COLOUR, BG);
        }
    }

    fn play(&mut self, cell: usize) {
        self.cursor = cell;
        self.notice.clear();
        server::send_text(&cell.to_string());
        self.draw();
    }

    /// The board cell under a grid cell, if any.
    fn cell_at(&self, col: u16, row: u16) -> Option<usize> {
        let (left, top) = self.origin;
        let (dx, dy) = (col.checked_sub(left)?, row.checked_sub(top)?);
        let (cx, cy) = (dx / (CELL_W + 1), dy / (CELL_H + 1));
        let inside = dx % (CELL_W + 1) < CELL_W && dy % (CELL_H + 1) < CELL_H;
        (cx < 3 && cy < 3 && inside).then_some((cy * 3 + cx) as usize)
    }
}

impl Client for Game {
    fn on_init(&mut self, init: &Init) {
        self.me = init.name.clone();
        self.state.status = "waiting".into();
        self.state.board = ".........".into();
        self.cursor = 4;
        self.draw();
    }

    fn on_key(&mut self, key: &Key) {
        let (x, y) = (self.cursor % 3, self.cursor / 3);
        match key.key.as_str() {
            "ArrowLeft" => self.cursor = y * 3 + (x + 2) % 3,
            "ArrowRight" => self.cursor = y * 3 + (x + 1) % 3,
            "ArrowUp" => self.cursor = ((y + 2) % 3) * 3 + x,
            "ArrowDown" => self.cursor = ((y + 1) % 3) * 3 + x,
            "Enter" | " " => return self.play(self.cursor),
            "n" | "N" => {
                server::send_text("again");
                return;
            }
            k => match k.parse::<usize>() {
                Ok(d @ 1..=9) => return self.play(d - 1),
                _ => return,
            },
        }
        self.draw();
    }

    fn on_pointer(&mut self, pointer: &Pointer) {
        let (Ok(col), Ok(row)) = (u16::try_from(pointer.x), u16::try_from(pointer.y)) else {
            return;
        };
        let Some(cell) = self.cell_at(col, row) else {
            return;
        };
        match pointer.kind {
            PointerKind::Down => self.play(cell),
            PointerKind::Move if cell != self.cursor => {
                self.cursor = cell;
                self.draw();
            }
            _ => {}
        }
    }

    fn on_message(&mut self, message: Message) {
        let Some(text) = message.as_text() else {
            return;
        };
        match serde_json::from_str::<FromRoom>(text) {
            Ok(FromRoom::You { mark }) => self.mark = mark,
            Ok(FromRoom::State(state)) => {
                if state.status != self.state.status {
                    self.notice.clear();
                }
                self.state = state;
            }
            Ok(FromRoom::Error { message }) => self.notice = message,
            Err(e) => lodge_client::log::warn(&format!("unexpected message {text:?}: {e}")),
        }
        self.draw();
    }

    fn on_resize(&mut self, _size: Size) {
        self.draw();
    }

    fn on_connected(&mut self) {
        self.connected = true;
        self.draw();
    }

    fn on_disconnected(&mut self, reason: &str) {
        self.connected = false;
        self.notice = reason.to_owned();
        self.draw();
    }
}

lodge_client::export_client!(Game);
