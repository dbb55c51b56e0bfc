//! Accounts on the server: sign-up policies, the first admin and its setup
//! link, sessions and their cookie, rate limits on signing in, and who a
//! request comes from ([`caller`]). The routes are in [`routes`] and
//! [`admin`]; the records live in `lodge_store::Accounts`.

pub mod admin;
pub mod caller;
pub mod password;
pub mod routes;
pub mod scopes;
pub mod secrets;
pub mod usernames;

use crate::auth::Token;
use crate::error::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use lodge_runtime::rate::RateLimiter;
use lodge_store::{Account, AccountId, Accounts, Quotas, SessionRecord};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignupPolicy {
    /// Anyone.
    #[default]
    Open,
    /// Whoever has an unused invite code an admin made.
    Invite,
    /// Nobody: only the accounts already there (the first admin, and those
    /// made while sign-up was open or by invite).
    Closed,
}

impl SignupPolicy {
    pub fn name(self) -> &'static str {
        match self {
            SignupPolicy::Open => "open",
            SignupPolicy::Invite => "invite",
            SignupPolicy::Closed => "closed",
        }
    }
}

impl std::str::FromStr for SignupPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(SignupPolicy::Open),
            "invite" => Ok(SignupPolicy::Invite),
            "closed" => Ok(SignupPolicy::Closed),
            other => Err(format!(
                "\"{other}\" is not a sign-up policy: use open, invite or closed"
            )),
        }
    }
}

/// How `lodge serve` runs accounts.
#[derive(Clone)]
pub struct AccountsConfig {
    pub signup: SignupPolicy,
    /// The first admin's username (`--admin-user`).
    pub admin_username: String,
    /// The first admin's password (`LODGE_ADMIN_PASSWORD`), used only while
    /// the admin has none; without it, a one-time setup link is printed.
    pub admin_password: Option<String>,
    /// The default quotas of every account.
    pub quotas: Quotas,
    /// Sign-ins and sign-ups per minute from one client address.
    pub signin_per_address_per_minute: u32,
    /// Sign-ins per minute to one account.
    pub signin_per_account_per_minute: u32,
    /// How long a session lasts.
    pub session_lifetime: Duration,
    /// Make the session cookie `Secure` (and `__Host-`) even though Lodge
    /// speaks plain HTTP: it sits behind a reverse proxy that serves HTTPS
    /// (`--secure-cookies`). With `--tls-cert` it always is.
    pub secure_cookies: bool,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            signup: SignupPolicy::Open,
            admin_username: "admin".into(),
            admin_password: None,
            quotas: Quotas::default(),
            signin_per_address_per_minute: 20,
            signin_per_account_per_minute: 10,
            session_lifetime: Duration::from_secs(30 * 86_400),
            secure_cookies: false,
        }
    }
}

impl std::fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsConfig")
            .field("signup", &self.signup)
            .field("admin_username", &self.admin_username)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "(set)"),
            )
            .field("quotas", &self.quotas)
            .finish_non_exhaustive()
    }
}

/// Accounts as the handlers use them.
pub struct Auth {
    pub store: Arc<dyn Accounts>,
    /// The operator's token, which acts as the first admin.
    pub operator: Token,
    /// The first admin.
    pub admin: AccountId,
    pub signup: SignupPolicy,
    pub quotas: Quotas,
    session_lifetime: Duration,
    /// Cookies are `Secure` when the server speaks TLS.
    secure_cookies: bool,
    by_address: RateLimiter<IpAddr>,
    by_account: RateLimiter<String>,
    /// The digest of the one-time setup code, while the admin has no password.
    setup: Mutex<Option<String>>,
}

