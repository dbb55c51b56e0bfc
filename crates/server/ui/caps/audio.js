// lodge:app/audio@0.2 in the Worker: checks the client's arguments (voice
// and channel numbers, names of its sound assets), clamps its values to the
// ranges the WIT gives, and posts each command straight to the page's mixer
// (audio/worklet.js) through the port the page handed over. The mixer
// keeps playing what it was told while the client is busy.

import { isSound } from "../audio/sounds.js";

const VOICES = 8;
const CHANNELS = 8;
const WAVEFORMS = ["pulse", "triangle", "sawtooth", "sine", "noise"];
/** The longest time a note or an envelope stage is taken to last: an hour. */
const MAX_MS = 3_600_000;
/** Commands one event may post; more would only flood the audio thread. */
const MAX_COMMANDS_PER_CALL = 1024;

/** `value` within [low, high]; NaN (which an f32 may be) becomes `fallback`. */
const clamp = (value, low, high, fallback) => (Number.isFinite(value) ? Math.min(high, Math.max(low, value)) : fallback);
const milliseconds = (value) => Math.min(MAX_MS, Math.max(0, Number(value) || 0));


/** The sound assets of the part: names from its assets list, or from its manifest. */
export function soundNames(part) {
  const assets = part?.assets ?? part?.manifest?.client?.assets ?? [];
  return new Set(assets.map((asset) => (typeof asset === "string" ? asset : asset.name)).filter(isSound));
}

export default {
  name: "audio",
  interfaces: ["lodge:app/audio"],
  versions: ["0.2"],
  capability: "audio",
  create(host) {
    const sounds = soundNames(host.part);
    let posted = 0;
    let dropped = 0;
    const post = (command) => {
      if (posted >= MAX_COMMANDS_PER_CALL) return dropped++;
      posted++;
      host.audio?.post(command);
    };
    const inRange = (number, count) => Number.isInteger(number) && number >= 0 && number < count;
    return {
      imports: {
        "lodge:app/audio": {
          play(voice, note) {
            if (!inRange(voice, VOICES)) return false;
            const frequency = clamp(note.frequency, 20, 20000, 440);
            post({
              type: "note",
              voice,
              note: {
                waveform: WAVEFORMS.includes(note.waveform) ? note.waveform : "pulse",
                duty: clamp(note.duty, 0.05, 0.95, 0.5),
                frequency,
                slideTo: note.slideTo == null ? null : clamp(note.slideTo, 20, 20000, frequency),
                durationMs: milliseconds(note.durationMs),
                envelope: {
                  attackMs: milliseconds(note.envelope.attackMs),
                  decayMs: milliseconds(note.envelope.decayMs),
                  sustain: clamp(note.envelope.sustain, 0, 1, 1),
                  releaseMs: milliseconds(note.envelope.releaseMs),
                },
                volume: clamp(note.volume, 0, 1, 0),
                pan: clamp(note.pan, -1, 1, 0),
              },
            });
            return true;
          },
          release(voice) {
            if (inRange(voice, VOICES)) post({ type: "release", voice });
          },
          playSample(channel, name, options) {
            if (!inRange(channel, CHANNELS) || !sounds.has(name)) return false;
            post({
              type: "sample",
              channel,
              name,
              options: {
                volume: clamp(options.volume, 0, 1, 0),
                pan: clamp(options.pan, -1, 1, 0),
                rate: clamp(options.rate, 0.25, 4, 1),
                looping: Boolean(options.looping),
              },
            });
            return true;
          },
          stopSample(channel) {
            if (inRange(channel, CHANNELS)) post({ type: "stop-sample", channel });
          },
          setMasterVolume(volume) {
            post({ type: "master", volume: clamp(volume, 0, 1, 1) });
          },
        },
      },
      beforeCall() {
        posted = 0;
        dropped = 0;
      },
      flush() {
        if (dropped) host.log("warn", `audio: ${dropped} commands past the limit of ${MAX_COMMANDS_PER_CALL} per event were dropped`);
        dropped = 0;
      },
    };
  },
};
