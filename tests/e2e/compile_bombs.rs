//! Compile bombs: small uploads that would take the server's time and
//! memory to compile are refused with a reason naming the limit, and the
//! server's other uploads go on.

use crate::support::*;
use std::time::{Duration, Instant};

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    leb(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// A core module of `functions` empty functions that each declare `locals`
/// i32 locals (a few bytes each, however many locals), and one table of
/// `table` elements.
fn core_module(functions: u64, locals: u64, table: u64) -> Vec<u8> {
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.extend(section(1, &[1, 0x60, 0, 0]));
    let mut funcs = Vec::new();
    leb(functions, &mut funcs);
    funcs.extend(std::iter::repeat_n(0u8, functions as usize));
    module.extend(section(3, &funcs));
    if table > 0 {
        let mut tables = vec![1, 0x70, 0];
        leb(table, &mut tables);
        module.extend(section(4, &tables));
    }
    let mut body = vec![1];
    leb(locals, &mut body);
    body.extend([0x7f, 0x0b]);
    let mut code = Vec::new();
    leb(functions, &mut code);
    for _ in 0..functions {
        leb(body.len() as u64, &mut code);
        code.extend_from_slice(&body);
    }
    module.extend(section(10, &code));
    module
}

/// A core module of one function of `n` additions to a local: under 1 MiB,
/// within every default limit (and, compressed, the bundle ratio), and
/// about 120 MiB to compile.
fn long_function(n: usize) -> Vec<u8> {
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.extend(section(1, &[1, 0x60, 0, 0]));
    module.extend(section(3, &[1, 0]));
    // One i32 local; `local.get 0 i32.const 1 i32.add local.set 0`, n times.
    let mut body = vec![1, 1, 0x7f];
    for _ in 0..n {
        body.extend([0x20, 0, 0x41, 1, 0x6a, 0x21, 0]);
    }
    body.push(0x0b);
    let mut code = vec![1];
    leb(body.len() as u64, &mut code);
    code.extend(body);
    module.extend(section(10, &code));
    module
}

/// A real room component (chat's) with `modules` extra core modules in it:
/// valid, with the imports and exports of a room, so only its size can
/// refuse it. Wasmtime compiles every module a component holds.
fn room_with(modules: &[Vec<u8>]) -> Vec<u8> {
    let mut component = component("chat_room");
    for module in modules {
        component.extend(section(1, module));
    }
    component
}

fn app(name: &str, room: &[u8]) -> Vec<u8> {
    let manifest = format!(
        "[app]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"\"\n[room]\ncomponent = \"room.wasm\"\ncapabilities = [\"kv\", \"timers\"]\n"
    );
    bundle(&[("lodge.toml", manifest.as_bytes()), ("room.wasm", room)])
}

#[tokio::test]
async fn compile_bombs_are_refused_before_compiling_with_the_limit_named() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    // 2,000 functions of 50,000 locals each: 74 KiB that took 4 s to compile
    // (8,000 of them, 122 KiB: 30 s).
    let locals_bomb = room_with(&[core_module(2_000, 50_000, 0)]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "locals",
            locals_bomb,
            "room.wasm has 50000 locals in one function, more than this server allows (10000; `lodge serve --max-function-locals` sets it)",
        ),
        (
            "total locals",
            room_with(&[core_module(400, 9_000, 0)]),
            "locals in all functions, more than this server allows (2000000; `lodge serve --max-locals` sets it)",
        ),
        (
            "functions",
            room_with(&[core_module(100_001, 0, 0)]),
            "functions, more than this server allows (100000; `lodge serve --max-component-functions` sets it)",
        ),
        (
            "modules",
            room_with(&vec![core_module(1, 0, 0); 30]),
            "room.wasm has 33 core modules, more than this server allows (32; `lodge serve --max-component-modules` sets it)",
        ),
        (
            "tables",
            room_with(&[core_module(1, 0, 5_000_000)]),
            "table elements, more than this server allows (1000000; `lodge serve --max-table-elements` sets it)",
        ),
    ];
    for (what, room, message) in cases {
        let started = Instant::now();
        let (status, code, text) = upload(&server, app("bomb", &room)).await;
        let took = started.elapsed();
        println!(
            "{what}: {} KiB refused in {took:?}: {text}",
            room.len() >> 10
        );
        assert_eq!(
            (status, code.as_str()),
            (422, "part_over_limit"),
            "{what}: {text}"
        );
        assert!(text.contains(message), "{what}: {text}");
        // Refused by counting, not by compiling (which takes seconds).
        assert!(took < Duration::from_secs(3), "{what} took {took:?}");
    }
    let list = server.json(&["app", "ls"]);
    assert!(app_names(&list).is_empty(), "{list}");
    assert_no_stored_files(data.path());
}

