//! The [`Client`] trait and the [`export_client!`](crate::export_client) macro.

use crate::input::Input;
use crate::{Frame, Init, Key, Message, Pointer, Size};
use std::cell::RefCell;

/// The browser side of an app. The page keeps one value of this type and
/// calls its handlers one at a time, in the order events happen.
///
/// Every handler has a default that does nothing, so implement only what the
/// client needs. A terminal client draws from any handler with
/// [`terminal`](crate::terminal) (the page shows the grid after each
/// handler returns); a `screen` client usually draws in
/// [`on_frame`](Client::on_frame) and presents a
/// [`Framebuffer`](crate::screen::Framebuffer). A panic stops the client and
/// the page shows the reason.
pub trait Client: Default + 'static {
    /// The first event, before any other.
    fn on_init(&mut self, init: &Init) {
        let _ = init;
    }

    /// A key went down, or repeats while held (see [`Key::repeat`]).
    fn on_key(&mut self, key: &Key) {
        let _ = key;
    }

    /// A key came up.
    fn on_key_up(&mut self, key: &Key) {
        let _ = key;
    }

    /// The pointer went down, up, moved, or the wheel turned.
    fn on_pointer(&mut self, pointer: &Pointer) {
        let _ = pointer;
    }

    /// The room sent a message.
    fn on_message(&mut self, message: Message) {
        let _ = message;
    }

    /// A timer set with [`timers::set`](crate::timers::set) fired.
    fn on_timer(&mut self, tag: &str) {
        let _ = tag;
    }

    /// The text grid changed size; its cells are cleared, so redraw.
    fn on_resize(&mut self, size: Size) {
        let _ = size;
    }

    /// The connection to the room is open (also after a rejoin).
    fn on_connected(&mut self) {}

    /// The connection to the room closed; `reason` says why.
    fn on_disconnected(&mut self, reason: &str) {
        let _ = reason;
    }

    /// A display frame, with the time and the input snapshot. A `screen`
    /// client gets one every display frame; a terminal client while it asked
    /// for them with [`frames::request_ticks`](crate::frames::request_ticks).
    /// By default it calls [`on_tick`](Client::on_tick) with the time.
    fn on_frame(&mut self, frame: &Frame) {
        self.on_tick(frame.time_ms);
    }

    /// A display frame's time, in milliseconds since the client started
    /// (called by the default [`on_frame`](Client::on_frame)).
    fn on_tick(&mut self, now_ms: f64) {
        let _ = now_ms;
    }
}

thread_local! {
    /// The previous frame's input, for [`Frame::previous`].
    static PREVIOUS: RefCell<Input> = RefCell::new(Input::default());
}

/// Routes one event to its handler (used by [`export_client!`](crate::export_client)).
pub fn dispatch<C: Client>(
    client: &mut C,
    event: crate::bindings::exports::lodge::app0_2_0::client_events::Event,
) {
    use crate::bindings::exports::lodge::app0_2_0::client_events::Event;
    match event {
        Event::Init(init) => client.on_init(&init.into()),
        Event::KeyDown(key) => client.on_key(&key.into()),
        Event::KeyUp(key) => client.on_key_up(&key.into()),
        Event::Pointer(pointer) => client.on_pointer(&pointer.into()),
        Event::Message(message) => client.on_message(message.into()),
        Event::Timer(tag) => client.on_timer(&tag),
        Event::Resize(size) => client.on_resize(Size {
            cols: size.cols,
            rows: size.rows,
        }),
        Event::Connected => client.on_connected(),
        Event::Disconnected(reason) => client.on_disconnected(&reason),
        Event::Frame(frame) => {
            let input: Input = frame.input.into();
            let previous = PREVIOUS.replace(input.clone());
            client.on_frame(&Frame {
                time_ms: frame.time_ms,
                delta_ms: frame.delta_ms,
                frames: frame.frames,
                input,
                previous,
            });
        }
    }
}

/// Exports a [`Client`] type as this component's client part.
///
/// ```ignore
/// #[derive(Default)]
/// struct Game;
/// impl lodge_client::Client for Game {}
/// lodge_client::export_client!(Game);
/// ```
#[macro_export]
macro_rules! export_client {
    ($client:ty) => {
        const _: () = {
            ::std::thread_local! {
                static CLIENT: ::std::cell::RefCell<$client> = ::std::cell::RefCell::new(<$client as ::std::default::Default>::default());
            }

            struct Export;

            impl $crate::bindings::exports::lodge::app0_2_0::client_events::Guest for Export {
                fn handle(event: $crate::bindings::exports::lodge::app0_2_0::client_events::Event) {
                    CLIENT.with_borrow_mut(|client| $crate::__dispatch(client, event))
                }
            }

            $crate::bindings::generated::export_client_bindings!(Export with_types_in $crate::bindings::generated);
        };
    };
}
