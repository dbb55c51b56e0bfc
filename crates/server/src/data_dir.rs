//! The data directory belongs to the server's user alone: the folder is
//! `0700` and its databases and token `0600`, set when they are made and
//! tightened at every start (a folder made by hand, a restored backup).

use std::path::Path;

/// The files only the server's user may read: the databases (with SQLite's
/// WAL and shared-memory files) and the token.
const PRIVATE_FILES: &[&str] = &[
    "lodge.db",
    "lodge.db-wal",
    "lodge.db-shm",
    "kv.db",
    "kv.db-wal",
    "kv.db-shm",
    crate::auth::TOKEN_FILE,
];

/// Makes the folder `0700`. Called before anything is created in it, so
/// what follows is out of other users' reach from the start.
pub fn lock_folder(dir: &Path) {
    restrict(dir, 0o700);
}

/// Makes the databases and the token `0600` (once they exist: SQLite
/// creates its files with the process's umask).
pub fn lock_files(dir: &Path) {
    for name in PRIVATE_FILES {
        let path = dir.join(name);
        if path.exists() {
            restrict(&path, 0o600);
        }
    }
}

/// Sets `mode` when the current one lets anyone else in. A failure (a
/// folder owned by someone else) is logged, not fatal: the operator may
/// have set it up that way on purpose.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let current = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not read the permissions");
            return;
        }
    };
    if current & !mode == 0 {
        return;
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Ok(()) => tracing::info!(
            path = %path.display(),
            "readable by other users (mode {current:o}): now {mode:o}"
        ),
        Err(e) => tracing::warn!(
            path = %path.display(),
            error = %e,
            "readable by other users (mode {current:o}) and could not be changed to {mode:o}"
        ),
    }
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_folder_and_private_files_are_tightened_and_others_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        for name in ["lodge.db", "kv.db-wal", "token", "other"] {
            std::fs::write(data.join(name), b"x").unwrap();
            std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        lock_folder(&data);
        lock_files(&data);
        assert_eq!(mode(&data), 0o700);
        for name in ["lodge.db", "kv.db-wal", "token"] {
            assert_eq!(mode(&data.join(name)), 0o600, "{name}");
        }
        assert_eq!(mode(&data.join("other")), 0o644);
        // Stricter than asked stays as it is.
        std::fs::set_permissions(data.join("token"), std::fs::Permissions::from_mode(0o400))
            .unwrap();
        lock_files(&data);
        assert_eq!(mode(&data.join("token")), 0o400);
    }
}
