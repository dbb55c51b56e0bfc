//! Passwords: the length rules, and Argon2id hashes in PHC strings, made
//! and checked off the async runtime (each takes tens of milliseconds and
//! 19 MiB, by design).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password accepted, in characters (NIST SP 800-63B).
pub const MIN_CHARS: usize = 8;
/// The longest, so hashing stays bounded.
pub const MAX_CHARS: usize = 128;

/// Why a new password is refused.
pub fn check_rules(password: &str, username: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!(
            "the password is too short: use at least {MIN_CHARS} characters"
        ));
    }
    if chars > MAX_CHARS {
        return Err(format!(
            "the password is too long: use at most {MAX_CHARS} characters"
        ));
    }
    if password.trim().eq_ignore_ascii_case(username) {
        return Err("the password can't be the username".into());
    }
    Ok(())
}

/// An Argon2id hash of `password` with a fresh salt (OWASP's parameters:
/// 19 MiB, 2 passes, 1 lane).
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("encoding a salt: {e}"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash`. A `hash` of `None` (no such account,
/// or no password yet) is checked against a throwaway hash, so the answer
/// takes as long either way and says nothing about who exists.
pub async fn verify(password: &str, hash: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            tracing::error!("a stored password hash is not a PHC string");
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, made once, that unknown accounts are checked against.
static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system has randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes encode");
    Argon2::default()
        .hash_password(super::secrets::new_secret("").as_bytes(), &salt)
        .expect("hashing works")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password_and_are_argon2id() {
        let hash = hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify("correct horse", Some(hash.clone())).await);
        assert!(!verify("wrong horse", Some(hash)).await);
        assert!(!verify("anything", None).await);
    }

    #[test]
    fn rules_name_the_limit() {
        assert!(
            check_rules("short", "alice")
                .unwrap_err()
                .contains("at least 8")
        );
        assert!(
            check_rules(&"x".repeat(129), "alice")
                .unwrap_err()
                .contains("at most 128")
        );
        assert!(check_rules("Alice123", "alice123").is_err());
        assert!(check_rules("a long passphrase", "alice").is_ok());
    }
}
