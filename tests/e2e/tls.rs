//! HTTPS and WSS: `lodge serve --tls-cert FILE --tls-key FILE`, with a
//! self-signed certificate the test makes (openssl), trusted by the CLI
//! with `--ca-cert` and by the test's own clients.

use crate::support::{Server, examples, lodge_bin};
use futures::{SinkExt, StreamExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;

/// Client TLS trusting only `cert`.
fn trusting(cert: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(cert).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    Arc::new(config)
}

#[tokio::test]
async fn https_and_wss_serve_the_api_the_cli_and_rooms() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = lodge_testkit::self_signed(certs.path());
    let server = Server::start(
        data.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    // The API over HTTPS, with HSTS on every answer. (reqwest wants a
    // process-wide provider even with its TLS given; the binary installs ring.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured((*trusting(&cert)).clone())
        .build()
        .unwrap();
    let health = https
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=63072000"
    );
    // Passwords travel encrypted, and the session cookie only over HTTPS.
    let signed_up = https
        .post(format!("{}/api/signup", server.url))
        .json(&serde_json::json!({ "username": "tls-user", "password": "tls-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);
    let cookie = signed_up.headers()["set-cookie"].to_str().unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(flag), "{cookie}");
    }

    // The CLI over HTTPS: refused without the certificate, fine with it.
    let chat = examples().join("chat");
    let out = server.lodge(&["app", "push", chat.to_str().unwrap()]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("invalid peer certificate"), "{error}");
    assert!(error.contains("pass --ca-cert FILE"), "{error}");
    let ca = ["--ca-cert", cert.to_str().unwrap()];
    server.ok(&["app", "push", chat.to_str().unwrap(), ca[0], ca[1]]);
    assert!(server.ok(&["app", "ls", ca[0], ca[1]]).contains("chat"));

    // A room over WSS.
    let ws_url = format!(
        "{}/apps/chat/rooms/lobby?name=ada",
        server.url.replacen("https://", "wss://", 1)
    );
    let connector = tokio_tungstenite::Connector::Rustls(trusting(&cert));
    let (mut ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(&ws_url, None, false, Some(connector))
            .await
            .expect("joining over wss");
    ws.send(Message::text("hello over tls")).await.unwrap();
    let mut heard = String::new();
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            heard = text.to_string();
            if heard.contains("hello over tls") {
                break;
            }
        }
    }
    assert_eq!(heard, "ada: hello over tls");

    // `lodge join` speaks wss:// too: it joins, and leaves at the end of its input.
    let joined = Command::new(lodge_bin())
        .args(["join", "chat/lobby", "--name", "bob", ca[0], ca[1]])
        .env("LODGE_SERVER", &server.url)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&joined.stderr);
    assert!(said.contains("joined chat/lobby as bob"), "{said}");

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(server.url.replacen("https://", "http://", 1) + "/healthz")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[test]
fn unusable_tls_files_stop_start_up_naming_the_flag_and_file() {
    let data = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = lodge_testkit::self_signed(certs.path());
    let missing = certs.path().join("missing.pem");
    let cases = [
        (missing.as_path(), key.as_path(), "--tls-cert"),
        (key.as_path(), key.as_path(), "holds no certificate"),
        (cert.as_path(), cert.as_path(), "holds no private key"),
    ];
    for (cert, key, expected) in cases {
        let out = Command::new(lodge_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .env("LODGE_TOKEN", "t")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(error.contains(expected), "{expected}: {error}");
    }
}
