// The page side of lodge:app/audio: the AudioContext and its mixer (the
// "lodge-audio" AudioWorklet, audio/worklet.js), the app's sounds decoded
// for it, a port from the mixer into each client's Worker, and the play
// bar's sound buttons.
//
// Browsers start an AudioContext only after a user gesture: the engine is
// made when the person joins (the Join button); when the page had no
// gesture yet (a name already known), the context waits suspended and a
// "Sound on" button starts it.
//
// The client's host module (caps/audio.js) posts its commands straight to
// the mixer through the port it is given; nothing passes through this
// thread, so neither a busy page nor a busy client holds the sound up.

import { h } from "../dom.js";
import { isSound } from "./sounds.js";


const STATS_EVERY_MS = 1000;
const MUTED_KEY = "lodge.muted";

const decibels = (level) => (level > 0 ? `${(20 * Math.log10(level)).toFixed(1)} dB` : "silent");

export class AudioEngine {
  /** An engine, or null (said on the console) where the browser has no Web Audio. */
  static start(options) {
    try {
      return new AudioEngine(options);
    } catch (e) {
      options.onLog([{ level: "warn", message: `sound is off: ${e?.message ?? e}` }]);
      return null;
    }
  }

  /**
   * @param {{assets: {name, url}[], onLog: (lines) => void}} options
   *   assets: the part's assets (its sounds are decoded here);
   *   onLog([{level, message}]) reports sounds that could not be loaded.
   */
  constructor({ assets = [], onLog }) {
    this.onLog = onLog;
    this.closed = false;
    this.node = null;
    this.statsId = 0;
    this.muted = localStorage.getItem(MUTED_KEY) === "1";
    this.soundOn = h("button", { type: "button", class: "primary", hidden: true, onclick: () => this.resume() }, "Sound on");
    this.muteButton = h("button", { type: "button", "aria-pressed": String(this.muted), onclick: () => this.setMuted(!this.muted) },
      this.muted ? "Unmute" : "Mute");
    /** The mixer's figures, refreshed every second (for the console, and tests). */
    this.statsLine = h("p", { class: "audio-stats muted" }, "Sound: starting");
    this.controls = [this.soundOn, this.muteButton];

    this.context = new AudioContext({ latencyHint: "interactive" });
    this.context.onstatechange = () => this.stateChanged();
    this.stateChanged();
    this.started = this.context.audioWorklet.addModule("/ui/audio/worklet.js").then(() => {
      if (this.closed) throw new Error("closed");
      this.node = new AudioWorkletNode(this.context, "lodge-audio", {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [2],
        // How late a block may be before the device runs dry: one device period.
        processorOptions: { budgetMs: (this.context.baseLatency || 0.01) * 1000 },
      });
      this.node.port.onmessage = ({ data }) => data.type === "stats" && this.showStats(data);
      this.node.onprocessorerror = () => this.fail("the sound mixer stopped with an error");
      this.node.connect(this.context.destination);
      if (this.muted) this.node.port.postMessage({ type: "mute", muted: true });
      this.timer = setInterval(() => this.requestStats(), STATS_EVERY_MS);
    });
    this.started.catch((e) => this.closed || this.fail(`sound is off: ${e.message}`));
    /** What the mixer is told, in order, once it exists. */
    this.queue = Promise.resolve();
    this.loadSounds(assets.filter((asset) => isSound(asset.name)));
  }

  /** Runs `fn(port)` with the mixer's port once it exists (never if it fails). */
  tell(fn) {
    const step = this.queue.then(() => this.started).then(() => fn(this.node.port));
    this.queue = step.catch(() => {});
    return step;
  }

  /** A port into the mixer for one client's Worker; the client's commands go through it. */
  connect() {
    const channel = new MessageChannel();
    this.tell((port) => port.postMessage({ type: "connect", port: channel.port1 }, [channel.port1]))
      .catch(() => channel.port1.close());
    return channel.port2;
  }

  /** The client stopped: the mixer lets go of its port and falls silent. */
  disconnect() {
    this.tell((port) => port.postMessage({ type: "disconnect" })).catch(() => {});
  }

  async loadSounds(sounds) {
    for (const { name, url } of sounds) {
      try {
        const answer = await fetch(url);
        if (!answer.ok) throw new Error(`${url} answered ${answer.status}`);
        const decoded = await this.context.decodeAudioData(await answer.arrayBuffer());
        if (this.closed) return;
        // Copies, so the buffers can be handed over (transferred) to the mixer.
        const channels = [];
        for (let c = 0; c < Math.min(2, decoded.numberOfChannels); c++) channels.push(new Float32Array(decoded.getChannelData(c)));
        await this.tell((port) => port.postMessage({ type: "sound", name, channels, sampleRate: decoded.sampleRate },
          channels.map((channel) => channel.buffer)));
      } catch (e) {
        if (this.closed) return;
        this.onLog([{ level: "warn", message: `the sound ${name} could not be loaded: ${e?.message ?? e}` }]);
      }
    }
  }

  /** The "Sound on" button: a gesture, so the context may start. */
  resume() {
    this.context.resume().catch((e) => this.fail(`sound could not start: ${e.message}`));
  }

  stateChanged() {
    const state = this.context.state;
    this.soundOn.hidden = state !== "suspended";
    // The context stops asking for sound: the mixer's timing starts again
    // with the next block it renders, so the pause is not counted as a gap.
    if (state !== "running" && this.node) this.node.port.postMessage({ type: "resync" });
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(MUTED_KEY, muted ? "1" : "0");
    this.muteButton.textContent = muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(muted));
    this.tell((port) => port.postMessage({ type: "mute", muted })).catch(() => {});
  }

  requestStats() {
    if (this.node && this.context.state === "running") this.node.port.postMessage({ type: "stats", id: ++this.statsId });
  }

  showStats(stats) {
    this.statsLine.dataset.stats = JSON.stringify(stats);
    this.statsLine.textContent = `Sound: ${stats.blocks} blocks at ${stats.sampleRate} Hz, ${stats.underruns} underruns, ` +
      `output peak ${decibels(stats.output.peak)}, playing ${stats.playing.voices} voices and ${stats.playing.samples} samples` +
      `${this.muted ? " (muted)" : ""}`;
  }

  fail(message) {
    this.statsLine.textContent = `Sound: ${message}`;
    this.onLog([{ level: "warn", message }]);
  }

  /** The page is left: everything stops. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.node?.disconnect();
    this.context.close().catch(() => {});
  }
}
