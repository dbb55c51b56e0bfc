//! Who may publish which app in PostgreSQL: `app_members` (owners and
//! maintainers), what the apps an account owns hold, and the collaborator
//! and quota check a publish makes inside its transaction, as
//! `sqlite_accounts` does.

use super::accounts::{ACCOUNT_COLUMNS, account_by_id, account_from};
use super::sql::{as_count, exec, row_one, row_opt, rows};
use crate::accounts::*;
use crate::sqlite::corrupt;
use crate::{Result, now_ms};
use deadpool_postgres::{GenericClient, Transaction};
use lodge_manifest::AppName;

pub(super) fn app_name(name: String) -> Result<AppName> {
    AppName::new(name).map_err(|e| corrupt("a stored app name", e))
}
fn app_role(role: &str) -> Result<AppRole> {
    AppRole::from_name(role).ok_or_else(|| corrupt("a stored app role", role))
}

async fn app_exists(db: &impl GenericClient, app: &str) -> Result<bool> {
    Ok(row_opt(db, "SELECT 1 FROM apps WHERE name = $1", &[&app])
        .await?
        .is_some())
}

/// The usernames of an app's owners.
async fn owners(db: &impl GenericClient, app: &str) -> Result<Vec<String>> {
    let found = rows(
        db,
        "SELECT a.username FROM app_members m JOIN accounts a ON a.id = m.account
         WHERE m.app = $1 AND m.role = 'owner' ORDER BY m.added_ms, a.id",
        &[&app],
    )
    .await?;
    Ok(found.iter().map(|row| row.get(0)).collect())
}

pub(super) async fn usage_of(db: &impl GenericClient, account: AccountId) -> Result<AccountUsage> {
    let row = row_one(
        db,
        "SELECT COUNT(DISTINCT m.app), COALESCE(SUM(v.size), 0)::bigint
         FROM app_members m LEFT JOIN versions v ON v.app = m.app
         WHERE m.account = $1 AND m.role = 'owner'",
        &[&account],
    )
    .await?;
    Ok(AccountUsage {
        apps: as_count(row.get(0)),
        stored_bytes: as_count(row.get(1)),
    })
}

/// Whose quotas a push to `app` counts against: its first owner, or the
/// publisher of a new app. `Err` when the publisher may not push to it.
async fn quota_holder(
    tx: &Transaction<'_>,
    app: &str,
    exists: bool,
    publisher: &Publisher,
) -> Result<Result<AccountId, PublishRefusal>> {
    if !exists {
        return Ok(Ok(publisher.account));
    }
    let member = row_opt(
        tx,
        "SELECT role FROM app_members WHERE app = $1 AND account = $2",
        &[&app, &publisher.account],
    )
    .await?;
    if member.is_none() && !publisher.admin {
        return Ok(Err(PublishRefusal::NotACollaborator {
            owners: owners(tx, app).await?,
        }));
    }
    let first_owner = row_opt(
        tx,
        "SELECT account FROM app_members WHERE app = $1 AND role = 'owner'
         ORDER BY added_ms, account LIMIT 1",
        &[&app],
    )
    .await?;
    Ok(Ok(first_owner.map_or(publisher.account, |row| row.get(0))))
}

/// Whether `publisher` may add a version of `size` bytes to `app`, read
/// inside the publish's transaction.
pub(super) async fn check_publish(
    tx: &Transaction<'_>,
    app: &str,
    publisher: &Publisher,
    size: u64,
) -> Result<Option<PublishRefusal>> {
    let exists = app_exists(tx, app).await?;
    let owner = match quota_holder(tx, app, exists, publisher).await? {
        Ok(owner) => owner,
        Err(refusal) => return Ok(Some(refusal)),
    };
    let Some(owner) = account_by_id(tx, owner).await? else {
        return Ok(None);
    };
    if owner.is_admin() {
        return Ok(None);
    }
    let quotas = publisher.quotas.with(&owner.quotas);
    let usage = usage_of(tx, owner.id).await?;
    let versions = as_count(
        row_one(tx, "SELECT COUNT(*) FROM versions WHERE app = $1", &[&app])
            .await?
            .get(0),
    );
    let over = if !exists && usage.apps + 1 > quotas.apps {
        Some((QuotaKind::Apps, quotas.apps, usage.apps, 1))
    } else if versions + 1 > quotas.versions_per_app {
        Some((
            QuotaKind::VersionsPerApp,
            quotas.versions_per_app,
            versions,
            1,
        ))
    } else if usage.stored_bytes + size > quotas.stored_bytes {
        Some((
            QuotaKind::StoredBytes,
            quotas.stored_bytes,
            usage.stored_bytes,
            size,
        ))
    } else {
        None
    };
    Ok(over.map(|(quota, limit, used, adding)| {
        PublishRefusal::OverQuota(QuotaRefusal {
            quota,
            account: owner.username.clone(),
            limit,
            used,
            adding,
        })
    }))
}

