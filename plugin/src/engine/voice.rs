//! A fixed pool of synth voices: one or two (unison, detuned and spread) oscillators
//! (`oscillator.rs`) plus noise, the resonant low-pass (`filter.rs`) opened by the envelope, a
//! linear ADSR (each voice's, here) and a constant-power pan per part.
//!
//! Voices sit in groups of four: each voice's envelope and note bookkeeping run one voice at a
//! time (they branch), then the oscillators, filters and mix of the whole group run as one
//! four-lane vector computation (`wide::f32x4`: SSE2 on x86-64, NEON on ARM, plain code
//! elsewhere). A group with no sounding voice is skipped.
//! `new` allocates; everything else runs on the audio thread without allocating.

use wide::f32x4;

use super::filter::{svf, svf_coeffs};
pub use super::oscillator::PictureWaves;
use super::oscillator::{analog_table, oscillator, wrap, Sources};
use super::sequencer::onset_offset;
use super::{NoteOut, NoteSink};
use crate::score::{Note, Part};
use crate::wavetable::{self, MipTable};

pub const MAX_VOICES: usize = 32;
/// Level of each voice before the master gain, leaving headroom for chords.
pub(super) const VOICE_LEVEL: f32 = 0.35;
/// Filter coefficients are recomputed every this many samples of a voice's life (counted from
/// its note-on, so the schedule does not depend on block boundaries).
const FILTER_UPDATE: u32 = 32;
/// Where a new oscillator starts in its cycle: both the sine and the falling ramp are positive
/// here, so the first sample of every note is non-zero (an onset is visible on its own sample).
const START_PHASE: f32 = 0.25;
/// Unison detunes the upper oscillator by up to 100 cents: the octave level is chosen for it.
pub(super) const DETUNE_MARGIN: f32 = 1.06;

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
    velocity: f32,
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
    /// The part's index (`Part as usize`), for its level.
    part: u8,
    /// Samples since the note-on.
    clock: u32,
    noise: u32,
    /// The log2 cutoff and resonance the lane's filter coefficients were last made for (a
    /// sustained note under a steady timbre keeps them, without recomputing).
    filter_for: (f32, f32),
}

impl Voice {
    const IDLE: Voice = Voice {
        stage: Stage::Idle,
        level: 0.0,
        step: 0.0,
        release_samples: 1.0,
        velocity: 0.0,
        end_beat: 0.0,
        release_at: i64::MAX,
        age: 0,
        decay_step: 0.0,
        sustain: 0.6,
        pitch: 0,
        channel: 0,
        part: 0,
        clock: 0,
        noise: 1,
        filter_for: (f32::NAN, f32::NAN),
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
pub struct VoiceSound {
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
    /// Each pitched part's cutoff offset in octaves (melody, harmony, bass).
    pub tone_oct: [f32; 3],
    /// Each pitched part's share of the picture's wave, 0..1.
    pub picture: [f32; 3],
}

/// How a part's voices differ: the melody plucks a little right of centre, the chords swell in
/// softly on the left, the bass sits in the middle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Voicing {
    /// -1 left .. 1 right.
    pub pan: f32,
    /// The part's level under the note's velocity.
    pub level: f32,
    /// How much longer its attack is than the envelope's.
    pub attack_scale: f32,
}

impl Voicing {
    pub(super) const fn of(part: Part) -> Voicing {
        let (pan, level, attack_scale) = match part {
            Part::Melody => (0.15, 1.0, 1.0),
            Part::Harmony => (-0.3, 0.5, 6.0),
            Part::Bass | Part::Drums => (0.0, 0.9, 1.0),
        };
        Voicing {
            pan,
            level,
            attack_scale,
        }
    }
}

/// Envelope times at note-on, in samples, and the sustain level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Envelope {
    pub attack: f32,
    pub decay: f32,
    pub sustain: f32,
    pub release: f32,
    /// How much longer each pitched part's times are (melody, harmony, bass).
    pub part_scale: [f32; 3],
}

/// What every voice's envelope reads this sample.
struct Sample<'a> {
    /// The block-relative sample number.
    index: i64,
    sound: &'a VoiceSound,
    part_gain: &'a [f32; 4],
    /// Whether any part plays the picture's wave.
    any_picture: bool,
    sample_rate: f32,
}

