//! `lodge serve` on the cluster backends, each a real server the test
//! starts: kv in PostgreSQL or Redis, blobs in an S3-compatible store;
//! what a lost backend means to players and authors; and start-up refusing
//! backends it can't use, naming the setting.

use crate::support::*;
use lodge_testkit::{Postgres, Redis, S3};
use std::process::Command;
use std::time::Duration;

const PROBE: &str = "[app]\nname = \"probe\"\nversion = \"1.0.0\"\ndescription = \"Probe.\"\n\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n";

fn probe() -> AppDir {
    AppDir::new(PROBE, &[("http.wasm", &guest_component("http_probe"))])
}

/// GET `/run/probe{path}`: the status and the body.
async fn run(server: &Server, path: &str) -> (u16, String) {
    get(server, &format!("/run/probe{path}")).await
}

/// GETs `/run/probe{path}` until it answers 200 (its backend is back), for
/// up to 10 s; the last answer.
async fn once_back(server: &Server, path: &str) -> (u16, String) {
    let mut answer = (0, String::new());
    for _ in 0..50 {
        answer = run(server, path).await;
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    answer
}

/// A config file naming the backends, as an operator would write it.
fn config_file(dir: &std::path::Path, kv: &str, s3: &S3) -> std::path::PathBuf {
    let path = dir.join("lodge.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\nkv = \"{kv}\"\nblobs = \"{}\"\n\n[storage.blobs-options]\nendpoint = \"{}\"\nallow_http = \"true\"\nregion = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
            s3.url("blobs"),
            s3.endpoint()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kv_and_s3_blobs_keep_an_apps_data_through_outages() {
    let mut postgres = Postgres::start();
    let kv = postgres.create_database("lodge");
    let mut s3 = S3::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = config_file(dir.path(), &kv, &s3);
    let config = config.to_str().unwrap();
    let server = Server::start(&data, &["--config", config]);
    server.ok(&["app", "push", probe().path()]);
    for expected in ["1", "2", "3"] {
        assert_eq!(run(&server, "/kv/incr?hits").await, (200, expected.into()));
    }
    // The component went to the object store, not the data folder.
    assert!(files_under(&data.join("blobs")).is_empty());

    // A restart with no compiled cache fetches the component from the
    // store and finds the data in PostgreSQL.
    server.stop();
    std::fs::remove_dir_all(data.join("cache")).unwrap();
    let server = Server::start(&data, &["--config", config]);
    assert_eq!(run(&server, "/kv/incr?hits").await, (200, "4".into()));

    // The object store goes away: uploads answer 503 and say why; the app
    // keeps answering.
    s3.stop();
    let (status, body, _) = upload(
        &server,
        bundle(&[
            ("lodge.toml", PROBE.replace("1.0.0", "1.0.1").as_bytes()),
            ("http.wasm", &guest_component("http_probe")),
        ]),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage_unavailable"), "{body}");
    assert_eq!(run(&server, "/kv/incr?hits").await, (200, "5".into()));
    s3.start_again();
    server.ok(&["app", "push", probe().path()]);

    // PostgreSQL crashes: the app's kv calls fail with an error it can
    // handle (the probe answers 500 with it), the server keeps serving,
    // and when PostgreSQL is back every acknowledged write is there.
    postgres.crash();
    let (status, body) = run(&server, "/kv/incr?hits").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.to_lowercase().contains("unavailable"), "{body}");
    assert_eq!(get(&server, "/healthz").await.0, 200);
    postgres.start_again();
    let answer = once_back(&server, "/kv/incr?hits").await;
    assert_eq!(answer, (200, "6".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_kv_keeps_acknowledged_writes_through_a_crash() {
    let mut redis = Redis::start();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--kv", &redis.url()]);
    server.ok(&["app", "push", probe().path()]);
    for expected in ["1", "2"] {
        assert_eq!(run(&server, "/kv/incr?hits").await, (200, expected.into()));
    }
    redis.kill();
    let (status, body) = run(&server, "/kv/incr?hits").await;
    assert_eq!(status, 500, "{body}");
    redis.start_again();
    let answer = once_back(&server, "/kv/incr?hits").await;
    assert_eq!(answer, (200, "3".into()));
}

/// `lodge serve` with `args`: it must exit by itself, failing; its stderr.
fn refused(args: &[&str], env: &[(&str, String)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(lodge_bin());
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(args)
        .env("LODGE_TOKEN", TOKEN);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "lodge serve {args:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn start_up_refuses_backends_it_cannot_use_naming_the_setting() {
    let closed = lodge_testkit::free_port();
    let error = refused(
        &[
            "--kv",
            &format!("postgres://lodge:hunter2@127.0.0.1:{closed}/lodge"),
        ],
        &[],
    );
    assert!(
        error.contains(&format!(
            "opening the kv at postgres://lodge:***@127.0.0.1:{closed}/lodge"
        )),
        "{error}"
    );
    assert!(error.contains("unavailable"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");

    let redis = Redis::start_without_append_only();
    let error = refused(&["--kv", &redis.url()], &[]);
    assert!(error.contains("appendonly yes"), "{error}");

    let error = refused(&["--kv", "mysql://root@db/lodge"], &[]);
    assert!(
        error.contains("--kv mysql://root@db/lodge: use `sqlite`"),
        "{error}"
    );

    let error = refused(
        &["--blobs", "s3://lodge/blobs"],
        &[
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{closed}")),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ],
    );
    assert!(
        error.contains("opening the blobs at s3://lodge/blobs"),
        "{error}"
    );

    let error = refused(
        &[
            "--blobs",
            "s3://lodge/blobs",
            "--blobs-option",
            "colour=blue",
        ],
        &[],
    );
    assert!(error.contains("option `colour`"), "{error}");
}

#[test]
fn postgresql_over_tls_is_trusted_through_pgsslrootcert() {
    let postgres = Postgres::start_with_tls();
    let url = format!("{}?sslmode=require", postgres.create_database("lodge"));
    let ca = postgres.tls_certificate().unwrap().to_owned();
    // Without the database's certificate authority: refused at start-up,
    // saying why.
    let error = refused(&["--kv", &url], &[]);
    assert!(error.contains("opening the kv at"), "{error}");
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    // With it (libpq's PGSSLROOTCERT), the server runs on it.
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(lodge_bin());
    command.env("PGSSLROOTCERT", &ca);
    let server = Server::start_command(command, data.path(), &["--kv", &url]);
    server.ok(&["app", "push", probe().path()]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for expected in ["1", "2"] {
        assert_eq!(
            runtime.block_on(run(&server, "/kv/incr?hits")),
            (200, expected.to_owned())
        );
    }
}
