//! The embedded [`Accounts`]: tables in the registry's SQLite file
//! (migration 4), so an app's collaborators and its versions change in one
//! transaction.

use crate::accounts::*;
use crate::sqlite::corrupt;
use crate::{Result, SqliteRegistry, now_ms};
use async_trait::async_trait;
use lodge_manifest::AppName;
use rusqlite::{Connection, OptionalExtension, Row, params};

const ACCOUNT_COLUMNS: &str =
    "id, username, role, disabled, password_hash != '', quotas, created_ms";

fn account_row(r: &Row<'_>) -> rusqlite::Result<(i64, String, String, bool, bool, String, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn account_from(row: (i64, String, String, bool, bool, String, i64)) -> Result<Account> {
    let (id, username, role, disabled, has_password, quotas, created_ms) = row;
    Ok(Account {
        id,
        role: AccountRole::from_name(&role)
            .ok_or_else(|| corrupt("a stored account role", &role))?,
        username,
        disabled,
        has_password,
        quotas: serde_json::from_str(&quotas).map_err(|e| corrupt("stored quotas", e))?,
        created_ms,
    })
}

fn load_account(
    conn: &Connection,
    clause: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Option<Account>> {
    let row = conn
        .query_row(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {clause}"),
            [param],
            account_row,
        )
        .optional()?;
    row.map(account_from).transpose()
}

const TOKEN_COLUMNS: &str = "id, account, name, scopes, created_ms, expires_ms, last_used_ms";

fn token_from(r: &Row<'_>) -> rusqlite::Result<(TokenRecord, String)> {
    Ok((
        TokenRecord {
            id: r.get(0)?,
            account: r.get(1)?,
            name: r.get(2)?,
            scopes: Vec::new(),
            created_ms: r.get(4)?,
            expires_ms: r.get(5)?,
            last_used_ms: r.get(6)?,
        },
        r.get(3)?,
    ))
}

fn with_scopes((mut token, scopes): (TokenRecord, String)) -> Result<TokenRecord> {
    token.scopes = serde_json::from_str(&scopes).map_err(|e| corrupt("stored token scopes", e))?;
    Ok(token)
}

/// The usernames of an app's owners.
fn owners(conn: &Connection, app: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.username FROM app_members m JOIN accounts a ON a.id = m.account
         WHERE m.app = ?1 AND m.role = 'owner' ORDER BY m.added_ms, a.id",
    )?;
    let rows = stmt.query_map(params![app], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn usage_of(conn: &Connection, account: AccountId) -> Result<AccountUsage> {
    Ok(conn.query_row(
        "SELECT COUNT(DISTINCT m.app), COALESCE(SUM(v.size), 0)
         FROM app_members m LEFT JOIN versions v ON v.app = m.app
         WHERE m.account = ?1 AND m.role = 'owner'",
        params![account],
        |r| {
            Ok(AccountUsage {
                apps: r.get::<_, i64>(0)? as u64,
                stored_bytes: r.get::<_, i64>(1)? as u64,
            })
        },
    )?)
}

/// Whether `publisher` may add a version of `size` bytes to `app`, read
/// inside the publish's transaction.
pub(crate) fn check_publish(
    conn: &Connection,
    app: &str,
    publisher: &Publisher,
    size: u64,
) -> Result<Option<PublishRefusal>> {
    let exists = conn
        .query_row("SELECT 1 FROM apps WHERE name = ?1", params![app], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    let owner = if exists {
        let role: Option<String> = conn
            .query_row(
                "SELECT role FROM app_members WHERE app = ?1 AND account = ?2",
                params![app, publisher.account],
                |r| r.get(0),
            )
            .optional()?;
        if role.is_none() && !publisher.admin {
            return Ok(Some(PublishRefusal::NotACollaborator {
                owners: owners(conn, app)?,
            }));
        }
        let first_owner: Option<i64> = conn
            .query_row(
                "SELECT account FROM app_members WHERE app = ?1 AND role = 'owner' ORDER BY added_ms, account LIMIT 1",
                params![app],
                |r| r.get(0),
            )
            .optional()?;
        first_owner.unwrap_or(publisher.account)
    } else {
        publisher.account
    };
    let Some(owner) = load_account(conn, "id = ?1", &owner)? else {
        return Ok(None);
    };
    if owner.is_admin() {
        return Ok(None);
    }
    let quotas = publisher.quotas.with(&owner.quotas);
    let usage = usage_of(conn, owner.id)?;
    let refuse = |quota, limit, used, adding| {
        Ok(Some(PublishRefusal::OverQuota(QuotaRefusal {
            quota,
            account: owner.username.clone(),
            limit,
            used,
            adding,
        })))
    };
    if !exists && usage.apps + 1 > quotas.apps {
        return refuse(QuotaKind::Apps, quotas.apps, usage.apps, 1);
    }
    let versions: i64 = conn.query_row(
        "SELECT COUNT(*) FROM versions WHERE app = ?1",
        params![app],
        |r| r.get(0),
    )?;
    if versions as u64 + 1 > quotas.versions_per_app {
        return refuse(
            QuotaKind::VersionsPerApp,
            quotas.versions_per_app,
            versions as u64,
            1,
        );
    }
    if usage.stored_bytes + size > quotas.stored_bytes {
        return refuse(
            QuotaKind::StoredBytes,
            quotas.stored_bytes,
            usage.stored_bytes,
            size,
        );
    }
    Ok(None)
}

#[async_trait]
impl Accounts for SqliteRegistry {
    async fn create_account(
        &self,
        new: NewAccount,
        invite: Option<String>,
    ) -> Result<Result<Account, CreateRefused>> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_ms();
            if load_account(&tx, "username = ?1", &new.username)?.is_some() {
                return Ok(Err(CreateRefused::UsernameTaken));
            }
            let invite_id: Option<i64> = match &invite {
                Some(code_hash) => {
                    let id = tx
                        .query_row(
                            "SELECT id FROM invites WHERE code_hash = ?1 AND used_by IS NULL AND used_ms IS NULL AND expires_ms > ?2",
                            params![code_hash, now],
                            |r| r.get(0),
                        )
                        .optional()?;
                    match id {
                        Some(id) => Some(id),
                        None => return Ok(Err(CreateRefused::InviteInvalid)),
                    }
                }
                None => None,
            };
            tx.execute(
                "INSERT INTO accounts (username, password_hash, role, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![new.username, new.password_hash, new.role.name(), now],
            )?;
            let id = tx.last_insert_rowid();
            if let Some(invite) = invite_id {
                tx.execute(
                    "UPDATE invites SET used_by = ?1, used_ms = ?2 WHERE id = ?3",
                    params![id, now, invite],
                )?;
            }
            let account = load_account(&tx, "id = ?1", &id)?
                .ok_or_else(|| corrupt("an account", "vanished inside its own transaction"))?;
            tx.commit()?;
            Ok(Ok(account))
        })
        .await
    }

    async fn ensure_admin(&self, username: &str, password_hash: Option<String>) -> Result<Account> {
        let username = username.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let admin = match load_account(&tx, "role = ?1 ORDER BY id LIMIT 1", &"admin")? {
                Some(admin) => admin,
                None => {
                    // A user already named so becomes the admin: the
                    // operator asked for that name.
                    if let Some(existing) = load_account(&tx, "username = ?1", &username)? {
                        tx.execute("UPDATE accounts SET role = 'admin' WHERE id = ?1", params![existing.id])?;
                    } else {
                        tx.execute(
                            "INSERT INTO accounts (username, password_hash, role, created_ms) VALUES (?1, '', 'admin', ?2)",
                            params![username, now_ms()],
                        )?;
                    }
                    load_account(&tx, "username = ?1", &username)?
                        .ok_or_else(|| corrupt("the admin account", "vanished inside its own transaction"))?
                }
            };
            if let Some(hash) = password_hash.filter(|_| !admin.has_password) {
                tx.execute(
                    "UPDATE accounts SET password_hash = ?1 WHERE id = ?2",
                    params![hash, admin.id],
                )?;
            }
            let admin = load_account(&tx, "id = ?1", &admin.id)?
                .ok_or_else(|| corrupt("the admin account", "vanished inside its own transaction"))?;
            tx.commit()?;
            Ok(admin)
        })
        .await
    }

    async fn adopt_unowned_apps(&self, admin: AccountId) -> Result<u64> {
        self.with(move |conn| {
            Ok(conn.execute(
                "INSERT INTO app_members (app, account, role, added_ms)
                 SELECT name, ?1, 'owner', ?2 FROM apps
                 WHERE NOT EXISTS (SELECT 1 FROM app_members m WHERE m.app = apps.name AND m.role = 'owner')
                 ON CONFLICT (app, account) DO UPDATE SET role = 'owner'",
                params![admin, now_ms()],
            )? as u64)
        })
        .await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.with(move |conn| load_account(conn, "id = ?1", &id))
            .await
    }

    async fn account_by_name(&self, username: &str) -> Result<Option<Account>> {
        let username = username.to_owned();
        self.with(move |conn| load_account(conn, "username = ?1", &username))
            .await
    }

    async fn password_hash(&self, id: AccountId) -> Result<Option<String>> {
        self.with(move |conn| {
            let hash: Option<String> = conn
                .query_row(
                    "SELECT password_hash FROM accounts WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(hash.filter(|h| !h.is_empty()))
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"
            ))?;
            let rows = stmt.query_map([], account_row)?;
            rows.map(|row| account_from(row?)).collect()
        })
        .await
    }

    async fn set_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<String>,
    ) -> Result<()> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE accounts SET password_hash = ?1 WHERE id = ?2",
                params![password_hash, id],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE account = ?1 AND secret_hash IS NOT ?2",
                params![id, keep],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn set_disabled(&self, id: AccountId, disabled: bool) -> Result<bool> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let changed = tx.execute(
                "UPDATE accounts SET disabled = ?1 WHERE id = ?2",
                params![disabled, id],
            )?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE account = ?1", params![id])?;
            }
            tx.commit()?;
            Ok(changed > 0)
        })
        .await
    }

    async fn set_quotas(&self, id: AccountId, quotas: QuotaOverrides) -> Result<bool> {
        let quotas = serde_json::to_string(&quotas).expect("quotas serialize");
        self.with(move |conn| {
            Ok(conn.execute(
                "UPDATE accounts SET quotas = ?1 WHERE id = ?2",
                params![quotas, id],
            )? > 0)
        })
        .await
    }

    async fn set_role(&self, id: AccountId, role: AccountRole) -> Result<bool> {
        self.with(move |conn| {
            Ok(conn.execute(
                "UPDATE accounts SET role = ?1 WHERE id = ?2",
                params![role.name(), id],
            )? > 0)
        })
        .await
    }

    async fn delete_account(&self, id: AccountId) -> Result<Option<Vec<AppName>>> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if load_account(&tx, "id = ?1", &id)?.is_none() {
                return Ok(None);
            }
            let orphaned: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT app FROM app_members m WHERE account = ?1 AND role = 'owner'
                     AND NOT EXISTS (SELECT 1 FROM app_members o WHERE o.app = m.app AND o.role = 'owner' AND o.account != ?1)
                     ORDER BY app",
                )?;
                let rows = stmt.query_map(params![id], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            for app in &orphaned {
                tx.execute("DELETE FROM apps WHERE name = ?1", params![app])?;
            }
            tx.execute("DELETE FROM accounts WHERE id = ?1", params![id])?;
            tx.commit()?;
            orphaned
                .into_iter()
                .map(|name| AppName::new(name).map_err(|e| corrupt("a stored app name", e)))
                .collect::<Result<Vec<_>>>()
                .map(Some)
        })
        .await
    }

    async fn create_session(&self, session: SessionRecord) -> Result<()> {
        self.with(move |conn| {
            // Expired sessions go as new ones come.
            conn.execute("DELETE FROM sessions WHERE expires_ms <= ?1", params![now_ms()])?;
            conn.execute(
                "INSERT INTO sessions (secret_hash, account, csrf, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.secret_hash,
                    session.account,
                    session.csrf,
                    session.created_ms,
                    session.expires_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, secret_hash: &str) -> Result<Option<(SessionRecord, Account)>> {
        let secret_hash = secret_hash.to_owned();
        self.with(move |conn| {
            let row = conn
                .query_row(
                    "SELECT account, csrf, created_ms, expires_ms FROM sessions WHERE secret_hash = ?1 AND expires_ms > ?2",
                    params![secret_hash, now_ms()],
                    |r| {
                        Ok(SessionRecord {
                            account: r.get(0)?,
                            secret_hash: secret_hash.clone(),
                            csrf: r.get(1)?,
                            created_ms: r.get(2)?,
                            expires_ms: r.get(3)?,
                        })
                    },
                )
                .optional()?;
            let Some(session) = row else { return Ok(None) };
            let account = load_account(conn, "id = ?1", &session.account)?;
            Ok(account.filter(|a| !a.disabled).map(|a| (session, a)))
        })
        .await
    }

    async fn delete_session(&self, secret_hash: &str) -> Result<()> {
        let secret_hash = secret_hash.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM sessions WHERE secret_hash = ?1",
                params![secret_hash],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_sessions(&self, account: AccountId) -> Result<u64> {
        self.with(move |conn| {
            Ok(conn.execute("DELETE FROM sessions WHERE account = ?1", params![account])? as u64)
        })
        .await
    }

    async fn create_token(&self, token: NewToken) -> Result<TokenRecord> {
        self.with(move |conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO api_tokens (account, name, secret_hash, scopes, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.account,
                    token.name,
                    token.secret_hash,
                    serde_json::to_string(&token.scopes).expect("strings serialize"),
                    now,
                    token.expires_ms
                ],
            )?;
            Ok(TokenRecord {
                id: conn.last_insert_rowid(),
                account: token.account,
                name: token.name,
                scopes: token.scopes,
                created_ms: now,
                expires_ms: token.expires_ms,
                last_used_ms: None,
            })
        })
        .await
    }

    async fn token(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>> {
        let secret_hash = secret_hash.to_owned();
        self.with(move |conn| {
            let row = conn
                .query_row(
                    &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?1"),
                    params![secret_hash],
                    token_from,
                )
                .optional()?;
            let Some(row) = row else { return Ok(None) };
            let mut token = with_scopes(row)?;
            let now = now_ms();
            // Recorded to the minute: a busy script doesn't write on every call.
            if token.last_used_ms.is_none_or(|used| now - used > 60_000) {
                conn.execute(
                    "UPDATE api_tokens SET last_used_ms = ?1 WHERE id = ?2",
                    params![now, token.id],
                )?;
                token.last_used_ms = Some(now);
            }
            let account = load_account(conn, "id = ?1", &token.account)?;
            Ok(account.map(|a| (token, a)))
        })
        .await
    }

    async fn tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE account = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map(params![account], token_from)?;
            rows.map(|row| with_scopes(row?)).collect()
        })
        .await
    }

    async fn delete_token(&self, account: AccountId, id: i64) -> Result<bool> {
        self.with(move |conn| {
            Ok(conn.execute(
                "DELETE FROM api_tokens WHERE account = ?1 AND id = ?2",
                params![account, id],
            )? > 0)
        })
        .await
    }

    async fn server_key(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>> {
        let name = name.to_owned();
        self.with(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO server_keys (name, key, created_ms) VALUES (?1, ?2, ?3)",
                params![name, candidate, now_ms()],
            )?;
            Ok(conn.query_row(
                "SELECT key FROM server_keys WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn create_invite(
        &self,
        code_hash: String,
        created_by: AccountId,
        expires_ms: i64,
    ) -> Result<InviteRecord> {
        self.with(move |conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO invites (code_hash, created_by, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, created_by, now, expires_ms],
            )?;
            let id = conn.last_insert_rowid();
            let by: Option<String> = conn
                .query_row(
                    "SELECT username FROM accounts WHERE id = ?1",
                    params![created_by],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(InviteRecord {
                id,
                created_by: by,
                created_ms: now,
                expires_ms,
                used_by: None,
            })
        })
        .await
    }

    async fn invites(&self) -> Result<Vec<InviteRecord>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT i.id, c.username, i.created_ms, i.expires_ms, u.username FROM invites i
                 LEFT JOIN accounts c ON c.id = i.created_by LEFT JOIN accounts u ON u.id = i.used_by
                 ORDER BY i.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(InviteRecord {
                    id: r.get(0)?,
                    created_by: r.get(1)?,
                    created_ms: r.get(2)?,
                    expires_ms: r.get(3)?,
                    used_by: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn app_members(&self, app: &AppName) -> Result<Vec<AppMember>> {
        let app = app.to_string();
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.account, a.username, m.role FROM app_members m JOIN accounts a ON a.id = m.account
                 WHERE m.app = ?1 ORDER BY m.role = 'maintainer', m.added_ms, a.id",
            )?;
            let rows = stmt.query_map(params![app], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            rows.map(|row| {
                let (account, username, role) = row?;
                Ok(AppMember {
                    account,
                    username,
                    role: AppRole::from_name(&role).ok_or_else(|| corrupt("a stored app role", &role))?,
                })
            })
            .collect()
        })
        .await
    }

    async fn set_app_member(
        &self,
        app: &AppName,
        account: AccountId,
        role: AppRole,
    ) -> Result<Result<(), MemberRefused>> {
        let app = app.to_string();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if role == AppRole::Maintainer && is_last_owner(&tx, &app, account)? {
                return Ok(Err(MemberRefused::LastOwner));
            }
            tx.execute(
                "INSERT INTO app_members (app, account, role, added_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (app, account) DO UPDATE SET role = ?3",
                params![app, account, role.name(), now_ms()],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await
    }

    async fn remove_app_member(
        &self,
        app: &AppName,
        account: AccountId,
    ) -> Result<Result<(), MemberRefused>> {
        let app = app.to_string();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if is_last_owner(&tx, &app, account)? {
                return Ok(Err(MemberRefused::LastOwner));
            }
            let removed = tx.execute(
                "DELETE FROM app_members WHERE app = ?1 AND account = ?2",
                params![app, account],
            )?;
            tx.commit()?;
            Ok(if removed > 0 {
                Ok(())
            } else {
                Err(MemberRefused::NotAMember)
            })
        })
        .await
    }

    async fn transfer_app(&self, app: &AppName, to: AccountId) -> Result<bool> {
        let app = app.to_string();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let exists = tx
                .query_row("SELECT 1 FROM apps WHERE name = ?1", params![app], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            if !exists {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM app_members WHERE app = ?1 AND role = 'owner'",
                params![app],
            )?;
            tx.execute(
                "INSERT INTO app_members (app, account, role, added_ms) VALUES (?1, ?2, 'owner', ?3)
                 ON CONFLICT (app, account) DO UPDATE SET role = 'owner'",
                params![app, to, now_ms()],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn apps_of(&self, account: AccountId) -> Result<Vec<(AppName, AppRole)>> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT app, role FROM app_members WHERE account = ?1 ORDER BY app",
            )?;
            let rows = stmt.query_map(params![account], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.map(|row| {
                let (app, role) = row?;
                Ok((
                    AppName::new(app).map_err(|e| corrupt("a stored app name", e))?,
                    AppRole::from_name(&role).ok_or_else(|| corrupt("a stored app role", &role))?,
                ))
            })
            .collect()
        })
        .await
    }

    async fn usage(&self, account: AccountId) -> Result<AccountUsage> {
        self.with(move |conn| usage_of(conn, account)).await
    }

    async fn app_owners(&self) -> Result<Vec<(AppName, Account)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT m.app, m.account FROM app_members m WHERE m.role = 'owner'
                 ORDER BY m.app, m.added_ms, m.account",
            )?;
            let rows: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut owners: Vec<(AppName, Account)> = Vec::new();
            for (app, account) in rows {
                if owners.last().is_some_and(|(a, _)| a.as_str() == app) {
                    continue;
                }
                if let Some(account) = load_account(conn, "id = ?1", &account)? {
                    owners.push((
                        AppName::new(app).map_err(|e| corrupt("a stored app name", e))?,
                        account,
                    ));
                }
            }
            Ok(owners)
        })
        .await
    }
}

/// Whether `account` is the app's only owner.
fn is_last_owner(conn: &Connection, app: &str, account: AccountId) -> Result<bool> {
    let (is_owner, owners): (bool, i64) = conn.query_row(
        "SELECT COALESCE(MAX(account = ?2), 0), COUNT(*) FROM app_members WHERE app = ?1 AND role = 'owner'",
        params![app, account],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(is_owner && owners <= 1)
}
