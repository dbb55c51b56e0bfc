//! Who a member is beyond the name they joined with: the account they
//! signed in with, or none for a guest (whose name is only a display name).
//!
//! Needs `capabilities = ["identity"]` in the manifest's `[room]` table.

use crate::MemberId;
use crate::bindings::lodge::app0_2::identity as host;

/// The account `member` signed in with, or `None` for a guest. Known from
/// the member's `on_join` until their `on_leave` returns; `None` for any
/// other id.
pub fn account(member: MemberId) -> Option<String> {
    host::account(member)
}
