//! Cases of the registry alone: publishing, listing, deleting, assets and
//! the garbage-collection lease.

use super::*;

// From `sqlite.rs`: a version's assets are stored in the manifest's order,
// count as referenced blobs while it exists, and go with it.
pub(crate) async fn assets_are_kept_in_order_referenced_and_deleted_with_their_version(s: &Stores) {
    let registry = &*s.one;
    let manifest = manifest(
        "pics",
        "1.0.0",
        "[client]\ncomponent = \"c.wasm\"\nassets = [\"z.png\", \"a.txt\"]\n",
    );
    let asset = |name: &str, sha: &str| AssetRecord {
        name: name.into(),
        sha256: sha.repeat(64),
        size: 3,
    };
    let assets = vec![asset("z.png", "b"), asset("a.txt", "c")];
    let record = created(
        registry
            .publish(NewVersion {
                publisher: None,
                manifest: manifest.clone(),
                digest: "d".into(),
                parts: vec![client_part("a", 10)],
                assets: assets.clone(),
            })
            .await
            .unwrap(),
    );
    assert_eq!(record.assets, assets);
    assert_eq!(record.size, 16);
    let referenced = s.two.referenced_blobs().await.unwrap();
    for sha in ["a", "b", "c"] {
        assert!(referenced.contains(&sha.repeat(64)), "{sha}");
    }
    let b = "b".repeat(64);
    assert_eq!(
        registry.asset_name(&b).await.unwrap().as_deref(),
        Some("z.png")
    );
    assert_eq!(registry.asset_name(&"a".repeat(64)).await.unwrap(), None);
    let name = manifest.app.name.clone();
    assert!(
        registry
            .delete_version(&name, &manifest.app.version)
            .await
            .unwrap()
    );
    assert!(registry.referenced_blobs().await.unwrap().is_empty());
    assert_eq!(registry.asset_name(&b).await.unwrap(), None);
}

