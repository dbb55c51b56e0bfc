// A WASM-4 cartridge as a client part ([client] abi = "wasm4"), built from
// tests/guests/wasm4-cart, played in the browser: what it draws is read
// back from the canvas, the keyboard, a gamepad and the mouse reach it, its
// traces reach the console, and its disk is kept between visits.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { ROOT, Server, launch, newPage, readScreen, screenshot } from "./support.mjs";

const CART = joinPath(ROOT, "tests/guests/target/wasm32-unknown-unknown/release/wasm4_cart.wasm");
const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const BLUE = [0, 0, 255];
const BLACK = [0, 0, 0];

let server;
let browser;

before(async () => {
  server = await Server.start();
  const dir = mkdtempSync(joinPath(tmpdir(), "lodge-cart-"));
  writeFileSync(joinPath(dir, "lodge.toml"), `[app]
name = "cart"
version = "0.1.0"
description = "A WASM-4 cartridge."

[client]
component = "cart.wasm"
abi = "wasm4"
`);
  copyFileSync(CART, joinPath(dir, "cart.wasm"));
  server.lodge("app", "push", dir);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

const lines = (page) => page.locator("details.console li").allTextContents();

async function waitForLine(page, text, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if ((await lines(page)).some((line) => line.includes(text))) return;
    await page.waitForTimeout(30);
  }
  throw new Error(`the console never showed "${text}"; it shows:\n${(await lines(page)).join("\n")}`);
}

/** Polls the 160×160 screen until `check(screen)` holds. */
async function waitForScreen(page, what, check, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (check(await readScreen(page, { width: 160, height: 160 }))) return;
    await page.waitForTimeout(50);
  }
  await screenshot(page, `wasm4-${what.replaceAll(" ", "-")}`);
  throw new Error(`the screen never showed ${what}`);
}

const is = (screen, x, y, colour) => screen.pixel(x, y).every((v, i) => Math.abs(v - colour[i]) <= 8);

async function open(page) {
  await page.goto(`${server.url}/play/cart`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Play" }).click();
  await page.locator(".screen canvas").waitFor();
}

test("a WASM-4 cartridge draws with WASM-4's functions, on a crisp 160×160 screen", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await open(page);
  await waitForLine(page, "cart started, run 1");
  await waitForScreen(page, "the first frame", (s) => is(s, 0, 0, RED));
  const screen = await readScreen(page, { width: 160, height: 160 });
  const scale = screen.shotW / 160;
  assert.ok(scale >= 2 && Math.abs(scale - Math.round(scale)) < 0.01, `scaled by a whole multiple (${screen.shotW} px)`);
  assert.ok(Math.abs(screen.shotW - screen.shotH) <= 1, "square");
  for (const [x, y, colour, what] of [
    [9, 9, RED, "the framebuffer written directly"],
    [10, 10, BLACK, "cleared between frames"],
    [25, 5, GREEN, "rect's fill"],
    [20, 0, BLUE, "rect's outline"],
    [60, 5, BLUE, "oval"],
    [100, 20, RED, "line"],
    [80, 30, RED, "vline"],
    [3, 30, RED, "blit"],
    [14, 30, RED, "blit flipped"],
    [1, 52, GREEN, "text"],
    [76, 100, BLUE, "the box"],
  ]) {
    assert.ok(is(screen, x, y, colour), `${what}: (${x}, ${y}) is ${screen.pixel(x, y)}, not ${colour}`);
  }
  assert.ok(await page.getByText("X or Space for button 1").isVisible(), "the keys are shown");
  await screenshot(page, "wasm4");
  assert.deepEqual(errors, []);
});

test("the keyboard, a gamepad and the mouse reach the cartridge, and its disk is kept", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await page.addInitScript(() => {
    window.fakePads = [];
    Object.defineProperty(Navigator.prototype, "getGamepads", { value: () => window.fakePads, configurable: true });
  });
  await open(page);
  // Each test has its own browser context, so its own storage: run 1 again.
  await waitForLine(page, "cart started, run 1");
  await page.locator(".screen canvas").focus();

  // The box's left edge, on its middle row.
  const boxX = (s) => Array.from({ length: 160 }, (_, x) => x).find((x) => is(s, x, 103, BLUE));
  await page.keyboard.down("ArrowRight");
  await page.waitForTimeout(300);
  await page.keyboard.up("ArrowRight");
  await waitForScreen(page, "the box moved right", (s) => boxX(s) > 80);

  await page.keyboard.press("x");
  await waitForLine(page, "tone 1");

  // A standard-mapping pad with B (button 1) held: WASM-4's button 2.
  await page.evaluate(() => {
    const buttons = Array.from({ length: 17 }, (_, i) => ({ pressed: i === 1, value: i === 1 ? 1 : 0 }));
    window.fakePads = [{ connected: true, mapping: "standard", index: 0, buttons, axes: [0, 0, 0, 0] }];
  });
  await waitForScreen(page, "B drawn for button 2", (s) => is(s, 151, 150, GREEN));

  // A click on screen pixel (100, 120), at the middle of its square.
  const box = await page.locator(".screen canvas").boundingBox();
  await page.mouse.click(box.x + (100.5 * box.width) / 160, box.y + (120.5 * box.height) / 160);
  await waitForLine(page, "click 100 120");

  // The disk: the next visit is run 2.
  // (The runner's own page asks the name again on a reload.)
  await page.reload();
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Join" }).click();
  await waitForLine(page, "cart started, run 2");
  assert.deepEqual(errors, []);
});
