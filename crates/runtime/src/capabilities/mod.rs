//! Host interfaces as capability modules: the one table that lists every
//! capability, and the modules that implement them (each holds its own
//! per-instance state, its `Host` implementation and its link function).
//!
//! A capability lives through three moments, each read from its row:
//! - per engine: `link` adds its interfaces to a [`Linker`] (linkers are
//!   built once per part kind and grant set, in [`Linkers`]);
//! - per app version: a manifest declares it (`capabilities = [...]`), and
//!   the upload policy (`crate::policy`) accepts the interfaces it grants;
//! - per instance: `instance` builds its state into the [`GuestState`].
//!
//! Lodge's own interfaces are checked at upload: a part may import only what
//! its kind is granted or its manifest declares. Standard WASI interfaces are
//! linked for every part and deny at run time what nothing grants (a socket,
//! a name lookup, an outbound request to an unlisted host), so components
//! from real toolchains run unmodified.

mod identity;
mod kv;
mod linkers;
mod log;
mod members;
mod presence;
mod room_control;
mod state;
mod timers;
mod wasi;
mod wasi_http;

pub(crate) use linkers::Linkers;
pub(crate) use members::{Inbox, MemberSlot, Members};
pub(crate) use state::{GuestState, InstanceContext, RoomContext};
pub(crate) use timers::Timers;

use lodge_manifest::{CapabilityName, Manifest, ManifestError, Role};
use std::any::Any;
use wasmtime::component::Linker;

/// Which package a capability's interfaces come from, which decides their
/// version and what happens when a part imports them without a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// Lodge's own `lodge:app`, at the version that has these interfaces
    /// (`wit/` is 0.1.0, `wit/v0.2/` is 0.2.0, `wit/v0.3/` is 0.3.0; an interface that did not
    /// change keeps its version): an import nothing grants is refused at
    /// upload, naming the capability to declare.
    Lodge(&'static semver::Version),
    /// Standard WASI 0.2: always linked; what nothing grants is denied at
    /// run time with WASI's own "access denied".
    Wasi,
}

/// `lodge:app@0.1.0`, `wit/`: the room, client and http worlds.
pub const LODGE_0_1: semver::Version = semver::Version::new(0, 1, 0);
/// `lodge:app@0.2.0`, `wit/v0.2/`: the client world with pixels, sound,
/// gamepads and assets, and the room world with `identity`.
pub const LODGE_0_2: semver::Version = semver::Version::new(0, 2, 0);
/// `lodge:app@0.3.0`, `wit/v0.3/`: the room world with `room-control` and
/// `room-events@0.3.0` (lobbies, spectators, metadata, reconnection).
pub const LODGE_0_3: semver::Version = semver::Version::new(0, 3, 0);

impl Package {
    /// The newest version of these interfaces this server provides; a part
    /// may import any version of the same line up to it.
    pub fn version(self) -> semver::Version {
        match self {
            Package::Lodge(version) => version.clone(),
            Package::Wasi => crate::policy::HOST_WASI_VERSION,
        }
    }
}

/// Links a capability's interfaces into a linker.
pub(crate) type LinkFn = fn(&mut Linker<GuestState>) -> wasmtime::Result<()>;
/// Builds a capability's state for one instance.
pub(crate) type InstanceFn = fn(&InstanceContext<'_>) -> Box<dyn Any + Send>;

/// One row of the table: everything Lodge knows about one capability.
pub struct Capability {
    /// The name a manifest declares (`capabilities = ["kv"]`) and the page
    /// chooses its modules by.
    pub name: &'static str,
    /// What it gives a part, in a few words (for documentation and errors).
    pub summary: &'static str,
    pub package: Package,
    /// The interfaces it grants, without version (`lodge:app/kv`).
    pub interfaces: &'static [&'static str],
    /// The part kinds that may declare it in `lodge.toml`.
    pub declared_by: &'static [Role],
    /// The part kinds that get it without declaring it (their world has it),
    /// unless they declare another capability of the same `group`.
    pub granted_to: &'static [Role],
    /// Capabilities of one group are exclusive: a part declares at most one
    /// of them (a client draws on one kind of graphics).
    pub group: Option<&'static str>,
    /// Adds the interfaces to a linker; `None` for capabilities only the
    /// page implements (client parts never run on the server).
    link: Option<LinkFn>,
    /// Builds the per-instance state its host calls use, if it has any.
    instance: Option<InstanceFn>,
}

