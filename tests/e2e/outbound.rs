//! Outbound requests from http parts reach only public addresses, unless
//! the operator allows others (`--http-allow-private-outbound`): a name in
//! `allowed-hosts` that resolves to loopback, or an IP literal, is refused.

use crate::support::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A server on loopback that counts the requests reaching it.
async fn upstream() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "upstream ok" }
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    (port, hits)
}

fn push_probe(server: &Server, name: &str, allowed: &str) {
    let dir = AppDir::new(
        &format!(
            "[app]\nname = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"Probes.\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\nallowed-hosts = [\"{allowed}\"]\n"
        ),
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
}

// An app could reach services on the server's machine through a name that
// resolves to loopback (or any private address) once it was in allowed-hosts.
#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_without_the_flag() {
    let (port, hits) = upstream().await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push_probe(&server, "sneaky", &format!("localhost:{port}"));

    let (status, text) = get(
        &server,
        &format!("/run/sneaky/fetch?http://localhost:{port}/"),
    )
    .await;
    assert_eq!(status, 502, "{text}");
    assert!(text.contains("DestinationIpProhibited"), "{text}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the upstream"
    );
    let log = server.ok(&["logs", "sneaky"]);
    assert!(
        log.contains("outbound request to localhost denied: it resolves to"),
        "{log}"
    );
    assert!(log.contains("a loopback"), "{log}");
    assert!(log.contains("--http-allow-private-outbound"), "{log}");
    assert_eq!(get(&server, "/run/sneaky/info").await.0, 200);
}

#[tokio::test]
async fn an_ip_literal_needs_the_flag_and_is_reached_with_it() {
    let (port, hits) = upstream().await;
    let target = format!("/run/literal/fetch?http://127.0.0.1:{port}/");

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push_probe(&server, "literal", &format!("127.0.0.1:{port}"));
    let (status, text) = get(&server, &target).await;
    assert_eq!(status, 502, "{text}");
    assert!(text.contains("DestinationIpProhibited"), "{text}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let log = server.ok(&["logs", "literal"]);
    assert!(
        log.contains("outbound request to 127.0.0.1 denied: it resolves to 127.0.0.1, a loopback (127.0.0.0/8) address"),
        "{log}"
    );
    server.stop();

    let server = Server::start(data.path(), &["--http-allow-private-outbound"]);
    let (status, text) = get(&server, &target).await;
    assert_eq!((status, text.as_str()), (200, "200 upstream ok"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let (status, text) = get(
        &server,
        &format!("/run/literal/fetch?http://localhost:{port}/"),
    )
    .await;
    assert_eq!(status, 502, "allowed-hosts still applies: {text}");
    assert!(text.contains("HttpRequestDenied"), "{text}");
}
