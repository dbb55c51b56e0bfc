//! The store data of every guest instance, room or http: WASI, the resource
//! table, limits and turns, who it is, and the state of each capability it
//! was granted.

use super::wasi_http::Outbound;
use super::{CAPABILITIES, Capability};
use crate::epoch::{Guest, GuestCore};
use crate::rooms::{Directory, Event, Metadata, RoomConfig, RoomSettings, Seats};
use crate::shared::Shared;
use lodge_manifest::{CapabilityName, Role};
use std::any::Any;
use tokio::sync::mpsc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What a room adds to an instance's context: its mailbox (timers fire into
/// it), the server's room settings, the directory of live rooms, and the
/// room's own settings and seats.
pub(crate) struct RoomContext<'a> {
    pub name: &'a str,
    pub mailbox: &'a mpsc::Sender<Event>,
    pub config: &'a RoomConfig,
    pub directory: &'a std::sync::Arc<dyn Directory>,
    /// The room's own settings, seats and initial metadata (`room-control`).
    pub settings: &'a std::sync::Arc<RoomSettings>,
    pub seats: &'a std::sync::Arc<Seats>,
    pub metadata: &'a Metadata,
    /// The room's fence, carried by its kv writes.
    pub fence: Option<i64>,
}

/// Everything a capability may build its per-instance state from.
pub(crate) struct InstanceContext<'a> {
    pub shared: &'a Shared,
    pub role: Role,
    pub app: &'a str,
    /// For room parts.
    pub room: Option<RoomContext<'a>>,
    /// `[http].allowed-hosts`, for http parts.
    pub allowed_hosts: &'a [String],
    /// `lodge serve --http-allow-private-outbound`.
    pub allow_private_outbound: bool,
}

/// The store data of one instance.
pub(crate) struct GuestState {
    pub app: String,
    /// The room, for a room part.
    pub room: Option<String>,
    pub role: Role,
    /// The capabilities this instance has, granted or declared.
    pub granted: Vec<&'static Capability>,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outbound: Outbound,
    pub table: ResourceTable,
    /// CPU budget, memory limits and turns.
    pub core: GuestCore,
    /// Each granted capability's own state, built by its `instance` function.
    states: Vec<Box<dyn Any + Send>>,
}

impl GuestState {
    /// The state for a part of `ctx.role` that declared `declared`.
    pub fn new(ctx: &InstanceContext<'_>, declared: &[CapabilityName], core: GuestCore) -> Self {
        let granted: Vec<&'static Capability> = CAPABILITIES
            .iter()
            .filter(|c| c.granted(ctx.role, declared))
            .collect();
        let states = CAPABILITIES
            .iter()
            .filter(|c| c.linked(ctx.role, declared))
            .filter_map(|c| c.instance.map(|build| build(ctx)))
            .collect();
        Self {
            app: ctx.app.to_owned(),
            room: ctx.room.as_ref().map(|r| r.name.to_owned()),
            role: ctx.role,
            wasi: super::wasi::context(ctx),
            http: WasiHttpCtx::new(),
            outbound: Outbound::new(ctx),
            table: ResourceTable::new(),
            core,
            granted,
            states,
        }
    }

    /// The state of capability module `T`. Host calls reach it only when
    /// the capability was linked, which means it was built too.
    pub fn get<T: Any>(&self) -> &T {
        match self.states.iter().find_map(|s| s.downcast_ref()) {
            Some(state) => state,
            None => self.missing::<T>(),
        }
    }

    pub fn get_mut<T: Any>(&mut self) -> &mut T {
        match self.states.iter().position(|s| s.is::<T>()) {
            Some(i) => self.states[i]
                .downcast_mut()
                .expect("its type was just checked"),
            None => self.missing::<T>(),
        }
    }

    /// The state of `T`, if this instance has that capability.
    pub fn try_get<T: Any>(&self) -> Option<&T> {
        self.states.iter().find_map(|s| s.downcast_ref())
    }

    pub fn try_get_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.states.iter_mut().find_map(|s| s.downcast_mut())
    }

    /// A capability row links an interface but built no state for it: a
    /// bug in the table, never the guest's doing.
    fn missing<T>(&self) -> ! {
        let granted: Vec<&str> = self.granted.iter().map(|c| c.name).collect();
        panic!(
            "{} used by a {} part of {} (room {:?}) that has no such state; granted: {granted:?}",
            std::any::type_name::<T>(),
            self.role,
            self.app,
            self.room,
        )
    }
}

impl Guest for GuestState {
    fn core(&mut self) -> &mut GuestCore {
        &mut self.core
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for GuestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
