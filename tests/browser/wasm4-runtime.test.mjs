// The WASM-4 console of the page (crates/server/ui/wasm4) without a
// browser: the cartridge built from tests/guests/wasm4-cart runs in it,
// and what it draws, traces, plays and saves is read back.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { ROOT } from "./support.mjs";
import { Wasm4 } from "../../crates/server/ui/wasm4/runtime.js";
import { toneCommand } from "../../crates/server/ui/wasm4/sound.js";

const CART = joinPath(ROOT, "tests/guests/target/wasm32-unknown-unknown/release/wasm4_cart.wasm");
const RED = [255, 0, 0, 255];
const GREEN = [0, 255, 0, 255];
const BLUE = [0, 0, 255, 255];
const BLACK = [0, 0, 0, 255];
const NO_INPUT = { gamepads: [0, 0, 0, 0], mouse: { x: 0, y: 0, buttons: 0 } };

async function boot(disk) {
  const events = { traces: [], tones: [], saved: null };
  const console4 = new Wasm4({
    disk,
    trace: (text) => events.traces.push(text),
    tone: (command) => events.tones.push(command),
    saveDisk: (bytes) => (events.saved = bytes),
  });
  await console4.start(await WebAssembly.compile(readFileSync(CART)));
  return { console4, events };
}

const at = (pixels, x, y) => Array.from(pixels.subarray((y * 160 + x) * 4, (y * 160 + x) * 4 + 4));

test("the cartridge's drawing lands on the screen in its palette", async () => {
  const { console4, events } = await boot();
  assert.deepEqual(events.traces, ["cart started, run 1"]);
  console4.update(NO_INPUT);
  const pixels = console4.pixels();
  assert.deepEqual(at(pixels, 0, 0), RED, "written into the framebuffer directly");
  assert.deepEqual(at(pixels, 9, 9), RED);
  assert.deepEqual(at(pixels, 10, 10), BLACK);
  assert.deepEqual(at(pixels, 25, 5), GREEN, "rect: filled with draw colour 1");
  assert.deepEqual(at(pixels, 20, 0), BLUE, "rect: outlined with draw colour 2");
  assert.deepEqual(at(pixels, 39, 9), BLUE);
  assert.deepEqual(at(pixels, 60, 5), BLUE, "oval: its middle");
  assert.deepEqual(at(pixels, 50, 0), BLACK, "oval: not its bounding box's corner");
  assert.deepEqual(at(pixels, 100, 20), RED, "line");
  assert.deepEqual(at(pixels, 100, 22), RED, "hline");
  assert.deepEqual(at(pixels, 80, 30), RED, "vline");
  // The arrow's top row has one pixel, left of the middle; flipped, right of it.
  assert.deepEqual(at(pixels, 3, 30), RED, "blit: a 1 bit in draw colour 2");
  assert.deepEqual(at(pixels, 4, 30), BLACK, "blit: 0 bits transparent (draw colour 1 is 0)");
  assert.deepEqual(at(pixels, 14, 30), RED, "blit with FLIP_X");
  assert.deepEqual(at(pixels, 13, 30), BLACK);
  assert.deepEqual(at(pixels, 1, 52), GREEN, "text: the r of \"runs\" in draw colour 1");
  assert.deepEqual(at(pixels, 2, 52), BLACK, "text: its background transparent (draw colour 2 is 0)");
  assert.deepEqual(at(pixels, 76, 100), BLUE, "the box at its start");
});

test("gamepad 1 moves the box, button 1 plays a tone, and the disk counts runs", async () => {
  const { console4, events } = await boot(new Uint8Array([41, 0, 0, 0]));
  assert.deepEqual(Array.from(events.saved), [42, 0, 0, 0], "the run count, read and written back");
  for (let i = 0; i < 10; i++) console4.update({ ...NO_INPUT, gamepads: [32, 0, 0, 0] }); // right
  assert.deepEqual(at(console4.pixels(), 86, 100), BLUE);
  assert.deepEqual(at(console4.pixels(), 76, 100), BLACK);
  console4.update({ ...NO_INPUT, gamepads: [1, 0, 0, 0] });
  console4.update({ ...NO_INPUT, gamepads: [1, 0, 0, 0] });
  assert.equal(events.tones.length, 1, "one tone per press, not per frame held");
  assert.deepEqual(events.tones[0], toneCommand(262 | (523 << 16), (4 << 24) | 30 | (10 << 8), 80, 0b1000));
  const { note } = events.tones[0];
  assert.equal(note.waveform, "pulse");
  assert.equal(note.duty, 0.5);
  assert.equal(note.frequency, 262);
  assert.equal(note.slideTo, 523);
  assert.equal(Math.round(note.envelope.attackMs), 67);
  assert.equal(Math.round(note.durationMs), 567);
});
