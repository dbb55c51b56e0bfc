//! Generated bindings for Lodge's WIT worlds. Not for authors: use the
//! modules of this crate instead.

wit_bindgen::generate!({
    path: "../../wit",
    world: "lodge:app/room",
    pub_export_macro: true,
    export_macro_name: "export_room_bindings",
    default_bindings_module: "lodge_sdk::bindings",
    generate_all,
});

use crate::{Member, Message};
use lodge::app::types;

impl From<types::Member> for Member {
    fn from(m: types::Member) -> Self {
        Member {
            id: m.id,
            name: m.name,
        }
    }
}

impl From<types::Payload> for Message {
    fn from(p: types::Payload) -> Self {
        match p {
            types::Payload::Text(text) => Message::Text(text),
            types::Payload::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

impl From<&Message> for types::Payload {
    fn from(m: &Message) -> Self {
        match m {
            Message::Text(text) => types::Payload::Text(text.clone()),
            Message::Binary(bytes) => types::Payload::Binary(bytes.clone()),
        }
    }
}
