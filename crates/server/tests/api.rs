//! The API's status codes and error envelope, driven in-process: requests
//! go through `router(state)` with `tower::ServiceExt::oneshot`, no socket.
//! Also the publishing service's garbage collection, through the same state.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lodge_server::{AppState, CompileConfig, Server, ServerConfig, router};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "test-token";

/// A server on a temporary data folder, with small limits and uploads
/// compiled in this process (there is no `lodge` binary to run).
struct TestServer {
    state: Arc<AppState>,
    data: tempfile::TempDir,
}

async fn server() -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(data.path().join("data"), "127.0.0.1:0".parse().unwrap());
    config.token = Some(TOKEN.into());
    config.compile = CompileConfig {
        exe: None,
        ..CompileConfig::default()
    };
    config.limits.max_bundle_bytes = 64 << 10;
    config.engine.pooling = false;
    config.guest_threads = Some(1);
    config.guest_memory_bytes = Some(64 << 20);
    let server = Server::bind(config).await.unwrap();
    TestServer {
        state: server.state(),
        data,
    }
}

impl TestServer {
    /// Sends one request; returns the status and the body as JSON (or
    /// `Value::Null` when it isn't).
    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: bool,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        }
        let response = router(self.state.clone())
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send(Method::GET, uri, false, Vec::new()).await
    }

    async fn upload(&self, bundle: Vec<u8>) -> (StatusCode, Value) {
        self.send(Method::POST, "/api/apps", true, bundle).await
    }

    fn blob_path(&self, sha256: &str) -> std::path::PathBuf {
        self.data
            .path()
            .join("data/blobs/sha256")
            .join(&sha256[..2])
            .join(sha256)
    }
}

/// Asserts an answer is `status` with the error envelope carrying `code`
/// and a message containing `words`.
#[track_caller]
fn refused((got, body): (StatusCode, Value), status: u16, code: &str, words: &str) {
    assert_eq!(got.as_u16(), status, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains(words), "{message:?} should say {words:?}");
}

/// A gzipped tar of `files`, as `lodge app push` packs one.
fn bundle(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// The smallest room part the upload checks accept: it exports the room
/// interface (an empty instance; nothing here runs it). `tag` makes
/// components with different content.
fn room_component(tag: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (core module (func (export "{tag}")))
            (instance $room)
            (export "lodge:app/room-events@0.1.0" (instance $room)))"#
    ))
    .unwrap()
}

/// Bytes gzip can't shrink.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn manifest(name: &str, version: &str, extra: &str) -> String {
    format!(
        "[app]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\n{extra}"
    )
}

fn room_bundle(name: &str, version: &str, tag: &str) -> Vec<u8> {
    bundle(&[
        ("lodge.toml", manifest(name, version, "").as_bytes()),
        ("room.wasm", &room_component(tag)),
    ])
}