// From `sqlite.rs`: the two handles stand for two servers sharing the registry.
pub(crate) async fn one_garbage_collection_at_a_time_across_servers(s: &Stores) {
    let (a, b) = (&*s.one, &*s.two);
    let ttl = Duration::from_secs(60);
    let lease = a
        .lock_gc("a", ttl)
        .await
        .unwrap()
        .expect("the lease is free");
    assert_eq!(lease.holder, "a");
    assert_eq!(b.lock_gc("b", ttl).await.unwrap(), None);
    assert_eq!(a.lock_gc("a", ttl).await.unwrap(), None, "not re-entrant");
    a.unlock_gc(&lease).await.unwrap();
    let next = b.lock_gc("b", ttl).await.unwrap().expect("given back");
    assert!(next.fence > lease.fence);
    // A stale holder can't give back its successor's lease.
    a.unlock_gc(&lease).await.unwrap();
    assert_eq!(a.lock_gc("a", ttl).await.unwrap(), None);
    // A lease whose holder died ends by itself.
    b.unlock_gc(&next).await.unwrap();
    let short = a
        .lock_gc("a", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = b.lock_gc("b", ttl).await.unwrap().expect("expired");
    assert!(taken.fence > short.fence);
}

/// Publishing is idempotent for equal content and refuses changed content;
/// lists are ordered alike; parts come back in role order; deleting the
/// last version deletes the app.
pub(crate) async fn publishes_list_and_delete_alike(s: &Stores) {
    let (registry, other) = (&*s.one, &*s.two);
    let first = created(
        registry
            .publish(version("game", "1.0.0", 5, None))
            .await
            .unwrap(),
    );
    assert!(first.created_ms > 0);
    assert_eq!(
        other
            .publish(version("game", "1.0.0", 5, None))
            .await
            .unwrap(),
        PublishOutcome::Unchanged(first.clone())
    );
    let mut changed = version("game", "1.0.0", 6, None);
    changed.digest = "changed".into();
    assert_eq!(
        other.publish(changed).await.unwrap(),
        PublishOutcome::Conflict(first.clone())
    );
    for v in ["1.10.0", "1.2.0"] {
        created(registry.publish(version("game", v, 5, None)).await.unwrap());
    }
    // Parts given client first come back in role order, room first.
    let both = NewVersion {
        manifest: manifest(
            "alpha",
            "0.1.0",
            "[room]\ncomponent = \"r.wasm\"\n\n[client]\ncomponent = \"c.wasm\"\n",
        ),
        digest: "alpha".into(),
        parts: vec![
            client_part("c", 2),
            PartRecord {
                role: Role::Room,
                sha256: "d".repeat(64),
                size: 3,
                imports: vec!["wasi:io/streams".into(), "lodge:app/kv".into()],
                exports: vec!["lodge:app/room".into()],
            },
        ],
        assets: vec![],
        publisher: None,
    };
    let alpha = created(registry.publish(both).await.unwrap());
    assert_eq!(
        alpha.parts.iter().map(|p| p.role).collect::<Vec<_>>(),
        [Role::Room, Role::Client]
    );
    assert_eq!(alpha.parts[0].imports, ["wasi:io/streams", "lodge:app/kv"]);
    assert_eq!(alpha.part(Role::Room).unwrap().size, 3);
    assert_eq!(
        other
            .version(&app("alpha"), &semver("0.1.0"))
            .await
            .unwrap(),
        Some(alpha.clone())
    );

    let apps = other.list_apps().await.unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["alpha", "game"]);
    assert_eq!(apps[0].latest.roles, [Role::Room, Role::Client]);
    assert_eq!((apps[0].latest.size, apps[0].versions), (5, 1));
    // Latest by semantic version, not by text ("1.2.0" > "1.10.0").
    assert_eq!(apps[1].latest.version, semver("1.10.0"));
    assert_eq!(apps[1].latest.description, "A test.");
    assert_eq!(apps[1].versions, 3);
    let listed: Vec<String> = other
        .versions(&app("game"))
        .await
        .unwrap()
        .iter()
        .map(|v| v.manifest.app.version.to_string())
        .collect();
    assert_eq!(listed, ["1.10.0", "1.2.0", "1.0.0"]);
    assert_eq!(
        other.version(&app("game"), &semver("9.9.9")).await.unwrap(),
        None
    );
    assert!(other.versions(&app("nope")).await.unwrap().is_empty());

    assert!(registry.is_client_part(&"c".repeat(64)).await.unwrap());
    assert!(!registry.is_client_part(&"d".repeat(64)).await.unwrap());
    assert!(!registry.is_client_part(&"e".repeat(64)).await.unwrap());

    let game = app("game");
    assert!(
        !registry
            .delete_version(&game, &semver("3.0.0"))
            .await
            .unwrap()
    );
    assert!(other.delete_version(&game, &semver("1.0.0")).await.unwrap());
    assert_eq!(registry.versions(&game).await.unwrap().len(), 2);
    assert!(other.delete_app(&game).await.unwrap());
    assert!(!other.delete_app(&game).await.unwrap());
    assert!(registry.versions(&game).await.unwrap().is_empty());
    assert!(
        registry
            .delete_version(&app("alpha"), &semver("0.1.0"))
            .await
            .unwrap()
    );
    assert!(registry.list_apps().await.unwrap().is_empty());
    assert!(!registry.delete_app(&app("alpha")).await.unwrap());
    assert!(registry.referenced_blobs().await.unwrap().is_empty());
}

/// A blob listed as an asset by several versions is named as the first of
/// them by app, then version text, in byte order, lists it.
pub(crate) async fn assets_are_named_by_the_first_version_in_byte_order(s: &Stores) {
    let shared = "f".repeat(64);
    for (name, v, asset) in [
        ("pics-b", "1.0.0", "b.png"),
        ("pics", "9.0.0", "nine.png"),
        ("pics", "10.0.0", "ten.png"),
    ] {
        let new = NewVersion {
            manifest: manifest(
                name,
                v,
                &format!("[client]\ncomponent = \"c.wasm\"\nassets = [\"{asset}\"]\n"),
            ),
            digest: format!("{name}{v}"),
            parts: vec![client_part("a", 1)],
            assets: vec![AssetRecord {
                name: asset.into(),
                sha256: shared.clone(),
                size: 1,
            }],
            publisher: None,
        };
        created(s.one.publish(new).await.unwrap());
    }
    // "pics" < "pics-b", and "10.0.0" < "9.0.0" as text.
    assert_eq!(
        s.two.asset_name(&shared).await.unwrap().as_deref(),
        Some("ten.png")
    );
    s.one
        .delete_version(&app("pics"), &semver("10.0.0"))
        .await
        .unwrap();
    assert_eq!(
        s.two.asset_name(&shared).await.unwrap().as_deref(),
        Some("nine.png")
    );
}
