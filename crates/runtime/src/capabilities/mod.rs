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

mod kv;
mod linkers;
mod log;
mod members;
mod presence;
mod state;
mod timers;
mod wasi;
mod wasi_http;

pub(crate) use linkers::Linkers;
pub(crate) use members::{MemberSlot, Members};
pub(crate) use state::{GuestState, InstanceContext, RoomContext};
pub(crate) use timers::Timers;

use lodge_manifest::{CapabilityName, Manifest, ManifestError, Role};
use std::any::Any;
use wasmtime::component::Linker;

/// Which package a capability's interfaces come from, which decides their
/// version and what happens when a part imports them without a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// Lodge's own `lodge:app` (`wit/`): an import nothing grants is refused
    /// at upload, naming the capability to declare.
    Lodge,
    /// Standard WASI 0.2: always linked; what nothing grants is denied at
    /// run time with WASI's own "access denied".
    Wasi,
}

impl Package {
    /// The newest version of the package this server provides; a part may
    /// import any version of the same line up to it.
    pub fn version(self) -> semver::Version {
        match self {
            Package::Lodge => crate::policy::LODGE_WIT_VERSION,
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
    /// The part kinds that get it without declaring it (their world has it).
    pub granted_to: &'static [Role],
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
        link: Some(wasi_http::link),
        instance: None,
    },
    Capability {
        name: "members",
        summary: "the room's members: send, broadcast, list, kick",
        package: Package::Lodge,
        interfaces: &["lodge:app/members", "lodge:app/types"],
        declared_by: &[],
        granted_to: &[Room],
        link: Some(members::link),
        instance: Some(members::instance),
    },
    Capability {
        name: "log",
        summary: "lines in the app's log",
        package: Package::Lodge,
        interfaces: &["lodge:app/log"],
        declared_by: &[Room, Client, Http],
        granted_to: &[Room, Client],
        link: Some(log::link),
        instance: Some(log::instance),
    },
    Capability {
        name: "kv",
        summary: "durable key-value data, scoped to the room or the app",
        package: Package::Lodge,
        interfaces: &["lodge:app/kv"],
        declared_by: &[Room, Http],
        granted_to: &[],
        link: Some(kv::link),
        instance: Some(kv::instance),
    },
    Capability {
        name: "timers",
        summary: "timers delivered as events",
        package: Package::Lodge,
        interfaces: &["lodge:app/timers"],
        declared_by: &[Room, Client],
        granted_to: &[Client],
        link: Some(timers::link),
        instance: Some(timers::instance),
    },
    Capability {
        name: "presence",
        summary: "the app's live rooms and their member counts, read-only",
        package: Package::Lodge,
        interfaces: &["lodge:app/presence"],
        declared_by: &[Room],
        granted_to: &[],
        link: Some(presence::link),
        instance: Some(presence::instance),
    },
    Capability {
        name: "terminal",
        summary: "the text grid the page draws, and its keyboard and pointer",
        package: Package::Lodge,
        interfaces: &["lodge:app/terminal", "lodge:app/types"],
        declared_by: &[],
        granted_to: &[Client],
        link: None,
        instance: None,
    },
    Capability {
        name: "server",
        summary: "messages to and from the app's room",
        package: Package::Lodge,
        interfaces: &["lodge:app/server", "lodge:app/types"],
        declared_by: &[],
        granted_to: &[Client],
        link: None,
        instance: None,
    },
    Capability {
        name: "frames",
        summary: "a tick on every display frame",
        package: Package::Lodge,
        interfaces: &["lodge:app/frames"],
        declared_by: &[],
        granted_to: &[Client],
        link: None,
        instance: None,
    },
];

impl Capability {
    /// Whether a part of `role` that declared `declared` has this capability.
    pub fn granted(&self, role: Role, declared: &[CapabilityName]) -> bool {
        self.granted_to.contains(&role)
            || (self.declared_by.contains(&role)
                && declared.iter().any(|d| d.as_str() == self.name))
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
/// and be one its part kind may declare.
pub fn check_declared(manifest: &Manifest) -> Result<(), ManifestError> {
    for part in manifest.parts() {
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
                    Package::Lodge => "lodge:app/",
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
        assert_eq!(declarable(Role::Client), ["log", "timers"]);
    }
}
