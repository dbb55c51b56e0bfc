//! One conformance suite for every storage backend: the same assertions
//! run against the embedded ones (SQLite, a folder) and the cluster ones
//! (PostgreSQL, Redis, S3-compatible and `file://` object storage), each
//! against a real server the test starts (lodge-testkit).

use lodge_store::{
    BlobStore, FsBlobStore, Kv, KvError, KvLimits, KvScope, LimitedKv, ObjectBlobs, PgKv, RedisKv,
    RedisRefused, SqliteKv, StoreError,
};
use lodge_testkit::{Postgres, Redis, S3};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Small limits, so the quota assertions are quick to reach.
fn limits() -> KvLimits {
    KvLimits {
        max_key_bytes: 16,
        max_value_bytes: 64,
        max_scope_bytes: 200,
        max_app_bytes: 400,
        max_room_scopes: 3,
        room_scope_days: 90,
    }
}

fn room(name: &str) -> KvScope {
    KvScope::room_named(name)
}

fn fenced(name: &str, fence: i64) -> KvScope {
    KvScope::Room {
        name: name.into(),
        fence: Some(fence),
    }
}

/// Everything a kv backend must do the same way.
async fn kv_suite(kv: &dyn Kv) {
    // Scopes are separate; values are bytes.
    kv.set("a", &room("lobby"), "k", b"room".to_vec())
        .await
        .unwrap();
    kv.set("a", &KvScope::App, "k", vec![0, 255, 1])
        .await
        .unwrap();
    assert_eq!(
        kv.get("a", &room("lobby"), "k").await.unwrap().unwrap(),
        b"room"
    );
    assert_eq!(
        kv.get("a", &KvScope::App, "k").await.unwrap().unwrap(),
        vec![0, 255, 1]
    );
    assert_eq!(kv.get("b", &KvScope::App, "k").await.unwrap(), None);
    assert_eq!(kv.get("a", &room("other"), "k").await.unwrap(), None);

    // Keys list in byte order, by prefix, bounded; odd keys survive.
    for key in ["b/2", "b/10", "a", "b/1", "c", "é", "nul\0key"] {
        kv.set("list", &KvScope::App, key, b"v".to_vec())
            .await
            .unwrap();
    }
    assert_eq!(
        kv.list_keys("list", &KvScope::App, "b/", 100)
            .await
            .unwrap(),
        ["b/1", "b/10", "b/2"]
    );
    assert_eq!(
        kv.list_keys("list", &KvScope::App, "", 2).await.unwrap(),
        ["a", "b/1"]
    );
    assert_eq!(
        kv.list_keys("list", &KvScope::App, "", 100).await.unwrap(),
        ["a", "b/1", "b/10", "b/2", "c", "nul\0key", "é"]
    );
    assert_eq!(
        kv.get("list", &KvScope::App, "nul\0key")
            .await
            .unwrap()
            .unwrap(),
        b"v"
    );
    assert!(kv.delete("list", &KvScope::App, "c").await.unwrap());
    assert!(!kv.delete("list", &KvScope::App, "c").await.unwrap());
    assert_eq!(kv.get("list", &KvScope::App, "c").await.unwrap(), None);

    // Increment: absent is 0; a non-number refuses; overflow refuses.
    assert_eq!(kv.increment("n", &KvScope::App, "c", 5).await.unwrap(), 5);
    assert_eq!(kv.increment("n", &KvScope::App, "c", -7).await.unwrap(), -2);
    assert_eq!(
        kv.get("n", &KvScope::App, "c").await.unwrap().unwrap(),
        b"-2"
    );
    kv.set("n", &KvScope::App, "s", b"x".to_vec())
        .await
        .unwrap();
    assert!(matches!(
        kv.increment("n", &KvScope::App, "s", 1).await,
        Err(KvError::NotANumber)
    ));
    kv.set("n", &KvScope::App, "max", i64::MAX.to_string().into_bytes())
        .await
        .unwrap();
    assert!(matches!(
        kv.increment("n", &KvScope::App, "max", 1).await,
        Err(KvError::NotANumber)
    ));

    // Sizes and quotas.
    assert!(matches!(
        kv.set("q", &KvScope::App, &"k".repeat(17), vec![]).await,
        Err(KvError::KeyTooLarge(16))
    ));
    assert!(matches!(
        kv.set("q", &KvScope::App, "k", vec![0; 65]).await,
        Err(KvError::ValueTooLarge(64))
    ));
    for i in 0..3 {
        kv.set("q", &room("r"), &format!("k{i}"), vec![0; 62])
            .await
            .unwrap();
    }
    // 3 × (2 + 62) = 192 of 200: a new 10-byte entry doesn't fit the scope.
    assert!(matches!(
        kv.set("q", &room("r"), "k9", vec![0; 8]).await,
        Err(KvError::ScopeFull(200))
    ));
    // Replacing a value with a smaller one always fits.
    kv.set("q", &room("r"), "k0", vec![0; 10]).await.unwrap();
    kv.set("q", &room("r"), "k9", vec![0; 8]).await.unwrap();
    // Room scopes: 3 per app (the app scope doesn't count).
    kv.set("q", &room("s"), "k", vec![0; 60]).await.unwrap();
    kv.set("q", &room("t"), "k", vec![0; 60]).await.unwrap();
    assert!(matches!(
        kv.set("q", &room("u"), "k", vec![1]).await,
        Err(KvError::TooManyRoomScopes(3, 90))
    ));
    // An emptied scope is forgotten, which frees its place.
    assert!(kv.delete("q", &room("t"), "k").await.unwrap());
    kv.set("q", &room("u"), "k", vec![1]).await.unwrap();
    // The app's bytes in all its scopes: r 150, s 61, u 2.
    assert_eq!(kv.app_bytes().await.unwrap()["q"], 213);
    kv.set("q", &room("s"), "x1", vec![0; 64]).await.unwrap();
    kv.set("q", &room("s"), "x2", vec![0; 64]).await.unwrap();
    // 345 used: another 67 bytes would pass the app's 400.
    assert!(matches!(
        kv.set("q", &KvScope::App, "big", vec![0; 64]).await,
        Err(KvError::AppFull(400))
    ));
    assert_eq!(kv.app_bytes().await.unwrap()["q"], 345);

    // Fences: once advanced, older writes are refused and change nothing.
    kv.set("f", &fenced("room", 1), "k", b"one".to_vec())
        .await
        .unwrap();
    kv.advance_fence("f", "room", 5).await.unwrap();
    kv.advance_fence("f", "room", 3).await.unwrap(); // never lowers
    for refused in [
        kv.set("f", &fenced("room", 4), "k", b"late".to_vec())
            .await
            .map(|_| 0),
        kv.increment("f", &fenced("room", 4), "n", 1).await,
        kv.delete("f", &fenced("room", 4), "k").await.map(|_| 0),
    ] {
        assert!(
            matches!(
                refused,
                Err(KvError::Fenced {
                    held: 4,
                    current: 5
                })
            ),
            "{refused:?}"
        );
    }
    assert_eq!(
        kv.get("f", &room("room"), "k").await.unwrap().unwrap(),
        b"one"
    );
    kv.set("f", &fenced("room", 5), "k", b"five".to_vec())
        .await
        .unwrap();
    kv.set("f", &fenced("room", 6), "k", b"six".to_vec())
        .await
        .unwrap();
    kv.set("f", &fenced("other", 1), "k", b"x".to_vec())
        .await
        .unwrap();
    kv.set("f", &KvScope::App, "k", b"app".to_vec())
        .await
        .unwrap();
    assert_eq!(
        kv.get("f", &room("room"), "k").await.unwrap().unwrap(),
        b"six"
    );

    // Expiry removes room scopes unwritten since the cutoff, not the app's.
    let before = lodge_store::now_ms() + 1;
    assert_eq!(kv.expire_room_scopes(0).await.unwrap(), 0);
    let expired = kv.expire_room_scopes(before).await.unwrap();
    assert!(expired >= 5, "{expired}");
    assert_eq!(kv.get("f", &room("room"), "k").await.unwrap(), None);
    assert_eq!(
        kv.get("f", &KvScope::App, "k").await.unwrap().unwrap(),
        b"app"
    );
    assert!(
        kv.list_keys("q", &room("r"), "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Fences went with them: an old fence may write a fresh scope.
    kv.set("f", &fenced("room", 1), "k", b"new".to_vec())
        .await
        .unwrap();

    // Deleting an app removes all its data and counts.
    kv.delete_app("a").await.unwrap();
    assert_eq!(kv.get("a", &KvScope::App, "k").await.unwrap(), None);
    assert_eq!(kv.get("a", &room("lobby"), "k").await.unwrap(), None);
    assert!(!kv.app_bytes().await.unwrap().contains_key("a"));
}

/// Two servers' kv (two connections to one backend) writing one app at
/// once keep its quota exactly: 40 writes of 10 bytes, room for 30.
async fn shared_quota_suite(one: &dyn Kv, two: &dyn Kv) {
    let mut writes = Vec::new();
    for i in 0..40 {
        let kv = if i % 2 == 0 { one } else { two };
        writes.push(async move {
            kv.set("shared", &KvScope::App, &format!("k{i:02}"), vec![0; 7])
                .await
        });
    }
    let results = futures::future::join_all(writes).await;
    let stored = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        results.iter().all(
            |r| r.is_ok() || matches!(r, Err(KvError::ScopeFull(_)) | Err(KvError::AppFull(_)))
        ),
        "{results:?}"
    );
    assert_eq!(stored, 20, "200 bytes of scope hold 20 entries of 10");
    assert_eq!(one.app_bytes().await.unwrap()["shared"], 200);
    assert_eq!(
        two.list_keys("shared", &KvScope::App, "", 100)
            .await
            .unwrap()
            .len(),
        20
    );
}

fn sqlite_kv(dir: &std::path::Path, name: &str) -> LimitedKv<SqliteKv> {
    LimitedKv::new(SqliteKv::open(&dir.join(name)).unwrap(), limits())
}

#[tokio::test]
async fn sqlite_kv_conforms() {
    let dir = tempfile::tempdir().unwrap();
    kv_suite(&sqlite_kv(dir.path(), "kv.db")).await;
    let shared = Arc::new(sqlite_kv(dir.path(), "shared.db"));
    shared_quota_suite(&*shared, &*shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kv_conforms() {
    let postgres = Postgres::start();
    let url = postgres.create_database("lodge");
    let kv = LimitedKv::new(PgKv::connect(&url).await.unwrap(), limits());
    kv_suite(&kv).await;
    // A second server on the same database (migrations already done).
    let other = LimitedKv::new(PgKv::connect(&url).await.unwrap(), limits());
    shared_quota_suite(&kv, &other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_kv_conforms() {
    let redis = Redis::start();
    let kv = LimitedKv::new(RedisKv::open(&redis.url()).await.unwrap(), limits());
    kv_suite(&kv).await;
    let other = LimitedKv::new(RedisKv::open(&redis.url()).await.unwrap(), limits());
    shared_quota_suite(&kv, &other).await;
}

#[tokio::test]
async fn redis_without_append_only_is_refused() {
    let redis = Redis::start_without_append_only();
    let refused = RedisKv::open(&redis.url()).await.err().expect("refused");
    assert!(matches!(refused, RedisRefused::NoAppendOnly(_)));
    let message = refused.to_string();
    assert!(message.contains("appendonly yes"), "{message}");
}

/// A lost server is "unavailable" (not a crash), and writes acknowledged
/// before a crash are all there after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_crash_loses_no_acknowledged_write() {
    let mut redis = Redis::start();
    let kv = LimitedKv::new(
        RedisKv::open(&redis.url()).await.unwrap(),
        KvLimits::default(),
    );
    let mut acked = 0;
    for i in 0..300 {
        kv.set("crash", &KvScope::App, &format!("k{i}"), vec![1; 100])
            .await
            .unwrap();
        acked = kv
            .increment("crash", &KvScope::App, "count", 1)
            .await
            .unwrap();
    }
    redis.kill();
    let down = kv.get("crash", &KvScope::App, "count").await;
    assert!(
        matches!(
            down,
            Err(KvError::Store(StoreError::Unavailable {
                backend: "redis",
                ..
            }))
        ),
        "{down:?}"
    );
    redis.start_again();
    let count = retry(|| kv.get("crash", &KvScope::App, "count")).await;
    assert_eq!(count.unwrap(), Some(acked.to_string().into_bytes()));
    assert_eq!(
        kv.list_keys("crash", &KvScope::App, "k", 1000)
            .await
            .unwrap()
            .len(),
        300
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crash_loses_no_acknowledged_write() {
    let mut postgres = Postgres::start();
    let url = postgres.create_database("lodge");
    let kv = LimitedKv::new(PgKv::connect(&url).await.unwrap(), KvLimits::default());
    let mut acked = 0;
    for _ in 0..100 {
        acked = kv.increment("crash", &room("r"), "count", 1).await.unwrap();
    }
    postgres.crash();
    let down = kv.increment("crash", &room("r"), "count", 1).await;
    assert!(
        matches!(
            down,
            Err(KvError::Store(StoreError::Unavailable {
                backend: "postgres",
                ..
            }))
        ),
        "{down:?}"
    );
    postgres.start_again();
    let scope = room("r");
    let count = retry(|| kv.get("crash", &scope, "count")).await.unwrap();
    assert_eq!(count, Some(acked.to_string().into_bytes()));
    assert_eq!(
        kv.increment("crash", &room("r"), "count", 1).await.unwrap(),
        acked + 1
    );
}

/// Retries `op` while its backend is unavailable (coming back up).
async fn retry<T, F: Future<Output = Result<T, KvError>>>(
    op: impl Fn() -> F,
) -> Result<T, KvError> {
    for _ in 0..100 {
        match op().await {
            Err(KvError::Store(e)) if e.is_unavailable() => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => return other,
        }
    }
    op().await
}

/// Everything a blob store must do the same way.
async fn blob_suite(blobs: &dyn BlobStore) {
    let hash = blobs.put(b"hello".to_vec()).await.unwrap();
    assert_eq!(hash, lodge_store::sha256_hex(b"hello"));
    assert_eq!(blobs.put(b"hello".to_vec()).await.unwrap(), hash);
    assert_eq!(blobs.get(&hash).await.unwrap().unwrap(), b"hello");
    assert!(blobs.contains(&hash).await.unwrap());
    let missing = lodge_store::sha256_hex(b"missing");
    assert_eq!(blobs.get(&missing).await.unwrap(), None);
    assert!(!blobs.contains(&missing).await.unwrap());
    assert_eq!(blobs.get("../../etc/passwd").await.unwrap(), None);
    let empty = blobs.put(Vec::new()).await.unwrap();
    assert_eq!(blobs.get(&empty).await.unwrap().unwrap(), b"");
    let mut listed = blobs.list().await.unwrap();
    listed.sort();
    let mut expected = vec![hash.clone(), empty.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    // Conditional delete: a blob stored at or after the cutoff stays.
    let past = SystemTime::now() - Duration::from_secs(3600);
    assert!(!blobs.delete_if_older(&hash, past).await.unwrap());
    assert!(blobs.contains(&hash).await.unwrap());
    let future = SystemTime::now() + Duration::from_secs(3600);
    assert!(blobs.delete_if_older(&hash, future).await.unwrap());
    assert!(!blobs.contains(&hash).await.unwrap());
    assert!(!blobs.delete_if_older(&hash, future).await.unwrap());
    // Storing again makes a blob young again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cutoff = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    blobs.put(Vec::new()).await.unwrap();
    assert!(!blobs.delete_if_older(&empty, cutoff).await.unwrap());
    blobs.delete(&empty).await.unwrap();
    blobs.delete(&empty).await.unwrap();
    assert!(blobs.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn folder_blobs_conform() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobStore::open(&dir.path().join("blobs"), &dir.path().join("tmp")).unwrap();
    blob_suite(&blobs).await;
}

#[tokio::test]
async fn file_url_blobs_conform() {
    let dir = tempfile::tempdir().unwrap();
    let url = url::Url::from_directory_path(dir.path().join("store")).unwrap();
    let blobs = ObjectBlobs::open(&url, &BTreeMap::new()).unwrap();
    blobs.check().await.unwrap();
    blob_suite(&blobs).await;
}

fn s3_blobs(s3: &S3, prefix: &str) -> ObjectBlobs {
    let options: BTreeMap<String, String> = [
        ("endpoint", s3.endpoint()),
        ("allow_http", "true".into()),
        ("region", "us-east-1".into()),
        ("access_key_id", "test".into()),
        ("secret_access_key", "test".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    ObjectBlobs::open(&url::Url::parse(&s3.url(prefix)).unwrap(), &options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blobs_conform() {
    let mut s3 = S3::start();
    let blobs = s3_blobs(&s3, "blobs");
    blobs.check().await.unwrap();
    blob_suite(&blobs).await;
    // Another prefix in the same bucket is another store.
    let other = s3_blobs(&s3, "other");
    other.put(b"x".to_vec()).await.unwrap();
    assert!(blobs.list().await.unwrap().is_empty());
    // A store that went away is "unavailable", not a crash.
    s3.stop();
    let down = blobs.put(b"y".to_vec()).await;
    assert!(
        matches!(down, Err(StoreError::Unavailable { .. })),
        "{down:?}"
    );
    s3.start_again();
    blobs.put(b"y".to_vec()).await.unwrap();
}
