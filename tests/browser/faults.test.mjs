// Faults in the browser: a trapping client, a looping client, a dropped
// connection. Each is shown, and the page stays usable.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Server, appDir, guest, join, launch, newPage, screenshot, waitForScreen } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  // The misbehaving client, with the echo room so it has a connection too.
  server.lodge("app", "push", appDir(`[app]
name = "bad"
version = "0.1.0"
description = "Misbehaves on request."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv"]

[client]
component = "${guest("bad_client")}"
`));
  server.push("examples/chat");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

test("a client that traps shows an overlay with the reason, and can be restarted", async () => {
  const page = await newPage(browser);
  await join(page, server, "bad", "trap", "ada");
  await waitForScreen(page, "ready: ada (trap)");
  await page.keyboard.press("p");
  const overlay = page.getByRole("alertdialog", { name: "The client crashed" });
  await overlay.waitFor();
  assert.match(await overlay.innerText(), /asked to panic/);
  assert.match(await overlay.innerText(), /unreachable/i);
  await screenshot(page, "fault-trap");
  await overlay.getByRole("button", { name: "Restart the client" }).click();
  await waitForScreen(page, "ready: ada (trap)");
  await page.locator(".terminal").press("x");
  await waitForScreen(page, "key 1: x");
});

test("a client stuck in a loop is stopped and the page keeps responding", async () => {
  const page = await newPage(browser);
  await join(page, server, "bad", "loop", "ada");
  await waitForScreen(page, "ready: ada (loop)");
  const started = Date.now();
  await page.keyboard.press("l");
  const overlay = page.getByRole("alertdialog", { name: "The client stopped responding" });
  await overlay.waitFor({ timeout: 15_000 });
  const stoppedAfter = Date.now() - started;
  assert.ok(stoppedAfter < 10_000, `stopped after ${stoppedAfter} ms`);
  assert.match(await overlay.innerText(), /did not respond for 3 seconds/);
  await screenshot(page, "fault-loop");
  // The page itself answers at once: its script runs and its controls work.
  assert.equal(await page.evaluate(() => 6 * 7), 42);
  await page.locator("details.console summary").click();
  assert.match(await page.locator("details.console").innerText(), /stopped responding/);
  await overlay.getByRole("button", { name: "Restart the client" }).click();
  await waitForScreen(page, "ready: ada (loop)");
});

test("stdout, stderr and log lines reach the page's console", async () => {
  const page = await newPage(browser);
  await join(page, server, "bad", "talk", "ada");
  await waitForScreen(page, "ready");
  await page.keyboard.press("e");
  const console = page.locator("details.console");
  await console.locator("summary").click();
  await console.getByText("error to stderr").waitFor();
  await console.getByText("info to stdout").waitFor();
  await console.getByText("warn to the log").waitFor();
});

test("a server going away is shown as reconnecting, and the page comes back by itself", async () => {
  const page = await newPage(browser);
  await join(page, server, "chat", "drop", "ada");
  await waitForScreen(page, "connected");
  const port = new URL(server.url).port;
  await server.stop();
  const overlay = page.getByRole("alertdialog", { name: "Reconnecting…" });
  await overlay.waitFor();
  assert.match(await overlay.innerText(), /attempt \d+ of 10/);
  await page.locator(".status.reconnecting").waitFor();
  // The console keeps why: the server said it was shutting down.
  await page.locator(".console li", { hasText: "disconnected: the server is shutting down" }).waitFor({ state: "attached" });
  await screenshot(page, "reconnecting");

  server = await Server.start({ data: server.data, listen: `127.0.0.1:${port}` });
  await page.locator(".status.connected").waitFor({ timeout: 20_000 });
  assert.equal(await page.getByRole("alertdialog").count(), 0);
  await page.locator(".terminal").focus();
  await page.keyboard.type("back again");
  await page.keyboard.press("Enter");
  await waitForScreen(page, "ada: back again");
});

test("a client importing an interface version the page doesn't provide is stopped, naming it", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  // As a part built for a newer client world than this page's would list them.
  await page.route("**/api/apps/chat", async (route) => {
    const response = await route.fetch();
    const app = await response.json();
    for (const part of app.versions.flatMap((v) => v.parts)) {
      if (part.role === "client") part.imports.push("lodge:app/hologram@0.2.0", "lodge:app/terminal@0.2.0");
    }
    await route.fulfill({ response, json: app });
  });
  await join(page, server, "chat", "newer", "ada");
  const overlay = page.getByRole("alertdialog", { name: "The client could not start" });
  await overlay.waitFor();
  const text = await overlay.innerText();
  assert.match(text, /it imports lodge:app\/hologram@0\.2\.0, which this page does not provide/);
  assert.match(text, /it imports lodge:app\/terminal@0\.2\.0, but this page provides lodge:app\/terminal only in version 0\.1\.x/);
  await screenshot(page, "fault-unknown-import");
  // Nothing of the client ran: its screen stayed empty.
  assert.equal((await page.locator(".terminal").innerText()).trim(), "");
  assert.deepEqual(errors, []);
});
