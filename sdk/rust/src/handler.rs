//! The [`Room`] trait and the [`export_room!`](crate::export_room) macro.

use crate::room::Phase;
use crate::{Member, MemberId, Message};

/// The server side of an app. Lodge keeps one value of this type per live
/// room and calls its handlers one at a time, in the order events arrive.
///
/// Every handler has a default that does nothing (and `on_join` accepts
/// everyone), so implement only what the room needs. A panic ends the room:
/// its members are disconnected with the reason, and the next join starts a
/// fresh instance (data in [`kv`](crate::kv) survives).
pub trait Room: Default + 'static {
    /// Someone asks to join, as a player or a spectator
    /// ([`room::role`](crate::room::role) tells which). Return `Err(reason)`
    /// to refuse them; the reason reaches their client in the WebSocket close
    /// frame. They appear in [`members::list`](crate::members::list) only
    /// once this returns `Ok`.
    fn on_join(&mut self, member: &Member) -> Result<(), String> {
        let _ = member;
        Ok(())
    }

    /// A member sent a message.
    fn on_message(&mut self, from: MemberId, message: Message) {
        let _ = (from, message);
    }

    /// A member left: they closed the connection, were kicked, were
    /// disconnected by the server, or did not come back within
    /// `[room].reconnect-seconds` of a drop.
    fn on_leave(&mut self, member: &Member) {
        let _ = member;
    }

    /// A timer set with [`timers::set`](crate::timers::set) fired.
    fn on_timer(&mut self, tag: &str) {
        let _ = tag;
    }

    /// A member's connection dropped. Their seat is held for
    /// `[room].reconnect-seconds`; what is sent to them meanwhile waits for
    /// them. [`on_rejoin`](Room::on_rejoin) or [`on_leave`](Room::on_leave)
    /// follows.
    fn on_drop(&mut self, member: &Member) {
        let _ = member;
    }

    /// A dropped member came back: the same id, with what was sent to them
    /// while they were away delivered first.
    fn on_rejoin(&mut self, member: &Member) {
        let _ = member;
    }

    /// The host started the room from its lobby (Lodge's start button, or
    /// `POST …/rooms/{room}/start`). Not called for
    /// [`room::set_phase`](crate::room::set_phase), which the room makes itself.
    fn on_phase(&mut self, phase: Phase) {
        let _ = phase;
    }
}

/// Exports a [`Room`] type as this component's room part.
///
/// ```ignore
/// #[derive(Default)]
/// struct Chat;
/// impl lodge_sdk::Room for Chat {}
/// lodge_sdk::export_room!(Chat);
/// ```
#[macro_export]
macro_rules! export_room {
    ($room:ty) => {
        const _: () = {
            ::std::thread_local! {
                static ROOM: ::std::cell::RefCell<$room> = ::std::cell::RefCell::new(<$room as ::std::default::Default>::default());
            }

            struct Export;

            impl $crate::bindings::exports::lodge::app::room_events::Guest for Export {
                fn on_join(member: $crate::bindings::lodge::app::types::Member) -> ::std::result::Result<(), ::std::string::String> {
                    let member = $crate::Member::from(member);
                    ROOM.with_borrow_mut(|room| $crate::Room::on_join(room, &member))
                }

                fn on_message(from: u64, message: $crate::bindings::lodge::app::types::Payload) {
                    ROOM.with_borrow_mut(|room| $crate::Room::on_message(room, from, message.into()))
                }

                fn on_leave(member: $crate::bindings::lodge::app::types::Member) {
                    let member = $crate::Member::from(member);
                    ROOM.with_borrow_mut(|room| $crate::Room::on_leave(room, &member))
                }

                fn on_timer(tag: ::std::string::String) {
                    ROOM.with_borrow_mut(|room| $crate::Room::on_timer(room, &tag))
                }

                fn on_drop(member: $crate::bindings::lodge::app::types::Member) {
                    let member = $crate::Member::from(member);
                    ROOM.with_borrow_mut(|room| $crate::Room::on_drop(room, &member))
                }

                fn on_rejoin(member: $crate::bindings::lodge::app::types::Member) {
                    let member = $crate::Member::from(member);
                    ROOM.with_borrow_mut(|room| $crate::Room::on_rejoin(room, &member))
                }

                fn on_phase(phase: $crate::bindings::lodge::app0_3::room_control::Phase) {
                    ROOM.with_borrow_mut(|room| $crate::Room::on_phase(room, phase.into()))
                }
            }

            $crate::bindings::export_room_bindings!(Export with_types_in $crate::bindings::generated);
        };
    };
}
