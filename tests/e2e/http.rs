//! HTTP parts through real servers: routing by path and host, version pins,
//! kv shared with rooms, deadlines, body limits, saturation, outbound
//! requests, traps and logs.

use crate::support::*;
use std::time::{Duration, Instant};

fn probe_manifest(name: &str, version: &str, extra: &str) -> String {
    format!(
        "[app]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Probes.\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n{extra}"
    )
}

fn push_probe(server: &Server, name: &str, extra: &str) {
    let dir = AppDir::new(
        &probe_manifest(name, "0.1.0", extra),
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", dir.path()]);
}

fn error_code(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    value["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn requests_route_by_path_and_host_with_the_prefix_passed_on() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--domain", "lodge.test"]);
    push_probe(&server, "probe", "");

    let (status, text) = get(&server, "/run/probe/info?a=1&b=%20x").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("method=Method::Get"), "{text}");
    assert!(
        text.contains("target=/info?a=1&b=%20x"),
        "the prefix is stripped: {text}"
    );
    assert!(
        text.contains("prefix=/run/probe\n"),
        "and passed on: {text}"
    );
    let (_, root) = get(&server, "/run/probe").await;
    assert!(root.contains("target=/\n"), "{root}");
    let (_, encoded) = get(&server, "/run/probe/a%2Fb%FF?q=%26").await;
    assert_eq!(encoded, "no such probe: /a%2Fb%FF?q=%26", "sent as it came");
    // Pages under /run share the UI's origin, so they are sandboxed.
    let sandboxed = server
        .http()
        .get(format!("{}/run/probe/info", server.url))
        .send()
        .await
        .unwrap();
    let csp = sandboxed.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("sandbox ") && !csp.contains("allow-same-origin"),
        "{csp}"
    );

    // By host: the whole path is the app's, and there is no prefix.
    let by_host = server
        .http()
        .get(format!("{}/info?x=2", server.url))
        .header("host", "probe.lodge.test")
        .header("x-forwarded-prefix", "/forged")
        .send()
        .await
        .unwrap();
    assert_eq!(by_host.status(), 200);
    assert!(
        !by_host.headers().contains_key("content-security-policy"),
        "an app's own origin needs no sandbox"
    );
    let text = by_host.text().await.unwrap();
    assert!(
        text.contains("target=/info?x=2") && text.contains("prefix=\n"),
        "{text}"
    );
    // Other hosts reach Lodge's own routes.
    let api = server
        .http()
        .get(format!("{}/api/apps", server.url))
        .header("host", "lodge.test")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);

    let (status, body) = get(&server, "/run/nothing-here/").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
    server.ok(&["app", "push", examples().join("chat").to_str().unwrap()]);
    let (status, body) = get(&server, "/run/chat/").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "no_http_part"),
        "{body}"
    );
}

#[tokio::test]
async fn the_latest_version_answers_unless_one_is_pinned() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let hello = AppDir::new(
        "[app]\nname = \"pinned\"\nversion = \"0.1.0\"\ndescription = \"\"\n[http]\ncomponent = \"http.wasm\"\n",
        &[("http.wasm", &component("http_hello"))],
    );
    server.ok(&["app", "push", hello.path()]);
    let probe = AppDir::new(
        &probe_manifest("pinned", "0.2.0", ""),
        &[("http.wasm", &guest_component("http_probe"))],
    );
    server.ok(&["app", "push", probe.path()]);

    let (_, latest) = get(&server, "/run/pinned/info").await;
    assert!(latest.contains("target=/info"), "0.2.0 answers: {latest}");
    let (_, pinned) = get(&server, "/run/pinned/info?lodge-version=0.1.0&q=1").await;
    assert_eq!(
        pinned.trim(),
        "Hello from Lodge! You asked for /info?q=1",
        "the pin is taken out of the query"
    );
    let by_header = server
        .http()
        .get(format!("{}/run/pinned/x", server.url))
        .header("lodge-version", "0.1.0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(by_header.starts_with("Hello from Lodge"), "{by_header}");
    let (status, body) = get(&server, "/run/pinned/?lodge-version=9.9.9").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));
}

#[tokio::test]
async fn the_http_part_and_the_rooms_share_the_app_kv() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        "[app]\nname = \"shared\"\nversion = \"0.1.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n",
        &[
            ("room.wasm", &component("counter_room")),
            ("http.wasm", &guest_component("http_probe")),
        ],
    );
    server.ok(&["app", "push", dir.path()]);

    // The counter room keeps "count" in app kv.
    let mut ws = Ws::join(&server, "shared", "a", "ada").await;
    assert_eq!(ws.text().await, "0");
    assert_eq!(
        get(&server, "/run/shared/kv/incr?count").await,
        (200, "1".into())
    );
    ws.send("+").await;
    assert_eq!(ws.text().await, "2", "the room saw the http part's write");
    assert_eq!(
        get(&server, "/run/shared/kv/get?count").await,
        (200, "2".into())
    );
    // Room scope is not an http part's.
    let (status, text) = get(&server, "/run/shared/kv/room").await;
    assert_eq!((status, text.as_str()), (409, "no such scope here"));
}

