//! [`Accounts`] in PostgreSQL: the tables beside the registry's, so an
//! app's collaborators and its versions change in one transaction, with
//! the same answers, refusals and orders as `sqlite_accounts`. Accounts,
//! sessions, tokens, invites and server keys are here; collaborators and
//! quotas in `members`.

use super::members::{self, app_name};
use super::registry::PgRegistry;
use super::sql::{begin, begin_write, commit, exec, row_one, row_opt, rows, to_json};
use crate::accounts::*;
use crate::sqlite::corrupt;
use crate::{Result, now_ms};
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use lodge_manifest::AppName;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// An account's columns, from `accounts a`.
pub(super) const ACCOUNT_COLUMNS: &str =
    "a.id, a.username, a.role, a.disabled, a.password_hash <> '', a.quotas, a.created_ms";

/// Finds a username in any ASCII case, as SQLite's `COLLATE NOCASE` does.
const BY_USERNAME: &str = r#"lower(a.username) = lower($1::text COLLATE "C")"#;

const TOKEN_COLUMNS: &str = "id, account, name, scopes, created_ms, expires_ms, last_used_ms";

/// An account from a row of [`ACCOUNT_COLUMNS`].
pub(super) fn account_from(row: &Row) -> Result<Account> {
    let role: String = row.get(2);
    let quotas: String = row.get(5);
    Ok(Account {
        id: row.get(0),
        username: row.get(1),
        role: AccountRole::from_name(&role)
            .ok_or_else(|| corrupt("a stored account role", &role))?,
        disabled: row.get(3),
        has_password: row.get(4),
        quotas: serde_json::from_str(&quotas).map_err(|e| corrupt("stored quotas", e))?,
        created_ms: row.get(6),
    })
}

/// The account `clause` (over `accounts a`) finds first.
async fn load_account(
    db: &impl GenericClient,
    clause: &str,
    param: &(dyn ToSql + Sync),
) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE {clause}");
    row_opt(db, &sql, &[param])
        .await?
        .map(|row| account_from(&row))
        .transpose()
}

pub(super) async fn account_by_id(
    db: &impl GenericClient,
    id: AccountId,
) -> Result<Option<Account>> {
    load_account(db, "a.id = $1", &id).await
}

async fn account_named(db: &impl GenericClient, username: &str) -> Result<Option<Account>> {
    load_account(db, BY_USERNAME, &username).await
}

/// An account that was just written in this transaction.
async fn reload_account(db: &impl GenericClient, id: AccountId, what: &str) -> Result<Account> {
    account_by_id(db, id)
        .await?
        .ok_or_else(|| corrupt(what, "vanished inside its own transaction"))
}

fn token_from(row: &Row) -> Result<TokenRecord> {
    let scopes: String = row.get(3);
    Ok(TokenRecord {
        id: row.get(0),
        account: row.get(1),
        name: row.get(2),
        scopes: serde_json::from_str(&scopes).map_err(|e| corrupt("stored token scopes", e))?,
        created_ms: row.get(4),
        expires_ms: row.get(5),
        last_used_ms: row.get(6),
    })
}

/// The invite `code_hash` names, if it is unused and unexpired.
async fn usable_invite(tx: &Transaction<'_>, code_hash: &str, now: i64) -> Result<Option<i64>> {
    let row = row_opt(
        tx,
        "SELECT id FROM invites
         WHERE code_hash = $1 AND used_by IS NULL AND used_ms IS NULL AND expires_ms > $2",
        &[&code_hash, &now],
    )
    .await?;
    Ok(row.map(|row| row.get(0)))
}

/// `create_account` inside its locked transaction.
async fn create_account_in(
    tx: &Transaction<'_>,
    new: &NewAccount,
    invite: Option<&str>,
) -> Result<Result<Account, CreateRefused>> {
    let now = now_ms();
    if account_named(tx, &new.username).await?.is_some() {
        return Ok(Err(CreateRefused::UsernameTaken));
    }
    let invite_id = match invite {
        Some(code_hash) => match usable_invite(tx, code_hash, now).await? {
            Some(id) => Some(id),
            None => return Ok(Err(CreateRefused::InviteInvalid)),
        },
        None => None,
    };
    let id: AccountId = row_one(
        tx,
        "INSERT INTO accounts (username, password_hash, role, created_ms)
         VALUES ($1, $2, $3, $4) RETURNING id",
        &[&new.username, &new.password_hash, &new.role.name(), &now],
    )
    .await?
    .get(0);
    if let Some(invite) = invite_id {
        exec(
            tx,
            "UPDATE invites SET used_by = $1, used_ms = $2 WHERE id = $3",
            &[&id, &now, &invite],
        )
        .await?;
    }
    Ok(Ok(reload_account(tx, id, "an account").await?))
}

