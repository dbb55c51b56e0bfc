//! Links the cartridge the way WASM-4 loads it: memory imported from the
//! host, exactly one 64 KiB page, and a small stack below the program's data.
fn main() {
    for arg in [
        "--import-memory",
        "--initial-memory=65536",
        "--max-memory=65536",
        "-zstack-size=14752",
        "--no-entry",
    ] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
