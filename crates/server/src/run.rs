//! Requests for apps' http parts: by path (`/run/{app}/…`, the prefix
//! stripped and passed on in `X-Forwarded-Prefix`) and by host
//! (`{app}.{domain}` when `lodge serve --domain` is set). The latest version
//! answers unless the request pins one (`Lodge-Version` header, or a
//! `lodge-version` query parameter, which the app doesn't see).

use crate::AppState;
use crate::api::app_name;
use crate::error::ApiError;
use crate::headers;
use crate::publish::ResolveError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lodge_manifest::{AppName, Role};
use lodge_runtime::http::body_from;
use lodge_runtime::{HttpFailure, HttpSpec};
use std::sync::Arc;

/// The header carrying the path prefix Lodge removed (`/run/{app}`).
pub const PREFIX_HEADER: &str = "x-forwarded-prefix";
/// The header (and query parameter) that pins a version.
pub const VERSION_HEADER: &str = "lodge-version";

/// `ANY /run/{app}` and `/run/{app}/{*rest}`. The app name and the rest
/// are split from the raw path, so the rest reaches the app exactly as it
/// was sent (percent-encoding included).
pub async fn by_path(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let raw = request.uri().path();
    let after = raw.strip_prefix("/run/").unwrap_or_default();
    let (app, rest) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, "/"),
    };
    let (app, path) = (app.to_owned(), rest.to_owned());
    let prefix = format!("/run/{app}");
    // An app's pages share Lodge's origin under /run: sandbox them, so their
    // scripts can't read the UI's stored token or act as the UI, and take
    // away the headers that would act on the whole origin.
    let mut response = match dispatch(&state, &app, path, Some(prefix), request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    for name in headers::strip_origin_headers(response.headers_mut()) {
        if state.reported_headers.first(&app, name) {
            state.logs.lodge(
                &app,
                None,
                "warn",
                format!(
                    "removed the {name} header from an answer under /run/{app}/: it {}. Pages under /run/ share Lodge's origin; an app that needs it is served at {app}.DOMAIN (lodge serve --domain)",
                    headers::why_removed(name)
                ),
            );
        }
    }
    response.headers_mut().append(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RUN_SANDBOX),
    );
    response
}

/// The sandbox for pages served under `/run/`: scripts, forms and popups
/// work, but the page gets an opaque origin (no access to Lodge's storage,
/// cookies or same-origin API calls). Apps served at `{app}.{domain}` have
/// their own origin and no sandbox.
const RUN_SANDBOX: &str =
    "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

/// Middleware: a request for `{app}.{domain}` goes to that app's http part,
/// whatever its path; anything else continues to the routes.
pub async fn by_host(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(app) = state
        .domain
        .as_deref()
        .and_then(|domain| app_for_host(&request, domain))
    else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_owned();
    match dispatch(&state, &app, path, None, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The app a host name names under `domain`: `chat.lodge.localhost:8080` → `chat`.
fn app_for_host(request: &Request, domain: &str) -> Option<String> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())?;
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let label = host
        .to_ascii_lowercase()
        .strip_suffix(&format!(".{domain}"))?
        .to_owned();
    (!label.contains('.')).then_some(label)
}

async fn dispatch(
    state: &AppState,
    app: &str,
    path: String,
    prefix: Option<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let app = app_name(app)?;
    let (mut parts, body) = request.into_parts();
    let (query, pinned_in_query) = strip_version_param(parts.uri.query());
    let pinned = match parts.headers.get(VERSION_HEADER) {
        Some(v) => Some(v.to_str().unwrap_or_default().to_owned()),
        None => pinned_in_query,
    };
    let spec = spec(state, &app, pinned.as_deref()).await?;

    let path_and_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let authority = match parts.uri.authority() {
        Some(authority) => authority.to_string(),
        None => parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned(),
    };
    parts.uri = Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| {
            ApiError::bad_request("invalid_uri", format!("the request URI is not valid: {e}"))
        })?;
    parts.headers.remove(VERSION_HEADER);
    // The app is someone else's code: it never sees the visitor's Lodge
    // session or API token.
    state.auth.strip_credentials(&mut parts.headers);
    // Only Lodge sets the prefix; a client's own would mislead the app's links.
    parts.headers.remove(PREFIX_HEADER);
    if let Some(prefix) = prefix {
        parts.headers.insert(
            PREFIX_HEADER,
            HeaderValue::from_str(&prefix).expect("app names are valid header text"),
        );
    }
    let request = http::Request::from_parts(parts, body_from(body));
    match state.http.handle(&spec, request).await {
        Ok(response) => {
            let mut response = response.map(Body::new);
            response.extensions_mut().insert(headers::AppAnswer);
            Ok(response)
        }
        Err(failure) => Err(failure_response(&failure)),
    }
}

