//! The events a [`Client`](crate::Client) receives, as plain Rust types.

use crate::bindings::exports::lodge::app::client_events as wit;
use crate::terminal::Size;

/// The first event: what the page knows when the client starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// The grid's size in cells.
    pub size: Size,
    /// The room this page joined, if the app has a room part.
    pub room: Option<String>,
    /// The display name the person chose.
    pub name: String,
}

/// Modifier keys held during a key or pointer event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modifiers {
    /// Shift.
    pub shift: bool,
    /// Control.
    pub ctrl: bool,
    /// Alt (Option on macOS).
    pub alt: bool,
    /// Meta (Command on macOS, the Windows key elsewhere).
    pub meta: bool,
}

/// A key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The DOM key value: a character ("a", "A", " "), or a name such as
    /// "Enter", "Backspace", "ArrowUp", "Escape", "Tab".
    pub key: String,
    /// Modifiers held.
    pub modifiers: Modifiers,
}

impl Key {
    /// The character this key types, if it types exactly one and no
    /// control, alt or meta modifier is held.
    pub fn char(&self) -> Option<char> {
        let mut chars = self.key.chars();
        let c = chars.next()?;
        let plain = !(self.modifiers.ctrl || self.modifiers.alt || self.modifiers.meta);
        (chars.next().is_none() && plain).then_some(c)
    }
}

/// What happened with the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerKind {
    /// A button went down.
    Down,
    /// A button went up.
    Up,
    /// The pointer moved onto another cell.
    Move,
    /// The wheel turned away from the user.
    WheelUp,
    /// The wheel turned towards the user.
    WheelDown,
}

/// A pointer event on a cell of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    /// What happened.
    pub kind: PointerKind,
    /// The cell's column (0 is the left edge).
    pub col: u16,
    /// The cell's row (0 is the top).
    pub row: u16,
    /// 0 primary, 1 middle, 2 secondary.
    pub button: u8,
    /// Modifiers held.
    pub modifiers: Modifiers,
}

impl From<wit::Modifiers> for Modifiers {
    fn from(m: wit::Modifiers) -> Self {
        Modifiers {
            shift: m.contains(wit::Modifiers::SHIFT),
            ctrl: m.contains(wit::Modifiers::CTRL),
            alt: m.contains(wit::Modifiers::ALT),
            meta: m.contains(wit::Modifiers::META),
        }
    }
}

impl From<wit::Init> for Init {
    fn from(init: wit::Init) -> Self {
        Init {
            size: init.size.into(),
            room: init.room,
            name: init.name,
        }
    }
}

impl From<wit::Key> for Key {
    fn from(key: wit::Key) -> Self {
        Key {
            key: key.key,
            modifiers: key.modifiers.into(),
        }
    }
}

impl From<wit::Pointer> for Pointer {
    fn from(p: wit::Pointer) -> Self {
        Pointer {
            kind: match p.kind {
                wit::PointerKind::Down => PointerKind::Down,
                wit::PointerKind::Up => PointerKind::Up,
                wit::PointerKind::Move => PointerKind::Move,
                wit::PointerKind::WheelUp => PointerKind::WheelUp,
                wit::PointerKind::WheelDown => PointerKind::WheelDown,
            },
            col: p.col,
            row: p.row,
            button: p.button,
            modifiers: p.modifiers.into(),
        }
    }
}
