// The game examples in the browser: two pages play the snake arena
// (examples/snake: an authoritative room, an interpolating client), and the
// aquarium (examples/aquarium) shows its sprites and plays its music, all
// from bundled assets. Pixels are read back from the screen's canvas.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Server, launch, newPage, readScreen, screenshot } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.push("examples/snake");
  server.push("examples/aquarium");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

const near = ([r, g, b], [r2, g2, b2], tolerance = 16) =>
  Math.abs(r - r2) <= tolerance && Math.abs(g - g2) <= tolerance && Math.abs(b - b2) <= tolerance;

/** The bounding box of the pixels near `colour` on a screen `width`×`height`, or null. */
function boxOf(shot, width, height, colour) {
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!near(shot.pixel(x, y), colour)) continue;
      [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
    }
  }
  return right < 0 ? null : { left, top, right, bottom };
}

async function until(page, what, check, { width, height }, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last = null;
  while (Date.now() < deadline) {
    last = check(await readScreen(page, { width, height }));
    if (last) return last;
    await page.waitForTimeout(50);
  }
  await screenshot(page, `examples-${what.replaceAll(" ", "-")}`);
  throw new Error(`the screen never showed ${what}`);
}

/** A snake's box: its colour in the arena, leaving out the score list (top right, in the same colours). */
function snakeBox(shot, colour) {
  const arena = { pixel: (x, y) => (x >= 225 && y < 70 ? [0, 0, 0] : shot.pixel(x, y)) };
  return boxOf(arena, 320, 180, colour);
}

// The first two snake colours (examples/snake/client).
const FIRST = [90, 220, 110];
const SECOND = [90, 170, 255];
const ARENA = { width: 320, height: 180 };

test("two pages play the snake arena: each sees both snakes, and a turn reaches the room", async () => {
  const errors = [];
  const pages = [await newPage(browser, errors), await newPage(browser, errors)];
  for (const [page, name] of [[pages[0], "ada"], [pages[1], "bob"]]) {
    await page.goto(`${server.url}/play/snake/final`);
    await page.getByLabel("Your name").fill(name);
    await page.getByRole("button", { name: "Join" }).click();
    await page.locator(".status.connected").waitFor();
  }
  // Both snakes, on both pages.
  for (const page of pages) {
    await until(page, "both snakes", (s) => snakeBox(s, FIRST) && snakeBox(s, SECOND), ARENA);
  }
  await screenshot(pages[1], "snake");

  // ada's snake heads right; she turns it up or down, away from the nearer
  // edge. (Snakes can crash and come back elsewhere: a few tries.)
  const ada = pages[0];
  await ada.locator(".screen canvas").focus();
  let turned = false;
  for (let attempt = 0; attempt < 4 && !turned; attempt++) {
    const before = await until(ada, "ada's snake", (s) => snakeBox(s, FIRST), ARENA);
    const down = before.top < 90;
    await ada.keyboard.press(down ? "ArrowDown" : "ArrowUp");
    turned = await until(ada, "ada's snake turning", (s) => {
      const now = snakeBox(s, FIRST);
      return now && (down ? now.bottom >= before.bottom + 5 : now.top <= before.top - 5);
    }, ARENA, 2_000).catch(() => false);
  }
  assert.ok(turned, "ada's turn reached the room and came back in the arena");
  assert.deepEqual(errors, []);
});

test("the aquarium draws its sprites and plays its music from bundled assets", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await page.goto(`${server.url}/play/aquarium`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Play" }).click();
  await page.locator(".screen canvas").waitFor();
  // The fish of the sprite sheet (assets/make-assets.py): orange, blue, pink.
  for (const [what, colour] of [["an orange fish", [255, 140, 0]], ["a blue fish", [80, 160, 255]], ["a pink fish", [240, 80, 160]]]) {
    await until(page, what, (s) => boxOf(s, 320, 180, colour), ARENA);
  }
  // The music: the mixer's sample bus is playing and not silent.
  await page.locator(".audio-stats").waitFor({ state: "attached" });
  const deadline = Date.now() + 15_000;
  let stats = null;
  while (Date.now() < deadline) {
    stats = JSON.parse((await page.locator(".audio-stats").getAttribute("data-stats")) ?? "null");
    if (stats?.playing?.samples > 0 && stats.samples.peak > 0.01) break;
    await page.waitForTimeout(200);
  }
  assert.ok(stats?.playing?.samples > 0 && stats.samples.peak > 0.01, `the music plays: ${JSON.stringify(stats)}`);
  // Clicks drop food where they land (the fish soon eat it, so three).
  const box = await page.locator(".screen canvas").boundingBox();
  for (const x of [0.2, 0.5, 0.8]) await page.mouse.click(box.x + box.width * x, box.y + box.height / 6);
  await until(page, "a flake of food", (s) => boxOf(s, 320, 180, [200, 150, 60], 10), ARENA);
  await screenshot(page, "aquarium");
  assert.deepEqual(errors, []);
});
