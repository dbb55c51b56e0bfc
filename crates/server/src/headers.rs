//! Response headers that keep Lodge's origin Lodge's: which headers an
//! http part's answer under `/run/` loses (they act on the whole origin it
//! shares with the web UI), and what the UI and the API always send
//! (anti-framing, `nosniff`, a referrer policy, a content security policy).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashSet;
use std::sync::Mutex;

/// Headers removed from answers under `/run/`, each with what it would do
/// there. Headers that act only on the app's own page (its CSP, COOP,
/// Permissions-Policy, caching) stay: the page is sandboxed anyway.
pub const ORIGIN_HEADERS: &[(&str, &str)] = &[
    ("set-cookie", "sets cookies for Lodge's origin"),
    ("set-cookie2", "sets cookies for Lodge's origin"),
    (
        "clear-site-data",
        "erases the origin's storage, the web UI's saved token with it",
    ),
    (
        "service-worker-allowed",
        "lets a service worker control pages outside /run/",
    ),
    ("refresh", "sends the browser to another page"),
    (
        "link",
        "preloads, prefetches or preconnects on the origin's behalf",
    ),
    (
        "origin-agent-cluster",
        "changes how the whole origin is isolated",
    ),
    (
        "strict-transport-security",
        "pins HTTPS for Lodge's host and its subdomains",
    ),
    (
        "alt-svc",
        "sends the origin's later requests to another server",
    ),
    (
        "nel",
        "collects reports of the origin's network errors, URLs included",
    ),
    (
        "report-to",
        "collects reports of the origin's network errors, URLs included",
    ),
    (
        "accept-ch",
        "asks for client hints on all the origin's requests",
    ),
    (
        "critical-ch",
        "asks for client hints on all the origin's requests",
    ),
    ("set-login", "sets the origin's login status in the browser"),
    ("shared-storage-write", "writes the origin's shared storage"),
    ("speculation-rules", "prefetches or prerenders other pages"),
];

/// Marks a response an app's http part made, so the UI's headers (framing,
/// CSP) are not laid over it.
#[derive(Clone, Copy, Debug)]
pub struct AppAnswer;

/// Removes [`ORIGIN_HEADERS`] and forces `X-Content-Type-Options:
/// nosniff`; returns the names removed.
pub fn strip_origin_headers(headers: &mut HeaderMap) -> Vec<&'static str> {
    let mut removed = Vec::new();
    for (name, _) in ORIGIN_HEADERS {
        if headers.remove(*name).is_some() {
            removed.push(*name);
        }
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    removed
}

/// What a removed header would have done, for the app's log.
pub fn why_removed(name: &str) -> &'static str {
    ORIGIN_HEADERS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("acts on Lodge's origin", |(_, why)| why)
}

/// Which (app, header) removals were already told, so each is logged once
/// while the server runs.
#[derive(Default)]
pub struct Reported(Mutex<HashSet<(String, &'static str)>>);

impl Reported {
    /// True the first time `app` sent `name`.
    pub fn first(&self, app: &str, name: &'static str) -> bool {
        self.0
            .lock()
            .expect("reported lock")
            .insert((app.to_owned(), name))
    }
}

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// The web UI's pages and modules: scripts, styles and workers from
/// Lodge only, no inline code or `style` attributes, WebSockets and
/// fetches to Lodge only, never framed.
pub const UI_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; worker-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The Worker that runs client parts (`/ui/worker.js`, whose own answer
/// sets its policy): it imports the part's module from `/client/` and
/// compiles its core WebAssembly, which needs `'wasm-unsafe-eval'`.
pub const WORKER_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Everything else Lodge answers (JSON, client files, errors): nothing to
/// run, never framed.
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Middleware over every route: Lodge's own answers are never framed or
/// sniffed and send no referrer; an answer without a policy gets
/// [`DEFAULT_POLICY`]. Apps' answers ([`AppAnswer`]) keep their own headers.
pub async fn lodge_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<AppAnswer>().is_some() {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    // A /play link names its room, the only secret a room has: it goes
    // nowhere, not even to an app's pages on this origin.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_headers_go_and_nosniff_is_forced() {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.insert("clear-site-data", HeaderValue::from_static("\"*\""));
        headers.insert("x-content-type-options", HeaderValue::from_static("none"));
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        let removed = strip_origin_headers(&mut headers);
        assert_eq!(removed, ["set-cookie", "clear-site-data"]);
        assert!(headers.get("set-cookie").is_none());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-type"], "text/html");
    }

    #[test]
    fn every_listed_header_is_a_valid_lower_case_name() {
        for (n, why) in ORIGIN_HEADERS {
            assert_eq!(axum::http::HeaderName::from_static(n).as_str(), *n);
            assert_eq!(why_removed(n), *why);
        }
    }
}
