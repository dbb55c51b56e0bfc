// lodge:app/input in the Worker: the input snapshot each frame event
// carries, kept from what the page sends (key and pointer events as they
// pass, gamepads the page polls), with the keyboard standing in for
// gamepad 1 when the client declares `gamepad`.
//
// The interface itself has only types; the `gamepad` capability has no
// interface at all: its module is here so a declaration of it is known.

/** Keys held that a snapshot lists, at most. */
export const MAX_KEYS = 16;
export const GAMEPAD_SLOTS = 4;

/** Standard-mapping button numbers. */
const BUTTON = { a: 0, b: 1, x: 2, y: 3, select: 8, start: 9, up: 12, down: 13, left: 14, right: 15 };

/**
 * The keyboard as gamepad 1. A and S are face buttons beside the arrows
 * (Z X A S) but left and down among W A S D (with J K U I as face buttons):
 * which they are follows the last direction key pressed, arrows or W/D.
 */
const ALWAYS = {
  ArrowUp: BUTTON.up, ArrowDown: BUTTON.down, ArrowLeft: BUTTON.left, ArrowRight: BUTTON.right,
  KeyW: BUTTON.up, KeyD: BUTTON.right,
  KeyZ: BUTTON.a, KeyJ: BUTTON.a, KeyX: BUTTON.b, KeyK: BUTTON.b,
  KeyU: BUTTON.x, KeyI: BUTTON.y,
  Enter: BUTTON.start, ShiftLeft: BUTTON.select, ShiftRight: BUTTON.select,
};
const BESIDE_ARROWS = { KeyA: BUTTON.x, KeyS: BUTTON.y };
const AMONG_WASD = { KeyA: BUTTON.left, KeyS: BUTTON.down };

/** The keyboard mapping shown on the play page. */
export const KEYBOARD_PAD_HELP = "Keyboard as gamepad 1: arrows with Z X A S (A B X Y), or W A S D with J K U I; Enter start, Shift select";

const disconnected = () => ({ connected: false, buttons: 0, leftStick: [0, 0], rightStick: [0, 0], triggers: [0, 0] });

/** What the page polled (renderers and runner.js) as a WIT gamepad record. */
function gamepad(pad) {
  if (!pad?.connected) return disconnected();
  return {
    connected: true,
    buttons: pad.buttons >>> 0,
    leftStick: [pad.axes[0] ?? 0, pad.axes[1] ?? 0],
    rightStick: [pad.axes[2] ?? 0, pad.axes[3] ?? 0],
    triggers: [pad.triggers[0] ?? 0, pad.triggers[1] ?? 0],
  };
}

/** The input state of one client, and its snapshot for a frame event. */
export class InputState {
  /**
   * @param {{gamepad: boolean, keyboard?: boolean}} options  whether the
   *   client declared `gamepad`, and whether the keyboard stands in for pad 1
   *   (not for a WASM-4 cartridge, which reads keys its own way)
   */
  constructor({ gamepad, keyboard = true }) {
    this.gamepad = gamepad;
    this.keyboard = keyboard;
    this.keys = new Set();
    /** Keys and pointer buttons that went down since the last snapshot, so a tap between two frames is seen. */
    this.tapped = new Set();
    this.clicked = 0;
    this.pads = [];
    this.pointer = { x: 0, y: 0, buttons: 0, inside: false };
    this.arrows = true;
  }

  /** Follows the page's events (as the page sends them, before any version's shapes). */
  observe(event) {
    if (event.tag === "key-down") {
      const { code } = event.val;
      if (code.startsWith("Arrow")) this.arrows = true;
      else if (code === "KeyW" || code === "KeyD") this.arrows = false;
      if (this.keys.size < MAX_KEYS || this.keys.has(code)) this.keys.add(code);
      this.tapped.add(code);
    } else if (event.tag === "key-up") {
      this.keys.delete(event.val.code);
    } else if (event.tag === "pointer" || event.tag === "pointer-state") {
      const { x, y, buttons, inside } = event.val;
      this.clicked |= buttons & ~this.pointer.buttons;
      this.pointer = { x, y, buttons, inside };
    }
  }

  /** The page's gamepad poll: [{connected, buttons, axes, triggers}] (runner.js). */
  update({ gamepads }) {
    if (gamepads) this.pads = gamepads;
  }

  /**
   * The WIT snapshot record: what is held now, and what went down since
   * the last snapshot even if it already came up.
   */
  snapshot() {
    const keys = new Set([...this.keys, ...[...this.tapped].slice(0, MAX_KEYS)]);
    const pointer = { ...this.pointer, buttons: this.pointer.buttons | this.clicked };
    this.tapped.clear();
    this.clicked = 0;
    const gamepads = Array.from({ length: GAMEPAD_SLOTS }, (_, i) => (this.gamepad ? gamepad(this.pads[i]) : disconnected()));
    if (this.gamepad && this.keyboard) {
      const pad = gamepads[0];
      const extra = this.arrows ? BESIDE_ARROWS : AMONG_WASD;
      for (const code of keys) {
        const button = ALWAYS[code] ?? extra[code];
        if (button !== undefined) pad.buttons = (pad.buttons | (1 << button)) >>> 0;
      }
      // The keyboard is always there, so pad 1 always is.
      pad.connected = true;
    }
    return { gamepads, keys: [...keys].slice(0, MAX_KEYS), pointer };
  }
}

export default {
  name: "input",
  interfaces: ["lodge:app/input"],
  versions: ["0.2"],
  capability: "input",
  grantedByWorld: true,
  create: () => ({ imports: { "lodge:app/input": {} } }),
};

/** The `gamepad` capability: the page polls pads; nothing to import. */
export const gamepadModule = {
  name: "gamepad",
  interfaces: [],
  versions: ["0.2"],
  capability: "gamepad",
  create: () => ({ imports: {} }),
};
