//! `room-control`: the room itself as its room part sees it (phase, host,
//! roles, seats, metadata). The state lives beside the members in
//! [`Members`], since roles and the host are facts about members; the
//! actor reads it after every call to update the room list.

use super::{GuestState, Members};
use crate::bindings::lodge::app0_3::room_control;
use crate::rooms::{MemberRole, Metadata, RoomSettings, Seats, set_metadata};
use lodge_manifest::Phase;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker};

/// A room's phase, host and metadata, and what it was created with.
pub(crate) struct RoomControl {
    pub phase: Phase,
    /// The player who may start the room and hand the role on.
    pub host: Option<u64>,
    pub metadata: Metadata,
    pub settings: Arc<RoomSettings>,
    pub seats: Arc<Seats>,
    /// Something the room list shows changed since the actor last looked.
    pub dirty: bool,
}

impl RoomControl {
    pub(crate) fn new(settings: &Arc<RoomSettings>, seats: Arc<Seats>, metadata: Metadata) -> Self {
        Self {
            phase: settings.first_phase(),
            host: None,
            metadata,
            settings: settings.clone(),
            seats,
            dirty: true,
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        let settings = Arc::new(RoomSettings {
            max_players: 2,
            max_spectators: 1,
            start: lodge_manifest::RoomStart::Lobby,
            late_join: lodge_manifest::LateJoin::Spectate,
            visibility: lodge_manifest::RoomVisibility::Public,
            reconnect: std::time::Duration::from_secs(20),
            password: None,
        });
        Self::new(&settings, Arc::new(Seats::new(2)), Metadata::new())
    }
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    room_control::add_to_linker::<GuestState, HasSelf<Members>>(linker, |s| s.get_mut::<Members>())
}

impl From<Phase> for room_control::Phase {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::Lobby => room_control::Phase::Lobby,
            Phase::Playing => room_control::Phase::Playing,
        }
    }
}

impl From<room_control::Phase> for Phase {
    fn from(phase: room_control::Phase) -> Self {
        match phase {
            room_control::Phase::Lobby => Phase::Lobby,
            room_control::Phase::Playing => Phase::Playing,
        }
    }
}

impl From<MemberRole> for room_control::Role {
    fn from(role: MemberRole) -> Self {
        match role {
            MemberRole::Player => room_control::Role::Player,
            MemberRole::Spectator => room_control::Role::Spectator,
        }
    }
}

impl Members {
    /// Members of `role` in the room (connected or held).
    pub(crate) fn count(&self, role: MemberRole) -> usize {
        self.members.values().filter(|m| m.role == role).count()
    }

    /// Makes the earliest player the host when the room has none (its
    /// host left, or it had no players); none when it has no players.
    pub(crate) fn ensure_host(&mut self) {
        let host_is_player = self.control.host.is_some_and(|id| {
            self.members
                .get(&id)
                .is_some_and(|m| m.role == MemberRole::Player)
        });
        if !host_is_player {
            self.control.host = self
                .members
                .iter()
                .find(|(_, m)| m.role == MemberRole::Player)
                .map(|(id, _)| *id);
        }
    }

    /// Changes a member's role, if a seat of the other kind is free.
    pub(crate) fn change_role(&mut self, id: u64, role: MemberRole) -> Result<(), String> {
        let Some(current) = self.members.get(&id).map(|m| m.role) else {
            return Err(format!("member #{id} is not in the room"));
        };
        if current == role {
            return Ok(());
        }
        match role {
            MemberRole::Player => {
                let max = self.control.seats.max();
                if self.control.seats.take(None, Instant::now()).is_err() {
                    return Err(format!(
                        "no player seat is free ({max} players at most, reserved seats included)"
                    ));
                }
            }
            MemberRole::Spectator => {
                let max = self.control.settings.max_spectators;
                if self.count(MemberRole::Spectator) >= max as usize {
                    return Err(match max {
                        0 => "this room takes no spectators ([room].spectators)".to_owned(),
                        max => format!("the room has its most spectators ({max})"),
                    });
                }
            }
        }
        if let Some(member) = self.members.get_mut(&id) {
            member.role = role;
        }
        self.control.dirty = true;
        let players = self.count(MemberRole::Player);
        self.control.seats.set_members(players);
        self.ensure_host();
        Ok(())
    }
}

