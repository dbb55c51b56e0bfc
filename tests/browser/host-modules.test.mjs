// The Worker's host modules (crates/server/ui/caps) without a browser: which
// modules a client part's imports choose, and what is refused with a reason.

import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseModules, HOST_MODULES, versionLine } from "../../crates/server/ui/caps/index.js";
import { ClientStop } from "../../crates/server/ui/caps/client-stop.js";

/** The imports of examples/chat's client part, as the API lists them. */
const CHAT_CLIENT = [
  "lodge:app/server@0.1.0",
  "lodge:app/terminal@0.1.0",
  "lodge:app/types@0.1.0",
  "wasi:cli/environment@0.2.6",
  "wasi:cli/exit@0.2.6",
  "wasi:cli/stderr@0.2.6",
  "wasi:io/streams@0.2.6",
];

const names = (modules) => modules.map((m) => m.name);

test("a part gets the modules of the interfaces it imports and no others", () => {
  assert.deepEqual(names(chooseModules(CHAT_CLIENT)), ["types", "terminal", "server", "wasi"]);
});

test("declared capabilities add their modules", () => {
  assert.deepEqual(names(chooseModules(CHAT_CLIENT, ["log", "timers"])), ["types", "terminal", "server", "timers", "log", "wasi"]);
});

test("a version line takes every patch release, and only that line", () => {
  assert.equal(versionLine("0.2.12"), "0.2");
  assert.equal(versionLine("1.4.0"), "1");
  assert.deepEqual(names(chooseModules(["wasi:io/poll@0.2.0"])), ["wasi"]);
  assert.deepEqual(names(chooseModules(["wasi:io/poll@0.2.12"])), ["wasi"]);
  assert.throws(() => chooseModules(["wasi:io/poll@0.3.0"]),
    { message: "it imports wasi:io/poll@0.3.0, but this page provides wasi:io/poll only in version 0.2.x" });
});

test("every import and capability without a module is named", () => {
  assert.throws(() => chooseModules([...CHAT_CLIENT, "lodge:app/hologram@0.2.0", "lodge:app/terminal@0.2.0", "wasi:io/poll"], ["hologram"]), {
    message: "it imports lodge:app/hologram@0.2.0, which this page does not provide; "
      + "it imports lodge:app/terminal@0.2.0, but this page provides lodge:app/terminal only in version 0.1.x; "
      + "it imports wasi:io/poll, but this page provides wasi:io/poll only in version 0.2.x; "
      + "it declares the \"hologram\" capability, which this page does not provide",
  });
});

test("a module outside the client world needs its capability declared", () => {
  const screen = { name: "screen", interfaces: ["lodge:app/screen"], versions: ["0.2"], capability: "screen", create() {} };
  const modules = [...HOST_MODULES, screen];
  assert.throws(() => chooseModules(["lodge:app/screen@0.2.0"], [], modules),
    { message: "it imports lodge:app/screen@0.2.0 without declaring the \"screen\" capability" });
  assert.deepEqual(names(chooseModules(["lodge:app/screen@0.2.0"], ["screen"], modules)), ["screen"]);
});

/** A host for one module: what it posts, logs and delivers is recorded. */
function fakeHost(start) {
  const host = { start, posted: [], logged: [], delivered: [] };
  host.post = (message) => host.posted.push(message);
  host.log = (level, message) => host.logged.push([level, message]);
  host.deliver = (event) => host.delivered.push(event);
  return host;
}

const create = (name, start) => {
  const host = fakeHost(start);
  return { host, module: HOST_MODULES.find((m) => m.name === name).create(host) };
};

test("timers come back as events, and stop with the client", async () => {
  const { host, module } = create("timers");
  const timers = module.imports["lodge:app/timers"];
  timers.set(1n, 7n);
  const cancelled = timers.set(1n, 8n);
  assert.equal(timers.cancel(cancelled), true);
  timers.set(5n, 9n);
  await new Promise((resolve) => setTimeout(resolve, 2));
  module.dispose();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(host.delivered, [{ tag: "timer", val: 7n }]);
});

test("the terminal batches a call's drawing into one message and follows resizes", () => {
  const { host, module } = create("terminal", { size: { cols: 30, rows: 10 } });
  const terminal = module.imports["lodge:app/terminal"];
  assert.deepEqual(terminal.size(), { cols: 30, rows: 10 });
  const black = { r: 0, g: 0, b: 0 };
  terminal.clear(black);
  terminal.write(1, 2, "hi", black, black);
  module.flush();
  module.flush();
  assert.deepEqual(host.posted, [{ type: "draw", ops: [["clear", black], ["write", 1, 2, "hi", black, black]] }]);
  module.beforeCall({ tag: "resize", val: { cols: 40, rows: 12 } });
  assert.deepEqual(terminal.size(), { cols: 40, rows: 12 });
});

