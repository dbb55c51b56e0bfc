//! Accounts end to end, against real `lodge serve` processes and the real
//! CLI: who owns an app and who may change it, scoped, expiring and
//! revocable tokens, sign-up policies, quotas, rate limits, the session
//! cookie and CSRF, names in rooms, the first admin, and the upgrade of a
//! data folder from before accounts.

use crate::support::*;
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};

/// The CLI of one person: their own config directory (where `lodge login`
/// keeps the token), no operator token, no local data folder.
struct Person<'a> {
    server: &'a Server,
    config: tempfile::TempDir,
    empty: tempfile::TempDir,
}

impl<'a> Person<'a> {
    fn new(server: &'a Server) -> Self {
        Self {
            server,
            config: tempfile::tempdir().unwrap(),
            empty: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(lodge_bin())
            .args(args)
            .env("LODGE_SERVER", &self.server.url)
            .env("LODGE_DATA", self.empty.path())
            .env("LODGE_CONFIG_DIR", self.config.path())
            .env_remove("LODGE_TOKEN")
            .current_dir(repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{stdin}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, "")
    }

    fn ok_with(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "lodge {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, "");
        assert!(
            !out.status.success(),
            "lodge {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// `lodge signup` with this username and password.
    fn signup(server: &'a Server, username: &str, password: &str) -> Self {
        let person = Self::new(server);
        person.ok_with(
            &["signup", "--username", username, "--password-stdin"],
            password,
        );
        person
    }

    /// The token `lodge login` stored.
    fn token(&self) -> String {
        let file: Value = serde_json::from_slice(
            &std::fs::read(self.config.path().join("credentials.json")).unwrap(),
        )
        .unwrap();
        file["servers"][&self.server.url]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// A JSON API call; returns the status, the JSON answer (or null) and the headers.
async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = server.http().request(method, server.api(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

/// A token for `username`, made with their password (as `lodge login` does).
async fn token_for(server: &Server, username: &str, password: &str, scopes: &[&str]) -> String {
    let (status, body, _) = call(
        server,
        reqwest::Method::POST,
        "/api/tokens",
        None,
        Some(
            json!({ "name": "test", "username": username, "password": password, "scopes": scopes }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn chat_app(name: &str, version: &str) -> AppDir {
    let manifest = format!(
        "[app]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Chat.\"\n\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\", \"timers\"]\nvisibility = \"public\"\n"
    );
    AppDir::new(&manifest, &[("room.wasm", &component("chat_room"))])
}

#[tokio::test]
async fn an_app_belongs_to_its_first_publisher_and_collaborators_may_push() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let alice = Person::signup(&server, "alice", "alice-password");
    let bob = Person::signup(&server, "Bob", "bob-password");
    let (v1, v2) = (chat_app("talk", "1.0.0"), chat_app("talk", "1.1.0"));
    alice.ok(&["app", "push", v1.path()]);

    // Bob may not push (a new version or the same one) or delete.
    for args in [
        vec!["app", "push", v2.path()],
        vec!["app", "push", v1.path()],
        vec!["app", "rm", "talk"],
        vec!["app", "rm", "talk@1.0.0"],
    ] {
        let err = bob.fails(&args);
        assert!(err.contains("talk belongs to alice"), "{args:?}: {err}");
    }
    let bob_token = bob.token();
    let (status, body, _) = call(
        &server,
        reqwest::Method::DELETE,
        "/api/apps/talk",
        Some(&bob_token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );

    // Alice makes Bob a maintainer: he pushes and deletes versions, not the app.
    // An owner can't make someone else an owner (their quotas would pay):
    // that takes an admin.
    let err = alice.fails(&["app", "share", "talk", "bob", "--role", "owner"]);
    assert!(
        err.contains("only an admin makes someone an owner"),
        "{err}"
    );
    alice.ok(&["app", "share", "talk", "bob"]);
    bob.ok(&["app", "push", v2.path()]);
    bob.ok(&["app", "rm", "talk@1.0.0"]);
    // The last version is the app: only an owner deletes it.
    let err = bob.fails(&["app", "rm", "talk@1.1.0"]);
    assert!(err.contains("only an owner of talk"), "{err}");
    let err = bob.fails(&["app", "rm", "talk"]);
    assert!(err.contains("only an owner of talk"), "{err}");
    let (_, shown, _) = call(&server, reqwest::Method::GET, "/api/apps/talk", None, None).await;
    assert_eq!(
        shown["members"],
        json!([{ "username": "alice", "role": "owner" }, { "username": "bob", "role": "maintainer" }])
    );
    let (_, list, _) = call(&server, reqwest::Method::GET, "/api/apps", None, None).await;
    assert_eq!(list["apps"][0]["owner"], "alice");
    let whoami = bob.ok(&["whoami"]);
    assert!(
        whoami.contains("bob (user)") && whoami.contains("talk (maintainer)"),
        "{whoami}"
    );
    // Logs and every room are the collaborators' (with the rooms scope).
    let carol = Person::signup(&server, "carol", "carol-password");
    let err = carol.fails(&["logs", "talk"]);
    assert!(err.contains("belongs to alice"), "{err}");
    bob.ok(&["logs", "talk"]);
    alice.ok(&["app", "unshare", "talk", "bob"]);
    assert!(
        bob.fails(&["app", "push", v2.path()])
            .contains("belongs to alice")
    );
    alice.ok(&["app", "rm", "talk"]);
}

#[tokio::test]
async fn tokens_are_scoped_shown_once_expire_and_revoke() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let alice = Person::signup(&server, "alice", "alice-password");
    let created = alice.ok(&["token", "create", "ci for a", "--scope", "publish:app-a"]);
    let scoped = created.trim().to_owned();
    assert!(scoped.starts_with("lodge_"), "{created}");
    let (a, b) = (chat_app("app-a", "1.0.0"), chat_app("app-b", "1.0.0"));
    let with = |token: &str, args: &[&str]| {
        let mut command = Command::new(lodge_bin());
        command
            .args(args)
            .env("LODGE_SERVER", &server.url)
            .env("LODGE_TOKEN", token)
            .env("LODGE_CONFIG_DIR", alice.config.path())
            .output()
            .unwrap()
    };
    assert!(with(&scoped, &["app", "push", a.path()]).status.success());
    let refused = with(&scoped, &["app", "push", b.path()]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("publish:app-b"),
        "{err}"
    );
    let (status, _, _) = call(
        &server,
        reqwest::Method::DELETE,
        "/api/apps/app-b",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Listed without secrets; the secret is never stored.
    let listed = alice.ok(&["token", "ls"]);
    assert!(
        listed.contains("ci for a") && listed.contains("publish:app-a"),
        "{listed}"
    );
    assert!(!listed.contains(&scoped));
    let mut db = std::fs::read(data.path().join("lodge.db")).unwrap();
    db.extend(std::fs::read(data.path().join("lodge.db-wal")).unwrap_or_default());
    assert!(
        !db.windows(scoped.len()).any(|w| w == scoped.as_bytes()),
        "the token is stored in the clear"
    );

    // Expired: the test moves its expiry into the past, as time would.
    let expiring = alice.ok(&["token", "create", "short", "--expires-days", "1"]);
    let expiring = expiring.trim();
    // Tokens don't breed: a narrow one makes none, and a full one makes
    // none that outlives it.
    let narrow = with(
        &scoped,
        &["token", "create", "copy", "--scope", "publish:app-a"],
    );
    assert!(!narrow.status.success());
    assert!(String::from_utf8_lossy(&narrow.stderr).contains("publish:*"));
    let (status, body, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/tokens",
        Some(expiring),
        Some(json!({ "name": "forever", "scopes": ["publish:*"] })),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outlives")
    );
    let conn = rusqlite::Connection::open(data.path().join("lodge.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute(
        "UPDATE api_tokens SET expires_ms = 1 WHERE name = 'short'",
        [],
    )
    .unwrap();
    let (status, body, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/me",
        Some(expiring),
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // Revoked.
    let tokens: Value = serde_json::from_str(&alice.ok(&["token", "ls", "--json"])).unwrap();
    let id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci for a")
        .unwrap()["id"]
        .to_string();
    alice.ok(&["token", "rm", &id]);
    let (status, _, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/me",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Logging out revokes the CLI's own token.
    let login_token = alice.token();
    alice.ok(&["logout"]);
    let (status, _, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/me",
        Some(&login_token),
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(alice.fails(&["whoami"]).contains("lodge login"));
}

/// Signs up through the API; returns the status and the error code.
async fn signup(server: &Server, username: &str, invite: Option<String>) -> (u16, String) {
    let body = json!({ "username": username, "password": "a-long-password", "invite": invite });
    let (status, body, _) = call(
        server,
        reqwest::Method::POST,
        "/api/signup",
        None,
        Some(body),
    )
    .await;
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn the_operator_chooses_who_may_sign_up() {
    let closed_data = tempfile::tempdir().unwrap();
    let closed = Server::start(closed_data.path(), &["--signup", "closed"]);
    assert_eq!(
        signup(&closed, "alice", None).await,
        (403, "signup_closed".into())
    );

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--signup", "invite"]);
    assert_eq!(
        signup(&server, "alice", None).await,
        (403, "invite_required".into())
    );
    assert_eq!(
        signup(&server, "alice", Some("made-up".into())).await,
        (403, "invite_invalid".into())
    );
    // The operator's token acts as the first admin, who makes invites.
    let (status, invite, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/invites",
        Some(TOKEN),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 201, "{invite}");
    let code = invite["code"].as_str().unwrap().to_owned();
    assert_eq!(signup(&server, "alice", Some(code.clone())).await.0, 201);
    assert_eq!(
        signup(&server, "bob", Some(code)).await,
        (403, "invite_invalid".into()),
        "invite codes work once"
    );
    let (_, invites, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/invites",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(invites["invites"][0]["used_by"], "alice");
    // Usernames: the app-name alphabet, unique in any case; passwords: 8+.
    let open_data = tempfile::tempdir().unwrap();
    let open = Server::start(open_data.path(), &[]);
    assert_eq!(signup(&open, "alice", None).await.0, 201);
    assert_eq!(
        signup(&open, "ALICE", None).await,
        (409, "username_taken".into())
    );
    assert_eq!(
        signup(&open, "no spaces", None).await,
        (400, "invalid_username".into())
    );
    let (status, body, _) = call(
        &open,
        reqwest::Method::POST,
        "/api/signup",
        None,
        Some(json!({ "username": "dave", "password": "short" })),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
}

#[tokio::test]
async fn quotas_refuse_with_their_name_and_use_and_keep_what_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--quota-apps", "1", "--quota-versions", "2"]);
    let alice = Person::signup(&server, "alice", "alice-password");
    alice.ok(&["app", "push", chat_app("one", "1.0.0").path()]);
    alice.ok(&["app", "push", chat_app("one", "1.0.1").path()]);
    let err = alice.fails(&["app", "push", chat_app("one", "1.0.2").path()]);
    assert!(
        err.contains("\"versions per app\" quota of account alice: 2 used of 2"),
        "{err}"
    );
    let err = alice.fails(&["app", "push", chat_app("two", "1.0.0").path()]);
    assert!(
        err.contains("\"apps\" quota of account alice: 1 used of 1"),
        "{err}"
    );
    let shown = alice.ok(&["app", "show", "one"]);
    assert!(
        shown.contains("1.0.0") && shown.contains("1.0.1"),
        "{shown}"
    );
    assert_eq!(
        call(&server, reqwest::Method::GET, "/api/apps/two", None, None)
            .await
            .0,
        404
    );

    // The admin sets one account's stored-bytes quota below what it holds.
    let (status, user, _) = call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/alice",
        Some(TOKEN),
        Some(json!({ "quotas": { "stored_bytes": 1000, "versions_per_app": 10 } })),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["quotas"]["stored_bytes"], 1000);
    let err = alice.fails(&["app", "push", chat_app("one", "1.0.2").path()]);
    assert!(
        err.contains("\"stored bytes\" quota of account alice"),
        "{err}"
    );
    assert!(err.contains("of 1000 B"), "{err}");

    // kv: the room's writes stop at the account's kv quota; what it holds stays.
    call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/alice",
        Some(TOKEN),
        Some(json!({ "quotas": { "kv_bytes": 400 } })),
    )
    .await;
    let token = alice.token();
    let mut refused = false;
    let mut member = Ws::join(&server, "one", "lobby", "guest").await;
    for i in 0..200 {
        member
            .send(&format!("message number {i} with some padding"))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let logs = alice.ok(&["logs", "one"]);
        if logs.contains("could not save the history: storage quota exceeded") {
            refused = true;
            break;
        }
    }
    assert!(refused, "the kv quota never refused a write");
    let (_, me, _) = call(&server, reqwest::Method::GET, "/api/me", Some(&token), None).await;
    let used = me["usage"]["kv_bytes"].as_u64().unwrap();
    assert!(used > 0 && used <= 400, "{me}");
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_does_not_say_who_exists() {
    let data = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_logging(
        data.path(),
        &[
            "--signin-per-minute",
            "100",
            "--signin-per-account-per-minute",
            "3",
        ],
        log.path(),
    );
    let alice = Person::signup(&server, "alice", "alice-password");
    let token = alice.token();
    let attempt = |username: &'static str, password: &'static str| {
        call(
            &server,
            reqwest::Method::POST,
            "/api/session",
            None,
            Some(json!({ "username": username, "password": password })),
        )
    };
    let (wrong, wrong_body, _) = attempt("alice", "not-her-password").await;
    let (unknown, unknown_body, _) = attempt("nobody", "not-her-password").await;
    assert_eq!((wrong, unknown), (401, 401));
    assert_eq!(
        wrong_body, unknown_body,
        "the answer says nothing of who exists"
    );
    attempt("alice", "not-her-password").await;
    attempt("alice", "not-her-password").await;
    let (status, body, headers) = attempt("alice", "alice-password").await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Other accounts are not held back by alice's limit.
    assert_eq!(attempt("nobody", "x-password").await.0, 401);
    // Passwords and tokens reach neither the server's log (at debug level)
    // nor its database.
    assert_eq!(
        call(&server, reqwest::Method::GET, "/api/me", Some(&token), None)
            .await
            .0,
        200
    );
    let written = std::fs::read_to_string(log.path()).unwrap();
    assert!(written.contains("account created"), "the log is captured");
    let mut db = std::fs::read(data.path().join("lodge.db")).unwrap();
    db.extend(std::fs::read(data.path().join("lodge.db-wal")).unwrap_or_default());
    for secret in ["alice-password", "not-her-password", token.as_str()] {
        assert!(!written.contains(secret), "{secret} is in the log");
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }

    let per_address_data = tempfile::tempdir().unwrap();
    let strict = Server::start(per_address_data.path(), &["--signin-per-minute", "2"]);
    for _ in 0..2 {
        call(
            &strict,
            reqwest::Method::POST,
            "/api/session",
            None,
            Some(json!({ "username": "x", "password": "y" })),
        )
        .await;
    }
    let (status, _, headers) = call(
        &strict,
        reqwest::Method::POST,
        "/api/signup",
        None,
        Some(json!({ "username": "x", "password": "a-long-password" })),
    )
    .await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
}

/// The session cookie from a sign-in answer, and its attributes.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> (String, String) {
    let set = headers["set-cookie"].to_str().unwrap().to_owned();
    let value = set.split(';').next().unwrap().to_owned();
    (value, set)
}

#[tokio::test]
async fn the_session_cookie_is_guarded_and_cross_site_writes_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let (status, signed_in, headers) = call(
        &server,
        reqwest::Method::POST,
        "/api/signup",
        None,
        Some(json!({ "username": "alice", "password": "alice-password" })),
    )
    .await;
    assert_eq!(status, 201);
    let (cookie, attributes) = session_cookie(&headers);
    assert!(cookie.starts_with("lodge_session="), "{attributes}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(flag), "{attributes}");
    }
    assert!(!attributes.contains("Secure"), "plain HTTP: {attributes}");
    let csrf = signed_in["csrf"].as_str().unwrap().to_owned();
    let http = server.http();
    let me = http
        .get(server.api("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(
        (me["username"].as_str(), me["csrf"].as_str()),
        (Some("alice"), Some(csrf.as_str()))
    );

    // A form on another site posts with the cookie: refused before anything is read.
    let bundle = bundle(&[(
        "lodge.toml",
        chat_app("evil", "1.0.0")
            .dir
            .path()
            .join("lodge.toml")
            .to_str()
            .unwrap()
            .as_bytes(),
    )]);
    let forged = http
        .post(server.api("/api/apps"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // The same page without the CSRF token: refused too.
    let no_csrf = http
        .post(server.api("/api/apps"))
        .header("cookie", &cookie)
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let body: Value = no_csrf.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    // With it, the write is the signed-in user's (and this bundle is bad).
    let with_csrf = http
        .post(server.api("/api/apps"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(bundle)
        .send()
        .await
        .unwrap();
    assert_eq!(with_csrf.status(), 422);

    // Sign out everywhere ends the session.
    let out = http
        .delete(server.api("/api/me/sessions"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let me = http
        .get(server.api("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
}

#[tokio::test]
async fn guests_cannot_take_an_accounts_name_and_members_are_told_apart() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let alice = Person::signup(&server, "alice", "alice-password");
    alice.ok(&["app", "push", chat_app("talk", "1.0.0").path()]);
    for name in ["alice", "Alice"] {
        let mut guest = Ws::join(&server, "talk", "lobby", name).await;
        let (code, reason) = guest.closed().await;
        assert_eq!(code, 4005, "{reason}");
        assert!(reason.contains("name of an account"), "{reason}");
    }
    let mut guest = Ws::join(&server, "talk", "lobby", "visitor").await;
    assert_eq!(guest.text().await, "* visitor joined");
    // Signed in (a token here; the page uses its cookie), alice is herself.
    let token = alice.token();
    let mut signed_in = Ws::join_with_token(&server, "talk", "lobby", &token)
        .await
        .unwrap();
    assert_eq!(guest.text().await, "* alice joined");
    signed_in.send("hello").await;
    assert_eq!(guest.text().await, "alice: hello");
}

#[tokio::test]
async fn the_first_admin_is_set_up_once_and_manages_users() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--admin-user", "root"]);
    let link = server.setup_link().expect("a setup link is printed");
    let code = link.split_once("#code=").unwrap().1.to_owned();
    let (status, _, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/setup",
        None,
        Some(json!({ "code": "wrong", "password": "root-password" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/setup",
        None,
        Some(json!({ "code": code, "password": "root-password" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["role"], "admin");
    let (status, _, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/setup",
        None,
        Some(json!({ "code": code, "password": "another-password" })),
    )
    .await;
    assert_eq!(status, 403, "the link works once");
    let root = token_for(&server, "root", "root-password", &["admin", "publish:*"]).await;

    let alice = Person::signup(&server, "alice", "alice-password");
    alice.ok(&["app", "push", chat_app("talk", "1.0.0").path()]);
    let bob = Person::signup(&server, "bob", "bob-password");
    let (_, users, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/users",
        Some(&root),
        None,
    )
    .await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "root"]);
    let (status, _, _) = call(
        &server,
        reqwest::Method::GET,
        "/api/users",
        Some(&alice.token()),
        None,
    )
    .await;
    assert_eq!(status, 403, "only admins list users");
    // An admin makes another: Alice's new token may have the admin scope.
    let (status, _, _) = call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/alice",
        Some(&root),
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(status, 200);
    let alice_admin = token_for(&server, "alice", "alice-password", &["admin"]).await;
    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/users",
            Some(&alice_admin),
            None
        )
        .await
        .0,
        200
    );
    call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/alice",
        Some(&root),
        Some(json!({ "role": "user" })),
    )
    .await;
    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/users",
            Some(&alice_admin),
            None
        )
        .await
        .0,
        403
    );

    // A lost password: the admin sets a new one.
    let (status, _, _) = call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/bob",
        Some(&root),
        Some(json!({ "password": "bob-new-password" })),
    )
    .await;
    assert_eq!(status, 200);
    let signin = |password: &'static str| {
        call(
            &server,
            reqwest::Method::POST,
            "/api/session",
            None,
            Some(json!({ "username": "bob", "password": password })),
        )
    };
    assert_eq!(signin("bob-password").await.0, 401);
    assert_eq!(signin("bob-new-password").await.0, 200);

    // Transfer: the app is Bob's now.
    let (status, body, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/apps/talk/transfer",
        Some(&root),
        Some(json!({ "to": "bob" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        alice
            .fails(&["app", "rm", "talk"])
            .contains("belongs to bob")
    );

    // Disabled: Bob's token stops working, and so does signing in; he is
    // taken out of the room he was playing in.
    let bob_token = bob.token();
    let mut watcher = Ws::join(&server, "talk", "lobby", "watcher").await;
    assert_eq!(watcher.text().await, "* watcher joined");
    let mut playing = Ws::join_with_token(&server, "talk", "lobby", &bob_token)
        .await
        .unwrap();
    assert_eq!(watcher.text().await, "* bob joined");
    call(
        &server,
        reqwest::Method::PATCH,
        "/api/users/bob",
        Some(&root),
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/me",
            Some(&bob_token),
            None
        )
        .await
        .0,
        401
    );
    loop {
        match playing.recv().await {
            Received::Close(code, reason) => {
                assert_eq!(code, 4003, "{reason}");
                assert!(reason.contains("disabled"), "{reason}");
                break;
            }
            _ => continue,
        }
    }
    assert_eq!(watcher.text().await, "* bob left");
    let (status, body, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/session",
        None,
        Some(json!({ "username": "bob", "password": "bob-new-password" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("account_disabled"))
    );

    // Deleted: Bob's apps go with him.
    let (status, body, _) = call(
        &server,
        reqwest::Method::DELETE,
        "/api/users/bob",
        Some(&root),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["apps_deleted"], json!(["talk"]));
    assert_eq!(
        call(&server, reqwest::Method::GET, "/api/apps/talk", None, None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn people_change_their_password_and_delete_their_account() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let alice = Person::signup(&server, "alice", "first-password");
    alice.ok(&["app", "push", chat_app("mine", "1.0.0").path()]);
    let token = alice.token();
    let (status, _, _) = call(
        &server,
        reqwest::Method::PUT,
        "/api/me/password",
        Some(&token),
        Some(json!({ "current": "wrong-password", "new": "second-password" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = call(
        &server,
        reqwest::Method::PUT,
        "/api/me/password",
        Some(&token),
        Some(json!({ "current": "first-password", "new": "second-password" })),
    )
    .await;
    assert_eq!(status, 204);
    let signin = |password: &'static str| {
        call(
            &server,
            reqwest::Method::POST,
            "/api/session",
            None,
            Some(json!({ "username": "alice", "password": password })),
        )
    };
    assert_eq!(signin("first-password").await.0, 401);
    assert_eq!(signin("second-password").await.0, 200);
    let (status, body, _) = call(
        &server,
        reqwest::Method::DELETE,
        "/api/me",
        Some(&token),
        Some(json!({ "password": "second-password" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["apps_deleted"], json!(["mine"]));
    assert_eq!(signin("second-password").await.0, 401);
    assert_eq!(
        call(&server, reqwest::Method::GET, "/api/me", Some(&token), None)
            .await
            .0,
        401
    );
}

/// A data folder written by the release before accounts (the fixture
/// `data-0.2`: counter and chat pushed with the operator's token) opens:
/// its apps belong to the first admin, whose password comes from
/// LODGE_ADMIN_PASSWORD, and nobody else may change them.
#[tokio::test]
async fn apps_from_before_accounts_belong_to_the_admin_after_the_upgrade() {
    let data = tempfile::tempdir().unwrap();
    crate::upgrade::copy_dir(&repo().join("tests/e2e/fixtures/data-0.2"), data.path());
    let mut command = Command::new(lodge_bin());
    command.env("LODGE_ADMIN_PASSWORD", "operator-password");
    let server = Server::start_command(command, data.path(), &[]);
    assert!(server.setup_link().is_none(), "the admin has a password");
    for app in ["counter", "chat"] {
        let (status, shown, _) = call(
            &server,
            reqwest::Method::GET,
            &format!("/api/apps/{app}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            shown["members"],
            json!([{ "username": "admin", "role": "owner" }])
        );
    }
    let admin = token_for(&server, "admin", "operator-password", &[]).await;
    let (_, me, _) = call(&server, reqwest::Method::GET, "/api/me", Some(&admin), None).await;
    assert_eq!(me["apps"].as_array().unwrap().len(), 2, "{me}");
    let mallory = Person::signup(&server, "mallory", "mallory-password");
    assert!(
        mallory
            .fails(&["app", "rm", "chat"])
            .contains("chat belongs to admin")
    );
    // The operator's token keeps working as the admin.
    let mut member = Ws::join(&server, "chat", "lobby", "visitor").await;
    assert_eq!(member.text().await, "* visitor joined");
    server.ok(&["app", "rm", "counter"]);
}

/// An app's http part is someone else's code: a visitor's Lodge session
/// cookie and Lodge token never reach it (other cookies and the app's own
/// `Authorization` do).
#[tokio::test]
async fn an_app_never_sees_a_visitors_session_or_token() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let (status, _, headers) = call(
        &server,
        reqwest::Method::POST,
        "/api/signup",
        None,
        Some(json!({ "username": "alice", "password": "alice-password" })),
    )
    .await;
    assert_eq!(status, 201);
    let (cookie, _) = session_cookie(&headers);
    let token = token_for(&server, "alice", "alice-password", &[]).await;
    let dir = AppDir::new(
        "[app]\nname = \"probe\"\nversion = \"1.0.0\"\ndescription = \"Probe.\"\n\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n",
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
    let seen = |authorization: String| {
        let request = server
            .http()
            .get(server.api("/run/probe/headers"))
            .header("cookie", format!("theme=dark; {cookie}; lang=en"))
            .header("authorization", authorization);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    for authorization in [format!("Bearer {token}"), format!("Bearer {TOKEN}")] {
        let headers = seen(authorization).await;
        assert!(headers.contains("cookie: theme=dark; lang=en"), "{headers}");
        assert!(!headers.contains("lodge_session"), "{headers}");
        assert!(!headers.contains("authorization"), "{headers}");
        assert!(
            !headers.contains(&token) && !headers.contains(TOKEN),
            "{headers}"
        );
    }
    let headers = seen("Bearer the-apps-own-token".into()).await;
    assert!(
        headers.contains("authorization: Bearer the-apps-own-token"),
        "{headers}"
    );
}

/// JSON routes read at most 64 KiB: a huge sign-in body is refused, not buffered.
#[tokio::test]
async fn a_huge_json_body_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let huge = format!(
        "{{\"username\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(1 << 20)
    );
    let response = server
        .http()
        .post(server.api("/api/session"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
}
