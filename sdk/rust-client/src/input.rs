//! The input snapshot delivered with every [`Frame`](crate::Frame): up to
//! four gamepads in the browser's standard mapping, the keys held (by DOM
//! code) and the pointer. Pads are filled only when the client declares
//! `gamepad`; pad 0 then also follows the keyboard (arrows or WASD for the
//! d-pad, Z/J for A, X/K for B, A/U for X, S/I for Y, Enter for start,
//! Shift for select).

/// A gamepad button, numbered as in the browser's standard mapping (and
/// the bit order of the WIT `gamepad.buttons` mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Button {
    /// The bottom face button (A on Xbox, Cross on PlayStation).
    A = 0,
    /// The right face button.
    B = 1,
    /// The left face button.
    X = 2,
    /// The top face button.
    Y = 3,
    /// The left bumper (shoulder).
    LeftBumper = 4,
    /// The right bumper.
    RightBumper = 5,
    /// The left trigger, as a button.
    LeftTrigger = 6,
    /// The right trigger, as a button.
    RightTrigger = 7,
    /// Select, back or view.
    Select = 8,
    /// Start, forward or menu.
    Start = 9,
    /// Pressing the left stick.
    LeftStick = 10,
    /// Pressing the right stick.
    RightStick = 11,
    /// D-pad up.
    Up = 12,
    /// D-pad down.
    Down = 13,
    /// D-pad left.
    Left = 14,
    /// D-pad right.
    Right = 15,
    /// The home (guide) button.
    Home = 16,
}

impl Button {
    /// Every button, in bit order.
    pub const ALL: [Button; 17] = [
        Button::A,
        Button::B,
        Button::X,
        Button::Y,
        Button::LeftBumper,
        Button::RightBumper,
        Button::LeftTrigger,
        Button::RightTrigger,
        Button::Select,
        Button::Start,
        Button::LeftStick,
        Button::RightStick,
        Button::Up,
        Button::Down,
        Button::Left,
        Button::Right,
        Button::Home,
    ];

    /// This button's bit in [`Gamepad::buttons`].
    pub const fn bit(self) -> u32 {
        1 << self as u8
    }

    /// The button called `name` ("a", "start", "left-bumper", "up", …,
    /// ignoring case, `-` or `_` between words).
    pub fn from_name(name: &str) -> Option<Button> {
        let wanted: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Button::ALL
            .into_iter()
            .find(|b| b.name().replace('-', "") == wanted)
    }

    /// The button's name: "a", "b", "x", "y", "left-bumper", …, "home".
    pub const fn name(self) -> &'static str {
        match self {
            Button::A => "a",
            Button::B => "b",
            Button::X => "x",
            Button::Y => "y",
            Button::LeftBumper => "left-bumper",
            Button::RightBumper => "right-bumper",
            Button::LeftTrigger => "left-trigger",
            Button::RightTrigger => "right-trigger",
            Button::Select => "select",
            Button::Start => "start",
            Button::LeftStick => "left-stick",
            Button::RightStick => "right-stick",
            Button::Up => "up",
            Button::Down => "down",
            Button::Left => "left",
            Button::Right => "right",
            Button::Home => "home",
        }
    }
}

/// One gamepad slot.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gamepad {
    /// Whether a pad is connected in this slot.
    pub connected: bool,
    /// The buttons held: bit n is [`Button`] n.
    pub buttons: u32,
    /// The left stick's x and y, -1.0 to 1.0 (right and down positive).
    pub left_stick: (f32, f32),
    /// The right stick's x and y.
    pub right_stick: (f32, f32),
    /// The left and right triggers, 0.0 to 1.0.
    pub triggers: (f32, f32),
}

impl Gamepad {
    /// How far a stick must lean to count in [`Gamepad::direction`].
    pub const DEAD_ZONE: f32 = 0.3;

    /// Whether `button` is held.
    pub fn held(&self, button: Button) -> bool {
        self.buttons & button.bit() != 0
    }

