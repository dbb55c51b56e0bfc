//! Standard WASI 0.2 for every part: clocks, randomness, an empty
//! environment and filesystem, stdout and stderr into the app's log. Sockets
//! are linked too, so toolchains whose runtime imports them (CPython, for
//! one) run unmodified, but nothing grants them: opening a socket or looking
//! up a name fails with WASI's "access denied", and the app's log says so
//! once per instance.

use super::{GuestState, InstanceContext};
use crate::logs::AppLogs;
use crate::wasi_log::LogStream;
use std::any::Any;
use std::collections::HashSet;
use wasmtime::component::{HasSelf, Linker, Resource};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    self, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{
    self, ErrorCode, IpAddress, IpAddressFamily, Network,
};
use wasmtime_wasi::p2::bindings::sockets::{tcp_create_socket, udp_create_socket};
use wasmtime_wasi::p2::{DynPollable, SocketError, SocketResult, TcpSocket, UdpSocket};

/// The WASI interfaces this server links, without version.
pub(super) const INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The WASI sockets interfaces, linked to deny.
pub(super) const SOCKETS: &[&str] = &[
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/ip-name-lookup",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
];

/// The WASI context of one instance: no arguments, no environment, no
/// preopened directories, no network; stdout and stderr go to the app's log.
pub(super) fn context(ctx: &InstanceContext<'_>) -> WasiCtx {
    let stream = |level| LogStream {
        logs: ctx.shared.logs.clone(),
        app: ctx.app.to_owned(),
        room: ctx.room.as_ref().map(|r| r.name.to_owned()),
        level,
    };
    wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(stream("info"))
        .stderr(stream("warn"))
        .build()
}

/// Links all of WASI; sockets are linked too, and [`deny_sockets`] puts
/// [`Denied`] in front of the calls that would open one.
pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)
}

/// Replaces the calls that would open a socket or look up a name with
/// [`Denied`]'s (after [`link`], which the table lists first).
pub(super) fn deny_sockets(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    tcp_create_socket::add_to_linker::<GuestState, HasSelf<Denied>>(linker, denied)?;
    udp_create_socket::add_to_linker::<GuestState, HasSelf<Denied>>(linker, denied)?;
    ip_name_lookup::add_to_linker::<GuestState, HasSelf<Denied>>(linker, denied)?;
    linker.allow_shadowing(false);
    Ok(())
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    Box::new(Denied {
        app: ctx.app.to_owned(),
        room: ctx.room.as_ref().map(|r| r.name.to_owned()),
        logs: ctx.shared.logs.clone(),
        reported: HashSet::new(),
        role: ctx.role,
    })
}

fn denied(state: &mut GuestState) -> &mut Denied {
    state.get_mut::<Denied>()
}

/// Answers the socket calls no capability grants, and tells the app's log.
pub(crate) struct Denied {
    app: String,
    room: Option<String>,
    logs: AppLogs,
    role: lodge_manifest::Role,
    /// What was already reported, so a guest retrying in a loop writes one line.
    reported: HashSet<&'static str>,
}

impl Denied {
    fn deny(&mut self, what: &'static str) -> ErrorCode {
        if self.reported.insert(what) {
            let instead = match self.role {
                lodge_manifest::Role::Http => {
                    "; an http part reaches other servers with outgoing HTTP requests (wasi:http) to the hosts it lists in [http].allowed-hosts"
                }
                _ => "",
            };
            self.logs.lodge(
                &self.app,
                self.room.as_deref(),
                "warn",
                format!(
                    "{what} denied (access-denied): no capability grants wasi:sockets to Lodge parts{instead}"
                ),
            );
        }
        ErrorCode::AccessDenied
    }
}

impl tcp_create_socket::Host for Denied {
    fn create_tcp_socket(&mut self, _: IpAddressFamily) -> SocketResult<Resource<TcpSocket>> {
        Err(self.deny("opening a TCP socket").into())
    }
}

impl udp_create_socket::Host for Denied {
    async fn create_udp_socket(&mut self, _: IpAddressFamily) -> SocketResult<Resource<UdpSocket>> {
        Err(self.deny("opening a UDP socket").into())
    }
}

impl ip_name_lookup::Host for Denied {
    fn resolve_addresses(
        &mut self,
        _: Resource<Network>,
        _name: String,
    ) -> SocketResult<Resource<ResolveAddressStream>> {
        Err(self.deny("a name lookup").into())
    }
}

/// No stream is ever handed out (every lookup is denied), so these are
/// never reached with a live resource.
impl HostResolveAddressStream for Denied {
    fn resolve_next_address(
        &mut self,
        _: Resource<ResolveAddressStream>,
    ) -> SocketResult<Option<IpAddress>> {
        Err(ErrorCode::InvalidState.into())
    }

    fn subscribe(
        &mut self,
        _: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime::bail!("no name lookup stream exists")
    }

    fn drop(&mut self, _: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        Ok(())
    }
}

/// What the socket interfaces above require of their host; the `network`
/// interface itself stays wasmtime's.
impl network::Host for Denied {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        error.downcast()
    }

    fn network_error_code(
        &mut self,
        _: Resource<wasmtime_wasi::p2::bindings::io::error::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        Ok(None)
    }
}

impl network::HostNetwork for Denied {
    fn drop(&mut self, _: Resource<Network>) -> wasmtime::Result<()> {
        Ok(())
    }
}
