//! Sound: eight synthesizer voices ([`Note`]) and eight sample channels
//! playing sound assets ([`Sample`]), mixed by the page off the client's
//! thread. Declare `audio` in `[client].capabilities` (and `assets` for
//! samples). Sound starts once the person presses Play; what is played
//! before that is silent.
//!
//! ```
//! use lodge_client::audio::{Note, pitch};
//! let beep = Note::square(440.0).duration(100);
//! let low_c = Note::triangle(pitch("C3").unwrap()).duration(300).volume(0.5);
//! # let _ = (beep, low_c);
//! ```
//! On the page, `beep.play(0)` plays it on voice 0.

/// How many synthesizer voices there are (0 to 7).
pub const VOICES: u8 = 8;
/// How many sample channels there are (0 to 7).
pub const CHANNELS: u8 = 8;

/// The shape of a voice's wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Waveform {
    /// A pulse wave; [`Note::duty`] sets its width (0.5 is a square wave).
    Pulse,
    /// A triangle wave: soft, like a flute or a bass.
    Triangle,
    /// A sawtooth wave: bright and buzzy.
    Sawtooth,
    /// A sine wave: pure.
    Sine,
    /// White noise; the frequency sets how often it changes (drums, hits).
    Noise,
}

/// Volume over a note's life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope {
    /// Milliseconds from silence to full volume.
    pub attack_ms: u32,
    /// Milliseconds from full volume down to `sustain`.
    pub decay_ms: u32,
    /// The level held until the note's duration ends, 0.0 to 1.0.
    pub sustain: f32,
    /// Milliseconds from `sustain` to silence after the duration.
    pub release_ms: u32,
}

impl Envelope {
    /// A short click-free envelope: 2 ms attack, no decay, full sustain,
    /// 30 ms release.
    pub const DEFAULT: Envelope = Envelope {
        attack_ms: 2,
        decay_ms: 0,
        sustain: 1.0,
        release_ms: 30,
    };
    /// A plucked sound: quick attack, falling to silence over `decay_ms`.
    pub const fn pluck(decay_ms: u32) -> Envelope {
        Envelope {
            attack_ms: 1,
            decay_ms,
            sustain: 0.0,
            release_ms: 10,
        }
    }
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope::DEFAULT
    }
}

/// One note for a voice, built from a waveform and a frequency:
/// `Note::square(440.0).duration(100).volume(0.4)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// The wave's shape.
    pub waveform: Waveform,
    /// For pulse waves: the part of each period spent high, 0.05 to 0.95.
    pub duty: f32,
    /// Hz, 20.0 to 20000.0.
    pub frequency: f32,
    /// When set, the pitch slides to this frequency over the duration.
    pub slide_to: Option<f32>,
    /// Milliseconds the note is held before its release starts.
    pub duration_ms: u32,
    /// Volume over the note's life.
    pub envelope: Envelope,
    /// 0.0 to 1.0.
    pub volume: f32,
    /// -1.0 left to 1.0 right.
    pub pan: f32,
}

impl Note {
    /// A note of `waveform` at `frequency` Hz: 150 ms at volume 0.5, centred.
    pub const fn new(waveform: Waveform, frequency: f32) -> Note {
        Note {
            waveform,
            duty: 0.5,
            frequency,
            slide_to: None,
            duration_ms: 150,
            envelope: Envelope::DEFAULT,
            volume: 0.5,
            pan: 0.0,
        }
    }

    /// A square wave (a pulse with duty 0.5).
    pub const fn square(frequency: f32) -> Note {
        Note::new(Waveform::Pulse, frequency)
    }

    /// A pulse wave with `duty` (0.125 and 0.25 sound thinner than square).
    pub const fn pulse(frequency: f32, duty: f32) -> Note {
        Note::new(Waveform::Pulse, frequency).duty(duty)
    }

    /// A triangle wave.
    pub const fn triangle(frequency: f32) -> Note {
        Note::new(Waveform::Triangle, frequency)
    }

    /// A sawtooth wave.
    pub const fn sawtooth(frequency: f32) -> Note {
        Note::new(Waveform::Sawtooth, frequency)
    }

    /// A sine wave.
    pub const fn sine(frequency: f32) -> Note {
        Note::new(Waveform::Sine, frequency)
    }

    /// Noise changing `frequency` times a second (higher is hissier).
    pub const fn noise(frequency: f32) -> Note {
        Note::new(Waveform::Noise, frequency)
    }

