//! The snake arena's messages, the one definition its room and its client
//! share. Everything is binary and small: the room sends the whole arena
//! every tick (at most eight snakes), the client sends one byte per turn.
//!
//! Room → member: `[1, id: u64]` (welcome: this is your snake) or
//! `[2, state…]` (the arena after a tick). Member → room: one of `U D L R`.

/// The arena in cells.
pub const WIDTH: u8 = 64;
pub const HEIGHT: u8 = 36;
/// How often the room advances the game, in milliseconds.
pub const TICK_MS: u32 = 100;
/// The most snakes (players) in one arena.
pub const MAX_SNAKES: usize = 8;

const WELCOME: u8 = 1;
const STATE: u8 = 2;

/// A cell of the arena.
pub type Cell = (u8, u8);

/// Where a snake is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

impl Dir {
    /// The byte a client sends to turn.
    pub fn byte(self) -> u8 {
        match self {
            Dir::Up => b'U',
            Dir::Down => b'D',
            Dir::Left => b'L',
            Dir::Right => b'R',
        }
    }

    /// A turn a client sent, if it is one.
    pub fn from_message(bytes: &[u8]) -> Option<Dir> {
        match bytes {
            [b'U'] => Some(Dir::Up),
            [b'D'] => Some(Dir::Down),
            [b'L'] => Some(Dir::Left),
            [b'R'] => Some(Dir::Right),
            _ => None,
        }
    }

    pub fn opposite(self) -> Dir {
        match self {
            Dir::Up => Dir::Down,
            Dir::Down => Dir::Up,
            Dir::Left => Dir::Right,
            Dir::Right => Dir::Left,
        }
    }

    /// The cell one step this way, or `None` past the arena's edge.
    pub fn step(self, (x, y): Cell) -> Option<Cell> {
        let (x, y) = match self {
            Dir::Up => (Some(x), y.checked_sub(1)),
            Dir::Down => (Some(x), Some(y + 1)),
            Dir::Left => (x.checked_sub(1), Some(y)),
            Dir::Right => (Some(x + 1), Some(y)),
        };
        match (x, y) {
            (Some(x), Some(y)) if x < WIDTH && y < HEIGHT => Some((x, y)),
            _ => None,
        }
    }
}

/// Something the clients make a sound for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    Ate,
    Died,
    Spawned,
}

/// One player's snake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snake {
    pub id: u64,
    pub name: String,
    /// 0 to 7: the colour the client draws it in.
    pub colour: u8,
    pub alive: bool,
    pub score: u16,
    /// Head first.
    pub body: Vec<Cell>,
}

/// The arena after a tick.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub tick: u32,
    /// The best score any snake reached in this app.
    pub best: u16,
    pub food: Vec<Cell>,
    pub snakes: Vec<Snake>,
    /// What happened in this tick, to whom.
    pub happenings: Vec<(Happening, u64)>,
}

/// The message telling a member which snake is theirs.
pub fn welcome(id: u64) -> Vec<u8> {
    let mut out = vec![WELCOME];
    out.extend(id.to_le_bytes());
    out
}

/// A message from the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromRoom {
    Welcome(u64),
    State(State),
}

impl State {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![STATE];
        out.extend(self.tick.to_le_bytes());
        out.extend(self.best.to_le_bytes());
        out.push(self.food.len() as u8);
        for (x, y) in &self.food {
            out.extend([*x, *y]);
        }
        out.push(self.snakes.len() as u8);
        for snake in &self.snakes {
            out.extend(snake.id.to_le_bytes());
            let name = &snake.name.as_bytes()[..snake.name.len().min(255)];
            out.push(name.len() as u8);
            out.extend(name);
            out.extend([snake.colour, u8::from(snake.alive)]);
            out.extend(snake.score.to_le_bytes());
            out.extend((snake.body.len() as u16).to_le_bytes());
            for (x, y) in &snake.body {
                out.extend([*x, *y]);
            }
        }
        out.push(self.happenings.len() as u8);
        for (what, who) in &self.happenings {
            out.push(*what as u8);
            out.extend(who.to_le_bytes());
        }
        out
    }
}

impl FromRoom {
    /// Reads a message from the room; `None` if it is not one.
    pub fn decode(bytes: &[u8]) -> Option<FromRoom> {
        let mut r = Reader(bytes);
        match r.u8()? {
            WELCOME => Some(FromRoom::Welcome(r.u64()?)),
            STATE => {
                let tick = r.u32()?;
                let best = r.u16()?;
                let food = (0..r.u8()?).map(|_| r.cell()).collect::<Option<_>>()?;
                let snakes = (0..r.u8()?)
                    .map(|_| {
                        let id = r.u64()?;
                        let len = r.u8()? as usize;
                        let name = String::from_utf8_lossy(r.take(len)?).into_owned();
                        let colour = r.u8()?;
                        let alive = r.u8()? != 0;
                        let score = r.u16()?;
                        let body = (0..r.u16()?).map(|_| r.cell()).collect::<Option<_>>()?;
                        Some(Snake {
                            id,
                            name,
                            colour,
                            alive,
                            score,
                            body,
                        })
                    })
                    .collect::<Option<_>>()?;
                let happenings = (0..r.u8()?)
                    .map(|_| {
                        let what = match r.u8()? {
                            0 => Happening::Ate,
                            1 => Happening::Died,
                            _ => Happening::Spawned,
                        };
                        Some((what, r.u64()?))
                    })
                    .collect::<Option<_>>()?;
                Some(FromRoom::State(State {
                    tick,
                    best,
                    food,
                    snakes,
                    happenings,
                }))
            }
            _ => None,
        }
    }
}

/// Reads little-endian numbers off the front of a message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn cell(&mut self) -> Option<Cell> {
        Some((self.u8()?, self.u8()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_survives_the_wire() {
        let state = State {
            tick: 7,
            best: 12,
            food: vec![(1, 2), (63, 35)],
            snakes: vec![Snake {
                id: 3,
                name: "ada".into(),
                colour: 2,
                alive: true,
                score: 4,
                body: vec![(5, 5), (4, 5), (3, 5)],
            }],
            happenings: vec![(Happening::Ate, 3), (Happening::Died, 9)],
        };
        assert_eq!(
            FromRoom::decode(&state.encode()),
            Some(FromRoom::State(state))
        );
        assert_eq!(FromRoom::decode(&welcome(42)), Some(FromRoom::Welcome(42)));
        assert_eq!(FromRoom::decode(&[2, 1]), None);
    }

    #[test]
    fn steps_stop_at_the_edges() {
        assert_eq!(Dir::Left.step((0, 3)), None);
        assert_eq!(Dir::Down.step((3, HEIGHT - 1)), None);
        assert_eq!(Dir::Right.step((3, 3)), Some((4, 3)));
    }
}
