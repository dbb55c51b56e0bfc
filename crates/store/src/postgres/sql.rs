//! Running the registry's SQL: transactions whose writes take turns across
//! servers, one snapshot for reads, and one-line queries whose errors are
//! already Lodge's.

use super::pg_error;
use crate::{Result, StoreError};
use deadpool_postgres::{Client, GenericClient, Transaction};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

/// Begins a transaction of writes that need no turn: ones SQLite, too,
/// runs in a deferred transaction.
pub(super) async fn begin(client: &mut Client) -> Result<Transaction<'_>> {
    client.transaction().await.map_err(pg_error)
}

/// Begins a transaction holding the registry's write lock until it ends:
/// writes from every server take turns, as SQLite's single writer does.
pub(super) async fn begin_write(client: &mut Client) -> Result<Transaction<'_>> {
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('lodge-publish'))",
        &[],
    )
    .await
    .map_err(pg_error)?;
    Ok(tx)
}

/// Begins a read-only transaction that sees one snapshot throughout, so a
/// version is never read half deleted.
pub(super) async fn begin_read(client: &mut Client) -> Result<Transaction<'_>> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_error)
}

/// Commits `tx` and hands back what it computed.
pub(super) async fn commit<T>(tx: Transaction<'_>, value: T) -> Result<T> {
    tx.commit().await.map_err(pg_error)?;
    Ok(value)
}

/// A value as JSON text, the way SQLite's columns hold it.
pub(super) fn to_json(what: &str, value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend {
        backend: "postgres",
        message: format!("{what} did not serialize: {e}"),
    })
}

/// An unsigned count or size as a `bigint`.
pub(super) fn as_bigint(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `bigint` count or size as unsigned.
pub(super) fn as_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Runs one statement; how many rows it changed.
pub(super) async fn exec(
    db: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    db.execute(sql, params).await.map_err(pg_error)
}

/// Every row a query returns.
pub(super) async fn rows(
    db: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    db.query(sql, params).await.map_err(pg_error)
}

/// The row a query returns, if any.
pub(super) async fn row_opt(
    db: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    db.query_opt(sql, params).await.map_err(pg_error)
}

/// The one row a query must return.
pub(super) async fn row_one(
    db: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    db.query_one(sql, params).await.map_err(pg_error)
}
