//! A fixed pool of synth voices: one or two (unison, detuned and spread) sine/saw oscillators plus
//! noise, a resonant low-pass (topology-preserving state-variable filter) opened by the envelope,
//! a linear ADSR and a constant-power pan per part.
//! `new` allocates; everything else runs on the audio thread without allocating.

use super::sequencer::onset_offset;
use super::{NoteOut, NoteSink};
use crate::score::{Note, Part};

pub const MAX_VOICES: usize = 32;
/// Level of each voice before the master gain, leaving headroom for chords.
const VOICE_LEVEL: f32 = 0.35;
/// Filter coefficients are recomputed every this many samples of a voice's life (counted from
/// its note-on, so the schedule does not depend on block boundaries).
const FILTER_UPDATE: u32 = 32;
/// Where a new oscillator starts in its cycle: both the sine and the falling ramp are positive
/// here, so the first sample of every note is non-zero (an onset is visible on its own sample).
const START_PHASE: f64 = 0.25;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    Idle,
    Attack,
    Decay,
    Sustain,
    Release,
}

#[derive(Clone, Copy, Debug)]
struct Voice {
    stage: Stage,
    level: f32,
    /// Per-sample level change in the current stage.
    step: f32,
    release_samples: f32,
    phase: f64,
    phase_inc: f64,
    velocity: f32,
    pan_l: f32,
    pan_r: f32,
    /// Absolute host beat of the note-off.
    end_beat: f64,
    /// Block-relative sample at which the release starts (`i64::MAX`: not in this block).
    release_at: i64,
    /// Order of note-ons, for stealing the oldest voice.
    age: u64,
    decay_step: f32,
    sustain: f32,
    /// MIDI key and channel (one channel per part), for the note-off that matches the note-on.
    pitch: u8,
    channel: u8,
    /// Second (unison) oscillator.
    phase2: f64,
    /// Filter states, left and right, and the shared coefficients.
    svf: [[f32; 2]; 2],
    coeffs: [f32; 3],
    /// Samples since the note-on.
    clock: u32,
    noise: u32,
}

impl Voice {
    const IDLE: Voice = Voice {
        stage: Stage::Idle,
        level: 0.0,
        step: 0.0,
        release_samples: 1.0,
        phase: 0.0,
        phase_inc: 0.0,
        velocity: 0.0,
        pan_l: 0.0,
        pan_r: 0.0,
        end_beat: 0.0,
        release_at: i64::MAX,
        age: 0,
        decay_step: 0.0,
        sustain: 0.6,
        pitch: 0,
        channel: 0,
        phase2: 0.0,
        svf: [[0.0; 2]; 2],
        coeffs: [0.0; 3],
        clock: 0,
        noise: 1,
    };

    /// Starts the release (the note's MIDI note-off, at `offset`).
    fn release(&mut self, release_samples: f32, offset: u32, out: &mut NoteSink) {
        if matches!(self.stage, Stage::Idle | Stage::Release) {
            return;
        }
        out.push(NoteOut {
            offset,
            on: false,
            pitch: self.pitch,
            velocity: 0.0,
            channel: self.channel,
        });
        self.stage = Stage::Release;
        self.release_samples = release_samples;
        // Linear to exactly zero over the release time, from wherever the level is.
        self.step = -self.level / release_samples.max(1.0);
        self.release_at = i64::MAX;
    }
}

/// The per-sample (smoothed) timbre controls every voice reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timbre {
    /// 0 = sine .. 1 = sawtooth.
    pub brightness: f32,
    /// Cutoff before the envelope opens it, as log2 of Hz (the domain it is smoothed in).
    pub cutoff_log2: f32,
    /// 0..1.
    pub resonance: f32,
    /// How far the envelope opens the filter, in octaves.
    pub filter_env_oct: f32,
    /// 0..1 share of white noise.
    pub noise: f32,
    /// 0..1: how far apart the unison oscillators sit in the stereo field.
    pub width: f32,
    /// Unison detune in cents (0 = a single oscillator).
    pub detune_cents: f32,
}

/// Envelope times at note-on, in samples, and the sustain level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Envelope {
    pub attack: f32,
    pub decay: f32,
    pub sustain: f32,
    pub release: f32,
}

