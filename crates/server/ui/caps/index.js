// The host modules a client part can be given in its Worker, and how they
// are chosen: one module per interface (or family of interfaces), linked
// only when the part imports it.
//
// A host module is a plain object:
//
//   export default {
//     name: "timers",                        // names the module in messages and start data
//     interfaces: ["lodge:app/timers"],      // the WIT interfaces it implements
//     versions: ["0.1"],                     // the version lines it serves (0.1 takes any 0.1.z)
//     capability: "timers",                  // optional: its name in lodge.toml's capabilities
//     grantedByWorld: true,                  // optional: the client world grants it undeclared
//     create(host) { return { imports, ...hooks }; },
//   };
//
// `create` runs once per client, with `host`:
//   host.part              the part as the page started it ({imports, capabilities, exports, assets, abi, …})
//   host.start             what the page sent this module at start (a renderer's start data)
//   host.post(message, transfer)   a message to the page, routed by its `type`
//   host.deliver(event)    an event into the client (a timer firing)
//   host.log(level, text)  a line for the page's console
//   host.version           the client-events version it exports: "0.1" or "0.2"
//   host.requestFrames(on) frame events on or off (ticks for a 0.1 client)
//   host.audio             {post(command)} to the page's sound mixer, when the part has "audio"
//
// and returns `imports` (entries of the import object, keyed by interface
// name without version, as jco looks them up) and any of these hooks:
//   prepare()              a promise awaited before the client is instantiated
//                          (loading assets); a rejection stops it with a load fault
//   beforeCall(event)      an event is about to be delivered
//   afterCall(event)       it was delivered (or trapped)
//   flush()                post what the calls so far produced (drawing)
//   trapContext()          text explaining a trap (what the client wrote to stderr)
//   dispose()              the client stopped: release timers and the like
//
// A module stops the client for a reason of its own by throwing ClientStop
// (client-stop.js).

import assets from "./assets.js";
import audio from "./audio.js";
import frames from "./frames.js";
import input, { gamepadModule } from "./input.js";
import log from "./log.js";
import screen from "./screen.js";
import server from "./server.js";
import terminal from "./terminal.js";
import timers from "./timers.js";
import types from "./types.js";
import wasi from "./wasi.js";

/** Every host module the page has. */
export const HOST_MODULES = [types, terminal, server, timers, frames, log, wasi, screen, input, gamepadModule, assets, audio];

/** "0.1.3" → "0.1", "1.4.0" → "1": the versions one implementation serves. */
export function versionLine(version) {
  const [major, minor] = version.split(".");
  return major === "0" ? `${major}.${minor}` : major;
}

/**
 * The modules a part gets: one for each interface it imports (names like
 * `lodge:app/timers@0.1.0`), and one for each capability it declares.
 * Throws, naming every import and capability this page has no module for.
 */
export function chooseModules(imports, capabilities = [], modules = HOST_MODULES) {
  const chosen = new Set();
  const problems = [];
  for (const name of imports) {
    const [iface, version = ""] = name.split("@");
    const module = modules.find((m) => m.interfaces.includes(iface) && version && m.versions.includes(versionLine(version)));
    if (!module) {
      const offered = modules.filter((m) => m.interfaces.includes(iface)).flatMap((m) => m.versions);
      problems.push(offered.length
        ? `it imports ${name}, but this page provides ${iface} only in version ${offered.map((v) => `${v}.x`).join(", ")}`
        : `it imports ${name}, which this page does not provide`);
    } else if (module.capability && !module.grantedByWorld && !capabilities.includes(module.capability)) {
      problems.push(`it imports ${name} without declaring the "${module.capability}" capability`);
    } else {
      chosen.add(module);
    }
  }
  for (const capability of capabilities) {
    const module = modules.find((m) => m.capability === capability);
    if (!module) problems.push(`it declares the "${capability}" capability, which this page does not provide`);
    else chosen.add(module);
  }
  if (problems.length) throw new Error(problems.join("; "));
  return modules.filter((m) => chosen.has(m));
}
