// The mixer of lodge:app/audio, run on the browser's audio thread as an
// AudioWorkletProcessor ("lodge-audio"): 8 synthesized voices and 8 sample
// channels, a master volume and a soft clipper, rendered 128 frames at a
// time. It keeps playing what it was last told, so a client busy in a long
// handler never causes a gap.
//
// Messages on the node's own port (from the page, audio/engine.js):
//   {type: "connect", port}        a client's port (its Worker holds the other end)
//   {type: "disconnect"}           that client stopped: close its port, silence everything
//   {type: "sound", name, channels: [Float32Array…], sampleRate}   a decoded sound asset
//   {type: "mute", muted}          the play bar's toggle (on top of the master volume)
//   {type: "resync"}               the context is suspended: time the next block afresh
//   {type: "stats", id}            answered with {type: "stats", id, …} (see stats())
// Messages on a client's port (from caps/audio.js, already validated):
//   {type: "note", voice, note}, {type: "release", voice},
//   {type: "sample", channel, name, options}, {type: "stop-sample", channel},
//   {type: "master", volume}
//
// The render path (process) allocates nothing: every per-voice and
// per-channel value lives in typed arrays made once here.
//
// Underruns: the audio clock is the count of frames rendered (currentFrame),
// which advances only when process() runs; Date.now() (the only clock a
// worklet has) is the wall clock. Each block measures
//   lead = frames rendered / sampleRate − wall time elapsed   (ms)
// which, while the thread keeps up, stays within a few milliseconds of a
// steady floor: rendering runs ahead of playback by the output's buffering.
// A block made later than that steady schedule by more than the output's
// buffer (`budgetMs`: the context's baseLatency, one device period, passed
// by the page) cannot have been ready when the device asked for it: the
// device played a gap. Each such episode is counted once as an underrun,
// and the delay beyond the buffer is added to lostMs. An episode ends when
// the lead comes back (Chromium renders the missed blocks in a burst), or
// after a whole ~200 ms window without a new one (a device that skipped the
// gap plays on a new schedule). The floor is the smallest lead of the last
// window in which no underrun started, so slow drift between the two
// clocks is followed, not counted. No block for a second means the context
// was suspended (nothing was asked of it): the schedule starts afresh. (Stopping the page's process or the
// audio thread for 150 ms counts 1 underrun and about 130 ms lost; a
// healthy thread stays within 1 to 6 ms of its floor, with 10 ms of buffer.)

/* global AudioWorkletProcessor, registerProcessor, sampleRate, currentFrame */

const VOICES = 8;
const CHANNELS = 8;
/** A synthesized voice at volume 1 peaks at this level, leaving headroom for the mix. */
const VOICE_LEVEL = 0.5;
/** Shortest attack and release, so notes never start or stop with a click. */
const MIN_RAMP_MS = 1;
/** How long a stopped sample fades out. */
const STOP_FADE_MS = 5;
/** Below this the output is untouched; above it, it bends smoothly towards ±1. */
const CLIP_KNEE = 0.5;
/** The length of one window of the underrun detector. */
const WINDOW_MS = 200;

// Indexes into LodgeAudio.timing.
const T0 = 0; // Date.now() at the first block, or −1 before it
const FRAME0 = 1; // currentFrame then
const WINDOW_END = 2; // the frame that ends the current window
const WINDOW_MIN = 3; // the smallest lead in the current window
const WINDOW_LATE = 4; // 1 when an underrun started in this window
const FLOOR = 5; // the steady schedule: the smallest lead of the last clean window
const LATE = 6; // during an underrun, the most a block was late (ms); else 0
const MAX_LATE = 7; // the most any block was late (ms), for the stats
const LAST = 8; // Date.now() at the previous block
/** No block for this long: the context was suspended (nothing was asked of it), not late. */
const SUSPENDED_MS = 1000;

const WAVEFORMS = { pulse: 0, triangle: 1, sawtooth: 2, sine: 3, noise: 4 };
const IDLE = 0;
const ATTACK = 1;
const DECAY = 2;
const SUSTAIN = 3;
const RELEASE = 4;
const TAU = 2 * Math.PI;

const finite = (value, fallback) => (Number.isFinite(value) ? value : fallback);
const clamp = (value, low, high, fallback = low) => Math.min(high, Math.max(low, finite(value, fallback)));

/** The band-limiting correction at a discontinuity of a naive wave (polyBLEP). */
function blep(t, dt) {
  if (t < dt) {
    t /= dt;
    return t + t - t * t - 1;
  }
  if (t > 1 - dt) {
    t = (t - 1) / dt;
    return t * t + t + t + 1;
  }
  return 0;
}