/// One sample of a bright/soft oscillator at `phase` (sine table blended with a PolyBLEP ramp).
fn oscillator(sine: &[f32], phase: f64, inc: f64, brightness: f32) -> f32 {
    let x = phase * SINE_SIZE as f64;
    let i = x as usize;
    let frac = (x - i as f64) as f32;
    let s = sine[i] + (sine[i + 1] - sine[i]) * frac;
    let ramp = (1.0 - 2.0 * phase + poly_blep(phase, inc)) as f32;
    s + (ramp - s) * brightness
}

/// Cytomic's trapezoidal state-variable filter coefficients for a low-pass at `cutoff_hz`.
fn svf_coeffs(cutoff_hz: f32, resonance: f32, sample_rate: f32) -> [f32; 3] {
    let fc = cutoff_hz.clamp(20.0, 0.45 * sample_rate);
    let g = (std::f32::consts::PI * fc / sample_rate).tan();
    let k = 2.0 - 1.9 * resonance.clamp(0.0, 1.0);
    let a1 = 1.0 / (1.0 + g * (g + k));
    [a1, g * a1, g * g * a1]
}

fn svf(state: &mut [f32; 2], c: [f32; 3], x: f32) -> f32 {
    let v3 = x - state[1];
    let v1 = c[0] * state[0] + c[1] * v3;
    let v2 = state[1] + c[1] * state[0] + c[2] * v3;
    state[0] = 2.0 * v1 - state[0];
    state[1] = 2.0 * v2 - state[1];
    v2
}

/// PolyBLEP residual that removes the aliasing step of a ramp's reset.
fn poly_blep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

pub struct VoicePool {
    voices: Vec<Voice>,
    next_age: u64,
    /// One sine cycle (plus a guard point) for table lookup: `sin` itself costs more than the
    /// rest of a voice.
    sine: Vec<f32>,
}

const SINE_SIZE: usize = 4096;

impl VoicePool {
    pub fn new(capacity: usize) -> Self {
        VoicePool {
            voices: vec![Voice::IDLE; capacity],
            next_age: 0,
            sine: (0..=SINE_SIZE)
                .map(|i| (i as f64 / SINE_SIZE as f64 * std::f64::consts::TAU).sin() as f32)
                .collect(),
        }
    }

    pub fn active(&self) -> usize {
        self.voices
            .iter()
            .filter(|v| v.stage != Stage::Idle)
            .count()
    }

    pub fn kill_all(&mut self) {
        self.voices.fill(Voice::IDLE);
    }

    /// Releases every sounding note at the start of the block.
    pub fn release_all(&mut self, release_samples: f32, out: &mut NoteSink) {
        for v in &mut self.voices {
            v.release(release_samples, 0, out);
        }
    }

    /// Works out, for a block starting at `start`, on which sample each held note lets go.
    pub fn schedule_releases(&mut self, start: f64, bps: f64, block_len: usize) {
        for v in &mut self.voices {
            if matches!(v.stage, Stage::Attack | Stage::Decay | Stage::Sustain) {
                let at = onset_offset(v.end_beat, start, bps);
                v.release_at = if at < block_len as i64 { at } else { i64::MAX };
            }
        }
    }

