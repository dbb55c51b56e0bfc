//! The account routes under `/api`: sign up, sign in and out, the caller's
//! own account (`/api/me`), API tokens, the first admin's setup, and an
//! app's collaborators.

use super::caller::{Caller, MaybeCaller, Via, forbidden, unauthorized};
use super::scopes::{Scope, Scopes};
use super::{SignupPolicy, password, secrets, usernames};
use crate::AppState;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::listener::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lodge_manifest::AppName;
use lodge_store::{
    Account, AppRole, CreateRefused, MemberRefused, NewAccount, NewToken, Quotas, TokenRecord,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type Shared = State<Arc<AppState>>;

/// The longest token name.
const MAX_TOKEN_NAME: usize = 64;
/// The longest a token may live, in days.
const MAX_TOKEN_DAYS: u32 = 3650;

/// An account in API answers.
#[derive(Serialize)]
pub struct AccountJson {
    pub username: String,
    pub role: &'static str,
    pub disabled: bool,
    pub created: String,
}

impl From<&Account> for AccountJson {
    fn from(a: &Account) -> Self {
        Self {
            username: a.username.clone(),
            role: a.role.name(),
            disabled: a.disabled,
            created: rfc3339(a.created_ms),
        }
    }
}

/// A signed-in browser's answer: the account, and the CSRF token its writes send.
#[derive(Serialize)]
pub struct SignedIn {
    pub account: AccountJson,
    pub csrf: String,
}

fn with_cookie(status: StatusCode, cookie: HeaderValue, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    username: String,
    password: String,
    #[serde(default)]
    invite: Option<String>,
}

/// `POST /api/signup`: creates an account as the sign-up policy allows, and signs in.
pub async fn signup(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<SignupBody>,
) -> Result<Response, ApiError> {
    let auth = &state.auth;
    auth.limit_signin(client, None)?;
    let invite = body
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match auth.signup {
        SignupPolicy::Open => {}
        SignupPolicy::Invite if invite.is_some() => {}
        SignupPolicy::Invite => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invite_required",
                "sign-up on this server needs an invite code from an admin",
            ));
        }
        SignupPolicy::Closed => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "signup_closed",
                "sign-up is closed on this server: ask its operator for an account",
            ));
        }
    }
    let username = usernames::normalize(&body.username)
        .map_err(|e| ApiError::bad_request("invalid_username", e))?;
    password::check_rules(&body.password, &username)
        .map_err(|e| ApiError::bad_request("weak_password", e))?;
    let hash = password::hash(&body.password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let created = auth
        .store
        .create_account(
            NewAccount {
                username: username.clone(),
                password_hash: hash,
                role: lodge_store::AccountRole::User,
            },
            invite
                .filter(|_| auth.signup == SignupPolicy::Invite)
                .map(secrets::digest),
        )
        .await?;
    let account = match created {
        Ok(account) => account,
        Err(CreateRefused::UsernameTaken) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                format!("the username \"{username}\" is taken: choose another"),
            ));
        }
        Err(CreateRefused::InviteInvalid) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invite_invalid",
                "the invite code is unknown, already used or expired: ask an admin for a new one",
            ));
        }
    };
    tracing::info!(username = %account.username, "account created");
    let (cookie, csrf) = auth.new_session(&account).await?;
    Ok(with_cookie(
        StatusCode::CREATED,
        cookie,
        SignedIn {
            account: (&account).into(),
            csrf,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// Checks a username and password, rate limited; the error never says
/// whether the account exists.
async fn sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    username: &str,
    given: &str,
) -> Result<Account, ApiError> {
    let auth = &state.auth;
    let username = username.trim().to_ascii_lowercase();
    auth.limit_signin(client, Some(&username))?;
    let account = match usernames::normalize(&username) {
        Ok(name) => auth.store.account_by_name(&name).await?,
        Err(_) => None,
    };
    let hash = match &account {
        Some(account) => auth.store.password_hash(account.id).await?,
        None => None,
    };
    if !password::verify(given, hash).await {
        return Err(unauthorized("the username or the password is wrong"));
    }
    let account = account.expect("a verified password has an account");
    if account.disabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "this account is disabled: ask the server's operator",
        ));
    }
    Ok(account)
}