use Role::{Client, Http, Room};

/// Every capability Lodge has. Adding one means adding a row here and its
/// module beside this file (CONTRIBUTING.md, "Adding a capability").
pub static CAPABILITIES: &[Capability] = &[
    Capability {
        name: "wasi",
        summary: "WASI 0.2: clocks, randomness, an empty environment and filesystem, stdout and stderr into the app's log",
        package: Package::Wasi,
        interfaces: wasi::INTERFACES,
        declared_by: &[],
        granted_to: &[Room, Client, Http],
        group: None,
        link: Some(wasi::link),
        instance: None,
    },
    Capability {
        name: "wasi-sockets",
        summary: "sockets and name lookups: linked for server-side parts so toolchains that import them run, and always denied",
        package: Package::Wasi,
        interfaces: wasi::SOCKETS,
        declared_by: &[],
        granted_to: &[],
        group: None,
        link: Some(wasi::deny_sockets),
        instance: Some(wasi::instance),
    },
    Capability {
        name: "wasi-http",
        summary: "outgoing HTTP requests, to the hosts an http part lists in [http].allowed-hosts; denied for every other part",
        package: Package::Wasi,
        interfaces: &["wasi:http/types", "wasi:http/outgoing-handler"],
        declared_by: &[],
        granted_to: &[Http],
        group: None,
        link: Some(wasi_http::link),
        instance: None,
    },
    Capability {
        name: "members",
        summary: "the room's members: send, broadcast, list, kick",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/members", "lodge:app/types"],
        declared_by: &[],
        granted_to: &[Room],
        group: None,
        link: Some(members::link),
        instance: Some(members::instance),
    },
    Capability {
        name: "log",
        summary: "lines in the app's log",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/log"],
        declared_by: &[Room, Client, Http],
        granted_to: &[Room, Client],
        group: None,
        link: Some(log::link),
        instance: Some(log::instance),
    },
    Capability {
        name: "kv",
        summary: "durable key-value data, scoped to the room or the app",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/kv"],
        declared_by: &[Room, Http],
        granted_to: &[],
        group: None,
        link: Some(kv::link),
        instance: Some(kv::instance),
    },
    Capability {
        name: "timers",
        summary: "timers delivered as events",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/timers"],
        declared_by: &[Room, Client],
        granted_to: &[Client],
        group: None,
        link: Some(timers::link),
        instance: Some(timers::instance),
    },
    Capability {
        name: "presence",
        summary: "the app's live rooms and their member counts, read-only",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/presence"],
        declared_by: &[Room],
        granted_to: &[],
        group: None,
        link: Some(presence::link),
        instance: Some(presence::instance),
    },
    Capability {
        name: "identity",
        summary: "whether a member signed in, and with which account (else they are a guest with a display name)",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &["lodge:app/identity"],
        declared_by: &[Room],
        granted_to: &[],
        group: None,
        link: Some(identity::link),
        // Reads the member slots `members` keeps.
        instance: None,
    },
    Capability {
        name: "room-control",
        summary: "the room itself: its phase (lobby or playing), host, members' roles (player or spectator), seats and metadata",
        package: Package::Lodge(&LODGE_0_3),
        interfaces: &["lodge:app/room-control"],
        declared_by: &[],
        granted_to: &[Room],
        group: None,
        link: Some(room_control::link),
        // Its state lives beside the members, in `members`'s.
        instance: None,
    },
    Capability {
        name: "terminal",
        summary: "the text grid the page draws, and its keyboard and pointer (what a client draws on unless it declares \"screen\")",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/terminal", "lodge:app/types"],
        declared_by: &[Client],
        granted_to: &[Client],
        group: Some(GRAPHICS),
        link: None,
        instance: None,
    },
    Capability {
        name: "server",
        summary: "messages to and from the app's room",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/server", "lodge:app/types"],
        declared_by: &[],
        granted_to: &[Client],
        group: None,
        link: None,
        instance: None,
    },
    Capability {
        name: "frames",
        summary: "a tick on every display frame",
        package: Package::Lodge(&LODGE_0_1),
        interfaces: &["lodge:app/frames"],
        declared_by: &[],
        granted_to: &[Client],
        group: None,
        link: None,
        instance: None,
    },
    Capability {
        name: "screen",
        summary: "a pixel framebuffer (up to 1280×720, indexed with a palette or RGBA) presented every display frame, instead of the text grid",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &["lodge:app/screen"],
        declared_by: &[Client],
        granted_to: &[],
        group: Some(GRAPHICS),
        link: None,
        instance: None,
    },
    Capability {
        name: "input",
        summary: "the keys held, the pointer and the gamepads, as a snapshot with every frame",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &["lodge:app/input"],
        declared_by: &[],
        granted_to: &[Client],
        group: None,
        link: None,
        instance: None,
    },
    Capability {
        name: "gamepad",
        summary: "up to four gamepads in the input snapshot (the page polls them, and maps the keyboard to pad 1)",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &[],
        declared_by: &[Client],
        granted_to: &[],
        group: None,
        link: None,
        instance: None,
    },
    Capability {
        name: "audio",
        summary: "eight synthesizer voices and eight sample channels, mixed off the client's thread",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &["lodge:app/audio"],
        declared_by: &[Client],
        granted_to: &[],
        group: None,
        link: None,
        instance: None,
    },
    Capability {
        name: "assets",
        summary: "the files listed in [client].assets, read by name, images decoded by the page",
        package: Package::Lodge(&LODGE_0_2),
        interfaces: &["lodge:app/assets"],
        declared_by: &[Client],
        granted_to: &[],
        group: None,
        link: None,
        instance: None,
    },
];

