// The client events in each version's shapes, in the Worker. The page sends
// one shape for every client (key-down and key-up with code and repeat,
// pointer with x and y, init with the grid's size when there is a grid);
// a client exporting client-events@0.1.0 gets exactly the 0.1 shapes it
// always had, one exporting @0.2.0 the 0.2 shapes. A "pointer-state" event
// (the pointer left the screen) only updates the input snapshot.

import { versionLine } from "./caps/index.js";

/** "0.1" or "0.2": the client-events version a part exports (0.1 when it names none). */
export function eventsVersion(exports = []) {
  const name = exports.find((e) => e.startsWith("lodge:app/client-events@"));
  return name ? versionLine(name.split("@")[1]) : "0.1";
}

/** 0.1 had one key event (presses), pointers on cells and init with the grid's size. */
function toV01({ tag, val }) {
  switch (tag) {
    case "key-down":
      return { tag: "key", val: { key: val.key, modifiers: val.modifiers } };
    case "pointer":
      return { tag: "pointer", val: { kind: val.kind, col: val.x, row: val.y, button: val.button, modifiers: val.modifiers } };
    case "key-up":
    case "frame":
    case "pointer-state":
      return null;
    default:
      return { tag, val };
  }
}

function toV02({ tag, val }) {
  switch (tag) {
    case "init":
      return { tag, val: { room: val.room, name: val.name } };
    case "key-down":
    case "key-up":
      return { tag, val: { key: val.key, code: val.code, repeat: val.repeat, modifiers: val.modifiers } };
    case "pointer":
      return { tag, val: { kind: val.kind, x: val.x, y: val.y, button: val.button, modifiers: val.modifiers } };
    case "tick":
    case "pointer-state":
      return null;
    default:
      return { tag, val };
  }
}

/** The function giving events in `version`'s shapes (null: not an event of that version). */
export function shapesFor(version) {
  return version === "0.1" ? toV01 : toV02;
}