/// What a client gets for each way an http part can fail: the one place
/// that turns [`HttpFailure`] into a status, an error code and `Retry-After`.
fn failure_response(failure: &HttpFailure) -> ApiError {
    let (status, code) = match failure {
        HttpFailure::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "app_busy"),
        HttpFailure::ServerMemory { .. } => (StatusCode::SERVICE_UNAVAILABLE, "guest_memory"),
        HttpFailure::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        HttpFailure::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "app_timeout"),
        HttpFailure::CpuDeadline { .. } => (StatusCode::GATEWAY_TIMEOUT, "app_cpu_deadline"),
        HttpFailure::Trap { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "app_trapped"),
        HttpFailure::NoResponse => (StatusCode::INTERNAL_SERVER_ERROR, "app_no_response"),
        HttpFailure::Failed { .. } => (StatusCode::BAD_GATEWAY, "app_failed"),
        HttpFailure::Internal { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    let mut error = ApiError::new(status, code, failure.message());
    let retry_after = match failure {
        HttpFailure::Busy { retry_after } => Some(retry_after.as_secs()),
        HttpFailure::ServerMemory { .. } => Some(5),
        _ => None,
    };
    if let Some(seconds) = retry_after {
        error = error.with_header(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    error
}

/// Removes `lodge-version=V` from a query string; returns the rest and V.
fn strip_version_param(query: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(query) = query else {
        return (None, None);
    };
    let mut pinned = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("lodge-version=") {
            Some(v) => {
                pinned = Some(v.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let rest = (!kept.is_empty()).then(|| kept.join("&"));
    (rest, pinned)
}

/// The spec of the version that answers: the pinned one, or the latest.
async fn spec(state: &AppState, app: &AppName, pinned: Option<&str>) -> Result<HttpSpec, ApiError> {
    let record = state.apps.resolve(app, pinned, Some(Role::Http)).await?;
    let (Some(part), Some(manifest)) = (record.part(Role::Http), record.manifest.http.as_ref())
    else {
        return Err(ResolveError::NoPart {
            app: app.clone(),
            version: record.manifest.app.version.clone(),
            role: Role::Http,
        }
        .into());
    };
    Ok(HttpSpec {
        app: app.to_string(),
        version: record.manifest.app.version.clone(),
        sha256: part.sha256.clone(),
        capabilities: manifest.capabilities.clone(),
        allowed_hosts: manifest.allowed_hosts.clone(),
        timeout_ms: manifest.timeout_ms,
        cpu_ms: manifest.cpu_ms,
        reuse_instances: manifest.reuse_instances,
    })
}

#[cfg(test)]
mod tests {
    use super::strip_version_param;

    #[test]
    fn the_version_parameter_is_taken_out_of_the_query() {
        assert_eq!(strip_version_param(None), (None, None));
        assert_eq!(
            strip_version_param(Some("a=1&lodge-version=1.2.0&b=2")),
            (Some("a=1&b=2".into()), Some("1.2.0".into()))
        );
        assert_eq!(
            strip_version_param(Some("lodge-version=1.0.0")),
            (None, Some("1.0.0".into()))
        );
        assert_eq!(strip_version_param(Some("x=1")), (Some("x=1".into()), None));
    }
}
