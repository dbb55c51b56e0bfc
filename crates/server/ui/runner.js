// The page side of a client part: starts its Worker, relays events in and
// the host modules' messages out, and watches it. A client that doesn't
// answer the watchdog's ping within the limit is stuck (a loop, or a very
// long handler): its Worker is terminated and the page says so. For a
// client declaring `gamepad`, it polls the Gamepad API every animation
// frame (a Worker cannot) and sends the pads when they change.

import { diskKey, isCartridge } from "./wasm4/part.js";

const PING_EVERY_MS = 250;
/** How long a client may go without answering before it is stopped. */
export const STUCK_AFTER_MS = 3000;

export class ClientRunner {
  /**
   * @param {{part, view, session, app, audio, onSend, onLog, onFault}} options
   *   part: the client part from the API ({browser, imports, capabilities});
   *   view: the mounted renderer (renderers/index.js);
   *   session: {room, name} for the client's init event;
   *   app: the app's name (a WASM-4 cartridge's disk is kept per app);
   *   audio: the page's AudioEngine (audio/engine.js) when the part plays sound ("audio", or a WASM-4 cartridge);
   *   onLog([{level, message}]) gets each batch of log lines;
   *   onFault({kind: "trap"|"exit"|"load"|"stuck", message}) is called once when the client stops.
   */
  constructor({ part, view, session, app, audio, onSend, onLog, onFault }) {
    this.onLog = onLog;
    this.onFault = onFault;
    this.ticks = false;
    this.tickFrame = 0;
    this.tickInFlight = false;
    this.stopped = false;
    this.pingId = 0;
    this.awaiting = null;
    /** What each message type from the host modules does here. */
    this.outputs = {
      send: ({ payload }) => onSend(payload),
      ticks: ({ on }) => this.setTicks(on),
      ticked: () => (this.tickInFlight = false),
      "wasm4-disk": ({ bytes }) => saveDisk(app, bytes),
      ...view.outputs,
    };
    const { init, data, transfer = [] } = view.start();
    this.audio = audio;
    const audioPort = audio?.connect();
    this.worker = new Worker("/ui/worker.js", { type: "module", name: "lodge-client" });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (e) => this.fault("load", e.message || "the client's worker failed");
    this.worker.postMessage({
      type: "start",
      url: new URL(part.browser, location.href).href,
      imports: part.imports,
      capabilities: part.capabilities ?? [],
      exports: part.exports ?? [],
      assets: part.assets ?? [],
      abi: part.abi ?? "component",
      disk: isCartridge(part) ? loadDisk(app) : null,
      data,
      init: { ...init, ...session },
      audioPort,
    }, audioPort ? [...transfer, audioPort] : transfer);
    this.watchdog = setInterval(() => this.check(), PING_EVERY_MS);
    this.padFrame = 0;
    this.pads = "";
    if (part.capabilities?.includes("gamepad") || isCartridge(part)) this.pollGamepads();
  }

  /** Reads the pads every animation frame; sends them to the Worker when they change. */
  pollGamepads() {
    if (this.stopped) return;
    const gamepads = Array.from(navigator.getGamepads?.() ?? [], (pad) => padState(pad)).slice(0, 4);
    const text = JSON.stringify(gamepads);
    if (text !== this.pads) {
      this.pads = text;
      this.worker.postMessage({ type: "input", gamepads });
    }
    this.padFrame = requestAnimationFrame(() => this.pollGamepads());
  }

  /** Delivers an event (key, pointer, message, resize, connected, disconnected). */
  send(event) {
    if (!this.stopped) this.worker.postMessage({ type: "event", event });
  }

  check() {
    const now = performance.now();
    if (this.awaiting) {
      if (now - this.awaiting.since > STUCK_AFTER_MS) {
        this.fault("stuck", `the client did not respond for ${STUCK_AFTER_MS / 1000} seconds (an endless loop?) and was stopped`);
      }
      return;
    }
    this.awaiting = { id: ++this.pingId, since: now };
    this.worker.postMessage({ type: "ping", id: this.pingId });
  }

  receive(message) {
    // A stopped client's last messages (a send, a draw) are ignored.
    if (this.stopped) return;
    switch (message.type) {
      case "pong":
        if (this.awaiting?.id === message.id) this.awaiting = null;
        break;
      case "logs":
        this.onLog(message.lines);
        break;
      case "fault":
        this.fault(message.kind, message.message);
        break;
      default:
        this.outputs[message.type]?.(message);
    }
  }

  setTicks(on) {
    this.ticks = on;
    const tick = (now) => {
      if (!this.ticks || this.stopped) return (this.tickFrame = 0);
      // At most one tick in flight: frames pass while the client is busy.
      if (!this.tickInFlight) {
        this.tickInFlight = true;
        this.send({ tag: "tick", val: now });
      }
      this.tickFrame = requestAnimationFrame(tick);
    };
    if (on && !this.tickFrame) this.tickFrame = requestAnimationFrame(tick);
  }

  fault(kind, message) {
    if (this.stopped) return;
    this.stop();
    this.onFault({ kind, message });
  }

  /** Ends the client (its Worker, timers and ticks). */
  stop() {
    this.stopped = true;
    this.ticks = false;
    cancelAnimationFrame(this.padFrame);
    clearInterval(this.watchdog);
    this.worker.terminate();
    this.audio?.disconnect();
  }
}

/**
 * A Gamepad as the Worker's input state takes it: the standard mapping's
 * buttons as a bit mask (a button counts as held past half way), the four
 * stick axes and the two triggers (buttons 6 and 7's values).
 */
function padState(pad) {
  if (!pad?.connected) return { connected: false };
  let buttons = 0;
  pad.buttons.forEach((button, i) => {
    if (i < 32 && (button.pressed || button.value > 0.5)) buttons |= 1 << i;
  });
  return {
    connected: true,
    buttons: buttons >>> 0,
    axes: Array.from(pad.axes.slice(0, 4)),
    triggers: [pad.buttons[6]?.value ?? 0, pad.buttons[7]?.value ?? 0],
  };
}

/** A WASM-4 cartridge's saved disk for `app`, as bytes (none yet: empty). */
function loadDisk(app) {
  try {
    const saved = localStorage.getItem(diskKey(app));
    return saved ? Array.from(atob(saved), (c) => c.charCodeAt(0)) : [];
  } catch {
    return [];
  }
}

/** Keeps a cartridge's disk for next time (storage may be full or off: then it is not kept). */
function saveDisk(app, bytes) {
  try {
    localStorage.setItem(diskKey(app), btoa(String.fromCharCode(...bytes)));
  } catch {
    // Nothing to do: the game goes on, its disk is kept for this run only.
  }
}
