//! `identity`: whether a member signed in, and with which account, so a
//! room can tell a verified name from a guest's display name. Reads the
//! room's member slots (`Members`); it has no state of its own.

use super::{GuestState, Members};
use crate::bindings::lodge::app0_2::identity;
use wasmtime::component::{HasSelf, Linker};

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    identity::add_to_linker::<GuestState, HasSelf<Members>>(linker, |s| s.get_mut::<Members>())
}

impl Members {
    /// The account of a member the room may ask about: one in the room, the
    /// one joining, or the one leaving.
    fn account_of(&self, id: u64) -> Option<&str> {
        if let Some((leaving, account)) = &self.leaving
            && *leaving == id
        {
            return account.as_deref();
        }
        self.reachable(id)?.account.as_deref()
    }
}

impl identity::Host for Members {
    async fn account(&mut self, member: u64) -> Option<String> {
        self.account_of(member).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemberSlot;
    use super::*;
    use identity::Host;

    #[tokio::test]
    async fn an_account_is_known_from_on_join_until_on_leave_returns() {
        let mut members = Members::for_tests();
        members.joining = Some((1, MemberSlot::for_tests("Alice", Some("alice"))));
        assert_eq!(members.account(1).await.as_deref(), Some("alice"));
        let (id, slot) = members.joining.take().unwrap();
        members.members.insert(id, slot);
        members
            .members
            .insert(2, MemberSlot::for_tests("bob", None));
        assert_eq!(members.account(1).await.as_deref(), Some("alice"));
        assert_eq!(members.account(2).await, None, "a guest has no account");
        assert_eq!(members.account(3).await, None, "nobody has id 3");

        let slot = members.members.remove(&1).unwrap();
        members.leaving = Some((1, slot.account));
        assert_eq!(members.account(1).await.as_deref(), Some("alice"));
        members.leaving = None;
        assert_eq!(members.account(1).await, None, "alice has left");
    }
}
