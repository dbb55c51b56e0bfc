// The game in sdk/rust-client/README.md ("catch the falling stars"), built
// from tests/guests/readme-game, played in the browser on the pixel screen:
// the basket follows the arrow keys, stars fall, three missed end the game
// and Enter starts a new one. Pixels are read back from a screenshot of the
// screen's canvas.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { ROOT, Server, appDir, guest, launch, newPage, readScreen, screenshot } from "./support.mjs";

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

const near = ([r, g, b], [r2, g2, b2]) => Math.abs(r - r2) <= 12 && Math.abs(g - g2) <= 12 && Math.abs(b - b2) <= 12;

/** The game's screen, pixel by pixel, read back from the canvas. */
const read = (page) => readScreen(page, { width: WIDTH, height: HEIGHT });

/** The basket's centre as a fraction of the screen's width (null if not seen). */
async function basket(page) {
  const shot = await read(page);
  let [sum, count] = [0, 0];
  for (let y = 106; y < 113; y++) {
    for (let x = 0; x < WIDTH; x++) {
      if (near(shot.pixel(x, y), ORANGE)) {
        sum += x;
        count++;
      }
    }
  }
  return count ? (sum / count + 0.5) / WIDTH : null;
}

/** Polls `check(shot)` on fresh readings until it is true. */
async function until(page, what, check, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (check(await read(page))) return;
    await page.waitForTimeout(50);
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
  await page.locator(".screen canvas").waitFor();
  await until(page, "the night sky", (shot) => near(shot.pixel(80, 60), NAVY) || near(shot.pixel(1, 60), NAVY));

  const start = await basket(page);
  assert.ok(start > 0.4 && start < 0.6, `the basket starts in the middle (${start})`);
  await page.locator(".screen canvas").focus();

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

  await until(page, "a falling star", (shot) => {
    for (let y = 12; y < 100; y++) {
      for (let x = 0; x < WIDTH; x++) if (near(shot.pixel(x, y), YELLOW)) return true;
    }
    return false;
  });

  // Stars fall everywhere; with the basket in a corner three are missed soon.
  const gameOver = (shot) => near(shot.pixel(23, 57), BLACK);
  await until(page, "game over", gameOver, 60_000);
  await screenshot(page, "readme-game-over");
  await page.keyboard.press("Enter");
  await until(page, "a new game", (shot) => !gameOver(shot));
  assert.deepEqual(errors, []);
});
