//! Accounts, their sessions and API tokens, invite codes, who may publish
//! which app, and per-account quotas: the [`Accounts`] trait and its types.
//!
//! Secrets (session cookies, API tokens, invite codes) reach the store only
//! as SHA-256 digests, and passwords only as Argon2id hashes made by the
//! server: nothing stored here lets anyone sign in.

use crate::Result;
use async_trait::async_trait;
use lodge_manifest::AppName;
use serde::{Deserialize, Serialize};

/// An account's number, never reused.
pub type AccountId = i64;

/// What an account may do on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountRole {
    /// Manages users, invites and every app; not held to quotas.
    Admin,
    User,
}

impl AccountRole {
    pub fn name(self) -> &'static str {
        match self {
            AccountRole::Admin => "admin",
            AccountRole::User => "user",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(AccountRole::Admin),
            "user" => Some(AccountRole::User),
            _ => None,
        }
    }
}

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    /// Lower-case, in the app-name alphabet; unique.
    pub username: String,
    pub role: AccountRole,
    /// A disabled account can't sign in, and its sessions and tokens stop working.
    pub disabled: bool,
    /// Whether it has a password yet (the first admin may not, until the
    /// setup link is used).
    pub has_password: bool,
    /// The operator's overrides of the default quotas.
    pub quotas: QuotaOverrides,
    pub created_ms: i64,
}

impl Account {
    pub fn is_admin(&self) -> bool {
        self.role == AccountRole::Admin
    }
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Already checked and lower-cased.
    pub username: String,
    pub password_hash: String,
    pub role: AccountRole,
}

/// Why an account was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateRefused {
    #[error("the username is taken")]
    UsernameTaken,
    #[error("the invite code is unknown, used or expired")]
    InviteInvalid,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub account: AccountId,
    /// The digest of the cookie's secret.
    pub secret_hash: String,
    /// What writes made with the cookie must send in `X-CSRF-Token`.
    pub csrf: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A personal API token, as listed (its secret is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub account: AccountId,
    pub name: String,
    /// Scope strings (`publish:*`, `publish:APP`, `rooms`, `admin`); the
    /// server parses them.
    pub scopes: Vec<String>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub account: AccountId,
    pub name: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub expires_ms: Option<i64>,
}

/// A single-use invite code, as listed (its code is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteRecord {
    pub id: i64,
    pub created_by: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// Who signed up with it.
    pub used_by: Option<String>,
}

/// Someone's part in an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppRole {
    /// Pushes, deletes, and manages the collaborators.
    Owner,
    /// Pushes and deletes versions, and manages rooms.
    Maintainer,
}

impl AppRole {
    pub fn name(self) -> &'static str {
        match self {
            AppRole::Owner => "owner",
            AppRole::Maintainer => "maintainer",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "owner" => Some(AppRole::Owner),
            "maintainer" => Some(AppRole::Maintainer),
            _ => None,
        }
    }
}

/// One collaborator of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppMember {
    pub account: AccountId,
    pub username: String,
    pub role: AppRole,
}

/// Why a collaborator was not removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberRefused {
    #[error("an app keeps at least one owner: add another owner first, or delete the app")]
    LastOwner,
    #[error("that account is not a collaborator of the app")]
    NotAMember,
}

/// What an account may hold. The operator sets the defaults
/// (`lodge serve --quota-*`); an admin may override them per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// Apps the account owns.
    pub apps: u64,
    /// Versions of one of its apps.
    pub versions_per_app: u64,
    /// Bytes of every version of every app it owns (components and assets).
    pub stored_bytes: u64,
    /// Bytes of kv data (keys plus values) of every app it owns.
    pub kv_bytes: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            apps: 20,
            versions_per_app: 100,
            stored_bytes: 1 << 30,
            kv_bytes: 256 << 20,
        }
    }
}

impl Quotas {
    /// These defaults with an account's overrides.
    pub fn with(self, overrides: &QuotaOverrides) -> Self {
        Self {
            apps: overrides.apps.unwrap_or(self.apps),
            versions_per_app: overrides.versions_per_app.unwrap_or(self.versions_per_app),
            stored_bytes: overrides.stored_bytes.unwrap_or(self.stored_bytes),
            kv_bytes: overrides.kv_bytes.unwrap_or(self.kv_bytes),
        }
    }
}

/// An account's own quotas, where they differ from the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions_per_app: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_bytes: Option<u64>,
}

/// What an account holds now (kv bytes are the kv store's to count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AccountUsage {
    pub apps: u64,
    pub stored_bytes: u64,
}

/// Which quota a publish would go over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    Apps,
    VersionsPerApp,
    StoredBytes,
    KvBytes,
}

impl QuotaKind {
    /// The name an error shows, and the flag that sets its default.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            QuotaKind::Apps => ("apps", "--quota-apps"),
            QuotaKind::VersionsPerApp => ("versions per app", "--quota-versions"),
            QuotaKind::StoredBytes => ("stored bytes", "--quota-stored-bytes"),
            QuotaKind::KvBytes => ("kv bytes", "--quota-kv-bytes"),
        }
    }
}

