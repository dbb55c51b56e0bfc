// The lodge-audio mixer (crates/server/ui/audio/worklet.js) run in Node.js
// with the few globals of an AudioWorkletGlobalScope: what its voices and
// sample channels render, block by block.

import { test } from "node:test";
import assert from "node:assert/strict";

const RATE = 48000;
const BLOCK = 128;
let Mixer = null;
globalThis.sampleRate = RATE;
globalThis.currentFrame = 0;
globalThis.AudioWorkletProcessor = class {
  constructor() {
    this.port = { messages: [], postMessage(message) { this.messages.push(message); } };
  }
};
globalThis.registerProcessor = (name, processor) => {
  assert.equal(name, "lodge-audio");
  Mixer = processor;
};
await import("../../crates/server/ui/audio/worklet.js");

/** A mixer and a way to send it a client's commands and render blocks. */
function mixer() {
  const m = new Mixer({ processorOptions: { budgetMs: 10 } });
  const client = { onmessage: null, close() {} };
  m.port.onmessage({ data: { type: "connect", port: client } });
  const command = (data) => client.onmessage({ data });
  /** Renders `ms` of sound: [left, right] as plain arrays. */
  const render = (ms) => {
    const left = [];
    const right = [];
    for (let n = Math.ceil((ms * RATE) / 1000 / BLOCK); n > 0; n--) {
      const out = [new Float32Array(BLOCK), new Float32Array(BLOCK)];
      m.process([], [out]);
      globalThis.currentFrame += BLOCK;
      left.push(...out[0]);
      right.push(...out[1]);
    }
    return [left, right];
  };
  const stats = () => {
    m.port.onmessage({ data: { type: "stats", id: 1 } });
    return m.port.messages.pop();
  };
  return { m, command, render, stats };
}

const note = (fields = {}) => ({
  type: "note",
  voice: 0,
  note: {
    waveform: "sine",
    duty: 0.5,
    frequency: 480,
    slideTo: null,
    durationMs: 100,
    envelope: { attackMs: 10, decayMs: 10, sustain: 0.5, releaseMs: 20 },
    volume: 1,
    pan: 0,
    ...fields,
  },
});

const peak = (samples) => samples.reduce((max, x) => Math.max(max, Math.abs(x)), 0);
/** Rising zero crossings per second. */
const frequency = (samples) => {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 && samples[i] >= 0) crossings++;
  return (crossings * RATE) / samples.length;
};

test("a note follows its envelope: attack, decay to sustain, release after its duration, then silence", () => {
  const { command, render, stats } = mixer();
  command(note());
  const [left] = render(200);
  const at = (ms) => peak(left.slice((ms * RATE) / 1000, ((ms + 2.5) * RATE) / 1000));
  // Volume 1 at the centre: half of full scale, times cos(π/4).
  const full = 0.5 * Math.SQRT1_2;
  assert.ok(at(1) < 0.5 * full, `attack: ${at(1)}`);
  assert.ok(Math.abs(at(10) - full) < 0.05, `top: ${at(10)}`);
  assert.ok(Math.abs(at(50) - 0.5 * full) < 0.02, `sustain: ${at(50)}`);
  assert.ok(at(110) < 0.5 * full && at(110) > 0, `release: ${at(110)}`);
  assert.equal(at(150), 0);
  assert.equal(stats().playing.voices, 0);
  assert.ok(Math.abs(frequency(left.slice(0, 4800)) - 480) < 15);
});

test("waveforms have their pitch, a pulse its duty, and a slide ends at its frequency", () => {
  for (const waveform of ["pulse", "triangle", "sawtooth", "sine"]) {
    const { command, render } = mixer();
    command(note({ waveform, durationMs: 1000, envelope: { attackMs: 1, decayMs: 1, sustain: 1, releaseMs: 1 } }));
    const [left] = render(500);
    assert.ok(Math.abs(frequency(left.slice(4800)) - 480) < 10, `${waveform}: ${frequency(left.slice(4800))} Hz`);
  }
  const { command, render } = mixer();
  command(note({ waveform: "pulse", duty: 0.25, durationMs: 1000, envelope: { attackMs: 1, decayMs: 1, sustain: 1, releaseMs: 1 } }));
  const [left] = render(500).map((channel) => channel.slice(4800));
  const high = left.filter((x) => x > 0).length / left.length;
  assert.ok(Math.abs(high - 0.25) < 0.02, `high ${high} of the time`);

  const slide = mixer();
  slide.command(note({ frequency: 200, slideTo: 800, durationMs: 1000, envelope: { attackMs: 1, decayMs: 1, sustain: 1, releaseMs: 1 } }));
  const [glide] = slide.render(1000);
  assert.ok(Math.abs(frequency(glide.slice(0, 4800)) - 230) < 40, `start ${frequency(glide.slice(0, 4800))}`);
  assert.ok(Math.abs(frequency(glide.slice(-4800)) - 760) < 60, `end ${frequency(glide.slice(-4800))}`);
});

test("pan is equal-power: hard left is all left, the centre −3 dB on each side", () => {
  const { command, render } = mixer();
  command(note({ pan: -1, durationMs: 1000, envelope: { attackMs: 1, decayMs: 1, sustain: 1, releaseMs: 1 } }));
  const [left, right] = render(50);
  assert.ok(Math.abs(peak(left) - 0.5) < 0.01);
  assert.ok(peak(right) < 1e-6);
});

