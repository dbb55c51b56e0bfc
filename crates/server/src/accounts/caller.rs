//! Who a request comes from: an API token (`Authorization: Bearer`), the
//! operator's token (`LODGE_TOKEN`, acting as the first admin), or a
//! browser's session cookie, whose writes must carry its CSRF token.

use super::Auth;
use super::scopes::{Scope, Scopes};
use super::secrets;
use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use lodge_manifest::AppName;
use lodge_store::{Account, AppRole};
use std::sync::Arc;

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "lodge_session";
/// Its name when cookies are `Secure` (HTTPS): the `__Host-` prefix makes
/// browsers refuse one set by another host or for a narrower path.
pub const SECURE_SESSION_COOKIE: &str = "__Host-lodge_session";
/// The header a write made with the session cookie carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub via: Via,
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    /// The browser's cookie; `secret_hash` identifies the session.
    Session { secret_hash: String, csrf: String },
    /// A personal API token.
    Token { id: i64, scopes: Scopes },
    /// The operator's token (`LODGE_TOKEN` or the data folder's token file).
    Operator,
}

impl Caller {
    /// What the caller may do: a token's scopes, else everything the account may.
    pub fn scopes(&self) -> Scopes {
        match &self.via {
            Via::Token { scopes, .. } => scopes.clone(),
            Via::Session { .. } | Via::Operator => Scopes(Scope::all(self.account.is_admin())),
        }
    }

    /// An admin acting as one (a token needs the `admin` scope).
    pub fn is_admin(&self) -> bool {
        self.account.is_admin() && self.scopes().has(&Scope::Admin)
    }

    /// Refuses unless the caller acts as an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else if self.account.is_admin() {
            Err(forbidden("this needs a token with the admin scope"))
        } else {
            Err(forbidden("only an admin may do this"))
        }
    }

    /// Refuses unless the token (if one is used) has `scope`.
    pub fn require_scope(&self, scope: &Scope) -> Result<(), ApiError> {
        match scope {
            Scope::Publish(app) if self.scopes().may_publish(app) => Ok(()),
            s if self.scopes().has(s) => Ok(()),
            s => Err(forbidden(format!("this token lacks the {s} scope"))),
        }
    }

    /// Refuses unless the caller may change `app` as `needed` (an owner
    /// passes where a maintainer is needed; admins pass everywhere), with a
    /// token scoped for it.
    pub async fn require_app_role(
        &self,
        auth: &Auth,
        app: &AppName,
        needed: AppRole,
        scope: Scope,
    ) -> Result<(), ApiError> {
        self.require_scope(&scope)?;
        if self.is_admin() {
            return Ok(());
        }
        let members = auth.store.app_members(app).await?;
        let role = members
            .iter()
            .find(|m| m.account == self.account.id)
            .map(|m| m.role);
        match role {
            Some(role) if role <= needed => Ok(()),
            Some(_) => Err(forbidden(format!("only an owner of {app} may do this"))),
            None if members.is_empty() => Ok(()),
            None => {
                let owners: Vec<&str> = members
                    .iter()
                    .filter(|m| m.role == AppRole::Owner)
                    .map(|m| m.username.as_str())
                    .collect();
                Err(forbidden(format!(
                    "{app} belongs to {}; only its owners and maintainers may change it",
                    owners.join(", ")
                )))
            }
        }
    }
}

pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// A cookie's value from the `Cookie` headers; `None` when it is missing,
/// or sent more than once (a page on a sibling domain may have set a second
/// one to sign the visitor in as someone else: neither is trusted).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value.trim());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// Whether the request came from a page of another origin (its `Origin`
/// names another host than the one it was sent to: `Host`, or the
/// `X-Forwarded-Host` a reverse proxy sets). Requests without `Origin`
/// (the CLI, scripts) are not cross-origin. (A page can't set
/// `X-Forwarded-Host` on a cross-site request without a CORS preflight,
/// which Lodge never grants.)
pub fn cross_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((_, origin_host)) = origin.split_once("://") else {
        return true;
    };
    let named = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|host| host.trim().eq_ignore_ascii_case(origin_host))
    };
    !(named(header::HOST.as_str()) || named("x-forwarded-host"))
}

