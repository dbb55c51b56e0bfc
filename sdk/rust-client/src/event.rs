//! The events a [`Client`](crate::Client) receives, as plain Rust types.

use crate::input::Input;

/// The first event: what the page knows when the client starts. (A
/// terminal client reads the grid's size with
/// [`terminal::size`](crate::terminal::size).)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
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

/// A key going down (or repeating while held) or coming up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The DOM key value: a character ("a", "A", " "), or a name such as
    /// "Enter", "Backspace", "ArrowUp", "Escape", "Tab".
    pub key: String,
    /// The DOM code of the physical key, the same whatever the layout and
    /// modifiers: "KeyA", "Digit1", "Space", "Enter", "ArrowUp", …
    pub code: String,
    /// True when the key is held down and this is a repeat.
    pub repeat: bool,
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
    /// The pointer moved (onto another cell, on a text grid).
    Move,
    /// The wheel turned away from the user.
    WheelUp,
    /// The wheel turned towards the user.
    WheelDown,
}

/// A pointer event: in screen pixels for a `screen` client, in cells (column
/// and row) for a terminal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    /// What happened.
    pub kind: PointerKind,
    /// The pixel's x or the cell's column (0 is the left edge).
    pub x: i32,
    /// The pixel's y or the cell's row (0 is the top).
    pub y: i32,
    /// 0 primary, 1 middle, 2 secondary.
    pub button: u8,
    /// Modifiers held.
    pub modifiers: Modifiers,
}

/// One display frame: delivered to [`Client::on_frame`](crate::Client::on_frame)
/// every display frame for a `screen` client (and for a terminal client
/// that asked for ticks with [`frames`](crate::frames)).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Milliseconds since the client started.
    pub time_ms: f64,
    /// Milliseconds since the previous frame event.
    pub delta_ms: f64,
    /// Display frames since the previous frame event: 1, or more when the
    /// client was still busy and frames were dropped.
    pub frames: u32,
    /// The input now.
    pub input: Input,
    /// The input at the previous frame event (all released before the
    /// first), to tell what was pressed or released since.
    pub previous: Input,
}

impl Frame {
    /// Seconds since the previous frame event, for movement by speed.
    pub fn delta_secs(&self) -> f32 {
        (self.delta_ms / 1000.0) as f32
    }

    /// Whether `button` of gamepad `pad` (0 to 3) is held now.
    pub fn held(&self, pad: usize, button: crate::input::Button) -> bool {
        self.input.pad(pad).held(button)
    }

    /// Whether `button` of gamepad `pad` went down since the previous frame.
    pub fn pressed(&self, pad: usize, button: crate::input::Button) -> bool {
        self.input.pad(pad).held(button) && !self.previous.pad(pad).held(button)
    }

    /// Whether `button` of gamepad `pad` came up since the previous frame.
    pub fn released(&self, pad: usize, button: crate::input::Button) -> bool {
        !self.input.pad(pad).held(button) && self.previous.pad(pad).held(button)
    }

    /// Whether the key with DOM code `code` ("KeyW", "Space", …) is held.
    pub fn key_held(&self, code: &str) -> bool {
        self.input.key_held(code)
    }

    /// Whether the key with DOM code `code` went down since the previous frame.
    pub fn key_pressed(&self, code: &str) -> bool {
        self.input.key_held(code) && !self.previous.key_held(code)
    }

    /// Whether the key with DOM code `code` came up since the previous frame.
    pub fn key_released(&self, code: &str) -> bool {
        !self.input.key_held(code) && self.previous.key_held(code)
    }

    /// Whether pointer button `bit` (0 primary, 1 secondary, 2 middle) went
    /// down since the previous frame.
    pub fn pointer_pressed(&self, bit: u8) -> bool {
        self.input.pointer.held(bit) && !self.previous.pointer.held(bit)
    }
}

#[cfg(target_arch = "wasm32")]
mod convert {
    use super::*;
    use crate::bindings::exports::lodge::app0_2_0::client_events as wit;

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
                room: init.room,
                name: init.name,
            }
        }
    }

    impl From<wit::Key> for Key {
        fn from(key: wit::Key) -> Self {
            Key {
                key: key.key,
                code: key.code,
                repeat: key.repeat,
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
                x: p.x,
                y: p.y,
                button: p.button,
                modifiers: p.modifiers.into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Button, Gamepad};

    fn input(buttons: u32, keys: &[&str], pointer_buttons: u8) -> Input {
        let mut input = Input::default();
        input.gamepads[1] = Gamepad {
            connected: true,
            buttons,
            ..Gamepad::default()
        };
        input.keys = keys.iter().map(|k| (*k).to_owned()).collect();
        input.pointer.buttons = pointer_buttons;
        input
    }

    fn frame(now: Input, before: Input) -> Frame {
        Frame {
            time_ms: 1000.0,
            delta_ms: 16.0,
            frames: 1,
            input: now,
            previous: before,
        }
    }

    #[test]
    fn pressed_and_released_compare_with_the_previous_frame() {
        let f = frame(
            input(Button::A.bit() | Button::Up.bit(), &["Space", "KeyW"], 1),
            input(Button::Up.bit() | Button::B.bit(), &["KeyW", "Enter"], 0),
        );
        assert!(f.held(1, Button::A) && f.pressed(1, Button::A));
        assert!(f.held(1, Button::Up) && !f.pressed(1, Button::Up));
        assert!(f.released(1, Button::B) && !f.held(1, Button::B));
        assert!(!f.held(0, Button::A), "pad 0 is another pad");
        assert!(f.key_pressed("Space") && !f.key_pressed("KeyW") && f.key_held("KeyW"));
        assert!(f.key_released("Enter") && !f.key_held("Enter"));
        assert!(f.pointer_pressed(0) && !f.pointer_pressed(1));
        assert_eq!(f.delta_secs(), 0.016);
    }

    #[test]
    fn key_char_is_one_plain_character() {
        let key = |k: &str, ctrl| Key {
            key: k.into(),
            code: String::new(),
            repeat: false,
            modifiers: Modifiers {
                ctrl,
                ..Modifiers::default()
            },
        };
        assert_eq!(key("a", false).char(), Some('a'));
        assert_eq!(key("a", true).char(), None);
        assert_eq!(key("Enter", false).char(), None);
    }
}