/// The group of capabilities a client draws with.
const GRAPHICS: &str = "graphics";

impl Capability {
    /// Whether a part of `role` that declared `declared` has this capability:
    /// it declared it, or its kind gets it and it declared no other
    /// capability of the same group.
    pub fn granted(&self, role: Role, declared: &[CapabilityName]) -> bool {
        let declared_here = |name: &str| declared.iter().any(|d| d.as_str() == name);
        if self.declared_by.contains(&role) && declared_here(self.name) {
            return true;
        }
        self.granted_to.contains(&role)
            && !CAPABILITIES.iter().any(|other| {
                other.name != self.name
                    && other.group.is_some()
                    && other.group == self.group
                    && declared_here(other.name)
            })
    }

    /// Whether a part of `role` may import this capability's interfaces:
    /// granted ones, and for parts that run on the server every standard
    /// WASI one (linked to deny what nothing grants).
    pub fn importable(&self, role: Role, declared: &[CapabilityName]) -> bool {
        self.granted(role, declared) || (self.package == Package::Wasi && role != Role::Client)
    }

    /// Whether the server links this capability for a part of `role`.
    pub(crate) fn linked(&self, role: Role, declared: &[CapabilityName]) -> bool {
        self.link.is_some() && self.importable(role, declared)
    }
}

/// The row named `name`.
pub fn find(name: &str) -> Option<&'static Capability> {
    CAPABILITIES.iter().find(|c| c.name == name)
}

/// The capability that grants `interface` (without version), if any.
pub fn granting(interface: &str) -> Option<&'static Capability> {
    CAPABILITIES
        .iter()
        .find(|c| c.interfaces.contains(&interface))
}