    /// The d-pad or the left stick as a direction: x and y each -1, 0 or 1
    /// (right and down positive). The d-pad wins when both are used.
    pub fn direction(&self) -> (i32, i32) {
        let axis =
            |minus: Button, plus: Button, stick: f32| match (self.held(minus), self.held(plus)) {
                (true, false) => -1,
                (false, true) => 1,
                (true, true) => 0,
                (false, false) if stick <= -Self::DEAD_ZONE => -1,
                (false, false) if stick >= Self::DEAD_ZONE => 1,
                (false, false) => 0,
            };
        (
            axis(Button::Left, Button::Right, self.left_stick.0),
            axis(Button::Up, Button::Down, self.left_stick.1),
        )
    }
}

/// The pointer over the screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointerState {
    /// Position in screen pixels (columns and rows on a text grid); may be
    /// outside the screen while a button is held.
    pub x: i32,
    /// See `x`.
    pub y: i32,
    /// Bit 0 primary, bit 1 secondary, bit 2 middle: the buttons held.
    pub buttons: u8,
    /// Whether the pointer is over the screen.
    pub inside: bool,
}

impl PointerState {
    /// Whether button `bit` (0 primary, 1 secondary, 2 middle) is held.
    pub fn held(&self, bit: u8) -> bool {
        bit < 8 && self.buttons & (1 << bit) != 0
    }
}

/// The input state at one frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    /// Four slots, in the order the browser numbers pads.
    pub gamepads: [Gamepad; 4],
    /// The keys held, as DOM `KeyboardEvent.code` values ("KeyW",
    /// "ArrowUp", "Space", …), at most 16.
    pub keys: Vec<String>,
    /// The pointer.
    pub pointer: PointerState,
}

impl Input {
    /// Gamepad `index` (0 to 3); a disconnected pad past the end.
    pub fn pad(&self, index: usize) -> Gamepad {
        self.gamepads.get(index).copied().unwrap_or_default()
    }

    /// Whether the key with DOM code `code` is held.
    pub fn key_held(&self, code: &str) -> bool {
        self.keys.iter().any(|k| k == code)
    }
}

#[cfg(target_arch = "wasm32")]
mod convert {
    use super::*;
    use crate::bindings::lodge::app0_2::input as wit;

    impl From<wit::Gamepad> for Gamepad {
        fn from(g: wit::Gamepad) -> Self {
            Gamepad {
                connected: g.connected,
                buttons: g.buttons,
                left_stick: g.left_stick,
                right_stick: g.right_stick,
                triggers: g.triggers,
            }
        }
    }

    impl From<wit::Snapshot> for Input {
        fn from(s: wit::Snapshot) -> Self {
            let mut gamepads = [Gamepad::default(); 4];
            for (slot, pad) in gamepads.iter_mut().zip(s.gamepads) {
                *slot = pad.into();
            }
            Input {
                gamepads,
                keys: s.keys,
                pointer: PointerState {
                    x: s.pointer.x,
                    y: s.pointer.y,
                    buttons: s.pointer.buttons,
                    inside: s.pointer.inside,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_follow_the_standard_mapping_bits() {
        assert_eq!(Button::A.bit(), 1);
        assert_eq!(Button::Start.bit(), 1 << 9);
        assert_eq!(Button::Up.bit(), 1 << 12);
        assert_eq!(Button::Home.bit(), 1 << 16);
        for (i, b) in Button::ALL.iter().enumerate() {
            assert_eq!(*b as usize, i);
            assert_eq!(Button::from_name(b.name()), Some(*b));
        }
        assert_eq!(Button::from_name("Left_Bumper"), Some(Button::LeftBumper));
        assert_eq!(Button::from_name("turbo"), None);
    }

    #[test]
    fn direction_prefers_the_dpad_and_ignores_a_small_lean() {
        let mut pad = Gamepad {
            connected: true,
            left_stick: (0.2, -0.9),
            ..Gamepad::default()
        };
        assert_eq!(pad.direction(), (0, -1));
        pad.buttons = Button::Right.bit() | Button::Down.bit();
        assert_eq!(pad.direction(), (1, 1));
        pad.buttons |= Button::Left.bit();
        assert_eq!(pad.direction(), (0, 1));
    }

    #[test]
    fn pads_past_the_fourth_are_disconnected() {
        let input = Input::default();
        assert!(!input.pad(7).connected);
    }
}
