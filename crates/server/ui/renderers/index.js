// The page's renderers: what a client part draws on and where its input
// comes from, chosen by the graphics capability the part declares (at most
// one: `screen`, or the text grid, `terminal`, when it declares none). Each
// has a half in the Worker: the host module in caps/ that implements its
// interface.
//
// A renderer is a plain object:
//
//   export default {
//     capability: "terminal",              // declaring this chooses it
//     mount(stage, { label, onEvent }) → view,
//   };
//
// mount() fills `stage` (an element already in the page) and turns the
// page's input into client events with onEvent(event). The view it returns:
//   el                  the element that takes focus (made inert under an overlay)
//   controls            elements for the play bar (zoom buttons), maybe none
//   start()             → {init, data, transfer}: fields of the client's init
//                       event, start data by host module name ({terminal:
//                       {size}}), and objects to transfer (an OffscreenCanvas)
//   outputs             {type: (message) => …} for its host module's messages
//   stop()              the page is left: stop watching the window
//
// Input reaches the client as the page's events (events.js gives each
// client version its shapes): key-down and key-up {key, code, repeat,
// modifiers}, pointer {kind, x, y, button, buttons, inside, modifiers} and
// pointer-state {x, y, buttons, inside} (the pointer left).

import screen from "./screen.js";
import terminal from "./terminal.js";
import { isCartridge } from "../wasm4/part.js";

const RENDERERS = [screen, terminal];

/** The renderer for a part's declared capabilities; the text grid when it declares none. */
export function chooseRenderer(part) {
  // A WASM-4 cartridge draws on a 160×160 pixel screen.
  if (isCartridge(part)) return screen;
  const declared = part.capabilities ?? [];
  return RENDERERS.find((renderer) => declared.includes(renderer.capability)) ?? terminal;
}
