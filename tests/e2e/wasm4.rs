//! WASM-4 cartridges as client parts: checked at upload against WASM-4's
//! API, refused with a reason when they are not cartridges, and served to
//! the page as they are.

use crate::support::{AppDir, Server, cartridge, get, guest_component};

fn manifest(abi: Option<&str>) -> String {
    let abi = abi.map(|a| format!("abi = \"{a}\"\n")).unwrap_or_default();
    format!(
        "[app]\nname = \"cart\"\nversion = \"0.1.0\"\ndescription = \"A WASM-4 cartridge.\"\n\n[client]\ncomponent = \"cart.wasm\"\n{abi}"
    )
}

/// A module importing `env.memory` and `env.{import}` (no parameters, no
/// results) and exporting `update`, assembled by hand.
fn module_importing(import: &str) -> Vec<u8> {
    let mut imports = vec![2u8];
    for (name, desc) in [("memory", &[2u8, 0, 1][..]), (import, &[0u8, 0][..])] {
        imports.extend([3, b'e', b'n', b'v', name.len() as u8]);
        imports.extend(name.as_bytes());
        imports.extend(desc);
    }
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.extend([1, 4, 1, 0x60, 0, 0]); // one type: [] -> []
    module.extend([2, imports.len() as u8]);
    module.extend(imports);
    module.extend([3, 2, 1, 0]); // one function of type 0
    module.extend([7, 10, 1, 6]);
    module.extend(b"update");
    module.extend([0, 1]); // function 1 (0 is the import)
    module.extend([10, 4, 1, 2, 0, 0x0b]); // its body: end
    module
}

#[tokio::test]
async fn a_cartridge_is_checked_published_and_served_as_it_is() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let cart = cartridge();
    let dir = AppDir::new(&manifest(Some("wasm4")), &[("cart.wasm", &cart)]);
    server.ok(&["app", "push", dir.path()]);

    let (status, body) = get(&server, "/api/apps/cart").await;
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    let client = &info["versions"][0]["parts"][0];
    assert_eq!(info["versions"][0]["manifest"]["client"]["abi"], "wasm4");
    assert_eq!(client["abi"], "wasm4");
    let imports = client["imports"].as_array().unwrap();
    assert!(imports.iter().any(|i| i == "env.memory"), "{imports:?}");
    assert!(imports.iter().any(|i| i == "env.rect"), "{imports:?}");
    let browser = client["browser"].as_str().unwrap();
    assert!(browser.ends_with("/cart.wasm"), "{browser}");

    let response = server
        .http()
        .get(format!("{}{browser}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &cart[..]);
}

#[test]
fn what_is_not_a_cartridge_is_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let refused = |manifest: String, bytes: &[u8]| {
        let dir = AppDir::new(&manifest, &[("cart.wasm", bytes)]);
        server.fails(&["app", "push", dir.path()])
    };

    let out = refused(manifest(None), &cartridge());
    assert!(
        out.contains(" is a core WebAssembly module, not a component")
            && out.contains("(a WASM-4 cartridge? add abi = \"wasm4\" to [client])"),
        "{out}"
    );
    let out = refused(manifest(Some("wasm4")), &guest_component("readme_client"));
    assert!(
        out.contains(" is a component, but [client].abi = \"wasm4\" runs WASM-4 cartridges"),
        "{out}"
    );
    let out = refused(manifest(Some("wasm4")), &module_importing("fopen"));
    assert!(
        out.contains(" imports env.fopen, which is not part of WASM-4's API"),
        "{out}"
    );
    // The same module importing a real API function passes the import check.
    let out = refused(manifest(Some("wasm4")), &module_importing("rect"));
    assert!(
        out.contains("imports env.rect with the wrong signature: WASM-4's takes 4 i32 parameters"),
        "{out}"
    );
    let mut big = cartridge();
    big.extend(std::iter::repeat_n(0, 70 * 1024));
    let out = refused(manifest(Some("wasm4")), &big);
    assert!(
        out.contains("a WASM-4 cartridge is at most 65536 bytes"),
        "{out}"
    );
    assert!(
        server.ok(&["app", "ls"]).contains("no apps"),
        "nothing was published"
    );
}
