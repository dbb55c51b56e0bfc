//! An http part for the end-to-end tests. Routes:
//!
//! - `/info`: method, path with query, and the `x-forwarded-prefix` header
//! - `/kv/get?KEY`, `/kv/incr?KEY`: app-scoped kv; `/kv/room`: tries room scope
//! - `/body`: reads the request body and answers its length
//! - `/big?N`: answers N bytes
//! - `/sleep?MS`: sleeps (a wall-clock wait, no CPU), then answers
//! - `/spin`: loops for ever (CPU)
//! - `/trap`: panics
//! - `/fetch?URL`: fetches URL with wasi:http and answers its status and body
//! - `/log`: writes to stdout, stderr and the log interface
//! - `/count`: how many requests this instance has served
//! - `/origin-headers`: answers with headers that would act on the whole
//!   origin (cookies, clearing site data, service-worker scope, refresh,
//!   preload links), `X-Content-Type-Options: none` and a harmless `x-probe`
//! - `/recurse`: recurses until the call stack overflows
//! - `/headers`: every request header as `name: value`, a line each

use lodge_http::kv::{self, Scope};
use lodge_http::wasip2::http::outgoing_handler;
use lodge_http::wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};
use std::io::Read as _;

struct Probe;

/// Requests this instance has served (1 for every request, unless the app
/// asked Lodge to reuse instances).
static SERVED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
    let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())])
        .expect("static headers");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("a body");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("a stream");
    for chunk in body.chunks(4096) {
        stream.blocking_write_and_flush(chunk).expect("writing");
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("finishing");
}

/// Answers 200 with `headers` and a short HTML body.
fn respond_with(out: ResponseOutparam, headers: &[(&str, &str)]) {
    let list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    let response = OutgoingResponse::new(Fields::from_list(&list).expect("valid headers"));
    let outgoing = response.body().expect("a body");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("a stream");
    stream
        .blocking_write_and_flush(b"<p>headers</p>")
        .expect("writing");
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("finishing");
}

/// Calls itself for ever; the work after the call keeps it from becoming a loop.
#[inline(never)]
fn recurse(depth: u32, seed: u32) -> u32 {
    if depth == u32::MAX && seed == 0x9e37_79b9 {
        return seed;
    }
    let next = seed.rotate_left(5) ^ depth;
    recurse(depth.wrapping_add(1), next).wrapping_mul(31) ^ next
}

fn fetch(url: &str) -> Result<(u16, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("want scheme://host/path")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    request.set_method(&Method::Get).map_err(|_| "method")?;
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request.set_scheme(Some(&scheme)).map_err(|_| "scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|_| "authority")?;
    request
        .set_path_with_query(Some(path))
        .map_err(|_| "path")?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|_| "already taken")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.consume().map_err(|_| "body")?;
    let mut text = String::new();
    body.stream()
        .map_err(|_| "stream")?
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok((status, text))
}

impl lodge_http::wasip2::exports::http::incoming_handler::Guest for Probe {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let served = SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        match path {
            "/headers" => {
                let mut text = String::new();
                for (name, value) in request.headers().entries() {
                    text.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&value)));
                }
                respond(out, 200, text.as_bytes());
            }
            "/info" | "/" => {
                let prefix = request
                    .headers()
                    .get("x-forwarded-prefix")
                    .first()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default();
                let method = format!("{:?}", request.method());
                let text = format!("method={method}\ntarget={target}\nprefix={prefix}\n");
                respond(out, 200, text.as_bytes());
            }
            "/kv/get" => match kv::get_string(Scope::App, query) {
                Ok(value) => respond(out, 200, value.unwrap_or_default().as_bytes()),
                Err(e) => respond(out, 500, e.to_string().as_bytes()),
            },
            "/kv/incr" => match kv::increment(Scope::App, query, 1) {
                Ok(value) => respond(out, 200, value.to_string().as_bytes()),
                Err(e) => respond(out, 500, e.to_string().as_bytes()),
            },
            "/kv/room" => match kv::get(Scope::Room, "x") {
                Ok(_) => respond(out, 200, b"room scope worked"),
                Err(e) => respond(out, 409, e.to_string().as_bytes()),
            },
            "/body" => {
                let body = request.consume().expect("a body");
                let mut bytes = Vec::new();
                let read = body.stream().expect("a stream").read_to_end(&mut bytes);
                match read {
                    Ok(n) => respond(out, 200, n.to_string().as_bytes()),
                    Err(e) => respond(out, 400, e.to_string().as_bytes()),
                }
            }
            "/big" => {
                let n: usize = query.parse().unwrap_or(0);
                respond(out, 200, &vec![b'x'; n]);
            }
            "/sleep" => {
                let ms: u64 = query.parse().unwrap_or(0);
                std::thread::sleep(std::time::Duration::from_millis(ms));
                respond(out, 200, b"slept");
            }
            "/spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/trap" => panic!("asked to trap"),
            "/count" => respond(out, 200, served.to_string().as_bytes()),
            "/origin-headers" => respond_with(
                out,
                &[
                    ("content-type", "text/html"),
                    ("set-cookie", "lodge.token=stolen; Path=/"),
                    ("set-cookie", "second=1; Path=/"),
                    ("clear-site-data", "\"storage\", \"cookies\""),
                    ("service-worker-allowed", "/"),
                    ("refresh", "0; url=/api/apps"),
                    ("link", "</api/apps>; rel=preload; as=fetch"),
                    ("strict-transport-security", "max-age=31536000"),
                    ("x-content-type-options", "none"),
                    ("x-probe", "kept"),
                ],
            ),
            "/recurse" => {
                let depth = recurse(0, query.len() as u32);
                respond(out, 200, depth.to_string().as_bytes());
            }
            "/fetch" => match fetch(query) {
                Ok((status, body)) => respond(out, 200, format!("{status} {body}").as_bytes()),
                Err(e) => respond(out, 502, e.as_bytes()),
            },
            "/log" => {
                println!("probe to stdout");
                eprintln!("probe to stderr");
                lodge_http::log::info("probe to the log");
                respond(out, 200, b"logged");
            }
            _ => respond(out, 404, format!("no such probe: {target}").as_bytes()),
        }
    }
}

lodge_http::wasip2::http::proxy::export!(Probe with_types_in lodge_http::wasip2);