/** Equal-power pan: the left and right gains of `pan` (−1 to 1) at `volume`. */
function panGains(volume, pan, into, index) {
  const angle = (clamp(pan, -1, 1, 0) + 1) * (Math.PI / 4);
  into[2 * index] = volume * Math.cos(angle);
  into[2 * index + 1] = volume * Math.sin(angle);
}

class LodgeAudio extends AudioWorkletProcessor {
  constructor(options) {
    super(options);
    const msToFrames = sampleRate / 1000;
    this.msToFrames = msToFrames;

    // Voices.
    this.stage = new Int32Array(VOICES);
    this.waveform = new Int32Array(VOICES);
    this.duty = new Float64Array(VOICES);
    this.phase = new Float64Array(VOICES);
    this.increment = new Float64Array(VOICES);
    this.slideFactor = new Float64Array(VOICES);
    this.slideLeft = new Float64Array(VOICES);
    this.holdLeft = new Float64Array(VOICES);
    this.level = new Float64Array(VOICES);
    this.attackStep = new Float64Array(VOICES);
    this.decayStep = new Float64Array(VOICES);
    this.sustain = new Float64Array(VOICES);
    this.releaseFrames = new Float64Array(VOICES);
    this.releaseStep = new Float64Array(VOICES);
    this.noise = new Float64Array(VOICES);
    this.voiceGain = new Float64Array(2 * VOICES);
    this.seed = new Uint32Array([0x9e3779b9]);

    // Sample channels; `sound` holds {left, right, length, step} records.
    this.sound = new Array(CHANNELS).fill(null);
    this.position = new Float64Array(CHANNELS);
    this.step = new Float64Array(CHANNELS);
    this.looping = new Uint8Array(CHANNELS);
    this.fade = new Float64Array(CHANNELS);
    this.fadeStep = new Float64Array(CHANNELS);
    this.channelGain = new Float64Array(2 * CHANNELS);
    /** A looping sample asked for before its sound was decoded: {name, options} per channel. */
    this.waiting = new Array(CHANNELS).fill(null);
    this.sounds = new Map();

    this.makeBuses(128);
    this.master = 1;
    this.masterTarget = 1;
    this.muted = false;
    this.client = null;

    // Statistics: totals, and levels since the last request.
    this.blocks = 0;
    this.underruns = 0;
    this.lostMs = 0;
    this.skipped = 0;
    this.levels = new Float64Array(9); // peak, sum of squares for output, voices, samples; frames
    this.timing = new Float64Array(9);
    this.budgetMs = Math.max(2 * (128 / sampleRate) * 1000, finite(options?.processorOptions?.budgetMs, 10));
    this.resync();

    this.port.onmessage = ({ data }) => this.control(data);
  }

  /** A message from the page. */
  control(message) {
    switch (message.type) {
      case "connect":
        this.disconnect();
        this.client = message.port;
        this.client.onmessage = ({ data }) => this.command(data);
        break;
      case "disconnect":
        this.disconnect();
        break;
      case "sound":
        this.addSound(message);
        break;
      case "mute":
        this.muted = Boolean(message.muted);
        break;
      case "resync":
        this.resync();
        break;
      case "stats":
        this.port.postMessage(this.stats(message.id));
        break;
    }
  }

  /** Closes the client's port and silences everything it started. */
  disconnect() {
    if (this.client) {
      this.client.onmessage = null;
      this.client.close();
      this.client = null;
    }
    for (let v = 0; v < VOICES; v++) this.command({ type: "release", voice: v });
    for (let c = 0; c < CHANNELS; c++) this.command({ type: "stop-sample", channel: c });
    this.masterTarget = 1;
  }

  addSound({ name, channels, sampleRate: rate }) {
    const left = channels[0];
    if (!(left instanceof Float32Array) || !left.length) return;
    const right = channels[1] instanceof Float32Array && channels[1].length === left.length ? channels[1] : null;
    const sound = { left, right, length: left.length, step: finite(rate, sampleRate) / sampleRate };
    this.sounds.set(String(name), sound);
    for (let c = 0; c < CHANNELS; c++) {
      const waiting = this.waiting[c];
      if (waiting?.name === name) {
        this.waiting[c] = null;
        this.startSample(c, sound, waiting.options);
      }
    }
  }