#[tokio::test]
async fn writes_need_the_token() {
    let server = server().await;
    let (status, body) = server
        .send(
            Method::POST,
            "/api/apps",
            false,
            room_bundle("a", "1.0.0", "a"),
        )
        .await;
    refused((status, body), 401, "unauthorized", "sign in first");
    let response = router(server.state.clone())
        .oneshot(
            Request::delete("/api/apps/a")
                .header(header::AUTHORIZATION, "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    refused(
        server
            .send(
                Method::DELETE,
                "/api/apps/a/versions/1.0.0",
                false,
                Vec::new(),
            )
            .await,
        401,
        "unauthorized",
        "Authorization",
    );
}

#[tokio::test]
async fn unknown_apps_versions_and_routes_are_404() {
    let server = server().await;
    refused(
        server.get("/api/apps/nope").await,
        404,
        "not_found",
        "there is no app named nope",
    );
    refused(
        server.get("/api/apps/nope/versions/1.0.0").await,
        404,
        "not_found",
        "nope has no version 1.0.0",
    );
    refused(
        server.get("/api/apps/nope/versions/latest").await,
        404,
        "not_found",
        "there is no app named nope",
    );
    refused(
        server.get("/api/apps/nope/rooms").await,
        404,
        "not_found",
        "there is no app named nope",
    );
    refused(
        server
            .send(Method::DELETE, "/api/apps/nope", true, Vec::new())
            .await,
        404,
        "not_found",
        "there is no app named nope",
    );
    refused(
        server.get("/api/nothing").await,
        404,
        "not_found",
        "no such endpoint",
    );
    refused(
        server
            .send(Method::PUT, "/api/apps", true, Vec::new())
            .await,
        405,
        "method_not_allowed",
        "does not take that method",
    );
    refused(
        server.get("/api/apps/Not_A_Name").await,
        400,
        "invalid_name",
        "not a valid app name",
    );
    refused(
        server.get("/api/apps/nope/versions/one").await,
        400,
        "invalid_version",
        "\"one\" is not a version of nope",
    );
}

#[tokio::test]
async fn bad_bundles_are_refused_with_their_codes() {
    let server = server().await;
    let room = room_component("r");
    refused(server.upload(Vec::new()).await, 400, "bundle_empty", "");
    refused(
        server.upload(b"not gzip at all".to_vec()).await,
        400,
        "bundle_not_gzip",
        "",
    );
    refused(
        server.upload(bundle(&[("noise", &noise(100 << 10))])).await,
        413,
        "bundle_too_large",
        "",
    );
    refused(
        server.upload(bundle(&[("room.wasm", &room)])).await,
        422,
        "manifest_missing",
        "no lodge.toml at its root; it holds: room.wasm",
    );
    refused(
        server
            .upload(bundle(&[("lodge.toml", b"[app]\nname = 3\n")]))
            .await,
        422,
        "manifest_invalid",
        "",
    );
    refused(
        server
            .upload(bundle(&[(
                "lodge.toml",
                manifest("a", "1.0.0", "").as_bytes(),
            )]))
            .await,
        422,
        "part_missing",
        "[room].component = \"room.wasm\" is not in the bundle",
    );
    refused(
        server
            .upload(bundle(&[
                ("lodge.toml", manifest("a", "1.0.0", "").as_bytes()),
                ("room.wasm", b"not wasm"),
            ]))
            .await,
        422,
        "part_not_wasm",
        "room.wasm",
    );
    refused(
        server
            .upload(bundle(&[
                (
                    "lodge.toml",
                    manifest("a", "1.0.0", "memory-mib = 4000").as_bytes(),
                ),
                ("room.wasm", &room),
            ]))
            .await,
        422,
        "manifest_over_limit",
        "[room].memory-mib = 4000 is more than this server allows",
    );
    // Nothing refused left a file behind.
    assert!(server.state.apps.blobs.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_version_is_created_once_and_never_changes() {
    let server = server().await;
    let (status, body) = server.upload(room_bundle("a", "1.0.0", "one")).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::CREATED, &Value::from("created")),
        "{body}"
    );
    let (status, body) = server.upload(room_bundle("a", "1.0.0", "one")).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &Value::from("unchanged")),
        "{body}"
    );
    refused(
        server.upload(room_bundle("a", "1.0.0", "two")).await,
        409,
        "version_exists",
        "a@1.0.0 is already published with different content",
    );
    let (status, body) = server.get("/api/apps/a/versions/latest").await;
    assert_eq!(
        (status, &body["version"]),
        (StatusCode::OK, &Value::from("1.0.0"))
    );
    // The conflicting upload's component is not kept.
    assert_eq!(server.state.apps.blobs.list().await.unwrap().len(), 1);

    let (status, _) = server
        .send(
            Method::DELETE,
            "/api/apps/a/versions/1.0.0",
            true,
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    refused(
        server.get("/api/apps/a/versions/1.0.0").await,
        404,
        "not_found",
        "a has no version 1.0.0",
    );
    refused(
        server
            .send(
                Method::DELETE,
                "/api/apps/a/versions/1.0.0",
                true,
                Vec::new(),
            )
            .await,
        404,
        "not_found",
        "a has no version 1.0.0",
    );
    // A deleted version's blob goes at once, grace period or not.
    assert!(server.state.apps.blobs.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_pinned_version_without_the_part_asked_for_is_404() {
    let server = server().await;
    let (status, _) = server.upload(room_bundle("rooms-only", "1.0.0", "x")).await;
    assert_eq!(status, StatusCode::CREATED);
    refused(
        server.get("/run/rooms-only/").await,
        404,
        "no_http_part",
        "rooms-only@1.0.0 has no http part",
    );
    refused(
        server.get("/run/rooms-only/?lodge-version=2.0.0").await,
        404,
        "not_found",
        "rooms-only has no version 2.0.0",
    );
    refused(
        server.get("/run/nope/").await,
        404,
        "not_found",
        "there is no app named nope",
    );
}

/// Garbage collection through the publishing service: the grace period
/// and the registry's lease.
mod gc {
    use super::*;
    use lodge_server::publish::GcReport;
    use std::time::{Duration, SystemTime};

    fn age(path: &std::path::Path, by: Duration) {
        std::fs::File::open(path)
            .unwrap()
            .set_modified(SystemTime::now() - by)
            .unwrap();
    }

    #[tokio::test]
    async fn a_blob_stored_but_not_yet_committed_survives_a_collection() {
        let server = server().await;
        let apps = &server.state.apps;
        let hash = apps
            .blobs
            .put(b"an upload in flight".to_vec())
            .await
            .unwrap();
        let report = apps.collect_garbage().await;
        assert_eq!(
            report,
            GcReport {
                removed: 0,
                kept_young: 1,
                busy: false
            }
        );
        assert!(apps.blobs.contains(&hash).await.unwrap());
    }

    #[tokio::test]
    async fn an_old_unreferenced_blob_is_removed_and_a_referenced_one_kept() {
        let server = server().await;
        let apps = &server.state.apps;
        let (status, body) = server.upload(room_bundle("kept", "1.0.0", "k")).await;
        assert_eq!(status, StatusCode::CREATED);
        let kept = body["parts"][0]["sha256"].as_str().unwrap().to_owned();
        let orphan = apps.blobs.put(b"left by a crash".to_vec()).await.unwrap();
        let grace = apps.gc_config().grace;
        for hash in [&kept, &orphan] {
            age(&server.blob_path(hash), grace + Duration::from_secs(60));
        }
        assert_eq!(apps.collect_garbage().await.removed, 1);
        assert!(!apps.blobs.contains(&orphan).await.unwrap());
        assert!(apps.blobs.contains(&kept).await.unwrap());
    }

    #[tokio::test]
    async fn the_registry_lease_keeps_a_second_collection_out() {
        let server = server().await;
        let apps = &server.state.apps;
        let orphan = apps.blobs.put(b"old".to_vec()).await.unwrap();
        age(&server.blob_path(&orphan), apps.gc_config().grace * 2);
        // Another server sharing the registry is collecting.
        let lease = apps
            .registry
            .lock_gc("another server", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let report = apps.collect_garbage().await;
        assert!(report.busy);
        assert!(apps.blobs.contains(&orphan).await.unwrap());
        apps.registry.unlock_gc(&lease).await.unwrap();
        assert_eq!(apps.collect_garbage().await.removed, 1);
    }
}
