//! The web UI: plain ES modules and CSS compiled into the binary, the page
//! routes that all serve the same shell, and the files of client parts
//! prepared for the browser.

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock};

/// (file name, content type, contents) of every UI file.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../ui/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../ui/style.css"),
    ),
    ("api.js", JS, include_str!("../ui/api.js")),
    ("main.js", JS, include_str!("../ui/main.js")),
    ("play.js", JS, include_str!("../ui/play.js")),
    ("terminal.js", JS, include_str!("../ui/terminal.js")),
    ("runner.js", JS, include_str!("../ui/runner.js")),
    ("worker.js", JS, include_str!("../ui/worker.js")),
    ("wasi.js", JS, include_str!("../ui/wasi.js")),
    ("text-client.js", JS, include_str!("../ui/text-client.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// One ETag for the whole UI: it changes whenever any file does.
static ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    ASSETS.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"ui-{:016x}\"", hasher.finish())).expect("a valid etag")
});

fn asset(name: &str, request: &HeaderMap) -> Response {
    let Some((_, content_type, contents)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::not_found(format!("there is no UI file {name}")).into_response();
    };
    let policy = if name == "worker.js" {
        crate::headers::WORKER_POLICY
    } else {
        crate::headers::UI_POLICY
    };
    // Revalidated on every load (cheap: 304), so a new Lodge is seen at once.
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, ETAG.clone()),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        ),
    ];
    if request.get(header::IF_NONE_MATCH) == Some(&*ETAG) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (
        headers,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        *contents,
    )
        .into_response()
}

/// The UI's routes, gzip-compressed for browsers that take it (the
/// prepared client modules are mostly JavaScript, which shrinks well).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(page))
        .route("/app/{name}", get(page))
        .route("/play/{app}", get(page))
        .route("/play/{app}/{room}", get(page))
        .route("/ui/{file}", get(ui_file))
        .route("/client/{key}/{sha256}/{file}", get(client_file))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// `GET /`, `/app/{name}`, `/play/{app}[/{room}]`: the page shell; main.js routes.
pub async fn page(request: HeaderMap) -> Response {
    asset("index.html", &request)
}

/// `GET /ui/{file}`.
pub async fn ui_file(Path(name): Path<String>, request: HeaderMap) -> Response {
    asset(&name, &request)
}

/// `GET /client/{key}/{sha256}/{file}`: a file of a client part prepared for
/// the browser. The URL names the content, so it is cached for good.
pub async fn client_file(
    State(state): State<Arc<AppState>>,
    Path((key, sha256, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let missing = || {
        ApiError::not_found(format!(
            "there is no prepared client file {key}/{sha256}/{name}"
        ))
    };
    if key != lodge_runtime::BROWSER_KEY {
        return Err(missing());
    }
    let path = state
        .apps
        .browser_file(&sha256, &name)
        .await?
        .ok_or_else(missing)?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        // The path is the server's business: it goes to the server's log only.
        tracing::error!(path = %path.display(), error = %e, "reading a prepared client file");
        ApiError::internal(format!(
            "the prepared client file {name} could not be read ({})",
            e.kind()
        ))
    })?;
    let content_type = if name.ends_with(".wasm") {
        "application/wasm"
    } else {
        JS
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        Body::from(bytes),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_ui_imports_is_served() {
        for (name, _, contents) in ASSETS {
            for line in contents.lines() {
                let Some(rest) = line
                    .split("from \"./")
                    .nth(1)
                    .or_else(|| line.split("import(\"./").nth(1))
                else {
                    continue;
                };
                let imported = rest.split('"').next().unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == imported),
                    "{name} imports ./{imported}, which is not in ASSETS"
                );
            }
        }
    }
}