  /** A command from the client's host module (caps/audio.js). */
  command(message) {
    switch (message.type) {
      case "note":
        if (message.voice >= 0 && message.voice < VOICES) this.startNote(message.voice | 0, message.note);
        break;
      case "release":
        if (message.voice >= 0 && message.voice < VOICES) this.release(message.voice | 0);
        break;
      case "sample": {
        const c = message.channel | 0;
        if (!(c >= 0 && c < CHANNELS)) break;
        const sound = this.sounds.get(message.name);
        this.waiting[c] = null;
        if (sound) this.startSample(c, sound, message.options);
        else {
          // Not decoded yet: a looping sample (music) starts when it is; a
          // one-shot would come too late to mean anything and is skipped.
          this.stopSample(c);
          this.skipped++;
          if (message.options?.looping) this.waiting[c] = { name: message.name, options: message.options };
        }
        break;
      }
      case "stop-sample":
        if (message.channel >= 0 && message.channel < CHANNELS) {
          this.waiting[message.channel | 0] = null;
          this.stopSample(message.channel | 0);
        }
        break;
      case "master":
        this.masterTarget = clamp(message.volume, 0, 1, 1);
        break;
    }
  }

  startNote(v, note) {
    const ms = this.msToFrames;
    const frequency = clamp(note.frequency, 20, 20000, 440);
    const duration = Math.max(0, finite(note.durationMs, 0)) * ms;
    const envelope = note.envelope ?? {};
    this.waveform[v] = WAVEFORMS[note.waveform] ?? 0;
    this.duty[v] = clamp(note.duty, 0.05, 0.95, 0.5);
    this.increment[v] = frequency / sampleRate;
    const slideTo = note.slideTo == null ? null : clamp(note.slideTo, 20, 20000);
    if (slideTo !== null && duration >= 1) {
      // Exponential in frequency (linear in pitch), one multiply per frame.
      this.slideFactor[v] = Math.pow(slideTo / frequency, 1 / duration);
      this.slideLeft[v] = duration;
    } else {
      this.slideFactor[v] = 1;
      this.slideLeft[v] = 0;
    }
    this.holdLeft[v] = duration;
    // The attack starts from where the voice is, so a replaced note doesn't click.
    this.attackStep[v] = 1 / (Math.max(MIN_RAMP_MS, finite(envelope.attackMs, 0)) * ms);
    this.sustain[v] = clamp(envelope.sustain, 0, 1, 1);
    this.decayStep[v] = (1 - this.sustain[v]) / (Math.max(MIN_RAMP_MS, finite(envelope.decayMs, 0)) * ms);
    this.releaseFrames[v] = Math.max(MIN_RAMP_MS, finite(envelope.releaseMs, 0)) * ms;
    panGains(clamp(note.volume, 0, 1) * VOICE_LEVEL, note.pan, this.voiceGain, v);
    // A note of no duration only releases what the voice played.
    if (duration >= 1) this.stage[v] = ATTACK;
    else this.release(v);
  }

  release(v) {
    if (this.stage[v] === IDLE || this.stage[v] === RELEASE) return;
    this.stage[v] = RELEASE;
    this.releaseStep[v] = Math.max(this.level[v], 1e-6) / this.releaseFrames[v];
  }

  startSample(c, sound, options = {}) {
    this.sound[c] = sound;
    this.position[c] = 0;
    this.step[c] = sound.step * clamp(options.rate, 0.25, 4, 1);
    this.looping[c] = options.looping ? 1 : 0;
    this.fade[c] = 1;
    this.fadeStep[c] = 0;
    panGains(clamp(options.volume, 0, 1), options.pan, this.channelGain, c);
  }

  stopSample(c) {
    if (this.sound[c] && this.fadeStep[c] === 0) this.fadeStep[c] = -1 / (STOP_FADE_MS * this.msToFrames);
  }

  /** Starts the underrun detector afresh (at start, and after a suspension). */
  resync() {
    const t = this.timing;
    t[T0] = -1;
    t[FLOOR] = NaN;
    t[LATE] = 0;
  }

