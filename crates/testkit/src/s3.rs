//! An S3-compatible object store of the test's own: moto's server (in
//! memory), from PyPI, in the test venv `tests/.venv`.

use crate::process::{find_program, http_status, repo, signal, spawn_tied, stop_child, wait_until};
use rustix::process::Signal;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

/// A running S3-compatible server on a free loopback port with one empty
/// bucket, `lodge`. It keeps objects in memory: a restart empties it.
/// Credentials are not checked (any key works).
pub struct S3 {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// The bucket every [`S3`] starts with.
pub const BUCKET: &str = "lodge";

impl S3 {
    pub fn start() -> S3 {
        let bin = find_program(
            "moto_server",
            &[
                std::env::var_os("LODGE_MOTO_SERVER")
                    .map(PathBuf::from)
                    .unwrap_or_default(),
                repo().join("tests/.venv/bin/moto_server"),
            ],
            "install moto's server with  python3 -m venv tests/.venv && tests/.venv/bin/pip install -r tests/requirements.txt",
        );
        let dir = tempfile::Builder::new()
            .prefix("lodge-s3-")
            .tempdir()
            .expect("making a temp folder");
        let mut s3 = S3 {
            dir,
            bin,
            port: crate::free_port(),
            child: None,
        };
        s3.start_again();
        s3
    }

    /// The endpoint (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The blob URL of `prefix` in the bucket, as `lodge serve --blobs`
    /// takes it (the endpoint and credentials go in [`S3::env`]).
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The environment an S3 client needs to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ]
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (its objects go with it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Signal::KILL);
        }
    }

    /// Starts the server again on the same port, with the bucket, empty.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = self.dir.path().join("log");
        let args = vec![
            "-H".to_string(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
        ];
        self.child = Some(spawn_tied(&self.bin, &args, None, &log));
        let port = self.port;
        wait_until(
            "the S3 server (moto)",
            Duration::from_secs(60),
            &log,
            || http_status(port, "GET", "/").is_some(),
        );
        let made = http_status(port, "PUT", &format!("/{BUCKET}"));
        assert_eq!(made, Some(200), "making bucket {BUCKET}");
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::CONT);
            stop_child(&mut child, Signal::KILL);
        }
    }
}