/// `ensure_admin` inside its locked transaction.
async fn ensure_admin_in(
    tx: &Transaction<'_>,
    username: &str,
    password_hash: Option<String>,
) -> Result<Account> {
    let admin = match load_account(tx, "a.role = $1 ORDER BY a.id LIMIT 1", &"admin").await? {
        Some(admin) => admin,
        None => make_admin(tx, username).await?,
    };
    if let Some(hash) = password_hash.filter(|_| !admin.has_password) {
        exec(
            tx,
            "UPDATE accounts SET password_hash = $1 WHERE id = $2",
            &[&hash, &admin.id],
        )
        .await?;
    }
    reload_account(tx, admin.id, "the admin account").await
}

/// Makes `username` the first admin: a user already named so becomes it
/// (the operator asked for that name), or a new account without a password.
async fn make_admin(tx: &Transaction<'_>, username: &str) -> Result<Account> {
    if let Some(existing) = account_named(tx, username).await? {
        exec(
            tx,
            "UPDATE accounts SET role = 'admin' WHERE id = $1",
            &[&existing.id],
        )
        .await?;
    } else {
        exec(
            tx,
            "INSERT INTO accounts (username, password_hash, role, created_ms)
             VALUES ($1, '', 'admin', $2)",
            &[&username, &now_ms()],
        )
        .await?;
    }
    account_named(tx, username)
        .await?
        .ok_or_else(|| corrupt("the admin account", "vanished inside its own transaction"))
}