/// The names a part of `role` may declare, in table order.
pub fn declarable(role: Role) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .filter(|c| c.declared_by.contains(&role))
        .map(|c| c.name)
        .collect()
}

/// Checks what each part declares against the table: every name must exist
/// and be one its part kind may declare, and at most one of each group.
pub fn check_declared(manifest: &Manifest) -> Result<(), ManifestError> {
    for part in manifest.parts() {
        let mut groups: Vec<(&'static str, &CapabilityName)> = Vec::new();
        for name in part.capabilities {
            let Some(group) = find(name.as_str()).and_then(|c| c.group) else {
                continue;
            };
            if let Some((_, first)) = groups.iter().find(|(g, _)| *g == group) {
                return Err(ManifestError::ExclusiveCapabilities {
                    role: part.role,
                    group,
                    first: (*first).clone(),
                    second: name.clone(),
                });
            }
            groups.push((group, name));
        }
        for name in part.capabilities {
            let allowed = || declarable(part.role);
            match find(name.as_str()) {
                None => {
                    return Err(ManifestError::UnknownCapability {
                        role: part.role,
                        value: name.to_string(),
                        allowed: allowed(),
                    });
                }
                Some(cap) if !cap.declared_by.contains(&part.role) => {
                    return Err(ManifestError::CapabilityNotForRole {
                        role: part.role,
                        capability: name.clone(),
                        allowed: allowed(),
                    });
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Parses a `lodge.toml` and checks its capabilities against the table:
/// what every upload, `lodge app push` and `lodge dev` read manifests with.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let manifest = Manifest::parse_bytes(bytes)?;
    check_declared(&manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_interface_is_listed_once() {
        let mut names: Vec<_> = CAPABILITIES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a capability name is listed twice");
        for cap in CAPABILITIES {
            assert!(
                lodge_manifest::CapabilityName::new(cap.name).is_some(),
                "{} is not spelled like a capability name",
                cap.name
            );
            for interface in cap.interfaces {
                let prefix = match cap.package {
                    Package::Lodge(_) => "lodge:app/",
                    Package::Wasi => "wasi:",
                };
                assert!(interface.starts_with(prefix), "{interface} in {}", cap.name);
            }
        }
    }

    #[test]
    fn server_capabilities_link_and_page_ones_do_not() {
        for cap in CAPABILITIES {
            let server_side = cap.package == Package::Wasi
                || cap
                    .granted_to
                    .iter()
                    .chain(cap.declared_by)
                    .any(|r| *r != Role::Client);
            assert_eq!(
                cap.link.is_some(),
                server_side,
                "{}: link function present only for capabilities a server-side part can have",
                cap.name
            );
        }
    }

    #[test]
    fn declaring_grants_and_roles_limit_it() {
        let kv = find("kv").unwrap();
        let declared = [CapabilityName::new("kv").unwrap()];
        assert!(kv.granted(Role::Room, &declared));
        assert!(!kv.granted(Role::Room, &[]));
        assert!(!kv.granted(Role::Client, &declared));
        assert!(find("members").unwrap().granted(Role::Room, &[]));
        assert_eq!(
            declarable(Role::Client),
            [
                "log", "timers", "terminal", "screen", "gamepad", "audio", "assets"
            ]
        );
    }

    #[test]
    fn declaring_screen_takes_the_terminal_away() {
        let terminal = find("terminal").unwrap();
        let screen = find("screen").unwrap();
        assert!(terminal.granted(Role::Client, &[]));
        assert!(!screen.granted(Role::Client, &[]));
        let declared = [CapabilityName::new("screen").unwrap()];
        assert!(!terminal.granted(Role::Client, &declared));
        assert!(screen.granted(Role::Client, &declared));
        let declared = [CapabilityName::new("terminal").unwrap()];
        assert!(terminal.granted(Role::Client, &declared));
    }
}
