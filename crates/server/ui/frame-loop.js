// The frame loop of 0.2 clients, in the Worker: one `frame` event per
// display frame (requestAnimationFrame, which dedicated Workers have),
// with the time, the display frames since the last event and the input
// snapshot. Events are delivered synchronously, so at most one is ever in
// flight: a client slower than the display misses frames (counted in
// `frames`) and never gets a queue of them.

/** A display frame's length before any is measured (60 Hz). */
const START_PERIOD_MS = 1000 / 60;

const nextFrame = globalThis.requestAnimationFrame
  ? (callback) => requestAnimationFrame(callback)
  : (callback) => setTimeout(() => callback(performance.now()), START_PERIOD_MS);
const cancelFrame = globalThis.cancelAnimationFrame ?? clearTimeout;

export class FrameLoop {
  /**
   * @param {{deliver: (event) => void, snapshot: () => object}} options
   *   deliver(event) calls the client; snapshot() is the input now.
   */
  constructor({ deliver, snapshot }) {
    this.deliver = deliver;
    this.snapshot = snapshot;
    this.start = performance.now();
    this.last = null;
    this.period = START_PERIOD_MS;
    this.request = 0;
    this.running = false;
  }

  /** Starts (true) or stops (false) the events. */
  set(on) {
    if (on === this.running) return;
    this.running = on;
    if (on) {
      this.last = null;
      this.request = nextFrame((now) => this.frame(now));
    } else {
      cancelFrame(this.request);
    }
  }

  frame(now) {
    if (!this.running) return;
    this.request = nextFrame((next) => this.frame(next));
    const delta = this.last === null ? this.period : now - this.last;
    this.last = now;
    // The display's period is learnt from frames that were not missed.
    if (delta > this.period / 2 && delta < this.period * 1.5) this.period += (delta - this.period) / 8;
    const frames = Math.max(1, Math.round(delta / this.period));
    this.deliver({
      tag: "frame",
      val: { timeMs: now - this.start, deltaMs: delta, frames, input: this.snapshot() },
    });
  }
}
