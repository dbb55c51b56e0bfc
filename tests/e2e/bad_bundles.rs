//! Bad bundles: each refused with its own clear message, nothing left in the store.

use crate::support::*;

/// A tar.gz whose entries are written with raw headers, so paths and entry
/// types the tar crate would refuse to write can be tested.
/// One raw entry: name bytes, type, data, link target.
type RawEntry<'a> = (&'a [u8], tar::EntryType, &'a [u8], Option<&'a str>);

pub(crate) fn raw_bundle(entries: &[RawEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, kind, data, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn manifest(component: &str) -> String {
    format!(
        "[app]\nname = \"demo\"\nversion = \"1.0.0\"\ndescription = \"\"\n[room]\ncomponent = \"{component}\"\n"
    )
}

/// The manifest the valid room (tic-tac-toe's, which keeps scores in kv) needs.
pub(crate) fn manifest_with_kv(component: &str) -> String {
    format!("{}capabilities = [\"kv\"]\n", manifest(component))
}

#[tokio::test]
async fn every_bad_bundle_is_refused_with_its_own_message_and_leaves_nothing() {
    let data = tempfile::tempdir().unwrap();
    // A small bundle limit keeps the oversize case quick.
    let server = Server::start(data.path(), &["--max-bundle-bytes", "2000000"]);
    let good_manifest = manifest_with_kv("room.wasm");
    let room = component("tic_tac_toe_room");
    let counter = component("counter_room");
    let core_module = wat::parse_str("(module (func (export \"run\")))").unwrap();

    let valid = bundle(&[
        ("lodge.toml", good_manifest.as_bytes()),
        ("room.wasm", &room),
    ]);
    let incompressible = noise(3_000_000);
    let zeros = vec![0u8; 20 << 20];

    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        (
            "empty body",
            vec![],
            400,
            "bundle_empty",
            "the upload is empty",
        ),
        (
            "not gzip",
            b"PK\x03\x04 this is a zip".to_vec(),
            400,
            "bundle_not_gzip",
            "not gzip-compressed",
        ),
        (
            "truncated",
            valid[..valid.len() / 2].to_vec(),
            400,
            "bundle_damaged",
            "truncated or damaged",
        ),
        (
            "path traversal",
            raw_bundle(&[
                (
                    b"lodge.toml",
                    tar::EntryType::Regular,
                    good_manifest.as_bytes(),
                    None,
                ),
                (b"../../etc/room.wasm", tar::EntryType::Regular, &room, None),
            ]),
            400,
            "bundle_unsafe_path",
            "\"../../etc/room.wasm\" is not allowed",
        ),
        (
            "absolute path",
            raw_bundle(&[(b"/etc/passwd", tar::EntryType::Regular, b"root", None)]),
            400,
            "bundle_unsafe_path",
            "\"/etc/passwd\" is not allowed",
        ),
        (
            "symlink",
            raw_bundle(&[
                (
                    b"lodge.toml",
                    tar::EntryType::Regular,
                    good_manifest.as_bytes(),
                    None,
                ),
                (
                    b"room.wasm",
                    tar::EntryType::Symlink,
                    b"",
                    Some("/etc/passwd"),
                ),
            ]),
            400,
            "bundle_not_a_file",
            "room.wasm is a symbolic link",
        ),
        (
            "device",
            raw_bundle(&[(b"dev", tar::EntryType::Char, b"", None)]),
            400,
            "bundle_not_a_file",
            "dev is a character device",
        ),
        (
            "oversize",
            bundle(&[
                ("lodge.toml", good_manifest.as_bytes()),
                ("room.wasm", &incompressible),
            ]),
            413,
            "bundle_too_large",
            "larger than the limit of 2000000 bytes",
        ),
        (
            "zip bomb",
            bundle(&[
                ("lodge.toml", good_manifest.as_bytes()),
                ("room.wasm", &zeros),
            ]),
            400,
            "bundle_ratio",
            "expands more than 100x",
        ),
        (
            "no lodge.toml",
            bundle(&[("room.wasm", &room)]),
            422,
            "manifest_missing",
            "no lodge.toml at its root; it holds: room.wasm",
        ),
        (
            "manifest names a missing file",
            bundle(&[
                ("lodge.toml", manifest("game.wasm").as_bytes()),
                ("room.wasm", &room),
            ]),
            422,
            "part_missing",
            "[room].component = \"game.wasm\" is not in the bundle; it holds: lodge.toml, room.wasm",
        ),
        (
            "invalid manifest",
            bundle(&[
                ("lodge.toml", b"[app]\nname = \"demo\"\n"),
                ("room.wasm", &room),
            ]),
            422,
            "manifest_invalid",
            "missing field `version`",
        ),
        (
            "not wasm",
            bundle(&[
                ("lodge.toml", good_manifest.as_bytes()),
                ("room.wasm", b"#!/bin/sh\necho hi\n"),
            ]),
            422,
            "part_not_wasm",
            "room.wasm is not WebAssembly",
        ),
        (
            "core module",
            bundle(&[
                ("lodge.toml", good_manifest.as_bytes()),
                ("room.wasm", &core_module),
            ]),
            422,
            "part_core_module",
            "room.wasm is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2`",
        ),
        (
            "undeclared interface",
            bundle(&[
                ("lodge.toml", manifest("room.wasm").as_bytes()),
                ("room.wasm", &counter),
            ]),
            422,
            "part_import_denied",
            "room.wasm imports lodge:app/kv@0.1.0, which room parts get only when the manifest declares it: add \"kv\" to [room].capabilities",
        ),
        (
            // Its wasi:http imports are linked for rooms (denied at run
            // time), so what gives it away is the missing room export.
            "wrong world",
            bundle(&[
                ("lodge.toml", manifest("room.wasm").as_bytes()),
                ("room.wasm", &component("http_hello")),
            ]),
            422,
            "part_export_missing",
            "room.wasm does not export lodge:app/room-events@0.1.0 or lodge:app/room-events@0.3.0, so it can't be a room part",
        ),
        (
            // The page has no wasi:http to deny, so a client may not import it.
            "wrong world for a client",
            bundle(&[
                (
                    "lodge.toml",
                    "[app]\nname = \"bad\"\nversion = \"0.1.0\"\ndescription = \"x\"\n\n[client]\ncomponent = \"client.wasm\"\n".as_bytes(),
                ),
                ("client.wasm", &component("http_hello")),
            ]),
            422,
            "part_import_denied",
            "imports wasi:http/types@0.2.12, which client parts may not use",
        ),
    ];

    for (name, body, status, code, message) in cases {
        let (got_status, got_code, got_message) = upload(&server, body).await;
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{name}: {got_message}"
        );
        assert!(
            got_message.contains(message),
            "{name}: {got_message:?} should contain {message:?}"
        );
        let apps: serde_json::Value = server
            .http()
            .get(server.api("/api/apps"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            apps["apps"],
            serde_json::json!([]),
            "{name} left an app behind"
        );
        assert_no_stored_files(data.path());
    }

    // Without a Content-Length, the limit is enforced while the body streams in.
    let oversize = bundle(&[
        ("lodge.toml", good_manifest.as_bytes()),
        ("room.wasm", &incompressible),
    ]);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        oversize.chunks(65536).map(|c| Ok(c.to_vec())).collect();
    let response = server
        .http()
        .post(server.api("/api/apps"))
        .bearer_auth(TOKEN)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bundle_too_large");
    assert_no_stored_files(data.path());

    // The server kept serving: the valid bundle goes in afterwards.
    let (status, code, message) = upload(&server, valid).await;
    assert_eq!(status, 201, "{code} {message}");
}

#[tokio::test]
async fn a_too_many_entries_bundle_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let names: Vec<String> = (0..600).map(|i| format!("f{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let (status, code, message) = upload(&server, bundle(&entries)).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "bundle_too_many_entries"),
        "{message}"
    );
    assert!(message.contains("more than 512 entries"), "{message}");
}

/// Bytes that don't compress (xorshift noise).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}