  /** One block's timing: see the header comment. */
  measure() {
    const t = this.timing;
    const now = Date.now();
    if (t[T0] >= 0 && now - t[LAST] > SUSPENDED_MS) this.resync();
    t[LAST] = now;
    if (t[T0] < 0) {
      t[T0] = now;
      t[FRAME0] = currentFrame;
      t[WINDOW_END] = currentFrame + WINDOW_MS * this.msToFrames;
      t[WINDOW_MIN] = Infinity;
      t[WINDOW_LATE] = 0;
      return;
    }
    const ahead = ((currentFrame - t[FRAME0]) / sampleRate) * 1000 - (now - t[T0]);
    if (ahead < t[WINDOW_MIN]) t[WINDOW_MIN] = ahead;
    // How much later than its steady schedule this block is being made.
    const late = t[FLOOR] - ahead;
    if (late > t[MAX_LATE]) t[MAX_LATE] = late;
    if (t[LATE] === 0) {
      if (late > this.budgetMs) {
        this.underruns++;
        t[LATE] = late;
        t[WINDOW_LATE] = 1;
      }
    } else if (late > t[LATE]) {
      t[LATE] = late;
    } else if (late < this.budgetMs / 2) {
      // Caught up: the part of the delay the buffer did not cover was heard as a gap.
      this.lostMs += t[LATE] - this.budgetMs;
      t[LATE] = 0;
    }
    if (currentFrame < t[WINDOW_END]) return;
    if (t[WINDOW_LATE] === 0) {
      if (t[LATE] !== 0) {
        // A whole window without catching up: the device skipped the gap
        // and plays on from here, on a new schedule.
        this.lostMs += t[LATE] - this.budgetMs;
        t[LATE] = 0;
      }
      // The schedule follows the clocks' slow drift, from windows without a gap.
      t[FLOOR] = t[WINDOW_MIN];
    }
    t[WINDOW_END] += WINDOW_MS * this.msToFrames;
    t[WINDOW_MIN] = Infinity;
    t[WINDOW_LATE] = 0;
  }

  process(inputs, outputs) {
    const out = outputs[0];
    const left = out[0];
    const right = out.length > 1 ? out[1] : out[0];
    const frames = left.length;
    this.measure();
    if (this.voiceL.length < frames) this.makeBuses(frames);
    const voiceL = this.voiceL;
    const voiceR = this.voiceR;
    const sampleL = this.sampleL;
    const sampleR = this.sampleR;
    voiceL.fill(0);
    voiceR.fill(0);
    sampleL.fill(0);
    sampleR.fill(0);

    // Voices, each added into the output.
    for (let v = 0; v < VOICES; v++) {
      let stage = this.stage[v];
      if (stage === IDLE) continue;
      const waveform = this.waveform[v];
      const duty = this.duty[v];
      const slideFactor = this.slideFactor[v];
      const attackStep = this.attackStep[v];
      const decayStep = this.decayStep[v];
      const sustain = this.sustain[v];
      const gainL = this.voiceGain[2 * v];
      const gainR = this.voiceGain[2 * v + 1];
      let phase = this.phase[v];
      let increment = this.increment[v];
      let slideLeft = this.slideLeft[v];
      let holdLeft = this.holdLeft[v];
      let level = this.level[v];
      let releaseStep = this.releaseStep[v];
      let noise = this.noise[v];
      for (let i = 0; i < frames; i++) {
        if (stage === ATTACK) {
          level += attackStep;
          if (level >= 1) {
            level = 1;
            stage = DECAY;
          }
        } else if (stage === DECAY) {
          level -= decayStep;
          if (level <= sustain) {
            level = sustain;
            stage = SUSTAIN;
          }
        } else if (stage === RELEASE) {
          level -= releaseStep;
          if (level <= 0) {
            level = 0;
            stage = IDLE;
            break;
          }
        }
        if (stage !== RELEASE) {
          holdLeft--;
          if (holdLeft <= 0) {
            stage = RELEASE;
            releaseStep = Math.max(level, 1e-6) / this.releaseFrames[v];
          }
        }
        if (slideLeft > 0) {
          increment *= slideFactor;
          slideLeft--;
        }
        let sample;
        switch (waveform) {
          case 0: {
            let down = phase - duty;
            if (down < 0) down += 1;
            sample = (phase < duty ? 1 : -1) + blep(phase, increment) - blep(down, increment);
            break;
          }
          case 1:
            sample = 4 * Math.abs(phase - 0.5) - 1;
            break;
          case 2:
            sample = 2 * phase - 1 - blep(phase, increment);
            break;
          case 3:
            sample = Math.sin(TAU * phase);
            break;
          default:
            sample = noise;
        }
        phase += increment;
        if (phase >= 1) {
          phase -= Math.floor(phase);
          if (waveform === 4) noise = this.random();
        }
        sample *= level;
        voiceL[i] += sample * gainL;
        voiceR[i] += sample * gainR;
      }
      this.stage[v] = stage;
      this.phase[v] = phase;
      this.increment[v] = increment;
      this.slideLeft[v] = slideLeft;
      this.holdLeft[v] = holdLeft;
      this.level[v] = level;
      this.releaseStep[v] = releaseStep;
      this.noise[v] = noise;
    }

    // Sample channels, read with linear interpolation.
    for (let c = 0; c < CHANNELS; c++) {
      const sound = this.sound[c];
      if (sound === null) continue;
      const dataL = sound.left;
      const dataR = sound.right === null ? sound.left : sound.right;
      const length = sound.length;
      const step = this.step[c];
      const looping = this.looping[c] === 1;
      const fadeStep = this.fadeStep[c];
      const gainL = this.channelGain[2 * c];
      const gainR = this.channelGain[2 * c + 1];
      let position = this.position[c];
      let fade = this.fade[c];
      let playing = true;
      for (let i = 0; i < frames; i++) {
        const index = position | 0;
        const fraction = position - index;
        let next = index + 1;
        if (next >= length) next = looping ? 0 : index;
        const l = (dataL[index] + (dataL[next] - dataL[index]) * fraction) * fade;
        const r = (dataR[index] + (dataR[next] - dataR[index]) * fraction) * fade;
        sampleL[i] += l * gainL;
        sampleR[i] += r * gainR;
        position += step;
        if (position >= length) {
          if (looping) position %= length;
          else {
            playing = false;
            break;
          }
        }
        if (fadeStep !== 0) {
          fade += fadeStep;
          if (fade <= 0) {
            playing = false;
            break;
          }
        }
      }
      this.position[c] = position;
      this.fade[c] = fade;
      if (!playing) {
        this.sound[c] = null;
        this.fadeStep[c] = 0;
      }
    }
    this.measureBus(voiceL, voiceR, frames, 2);
    this.measureBus(sampleL, sampleR, frames, 4);

    // Master volume (ramped over the block, so changes don't click) and the soft clip.
    const from = this.master;
    const to = this.muted ? 0 : this.masterTarget;
    const ramp = (to - from) / frames;
    for (let i = 0; i < frames; i++) {
      const gain = from + ramp * (i + 1);
      const l = softClip((voiceL[i] + sampleL[i]) * gain);
      const r = softClip((voiceR[i] + sampleR[i]) * gain);
      left[i] = l;
      if (right !== left) right[i] = r;
    }
    this.master = to;
    this.measureBus(left, right, frames, 0);
    this.levels[8] += frames;
    this.blocks++;
    return true;
  }

