//! Lodge's origin stays Lodge's: an http part under `/run/` can't set
//! cookies, clear the web UI's storage or widen a service worker's scope on
//! it, and the UI and API are never framed or sniffed.

use crate::support::*;

fn push_probe(server: &Server) {
    let dir = AppDir::new(
        "[app]\nname = \"probe\"\nversion = \"0.1.0\"\ndescription = \"Probes.\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n",
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
}

/// The values of `name` in `headers`, as text.
fn values(headers: &reqwest::header::HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Headers that would act on the whole origin; the probe sends them all.
const ORIGIN_HEADERS: [&str; 6] = [
    "set-cookie",
    "clear-site-data",
    "service-worker-allowed",
    "refresh",
    "link",
    "strict-transport-security",
];

// An http part under /run/ could set cookies on Lodge's origin and erase
// the web UI's saved token with Clear-Site-Data.
#[tokio::test]
async fn an_http_part_under_run_cannot_act_on_lodges_origin() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--domain", "lodge.test"]);
    push_probe(&server);

    for _ in 0..2 {
        let response = server
            .http()
            .get(server.api("/run/probe/origin-headers"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        for name in ORIGIN_HEADERS {
            assert_eq!(values(headers, name), Vec::<String>::new(), "{name}");
        }
        assert_eq!(values(headers, "x-content-type-options"), ["nosniff"]);
        assert_eq!(values(headers, "x-probe"), ["kept"], "other headers stay");
        assert!(
            values(headers, "content-security-policy")
                .iter()
                .any(|p| p.starts_with("sandbox")),
            "{headers:?}"
        );
        assert_eq!(response.text().await.unwrap(), "<p>headers</p>");
    }

    // The author learns why, once per header.
    let log = server.ok(&["logs", "probe"]);
    assert_eq!(
        log.matches("removed the set-cookie header").count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("removed the clear-site-data header from an answer under /run/probe/: it erases the origin's storage"),
        "{log}"
    );
    assert!(log.contains("probe.DOMAIN (lodge serve --domain)"), "{log}");

    // At its own host name the app has its own origin: its cookies are its own.
    let response = server
        .http()
        .get(server.api("/origin-headers"))
        .header("host", "probe.lodge.test")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(values(headers, "set-cookie").len(), 2, "{headers:?}");
    assert_eq!(values(headers, "clear-site-data").len(), 1);

    // Everyone else is served as before.
    let (status, body) = get(&server, "/run/probe/info").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&server, "/api/apps").await.0, 200);
}

#[tokio::test]
async fn the_ui_and_the_api_are_never_framed_or_sniffed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    for path in [
        "/",
        "/app/chat",
        "/ui/main.js",
        "/ui/worker.js",
        "/api/apps",
        "/api/nothing",
        "/healthz",
        "/metrics",
    ] {
        let response = server.http().get(server.api(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(values(headers, "x-frame-options"), ["DENY"], "{path}");
        assert_eq!(
            values(headers, "x-content-type-options"),
            ["nosniff"],
            "{path}"
        );
        assert_eq!(
            values(headers, "referrer-policy"),
            ["no-referrer"],
            "{path}"
        );
        let policy = values(headers, "content-security-policy").join(", ");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    }
    let page = server.http().get(server.api("/")).send().await.unwrap();
    let policy = values(page.headers(), "content-security-policy").join(", ");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("wasm-unsafe-eval"), "{policy}");
    // The Worker that runs client parts compiles WebAssembly; nothing else does.
    let worker = server
        .http()
        .get(server.api("/ui/worker.js"))
        .send()
        .await
        .unwrap();
    let policy = values(worker.headers(), "content-security-policy").join(", ");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
}