    /// Starts `note` at block sample `offset` on a free voice, or on the oldest one (deterministic
    /// stealing). A stolen voice attacks from its current level, so the takeover does not click.
    #[allow(clippy::too_many_arguments)]
    pub fn note_on(
        &mut self,
        note: &Note,
        offset: u32,
        end_beat: f64,
        release_at: i64,
        sample_rate: f32,
        env: &Envelope,
        out: &mut NoteSink,
    ) {
        let (attack_samples, release_samples) = (env.attack, env.release);
        let slot = match self.voices.iter().position(|v| v.stage == Stage::Idle) {
            Some(i) => i,
            None => {
                let mut oldest = 0;
                for (i, v) in self.voices.iter().enumerate() {
                    if v.age < self.voices[oldest].age {
                        oldest = i;
                    }
                }
                oldest
            }
        };
        let freq = 440.0 * 2f64.powf((f64::from(note.pitch) - 69.0) / 12.0);
        // Parts differ in place, level and envelope: the melody plucks a little right of centre,
        // the chords swell in softly on the left, the bass sits in the middle.
        let (pan, part_level, attack_scale, channel): (f32, f32, f32, u8) = match note.part {
            Part::Melody => (0.15, 1.0, 1.0, 0),
            Part::Harmony => (-0.3, 0.5, 6.0, 1),
            Part::Bass => (0.0, 0.9, 1.0, 2),
        };
        let attack_samples = attack_samples * attack_scale;
        let angle = (pan + 1.0) * std::f32::consts::FRAC_PI_4;
        let v = &mut self.voices[slot];
        // A stolen note ends for MIDI too.
        let stolen_release = v.release_samples;
        v.release(stolen_release, offset, out);
        out.push(NoteOut {
            offset,
            on: true,
            pitch: note.pitch,
            velocity: note.velocity,
            channel,
        });
        let idle = v.stage == Stage::Idle;
        let level = if idle { 0.0 } else { v.level };
        // A free voice starts at a known phase; a stolen one keeps its phase, so the waveform
        // stays continuous through the takeover.
        let phase = if idle { START_PHASE } else { v.phase };
        let phase2 = if idle { START_PHASE } else { v.phase2 };
        let svf = if idle { [[0.0; 2]; 2] } else { v.svf };
        *v = Voice {
            stage: Stage::Attack,
            level,
            step: (1.0 - level) / attack_samples,
            release_samples,
            phase,
            phase_inc: (freq / f64::from(sample_rate)).min(0.49),
            velocity: note.velocity * part_level,
            pan_l: angle.cos(),
            pan_r: angle.sin(),
            end_beat,
            release_at,
            age: self.next_age,
            decay_step: (1.0 - env.sustain) / env.decay.max(1.0),
            sustain: env.sustain,
            pitch: note.pitch,
            channel,
            phase2,
            svf,
            coeffs: [0.0; 3],
            clock: 0,
            // Deterministic noise, different for each note.
            noise: 0x9e37_79b9 ^ (u32::from(note.pitch) << 16) ^ (self.next_age as u32) | 1,
        };
        self.next_age += 1;
    }

    /// One stereo sample of all voices. `index` is the block-relative sample number.
    pub fn tick(
        &mut self,
        index: i64,
        t: &Timbre,
        sample_rate: f32,
        out: &mut NoteSink,
    ) -> (f32, f32) {
        let (mut l, mut r) = (0.0f32, 0.0f32);
        let unison = t.detune_cents > 0.01;
        // 2^(cents/1200) to within 3e-5 for up to 100 cents, without a powf per sample.
        let x = f64::from(t.detune_cents) * (std::f64::consts::LN_2 / 1200.0);
        let detune = 1.0 + x + 0.5 * x * x + x * x * x / 6.0;
        for v in &mut self.voices {
            if v.stage == Stage::Idle {
                continue;
            }
            if index >= v.release_at {
                v.release(v.release_samples, index.max(0) as u32, out);
            }
            v.level += v.step;
            match v.stage {
                Stage::Attack if v.level >= 1.0 => {
                    v.level = 1.0;
                    v.stage = Stage::Decay;
                    v.step = -v.decay_step;
                }
                Stage::Decay if v.level <= v.sustain => {
                    v.level = v.sustain;
                    v.stage = Stage::Sustain;
                    v.step = 0.0;
                }
                Stage::Release if v.level <= 0.0 => {
                    *v = Voice::IDLE;
                    continue;
                }
                _ => {}
            }
            if v.clock % FILTER_UPDATE == 0 {
                let cutoff = (t.cutoff_log2 + t.filter_env_oct * v.level).exp2();
                v.coeffs = svf_coeffs(cutoff, t.resonance, sample_rate);
            }
            v.clock = v.clock.wrapping_add(1);
            let white = if t.noise > 0.0 {
                v.noise ^= v.noise << 13;
                v.noise ^= v.noise >> 17;
                v.noise ^= v.noise << 5;
                (v.noise as f32 / u32::MAX as f32) * 2.0 - 1.0
            } else {
                0.0
            };
            let gain = v.level * v.velocity * VOICE_LEVEL;
            let inc1 = if unison {
                v.phase_inc / detune
            } else {
                v.phase_inc
            };
            let o1 = oscillator(&self.sine, v.phase, inc1, t.brightness);
            v.phase += inc1;
            if v.phase >= 1.0 {
                v.phase -= 1.0;
            }
            let (sl, sr) = if unison {
                let inc2 = (v.phase_inc * detune).min(0.49);
                let o2 = oscillator(&self.sine, v.phase2, inc2, t.brightness);
                v.phase2 += inc2;
                if v.phase2 >= 1.0 {
                    v.phase2 -= 1.0;
                }
                // Two oscillators spread by Width; noise in both.
                let (a, b) = (o1 + (white - o1) * t.noise, o2 + (white - o2) * t.noise);
                let (mid, side) = ((a + b) * 0.5, (a - b) * 0.5 * t.width);
                let fl = svf(&mut v.svf[0], v.coeffs, mid + side);
                let fr = svf(&mut v.svf[1], v.coeffs, mid - side);
                (fl, fr)
            } else {
                let m = svf(&mut v.svf[0], v.coeffs, o1 + (white - o1) * t.noise);
                (m, m)
            };
            l += sl * gain * v.pan_l;
            r += sr * gain * v.pan_r;
        }
        (l, r)
    }

