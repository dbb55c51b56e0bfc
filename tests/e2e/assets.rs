//! `[client].assets` end to end: `lodge app push` packs them, the server
//! checks them against its limits, stores them as blobs, lists them in the
//! version JSON and serves them at `/assets/{sha256}` with immutable
//! caching; garbage collection keeps them while a version names them.

use crate::support::*;

/// A tiny PNG's worth of bytes (the server never decodes assets).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really, but the name says png";

fn manifest(name: &str, version: &str, assets: &[&str]) -> String {
    let listed: Vec<String> = assets.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[app]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Pictures.\"\n\n[client]\ncomponent = \"client.wasm\"\ncapabilities = [\"assets\"]\nassets = [{}]\n",
        listed.join(", ")
    )
}

/// An app directory with the chat example's client and these assets.
fn app(name: &str, version: &str, assets: &[(&str, &[u8])]) -> AppDir {
    let client = component("chat_client");
    let names: Vec<&str> = assets.iter().map(|(n, _)| *n).collect();
    let mut files: Vec<(&str, &[u8])> = vec![("client.wasm", &client)];
    files.extend_from_slice(assets);
    AppDir::new(&manifest(name, version, &names), &files)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn blob_exists(data: &std::path::Path, sha: &str) -> bool {
    data.join("blobs/sha256").join(&sha[..2]).join(sha).exists()
}

async fn fetch(server: &Server, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = server.http().get(server.api(path));
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn pushed_assets_are_listed_served_immutable_and_collected_with_their_version() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--gc-grace-secs", "0"]);
    let level = b"{\"level\": 1}".as_slice();
    let v1 = app(
        "gallery",
        "1.0.0",
        &[("img/hero.png", PNG), ("levels/one.json", level)],
    );
    let pushed = server.ok(&["app", "push", v1.path()]);
    assert!(pushed.contains("gallery@1.0.0"), "{pushed}");

    let shown: serde_json::Value = fetch(&server, "/api/apps/gallery", None)
        .await
        .json()
        .await
        .unwrap();
    let version = &shown["versions"][0];
    let expected = serde_json::json!([
        {"name": "img/hero.png", "sha256": sha256(PNG), "size": PNG.len(), "url": format!("/assets/{}", sha256(PNG))},
        {"name": "levels/one.json", "sha256": sha256(level), "size": level.len(), "url": format!("/assets/{}", sha256(level))},
    ]);
    assert_eq!(version["assets"], expected, "{version:#}");
    let client = version["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "client")
        .unwrap();
    assert_eq!(
        client["assets"], expected,
        "the client part carries them too"
    );

    // Served by content address, cached for good, typed by extension.
    let url = format!("/assets/{}", sha256(PNG));
    let response = fetch(&server, &url, None).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = format!("\"{}\"", sha256(PNG));
    assert_eq!(headers["etag"], etag.as_str());
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);
    let json = fetch(&server, &format!("/assets/{}", sha256(level)), None).await;
    assert_eq!(json.headers()["content-type"], "application/json");

    let revalidated = fetch(&server, &url, Some(etag.as_str())).await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());
    assert!(revalidated.bytes().await.unwrap().is_empty());
    let changed = fetch(&server, &url, Some("\"something-else\"")).await;
    assert_eq!(changed.status(), 200);

    // Only assets: a component's blob, or nothing at all, is not served here.
    let component_sha = client["sha256"].as_str().unwrap();
    assert!(blob_exists(data.path(), component_sha));
    for path in [
        format!("/assets/{component_sha}"),
        format!("/assets/{}", "0".repeat(64)),
        "/assets/not-a-digest".to_owned(),
        format!("/assets/{}", sha256(PNG).to_uppercase()),
    ] {
        assert_eq!(fetch(&server, &path, None).await.status(), 404, "{path}");
    }

    // A second version shares the level and brings a new picture.
    let picture = b"GIF89a a different picture".as_slice();
    let v2 = app(
        "gallery",
        "2.0.0",
        &[("img/hero.gif", picture), ("levels/one.json", level)],
    );
    server.ok(&["app", "push", v2.path()]);
    // Pushing identical content again is "unchanged"; changed asset bytes
    // under the same version are a conflict.
    let again = server.ok(&["app", "push", v2.path()]);
    assert!(again.contains("unchanged"), "{again}");
    let altered = app(
        "gallery",
        "2.0.0",
        &[
            ("img/hero.gif", b"GIF89a other"),
            ("levels/one.json", level),
        ],
    );
    let refused = server.fails(&["app", "push", altered.path()]);
    assert!(
        refused.contains("already published with different content"),
        "{refused}"
    );

    // Deleting 1.0.0 removes the asset only it named, keeps the shared one.
    server.ok(&["app", "rm", "gallery@1.0.0"]);
    assert!(
        !blob_exists(data.path(), &sha256(PNG)),
        "the PNG went with 1.0.0"
    );
    assert_eq!(fetch(&server, &url, None).await.status(), 404);
    assert!(blob_exists(data.path(), &sha256(level)));
    assert!(blob_exists(data.path(), &sha256(picture)));

    // A full collection (at start, grace 0) keeps every asset a version names.
    server.stop();
    let server = Server::start(data.path(), &["--gc-grace-secs", "0"]);
    assert!(blob_exists(data.path(), &sha256(level)));
    assert!(blob_exists(data.path(), &sha256(picture)));
    let served = fetch(&server, &format!("/assets/{}", sha256(picture)), None).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/gif");

    // And once no version names them, they go.
    server.ok(&["app", "rm", "gallery"]);
    assert!(!blob_exists(data.path(), &sha256(level)));
    assert!(!blob_exists(data.path(), &sha256(picture)));
}