/// Checks the signed-in caller's own password before a change that needs
/// it (rate limited like a sign-in); a wrong one is `403`.
async fn confirm_password(
    state: &AppState,
    client: std::net::IpAddr,
    caller: &Caller,
    password: &str,
) -> Result<Account, ApiError> {
    sign_in(state, client, &caller.account.username, password)
        .await
        .map_err(|e| match e.status {
            StatusCode::UNAUTHORIZED => forbidden("the password is wrong"),
            _ => e,
        })
}

/// `POST /api/session`: signs in with a username and password, answering the session cookie.
pub async fn create_session(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let account = sign_in(&state, client, &body.username, &body.password).await?;
    let (cookie, csrf) = state.auth.new_session(&account).await?;
    Ok(with_cookie(
        StatusCode::OK,
        cookie,
        SignedIn {
            account: (&account).into(),
            csrf,
        },
    ))
}

/// `DELETE /api/session`: signs this browser out.
pub async fn delete_session(
    State(state): Shared,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, ApiError> {
    if let Some(Caller {
        via: Via::Session { secret_hash, .. },
        ..
    }) = caller
    {
        state.auth.store.delete_session(&secret_hash).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, state.auth.clear_cookie());
    Ok(response)
}

/// `DELETE /api/me/sessions`: signs out every browser of the account.
pub async fn delete_all_sessions(
    State(state): Shared,
    caller: Caller,
) -> Result<Response, ApiError> {
    may_manage_tokens(&caller)?;
    let ended = state.auth.store.delete_sessions(caller.account.id).await?;
    let mut response = Json(serde_json::json!({ "sessions_ended": ended })).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, state.auth.clear_cookie());
    Ok(response)
}

/// What an account holds now, beside its quotas.
#[derive(Serialize)]
pub struct UsageJson {
    pub apps: u64,
    pub stored_bytes: u64,
    pub kv_bytes: u64,
}

/// An app in `GET /api/me`.
#[derive(Serialize)]
pub struct MyApp {
    pub name: String,
    pub role: AppRole,
}

/// `GET /api/me`.
#[derive(Serialize)]
pub struct Me {
    #[serde(flatten)]
    pub account: AccountJson,
    /// How this request was signed in: "session", "token" or "operator".
    pub via: &'static str,
    pub scopes: Vec<String>,
    /// For a session: what its writes send in `X-CSRF-Token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
    /// `null` for admins, who have none.
    pub quotas: Option<Quotas>,
    pub usage: UsageJson,
    pub apps: Vec<MyApp>,
}

/// What an account's apps hold, kv included.
pub async fn usage_of(state: &AppState, account: &Account) -> Result<UsageJson, ApiError> {
    let usage = state.auth.store.usage(account.id).await?;
    let apps = state.auth.store.apps_of(account.id).await?;
    let kv = state.kv.app_bytes().await.map_err(|e| {
        tracing::warn!(error = %e, "reading kv usage failed");
        ApiError::internal("reading kv usage failed (see the server's log)")
    })?;
    let kv_bytes = apps
        .iter()
        .filter(|(_, role)| *role == AppRole::Owner)
        .filter_map(|(app, _)| kv.get(app.as_str()))
        .sum();
    Ok(UsageJson {
        apps: usage.apps,
        stored_bytes: usage.stored_bytes,
        kv_bytes,
    })
}