    /// The filters ring down exponentially: flush their states before they turn denormal (and
    /// guard the levels against float drift) at the end of a block.
    pub fn flush_denormals(&mut self) {
        for v in &mut self.voices {
            if v.level.abs() < 1e-20 {
                v.level = 0.0;
            }
            for s in v.svf.iter_mut().flatten() {
                if s.abs() < 1e-20 {
                    *s = 0.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Note {
        Note {
            start_beats: 0.0,
            length_beats: 1.0,
            pitch: 69,
            velocity: 1.0,
            part: Part::Melody,
        }
    }

    const ENV: Envelope = Envelope {
        attack: 48.0,
        decay: 4_800.0,
        sustain: 0.6,
        release: 480.0,
    };

    fn timbre(brightness: f32) -> Timbre {
        Timbre {
            brightness,
            cutoff_log2: 20_000f32.log2(),
            resonance: 0.0,
            filter_env_oct: 0.0,
            noise: 0.0,
            width: 0.0,
            detune_cents: 0.0,
        }
    }

    #[test]
    fn first_sample_sounds_and_release_ends_in_silence() {
        let mut out = NoteSink::with_capacity(16);
        let mut pool = VoicePool::new(4);
        pool.note_on(&note(), 0, 1.0, 100, 48_000.0, &ENV, &mut out);
        for brightness in [0.0, 0.5, 1.0] {
            let mut p = VoicePool::new(1);
            p.note_on(&note(), 0, 1.0, 100, 48_000.0, &ENV, &mut out);
            let (l, r) = p.tick(0, &timbre(brightness), 48_000.0, &mut out);
            assert!(l > 0.0 && r > 0.0, "brightness {brightness}: {l} {r}");
        }
        out.clear();
        let mut last = 0.0;
        for i in 0..2_000 {
            last = pool.tick(i, &timbre(0.5), 48_000.0, &mut out).0;
        }
        assert_eq!(last, 0.0);
        assert_eq!(pool.active(), 0);
        assert_eq!(
            out.events(),
            &[NoteOut {
                offset: 100,
                on: false,
                pitch: 69,
                velocity: 0.0,
                channel: 0
            }]
        );
    }

    #[test]
    fn stealing_takes_the_oldest_voice_and_ends_its_midi_note() {
        let mut out = NoteSink::with_capacity(16);
        let mut pool = VoicePool::new(2);
        for i in 0..3 {
            let n = Note {
                pitch: 60 + i,
                ..note()
            };
            pool.note_on(&n, 7, 1.0, i64::MAX, 48_000.0, &ENV, &mut out);
        }
        assert_eq!(pool.active(), 2);
        let ages: Vec<u64> = pool.voices.iter().map(|v| v.age).collect();
        assert_eq!(ages, vec![2, 1]);
        let kinds: Vec<(bool, u8)> = out.events().iter().map(|e| (e.on, e.pitch)).collect();
        assert_eq!(kinds, vec![(true, 60), (true, 61), (false, 60), (true, 62)]);
    }
}
