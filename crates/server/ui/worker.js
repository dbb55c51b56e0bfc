// Runs one client part in a Worker, so a client stuck in a loop can be
// stopped (the page's watchdog terminates this Worker) without freezing the
// page. The import object is composed from the host modules (caps/) that
// the part's imports and capabilities choose; the page sends events.
//
// page → worker: {type: "start", url, imports, capabilities, assets, data, init},
//                {type: "event", event}, {type: "ping", id}
// worker → page: {type: "ready"}, {type: "logs", lines: [{level, message}]},
//                {type: "pong", id}, {type: "fault", kind: "trap"|"exit"|"load", message},
//                and each host module's own messages ({type: "draw"}, {type: "send"}, …)

import { chooseModules } from "./caps/index.js";
import { ClientStop } from "./caps/client-stop.js";

/** Log lines one event may send the page; past it they are counted, not sent. */
const LOG_LINES_PER_CALL = 200;

let handle = null;
let stopped = false;
/** The created host modules: their imports and hooks. */
let linked = [];
let logs = [];
let logsDropped = 0;
const queued = [];

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
  for (const module of linked) module.dispose?.();
  flush();
  postMessage({ type: "fault", kind, message });
}

const errorText = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Delivers one event to the client; a trap or exit stops it for good. */
function call(event) {
  if (stopped) return;
  if (!handle) return queued.push(event);
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

/** Creates the chosen host modules; their imports make up the import object. */
function link(part) {
  const { imports, capabilities, data } = part;
  linked = chooseModules(imports, capabilities).map((module) => module.create({
    part,
    start: data?.[module.name],
    post: (message, transfer = []) => postMessage(message, transfer),
    deliver: call,
    log,
  }));
  return Object.assign({}, ...linked.map((module) => module.imports));
}

async function start({ url, init, ...part }) {
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
}

onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      start(data);
      break;
    case "event":
      call(data.event);
      break;
    case "ping":
      postMessage({ type: "pong", id: data.id });
      break;
  }
};