    /// The same note with pulse duty `duty`.
    pub const fn duty(mut self, duty: f32) -> Note {
        self.duty = duty;
        self
    }

    /// The same note held for `ms` milliseconds.
    pub const fn duration(mut self, ms: u32) -> Note {
        self.duration_ms = ms;
        self
    }

    /// The same note sliding to `frequency` over its duration.
    pub const fn slide_to(mut self, frequency: f32) -> Note {
        self.slide_to = Some(frequency);
        self
    }

    /// The same note with `envelope`.
    pub const fn envelope(mut self, envelope: Envelope) -> Note {
        self.envelope = envelope;
        self
    }

    /// The same note at `volume` (0.0 to 1.0).
    pub const fn volume(mut self, volume: f32) -> Note {
        self.volume = volume;
        self
    }

    /// The same note panned to `pan` (-1.0 left to 1.0 right).
    pub const fn pan(mut self, pan: f32) -> Note {
        self.pan = pan;
        self
    }
}

/// The frequency in Hz of a note named like "A4", "C#5", "Eb3" or "g2"
/// (a letter, an optional `#` or `b`, an octave from -1 to 9; A4 is 440 Hz).
pub fn pitch(name: &str) -> Option<f32> {
    let mut chars = name.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let mut semitone: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    let octave = match rest.chars().next() {
        Some('#') => {
            semitone += 1;
            &rest[1..]
        }
        Some('b') => {
            semitone -= 1;
            &rest[1..]
        }
        _ => rest,
    };
    let octave: i32 = octave.parse().ok().filter(|o| (-1..=9).contains(o))?;
    Some(midi_pitch(((octave + 1) * 12 + semitone) as f32))
}

/// The frequency in Hz of MIDI note number `note` (69 is A4, 440 Hz; 60 is
/// middle C).
pub fn midi_pitch(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// Ready-made sound effects, each a [`Note`] to play on a voice.
pub mod effects {
    use super::{Envelope, Note};

    /// A bright two-step pickup sound.
    pub const fn coin() -> Note {
        Note::pulse(988.0, 0.25)
            .slide_to(1976.0)
            .duration(80)
            .envelope(Envelope::pluck(220))
            .volume(0.35)
    }

    /// A rising jump.
    pub const fn jump() -> Note {
        Note::square(220.0)
            .slide_to(660.0)
            .duration(140)
            .envelope(Envelope::pluck(200))
            .volume(0.3)
    }

    /// A short blip for menus.
    pub const fn blip() -> Note {
        Note::pulse(1320.0, 0.125).duration(30).volume(0.25)
    }

    /// A falling tone for a miss or a hurt.
    pub const fn hurt() -> Note {
        Note::sawtooth(330.0)
            .slide_to(80.0)
            .duration(250)
            .envelope(Envelope::pluck(300))
            .volume(0.35)
    }

    /// A burst of noise.
    pub const fn explosion() -> Note {
        Note::noise(2000.0)
            .slide_to(200.0)
            .duration(400)
            .envelope(Envelope::pluck(600))
            .volume(0.5)
    }
}

/// How a sound asset plays: `Sample::new("sounds/boom.wav").volume(0.8)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The asset's name, as listed in `[client].assets`.
    pub name: String,
    /// 0.0 to 1.0.
    pub volume: f32,
    /// -1.0 left to 1.0 right.
    pub pan: f32,
    /// Playback speed (and pitch): 1.0 as recorded, 0.25 to 4.0.
    pub rate: f32,
    /// Start again at the end, until stopped.
    pub looping: bool,
}

impl Sample {
    /// The asset `name` at full volume, centred, as recorded, once.
    pub fn new(name: &str) -> Sample {
        Sample {
            name: name.to_owned(),
            volume: 1.0,
            pan: 0.0,
            rate: 1.0,
            looping: false,
        }
    }

    /// The same at `volume`.
    pub fn volume(mut self, volume: f32) -> Sample {
        self.volume = volume;
        self
    }

    /// The same panned to `pan`.
    pub fn pan(mut self, pan: f32) -> Sample {
        self.pan = pan;
        self
    }

    /// The same at playback speed `rate`.
    pub fn rate(mut self, rate: f32) -> Sample {
        self.rate = rate;
        self
    }

    /// The same, looping until stopped.
    pub fn looping(mut self) -> Sample {
        self.looping = true;
        self
    }
}

