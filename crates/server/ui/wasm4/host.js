// A WASM-4 cartridge as a client part, in the client's Worker: the console
// (runtime.js) runs its `update` once per frame of the Worker's frame loop
// (at most 60 a second, as WASM-4 does), and its screen goes to the same
// pixel screen host module `screen` clients draw with (caps/screen.js, the
// page's renderers/screen.js). Gamepads, the keyboard (WASM-4's own keys)
// and the mouse come from the input snapshot; tones go to the page's sound
// mixer; the disk is kept by the page, per app.

import screenModule from "../caps/screen.js";
import { SIZE } from "./draw.js";
import { Wasm4 } from "./runtime.js";

const BUTTON_1 = 1;
const BUTTON_2 = 2;
const LEFT = 16;
const RIGHT = 32;
const UP = 64;
const DOWN = 128;

/** WASM-4's keyboard for player 1: X, V, Space or . for button 1; Z, C, N or , for button 2; arrows. */
const KEYS = {
  KeyX: BUTTON_1, KeyV: BUTTON_1, Space: BUTTON_1, Period: BUTTON_1,
  KeyZ: BUTTON_2, KeyC: BUTTON_2, KeyN: BUTTON_2, Comma: BUTTON_2,
  ArrowLeft: LEFT, ArrowRight: RIGHT, ArrowUp: UP, ArrowDown: DOWN,
};

/** Standard-mapping buttons (bit numbers) as WASM-4 gamepad bits. */
const PAD = [[0, BUTTON_1], [1, BUTTON_2], [12, UP], [13, DOWN], [14, LEFT], [15, RIGHT]];
const STICK = 0.5;

/** A WIT gamepad record (caps/input.js) as a WASM-4 gamepad byte. */
function padByte(pad) {
  if (!pad.connected) return 0;
  let byte = 0;
  for (const [bit, flag] of PAD) if (pad.buttons & (1 << bit)) byte |= flag;
  const [x, y] = pad.leftStick;
  if (x < -STICK) byte |= LEFT;
  if (x > STICK) byte |= RIGHT;
  if (y < -STICK) byte |= UP;
  if (y > STICK) byte |= DOWN;
  return byte;
}

/** The input snapshot as WASM-4 sees it: four gamepad bytes and the mouse. */
export function wasm4Input({ gamepads, keys, pointer }) {
  const bytes = gamepads.map(padByte);
  for (const code of keys) bytes[0] |= KEYS[code] ?? 0;
  return {
    gamepads: bytes,
    mouse: {
      x: Math.max(-32768, Math.min(32767, pointer.x)),
      y: Math.max(-32768, Math.min(32767, pointer.y)),
      buttons: pointer.buttons & 7,
    },
  };
}

/** WASM-4's frame: `update` runs 60 times a second, whatever the display's rate. */
const UPDATE_MS = 1000 / 60;
/** How early a display frame may come and still run the next update (jitter). */
const EARLY_MS = 2;

export class Cartridge {
  /**
   * @param host  the Worker's host object for modules ({start, post, log, audio, part})
   */
  constructor(host) {
    this.screenHost = screenModule.create(host);
    this.present = this.screenHost.imports["lodge:app/screen"].present;
    this.pixels = new Uint8ClampedArray(SIZE * SIZE * 4);
    this.bytes = new Uint8Array(this.pixels.buffer);
    this.lastUpdate = -Infinity;
    this.console = new Wasm4({
      disk: host.part.disk ? new Uint8Array(host.part.disk) : undefined,
      trace: (text) => host.log("info", text),
      tone: (command) => host.audio?.post(command),
      saveDisk: (bytes) => host.post({ type: "wasm4-disk", bytes: Array.from(bytes) }),
    });
    this.screenHost.imports["lodge:app/screen"].setMode({ width: SIZE, height: SIZE, format: "rgba8" });
  }

  /** Hooks the Worker calls like a host module's (flush the screen, dispose). */
  get hooks() {
    return this.screenHost;
  }

  /** Compiles and starts the cartridge: WASM-4's `start` runs here. */
  async start(url) {
    const module = await WebAssembly.compileStreaming(fetch(url));
    await this.console.start(module);
  }

  /** One event from the Worker: frames run `update`; input was already observed. */
  handle(event) {
    if (event.tag !== "frame") return;
    const { timeMs, input } = event.val;
    if (timeMs - this.lastUpdate < UPDATE_MS - EARLY_MS) return;
    // The update's slot on a 60 Hz clock, so a 90 or 144 Hz display still
    // runs 60 updates a second; after a stall, the clock starts again.
    this.lastUpdate = Math.max(this.lastUpdate + UPDATE_MS, timeMs - UPDATE_MS);
    this.console.update(wasm4Input(input));
    this.console.pixels(this.pixels);
    this.present(this.bytes, undefined);
  }
}
