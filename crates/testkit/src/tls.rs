//! Certificates for the tests' TLS servers (Lodge's own, PostgreSQL's).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, made
/// by openssl in `dir` (`cert.pem`, `key.pem`): a client trusting the
/// certificate itself reaches a server presenting it.
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("running openssl (apt-get install openssl)");
    assert!(
        made.status.success(),
        "openssl could not make a certificate: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}
