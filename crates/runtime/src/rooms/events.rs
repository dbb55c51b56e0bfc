//! The events a room part exports, in either version: `room-events@0.1.0`
//! (the 0.1 and 0.2 worlds) or `@0.3.0`, which adds drops, rejoins and
//! phase changes. A 0.1 room is simply not told about those.

use crate::bindings::exports::lodge::app::room_events as v0_1;
use crate::bindings::exports::lodge::app0_3::room_events as v0_3;
use crate::bindings::lodge::app::types;
use crate::bindings::lodge::app0_3::room_control;
use crate::capabilities::GuestState;
use lodge_manifest::Phase;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

/// Where a component's `room-events` export is, found once per room start.
pub(crate) enum EventIndices {
    V0_1(v0_1::GuestIndices),
    V0_3(v0_3::GuestIndices),
}

impl EventIndices {
    /// The export of the newest version the component has.
    pub(crate) fn new(pre: &InstancePre<GuestState>) -> wasmtime::Result<Self> {
        match v0_3::GuestIndices::new(pre) {
            Ok(indices) => Ok(Self::V0_3(indices)),
            Err(_) => Ok(Self::V0_1(v0_1::GuestIndices::new(pre)?)),
        }
    }

    pub(crate) fn load(
        &self,
        store: &mut Store<GuestState>,
        instance: &Instance,
    ) -> wasmtime::Result<RoomEvents> {
        Ok(match self {
            Self::V0_1(indices) => RoomEvents::V0_1(indices.load(store, instance)?),
            Self::V0_3(indices) => RoomEvents::V0_3(indices.load(store, instance)?),
        })
    }
}

/// A room instance's exported events.
pub(crate) enum RoomEvents {
    V0_1(v0_1::Guest),
    V0_3(v0_3::Guest),
}

type Outcome<T> = wasmtime::Result<T>;

impl RoomEvents {
    pub(crate) async fn on_join(
        &self,
        store: &mut Store<GuestState>,
        member: &types::Member,
    ) -> Outcome<Result<(), String>> {
        match self {
            Self::V0_1(e) => e.call_on_join(store, member).await,
            Self::V0_3(e) => e.call_on_join(store, member).await,
        }
    }

    pub(crate) async fn on_message(
        &self,
        store: &mut Store<GuestState>,
        sender: u64,
        message: &types::Payload,
    ) -> Outcome<()> {
        match self {
            Self::V0_1(e) => e.call_on_message(store, sender, message).await,
            Self::V0_3(e) => e.call_on_message(store, sender, message).await,
        }
    }

    pub(crate) async fn on_leave(
        &self,
        store: &mut Store<GuestState>,
        member: &types::Member,
    ) -> Outcome<()> {
        match self {
            Self::V0_1(e) => e.call_on_leave(store, member).await,
            Self::V0_3(e) => e.call_on_leave(store, member).await,
        }
    }

    pub(crate) async fn on_timer(&self, store: &mut Store<GuestState>, tag: &str) -> Outcome<()> {
        match self {
            Self::V0_1(e) => e.call_on_timer(store, tag).await,
            Self::V0_3(e) => e.call_on_timer(store, tag).await,
        }
    }

    pub(crate) async fn on_drop(
        &self,
        store: &mut Store<GuestState>,
        member: &types::Member,
    ) -> Outcome<()> {
        match self {
            Self::V0_1(_) => Ok(()),
            Self::V0_3(e) => e.call_on_drop(store, member).await,
        }
    }

    pub(crate) async fn on_rejoin(
        &self,
        store: &mut Store<GuestState>,
        member: &types::Member,
    ) -> Outcome<()> {
        match self {
            Self::V0_1(_) => Ok(()),
            Self::V0_3(e) => e.call_on_rejoin(store, member).await,
        }
    }

    pub(crate) async fn on_phase(
        &self,
        store: &mut Store<GuestState>,
        phase: Phase,
    ) -> Outcome<()> {
        match self {
            Self::V0_1(_) => Ok(()),
            Self::V0_3(e) => {
                e.call_on_phase(store, room_control::Phase::from(phase))
                    .await
            }
        }
    }
}