test("WASI exit stops the client, and a trap is explained by what went to stderr", () => {
  const { host, module } = create("wasi");
  const stderr = module.imports["wasi:cli/stderr"].getStderr();
  module.beforeCall({ tag: "key" });
  stderr.write(new TextEncoder().encode("thread panicked\nat src/lib.rs"));
  assert.equal(module.trapContext(), "thread panicked\nat src/lib.rs");
  assert.deepEqual(host.logged, [["error", "thread panicked"], ["error", "at src/lib.rs"]]);
  assert.throws(() => module.imports["wasi:cli/exit"].exit({ tag: "err" }),
    (e) => e instanceof ClientStop && e.kind === "exit" && e.message === "the client exited with an error");
});

// Event shapes by client version (events.js), the input snapshot (caps/input.js)
// and the screen's starting palette (caps/screen.js).

const { eventsVersion, shapesFor } = await import("../../crates/server/ui/events.js");
const { InputState, MAX_KEYS } = await import("../../crates/server/ui/caps/input.js");
const { startPalette } = await import("../../crates/server/ui/caps/screen.js");

const MODS = { shift: false, ctrl: false, alt: false, meta: false };

test("a 0.1 client gets the 0.1 shapes, a 0.2 client the 0.2 ones", () => {
  assert.equal(eventsVersion(["lodge:app/client-events@0.1.0"]), "0.1");
  assert.equal(eventsVersion([]), "0.1");
  assert.equal(eventsVersion(["lodge:app/client-events@0.2.0"]), "0.2");
  const v01 = shapesFor("0.1");
  const v02 = shapesFor("0.2");
  const key = { key: "a", code: "KeyA", repeat: true, modifiers: MODS };
  assert.deepEqual(v01({ tag: "key-down", val: key }), { tag: "key", val: { key: "a", modifiers: MODS } });
  assert.equal(v01({ tag: "key-up", val: key }), null);
  assert.deepEqual(v02({ tag: "key-up", val: key }), { tag: "key-up", val: key });
  const pointer = { kind: "down", x: 3, y: 4, button: 0, buttons: 1, inside: true, modifiers: MODS };
  assert.deepEqual(v01({ tag: "pointer", val: pointer }), { tag: "pointer", val: { kind: "down", col: 3, row: 4, button: 0, modifiers: MODS } });
  assert.deepEqual(v02({ tag: "pointer", val: pointer }), { tag: "pointer", val: { kind: "down", x: 3, y: 4, button: 0, modifiers: MODS } });
  const init = { size: { cols: 80, rows: 24 }, room: "r", name: "ada" };
  assert.deepEqual(v01({ tag: "init", val: init }), { tag: "init", val: init });
  assert.deepEqual(v02({ tag: "init", val: init }), { tag: "init", val: { room: "r", name: "ada" } });
  assert.deepEqual(v01({ tag: "tick", val: 5 }), { tag: "tick", val: 5 });
  assert.equal(v02({ tag: "tick", val: 5 }), null);
  assert.equal(v01({ tag: "pointer-state", val: pointer }), null);
});

test("the snapshot holds at most 16 keys, and the keyboard's pad follows the layout in use", () => {
  const down = (code) => ({ tag: "key-down", val: { key: code, code, repeat: false, modifiers: MODS } });
  const input = new InputState({ gamepad: true });
  for (let i = 0; i < 20; i++) input.observe(down(`F${i}`));
  assert.equal(input.snapshot().keys.length, MAX_KEYS);
  const pads = new InputState({ gamepad: true });
  pads.observe(down("KeyW"));
  pads.observe(down("KeyA"));
  // Among W A S D, A is left (14); beside the arrows it is X (2).
  assert.equal(pads.snapshot().gamepads[0].buttons, (1 << 12) | (1 << 14));
  pads.observe(down("ArrowUp"));
  assert.equal(pads.snapshot().gamepads[0].buttons, (1 << 12) | (1 << 2));
  const none = new InputState({ gamepad: false });
  none.observe(down("KeyZ"));
  assert.ok(none.snapshot().gamepads.every((pad) => !pad.connected && pad.buttons === 0));
});

test("the starting palette is 256 distinct colours, PICO-8's first", () => {
  const palette = startPalette();
  assert.equal(palette.length, 256);
  assert.equal(new Set(palette).size, 256);
  assert.deepEqual(palette.slice(0, 3), [0x000000, 0x1d2b53, 0x7e2553]);
  assert.ok(palette.every((c) => c >= 0 && c <= 0xffffff));
});
