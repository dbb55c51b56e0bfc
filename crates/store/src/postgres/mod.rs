//! PostgreSQL backends: one connection pool per database URL, schema
//! migrations every server may run at once, and what PostgreSQL's errors
//! mean to Lodge.

mod accounts;
mod kv;
mod members;
mod registry;
mod sql;

pub use kv::PgKv;
pub use registry::PgRegistry;

use crate::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The most connections one server opens to one database.
const POOL_SIZE: usize = 16;
/// How long a connection may take to open, and a caller to wait for one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to the database `url` names, checked by opening
/// one. Connections lost (a restart of PostgreSQL) are replaced as needed.
pub async fn connect(url: &str) -> Result<Pool, StoreError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::Backend {
        backend: "postgres",
        message: format!("the URL is not a PostgreSQL connection string: {e}"),
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("lodge");
    let manager = Manager::from_config(
        config,
        tls()?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(CONNECT_TIMEOUT))
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Backend {
            backend: "postgres",
            message: e.to_string(),
        })?;
    drop(pool.get().await.map_err(pool_error)?);
    Ok(pool)
}

/// How connections make TLS when the URL asks for it (`sslmode=require`,
/// or `prefer`, the default, when the server offers it): the public roots
/// of the web PKI, plus the certificates in the PEM file `PGSSLROOTCERT`
/// names (libpq's variable), for a database with its own certificate
/// authority.
pub(crate) fn tls() -> Result<MakeRustlsConnect, StoreError> {
    let failed = |message: String| StoreError::Backend {
        backend: "postgres",
        message,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = std::env::var_os("PGSSLROOTCERT") {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let shown = std::path::Path::new(&path).display().to_string();
        let certificates = CertificateDer::pem_file_iter(&path)
            .map_err(|e| failed(format!("PGSSLROOTCERT {shown}: {e}")))?;
        for certificate in certificates {
            let certificate =
                certificate.map_err(|e| failed(format!("PGSSLROOTCERT {shown}: {e}")))?;
            roots
                .add(certificate)
                .map_err(|e| failed(format!("PGSSLROOTCERT {shown}: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| failed(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Applies `migrations` of `component` (`kv`, `registry`, `cluster`) that
/// this database has not seen, in order, each in its own transaction,
/// under an advisory lock so servers starting together take turns.
pub async fn migrate(pool: &Pool, component: &str, migrations: &[&str]) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    for (index, sql) in migrations.iter().enumerate() {
        let version = index as i32 + 1;
        let tx = client.transaction().await.map_err(pg_error)?;
        // The lock first, then the bookkeeping table: two servers starting
        // on a fresh database must not both create it.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('lodge-migrate'))",
            &[],
        )
        .await
        .map_err(pg_error)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS lodge_schema (component text PRIMARY KEY, version integer NOT NULL)",
        )
        .await
        .map_err(pg_error)?;
        let done: Option<i32> = tx
            .query_opt(
                "SELECT version FROM lodge_schema WHERE component = $1",
                &[&component],
            )
            .await
            .map_err(pg_error)?
            .map(|row| row.get(0));
        if done.unwrap_or(0) >= version {
            continue;
        }
        tx.batch_execute(sql).await.map_err(pg_error)?;
        tx.execute(
            "INSERT INTO lodge_schema (component, version) VALUES ($1, $2)
             ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            &[&component, &version],
        )
        .await
        .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
    }
    Ok(())
}

/// What a PostgreSQL failure means to Lodge: a lost or refused connection,
/// a server shutting down or starting, or one out of resources is
/// "unavailable"; anything else is the backend's error.
pub(crate) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let unavailable = e.is_closed()
        || match e.code() {
            None => true,
            Some(code) => {
                let class = &code.code()[..2];
                class == "08" || class == "53" || class == "57"
            }
        };
    // A server error's own message and SQL state (`to_string` says only
    // "db error"); a connection error as it is.
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => with_causes(&e),
    };
    if unavailable {
        StoreError::Unavailable {
            backend: "postgres",
            reason: message,
        }
    } else {
        StoreError::Backend {
            backend: "postgres",
            message,
        }
    }
}

/// A failure to get a connection from the pool: always "unavailable".
pub(crate) fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable {
        backend: "postgres",
        reason: match e {
            deadpool_postgres::PoolError::Backend(e) => with_causes(&e),
            e => e.to_string(),
        },
    }
}

/// An error with its causes (a certificate refused, a connection
/// refused), which its own message leaves out.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}

/// Whether the failure is a deadlock or serialization conflict, which
/// retrying resolves.
pub(crate) fn is_conflict(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
    )
}
