// Runs one client part in a Worker, so a client stuck in a loop can be
// stopped (the page's watchdog terminates this Worker) without freezing the
// page. It implements the client world's imports and forwards drawing,
// messages and log lines to the page; the page sends events.
//
// page → worker: {type: "start", url, size, init}, {type: "event", event}, {type: "ping", id}
// worker → page: {type: "ready"}, {type: "draw", ops}, {type: "send", payload},
//                {type: "logs", lines: [{level, message}]}, {type: "ticks", on},
//                {type: "ticked"}, {type: "pong", id},
//                {type: "fault", kind: "trap"|"exit"|"load", message}

import { ClientExit, wasiImports } from "./wasi.js";

const MAX_TIMERS = 1024;
const STDERR_KEPT = 20;
/** Log lines one event may send the page; past it they are counted, not sent. */
const LOG_LINES_PER_CALL = 200;

let handle = null;
let stopped = false;
let size = { cols: 80, rows: 24 };
let ops = [];
let logs = [];
let logsDropped = 0;
const queued = [];
const timers = new Map();
let nextTimer = 1n;
const stderrTail = [];

const post = (message) => postMessage(message);

/** Queues a log line; they go to the page in one message after each event. */
function log(level, message) {
  if (logs.length < LOG_LINES_PER_CALL) logs.push({ level, message });
  else logsDropped++;
}

function flush() {
  if (ops.length) {
    post({ type: "draw", ops });
    ops = [];
  }
  if (logsDropped) logs.push({ level: "warn", message: `(${logsDropped} more log lines not shown)` });
  if (logs.length) post({ type: "logs", lines: logs });
  logs = [];
  logsDropped = 0;
}

const wasi = wasiImports((stream, line) => {
  if (stream === "stderr") {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_KEPT) stderrTail.shift();
  }
  log(stream === "stderr" ? "error" : "info", line);
});

const imports = {
  ...wasi.imports,
  "lodge:app/types": {},
  "lodge:app/terminal": {
    size: () => ({ ...size }),
    clear: (bg) => ops.push(["clear", bg]),
    write: (col, row, text, fg, bg) => ops.push(["write", col, row, text, fg, bg]),
  },
  "lodge:app/server": {
    send: (payload) => post({ type: "send", payload }),
  },
  "lodge:app/timers": {
    set(afterMs, tag) {
      if (timers.size >= MAX_TIMERS) return undefined;
      const id = nextTimer++;
      const delay = Math.min(Number(afterMs), 2 ** 31 - 1);
      timers.set(id, setTimeout(() => {
        timers.delete(id);
        call({ tag: "timer", val: tag });
      }, delay));
      return id;
    },
    cancel(id) {
      const timer = timers.get(id);
      if (timer === undefined) return false;
      clearTimeout(timer);
      timers.delete(id);
      return true;
    },
  },
  "lodge:app/frames": {
    requestTicks: (on) => post({ type: "ticks", on }),
  },
  "lodge:app/log": {
    write: (level, message) => log(level, String(message).slice(0, 4096)),
  },
};

function stop(kind, message) {
  stopped = true;
  for (const timer of timers.values()) clearTimeout(timer);
  timers.clear();
  flush();
  post({ type: "fault", kind, message });
}

/** Delivers one event to the client; a trap or exit stops it for good. */
function call(event) {
  if (stopped) return;
  if (!handle) return queued.push(event);
  // The panic message of a trap is what this event wrote to stderr.
  stderrTail.length = 0;
  try {
    handle(event);
  } catch (e) {
    wasi.flush();
    if (e instanceof ClientExit) return stop("exit", e.message);
    const reason = stderrTail.length ? `${stderrTail.join("\n").trim()}\n` : "";
    stop("trap", `${reason}${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  } finally {
    flush();
  }
}

async function start({ url, init }) {
  try {
    const module = await import(url);
    const instance = await module.instantiate(
      (name) => WebAssembly.compileStreaming(fetch(new URL(name, url))),
      imports,
    );
    handle = instance.clientEvents.handle;
  } catch (e) {
    return stop("load", `the client could not start: ${e instanceof Error ? e.message : e}`);
  }
  post({ type: "ready" });
  call({ tag: "init", val: init });
  for (const event of queued.splice(0)) call(event);
}

onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      size = data.size;
      start(data);
      break;
    case "event":
      if (data.event.tag === "resize") size = data.event.val;
      call(data.event);
      // The page sends the next frame's tick only after this one is done.
      if (data.event.tag === "tick") post({ type: "ticked" });
      break;
    case "ping":
      post({ type: "pong", id: data.id });
      break;
  }
};
