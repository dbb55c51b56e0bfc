//! Which interfaces each part may import: its world, plus the capabilities
//! its manifest declares. Nothing outside this table is ever linked.

use lodge_manifest::{Capability, Role};

/// The version of Lodge's own WIT package (`wit/`).
pub const LODGE_WIT_VERSION: semver::Version = semver::Version::new(0, 1, 0);

/// The newest WASI 0.2 release this server's wasmtime provides. Components
/// may import any 0.2.x up to this one.
pub const HOST_WASI_VERSION: semver::Version = semver::Version::new(0, 2, 12);

/// What a server-side or browser part may use of WASI without asking: clocks,
/// randomness, and the wasi:cli pieces Rust's standard library needs (an empty
/// environment, stdio to the app's log, a filesystem with nothing in it).
const WASI_BASELINE: &[&str] = &[
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

/// Interfaces a role always gets, beyond the WASI baseline.
fn world_imports(role: Role) -> &'static [&'static str] {
    match role {
        Role::Room => &["lodge:app/types", "lodge:app/members", "lodge:app/log"],
        Role::Client => &[
            "lodge:app/types",
            "lodge:app/terminal",
            "lodge:app/server",
            "lodge:app/timers",
            "lodge:app/frames",
            "lodge:app/log",
        ],
        Role::Http => &["wasi:http/types", "wasi:http/outgoing-handler"],
    }
}

/// The export a part of each role must provide.
pub(crate) fn required_export(role: Role) -> &'static str {
    match role {
        Role::Room => "lodge:app/room-events",
        Role::Client => "lodge:app/client-events",
        Role::Http => "wasi:http/incoming-handler",
    }
}

fn capability_interface(capability: Capability) -> &'static str {
    match capability {
        Capability::Kv => "lodge:app/kv",
        Capability::Timers => "lodge:app/timers",
        Capability::Log => "lodge:app/log",
    }
}

/// Every interface (without version) a part of `role` with `capabilities` may import.
pub fn allowed_interfaces(role: Role, capabilities: &[Capability]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = WASI_BASELINE.to_vec();
    all.extend(world_imports(role));
    all.extend(capabilities.iter().map(|c| capability_interface(*c)));
    all.sort_unstable();
    all.dedup();
    all
}

/// Why an import is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denial {
    /// The interface exists for this role but needs a capability.
    NeedsCapability(Capability),
    /// The role can never import this.
    NotInWorld,
    /// A WASI or Lodge version newer than this server provides.
    TooNew { provided: semver::Version },
    /// An unversioned import, or a version line this server does not provide.
    VersionUnsupported { provided: semver::Version },
    /// An import that is not an interface (a bare function or type).
    NotAnInterface,
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, version).
pub(crate) fn split_versioned(name: &str) -> (&str, Option<semver::Version>) {
    match name.split_once('@') {
        Some((base, version)) => (base, semver::Version::parse(version).ok()),
        None => (name, None),
    }
}

/// Decides one import name of a part.
pub(crate) fn check_import(
    role: Role,
    capabilities: &[Capability],
    name: &str,
) -> Result<(), Denial> {
    let (base, version) = split_versioned(name);
    if !base.contains(':') || !base.contains('/') {
        return Err(Denial::NotAnInterface);
    }
    if !allowed_interfaces(role, capabilities).contains(&base) {
        let needs = role
            .capabilities()
            .iter()
            .copied()
            .find(|c| capability_interface(*c) == base);
        return Err(match needs {
            Some(cap) => Denial::NeedsCapability(cap),
            None => Denial::NotInWorld,
        });
    }
    let provided = if base.starts_with("lodge:") {
        LODGE_WIT_VERSION
    } else {
        HOST_WASI_VERSION
    };
    match version {
        Some(v) if v.major == provided.major && v.minor == provided.minor && v <= provided => {
            Ok(())
        }
        Some(v) if v > provided => Err(Denial::TooNew { provided }),
        // Unversioned, or an older line (like WASI 0.1): not something this host provides.
        _ => Err(Denial::VersionUnsupported { provided }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_needs_kv_capability_for_kv() {
        assert_eq!(
            check_import(Role::Room, &[], "lodge:app/kv@0.1.0"),
            Err(Denial::NeedsCapability(Capability::Kv))
        );
        assert_eq!(
            check_import(Role::Room, &[Capability::Kv], "lodge:app/kv@0.1.0"),
            Ok(())
        );
    }

    #[test]
    fn older_wasi_is_fine_and_newer_is_refused() {
        assert_eq!(
            check_import(Role::Http, &[], "wasi:http/types@0.2.0"),
            Ok(())
        );
        assert_eq!(
            check_import(Role::Http, &[], "wasi:http/types@0.2.12"),
            Ok(())
        );
        assert!(matches!(
            check_import(Role::Http, &[], "wasi:http/types@0.2.99"),
            Err(Denial::TooNew { .. })
        ));
        assert!(matches!(
            check_import(Role::Room, &[], "lodge:app/members@0.2.0"),
            Err(Denial::TooNew { .. })
        ));
    }

    #[test]
    fn unversioned_or_old_lines_are_unsupported() {
        assert!(matches!(
            check_import(Role::Room, &[], "wasi:cli/environment"),
            Err(Denial::VersionUnsupported { .. })
        ));
        assert!(matches!(
            check_import(Role::Room, &[], "wasi:cli/environment@0.1.0"),
            Err(Denial::VersionUnsupported { .. })
        ));
    }

    #[test]
    fn sockets_are_never_granted() {
        for role in Role::ALL {
            assert_eq!(
                check_import(role, &[], "wasi:sockets/tcp@0.2.0"),
                Err(Denial::NotInWorld)
            );
        }
    }
}
