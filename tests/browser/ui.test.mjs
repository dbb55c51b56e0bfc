// The web UI: the app list, an app's page, uploading and deleting through
// the browser.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { LODGE, Server, TOKEN, appDir, guest, join as joinRoom, launch, newPage, screenshot, waitForScreen } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  for (const app of ["chat", "counter", "tic-tac-toe"]) server.push(`examples/${app}`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

test("the app list shows every pushed example with its description", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await page.goto(server.url);
  const apps = page.getByRole("list", { name: "Apps" });
  for (const [name, description] of [
    ["chat", "A chat room that remembers the last 50 messages."],
    ["counter", "One number, shared by every room of the app."],
    ["tic-tac-toe", "Two players, one board."],
  ]) {
    const card = apps.locator(`[data-app="${name}"]`);
    await card.getByRole("link", { name, exact: true }).waitFor();
    assert.match(await card.innerText(), new RegExp(description.replace(".", "\\.")));
    assert.match(await card.innerText(), /v0\.1\.0/);
  }
  await screenshot(page, "app-list");
  // Narrow windows get one column, still usable.
  await page.setViewportSize({ width: 380, height: 800 });
  await screenshot(page, "app-list-narrow");
  assert.deepEqual(errors, []);
});

test("a bundle uploaded through the page with an API token is published, asking for the token once", async () => {
  const dir = appDir(`[app]
name = "uploaded"
version = "1.0.0"
description = "Arrived through the browser."

[client]
component = "${guest("bad_client")}"
`);
  const bundle = join(dir, "uploaded.tar.gz");
  execFileSync(LODGE, ["app", "pack", dir, "--output", bundle]);

  const page = await newPage(browser);
  await page.goto(server.url);
  await page.locator("#bundle").setInputFiles(bundle);
  // Signed out, the page offers to sign in; a token is the other way.
  await page.getByRole("dialog", { name: "Sign in" }).getByRole("button", { name: "Use an API token" }).click();
  const dialog = page.getByRole("dialog", { name: "API token" });
  await dialog.getByLabel("Token").fill(TOKEN);
  await dialog.getByRole("button", { name: "Save" }).click();
  await page.getByText("uploaded@1.0.0 published").waitFor();
  await page.locator('[data-app="uploaded"]').waitFor();
  await screenshot(page, "uploaded");
  assert.match(server.lodge("app", "ls"), /uploaded\s+1\.0\.0/);

  // The token is kept: a second upload (identical) asks for nothing.
  await page.locator("#bundle").setInputFiles(bundle);
  await page.getByText("uploaded@1.0.0 was already published").waitFor();
  assert.equal(await page.getByRole("dialog").count(), 0);
});

test("a refused upload says why, and stores nothing", async () => {
  const dir = appDir(`[app]
name = "broken"
version = "1.0.0"
description = "A room part that isn't one."

[room]
component = "${guest("bad_client")}"
`);
  const bundle = join(dir, "broken.tar.gz");
  execFileSync(LODGE, ["app", "pack", dir, "--output", bundle]);
  const page = await newPage(browser);
  await page.goto(server.url);
  await page.evaluate((token) => localStorage.setItem("lodge.token", token), TOKEN);
  await page.locator("#bundle").setInputFiles(bundle);
  const alert = page.getByRole("alert").filter({ hasText: "Upload refused" });
  await alert.waitFor();
  assert.match(await alert.innerText(), /room\.wasm .*(imports|does not export) lodge:app\//);
  assert.doesNotMatch(server.lodge("app", "ls"), /broken/);
});

test("an app's page shows versions, parts and sizes, and deletes a version", async () => {
  const dir = appDir(`[app]
name = "versions"
version = "1.0.0"
description = "Two versions."

[client]
component = "${guest("bad_client")}"
`);
  server.lodge("app", "push", dir);
  execFileSync("sed", ["-i", "s/1.0.0/1.1.0/", join(dir, "lodge.toml")]);
  server.lodge("app", "push", dir);

  const page = await newPage(browser);
  await page.goto(`${server.url}/app/versions`);
  await page.evaluate((token) => localStorage.setItem("lodge.token", token), TOKEN);
  const table = page.getByRole("table");
  await table.getByText("1.1.0").waitFor();
  const text = await table.innerText();
  assert.match(text, /1\.1\.0\s*latest/);
  assert.match(text, /1\.0\.0/);
  assert.match(text, /client \d+\.\d KiB [0-9a-f]{12}/);
  await screenshot(page, "app-page");

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete version 1.0.0" }).click();
  await page.getByRole("button", { name: "Delete version 1.1.0" }).waitFor();
  await page.waitForFunction(() => !document.body.innerText.includes("Delete version 1.0.0"));
  assert.doesNotMatch(server.lodge("app", "show", "versions"), /1\.0\.0/);

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: /Delete versions and all its versions/ }).click();
  await page.getByRole("heading", { name: "Apps" }).waitFor();
  assert.doesNotMatch(server.lodge("app", "ls"), /versions/);
});

