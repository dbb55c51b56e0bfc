// The game in sdk/rust-client/README.md ("catch the falling stars"), built
// from tests/guests/readme-game, played in the browser on the pixel screen:
// the basket follows the arrow keys, stars fall, three missed end the game
// and Enter starts a new one. Pixels are read back from a screenshot of the
// screen's canvas.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { ROOT, Server, appDir, guest, launch, newPage, screenshot } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

// The game's colours (screen::colours in the SDK).
const NAVY = [0x14, 0x1a, 0x33];
const ORANGE = [0xf0, 0x8a, 0x24];
const YELLOW = [0xf5, 0xd4, 0x42];
const BLACK = [0, 0, 0];
// The game's screen is 160×120.
const WIDTH = 160;
const HEIGHT = 120;

const near = (data, i, [r, g, b]) =>
  Math.abs(data[i] - r) <= 12 && Math.abs(data[i + 1] - g) <= 12 && Math.abs(data[i + 2] - b) <= 12;

/** The canvas as pixels: a screenshot decoded in the page. */
async function pixels(page) {
  const png = await page.locator("canvas").first().screenshot();
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    return { width: image.width, height: image.height, data: Array.from(data) };
  }, png.toString("base64"));
}

/**
 * Where the game's screen is inside the canvas (letterboxed): the bounding
 * box of the night sky's colour.
 */
function sky({ width, height, data }) {
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!near(data, (y * width + x) * 4, NAVY)) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The colour at game pixel (x, y), read from the middle of its on-screen square. */
function at(shot, box, x, y) {
  const px = Math.floor(box.left + ((x + 0.5) * box.width) / WIDTH);
  const py = Math.floor(box.top + ((y + 0.5) * box.height) / HEIGHT);
  return (py * shot.width + px) * 4;
}

/** The basket's centre as a fraction of the screen's width (null if not seen). */
async function basket(page) {
  const shot = await pixels(page);
  const box = sky(shot);
  assert.ok(box, "the night sky is on the canvas");
  let [sum, count] = [0, 0];
  for (let y = 106; y < 113; y++) {
    for (let x = 0; x < WIDTH; x++) {
      if (near(shot.data, at(shot, box, x, y), ORANGE)) {
        sum += x;
        count++;
      }
    }
  }
  return count ? (sum / count + 0.5) / WIDTH : null;
}

/** Polls `check(shot, box)` on fresh screenshots until it is true. */
async function until(page, what, check, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const shot = await pixels(page);
    const box = sky(shot);
    if (box && check(shot, box)) return;
    await page.waitForTimeout(100);
  }
  await screenshot(page, `readme-game-${what.replaceAll(" ", "-")}`);
  throw new Error(`the game never showed ${what}`);
}

test("the game in the SDK README plays as written: keys move the basket, stars fall, the game ends and restarts", async () => {
  const readme = readFileSync(joinPath(ROOT, "sdk/rust-client/README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## A complete game"));
  const example = section.split("```rust\n")[1].split("```")[0];
  const source = readFileSync(joinPath(ROOT, "tests/guests/readme-game/src/lib.rs"), "utf8");
  assert.equal(example, source, "tests/guests/readme-game must be the README's game");

  server.lodge("app", "push", appDir(`[app]
name = "stars"
version = "0.1.0"
description = "Catch the falling stars."

[client]
component = "${guest("readme_game")}"
capabilities = ["screen", "gamepad", "audio"]
`));
  const errors = [];
  const page = await newPage(browser, errors);
  await page.goto(`${server.url}/play/stars`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Play" }).click();
  await page.locator("canvas").first().waitFor();
  await until(page, "the sky", () => true);

  const start = await basket(page);
  assert.ok(start > 0.4 && start < 0.6, `the basket starts in the middle (${start})`);
  await page.locator("canvas").first().focus();

  await page.keyboard.down("ArrowRight");
  await page.waitForTimeout(1500);
  await page.keyboard.up("ArrowRight");
  const right = await basket(page);
  assert.ok(right > 0.85, `ArrowRight moves the basket to the right edge (${right})`);

  await page.keyboard.down("ArrowLeft");
  await page.waitForTimeout(2500);
  await page.keyboard.up("ArrowLeft");
  const left = await basket(page);
  assert.ok(left < 0.15, `ArrowLeft moves it to the left edge (${left})`);

  await until(page, "a falling star", (shot, box) => {
    for (let y = 12; y < 100; y++) {
      for (let x = 0; x < WIDTH; x++) if (near(shot.data, at(shot, box, x, y), YELLOW)) return true;
    }
    return false;
  });

  // Stars fall everywhere; with the basket in a corner three are missed soon.
  const gameOver = (shot, box) => near(shot.data, at(shot, box, 23, 57), BLACK);
  await until(page, "game over", gameOver, 60_000);
  await screenshot(page, "readme-game-over");
  await page.keyboard.press("Enter");
  await until(page, "a new game", (shot, box) => !gameOver(shot, box));
  assert.deepEqual(errors, []);
});