  /** The buses voices and samples are mixed on, made once (and again only if blocks grow). */
  makeBuses(frames) {
    this.voiceL = new Float32Array(frames);
    this.voiceR = new Float32Array(frames);
    this.sampleL = new Float32Array(frames);
    this.sampleR = new Float32Array(frames);
  }

  /** Adds a bus's block to its peak and sum of squares (levels[at], levels[at + 1]). */
  measureBus(left, right, frames, at) {
    const levels = this.levels;
    let peak = levels[at];
    let squares = levels[at + 1];
    for (let i = 0; i < frames; i++) {
      const l = left[i];
      const r = right[i];
      const absolute = Math.max(Math.abs(l), Math.abs(r));
      if (absolute > peak) peak = absolute;
      squares += 0.5 * (l * l + r * r);
    }
    levels[at] = peak;
    levels[at + 1] = squares;
  }

  /** Uniform noise in [−1, 1) from a xorshift generator. */
  random() {
    let x = this.seed[0];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed[0] = x;
    return (this.seed[0] / 2147483648) - 1;
  }

  /**
   * What the page asks for: totals since the start, and the peak and RMS
   * (0 to 1) of the output, the voices and the samples since the last
   * request.
   */
  stats(id) {
    const levels = this.levels;
    const frames = Math.max(1, levels[8]);
    const level = (peak, squares) => ({ peak: levels[peak], rms: Math.sqrt(levels[squares] / frames) });
    const answer = {
      type: "stats",
      id,
      sampleRate,
      blocks: this.blocks,
      windowFrames: levels[8],
      underruns: this.underruns,
      lostMs: this.lostMs,
      budgetMs: this.budgetMs,
      maxLateMs: this.timing[MAX_LATE],
      output: level(0, 1),
      voices: level(2, 3),
      samples: level(4, 5),
      playing: {
        voices: this.stage.reduce((n, stage) => n + (stage === IDLE ? 0 : 1), 0),
        samples: this.sound.reduce((n, sound) => n + (sound === null ? 0 : 1), 0),
      },
      sounds: this.sounds.size,
      skipped: this.skipped,
    };
    levels.fill(0);
    return answer;
  }
}

/** Unchanged below CLIP_KNEE, then a tanh curve that meets ±1 smoothly. */
function softClip(x) {
  const absolute = x < 0 ? -x : x;
  if (absolute <= CLIP_KNEE) return x;
  const bent = CLIP_KNEE + (1 - CLIP_KNEE) * Math.tanh((absolute - CLIP_KNEE) / (1 - CLIP_KNEE));
  return x < 0 ? -bent : bent;
}

registerProcessor("lodge-audio", LodgeAudio);
