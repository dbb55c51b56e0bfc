//! Rooms in process, without a server: a member's verified account goes
//! from `Rooms::join` through the room's mailbox and member slot to the
//! guest's `identity` calls. The guest is `tests/guests/identity-probe` (the
//! identity room of sdk/rust/README.md), built from source.

use lodge_manifest::{CapabilityName, LateJoin, RoomStart, RoomVisibility};
use lodge_runtime::{
    AppLogs, CompiledCache, ComponentLoader, EngineOptions, GuestThreads, Joiner, Kick, Membership,
    MemoryBudget, Metrics, Outgoing, Payload, RoomConfig, RoomSpec, Rooms, Shared, new_engine,
    start_ticker,
};
use lodge_store::{KvLimits, StorageConfig};
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

/// The identity probe's component, built with the guests' workspace.
fn identity_probe() -> Vec<u8> {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/guests");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(["--package", "identity-probe", "--manifest-path"])
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(guests.join("target"))
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("running cargo to build tests/guests/identity-probe");
    assert!(
        status.success(),
        "building tests/guests/identity-probe failed"
    );
    let path = guests.join("target/wasm32-wasip2/release/identity_probe.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Rooms over storage in `data`, and the spec of a room running `component`
/// with `identity` declared.
async fn rooms_running(data: &Path, component: Vec<u8>) -> (Rooms, RoomSpec) {
    let storage = StorageConfig::embedded(data, KvLimits::default())
        .open()
        .await
        .unwrap();
    let sha256 = storage.blobs.put(component).await.unwrap();
    let (engine, _) = new_engine(&EngineOptions {
        pooling: false,
        ..EngineOptions::default()
    })
    .unwrap();
    start_ticker(engine.clone());
    let metrics = Metrics::default();
    let cache = CompiledCache::new(engine.clone(), &data.join("compiled")).unwrap();
    let loader = ComponentLoader::new(cache, storage.blobs.clone(), 64 << 20, metrics.clone());
    let kick: Kick = {
        let engine = engine.clone();
        Box::new(move || engine.increment_epoch())
    };
    let shared = Shared {
        engine,
        loader,
        kv: storage.kv,
        logs: AppLogs::default(),
        metrics,
        memory: MemoryBudget::new(256 << 20),
        threads: GuestThreads::new(1, kick).unwrap(),
    };
    let spec = RoomSpec {
        app: "lounge".into(),
        version: semver::Version::new(0, 1, 0),
        sha256,
        capabilities: vec![CapabilityName::new("identity").unwrap()],
        max_members: 10,
        max_rooms: 10,
        memory_bytes: 32 << 20,
        visibility: RoomVisibility::Unlisted,
        unique_names: false,
        require_account: false,
        start: RoomStart::Immediate,
        late_join: LateJoin::Allow,
        max_spectators: 0,
        reconnect: std::time::Duration::from_secs(20),
    };
    (Rooms::new(shared, RoomConfig::default()), spec)
}

/// The next text message the member gets.
async fn text(member: &mut Membership) -> String {
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), member.next());
    match next.await.expect("a message within 10 s") {
        Outgoing::Message(Payload::Text(bytes)) => String::from_utf8(bytes.to_vec()).unwrap(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_members_account_reaches_the_room_and_a_guest_has_none() {
    let data = tempfile::tempdir().unwrap();
    let (rooms, spec) = rooms_running(data.path(), identity_probe()).await;
    let client = IpAddr::from([127, 0, 0, 1]);

    let mut alice = rooms
        .join(
            spec.clone(),
            false,
            "bar",
            Joiner::new("Alice", Some("alice".into()), client),
        )
        .await
        .unwrap_or_else(|refused| panic!("{}", refused.reason));
    assert_eq!(text(&mut alice).await, "welcome back, alice");

    let mut guest = rooms
        .join(spec, false, "bar", Joiner::new("bob", None, client))
        .await
        .unwrap_or_else(|refused| panic!("{}", refused.reason));
    assert_eq!(text(&mut guest).await, "welcome, bob (guest)");
    rooms.stop_all(1001, "the test is over").await;
}
