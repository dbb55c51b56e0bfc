//! One conformance suite for the app registry and the accounts beside it:
//! every case runs against `SqliteRegistry` (a temp file) and `PgRegistry`
//! (a real PostgreSQL the test starts, lodge-testkit), each with two
//! handles on one store standing for two servers that share it.

use lodge_manifest::{AppName, Manifest, Role};
use lodge_store::{
    Account, AccountRole, AccountUsage, Accounts, AppRole, AssetRecord, CreateRefused,
    MemberRefused, NewAccount, NewToken, NewVersion, PartRecord, PgRegistry, PublishOutcome,
    PublishRefusal, Publisher, QuotaKind, QuotaOverrides, Quotas, Registry, SessionRecord,
    SqliteRegistry, TokenRecord, VersionRecord, now_ms,
};
use lodge_testkit::Postgres;
use std::time::Duration;

// The cases, by subject (a test crate's root looks for modules beside it).
#[path = "registry_conformance/accounts.rs"]
mod accounts;
#[path = "registry_conformance/registry.rs"]
mod registry;
#[path = "registry_conformance/together.rs"]
mod together;

use accounts::*;
use registry::*;
use together::*;

/// What a registry backend is: the registry and the accounts beside it.
trait Backend: Registry + Accounts {}
impl<T: Registry + Accounts> Backend for T {}

/// Two handles on one store, as two servers sharing it see it.
struct Stores {
    one: Box<dyn Backend>,
    two: Box<dyn Backend>,
    /// The temp folder or the database server, dropped last.
    _home: Box<dyn std::any::Any>,
}

fn sqlite_stores() -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lodge.db");
    Stores {
        one: Box::new(SqliteRegistry::open(&path).unwrap()),
        two: Box::new(SqliteRegistry::open(&path).unwrap()),
        _home: Box::new(dir),
    }
}

async fn postgres_stores() -> Stores {
    let postgres = Postgres::start();
    let url = postgres.create_database("lodge");
    // Both at once on a fresh database, as two servers starting together:
    // the migrations take turns.
    let (one, two) = tokio::join!(PgRegistry::connect(&url), PgRegistry::connect(&url));
    let (one, two) = (one.unwrap(), two.unwrap());
    Stores {
        one: Box::new(one),
        two: Box::new(two),
        _home: Box::new(postgres),
    }
}

/// Runs each case against every backend: `sqlite::<case>`, `postgres::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::sqlite_stores()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::postgres_stores().await).await;
                }
            )*
        }
    };
}

conformance!(
    assets_are_kept_in_order_referenced_and_deleted_with_their_version,
    one_garbage_collection_at_a_time_across_servers,
    usernames_are_unique_in_any_case_and_invites_work_once,
    only_collaborators_push_and_quotas_hold,
    apps_from_before_accounts_go_to_the_admin,
    publishes_list_and_delete_alike,
    assets_are_named_by_the_first_version_in_byte_order,
    sessions_and_tokens_work_alike,
    accounts_are_listed_changed_and_deleted_alike,
    collaborators_change_alike,
    servers_publishing_together_take_turns,
    servers_racing_for_a_key_or_the_lease_agree,
);

fn app(name: &str) -> AppName {
    AppName::new(name).unwrap()
}

fn semver(version: &str) -> semver::Version {
    version.parse().unwrap()
}

fn manifest(app: &str, version: &str, tables: &str) -> Manifest {
    Manifest::parse(&format!(
        "[app]\nname = \"{app}\"\nversion = \"{version}\"\ndescription = \"A test.\"\n\n{tables}"
    ))
    .unwrap()
}

fn client_part(sha: &str, size: u64) -> PartRecord {
    PartRecord {
        role: Role::Client,
        sha256: sha.repeat(64),
        size,
        imports: vec![],
        exports: vec![],
    }
}

/// A version with one client part of `size` bytes.
fn version(app: &str, version: &str, size: u64, publisher: Option<Publisher>) -> NewVersion {
    NewVersion {
        manifest: manifest(app, version, "[client]\ncomponent = \"c.wasm\"\n"),
        digest: format!("{app}{version}"),
        parts: vec![client_part("a", size)],
        assets: vec![],
        publisher,
    }
}

fn new_account(name: &str) -> NewAccount {
    NewAccount {
        username: name.into(),
        password_hash: "hash".into(),
        role: AccountRole::User,
    }
}

async fn user(store: &dyn Backend, name: &str) -> Account {
    store
        .create_account(new_account(name), None)
        .await
        .unwrap()
        .unwrap()
}

fn by(account: &Account, quotas: Quotas) -> Option<Publisher> {
    Some(Publisher {
        account: account.id,
        admin: account.is_admin(),
        quotas,
    })
}

fn created(outcome: PublishOutcome) -> VersionRecord {
    match outcome {
        PublishOutcome::Created(record) => record,
        other => panic!("not created: {other:?}"),
    }
}
