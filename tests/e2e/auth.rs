//! Writes need the bearer token; reads don't.

use crate::support::*;

#[tokio::test]
async fn writes_without_the_right_token_are_refused_with_401() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let http = server.http();
    for (method, path) in [
        (reqwest::Method::POST, "/api/apps"),
        (reqwest::Method::DELETE, "/api/apps/chat"),
        (reqwest::Method::DELETE, "/api/apps/chat/versions/0.1.0"),
    ] {
        for token in [None, Some("wrong-token")] {
            let mut request = http.request(method.clone(), server.api(path)).body("x");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {token:?}");
            assert!(response.headers().contains_key("www-authenticate"));
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    let response = http.get(server.api("/api/apps")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[test]
fn the_cli_explains_a_missing_token_in_one_line() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let other = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(lodge_bin());
    let out = command
        .args(["app", "rm", "chat"])
        .env("LODGE_SERVER", &server.url)
        .env("LODGE_DATA", other.path())
        .env_remove("LODGE_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("LODGE_TOKEN"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);
}

#[test]
fn without_lodge_token_the_server_creates_one_the_local_cli_finds() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), &[], None);
    let token_file = data.path().join("token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(token.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the token");
    }
    // The CLI finds the token through LODGE_DATA, with no LODGE_TOKEN.
    let out = server.lodge_with_token(
        &["app", "push", examples().join("counter").to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A restart keeps the same token.
    server.stop();
    let server = Server::start_with(data.path(), &[], None);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    let out = server.lodge_with_token(&["app", "rm", "counter"], Some(token.trim()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