/// Runs `lodge __compile` children the server started, by parent id.
fn compile_children(server: &Server) -> usize {
    let parent = server.child.id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            let dir = entry.path();
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let ppid = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.split(' ').nth(1));
            String::from_utf8_lossy(&cmdline).contains("__compile") && ppid == Some(parent.as_str())
        })
        .count()
}

#[tokio::test]
async fn a_component_too_slow_to_compile_is_stopped_while_other_uploads_go_on() {
    let data = tempfile::tempdir().unwrap();
    // The static limits let this bomb through (about a minute to compile
    // here); the compile limit stops it.
    let server = Server::start(
        data.path(),
        &[
            "--compile-timeout-secs",
            "2",
            "--max-function-locals",
            "50000",
            "--max-locals",
            "1000000000",
        ],
    );
    let bomb = room_with(&[core_module(12_000, 50_000, 0)]);
    let started = Instant::now();
    let refused = {
        let bomb = app("slow", &bomb);
        let server = &server;
        async move { upload(server, bomb).await }
    };
    let normal = async {
        // Starts while the bomb compiles.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let answer = upload(&server, app("chat", &component("chat_room"))).await;
        (answer, started.elapsed())
    };
    let ((status, code, text), ((normal_status, _, normal_text), normal_took)) =
        tokio::join!(refused, normal);
    let took = started.elapsed();
    println!("bomb refused in {took:?}: {text}; a normal upload meanwhile took {normal_took:?}");
    assert_eq!(
        (status, code.as_str()),
        (422, "part_compile_limit"),
        "{text}"
    );
    assert!(
        text.contains("room.wasm did not compile within 2 s, this server's limit (`lodge serve --compile-timeout-secs` sets the limit)"),
        "{text}"
    );
    assert_eq!(normal_status, 201, "{normal_text}");
    assert!(took < Duration::from_secs(15), "the bomb took {took:?}");
    // The killed compiler is gone, and the server serves the normal app.
    assert_eq!(compile_children(&server), 0);
    let mut member = Ws::join(&server, "chat", "lobby", "ann").await;
    member.send("hello").await;
    while member.text().await != "ann: hello" {}
    assert_eq!(app_names(&server.json(&["app", "ls"])), ["chat"]);
}

#[tokio::test]
async fn a_component_too_big_to_compile_in_its_memory_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--compile-memory-mib", "64"]);
    let bomb = room_with(&[long_function(130_000)]);
    let (status, code, text) = upload(&server, app("big", &bomb)).await;
    println!("{text}");
    assert_eq!(
        (status, code.as_str()),
        (422, "part_compile_limit"),
        "{text}"
    );
    assert!(
        text.contains("room.wasm needs more than 64 MiB of memory to compile, this server's limit (`lodge serve --compile-memory-mib` sets the limit)"),
        "{text}"
    );
    // The same limit leaves room for a real component.
    let (status, _, text) = upload(&server, app("chat", &component("chat_room"))).await;
    assert_eq!(status, 201, "{text}");
    assert_no_compile_leftovers(&server);
}

fn assert_no_compile_leftovers(server: &Server) {
    assert_eq!(compile_children(server), 0);
}