/// Envelopes and note bookkeeping for a lane of four voices, a voice at a time: each voice's gain,
/// noise sample and picture share this sample (releases due now start, filters retune every
/// `FILTER_UPDATE` samples); `None` when none of the four sounds.
///
/// (The four voices' results are gathered into vectors from registers: written to an array a
/// lane at a time and read back as one vector, they stalled on store forwarding, about a sixth of
/// the voices' time.)
#[inline(always)]
fn envelopes(
    voices: &mut [Voice],
    g: &mut Lanes,
    now: &Sample,
    out: &mut NoteSink,
) -> Option<(f32x4, f32x4, f32x4)> {
    let mut one = |i: usize| match voices.get_mut(i) {
        Some(v) => envelope(v, i, g, now, out),
        None => None,
    };
    let (a, b, c, d) = (one(0), one(1), one(2), one(3));
    if a.is_none() && b.is_none() && c.is_none() && d.is_none() {
        return None;
    }
    let silent = (0.0, 0.0, 0.0);
    let (a, b, c, d) = (
        a.unwrap_or(silent),
        b.unwrap_or(silent),
        c.unwrap_or(silent),
        d.unwrap_or(silent),
    );
    Some((
        f32x4::new([a.0, b.0, c.0, d.0]),
        f32x4::new([a.1, b.1, c.1, d.1]),
        f32x4::new([a.2, b.2, c.2, d.2]),
    ))
}

/// One voice's envelope and bookkeeping this sample (lane `i` of `g`): its gain, noise sample and
/// picture share, or `None` when it is silent.
#[inline(always)]
fn envelope(
    v: &mut Voice,
    i: usize,
    g: &mut Lanes,
    now: &Sample,
    out: &mut NoteSink,
) -> Option<(f32, f32, f32)> {
    let &Sample {
        index,
        sound: t,
        part_gain,
        any_picture,
        sample_rate,
    } = now;
    if v.stage == Stage::Idle {
        return None;
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
            return None;
        }
        _ => {}
    }
    let part = usize::from(v.part).min(2);
    let picture = if any_picture { t.picture[part] } else { 0.0 };
    if v.clock.is_multiple_of(FILTER_UPDATE) {
        let key = (
            t.cutoff_log2 + t.tone_oct[part] + t.filter_env_oct * v.level,
            t.resonance,
        );
        if key != v.filter_for {
            v.filter_for = key;
            let c = svf_coeffs(key.0.exp2(), key.1, sample_rate);
            for (lanes, c) in g.coeffs.iter_mut().zip(c) {
                *lanes = with_lane(*lanes, i, c);
            }
        }
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
    let gain = v.level * v.velocity * VOICE_LEVEL * part_gain[usize::from(v.part) & 3];
    Some((gain, white, picture))
}

/// The signal state of four voices, lane `i` belonging to voice `4 * group + i`.
#[derive(Clone, Copy, Debug)]
struct Lanes {
    phase: f32x4,
    phase_inc: f32x4,
    /// Second (unison) oscillator.
    phase2: f32x4,
    /// Filter states, left and right, and the shared coefficients.
    svf: [[f32x4; 2]; 2],
    coeffs: [f32x4; 3],
    pan_l: f32x4,
    pan_r: f32x4,
    /// Each lane's octave level in the wavetables (`wavetable::level_for`), its cycle's length
    /// (`wavetable::cycle_len`) and where that level starts in the analog table (in sample
    /// pairs).
    levels: [u32; 4],
    lens: f32x4,
    analog_at: [u32; 4],
    /// How much each lane still plays the replaced score's wave (1 at the swap, fading to 0).
    old: f32x4,
}

impl Lanes {
    const SILENT: Lanes = Lanes {
        phase: f32x4::ZERO,
        phase_inc: f32x4::ZERO,
        phase2: f32x4::ZERO,
        svf: [[f32x4::ZERO; 2]; 2],
        coeffs: [f32x4::ZERO; 3],
        pan_l: f32x4::ZERO,
        pan_r: f32x4::ZERO,
        levels: [0; 4],
        lens: f32x4::splat(wavetable::CYCLE as f32),
        analog_at: [0; 4],
        old: f32x4::ZERO,
    };
}

/// Lane `i` of `v` set to `x`.
fn with_lane(v: f32x4, i: usize, x: f32) -> f32x4 {
    let mut a = v.to_array();
    a[i] = x;
    f32x4::from(a)
}

pub struct VoicePool {
    voices: Vec<Voice>,
    lanes: Vec<Lanes>,
    next_age: u64,
    /// The sine and the band-limited sawtooth at every octave level ([`analog_table`]).
    analog: Box<[f32]>,
}