#[cfg(target_arch = "wasm32")]
mod host {
    use super::{Note, Sample, Waveform};
    use crate::bindings::lodge::app0_2::audio as wit;

    impl Note {
        /// Plays this note on `voice` (0 to 7), replacing what it played.
        /// False (and nothing played) for a voice out of range.
        pub fn play(&self, voice: u8) -> bool {
            wit::play(voice, self.into())
        }
    }

    impl From<&Note> for wit::Note {
        fn from(n: &Note) -> Self {
            wit::Note {
                waveform: match n.waveform {
                    Waveform::Pulse => wit::Waveform::Pulse,
                    Waveform::Triangle => wit::Waveform::Triangle,
                    Waveform::Sawtooth => wit::Waveform::Sawtooth,
                    Waveform::Sine => wit::Waveform::Sine,
                    Waveform::Noise => wit::Waveform::Noise,
                },
                duty: n.duty,
                frequency: n.frequency,
                slide_to: n.slide_to,
                duration_ms: n.duration_ms,
                envelope: wit::Envelope {
                    attack_ms: n.envelope.attack_ms,
                    decay_ms: n.envelope.decay_ms,
                    sustain: n.envelope.sustain,
                    release_ms: n.envelope.release_ms,
                },
                volume: n.volume,
                pan: n.pan,
            }
        }
    }

    impl Sample {
        /// Plays this sample on `channel` (0 to 7), replacing what it
        /// played. False for a channel out of range or a name that is not a
        /// sound asset.
        pub fn play(&self, channel: u8) -> bool {
            let options = wit::SampleOptions {
                volume: self.volume,
                pan: self.pan,
                rate: self.rate,
                looping: self.looping,
            };
            wit::play_sample(channel, &self.name, options)
        }
    }

    /// Starts the release of what `voice` plays.
    pub fn release(voice: u8) {
        wit::release(voice);
    }

    /// Stops what sample `channel` plays.
    pub fn stop_sample(channel: u8) {
        wit::stop_sample(channel);
    }

    /// The level of everything, 0.0 to 1.0 (1.0 at start).
    pub fn set_master_volume(volume: f32) {
        wit::set_master_volume(volume);
    }

    /// Plays the sound asset `name` once on `channel` at full volume.
    pub fn play_sample(channel: u8, name: &str) -> bool {
        Sample::new(name).play(channel)
    }
}

#[cfg(target_arch = "wasm32")]
pub use host::{play_sample, release, set_master_volume, stop_sample};

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn notes_by_name() {
        assert!(close(pitch("A4").unwrap(), 440.0));
        assert!(close(pitch("a5").unwrap(), 880.0));
        assert!(close(pitch("C4").unwrap(), 261.63));
        assert!(close(pitch("C#4").unwrap(), 277.18));
        assert!(close(pitch("Db4").unwrap(), 277.18));
        assert!(close(pitch("B3").unwrap(), 246.94));
        assert!(close(pitch("C-1").unwrap(), 8.18));
        for bad in ["", "H4", "A", "A10", "C#", "Ax4"] {
            assert_eq!(pitch(bad), None, "{bad}");
        }
        assert!(close(midi_pitch(60.0), 261.63));
    }

    #[test]
    fn the_builder_sets_each_field() {
        let n = Note::square(440.0)
            .duration(100)
            .volume(0.2)
            .pan(-1.0)
            .slide_to(220.0);
        assert_eq!(n.waveform, Waveform::Pulse);
        assert_eq!(n.duty, 0.5);
        assert_eq!(n.duration_ms, 100);
        assert_eq!((n.volume, n.pan, n.slide_to), (0.2, -1.0, Some(220.0)));
        assert_eq!(Note::pulse(100.0, 0.125).duty, 0.125);
        assert_eq!(Note::noise(100.0).waveform, Waveform::Noise);
        let s = Sample::new("boom.wav").volume(0.5).rate(2.0).looping();
        assert_eq!((s.volume, s.rate, s.looping), (0.5, 2.0, true));
    }

    #[test]
    fn effects_stay_in_range() {
        for n in [
            effects::coin(),
            effects::jump(),
            effects::blip(),
            effects::hurt(),
            effects::explosion(),
        ] {
            assert!((20.0..=20000.0).contains(&n.frequency));
            assert!(n.slide_to.is_none_or(|f| (20.0..=20000.0).contains(&f)));
            assert!((0.0..=1.0).contains(&n.volume));
        }
    }
}
