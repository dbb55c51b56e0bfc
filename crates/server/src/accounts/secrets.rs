//! Random secrets (session cookies, API tokens, invite and setup codes) and
//! the digests they are stored and compared as.

use sha2::{Digest, Sha256};

/// What every API token starts with, so it is recognisable in a config
/// file or a secret scanner.
pub const TOKEN_PREFIX: &str = "lodge_";

/// 32 random bytes, hex-encoded, after `prefix`.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has randomness");
    format!("{prefix}{}", hex::encode(bytes))
}

/// The SHA-256 of a secret, hex-encoded: what the store keeps. Secrets are
/// 256 random bits, so a fast hash is enough (passwords use Argon2id).
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// Whether two digests are equal, in time that doesn't depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
