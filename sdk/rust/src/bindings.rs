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

use crate::Member;
use lodge::app::types;

impl From<types::Member> for Member {
    fn from(m: types::Member) -> Self {
        Member {
            id: m.id,
            name: m.name,
        }
    }
}
