// Compatibility: a client built against lodge:app@0.1.0 (from the frozen
// copy of that WIT in tests/guests/client-v0_1/wit) keeps playing on this
// server, getting every event in the shape it was built for.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Server, appDir, guest, join, launch, newPage, screenshot, waitForScreen } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.lodge("app", "push", appDir(`[app]
name = "old-client"
version = "0.1.0"
description = "A client built against lodge:app@0.1.0."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv", "log"]

[client]
component = "${guest("client_v0_1")}"
`));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

test("a client built against lodge:app@0.1.0 still plays: init, keys, pointer, ticks, timers and messages", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await join(page, server, "old-client", "lobby", "ada");
  const info = await page.evaluate(() => fetch("/api/apps/old-client").then((r) => r.json()));
  const client = info.versions[0].parts.find((p) => p.role === "client");
  assert.ok(client.exports.includes("lodge:app/client-events@0.1.0"), client.exports.join(", "));
  assert.ok(client.imports.filter((i) => i.startsWith("lodge:")).every((i) => i.endsWith("@0.1.0")), client.imports.join(", "));

  const [, rows] = (await waitForScreen(page, /v0\.1 client: ada in lobby \(\d+x\d+\)/)).match(/\(\d+x(\d+)\)/);
  await waitForScreen(page, "timer: hello");
  await waitForScreen(page, "connected");

  await page.keyboard.press("Shift+A");
  await waitForScreen(page, "key: A shift=true");

  // The pointer arrives as a cell: the grid's third row, first column.
  const box = await page.locator(".terminal > div").first().boundingBox();
  await page.mouse.click(box.x + 2, box.y + (box.height / Number(rows)) * 2.5);
  await waitForScreen(page, "pointer: col 0 row 2");

  await page.keyboard.press("t");
  await waitForScreen(page, /ticks: 30, last at \d+ ms/);

  await page.keyboard.press("s");
  await waitForScreen(page, "room says: from v0.1: s");
  await screenshot(page, "compat-v0.1");
  assert.deepEqual(errors, []);
});
