//! The admin's routes: users (list, disable, quotas, delete), invite codes,
//! and moving an app to another owner.

use super::caller::Caller;
use super::routes::{AccountJson, UsageJson, account_named, delete_account, usage_of};
use super::{SignupPolicy, secrets};
use crate::AppState;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::json::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lodge_store::{Account, AccountRole, QuotaOverrides, Quotas};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type Shared = State<Arc<AppState>>;

/// The longest an invite code lives, in days.
const MAX_INVITE_DAYS: u32 = 365;

/// A user in the admin's list.
#[derive(Serialize)]
pub struct UserJson {
    #[serde(flatten)]
    pub account: AccountJson,
    /// The quotas in force (`null` for admins), and the account's own overrides.
    pub quotas: Option<Quotas>,
    pub quota_overrides: QuotaOverrides,
    pub usage: UsageJson,
}

async fn user_json(state: &AppState, account: &Account) -> Result<UserJson, ApiError> {
    Ok(UserJson {
        account: account.into(),
        quotas: (!account.is_admin()).then(|| state.auth.quotas.with(&account.quotas)),
        quota_overrides: account.quotas,
        usage: usage_of(state, account).await?,
    })
}

/// `GET /api/users`.
pub async fn list_users(
    State(state): Shared,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let mut users = Vec::new();
    for account in state.auth.store.list_accounts().await? {
        users.push(user_json(&state, &account).await?);
    }
    Ok(Json(serde_json::json!({ "users": users })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    disabled: Option<bool>,
    /// Replaces the account's overrides; `{}` goes back to the defaults.
    #[serde(default)]
    quotas: Option<QuotaOverrides>,
    /// Makes the account an admin or a user.
    #[serde(default)]
    role: Option<AccountRole>,
    /// A new password for someone who lost theirs (Lodge sends no email):
    /// their sessions end; their tokens stay.
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/users/{username}`: disables or enables, sets quotas, makes
/// an admin, sets a new password.
pub async fn change_user(
    State(state): Shared,
    caller: Caller,
    Path(username): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<UserJson>, ApiError> {
    caller.require_admin()?;
    let account = account_named(&state, &username).await?;
    // Every refusal before any change, so a refused request changes nothing.
    let first_admin = account.id == state.auth.admin;
    if first_admin
        && (change.disabled == Some(true)
            || change.role.is_some_and(|role| role != AccountRole::Admin))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "first_admin",
            "the first admin stays an enabled admin: the operator's token acts as this account",
        ));
    }
    if let Some(password) = &change.password {
        super::password::check_rules(password, &account.username)
            .map_err(|e| ApiError::bad_request("weak_password", format!("password: {e}")))?;
        let hash = super::password::hash(password)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        state
            .auth
            .store
            .set_password(account.id, hash, None)
            .await?;
        tracing::info!(username = %account.username, by = %caller.account.username, "password set by an admin");
    }
    if let Some(disabled) = change.disabled {
        state.auth.store.set_disabled(account.id, disabled).await?;
        if disabled {
            state
                .rooms
                .close_account(&account.username, "the account was disabled")
                .await;
        }
        tracing::info!(username = %account.username, disabled, "account changed");
    }
    if let Some(role) = change.role {
        state.auth.store.set_role(account.id, role).await?;
        state.refresh_kv_budgets().await;
        tracing::info!(username = %account.username, role = role.name(), "role set");
    }
    if let Some(quotas) = change.quotas {
        state.auth.store.set_quotas(account.id, quotas).await?;
        state.refresh_kv_budgets().await;
        tracing::info!(username = %account.username, ?quotas, "quotas set");
    }
    let account = account_named(&state, &username).await?;
    Ok(Json(user_json(&state, &account).await?))
}

/// `DELETE /api/users/{username}`: deletes an account and the apps it alone owned.
pub async fn delete_user(
    State(state): Shared,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<super::routes::AccountDeleted>, ApiError> {
    caller.require_admin()?;
    let account = account_named(&state, &username).await?;
    Ok(Json(delete_account(&state, &account).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// `POST /api/invites`: a single-use invite code, shown once.
pub async fn create_invite(
    State(state): Shared,
    caller: Caller,
    JsonBody(body): JsonBody<InviteRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require_admin()?;
    let days = body.expires_in_days.unwrap_or(7);
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            "invalid_expiry",
            format!("expires_in_days: use 1-{MAX_INVITE_DAYS}"),
        ));
    }
    let code = secrets::new_secret("");
    let record = state
        .auth
        .store
        .create_invite(
            secrets::digest(&code),
            caller.account.id,
            lodge_store::now_ms() + i64::from(days) * 86_400_000,
        )
        .await?;
    let note = (state.auth.signup != SignupPolicy::Invite).then(|| {
        format!(
            "sign-up is {} on this server (--signup), so the code is not needed or not accepted",
            state.auth.signup.name()
        )
    });
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": record.id,
            "code": code,
            "expires": rfc3339(record.expires_ms),
            "signup_path": format!("/signup#invite={code}"),
            "note": note,
        })),
    ))
}

/// `GET /api/invites`: every invite, used or not, without codes.
pub async fn list_invites(
    State(state): Shared,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let now = lodge_store::now_ms();
    let invites: Vec<serde_json::Value> = state
        .auth
        .store
        .invites()
        .await?
        .into_iter()
        .map(|i| {
            serde_json::json!({
                "id": i.id,
                "created_by": i.created_by,
                "created": rfc3339(i.created_ms),
                "expires": rfc3339(i.expires_ms),
                "used_by": i.used_by,
                "expired": i.used_by.is_none() && i.expires_ms <= now,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "invites": invites })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    to: String,
}

/// `POST /api/apps/{app}/transfer`: makes another account the app's only owner.
pub async fn transfer_app(
    State(state): Shared,
    caller: Caller,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<Transfer>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let app = app_name(&app)?;
    let to = account_named(&state, &body.to).await?;
    if !state.auth.store.transfer_app(&app, to.id).await? {
        return Err(crate::publish::ResolveError::NoApp(app).into());
    }
    state.refresh_kv_budgets().await;
    tracing::info!(%app, to = %to.username, "app transferred");
    Ok(Json(serde_json::json!({
        "name": app.to_string(),
        "members": super::routes::members_json(&state, &app).await?,
    })))
}