/// Whether `account` is the app's only owner.
async fn is_last_owner(db: &impl GenericClient, app: &str, account: AccountId) -> Result<bool> {
    let row = row_one(
        db,
        "SELECT COALESCE(bool_or(account = $2), false), COUNT(*) FROM app_members
         WHERE app = $1 AND role = 'owner'",
        &[&app, &account],
    )
    .await?;
    let (is_owner, owners): (bool, i64) = (row.get(0), row.get(1));
    Ok(is_owner && owners <= 1)
}

/// Makes `admin` the owner of every app without one.
pub(super) async fn adopt_unowned(tx: &Transaction<'_>, admin: AccountId) -> Result<u64> {
    exec(
        tx,
        "INSERT INTO app_members (app, account, role, added_ms)
         SELECT name, $1, 'owner', $2 FROM apps
         WHERE NOT EXISTS (SELECT 1 FROM app_members m WHERE m.app = apps.name AND m.role = 'owner')
         ON CONFLICT (app, account) DO UPDATE SET role = 'owner'",
        &[&admin, &now_ms()],
    )
    .await
}

/// An app's collaborators, owners first.
pub(super) async fn of_app(db: &impl GenericClient, app: &str) -> Result<Vec<AppMember>> {
    let found = rows(
        db,
        "SELECT m.account, a.username, m.role FROM app_members m JOIN accounts a ON a.id = m.account
         WHERE m.app = $1 ORDER BY m.role = 'maintainer', m.added_ms, a.id",
        &[&app],
    )
    .await?;
    found
        .iter()
        .map(|row| {
            Ok(AppMember {
                account: row.get(0),
                username: row.get(1),
                role: app_role(row.get(2))?,
            })
        })
        .collect()
}

/// Adds a collaborator or changes their role, unless that leaves no owner.
pub(super) async fn set(
    tx: &Transaction<'_>,
    app: &str,
    account: AccountId,
    role: AppRole,
) -> Result<Result<(), MemberRefused>> {
    if role == AppRole::Maintainer && is_last_owner(tx, app, account).await? {
        return Ok(Err(MemberRefused::LastOwner));
    }
    exec(
        tx,
        "INSERT INTO app_members (app, account, role, added_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (app, account) DO UPDATE SET role = excluded.role",
        &[&app, &account, &role.name(), &now_ms()],
    )
    .await?;
    Ok(Ok(()))
}

/// Removes a collaborator, unless it is the last owner.
pub(super) async fn remove(
    tx: &Transaction<'_>,
    app: &str,
    account: AccountId,
) -> Result<Result<(), MemberRefused>> {
    if is_last_owner(tx, app, account).await? {
        return Ok(Err(MemberRefused::LastOwner));
    }
    let removed = exec(
        tx,
        "DELETE FROM app_members WHERE app = $1 AND account = $2",
        &[&app, &account],
    )
    .await?;
    Ok(if removed > 0 {
        Ok(())
    } else {
        Err(MemberRefused::NotAMember)
    })
}

/// Makes `to` the app's only owner; `false` when there is no such app.
pub(super) async fn transfer(tx: &Transaction<'_>, app: &str, to: AccountId) -> Result<bool> {
    if !app_exists(tx, app).await? {
        return Ok(false);
    }
    exec(
        tx,
        "DELETE FROM app_members WHERE app = $1 AND role = 'owner'",
        &[&app],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO app_members (app, account, role, added_ms) VALUES ($1, $2, 'owner', $3)
         ON CONFLICT (app, account) DO UPDATE SET role = 'owner'",
        &[&app, &to, &now_ms()],
    )
    .await?;
    Ok(true)
}

/// The apps an account collaborates on, by name.
pub(super) async fn apps_of(
    db: &impl GenericClient,
    account: AccountId,
) -> Result<Vec<(AppName, AppRole)>> {
    let found = rows(
        db,
        "SELECT app, role FROM app_members WHERE account = $1 ORDER BY app",
        &[&account],
    )
    .await?;
    found
        .iter()
        .map(|row| Ok((app_name(row.get(0))?, app_role(row.get(1))?)))
        .collect()
}

/// Every app's first owner (by when added, then by id), by app name.
pub(super) async fn first_owners(db: &impl GenericClient) -> Result<Vec<(AppName, Account)>> {
    let sql = format!(
        "SELECT DISTINCT ON (m.app) {ACCOUNT_COLUMNS}, m.app
         FROM app_members m JOIN accounts a ON a.id = m.account
         WHERE m.role = 'owner' ORDER BY m.app, m.added_ms, m.account"
    );
    let mut owners = Vec::new();
    for row in rows(db, &sql, &[]).await? {
        // The app comes after the account's columns.
        owners.push((app_name(row.get(7))?, account_from(&row)?));
    }
    Ok(owners)
}
