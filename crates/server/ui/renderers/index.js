// The page's renderers: what a client part draws on and where its input
// comes from, chosen by the interfaces the part imports. Each has a half in
// the Worker: the host module in caps/ that implements its interface.
//
// A renderer is a plain object:
//
//   export default {
//     interface: "lodge:app/terminal",     // importing this chooses it
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

import terminal from "./terminal.js";

const RENDERERS = [terminal];

/** The renderer for a part's imports; the text grid when it imports none. */
export function chooseRenderer(imports) {
  const interfaces = imports.map((name) => name.split("@")[0]);
  return RENDERERS.find((renderer) => interfaces.includes(renderer.interface)) ?? terminal;
}