impl Auth {
    /// Makes sure the first admin exists (with `LODGE_ADMIN_PASSWORD`, when
    /// given and the admin has no password yet), gives it every app that has
    /// no owner (apps published before accounts), and, while the admin has
    /// no password, makes a one-time setup code (returned once, to print).
    pub async fn start(
        store: Arc<dyn Accounts>,
        operator: Token,
        config: &AccountsConfig,
        secure_cookies: bool,
    ) -> anyhow::Result<(Self, Option<String>)> {
        let username = usernames::normalize(&config.admin_username)
            .map_err(|e| anyhow::anyhow!("--admin-user: {e}"))?;
        let hash = match config.admin_password.as_deref().filter(|p| !p.is_empty()) {
            Some(password) => {
                password::check_rules(password, &username)
                    .map_err(|e| anyhow::anyhow!("LODGE_ADMIN_PASSWORD: {e}"))?;
                Some(password::hash(password).await?)
            }
            None => None,
        };
        let admin = store.ensure_admin(&username, hash).await?;
        let adopted = store.adopt_unowned_apps(admin.id).await?;
        if adopted > 0 {
            tracing::info!(
                apps = adopted,
                admin = %admin.username,
                "apps without an owner (published before accounts) now belong to the first admin"
            );
        }
        let setup_code = (!admin.has_password).then(|| secrets::new_secret(""));
        let auth = Self {
            store,
            operator,
            admin: admin.id,
            signup: config.signup,
            quotas: config.quotas,
            session_lifetime: config.session_lifetime,
            secure_cookies: secure_cookies || config.secure_cookies,
            by_address: RateLimiter::new(config.signin_per_address_per_minute),
            by_account: RateLimiter::new(config.signin_per_account_per_minute),
            setup: Mutex::new(setup_code.as_deref().map(secrets::digest)),
        };
        Ok((auth, setup_code))
    }

    /// Takes a sign-in (or sign-up) attempt from `client` for `username`;
    /// refuses with 429 and `Retry-After` past the limits.
    pub fn limit_signin(&self, client: IpAddr, username: Option<&str>) -> Result<(), ApiError> {
        let wait = self
            .by_address
            .check(client)
            .err()
            .or_else(|| username.and_then(|u| self.by_account.take(u.to_owned()).err()));
        match wait {
            None => Ok(()),
            Some(wait) => {
                let seconds = wait.as_secs().max(1);
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many sign-in attempts; try again in {seconds} s"),
                )
                .with_header(
                    header::RETRY_AFTER,
                    HeaderValue::from_str(&seconds.to_string()).expect("digits"),
                ))
            }
        }
    }

    /// Starts a session for `account`: the record is stored, and the
    /// `Set-Cookie` value and CSRF token are returned.
    pub async fn new_session(&self, account: &Account) -> Result<(HeaderValue, String), ApiError> {
        let secret = secrets::new_secret("");
        let csrf = secrets::new_secret("");
        let now = lodge_store::now_ms();
        let lifetime = self.session_lifetime.as_millis() as i64;
        self.store
            .create_session(SessionRecord {
                account: account.id,
                secret_hash: secrets::digest(&secret),
                csrf: csrf.clone(),
                created_ms: now,
                expires_ms: now + lifetime,
            })
            .await?;
        Ok((self.cookie(&secret, self.session_lifetime.as_secs()), csrf))
    }

    /// The `Set-Cookie` that removes the session cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        self.cookie("", 0)
    }

    /// The session cookie's name: `__Host-lodge_session` when cookies are
    /// `Secure` (browsers then refuse one set by another host, a sibling
    /// app's domain included), else `lodge_session`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            caller::SECURE_SESSION_COOKIE
        } else {
            caller::SESSION_COOKIE
        }
    }

    fn cookie(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
            self.cookie_name()
        ))
        .expect("cookie characters are visible ASCII")
    }

    /// Uses up the setup code if `code` is it.
    pub fn take_setup_code(&self, code: &str) -> bool {
        let mut setup = self.setup.lock().expect("setup lock");
        let matches = setup
            .as_deref()
            .is_some_and(|digest| secrets::same(digest, &secrets::digest(code)));
        if matches {
            *setup = None;
        }
        matches
    }

    /// Whether the setup link is still waiting to be used.
    pub fn setup_pending(&self) -> bool {
        self.setup.lock().expect("setup lock").is_some()
    }
}
