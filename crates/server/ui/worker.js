// Runs one client part in a Worker, so a client stuck in a loop can be
// stopped (the page's watchdog terminates this Worker) without freezing the
// page. The import object is composed from the host modules (caps/) that
// the part's imports and capabilities choose; the page sends events.
//
// The page sends every client the same event shapes; events.js turns them
// into the shapes of the client-events version the part exports. 0.2
// clients get their frame events from this Worker's frame loop
// (frame-loop.js): from the start for `screen` clients, after
// frames.request-ticks(true) for `terminal` ones; 0.1 clients get ticks
// from the page, as they always did.
//
// page → worker: {type: "start", url, imports, capabilities, exports, assets, data, init, audioPort},
//                {type: "event", event}, {type: "input", gamepads},
//                {type: "ping", id}
// worker → page: {type: "ready"}, {type: "logs", lines: [{level, message}]},
//                {type: "pong", id}, {type: "fault", kind: "trap"|"exit"|"load", message},
//                and each host module's own messages ({type: "draw"}, {type: "send"}, …)

import { chooseModules } from "./caps/index.js";
import { ClientStop } from "./caps/client-stop.js";
import { InputState } from "./caps/input.js";
import { eventsVersion, shapesFor } from "./events.js";
import { FrameLoop } from "./frame-loop.js";
import { Cartridge } from "./wasm4/host.js";
import { isCartridge } from "./wasm4/part.js";

/** Log lines one event may send the page; past it they are counted, not sent. */
const LOG_LINES_PER_CALL = 200;

let handle = null;
let stopped = false;
/** The created host modules: their imports and hooks. */
let linked = [];
let logs = [];
let logsDropped = 0;
const queued = [];
/** The events in the part's version's shapes; set at start. */
let shape = shapesFor("0.1");
let version = "0.1";
let input = new InputState({ gamepad: false });
const loop = new FrameLoop({ deliver: (event) => call(event, false), snapshot: () => input.snapshot() });

/** Queues a log line; they go to the page in one message after each event. */
function log(level, message) {
  if (logs.length < LOG_LINES_PER_CALL) logs.push({ level, message });
  else logsDropped++;
}

function flush() {
  for (const module of linked) module.flush?.();
  if (logsDropped) logs.push({ level: "warn", message: `(${logsDropped} more log lines not shown)` });
  if (logs.length) postMessage({ type: "logs", lines: logs });
  logs = [];
  logsDropped = 0;
}

function stop(kind, message) {
  stopped = true;
  loop.set(false);
  for (const module of linked) module.dispose?.();
  flush();
  postMessage({ type: "fault", kind, message });
}

const errorText = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * Delivers one event to the client; a trap or exit stops it for good.
 * Events from the page (`fromPage`) are in the page's shapes: they update
 * the input state and are given the part's version's shapes here.
 */
function call(event, fromPage = true) {
  if (stopped) return;
  if (!handle) return queued.push(event);
  if (fromPage) {
    input.observe(event);
    event = shape(event);
    if (!event) return;
  }
  for (const module of linked) module.beforeCall?.(event);
  try {
    handle(event);
  } catch (e) {
    if (e instanceof ClientStop) return stop(e.kind, e.message);
    const context = linked.map((module) => module.trapContext?.()).filter(Boolean).join("\n");
    stop("trap", `${context ? `${context}\n` : ""}${errorText(e)}`);
  } finally {
    flush();
    for (const module of linked) module.afterCall?.(event);
  }
}

/**
 * Frame events on or off: the Worker's loop for 0.2 clients, the page's
 * ticks for 0.1 ones.
 */
function requestFrames(on) {
  if (version === "0.1") postMessage({ type: "ticks", on });
  else loop.set(on);
}

/** What a host module (or the cartridge host) gets: see caps/index.js. */
function hostFor(module, { audioPort, ...part }) {
  return {
    part,
    version,
    start: part.data?.[module],
    // The page's sound mixer (audio/engine.js), reached without the page's thread.
    audio: audioPort ? { post: (command) => audioPort.postMessage(command) } : null,
    post: (message, transfer = []) => postMessage(message, transfer),
    deliver: (event) => call(event, false),
    requestFrames,
    log,
  };
}

/** Creates the chosen host modules; their imports make up the import object. */
function link(part) {
  const { imports, capabilities } = part;
  linked = chooseModules(imports, capabilities).map((module) => module.create(hostFor(module.name, part)));
  return Object.assign({}, ...linked.map((module) => module.imports));
}

/**
 * Starts a WASM-4 cartridge (wasm4/host.js): WASM-4's `start` now, its
 * `update` on the frames of this Worker's loop, drawn on the pixel screen.
 */
async function startCartridge(url, part) {
  version = "0.2";
  shape = shapesFor(version);
  // Pads as polled; the keyboard is read with WASM-4's own keys.
  input = new InputState({ gamepad: true, keyboard: false });
  try {
    const cartridge = new Cartridge(hostFor("screen", part));
    linked = [cartridge.hooks];
    await cartridge.start(url);
    handle = (event) => cartridge.handle(event);
  } catch (e) {
    return stop("load", `the cartridge could not start: ${e instanceof Error ? e.message : e}`);
  }
  postMessage({ type: "ready" });
  for (const event of queued.splice(0)) call(event);
  loop.start = performance.now();
  loop.set(true);
}

async function start({ url, init, ...part }) {
  if (isCartridge(part)) return startCartridge(url, part);
  version = eventsVersion(part.exports);
  shape = shapesFor(version);
  input = new InputState({ gamepad: (part.capabilities ?? []).includes("gamepad") });
  try {
    const imports = link(part);
    // Host modules that load something first (assets) finish before the
    // client exists, so its calls can answer synchronously.
    await Promise.all(linked.map((module) => module.prepare?.()));
    const module = await import(url);
    const instance = await module.instantiate(
      (name) => WebAssembly.compileStreaming(fetch(new URL(name, url))),
      imports,
    );
    handle = instance.clientEvents.handle;
  } catch (e) {
    return stop("load", `the client could not start: ${e instanceof Error ? e.message : e}`);
  }
  postMessage({ type: "ready" });
  call({ tag: "init", val: init });
  for (const event of queued.splice(0)) call(event);
  // A screen is redrawn every frame: its clients get frames from the start.
  // `time-ms` counts from here: loading (assets, compiling) is not the client's time.
  loop.start = performance.now();
  if (version !== "0.1" && part.capabilities?.includes("screen")) loop.set(true);
}

onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      start(data);
      break;
    case "event":
      call(data.event);
      break;
    case "input":
      input.update(data);
      break;
    case "ping":
      postMessage({ type: "pong", id: data.id });
      break;
  }
};
