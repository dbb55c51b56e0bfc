// WASM-4's `tone` as notes for Lodge's audio worklet: its four channels
// (two pulses, a triangle, noise) are synthesizer voices 0-3, its
// envelope in frames (1/60 s) becomes milliseconds, and its volumes
// (0-100) become levels.

const FRAME_MS = 1000 / 60;
const WAVEFORMS = ["pulse", "pulse", "triangle", "noise"];
const DUTIES = [0.125, 0.25, 0.5, 0.75];
const PANS = [0, -1, 1, 0];

/** A MIDI note number (with a fraction) as a frequency in Hz. */
const midi = (note) => 440 * 2 ** ((note - 69) / 12);

/**
 * The worklet command for `tone(frequency, duration, volume, flags)`, read
 * as the WASM-4 specification packs them: frequency = start | end << 16;
 * duration = sustain | release << 8 | decay << 16 | attack << 24 (frames);
 * volume = sustain | peak << 8 (0-100; peak 0 means 100); flags = channel
 * (bits 0-1) | pulse duty (2-3) | pan (4-5) | note mode (6: frequencies are
 * MIDI notes, the high byte a fraction).
 */
export function toneCommand(frequency, duration, volume, flags) {
  const channel = flags & 3;
  const noteMode = (flags & 0x40) !== 0;
  const pitch = (value) => (noteMode ? midi((value & 0xff) + (value >> 8) / 256) : value);
  const start = pitch(frequency & 0xffff);
  const end = frequency >>> 16;
  const sustainFrames = duration & 0xff;
  const releaseFrames = (duration >>> 8) & 0xff;
  const decayFrames = (duration >>> 16) & 0xff;
  const attackFrames = (duration >>> 24) & 0xff;
  const sustainLevel = Math.min(100, volume & 0xff) / 100;
  const peak = Math.min(100, (volume >>> 8) & 0xff || 100) / 100;
  return {
    type: "note",
    voice: channel,
    note: {
      waveform: WAVEFORMS[channel],
      duty: DUTIES[(flags >> 2) & 3],
      frequency: Math.max(20, start),
      slideTo: end ? Math.max(20, pitch(end)) : null,
      durationMs: (attackFrames + decayFrames + sustainFrames) * FRAME_MS,
      envelope: {
        attackMs: attackFrames * FRAME_MS,
        decayMs: decayFrames * FRAME_MS,
        sustain: peak > 0 ? sustainLevel / peak : 0,
        releaseMs: releaseFrames * FRAME_MS,
      },
      volume: peak * 0.5,
      pan: PANS[(flags >> 4) & 3],
    },
  };
}
