// Builds app.js into an http part with componentize-js, against the
// wasi:http/proxy world that Lodge's wasmtime-wasi-http provides (its WIT is
// found through `cargo metadata`, so nothing is vendored here). The
// StarlingMonkey engine inside componentize-js implements WASI 0.2.10, so
// the WIT is relabelled to that version: 0.2 releases only add to 0.2.
//
//   node build.mjs OUTPUT.wasm

import { componentize } from "@bytecodealliance/componentize-js";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const output = resolve(process.argv[2] ?? join(here, "../target/http_js.wasm"));

const metadata = JSON.parse(
  execFileSync("cargo", ["metadata", "--format-version", "1", "--manifest-path", join(repo, "Cargo.toml")], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  }),
);
const http = metadata.packages.find((p) => p.name === "wasmtime-wasi-http");
if (!http) throw new Error("wasmtime-wasi-http is not among Lodge's dependencies");
const ENGINE_WASI = "0.2.10";
const witPath = mkdtempSync(join(tmpdir(), "lodge-http-js-wit-"));
cpSync(join(dirname(http.manifest_path), "wit"), witPath, { recursive: true });
for (const file of [join(witPath, "world.wit"), ...readdirSync(join(witPath, "deps")).map((f) => join(witPath, "deps", f))]) {
  const wit = readFileSync(file, "utf8")
    .replace(/@0\.2\.\d+/g, `@${ENGINE_WASI}`)
    .replace(/@since\(version = 0\.2\.\d+\)/g, `@since(version = ${ENGINE_WASI})`);
  writeFileSync(file, wit);
}

const { component } = await componentize({
  sourcePath: join(here, "app.js"),
  witPath,
  worldName: "bindings",
});
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, component);
console.log(`built ${output} (${component.length} bytes)`);
