//! Which interfaces a part may import, derived from the capability table
//! (`crate::capabilities`): what its kind is granted, what its manifest
//! declares, and standard WASI (denied at run time where nothing grants it).

use crate::capabilities::{CAPABILITIES, LODGE_0_1, LODGE_0_2, LODGE_0_3};
use lodge_manifest::{CapabilityName, Role};

/// The newest version of Lodge's own WIT package (`wit/v0.3/`).
pub const LODGE_WIT_VERSION: semver::Version = LODGE_0_3;

/// The newest WASI 0.2 release this server's wasmtime provides. Components
/// may import any 0.2.x up to this one.
pub const HOST_WASI_VERSION: semver::Version = semver::Version::new(0, 2, 12);

/// The export a part of each role must provide, and the versions of it
/// this server runs (newest last): a room may export 0.1's `room-events`
/// or 0.3's, a client 0.1's `client-events` or 0.2's.
pub(crate) fn required_export(role: Role) -> (&'static str, Vec<semver::Version>) {
    match role {
        Role::Room => ("lodge:app/room-events", vec![LODGE_0_1, LODGE_0_3]),
        Role::Client => ("lodge:app/client-events", vec![LODGE_0_1, LODGE_0_2]),
        Role::Http => ("wasi:http/incoming-handler", vec![HOST_WASI_VERSION]),
    }
}

/// Whether `name` (versioned) is the export a part of `role` must provide,
/// in a version this server runs.
pub(crate) fn is_required_export(role: Role, name: &str) -> bool {
    let (required, versions) = required_export(role);
    let (base, version) = split_versioned(name);
    base == required
        && version.is_some_and(|v| versions.iter().any(|line| same_line_up_to(&v, line)))
}

/// Whether `version` is in the line of `provided` (same major, and same
/// minor below 1.0) and no newer than it.
fn same_line_up_to(version: &semver::Version, provided: &semver::Version) -> bool {
    version.major == provided.major && version.minor == provided.minor && version <= provided
}

/// Every interface (without version) a part of `role` that declared
/// `declared` may import: what the capability table grants it, and all of
/// standard WASI for parts that run on the server.
pub fn allowed_interfaces(role: Role, declared: &[CapabilityName]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = CAPABILITIES
        .iter()
        .filter(|c| c.importable(role, declared))
        .flat_map(|c| c.interfaces.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Why an import is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denial {
    /// The interface exists for this role but needs a capability (named).
    NeedsCapability(&'static str),
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
    declared: &[CapabilityName],
    name: &str,
) -> Result<(), Denial> {
    let (base, version) = split_versioned(name);
    if !base.contains(':') || !base.contains('/') {
        return Err(Denial::NotAnInterface);
    }
    let rows = || CAPABILITIES.iter().filter(|c| c.interfaces.contains(&base));
    let Some(row) = rows().find(|c| c.importable(role, declared)) else {
        return Err(match rows().find(|c| c.declared_by.contains(&role)) {
            Some(c) => Denial::NeedsCapability(c.name),
            None => Denial::NotInWorld,
        });
    };
    let provided = row.package.version();
    match version {
        Some(v) if same_line_up_to(&v, &provided) => Ok(()),
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
            Err(Denial::NeedsCapability("kv"))
        );
        let kv = [CapabilityName::new("kv").unwrap()];
        assert_eq!(check_import(Role::Room, &kv, "lodge:app/kv@0.1.0"), Ok(()));
    }

    #[test]
    fn identity_is_0_2_for_rooms_that_declare_it_and_never_for_other_parts() {
        let identity = [CapabilityName::new("identity").unwrap()];
        assert_eq!(
            check_import(Role::Room, &[], "lodge:app/identity@0.2.0"),
            Err(Denial::NeedsCapability("identity"))
        );
        assert_eq!(
            check_import(Role::Room, &identity, "lodge:app/identity@0.2.0"),
            Ok(())
        );
        // It never existed in 0.1.0.
        assert!(matches!(
            check_import(Role::Room, &identity, "lodge:app/identity@0.1.0"),
            Err(Denial::VersionUnsupported { .. })
        ));
        for role in [Role::Client, Role::Http] {
            assert_eq!(
                check_import(role, &identity, "lodge:app/identity@0.2.0"),
                Err(Denial::NotInWorld),
                "{role}"
            );
        }
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
    fn standard_wasi_is_linked_for_server_parts_and_lodge_interfaces_are_not() {
        for role in [Role::Room, Role::Http] {
            assert_eq!(check_import(role, &[], "wasi:sockets/tcp@0.2.0"), Ok(()));
            assert_eq!(
                check_import(role, &[], "wasi:http/outgoing-handler@0.2.3"),
                Ok(())
            );
        }
        // The page has no sockets to deny: a client importing them is refused.
        assert_eq!(
            check_import(Role::Client, &[], "wasi:sockets/tcp@0.2.0"),
            Err(Denial::NotInWorld)
        );
        assert_eq!(
            check_import(Role::Http, &[], "lodge:app/members@0.1.0"),
            Err(Denial::NotInWorld)
        );
        assert_eq!(
            check_import(Role::Http, &[], "wasi:keyvalue/store@0.2.0"),
            Err(Denial::NotInWorld)
        );
    }
}