impl VoicePool {
    pub fn new(capacity: usize) -> Self {
        VoicePool {
            voices: vec![Voice::IDLE; capacity],
            lanes: vec![Lanes::SILENT; capacity.div_ceil(4)],
            next_age: 0,
            analog: analog_table(&MipTable::saw()),
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
        self.lanes.fill(Lanes::SILENT);
    }

    /// Releases every sounding note at the start of the block (each with its own release time).
    pub fn release_all(&mut self, out: &mut NoteSink) {
        for v in &mut self.voices {
            v.release(v.release_samples, 0, out);
        }
    }

    /// A new score's wave takes over: the lanes sounding now fade from the old wave to it.
    pub fn begin_wave_fade(&mut self) {
        for (voices, g) in self.voices.chunks(4).zip(self.lanes.iter_mut()) {
            let mut old = [0.0; 4];
            for (o, v) in old.iter_mut().zip(voices) {
                if v.stage != Stage::Idle {
                    *o = 1.0;
                }
            }
            g.old = f32x4::from(old);
        }
    }

    /// Works out, for a block starting at `start`, on which sample each held note lets go.
    pub fn schedule_releases(&mut self, start: f64, beats_per_sample: f64, block_len: usize) {
        for v in &mut self.voices {
            if matches!(v.stage, Stage::Attack | Stage::Decay | Stage::Sustain) {
                let at = onset_offset(v.end_beat, start, beats_per_sample);
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
        let scale = match note.part {
            Part::Drums => 1.0,
            p => env.part_scale[p as usize],
        };
        let scale = if scale.is_finite() {
            scale.clamp(0.1, 10.0)
        } else {
            1.0
        };
        let (attack_samples, release_samples) = (env.attack * scale, env.release * scale);
        let decay_samples = env.decay * scale;
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
        let Voicing {
            pan,
            level: part_level,
            attack_scale,
        } = Voicing::of(note.part);
        let channel = note.part.channel();
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
        *v = Voice {
            stage: Stage::Attack,
            level,
            step: (1.0 - level) / attack_samples,
            release_samples,
            velocity: note.velocity * part_level,
            end_beat,
            release_at,
            age: self.next_age,
            decay_step: (1.0 - env.sustain) / decay_samples.max(1.0),
            sustain: env.sustain,
            pitch: note.pitch,
            channel,
            part: note.part as u8,
            clock: 0,
            // Deterministic noise, different for each note.
            noise: 0x9e37_79b9 ^ (u32::from(note.pitch) << 16) ^ (self.next_age as u32) | 1,
            filter_for: (f32::NAN, f32::NAN),
        };
        self.next_age += 1;
        // A free voice starts at a known phase with a quiet filter; a stolen one keeps its phase
        // and filter, so the waveform stays continuous through the takeover.
        let (g, i) = (&mut self.lanes[slot / 4], slot % 4);
        if idle {
            g.phase = with_lane(g.phase, i, START_PHASE);
            g.phase2 = with_lane(g.phase2, i, START_PHASE);
            for s in g.svf.iter_mut().flatten() {
                *s = with_lane(*s, i, 0.0);
            }
        }
        let inc = (freq / f64::from(sample_rate)).min(0.49) as f32;
        g.phase_inc = with_lane(g.phase_inc, i, inc);
        let level = wavetable::level_for(inc * DETUNE_MARGIN);
        g.levels[i] = level as u32;
        g.lens = with_lane(g.lens, i, wavetable::cycle_len(level) as f32);
        g.analog_at[i] = wavetable::level_start(level) as u32;
        g.old = with_lane(g.old, i, 0.0);
        g.pan_l = with_lane(g.pan_l, i, angle.cos());
        g.pan_r = with_lane(g.pan_r, i, angle.sin());
    }

    /// One stereo sample of all voices. `index` is the block-relative sample number;
    /// `part_gain[p]` scales the voices of part `p`.
    pub fn tick(
        &mut self,
        index: i64,
        t: &VoiceSound,
        part_gain: &[f32; 4],
        sample_rate: f32,
        waves: &PictureWaves,
        out: &mut NoteSink,
    ) -> (f32, f32) {
        let src = Sources {
            analog: &self.analog,
            waves,
        };
        let fade = f32x4::splat(waves.fade_step);
        // Whether any part plays the picture's wave (or a lane still fades out of an old one):
        // if not, no lane pays for it.
        let any_picture = t.picture.iter().any(|p| *p > 0.0);
        let unison = t.detune_cents > 0.01;
        // 2^(cents/1200) to within 3e-5 for up to 100 cents, without a powf per sample.
        let x = f64::from(t.detune_cents) * (std::f64::consts::LN_2 / 1200.0);
        let detune = 1.0 + x + 0.5 * x * x + x * x * x / 6.0;
        let (detune_up, detune_down) = (
            f32x4::splat(detune as f32),
            f32x4::splat((1.0 / detune) as f32),
        );
        let (brightness, noise, width) = (
            f32x4::splat(t.brightness),
            f32x4::splat(t.noise),
            f32x4::splat(t.width),
        );
        let half = f32x4::splat(0.5);
        let now = Sample {
            index,
            sound: t,
            part_gain,
            any_picture,
            sample_rate,
        };
        let (mut acc_l, mut acc_r) = (f32x4::ZERO, f32x4::ZERO);
        for (voices, g) in self.voices.chunks_mut(4).zip(self.lanes.iter_mut()) {
            let Some((gain, white, picture)) = envelopes(voices, g, &now, out) else {
                continue;
            };
            // Oscillators, filters and mix, four voices at once.
            let picture = if any_picture {
                let on = picture
                    .simd_gt(f32x4::ZERO)
                    .any()
                    .then_some((picture, g.old));
                g.old = (g.old - fade).max(f32x4::ZERO);
                on
            } else {
                g.old = f32x4::ZERO;
                None
            };
            let inc1 = if unison {
                g.phase_inc * detune_down
            } else {
                g.phase_inc
            };
            let o1 = oscillator(
                &src,
                g.phase,
                g.levels,
                g.lens,
                g.analog_at,
                brightness,
                picture,
            );
            g.phase = wrap(g.phase + inc1);
            let (sl, sr) = if unison {
                let inc2 = (g.phase_inc * detune_up).min(f32x4::splat(0.49));
                let o2 = oscillator(
                    &src,
                    g.phase2,
                    g.levels,
                    g.lens,
                    g.analog_at,
                    brightness,
                    picture,
                );
                g.phase2 = wrap(g.phase2 + inc2);
                // Two oscillators spread by Width; noise in both.
                let (a, b) = (o1 + (white - o1) * noise, o2 + (white - o2) * noise);
                let (mid, side) = ((a + b) * half, (a - b) * half * width);
                let fl = svf(&mut g.svf[0], &g.coeffs, mid + side);
                let fr = svf(&mut g.svf[1], &g.coeffs, mid - side);
                (fl, fr)
            } else {
                let m = svf(&mut g.svf[0], &g.coeffs, o1 + (white - o1) * noise);
                (m, m)
            };
            acc_l += sl * gain * g.pan_l;
            acc_r += sr * gain * g.pan_r;
        }
        (sum(acc_l), sum(acc_r))
    }

    /// The filters ring down exponentially: flush their states before they turn denormal (and
    /// guard the levels against float drift) at the end of a block.
    pub fn flush_denormals(&mut self) {
        for v in &mut self.voices {
            if v.level.abs() < 1e-20 {
                v.level = 0.0;
            }
        }
        let tiny = f32x4::splat(1e-20);
        for g in &mut self.lanes {
            for s in g.svf.iter_mut().flatten() {
                *s = s.abs().simd_lt(tiny).select(f32x4::ZERO, *s);
            }
        }
    }
}

/// The four lanes summed in a fixed order.
#[inline(always)]
fn sum(v: f32x4) -> f32 {
    let a = v.to_array();
    (a[0] + a[2]) + (a[1] + a[3])
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn the_analog_table_pairs_the_sine_with_the_sawtooth() {
        let saw = MipTable::saw();
        let t = analog_table(&saw);
        for level in [0, 5, 10] {
            let len = wavetable::cycle_len(level);
            for i in [0, len / 4, len / 2 + 3, len] {
                let at = 2 * (wavetable::level_start(level) + i);
                let x = (i % len) as f32 / len as f32 * std::f32::consts::TAU;
                assert!((t[at] - x.sin()).abs() < 1e-6);
                assert_eq!(t[at + 1], saw.frame(level, 0)[i]);
            }
        }
    }

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
        part_scale: [1.0; 3],
    };

    /// A plain open timbre (no filter movement, noise or unison) at `brightness`.
    pub(in crate::engine) fn timbre(brightness: f32) -> VoiceSound {
        VoiceSound {
            brightness,
            cutoff_log2: 20_000f32.log2(),
            resonance: 0.0,
            filter_env_oct: 0.0,
            noise: 0.0,
            width: 0.0,
            detune_cents: 0.0,
            tone_oct: [0.0; 3],
            picture: [0.0; 3],
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
            let (l, r) = p.tick(
                0,
                &timbre(brightness),
                &[1.0; 4],
                48_000.0,
                &PictureWaves::NONE,
                &mut out,
            );
            assert!(l > 0.0 && r > 0.0, "brightness {brightness}: {l} {r}");
        }
        out.clear();
        let mut last = 0.0;
        for i in 0..2_000 {
            last = pool
                .tick(
                    i,
                    &timbre(0.5),
                    &[1.0; 4],
                    48_000.0,
                    &PictureWaves::NONE,
                    &mut out,
                )
                .0;
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
