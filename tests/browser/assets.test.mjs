// [client].assets in the browser: a client reads a data file and a PNG
// (decoded by the page's Worker) by name, sees each error case, and an
// asset that can't be fetched stops the client with a load fault naming it.
// The PNG is made here, so its pixels are known.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { deflateSync } from "node:zlib";
import { Server, appDir, guest, join, launch, newPage, screenshot, waitForScreen } from "./support.mjs";

let server;
let browser;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG (8-bit RGBA) of `width`×`height` whose pixel (x, y) is `pixel(x, y)`. */
function png(width, height, pixel) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x++) rows.push(...pixel(x, y));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** An app of the assets probe (and the echo room, to join) with these asset files. */
function probeApp(name, files) {
  const dir = appDir(`[app]
name = "${name}"
version = "0.1.0"
description = "Reads its assets."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv"]

[client]
component = "${guest("assets_probe")}"
capabilities = ["assets"]
assets = [${Object.keys(files).map((f) => `"${f}"`).join(", ")}]
`);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(joinPath(dir, path, ".."), { recursive: true });
    writeFileSync(joinPath(dir, path), bytes);
  }
  return dir;
}

const DOTS = png(3, 2, (x, y) => (x === 2 && y === 1 ? [200, 100, 50, 255] : x === 0 && y === 0 ? [12, 34, 56, 255] : [0, 0, 0, 0]));

before(async () => {
  server = await Server.start();
  server.lodge("app", "push", probeApp("assets", {
    "data/level.txt": "level one\n",
    "img/dots.png": DOTS,
    "img/broken.png": "not a png at all",
  }));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

test("a client reads a data asset and a decoded PNG by name, and each error case", async () => {
  const page = await newPage(browser);
  await join(page, server, "assets", "lobby", "ada");
  const text = await waitForScreen(page, "broken:");
  await screenshot(page, "assets-probe");
  assert.match(text, /names: data\/level\.txt,img\/dots\.png,img\/broken\.png/);
  assert.match(text, /read: 10 bytes "level one"/);
  assert.match(text, /image: 3x2 len 24 px\(0,0\)=12,34,56,255 px\(2,1\)=200,100,50,255/);
  assert.match(text, /missing: not-found not-found/);
  assert.match(text, /text as image: not-an-image/);
  assert.match(text, /broken: undecodable\(true\)/);
});

test("an asset that can't be fetched stops the client with a load fault naming it", async () => {
  const gone = png(1, 1, () => [1, 2, 3, 255]);
  server.lodge("app", "push", probeApp("assets-gone", { "data/level.txt": "x\n", "img/dots.png": gone, "img/broken.png": "y" }));
  // Take the PNG's blob away behind the server's back: /assets/ answers 404.
  const { createHash } = await import("node:crypto");
  const sha = createHash("sha256").update(gone).digest("hex");
  const folder = joinPath(server.data, "blobs/sha256", sha.slice(0, 2));
  assert.ok(readdirSync(folder).includes(sha), `the blob is stored in ${folder}`);
  rmSync(joinPath(folder, sha));

  const page = await newPage(browser);
  await join(page, server, "assets-gone", "lobby", "ada");
  const overlay = page.getByRole("alertdialog", { name: "The client could not start" });
  await overlay.waitFor();
  assert.match(await overlay.innerText(), /asset "img\/dots\.png" could not be fetched \(404/);
});