/// `delete_account` inside its locked transaction.
async fn delete_account_in(tx: &Transaction<'_>, id: AccountId) -> Result<Option<Vec<AppName>>> {
    if account_by_id(tx, id).await?.is_none() {
        return Ok(None);
    }
    let orphaned: Vec<String> = rows(
        tx,
        "SELECT app FROM app_members m WHERE account = $1 AND role = 'owner'
         AND NOT EXISTS (SELECT 1 FROM app_members o
                         WHERE o.app = m.app AND o.role = 'owner' AND o.account <> $1)
         ORDER BY app",
        &[&id],
    )
    .await?
    .iter()
    .map(|row| row.get(0))
    .collect();
    for app in &orphaned {
        exec(tx, "DELETE FROM apps WHERE name = $1", &[app]).await?;
    }
    exec(tx, "DELETE FROM accounts WHERE id = $1", &[&id]).await?;
    orphaned
        .into_iter()
        .map(app_name)
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

#[async_trait]
impl Accounts for PgRegistry {
    async fn create_account(
        &self,
        new: NewAccount,
        invite: Option<String>,
    ) -> Result<Result<Account, CreateRefused>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let created = create_account_in(&tx, &new, invite.as_deref()).await?;
        commit(tx, created).await
    }

    async fn ensure_admin(&self, username: &str, password_hash: Option<String>) -> Result<Account> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let admin = ensure_admin_in(&tx, username, password_hash).await?;
        commit(tx, admin).await
    }

    async fn adopt_unowned_apps(&self, admin: AccountId) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let adopted = members::adopt_unowned(&tx, admin).await?;
        commit(tx, adopted).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        account_by_id(&self.client().await?, id).await
    }

    async fn account_by_name(&self, username: &str) -> Result<Option<Account>> {
        account_named(&self.client().await?, username).await
    }

    async fn password_hash(&self, id: AccountId) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = row_opt(
            &client,
            "SELECT password_hash FROM accounts WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(row
            .map(|row| row.get::<_, String>(0))
            .filter(|hash| !hash.is_empty()))
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        let client = self.client().await?;
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a ORDER BY lower(a.username)");
        rows(&client, &sql, &[])
            .await?
            .iter()
            .map(account_from)
            .collect()
    }

    async fn set_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<String>,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        exec(
            &tx,
            "UPDATE accounts SET password_hash = $1 WHERE id = $2",
            &[&password_hash, &id],
        )
        .await?;
        exec(
            &tx,
            "DELETE FROM sessions WHERE account = $1 AND secret_hash IS DISTINCT FROM $2",
            &[&id, &keep],
        )
        .await?;
        commit(tx, ()).await
    }

    async fn set_disabled(&self, id: AccountId, disabled: bool) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = begin(&mut client).await?;
        let changed = exec(
            &tx,
            "UPDATE accounts SET disabled = $1 WHERE id = $2",
            &[&disabled, &id],
        )
        .await?;
        if disabled {
            exec(&tx, "DELETE FROM sessions WHERE account = $1", &[&id]).await?;
        }
        commit(tx, changed > 0).await
    }

    async fn set_quotas(&self, id: AccountId, quotas: QuotaOverrides) -> Result<bool> {
        let quotas = to_json("quotas", &quotas)?;
        let client = self.client().await?;
        let changed = exec(
            &client,
            "UPDATE accounts SET quotas = $1 WHERE id = $2",
            &[&quotas, &id],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn set_role(&self, id: AccountId, role: AccountRole) -> Result<bool> {
        let client = self.client().await?;
        let changed = exec(
            &client,
            "UPDATE accounts SET role = $1 WHERE id = $2",
            &[&role.name(), &id],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn delete_account(&self, id: AccountId) -> Result<Option<Vec<AppName>>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let orphaned = delete_account_in(&tx, id).await?;
        commit(tx, orphaned).await
    }

    async fn create_session(&self, session: SessionRecord) -> Result<()> {
        let client = self.client().await?;
        // Expired sessions go as new ones come.
        exec(
            &client,
            "DELETE FROM sessions WHERE expires_ms <= $1",
            &[&now_ms()],
        )
        .await?;
        exec(
            &client,
            "INSERT INTO sessions (secret_hash, account, csrf, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &session.secret_hash,
                &session.account,
                &session.csrf,
                &session.created_ms,
                &session.expires_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, secret_hash: &str) -> Result<Option<(SessionRecord, Account)>> {
        let client = self.client().await?;
        let row = row_opt(
            &client,
            "SELECT account, csrf, created_ms, expires_ms FROM sessions
             WHERE secret_hash = $1 AND expires_ms > $2",
            &[&secret_hash, &now_ms()],
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = SessionRecord {
            account: row.get(0),
            secret_hash: secret_hash.to_owned(),
            csrf: row.get(1),
            created_ms: row.get(2),
            expires_ms: row.get(3),
        };
        let account = account_by_id(&client, session.account).await?;
        Ok(account.filter(|a| !a.disabled).map(|a| (session, a)))
    }

    async fn delete_session(&self, secret_hash: &str) -> Result<()> {
        let client = self.client().await?;
        exec(
            &client,
            "DELETE FROM sessions WHERE secret_hash = $1",
            &[&secret_hash],
        )
        .await?;
        Ok(())
    }

    async fn delete_sessions(&self, account: AccountId) -> Result<u64> {
        let client = self.client().await?;
        exec(
            &client,
            "DELETE FROM sessions WHERE account = $1",
            &[&account],
        )
        .await
    }

    async fn create_token(&self, token: NewToken) -> Result<TokenRecord> {
        let client = self.client().await?;
        let now = now_ms();
        let id: i64 = row_one(
            &client,
            "INSERT INTO api_tokens (account, name, secret_hash, scopes, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &token.account,
                &token.name,
                &token.secret_hash,
                &to_json("token scopes", &token.scopes)?,
                &now,
                &token.expires_ms,
            ],
        )
        .await?
        .get(0);
        Ok(TokenRecord {
            id,
            account: token.account,
            name: token.name,
            scopes: token.scopes,
            created_ms: now,
            expires_ms: token.expires_ms,
            last_used_ms: None,
        })
    }

    async fn token(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>> {
        let client = self.client().await?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1");
        let Some(row) = row_opt(&client, &sql, &[&secret_hash]).await? else {
            return Ok(None);
        };
        let mut token = token_from(&row)?;
        let now = now_ms();
        // Recorded to the minute: a busy script doesn't write on every call.
        if token.last_used_ms.is_none_or(|used| now - used > 60_000) {
            exec(
                &client,
                "UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2",
                &[&now, &token.id],
            )
            .await?;
            token.last_used_ms = Some(now);
        }
        let account = account_by_id(&client, token.account).await?;
        Ok(account.map(|a| (token, a)))
    }

    async fn tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>> {
        let client = self.client().await?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE account = $1 ORDER BY id");
        rows(&client, &sql, &[&account])
            .await?
            .iter()
            .map(token_from)
            .collect()
    }

    async fn delete_token(&self, account: AccountId, id: i64) -> Result<bool> {
        let client = self.client().await?;
        let deleted = exec(
            &client,
            "DELETE FROM api_tokens WHERE account = $1 AND id = $2",
            &[&account, &id],
        )
        .await?;
        Ok(deleted > 0)
    }

    async fn create_invite(
        &self,
        code_hash: String,
        created_by: AccountId,
        expires_ms: i64,
    ) -> Result<InviteRecord> {
        let client = self.client().await?;
        let now = now_ms();
        let id: i64 = row_one(
            &client,
            "INSERT INTO invites (code_hash, created_by, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4) RETURNING id",
            &[&code_hash, &created_by, &now, &expires_ms],
        )
        .await?
        .get(0);
        let by = row_opt(
            &client,
            "SELECT username FROM accounts WHERE id = $1",
            &[&created_by],
        )
        .await?;
        Ok(InviteRecord {
            id,
            created_by: by.map(|row| row.get(0)),
            created_ms: now,
            expires_ms,
            used_by: None,
        })
    }

    async fn invites(&self) -> Result<Vec<InviteRecord>> {
        let client = self.client().await?;
        let found = rows(
            &client,
            "SELECT i.id, c.username, i.created_ms, i.expires_ms, u.username FROM invites i
             LEFT JOIN accounts c ON c.id = i.created_by LEFT JOIN accounts u ON u.id = i.used_by
             ORDER BY i.id",
            &[],
        )
        .await?;
        Ok(found
            .iter()
            .map(|row| InviteRecord {
                id: row.get(0),
                created_by: row.get(1),
                created_ms: row.get(2),
                expires_ms: row.get(3),
                used_by: row.get(4),
            })
            .collect())
    }

    async fn app_members(&self, app: &AppName) -> Result<Vec<AppMember>> {
        members::of_app(&self.client().await?, app.as_str()).await
    }

    async fn set_app_member(
        &self,
        app: &AppName,
        account: AccountId,
        role: AppRole,
    ) -> Result<Result<(), MemberRefused>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let answer = members::set(&tx, app.as_str(), account, role).await?;
        commit(tx, answer).await
    }

    async fn remove_app_member(
        &self,
        app: &AppName,
        account: AccountId,
    ) -> Result<Result<(), MemberRefused>> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let answer = members::remove(&tx, app.as_str(), account).await?;
        commit(tx, answer).await
    }

    async fn transfer_app(&self, app: &AppName, to: AccountId) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = begin_write(&mut client).await?;
        let transferred = members::transfer(&tx, app.as_str(), to).await?;
        commit(tx, transferred).await
    }

    async fn apps_of(&self, account: AccountId) -> Result<Vec<(AppName, AppRole)>> {
        members::apps_of(&self.client().await?, account).await
    }

    async fn usage(&self, account: AccountId) -> Result<AccountUsage> {
        members::usage_of(&self.client().await?, account).await
    }

    async fn app_owners(&self) -> Result<Vec<(AppName, Account)>> {
        members::first_owners(&self.client().await?).await
    }

    async fn server_key(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>> {
        let client = self.client().await?;
        // A racing server's insert commits first or waits for ours: either
        // way both read the one key stored.
        exec(
            &client,
            "INSERT INTO server_keys (name, key, created_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &candidate, &now_ms()],
        )
        .await?;
        let row = row_one(
            &client,
            "SELECT key FROM server_keys WHERE name = $1",
            &[&name],
        )
        .await?;
        Ok(row.get(0))
    }
}
