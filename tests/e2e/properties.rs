//! Property tests of the HTTP entry points: random methods, paths, query
//! strings, headers and bodies for `/api/...`, the WebSocket join's checks
//! before the upgrade and `/run/...`, sent to the router in-process (with
//! `oneshot`) of a server holding a real app. Never a panic, and never a
//! 5xx except where one is legitimate (busy, or the app's own failure).

use crate::support::*;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use lodge_server::{AppState, Server, ServerConfig, router};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

const DOMAIN: &str = "lodge.test";

/// One server for all cases: its runtime, state and data folder live as
/// long as the test process.
fn state() -> &'static (tokio::runtime::Runtime, Arc<AppState>) {
    static STATE: OnceLock<(tokio::runtime::Runtime, Arc<AppState>)> = OnceLock::new();
    STATE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let data = tempfile::tempdir().unwrap().keep();
        let state = runtime.block_on(async {
            let mut config = ServerConfig::new(data, "127.0.0.1:0".parse().unwrap());
            config.token = Some(TOKEN.into());
            config.domain = Some(DOMAIN.into());
            // The test binary is not `lodge`: compile with the real one.
            config.compile.exe = Some(lodge_bin());
            let state = Server::bind(config).await.unwrap().state();
            let manifest = "[app]\nname = \"ttt\"\nversion = \"1.0.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\"]\n[client]\ncomponent = \"client.wasm\"\n[http]\ncomponent = \"http.wasm\"\ncapabilities = [\"kv\", \"log\"]\n";
            let body = bundle(&[
                ("lodge.toml", manifest.as_bytes()),
                ("room.wasm", &component("tic_tac_toe_room")),
                ("client.wasm", &component("tic_tac_toe_client")),
                ("http.wasm", &component("tic_tac_toe_http")),
            ]);
            let response = router(state.clone())
                .oneshot(
                    Request::post("/api/apps")
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            state
        });
        (runtime, state)
    })
}

/// Percent-encodes what a URI path or query may not hold, but keeps `%`
/// (so broken escapes like `%G1` reach the server).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'%'
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b':'
            | b'@' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,10}",
        Just("ttt".to_owned()),
        Just("latest".to_owned()),
        Just("1.0.0".to_owned()),
        Just("..".to_owned()),
        Just("%G1".to_owned()),
        Just("%00".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("x".repeat(300)),
        "[ -~]{0,12}".prop_map(|s| encode(&s)),
        any::<String>().prop_map(|s| encode(&s.chars().take(6).collect::<String>())),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just("/api/apps"),
        Just("/api/apps/ttt"),
        Just("/api/apps/ttt/versions"),
        Just("/api/apps/ttt/rooms"),
        Just("/api/apps/ttt/logs"),
        Just("/api"),
        Just("/apps/ttt/rooms"),
        Just("/apps"),
        Just("/run/ttt"),
        Just("/run"),
        Just("/play/ttt"),
        Just("/client"),
        Just("/healthz"),
        Just("/metrics"),
        Just(""),
    ];
    (
        prefix,
        prop::collection::vec(segment(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(prefix, segments, slash)| {
            let mut path = prefix.to_owned();
            for s in segments {
                path.push('/');
                path.push_str(&s);
            }
            if slash || path.is_empty() {
                path.push('/');
            }
            path
        })
}

fn query() -> impl Strategy<Value = String> {
    let pair = (
        prop_oneof![
            Just("name"),
            Just("version"),
            Just("follow"),
            Just("room"),
            Just("x"),
        ],
        prop_oneof![
            Just("ann".to_owned()),
            Just("1.0.0".to_owned()),
            Just("latest".to_owned()),
            Just(String::new()),
            "[ -~]{0,16}".prop_map(|s| encode(&s)),
            any::<String>().prop_map(|s| encode(&s.chars().take(8).collect::<String>())),
        ],
    );
    prop_oneof![
        Just(String::new()),
        prop::collection::vec(pair, 0..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("?{}", pairs.join("&"))
        }),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let pair = |name: &'static str, value: BoxedStrategy<String>| {
        value.prop_map(move |v| (name.to_owned(), v))
    };
    let text = || "[ -~]{0,24}".boxed();
    prop_oneof![
        pair(
            "authorization",
            prop_oneof![
                Just(format!("Bearer {TOKEN}")),
                "Bearer [ -~]{0,20}",
                "[ -~]{0,20}"
            ]
            .boxed()
        ),
        pair("content-type", text()),
        pair("content-length", "[0-9]{1,12}".boxed()),
        pair(
            "host",
            prop_oneof![
                Just(format!("ttt.{DOMAIN}")),
                Just(format!("ttt.{DOMAIN}:8080")),
                Just(format!("nope.{DOMAIN}")),
                Just(format!("-.{DOMAIN}")),
                "[a-z.:0-9-]{0,20}",
            ]
            .boxed()
        ),
        pair(
            "upgrade",
            prop_oneof![Just("websocket".to_owned()), text()].boxed()
        ),
        pair(
            "connection",
            prop_oneof![Just("upgrade".to_owned()), text()].boxed()
        ),
        pair(
            "sec-websocket-version",
            prop_oneof![Just("13".to_owned()), text()].boxed()
        ),
        pair("sec-websocket-key", "[A-Za-z0-9+/=]{0,30}".boxed()),
        pair(
            "accept-encoding",
            prop_oneof![Just("gzip".to_owned()), text()].boxed()
        ),
        pair("range", text()),
        pair("if-none-match", text()),
        ("x-[a-z-]{1,10}", text()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..512),
        "[ -~]{0,64}".prop_map(String::into_bytes),
        Just(b"\x1f\x8b\x08\x00".to_vec()),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("PUT".to_owned()),
        Just("DELETE".to_owned()),
        Just("HEAD".to_owned()),
        Just("OPTIONS".to_owned()),
        Just("PATCH".to_owned()),
        "[A-Z]{1,10}",
    ]
}

