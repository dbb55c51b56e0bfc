//! The [`Client`] trait and the [`export_client!`](crate::export_client) macro.

use crate::{Init, Key, Message, Pointer, Size};

/// The browser side of an app. The page keeps one value of this type and
/// calls its handlers one at a time, in the order events happen.
///
/// Every handler has a default that does nothing, so implement only what the
/// client needs. Drawing is done from any handler with
/// [`terminal`](crate::terminal); the page shows the grid after each handler
/// returns. A panic stops the client and the page shows the reason.
pub trait Client: Default + 'static {
    /// The first event, before any other.
    fn on_init(&mut self, init: &Init) {
        let _ = init;
    }

    /// A key was pressed while the grid had focus.
    fn on_key(&mut self, key: &Key) {
        let _ = key;
    }

    /// The pointer went down, up, moved to another cell, or the wheel turned.
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

    /// The grid changed size; its cells are cleared, so redraw.
    fn on_resize(&mut self, size: Size) {
        let _ = size;
    }

    /// The connection to the room is open (also after a rejoin).
    fn on_connected(&mut self) {}

    /// The connection to the room closed; `reason` says why.
    fn on_disconnected(&mut self, reason: &str) {
        let _ = reason;
    }

    /// A display frame, while ticks are on (see [`frames`](crate::frames)):
    /// milliseconds since the page started.
    fn on_tick(&mut self, now_ms: f64) {
        let _ = now_ms;
    }
}

/// Routes one event to its handler (used by [`export_client!`](crate::export_client)).
pub fn dispatch<C: Client>(
    client: &mut C,
    event: crate::bindings::exports::lodge::app::client_events::Event,
) {
    use crate::bindings::exports::lodge::app::client_events::Event;
    match event {
        Event::Init(init) => client.on_init(&init.into()),
        Event::Key(key) => client.on_key(&key.into()),
        Event::Pointer(pointer) => client.on_pointer(&pointer.into()),
        Event::Message(message) => client.on_message(message.into()),
        Event::Timer(tag) => client.on_timer(&tag),
        Event::Resize(size) => client.on_resize(size.into()),
        Event::Connected => client.on_connected(),
        Event::Disconnected(reason) => client.on_disconnected(&reason),
        Event::Tick(now) => client.on_tick(now),
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

            impl $crate::bindings::exports::lodge::app::client_events::Guest for Export {
                fn handle(event: $crate::bindings::exports::lodge::app::client_events::Event) {
                    CLIENT.with_borrow_mut(|client| $crate::__dispatch(client, event))
                }
            }

            $crate::bindings::export_client_bindings!(Export with_types_in $crate::bindings);
        };
    };
}