impl Auth {
    /// Removes what signs a visitor in to Lodge (the session cookie, and a
    /// Lodge API token or the operator's token in `Authorization`) from a
    /// request on its way to an app's http part. Other cookies and an
    /// app's own `Authorization` pass.
    pub fn strip_credentials(&self, headers: &mut HeaderMap) {
        let name = self.cookie_name();
        let kept: Vec<String> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|pair| {
                !pair.is_empty() && pair.split_once('=').is_none_or(|(key, _)| key != name)
            })
            .map(str::to_owned)
            .collect();
        headers.remove(header::COOKIE);
        if !kept.is_empty()
            && let Ok(value) = kept.join("; ").parse()
        {
            headers.insert(header::COOKIE, value);
        }
        let lodge_token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(_, token)| {
                let token = token.trim();
                token.starts_with(secrets::TOKEN_PREFIX) || self.operator.matches(token)
            });
        if lodge_token {
            headers.remove(header::AUTHORIZATION);
        }
    }

    /// Who sent `headers` with `method`: `None` for an anonymous request.
    /// A wrong, revoked or expired token is refused (401) rather than
    /// treated as anonymous, so a script learns its token stopped working.
    pub async fn identify(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Option<Caller>, ApiError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
            return self.by_token(token).await.map(Some);
        }
        let Some(secret) = cookie(headers, self.cookie_name()) else {
            return Ok(None);
        };
        let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if cross_origin(headers) {
            // A page of another site: its requests never act as the user.
            return if writes {
                Err(forbidden(
                    "a page of another origin sent this write with the session cookie; it was refused",
                ))
            } else {
                Ok(None)
            };
        }
        let Some((session, account)) = self.store.session(&secrets::digest(secret)).await? else {
            return Ok(None);
        };
        if writes {
            let given = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !secrets::same(&secrets::digest(given), &secrets::digest(&session.csrf)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "a write made with the session cookie must send its CSRF token in X-CSRF-Token (GET /api/me answers it); a form on another site can't",
                ));
            }
        }
        Ok(Some(Caller {
            account,
            via: Via::Session {
                secret_hash: session.secret_hash,
                csrf: session.csrf,
            },
        }))
    }

    async fn by_token(&self, token: &str) -> Result<Caller, ApiError> {
        if self.operator.matches(token) {
            let account = self
                .store
                .account(self.admin)
                .await?
                .ok_or_else(|| ApiError::internal("the first admin's account is gone"))?;
            return Ok(Caller {
                account,
                via: Via::Operator,
            });
        }
        let Some((record, account)) = self.store.token(&secrets::digest(token)).await? else {
            return Err(unauthorized(
                "the API token is wrong or was revoked: sign in again (lodge login) or create a new token",
            ));
        };
        if let Some(expires) = record.expires_ms.filter(|e| *e <= lodge_store::now_ms()) {
            return Err(unauthorized(format!(
                "the API token \"{}\" expired at {}: create a new one (lodge token create)",
                record.name,
                crate::api::rfc3339(expires)
            )));
        }
        if account.disabled {
            return Err(unauthorized("the token's account is disabled"));
        }
        let scopes = Scopes::parse(&record.scopes)
            .map_err(|e| ApiError::internal(format!("a stored token's scopes: {e}")))?;
        Ok(Caller {
            account,
            via: Via::Token {
                id: record.id,
                scopes,
            },
        })
    }
}

/// The caller, or 401 when the request is anonymous.
impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        state
            .auth
            .identify(&parts.method, &parts.headers)
            .await?
            .ok_or_else(|| {
                unauthorized(
                    "sign in first: send `Authorization: Bearer TOKEN` (lodge login, or LODGE_TOKEN), or sign in on the web page",
                )
            })
    }
}

/// The caller if there is one: for what anyone may do, and signed-in people more.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<Arc<AppState>> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(
            state.auth.identify(&parts.method, &parts.headers).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn origins_are_compared_with_the_host_or_a_proxys_forwarded_host() {
        assert!(!cross_origin(&headers(&[("host", "a.example")])));
        assert!(!cross_origin(&headers(&[
            ("host", "a.example"),
            ("origin", "https://a.example")
        ])));
        assert!(cross_origin(&headers(&[
            ("host", "a.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(cross_origin(&headers(&[
            ("host", "a.example"),
            ("origin", "null")
        ])));
        assert!(!cross_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "lodge.example"),
            ("origin", "https://lodge.example"),
        ])));
    }
}