#[tokio::test]
async fn a_handler_over_its_deadline_answers_504_while_others_succeed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(
        data.path(),
        &["--http-cpu-ms", "300", "--http-timeout-ms", "1500"],
    );
    push_probe(&server, "slow", "");

    let started = Instant::now();
    let spin = tokio::spawn({
        let http = server.http();
        let url = format!("{}/run/slow/spin", server.url);
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    // While it spins, other requests are answered.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..5 {
        let (status, _) = get(&server, "/run/slow/info").await;
        assert_eq!(status, 200);
    }
    let (status, body) = spin.await.unwrap();
    assert_eq!(
        (status, error_code(&body).as_str()),
        (504, "app_cpu_deadline"),
        "{body}"
    );
    assert!(body.contains("CPU time of 300 ms"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Waiting (no CPU) runs into the wall-clock timeout instead.
    let (status, body) = get(&server, "/run/slow/sleep?5000").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (504, "app_timeout"),
        "{body}"
    );
    assert!(body.contains("1500 ms"), "{body}");
    let (status, _) = get(&server, "/run/slow/sleep?10").await;
    assert_eq!(status, 200);

    // A manifest may ask for more, up to the server's maximum.
    let dir = AppDir::new(
        &probe_manifest("greedy", "0.1.0", "timeout-ms = 600000\n"),
        &[("http.wasm", &guest_component("http_probe"))],
    );
    let refused = server.fails(&["app", "push", dir.path()]);
    assert!(
        refused.contains("[http].timeout-ms = 600000 is more than this server allows (60000 ms, --http-max-timeout-ms)"),
        "{refused}"
    );
    push_probe(&server, "patient", "timeout-ms = 3000\n");
    let (status, text) = get(&server, "/run/patient/sleep?2000").await;
    assert_eq!((status, text.as_str()), (200, "slept"));
}

#[tokio::test]
async fn request_bodies_over_the_limit_answer_413() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--http-max-request-bytes", "1000"]);
    push_probe(&server, "bodies", "");
    let url = format!("{}/run/bodies/body", server.url);
    let http = server.http();

    let small = http.post(&url).body(vec![b'a'; 600]).send().await.unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(small.text().await.unwrap(), "600");

    let declared = http.post(&url).body(vec![b'a'; 2000]).send().await.unwrap();
    assert_eq!(declared.status(), 413);
    let body = declared.text().await.unwrap();
    assert_eq!(error_code(&body), "body_too_large");
    assert!(body.contains("1000 bytes"), "{body}");

    // Streamed without a length: cut off while the app reads it.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b'b'; 100])).collect();
    let streamed = http
        .post(&url)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 413);
}

#[tokio::test]
async fn saturation_answers_503_with_retry_after_instead_of_queueing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--http-max-concurrency-per-app", "2"]);
    push_probe(&server, "busy", "");
    push_probe(&server, "calm", "");
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let http = server.http();
            let url = format!("{}/run/busy/sleep?800", server.url);
            tokio::spawn(async move {
                let response = http.get(url).send().await.unwrap();
                let retry = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (
                    response.status().as_u16(),
                    retry,
                    response.text().await.unwrap(),
                )
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another app is not affected by this one's limit.
    assert_eq!(get(&server, "/run/calm/info").await.0, 200);
    let mut ok = 0;
    let mut busy = 0;
    for request in requests {
        let (status, retry, body) = request.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert_eq!(retry.as_deref(), Some("1"));
                assert_eq!(error_code(&body), "app_busy");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, busy), (2, 4));
    assert!(
        server
            .metrics()
            .await
            .contains("lodge_http_requests_total{outcome=\"busy\"} 4")
    );
}

#[tokio::test]
async fn a_full_instance_pool_answers_503_too() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--pool-instances", "2"]);
    push_probe(&server, "pooled", "");
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let http = server.http();
            let url = format!("{}/run/pooled/sleep?600", server.url);
            tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 503, 503, 503]);
    assert_eq!(
        get(&server, "/run/pooled/info").await.0,
        200,
        "slots come back"
    );
}

