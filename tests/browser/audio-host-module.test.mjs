// lodge:app/audio's host module (crates/server/ui/caps/audio.js) without a
// browser: what it refuses, how it clamps, and what it posts to the mixer.

import { test } from "node:test";
import assert from "node:assert/strict";
import audio, { soundNames } from "../../crates/server/ui/caps/audio.js";
import { chooseModules } from "../../crates/server/ui/caps/index.js";

/** The module for a part with these assets; the commands it posts are kept. */
function create(assets = [{ name: "sfx/jump.WAV", url: "/assets/1" }, { name: "music.ogg" }, { name: "hero.png" }]) {
  const host = { part: { assets }, posted: [], logged: [] };
  host.audio = { post: (command) => host.posted.push(command) };
  host.log = (level, message) => host.logged.push([level, message]);
  const module = audio.create(host);
  return { host, module, api: module.imports["lodge:app/audio"] };
}

const note = (fields = {}) => ({
  waveform: "pulse",
  duty: 0.5,
  frequency: 440,
  slideTo: undefined,
  durationMs: 100,
  envelope: { attackMs: 1, decayMs: 2, sustain: 0.5, releaseMs: 3 },
  volume: 0.5,
  pan: 0,
  ...fields,
});

test("the audio module is chosen by lodge:app/audio@0.2 with the audio capability, and only with it", () => {
  assert.deepEqual(chooseModules(["lodge:app/audio@0.2.0"], ["audio"]).map((m) => m.name), ["audio"]);
  assert.throws(() => chooseModules(["lodge:app/audio@0.2.0"], []),
    { message: "it imports lodge:app/audio@0.2.0 without declaring the \"audio\" capability" });
  assert.throws(() => chooseModules(["lodge:app/audio@0.1.0"], ["audio"]),
    { message: "it imports lodge:app/audio@0.1.0, but this page provides lodge:app/audio only in version 0.2.x" });
});

test("sound assets are the WAV, OGG and MP3 files of the part, from its assets or its manifest", () => {
  assert.deepEqual([...soundNames({ assets: [{ name: "a.wav" }, { name: "b.Mp3" }, { name: "c.png" }, { name: "wav" }] })], ["a.wav", "b.Mp3"]);
  assert.deepEqual([...soundNames({ manifest: { client: { assets: ["x.ogg", "y.json"] } } })], ["x.ogg"]);
  assert.deepEqual([...soundNames(undefined)], []);
});

test("voices and channels out of range and names that are not sounds are refused, posting nothing", () => {
  const { host, api } = create();
  assert.equal(api.play(8, note()), false);
  assert.equal(api.play(255, note()), false);
  const options = { volume: 1, pan: 0, rate: 1, looping: false };
  assert.equal(api.playSample(8, "music.ogg", options), false);
  assert.equal(api.playSample(0, "hero.png", options), false);
  assert.equal(api.playSample(0, "nope.wav", options), false);
  api.release(8);
  api.stopSample(9);
  assert.deepEqual(host.posted, []);
  assert.equal(api.playSample(7, "sfx/jump.WAV", options), true);
  assert.equal(api.play(0, note()), true);
  assert.deepEqual(host.posted.map((c) => c.type), ["sample", "note"]);
});

test("values are clamped to the WIT's ranges, and NaN becomes the default", () => {
  const { host, api } = create();
  api.play(3, note({
    waveform: "sine",
    duty: 2,
    frequency: 1e9,
    slideTo: 1,
    durationMs: 1e12,
    envelope: { attackMs: -5, decayMs: NaN, sustain: 7, releaseMs: 10 },
    volume: NaN,
    pan: -9,
  }));
  api.playSample(1, "music.ogg", { volume: 3, pan: NaN, rate: 100, looping: 1 });
  api.setMasterVolume(NaN);
  api.setMasterVolume(-1);
  api.release(3);
  api.stopSample(1);
  assert.deepEqual(host.posted, [
    {
      type: "note",
      voice: 3,
      note: {
        waveform: "sine",
        duty: 0.95,
        frequency: 20000,
        slideTo: 20,
        durationMs: 3_600_000,
        envelope: { attackMs: 0, decayMs: 0, sustain: 1, releaseMs: 10 },
        volume: 0,
        pan: -1,
      },
    },
    { type: "sample", channel: 1, name: "music.ogg", options: { volume: 1, pan: 0, rate: 4, looping: true } },
    { type: "master", volume: 1 },
    { type: "master", volume: 0 },
    { type: "release", voice: 3 },
    { type: "stop-sample", channel: 1 },
  ]);
});

test("one event posts at most 1024 commands; the rest are dropped with a warning", () => {
  const { host, module, api } = create();
  module.beforeCall({ tag: "timer" });
  for (let i = 0; i < 1500; i++) api.release(i % 8);
  module.flush();
  assert.equal(host.posted.length, 1024);
  assert.deepEqual(host.logged, [["warn", "audio: 476 commands past the limit of 1024 per event were dropped"]]);
  module.beforeCall({ tag: "timer" });
  api.release(0);
  module.flush();
  assert.equal(host.posted.length, 1025);
  assert.equal(host.logged.length, 1);
});

test("without the page's mixer (no Web Audio) the calls still answer, and post nothing", () => {
  const module = audio.create({ part: { assets: [{ name: "a.wav" }] }, audio: null, log() {} });
  const api = module.imports["lodge:app/audio"];
  assert.equal(api.play(0, note()), true);
  assert.equal(api.playSample(0, "a.wav", { volume: 1, pan: 0, rate: 1, looping: false }), true);
});
