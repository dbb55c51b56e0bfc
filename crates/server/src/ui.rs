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

/// A JavaScript file of the UI: (path under `ui/`, content type, contents).
macro_rules! js {
    ($path:literal) => {
        ($path, JS, include_str!(concat!("../ui/", $path)))
    };
}

/// (path under `ui/`, content type, contents) of every UI file.
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
    js!("main.js"),
    js!("api.js"),
    js!("token-dialog.js"),
    js!("signin-dialog.js"),
    js!("account-nav.js"),
    js!("forms.js"),
    js!("dom.js"),
    js!("format.js"),
    js!("names.js"),
    js!("close-codes.js"),
    js!("room-link.js"),
    js!("lobby.js"),
    js!("views/live-rooms.js"),
    js!("views/list.js"),
    js!("views/upload.js"),
    js!("views/app.js"),
    js!("views/play-form.js"),
    js!("views/choose.js"),
    js!("views/play.js"),
    js!("views/signin.js"),
    js!("views/me.js"),
    js!("views/tokens.js"),
    js!("views/admin.js"),
    js!("text-client.js"),
    js!("runner.js"),
    js!("renderers/index.js"),
    js!("renderers/terminal.js"),
    js!("renderers/screen.js"),
    js!("renderers/keys.js"),
    js!("worker.js"),
    js!("events.js"),
    js!("frame-loop.js"),
    js!("caps/index.js"),
    js!("caps/client-stop.js"),
    js!("caps/types.js"),
    js!("caps/terminal.js"),
    js!("caps/server.js"),
    js!("caps/timers.js"),
    js!("caps/frames.js"),
    js!("caps/log.js"),
    js!("wasm4/font.js"),
    js!("wasm4/draw.js"),
    js!("wasm4/sound.js"),
    js!("wasm4/runtime.js"),
    js!("wasm4/host.js"),
    js!("wasm4/part.js"),
    js!("caps/wasi.js"),
    js!("caps/assets.js"),
    js!("caps/screen.js"),
    js!("caps/input.js"),
    js!("caps/audio.js"),
    js!("audio/engine.js"),
    js!("audio/sounds.js"),
    js!("audio/worklet.js"),
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
        .route("/signin", get(page))
        .route("/signup", get(page))
        .route("/setup", get(page))
        .route("/me", get(page))
        .route("/tokens", get(page))
        .route("/admin", get(page))
        .route("/ui/{*path}", get(ui_file))
        .route("/client/{key}/{sha256}/{file}", get(client_file))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// `GET /`, `/app/{name}`, `/play/{app}[/{room}]`, and the account pages
/// (`/signin`, `/signup`, `/setup`, `/me`, `/tokens`, `/admin`): the page
/// shell; main.js routes.
pub async fn page(request: HeaderMap) -> Response {
    asset("index.html", &request)
}

/// `GET /ui/{*path}`: `main.js`, `caps/timers.js`, ….
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
    use std::collections::BTreeMap;

    /// `base` joined with a relative module specifier (`./x.js`, `../y.js`).
    fn resolve(base: &str, specifier: &str) -> String {
        let mut parts: Vec<&str> = base.split('/').collect();
        parts.pop();
        for segment in specifier.split('/') {
            match segment {
                "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        parts.join("/")
    }

    #[test]
    fn every_module_the_ui_imports_is_served() {
        for (name, _, contents) in ASSETS {
            for line in contents.lines() {
                let Some(rest) = line
                    .split(" from \"")
                    .nth(1)
                    .or_else(|| line.split("import(\"").nth(1))
                else {
                    continue;
                };
                let specifier = rest.split('"').next().unwrap();
                if !specifier.starts_with('.') {
                    continue;
                }
                let imported = resolve(name, specifier);
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == imported),
                    "{name} imports {specifier} ({imported}), which is not in ASSETS"
                );
            }
        }
    }

    #[test]
    fn every_file_of_the_ui_folder_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let name = path.strip_prefix(&root).unwrap().to_str().unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == name),
                    "ui/{name} is not in ASSETS, so the page can't load it"
                );
            }
        }
    }

    // A client part the server accepts must find a host module in the
    // page for each of its imports, or it stops with "could not start".
    #[test]
    fn the_page_has_a_host_module_for_every_interface_a_client_may_import() {
        use lodge_manifest::Role;
        let modules: String = ASSETS
            .iter()
            .filter(|(name, _, _)| name.starts_with("caps/"))
            .map(|(_, _, contents)| *contents)
            .collect();
        let every_declarable: Vec<lodge_manifest::CapabilityName> =
            lodge_runtime::capabilities::declarable(Role::Client)
                .into_iter()
                .filter_map(lodge_manifest::CapabilityName::new)
                .collect();
        for interface in lodge_runtime::allowed_interfaces(Role::Client, &every_declarable) {
            assert!(
                modules.contains(&format!("\"{interface}\"")),
                "no module in ui/caps/ implements {interface}"
            );
        }
        // 0.2 is the newest `lodge:app` with client interfaces (0.3 is rooms only).
        for version in [
            lodge_runtime::capabilities::LODGE_0_2,
            lodge_runtime::HOST_WASI_VERSION,
        ] {
            let line = format!("\"{}.{}\"", version.major, version.minor);
            assert!(
                modules.contains(&line),
                "no module in ui/caps/ serves version {line}"
            );
        }
    }

    /// `NAME: u16 = CODE` for each line like `pub const NAME: u16 = CODE;`
    /// (Rust) or `NAME: [CODE, "…"],` (close-codes.js) between `start` and
    /// the next line that is only a closing brace.
    fn close_codes(source: &str, start: &str) -> BTreeMap<String, u16> {
        let block = source.split(start).nth(1).expect("the close code list");
        let block = block.split("\n}").next().unwrap();
        block
            .lines()
            .filter_map(|line| {
                let line = line.trim().trim_start_matches("pub const ");
                let (name, rest) = line.split_once(':')?;
                let (_, value) = rest.split_once(['=', '['])?;
                let digits: String = value
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let is_name = name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                (is_name && !digits.is_empty()).then(|| (name.to_owned(), digits.parse().unwrap()))
            })
            .collect()
    }

    // The page explains a closed connection by its code when the server
    // gave no reason; a code added on one side only would show a number.
    #[test]
    fn the_page_knows_every_close_code_the_server_sends() {
        let server = close_codes(
            include_str!("../../runtime/src/rooms/mod.rs"),
            "pub mod close {",
        );
        let page = close_codes(
            include_str!("../ui/close-codes.js"),
            "export const LODGE_CLOSE_CODES = {",
        );
        assert_eq!(
            page, server,
            "ui/close-codes.js and lodge_runtime::rooms::close disagree"
        );
        assert_eq!(
            server["RESTART"],
            lodge_runtime::rooms::close::RESTART,
            "the Rust source read is the one compiled"
        );
    }
}
