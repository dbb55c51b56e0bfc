//! Talking to the members of the current room.

use crate::bindings::lodge::app::members as host;
use crate::{Member, MemberId, Message};

/// Queues `message` for one member. Unknown ids are ignored.
pub fn send(to: MemberId, message: &Message) {
    host::send(to, &message.into());
}

/// Queues `message` for every member.
pub fn broadcast(message: &Message) {
    host::broadcast(&message.into(), &[]);
}

/// Queues `message` for every member except those in `except`.
pub fn broadcast_except(message: &Message, except: &[MemberId]) {
    host::broadcast(&message.into(), except);
}

/// The members in the room now, in join order.
pub fn list() -> Vec<Member> {
    host::all().into_iter().map(Member::from).collect()
}

/// Disconnects a member; `reason` reaches their client in the close frame.
pub fn kick(who: MemberId, reason: &str) {
    host::kick(who, reason);
}
