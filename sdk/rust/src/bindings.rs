//! Generated bindings for Lodge's room world, `lodge:app/room@0.3.0`. Not
//! for authors: use the modules of this crate instead.
//!
//! The 0.3 world imports `members`, `log`, `kv`, `timers`, `presence` and
//! `types` at 0.1.0, `identity` at 0.2.0 and `room-control` at 0.3.0, and
//! exports `room-events@0.3.0`. Only the interfaces a room calls end up
//! imported by its component, so a room that calls neither `identity` nor
//! `room-control` imports what a 0.1 room did.

#![allow(missing_docs)]

/// The bindings as wit-bindgen generates them: `lodge::app0_1_0::…`,
/// `lodge::app0_2_0::…`, `lodge::app0_3_0::…` and
/// `exports::lodge::app0_3_0::room_events`.
pub mod generated {
    wit_bindgen::generate!({
        path: ["../../wit", "../../wit/v0.2", "../../wit/v0.3"],
        world: "lodge:app/room@0.3.0",
        pub_export_macro: true,
        export_macro_name: "export_room_bindings",
        default_bindings_module: "lodge_sdk::bindings::generated",
        generate_all,
    });
}

/// The 0.1.0 interfaces under the path the shared sources (`kv.rs`, `log.rs`
/// and `message.rs`, also used by `lodge-http` and `lodge-client`) use:
/// `crate::bindings::lodge::app::…`; the 0.2.0 ones under `lodge::app0_2`,
/// the 0.3.0 ones under `lodge::app0_3`.
pub mod lodge {
    pub mod app {
        pub use super::super::generated::lodge::app0_1_0::*;
    }
    pub use super::generated::lodge::app0_2_0 as app0_2;
    pub use super::generated::lodge::app0_3_0 as app0_3;
}

/// The room's export, `room-events@0.3.0`.
pub mod exports {
    pub mod lodge {
        pub mod app {
            pub use crate::bindings::generated::exports::lodge::app0_3_0::*;
        }
    }
}

pub use generated::export_room_bindings;

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