test("samples play at their rate, loop, fade out when stopped, and a looping one waits for its sound", () => {
  const { m, command, render, stats } = mixer();
  // A looping sample asked for before its sound arrives starts when it does.
  command({ type: "sample", channel: 2, name: "tone", options: { volume: 1, pan: 0, rate: 2, looping: true } });
  command({ type: "sample", channel: 3, name: "tone", options: { volume: 1, pan: 0, rate: 1, looping: false } });
  assert.equal(stats().skipped, 2);
  const tone = new Float32Array(RATE / 10); // 0.1 s of 240 Hz
  for (let i = 0; i < tone.length; i++) tone[i] = Math.sin((2 * Math.PI * 240 * i) / RATE);
  m.port.onmessage({ data: { type: "sound", name: "tone", channels: [tone], sampleRate: RATE } });
  const [left] = render(500);
  assert.ok(Math.abs(frequency(left) - 480) < 10, `rate 2: ${frequency(left)} Hz`);
  assert.ok(peak(left.slice(-4800)) > 0.6, "still looping after 5 lengths");
  assert.equal(stats().playing.samples, 1);
  command({ type: "stop-sample", channel: 2 });
  const [after] = render(20);
  assert.ok(peak(after.slice(0, 48)) > 0.1 && peak(after.slice(-240)) === 0, "a 5 ms fade, then silence");
  assert.equal(stats().playing.samples, 0);
});

test("the soft clip keeps a loud mix within ±1, the master volume and mute scale it", () => {
  const { m, command, render, stats } = mixer();
  for (let voice = 0; voice < 8; voice++) {
    command({ ...note({ waveform: "pulse", durationMs: 1000, envelope: { attackMs: 1, decayMs: 1, sustain: 1, releaseMs: 1 } }), voice });
  }
  const [left] = render(100);
  assert.ok(peak(left) <= 1 && peak(left) > 0.95, `peak ${peak(left)}`);
  const loud = stats();
  assert.ok(loud.voices.peak > 2, "the voices' bus is measured before the clip");
  command({ type: "master", volume: 0.1 });
  render(10);
  stats();
  render(50);
  assert.ok(Math.abs(stats().output.peak - 0.1 * 8 * 0.5 * Math.SQRT1_2) < 0.05);
  m.port.onmessage({ data: { type: "mute", muted: true } });
  render(10);
  stats();
  render(50);
  assert.equal(stats().output.peak, 0);
});

test("a client's disconnection silences what it started and closes its port", () => {
  const { m, command, render, stats } = mixer();
  let closed = false;
  const other = { onmessage: null, close: () => (closed = true) };
  command(note({ durationMs: 10_000 }));
  m.port.onmessage({ data: { type: "connect", port: other } });
  render(100);
  assert.equal(stats().playing.voices, 0);
  m.port.onmessage({ data: { type: "disconnect" } });
  assert.equal(closed, true);
});

/**
 * Renders `periods` device periods of 4 blocks each, as a device pulls
 * them, with a stubbed Date.now for the wall clock: each period starts on
 * schedule (up to 1.6 ms late). In period `stallAt` the audio thread is
 * stalled `stallMs`; then either it renders the periods it missed in a
 * burst (`catchUp`, as Chromium does), or the device skipped them.
 * Returns the wall time the next period would start at.
 */
function drive(m, periods, { stallAt = -1, stallMs = 0, catchUp = true, start = 0 } = {}) {
  const periodMs = (4 * BLOCK * 1000) / RATE;
  let wall = start;
  let next = start;
  const realNow = Date.now;
  Date.now = () => 1_800_000_000_000 + Math.floor(wall);
  const block = () => {
    m.process([], [[new Float32Array(BLOCK), new Float32Array(BLOCK)]]);
    globalThis.currentFrame += BLOCK;
    wall += 0.1;
  };
  try {
    for (let p = 0; p < periods; p++) {
      wall = Math.max(wall, next) + ((p * 13) % 5) * 0.4;
      let blocks = 4;
      if (p === stallAt) {
        wall += stallMs;
        const missed = Math.floor(stallMs / periodMs);
        if (catchUp) blocks += 4 * missed;
        next += catchUp ? missed * periodMs : stallMs;
      }
      for (let b = 0; b < blocks; b++) block();
      next += periodMs;
    }
  } finally {
    Date.now = realNow;
  }
  return next;
}

test("underruns: a steady device counts none; a stall longer than the device period counts one", () => {
  const { m, stats } = mixer();
  drive(m, 600);
  assert.equal(stats().underruns, 0);
  assert.ok(stats().maxLateMs < 5);

  // A 150 ms stall, then the missed blocks in a burst: one underrun, ~140 ms lost.
  const caught = mixer();
  drive(caught.m, 600, { stallAt: 300, stallMs: 150 });
  const after = caught.stats();
  assert.equal(after.underruns, 1);
  assert.ok(after.lostMs > 120 && after.lostMs < 150, `lost ${after.lostMs} ms`);

  // A device that skips the gap instead: one underrun, and the next stall counts again.
  const skipped = mixer();
  const next = drive(skipped.m, 300, { stallAt: 150, stallMs: 100, catchUp: false });
  drive(skipped.m, 300, { stallAt: 150, stallMs: 100, catchUp: false, start: next });
  const twice = skipped.stats();
  assert.equal(twice.underruns, 2);
  assert.ok(twice.lostMs > 150 && twice.lostMs < 200, `lost ${twice.lostMs} ms`);

  // A stall shorter than the device's buffer is no underrun.
  const short = mixer();
  drive(short.m, 600, { stallAt: 300, stallMs: 6 });
  assert.equal(short.stats().underruns, 0);
});

test("a suspended context (no blocks asked for a while) is no underrun", () => {
  const { m, stats } = mixer();
  const next = drive(m, 300);
  drive(m, 300, { start: next + 5000 });
  assert.equal(stats().underruns, 0);
});