/// A quota a write would go over: which, its limit, and the use now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaRefusal {
    pub quota: QuotaKind,
    /// The account the quota belongs to (the app's owner).
    pub account: String,
    pub limit: u64,
    pub used: u64,
    /// What the write would have added.
    pub adding: u64,
}

/// Who publishes, checked inside the publish's transaction so that two
/// first pushes of one name can't both win.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub account: AccountId,
    /// Admins may push to any app.
    pub admin: bool,
    /// The default quotas; the app owner's overrides apply on top.
    pub quotas: Quotas,
}

/// Why a publish was refused for who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishRefusal {
    /// The app belongs to others.
    NotACollaborator {
        owners: Vec<String>,
    },
    OverQuota(QuotaRefusal),
}

/// Where accounts live: beside the registry, since apps' collaborators
/// refer to both (PostgreSQL can hold them for a cluster).
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates an account; with `invite` (a code's digest), only if that
    /// code is unused and unexpired, and uses it up in the same transaction.
    async fn create_account(
        &self,
        new: NewAccount,
        invite: Option<String>,
    ) -> Result<Result<Account, CreateRefused>>;
    /// The first admin: creates `username` as an admin unless an admin
    /// exists. Sets `password_hash` when given and the admin has no password
    /// yet. Returns the (first) admin.
    async fn ensure_admin(&self, username: &str, password_hash: Option<String>) -> Result<Account>;
    /// Makes `admin` the owner of every app that has none (apps published
    /// before accounts existed). Returns how many.
    async fn adopt_unowned_apps(&self, admin: AccountId) -> Result<u64>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    /// By username, in any case.
    async fn account_by_name(&self, username: &str) -> Result<Option<Account>>;
    /// The Argon2id hash to check a password against; `None` when the
    /// account has no password.
    async fn password_hash(&self, id: AccountId) -> Result<Option<String>>;
    /// Every account, by username.
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    /// Sets the password and ends every session but `keep` (a secret digest).
    async fn set_password(
        &self,
        id: AccountId,
        password_hash: String,
        keep: Option<String>,
    ) -> Result<()>;
    /// Disables (ending its sessions) or enables an account. Returns whether it exists.
    async fn set_disabled(&self, id: AccountId, disabled: bool) -> Result<bool>;
    async fn set_quotas(&self, id: AccountId, quotas: QuotaOverrides) -> Result<bool>;
    /// Makes an account an admin or a user. Returns whether it exists.
    async fn set_role(&self, id: AccountId, role: AccountRole) -> Result<bool>;
    /// Deletes an account with its sessions, tokens and collaborations, and
    /// the apps it was the only owner of. Returns those apps, or `None` when
    /// there is no such account.
    async fn delete_account(&self, id: AccountId) -> Result<Option<Vec<AppName>>>;

    async fn create_session(&self, session: SessionRecord) -> Result<()>;
    /// A live session (unexpired, of an enabled account) and its account.
    async fn session(&self, secret_hash: &str) -> Result<Option<(SessionRecord, Account)>>;
    async fn delete_session(&self, secret_hash: &str) -> Result<()>;
    /// Ends every session of an account. Returns how many.
    async fn delete_sessions(&self, account: AccountId) -> Result<u64>;

    async fn create_token(&self, token: NewToken) -> Result<TokenRecord>;
    /// A token by its digest, expired or not, with its account; records its use.
    async fn token(&self, secret_hash: &str) -> Result<Option<(TokenRecord, Account)>>;
    async fn tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>>;
    /// Revokes one of an account's tokens. Returns whether it existed.
    async fn delete_token(&self, account: AccountId, id: i64) -> Result<bool>;

    async fn create_invite(
        &self,
        code_hash: String,
        created_by: AccountId,
        expires_ms: i64,
    ) -> Result<InviteRecord>;
    async fn invites(&self) -> Result<Vec<InviteRecord>>;

    /// An app's collaborators, owners first.
    async fn app_members(&self, app: &AppName) -> Result<Vec<AppMember>>;
    /// Adds a collaborator or changes their role; an app keeps one owner.
    async fn set_app_member(
        &self,
        app: &AppName,
        account: AccountId,
        role: AppRole,
    ) -> Result<Result<(), MemberRefused>>;
    async fn remove_app_member(
        &self,
        app: &AppName,
        account: AccountId,
    ) -> Result<Result<(), MemberRefused>>;
    /// Makes `to` the app's only owner (admins' transfer). Returns whether
    /// the app exists.
    async fn transfer_app(&self, app: &AppName, to: AccountId) -> Result<bool>;
    /// The apps an account collaborates on, by name.
    async fn apps_of(&self, account: AccountId) -> Result<Vec<(AppName, AppRole)>>;
    /// What the apps an account owns hold.
    async fn usage(&self, account: AccountId) -> Result<AccountUsage>;
    /// The owner of every app (the first owner when there are several),
    /// with their quotas: what kv budgets are computed from.
    async fn app_owners(&self) -> Result<Vec<(AppName, Account)>>;
    /// The server's signing key named `name`: the one stored, or
    /// `candidate` (fresh random bytes from the caller) stored now. Two
    /// servers asking at once get the same key.
    async fn server_key(&self, name: &str, candidate: Vec<u8>) -> Result<Vec<u8>>;
}