#[tokio::test]
async fn uploads_over_an_asset_limit_are_refused_with_the_limit_and_store_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &[
            "--assets-max-count",
            "2",
            "--asset-max-bytes",
            "1000",
            "--assets-max-total-bytes",
            "1500",
        ],
    );
    let small = vec![b'a'; 800];
    let big = vec![b'b'; 1001];
    // (the asset files, what the refusal must say)
    type Case<'a> = (&'a [(&'a str, &'a [u8])], &'a [&'a str]);
    let cases: [Case; 3] = [
        (
            &[("a.txt", b"1"), ("b.txt", b"2"), ("c.txt", b"3")],
            &["lists 3 files", "at most 2", "--assets-max-count"],
        ),
        (
            &[("big.bin", &big)],
            &[
                "\"big.bin\" is 1001 bytes",
                "at most 1000 bytes per asset",
                "--asset-max-bytes",
            ],
        ),
        (
            &[("one.bin", &small), ("two.bin", &small)],
            &[
                "up to \"two.bin\" come to 1600 bytes",
                "at most 1500 bytes",
                "--assets-max-total-bytes",
            ],
        ),
    ];
    for (assets, expected) in cases {
        let dir = app("limited", "1.0.0", assets);
        let message = server.fails(&["app", "push", dir.path()]);
        for part in expected {
            assert!(message.contains(part), "{part:?} not in: {message}");
        }
        assert_no_stored_files(data.path());
    }
    let listed = server.ok(&["app", "ls"]);
    assert!(!listed.contains("limited"), "{listed}");

    // Within the limits, the same app goes in.
    let fits = app(
        "limited",
        "1.0.0",
        &[("one.bin", &small), ("two.bin", b"ok")],
    );
    server.ok(&["app", "push", fits.path()]);
}

#[tokio::test]
async fn a_listed_asset_missing_from_the_bundle_or_the_folder_is_refused_by_name() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let client = component("chat_client");
    // The CLI refuses to pack a folder without the file.
    let dir = AppDir::new(
        &manifest("lost", "1.0.0", &["sprites/hero.png"]),
        &[("client.wasm", &client)],
    );
    let message = server.fails(&["app", "push", dir.path()]);
    assert!(
        message.contains("[client].assets lists \"sprites/hero.png\"")
            && message.contains("does not exist"),
        "{message}"
    );
    // The server refuses a bundle without it (made by hand).
    let toml = manifest("lost", "1.0.0", &["sprites/hero.png", "sprites/foe.png"]);
    let body = bundle(&[
        ("lodge.toml", toml.as_bytes()),
        ("client.wasm", &client),
        ("sprites/hero.png", PNG),
    ]);
    let (status, code, message) = upload(&server, body).await;
    assert_eq!((status, code.as_str()), (422, "asset_missing"), "{message}");
    assert!(
        message.contains("\"sprites/foe.png\", which is not in the bundle"),
        "{message}"
    );
    assert_no_stored_files(data.path());
}