impl room_control::Host for Members {
    async fn current_phase(&mut self) -> room_control::Phase {
        self.control.phase.into()
    }

    async fn set_phase(&mut self, phase: room_control::Phase) {
        self.control.phase = phase.into();
        self.control.dirty = true;
    }

    async fn host(&mut self) -> Option<u64> {
        self.control.host
    }

    async fn set_host(&mut self, member: u64) -> Result<(), String> {
        match self.members.get(&member).map(|m| m.role) {
            Some(MemberRole::Player) => {
                self.control.host = Some(member);
                self.control.dirty = true;
                Ok(())
            }
            Some(MemberRole::Spectator) => Err(format!(
                "member #{member} is a spectator; only a player can be the host"
            )),
            None => Err(format!("member #{member} is not in the room")),
        }
    }

    async fn members(&mut self) -> Vec<room_control::MemberInfo> {
        self.members
            .iter()
            .map(|(id, m)| room_control::MemberInfo {
                id: *id,
                name: m.name.clone(),
                role: m.role.into(),
                connected: m.away_since.is_none(),
            })
            .collect()
    }

    async fn role_of(&mut self, member: u64) -> Option<room_control::Role> {
        match self.members.get(&member) {
            Some(m) => Some(m.role.into()),
            None => match &self.joining {
                Some((id, m)) if *id == member => Some(m.role.into()),
                _ => None,
            },
        }
    }

    async fn set_role(&mut self, member: u64, role: room_control::Role) -> Result<(), String> {
        let role = match role {
            room_control::Role::Player => MemberRole::Player,
            room_control::Role::Spectator => MemberRole::Spectator,
        };
        self.change_role(member, role)
    }

    async fn seats(&mut self) -> room_control::SeatCounts {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        room_control::SeatCounts {
            max_players: self.control.seats.max(),
            players: count(self.count(MemberRole::Player)),
            reserved: count(self.control.seats.reserved(Instant::now())),
            max_spectators: self.control.settings.max_spectators,
            spectators: count(self.count(MemberRole::Spectator)),
        }
    }

    async fn metadata(&mut self) -> Vec<(String, String)> {
        self.control
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    async fn set_metadata(&mut self, key: String, value: Option<String>) -> Result<(), String> {
        set_metadata(&mut self.control.metadata, &key, value.as_deref())
            .map_err(|e| e.to_string())?;
        self.control.dirty = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemberSlot;
    use super::*;
    use room_control::Host;

    #[tokio::test]
    async fn the_host_is_the_earliest_player_and_passes_on_when_they_go() {
        let mut members = Members::for_tests();
        let mut spectator = MemberSlot::for_tests("watcher", None);
        spectator.role = MemberRole::Spectator;
        members.members.insert(1, spectator);
        members.ensure_host();
        assert_eq!(members.host().await, None, "a spectator is never the host");
        members
            .members
            .insert(2, MemberSlot::for_tests("ann", None));
        members
            .members
            .insert(3, MemberSlot::for_tests("bob", None));
        members.ensure_host();
        assert_eq!(members.host().await, Some(2));
        assert!(members.set_host(1).await.is_err());
        members.set_host(3).await.unwrap();
        members.members.remove(&3);
        members.ensure_host();
        assert_eq!(members.host().await, Some(2));
    }

    #[tokio::test]
    async fn roles_change_only_into_free_seats() {
        let mut members = Members::for_tests(); // 2 players, 1 spectator
        for id in 1..=2 {
            members.control.seats.take(None, Instant::now()).unwrap();
            members
                .members
                .insert(id, MemberSlot::for_tests(&format!("p{id}"), None));
        }
        let mut spectator = MemberSlot::for_tests("s", None);
        spectator.role = MemberRole::Spectator;
        members.members.insert(3, spectator);
        let full = members.set_role(3, room_control::Role::Player).await;
        assert!(full.unwrap_err().contains("no player seat"));
        let no_room = members.set_role(1, room_control::Role::Spectator).await;
        assert!(no_room.unwrap_err().contains("most spectators"));
        members.members.remove(&3);
        members
            .set_role(1, room_control::Role::Spectator)
            .await
            .unwrap();
        assert_eq!(members.control.seats.members(), 1, "the seat is free again");
        members
            .set_role(1, room_control::Role::Player)
            .await
            .unwrap();
        assert_eq!(members.control.seats.members(), 2);
    }
}