test("the play form opens the shared runner link for the chosen room", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await page.goto(`${server.url}/app/counter`);
  const form = page.getByRole("form", { name: "Play counter" });
  await form.getByLabel("Room").fill("den");
  await form.getByLabel("Your name").fill("grace");
  await form.getByRole("button", { name: "Play" }).click();
  await page.waitForURL(/\/play\/counter\/den$/);
  await page.locator(".status.connected").waitFor();
  // While grace plays, counter's rooms are unlisted: a visitor is told, and
  // sees none of them.
  const visitor = await newPage(browser, errors);
  await visitor.goto(`${server.url}/app/counter`);
  await visitor.getByText("This app's rooms are unlisted").waitFor();
  assert.doesNotMatch(await visitor.locator("main").innerText(), /\bden\b/);
  // The token's holder sees every room.
  await visitor.evaluate((token) => localStorage.setItem("lodge.token", token), TOKEN);
  await visitor.reload();
  await visitor.getByRole("table", { name: "Live rooms" }).locator('tr[data-room="den"]').waitFor();
  assert.deepEqual(errors, []);
});

test("a public app's rooms are listed to everyone", async () => {
  const page = await newPage(browser);
  await joinRoom(page, server, "chat", "porch", "hal");
  const visitor = await newPage(browser);
  await visitor.goto(`${server.url}/app/chat`);
  await visitor.getByRole("table", { name: "Live rooms" }).locator('tr[data-room="porch"]').waitFor();
  assert.doesNotMatch(await visitor.locator("main").innerText(), /unlisted/);
});

test("a room made on the app's page opens in its lobby, and appears live on another visitor's page", async () => {
  const errors = [];
  const visitor = await newPage(browser, errors);
  await visitor.goto(`${server.url}/app/tic-tac-toe`);
  const table = visitor.getByRole("table", { name: "Live rooms" });
  const page = await newPage(browser, errors);
  await page.goto(`${server.url}/app/tic-tac-toe`);
  await page.getByText("Create a room").click();
  const form = page.getByRole("form", { name: "Create a room" });
  await form.getByLabel("Name (optional)").fill("made");
  await form.getByLabel("Starts").selectOption("lobby");
  await form.getByRole("button", { name: "Create and join" }).click();
  await page.waitForURL(/\/play\/tic-tac-toe\/made$/);
  // The app page (with its own name field) stays until the runner is ready.
  await page.getByRole("heading", { name: "Join made in tic-tac-toe" }).waitFor();
  await page.getByLabel("Your name").fill("maker");
  await page.getByRole("button", { name: "Join" }).click();
  await page.getByRole("region", { name: "Room" }).getByText("Waiting to start").waitFor();
  // The visitor's page was not reloaded: the room arrived on the live list,
  // with its phase and players.
  const row = table.locator('tr[data-room="made"]');
  await row.getByText("waiting to start").waitFor();
  await row.getByText("1/2").waitFor();
  await screenshot(visitor, "app-page-live-rooms");
  // Watch: the visitor joins as a spectator.
  await row.getByRole("link", { name: "Watch" }).click();
  await visitor.waitForURL(/spectate=1$/);
  await visitor.getByRole("heading", { name: "Join made in tic-tac-toe" }).waitFor();
  await visitor.getByLabel("Your name").fill("fan");
  await visitor.getByRole("button", { name: "Join" }).click();
  await waitForScreen(visitor, "You are fan (watching)");
  await visitor.getByRole("region", { name: "Room" }).getByText("watching").first().waitFor();
  assert.deepEqual(errors, []);
});

test("pages carry a content security policy they work under, and refuse to be framed", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  const response = await page.goto(`${server.url}/app/chat`);
  const headers = response.headers();
  assert.match(headers["content-security-policy"], /script-src 'self';/);
  assert.match(headers["content-security-policy"], /frame-ancestors 'none'/);
  assert.doesNotMatch(headers["content-security-policy"], /unsafe-inline/);
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  // The page and a client part in its Worker run under it.
  await page.getByRole("heading", { name: "Versions" }).waitFor();
  await joinRoom(page, server, "chat", "csp", "ida");
  await page.keyboard.type("under policy");
  await page.keyboard.press("Enter");
  await waitForScreen(page, "ida: under policy");
  assert.deepEqual(errors, []);

  // Another site framing the UI gets an error page instead.
  const framer = await newPage(browser);
  await framer.setContent(`<iframe src="${server.url}/" title="lodge"></iframe>`);
  await framer.waitForTimeout(500);
  const frame = framer.frames().find((f) => f !== framer.mainFrame());
  assert.ok(frame, "the iframe exists");
  assert.doesNotMatch(await frame.content().catch(() => ""), /Apps/);
});

test("an app's http part opens from its card", async () => {
  const page = await newPage(browser);
  await page.goto(server.url);
  await page.locator('[data-app="tic-tac-toe"]').getByRole("link", { name: "Open tic-tac-toe's HTTP part" }).click();
  await page.waitForURL(/\/run\/tic-tac-toe\/$/);
  assert.deepEqual(JSON.parse(await page.locator("body").innerText()), { games: 0, players: [] });
});

test("pages show no stray text where a part is missing", async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/app/chat`);
  await page.getByRole("heading", { name: "Versions" }).waitFor();
  assert.doesNotMatch(await page.locator("main").innerText(), /\bnull\b|\bundefined\b/);
});