pub async fn me(State(state): Shared, caller: Caller) -> Result<Json<Me>, ApiError> {
    let account = &caller.account;
    let apps = state
        .auth
        .store
        .apps_of(account.id)
        .await?
        .into_iter()
        .map(|(name, role)| MyApp {
            name: name.to_string(),
            role,
        })
        .collect();
    let (via, csrf) = match &caller.via {
        Via::Session { csrf, .. } => ("session", Some(csrf.clone())),
        Via::Token { .. } => ("token", None),
        Via::Operator => ("operator", None),
    };
    Ok(Json(Me {
        account: account.into(),
        via,
        scopes: caller.scopes().strings(),
        csrf,
        quotas: (!account.is_admin()).then(|| state.auth.quotas.with(&account.quotas)),
        usage: usage_of(&state, account).await?,
        apps,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

/// `PUT /api/me/password`: needs the current password; ends the account's other sessions.
pub async fn change_password(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let account = confirm_password(&state, client, &caller, &body.current).await?;
    password::check_rules(&body.new, &account.username)
        .map_err(|e| ApiError::bad_request("weak_password", e))?;
    let hash = password::hash(&body.new)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let keep = match &caller.via {
        Via::Session { secret_hash, .. } => Some(secret_hash.clone()),
        _ => None,
    };
    state
        .auth
        .store
        .set_password(account.id, hash, keep)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    password: String,
}

/// The apps deleted with an account.
#[derive(Serialize)]
pub struct AccountDeleted {
    pub username: String,
    pub apps_deleted: Vec<String>,
}

/// `DELETE /api/me`: deletes the account (after its password), and the
/// apps it alone owned.
pub async fn delete_me(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    JsonBody(body): JsonBody<Confirm>,
) -> Result<Response, ApiError> {
    let account = confirm_password(&state, client, &caller, &body.password).await?;
    let deleted = delete_account(&state, &account).await?;
    let mut response = Json(deleted).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, state.auth.clear_cookie());
    Ok(response)
}

/// Deletes an account and cleans up after the apps that went with it; the
/// first admin (whom the operator's token acts as) stays.
pub async fn delete_account(
    state: &AppState,
    account: &Account,
) -> Result<AccountDeleted, ApiError> {
    if account.id == state.auth.admin {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "first_admin",
            "the first admin can't be deleted: the operator's token acts as this account",
        ));
    }
    let apps = state
        .auth
        .store
        .delete_account(account.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no account \"{}\"", account.username)))?;
    for app in &apps {
        crate::api::forget_app(state, app, "the app's owner deleted their account").await;
    }
    state
        .rooms
        .close_account(&account.username, "the account was deleted")
        .await;
    tracing::info!(username = %account.username, apps = apps.len(), "account deleted");
    Ok(AccountDeleted {
        username: account.username.clone(),
        apps_deleted: apps.iter().map(ToString::to_string).collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    name: String,
    /// May be left out with `username` and `password`: every scope the account has.
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
    /// Without another way to sign in (`lodge login`): the account's credentials.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// A token in API answers.
#[derive(Serialize)]
pub struct TokenJson {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
    pub expired: bool,
}

impl From<&TokenRecord> for TokenJson {
    fn from(t: &TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            created: rfc3339(t.created_ms),
            expires: t.expires_ms.map(rfc3339),
            last_used: t.last_used_ms.map(rfc3339),
            expired: t.expires_ms.is_some_and(|e| e <= lodge_store::now_ms()),
        }
    }
}

/// A new token: the only answer that ever holds its secret.
#[derive(Serialize)]
pub struct NewTokenJson {
    #[serde(flatten)]
    pub record: TokenJson,
    pub username: String,
    pub token: String,
}

/// `POST /api/tokens`: a new token for the caller, or (with `username` and
/// `password`, as `lodge login` sends) for that account.
pub async fn create_token(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    MaybeCaller(caller): MaybeCaller,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<NewTokenJson>), ApiError> {
    // A token may make tokens only when it is a full one (publish:*, what
    // `lodge login` makes), and only ones that expire no later than itself:
    // a leaked CI token can't leave a longer-lived one behind.
    let mut latest_expiry: Option<i64> = None;
    let (account, allowed, with_password) = match (caller, &body.username, &body.password) {
        (_, Some(username), Some(password)) => {
            let account = sign_in(&state, client, username, password).await?;
            let allowed = Scopes(Scope::all(account.is_admin()));
            (account, allowed, true)
        }
        (Some(caller), None, None) => {
            may_manage_tokens(&caller)?;
            if let Via::Token { id, .. } = &caller.via {
                latest_expiry = state
                    .auth
                    .store
                    .tokens(caller.account.id)
                    .await?
                    .into_iter()
                    .find(|t| t.id == *id)
                    .and_then(|t| t.expires_ms);
            }
            let allowed = caller.scopes();
            (caller.account, allowed, false)
        }
        (None, None, None) => {
            return Err(unauthorized(
                "sign in to create a token: send your username and password, or a token or session",
            ));
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_credentials",
                "send both username and password, or neither",
            ));
        }
    };
    let name = body.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_TOKEN_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "invalid_token_name",
            format!(
                "name: give the token a name of 1-{MAX_TOKEN_NAME} characters, without control characters"
            ),
        ));
    }
    let scopes = if body.scopes.is_empty() && with_password {
        // `lodge login`: everything the account may do.
        allowed.clone()
    } else if body.scopes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_scopes",
            "scopes: name at least one of publish:*, publish:APP, rooms, admin",
        ));
    } else {
        Scopes::parse(&body.scopes)
            .map_err(|e| ApiError::bad_request("invalid_scopes", format!("scopes: {e}")))?
    };
    if scopes.has(&Scope::Admin) && !account.is_admin() {
        return Err(forbidden("only an admin's token may have the admin scope"));
    }
    if !allowed.covers(&scopes) {
        return Err(forbidden(format!(
            "a token can't grant more than its creator has ({}); sign in for more",
            allowed.strings().join(", ")
        )));
    }
    let expires_ms = match body.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_TOKEN_DAYS) => {
            Some(lodge_store::now_ms() + i64::from(days) * 86_400_000)
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                format!(
                    "expires_in_days: use 1-{MAX_TOKEN_DAYS}, or leave it out for a token that doesn't expire"
                ),
            ));
        }
    };
    if let Some(latest) = latest_expiry
        && expires_ms.is_none_or(|e| e > latest)
    {
        return Err(forbidden(format!(
            "a token can't make one that outlives it: this one expires at {}; ask for fewer days, or sign in with the password",
            rfc3339(latest)
        )));
    }
    let secret = secrets::new_secret(secrets::TOKEN_PREFIX);
    let record = state
        .auth
        .store
        .create_token(NewToken {
            account: account.id,
            name: name.to_owned(),
            secret_hash: secrets::digest(&secret),
            scopes: scopes.strings(),
            expires_ms,
        })
        .await?;
    tracing::info!(username = %account.username, token = record.id, "API token created");
    Ok((
        StatusCode::CREATED,
        Json(NewTokenJson {
            record: (&record).into(),
            username: account.username,
            token: secret,
        }),
    ))
}