#[tokio::test]
async fn outbound_requests_reach_only_the_hosts_the_manifest_lists() {
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = upstream.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "upstream ok" }));
        axum::serve(upstream, app).await.unwrap();
    });
    let data = tempfile::tempdir().unwrap();
    // The upstream is on loopback, which only this flag lets apps reach.
    let server = Server::start(data.path(), &["--http-allow-private-outbound"]);
    push_probe(
        &server,
        "allowed",
        &format!("allowed-hosts = [\"127.0.0.1:{port}\"]\n"),
    );
    push_probe(&server, "denied", "allowed-hosts = [\"example.com\"]\n");

    let target = format!("http://127.0.0.1:{port}/");
    let (status, text) = get(&server, &format!("/run/allowed/fetch?{target}")).await;
    assert_eq!((status, text.as_str()), (200, "200 upstream ok"));
    let (status, text) = get(&server, &format!("/run/denied/fetch?{target}")).await;
    assert_eq!(status, 502);
    assert!(text.contains("HttpRequestDenied"), "{text}");
    let log = server.ok(&["logs", "denied"]);
    assert!(
        log.contains(&format!(
            "outbound request to 127.0.0.1:{port} denied: add \"127.0.0.1:{port}\" to [http].allowed-hosts"
        )),
        "{log}"
    );
}

#[tokio::test]
async fn a_trapping_handler_answers_500_and_the_next_request_works() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push_probe(&server, "fragile", "");
    let (status, body) = get(&server, "/run/fragile/trap").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (500, "app_trapped"),
        "{body}"
    );
    assert_eq!(get(&server, "/run/fragile/info").await.0, 200);

    let (status, _) = get(&server, "/run/fragile/log").await;
    assert_eq!(status, 200);
    let log = server.ok(&["logs", "fragile"]);
    for line in [
        "asked to trap",
        "http request failed (trap)",
        "probe to stdout",
        "probe to stderr",
        "probe to the log",
    ] {
        assert!(log.contains(line), "{line:?} in {log}");
    }
}

#[tokio::test]
async fn a_javascript_component_from_componentize_js_runs_unmodified() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        "[app]\nname = \"js\"\nversion = \"0.1.0\"\ndescription = \"JavaScript.\"\n[http]\ncomponent = \"http.wasm\"\n",
        &[("http.wasm", &js_component())],
    );
    server.ok(&["app", "push", dir.path()]);
    let (status, text) = get(&server, "/run/js/hello?x=1").await;
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "language": "javascript",
            "method": "GET",
            "path": "/hello",
            "query": "?x=1",
            "prefix": "/run/js"
        })
    );
    let echoed = server
        .http()
        .post(format!("{}/run/js/echo", server.url))
        .body("shout")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed, "SHOUT");
    assert!(server.ok(&["logs", "js"]).contains("js handled GET /hello"));
}

#[tokio::test]
async fn a_python_component_from_componentize_py_runs_unmodified() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let dir = AppDir::new(
        "[app]\nname = \"py\"\nversion = \"0.1.0\"\ndescription = \"Python.\"\n[http]\ncomponent = \"http.wasm\"\n",
        &[("http.wasm", &py_component())],
    );
    // CPython's runtime imports wasi:sockets, which the manifest doesn't
    // (and can't) declare: the upload is accepted all the same, and the
    // sockets are linked deny-by-default.
    server.ok(&["app", "push", dir.path()]);

    let (status, text) = get(&server, "/run/py/hello?x=1").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, "Hello from Python! You asked for /hello?x=1\n");
    let echoed = server
        .http()
        .post(format!("{}/run/py/echo", server.url))
        .body("shout")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), 200);
    assert_eq!(echoed.text().await.unwrap(), "SHOUT");

    // Using a socket fails at run time, as an error the guest sees (EACCES
    // is wasi-libc's name for wasi:sockets' access-denied), not a trap.
    let (status, text) = get(&server, "/run/py/socket").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, "error: PermissionError EACCES: Permission denied\n");
    // So does a name lookup: access-denied from resolve-addresses, which
    // wasi-libc's getaddrinfo reports as EAI_SYSTEM with EACCES.
    let (status, text) = get(&server, "/run/py/lookup").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, "error: PermissionError EACCES: Permission denied\n");

    let log = server.ok(&["logs", "py"]);
    assert!(log.contains("python handled GET /hello?x=1"), "{log}");
    // The log says what was denied, once each, and what an http part uses instead.
    for what in ["opening a TCP socket", "a name lookup"] {
        let line = format!(
            "{what} denied (access-denied): no capability grants wasi:sockets to Lodge parts; an http part reaches other servers with outgoing HTTP requests (wasi:http) to the hosts it lists in [http].allowed-hosts"
        );
        assert_eq!(log.matches(&line).count(), 1, "{line}\n{log}");
    }
}

#[tokio::test]
async fn instances_are_fresh_per_request_unless_the_manifest_asks_for_reuse() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    push_probe(&server, "fresh", "");
    push_probe(&server, "reused", "reuse-instances = true\n");
    for _ in 0..3 {
        assert_eq!(get(&server, "/run/fresh/count").await, (200, "1".into()));
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(get(&server, "/run/reused/count").await.1);
    }
    assert_eq!(seen, ["1", "2", "3"], "one instance served them in turn");
    // A trap retires the instance: the next request starts fresh.
    assert_eq!(get(&server, "/run/reused/trap").await.0, 500);
    assert_eq!(get(&server, "/run/reused/count").await, (200, "1".into()));
}