/// Sends one request to the router; checks it answered, and sensibly.
fn send(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<(), TestCaseError> {
    let mut builder = Request::builder().uri(uri);
    match Method::from_bytes(method.as_bytes()) {
        Ok(method) => builder = builder.method(method),
        Err(_) => return Ok(()),
    }
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let Ok(mut request) = builder.body(Body::from(body)) else {
        // Not a request a client could send (an invalid URI).
        return Ok(());
    };
    // What the real server has: the client's address, and a connection
    // that could be upgraded (here it never is), so the WebSocket join
    // gets past its extractor to its own checks.
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    request
        .extensions_mut()
        .insert(hyper::upgrade::on(Request::new(())));
    let (runtime, state) = state();
    let (status, text) = runtime.block_on(async {
        let response = router(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = tokio::time::timeout(
            Duration::from_secs(20),
            axum::body::to_bytes(response.into_body(), 1 << 20),
        )
        .await;
        let text = match body {
            Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Err(e)) => format!("(the body failed: {e})"),
            Err(_) => "(the body did not end within 20 s)".to_owned(),
        };
        (status, text)
    });
    // Busy (a full pool), a full disk, and an app's own failures are 5xx by
    // design; nothing else is.
    let legitimate =
        status.as_u16() == 503 || status.as_u16() == 507 || text.contains("\"code\":\"app_");
    prop_assert!(
        !status.is_server_error() || legitimate,
        "{method} {uri} {headers:?} answered {status}: {text}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic_or_fail_the_server(
        method in method(),
        path in path(),
        query in query(),
        headers in prop::collection::vec(header(), 0..6),
        body in body(),
    ) {
        send(&method, &format!("{path}{query}"), &headers, body)?;
    }

    #[test]
    fn random_requests_to_an_http_part_reach_it_or_are_refused_clearly(
        method in method(),
        by_host in any::<bool>(),
        segments in prop::collection::vec(segment(), 0..4),
        query in query(),
        headers in prop::collection::vec(header(), 0..4),
        body in body(),
    ) {
        let rest: String = segments.iter().map(|s| format!("/{s}")).collect();
        let (path, mut headers) = if by_host {
            (if rest.is_empty() { "/".to_owned() } else { rest }, headers)
        } else {
            (format!("/run/ttt{rest}"), headers.into_iter().filter(|(n, _)| n != "host").collect())
        };
        if by_host {
            headers.retain(|(n, _)| n != "host");
            headers.push(("host".to_owned(), format!("ttt.{DOMAIN}")));
        }
        send(&method, &format!("{path}{query}"), &headers, body)?;
    }

    #[test]
    fn random_websocket_joins_are_checked_before_the_upgrade(
        app in prop_oneof![Just("ttt".to_owned()), segment()],
        room in prop_oneof![Just("lobby".to_owned()), segment()],
        query in query(),
        extra in prop::collection::vec(header(), 0..3),
    ) {
        let mut headers = vec![
            ("upgrade".to_owned(), "websocket".to_owned()),
            ("connection".to_owned(), "upgrade".to_owned()),
            ("sec-websocket-version".to_owned(), "13".to_owned()),
            ("sec-websocket-key".to_owned(), "dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
        ];
        headers.extend(extra);
        send("GET", &format!("/apps/{app}/rooms/{room}{query}"), &headers, Vec::new())?;
    }
}