/// Managing tokens needs more than a narrow token: a session, the
/// operator's token, or a token for all of the account's apps.
fn may_manage_tokens(caller: &Caller) -> Result<(), ApiError> {
    match &caller.via {
        Via::Token { scopes, .. } if !scopes.has(&Scope::PublishAll) => Err(forbidden(
            "listing and revoking tokens needs a token with the publish:* scope (what lodge login makes)",
        )),
        _ => Ok(()),
    }
}

/// `GET /api/tokens`: the caller's tokens, without their secrets.
pub async fn list_tokens(
    State(state): Shared,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_manage_tokens(&caller)?;
    let tokens = state.auth.store.tokens(caller.account.id).await?;
    let tokens: Vec<TokenJson> = tokens.iter().map(TokenJson::from).collect();
    Ok(Json(serde_json::json!({ "tokens": tokens })))
}

/// `DELETE /api/tokens/{id}`: revokes one of the caller's tokens.
pub async fn delete_token(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    may_manage_tokens(&caller)?;
    if state.auth.store.delete_token(caller.account.id, id).await? {
        tracing::info!(username = %caller.account.username, token = id, "API token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("you have no token {id}")))
    }
}

/// `GET /api/setup`: whether the first admin still waits for a password.
pub async fn setup_state(State(state): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    let admin = state.auth.store.account(state.auth.admin).await?;
    Ok(Json(serde_json::json!({
        "pending": state.auth.setup_pending(),
        "username": admin.map(|a| a.username),
        "signup": state.auth.signup.name(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    code: String,
    password: String,
}

/// `POST /api/setup`: the one-time setup link sets the first admin's password.
pub async fn setup(
    State(state): Shared,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<SetupBody>,
) -> Result<Response, ApiError> {
    let auth = &state.auth;
    auth.limit_signin(client, None)?;
    let admin = auth
        .store
        .account(auth.admin)
        .await?
        .ok_or_else(|| ApiError::internal("the first admin's account is gone"))?;
    password::check_rules(&body.password, &admin.username)
        .map_err(|e| ApiError::bad_request("weak_password", e))?;
    if !auth.take_setup_code(body.code.trim()) {
        return Err(forbidden(
            "this setup link is wrong or was already used: the admin's password is set once; restart the server without one for a new link",
        ));
    }
    let hash = password::hash(&body.password)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    auth.store.set_password(admin.id, hash, None).await?;
    tracing::info!(username = %admin.username, "the first admin's password was set with the setup link");
    let (cookie, csrf) = auth.new_session(&admin).await?;
    Ok(with_cookie(
        StatusCode::OK,
        cookie,
        SignedIn {
            account: (&admin).into(),
            csrf,
        },
    ))
}

/// A collaborator in API answers.
#[derive(Serialize)]
pub struct MemberJson {
    pub username: String,
    pub role: AppRole,
}

pub async fn members_json(state: &AppState, app: &AppName) -> Result<Vec<MemberJson>, ApiError> {
    Ok(state
        .auth
        .store
        .app_members(app)
        .await?
        .into_iter()
        .map(|m| MemberJson {
            username: m.username,
            role: m.role,
        })
        .collect())
}

async fn existing_app(state: &AppState, name: &str) -> Result<AppName, ApiError> {
    let app = app_name(name)?;
    if state.apps.registry.versions(&app).await?.is_empty() {
        return Err(crate::publish::ResolveError::NoApp(app).into());
    }
    Ok(app)
}

/// `GET /api/apps/{app}/members`: the owners and maintainers; anyone may look.
pub async fn list_members(
    State(state): Shared,
    Path(app): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = existing_app(&state, &app).await?;
    Ok(Json(
        serde_json::json!({ "members": members_json(&state, &app).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    role: AppRole,
}

/// The account named `username` (in any case), or 404.
pub(crate) async fn account_named(state: &AppState, username: &str) -> Result<Account, ApiError> {
    let name =
        usernames::normalize(username).map_err(|e| ApiError::bad_request("invalid_username", e))?;
    state
        .auth
        .store
        .account_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no account \"{name}\"")))
}

fn member_refused(e: MemberRefused) -> ApiError {
    let code = match e {
        MemberRefused::LastOwner => "last_owner",
        MemberRefused::NotAMember => "not_a_member",
    };
    let status = match e {
        MemberRefused::LastOwner => StatusCode::CONFLICT,
        MemberRefused::NotAMember => StatusCode::NOT_FOUND,
    };
    ApiError::new(status, code, e.to_string())
}

/// `PUT /api/apps/{app}/members/{username}`: an owner adds a collaborator or changes their role.
pub async fn put_member(
    State(state): Shared,
    caller: Caller,
    Path((app, username)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = existing_app(&state, &app).await?;
    caller
        .require_app_role(
            &state.auth,
            &app,
            AppRole::Owner,
            Scope::Publish(app.clone()),
        )
        .await?;
    // An owner's quotas pay for the app: nobody is made one without an
    // admin (an owner could otherwise charge their app to someone else, or
    // to an admin, who has no quotas).
    if body.role == AppRole::Owner && !caller.is_admin() {
        return Err(forbidden(
            "only an admin makes someone an owner (an owner's quotas pay for the app); add them as a maintainer, or ask an admin to transfer the app",
        ));
    }
    let account = account_named(&state, &username).await?;
    state
        .auth
        .store
        .set_app_member(&app, account.id, body.role)
        .await?
        .map_err(member_refused)?;
    tracing::info!(%app, username = %account.username, role = body.role.name(), "collaborator set");
    Ok(Json(
        serde_json::json!({ "members": members_json(&state, &app).await? }),
    ))
}

/// `DELETE /api/apps/{app}/members/{username}`: an owner removes a
/// collaborator, or a collaborator leaves.
pub async fn delete_member(
    State(state): Shared,
    caller: Caller,
    Path((app, username)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = existing_app(&state, &app).await?;
    let account = account_named(&state, &username).await?;
    if account.id == caller.account.id {
        caller.require_scope(&Scope::Publish(app.clone()))?;
    } else {
        caller
            .require_app_role(
                &state.auth,
                &app,
                AppRole::Owner,
                Scope::Publish(app.clone()),
            )
            .await?;
    }
    state
        .auth
        .store
        .remove_app_member(&app, account.id)
        .await?
        .map_err(member_refused)?;
    tracing::info!(%app, username = %account.username, "collaborator removed");
    Ok(Json(
        serde_json::json!({ "members": members_json(&state, &app).await? }),
    ))
}
