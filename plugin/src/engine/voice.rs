//! A fixed pool of synth voices: one or two (unison, detuned and spread) oscillators
//! (`oscillator.rs`) plus noise, the resonant low-pass (`filter.rs`) opened by the envelope, a
//! linear ADSR (each voice's, here) and a constant-power pan per part.
//!
//! Voices sit in groups of four, and a group's envelopes, oscillators, filters and mix run as one
//! four-lane vector computation (`wide::f32x4`: SSE2 on x86-64, NEON on ARM, plain code
//! elsewhere); only what is rare goes a voice at a time (a stage ending, a release starting, a
//! filter retuning, noise). The pool renders a chunk of samples at a time, a group through the
//! whole chunk before the next, so a group's state stays in registers. A group with no sounding
//! voice is skipped. `new` allocates; everything else runs on the audio thread without
//! allocating.

use wide::{f32x4, i32x4};

use super::filter::{svf, svf_coeffs};
pub use super::oscillator::PictureWaves;
use super::oscillator::{
    analog_table, oscillator, wrap, AnalogTable, FrameLayout, FramePos, Sources,
};
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

/// A voice's note bookkeeping. Its envelope's level, step and clock and its velocity live in its
/// group's [`Lanes`], where four voices' envelopes run as one vector computation.
#[derive(Clone, Copy, Debug)]
struct Voice {
    stage: Stage,
    release_samples: f32,
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
    noise: u32,
    /// The log2 cutoff and resonance the lane's filter coefficients were last made for (a
    /// sustained note under a steady timbre keeps them, without recomputing).
    filter_for: (f32, f32),
}

impl Voice {
    const IDLE: Voice = Voice {
        stage: Stage::Idle,
        release_samples: 1.0,
        end_beat: 0.0,
        release_at: i64::MAX,
        age: 0,
        decay_step: 0.0,
        sustain: 0.6,
        pitch: 0,
        channel: 0,
        part: 0,
        noise: 1,
        filter_for: (f32::NAN, f32::NAN),
    };
}

/// Voice `v` (lane `i` of `g`) into `stage`, at `level`, moving by `step` a sample.
#[inline(always)]
fn enter(v: &mut Voice, g: &mut Lanes, i: usize, stage: Stage, level: f32, step: f32) {
    v.stage = stage;
    // The level the stage ends at: the attack's top, the decay's sustain, the release's zero.
    let (hi, lo) = match stage {
        Stage::Attack => (1.0, f32::NEG_INFINITY),
        Stage::Decay => (f32::INFINITY, v.sustain),
        Stage::Release => (f32::INFINITY, 0.0),
        Stage::Idle | Stage::Sustain => (f32::INFINITY, f32::NEG_INFINITY),
    };
    g.level = with_lane(g.level, i, level);
    g.step = with_lane(g.step, i, step);
    g.hi = with_lane(g.hi, i, hi);
    g.lo = with_lane(g.lo, i, lo);
}

/// Voice `v` (lane `i` of `g`) silent and free.
#[inline(always)]
fn go_idle(v: &mut Voice, g: &mut Lanes, i: usize) {
    *v = Voice::IDLE;
    enter(v, g, i, Stage::Idle, 0.0, 0.0);
    g.velocity = with_lane(g.velocity, i, 0.0);
}

/// Starts the release of voice `v` (lane `i` of `g`: the note's MIDI note-off, at `offset`).
/// (Inlined, as the other lane changes: a group's lanes passed to a call would have to live in
/// memory through its whole chunk loop.)
#[inline(always)]
fn release(
    v: &mut Voice,
    g: &mut Lanes,
    i: usize,
    release_samples: f32,
    offset: u32,
    out: &mut NoteSink,
) {
    if matches!(v.stage, Stage::Idle | Stage::Release) {
        return;
    }
    out.push(NoteOut {
        offset,
        on: false,
        pitch: v.pitch,
        velocity: 0.0,
        channel: v.channel,
    });
    v.release_samples = release_samples;
    v.release_at = i64::MAX;
    // Linear to exactly zero over the release time, from wherever the level is.
    let level = g.level.to_array()[i];
    enter(
        v,
        g,
        i,
        Stage::Release,
        level,
        -level / release_samples.max(1.0),
    );
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

/// The most samples [`VoicePool::render`] takes at once.
pub const CHUNK: usize = 64;

/// What the voices read at one sample: the smoothed sound, each part's gain and where the
/// picture's wave is played from (0..1 through its frames).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoiceControl {
    pub sound: VoiceSound,
    pub part_gain: [f32; 4],
    pub position: f32,
}

impl VoiceControl {
    /// Silence: no parts heard.
    pub const SILENT: VoiceControl = VoiceControl {
        sound: VoiceSound {
            brightness: 0.0,
            cutoff_log2: 10.0,
            resonance: 0.0,
            filter_env_oct: 0.0,
            noise: 0.0,
            width: 0.0,
            detune_cents: 0.0,
            tone_oct: [0.0; 3],
            picture: [0.0; 3],
        },
        part_gain: [0.0; 4],
        position: 0.0,
    };
}

/// What every group of voices derives from a sample's [`VoiceSound`], worked out once for all
/// groups.
#[derive(Clone, Copy, Debug)]
struct Derived {
    /// Whether the unison's second oscillator sounds.
    unison: bool,
    /// Whether any part plays the picture's wave (if not, no lane pays for it).
    any_picture: bool,
    detune_up: f32x4,
    detune_down: f32x4,
    brightness: f32x4,
    noise: f32x4,
    width: f32x4,
    /// Where the sample reads the playing and the old picture's wave.
    frames: [FramePos; 2],
}

impl Derived {
    const SILENT: Derived = Derived {
        unison: false,
        any_picture: false,
        detune_up: f32x4::ONE,
        detune_down: f32x4::ONE,
        brightness: f32x4::ZERO,
        noise: f32x4::ZERO,
        width: f32x4::ZERO,
        frames: [FramePos::FIRST; 2],
    };

    /// What `t` asks of every group, with the picture's wave at `position` in the playing and
    /// the old wave (of `frames` frames each).
    #[inline(always)]
    fn of(t: &VoiceSound, position: f32, frames: [usize; 2]) -> Derived {
        Derived::sound(t).at(position, frames)
    }

    /// This sound's derivation read at `position` in waves of `frames` frames.
    #[inline(always)]
    fn at(self, position: f32, frames: [usize; 2]) -> Derived {
        Derived {
            frames: if self.any_picture {
                [
                    FramePos::of(position, frames[0]),
                    FramePos::of(position, frames[1]),
                ]
            } else {
                [FramePos::FIRST; 2]
            },
            ..self
        }
    }

    /// What `t` asks of every group, before the wave's position.
    #[inline(always)]
    fn sound(t: &VoiceSound) -> Derived {
        let unison = t.detune_cents > 0.01;
        let (detune_up, detune_down) = if unison {
            // 2^(cents/1200) to within 3e-5 for up to 100 cents, without a powf per sample.
            let x = f64::from(t.detune_cents) * (std::f64::consts::LN_2 / 1200.0);
            let detune = 1.0 + x + 0.5 * x * x + x * x * x / 6.0;
            (
                f32x4::splat(detune as f32),
                f32x4::splat((1.0 / detune) as f32),
            )
        } else {
            (f32x4::ONE, f32x4::ONE)
        };
        let any_picture = t.picture.iter().any(|p| *p > 0.0);
        Derived {
            unison,
            any_picture,
            detune_up,
            detune_down,
            brightness: f32x4::splat(t.brightness),
            noise: f32x4::splat(t.noise),
            width: f32x4::splat(t.width),
            frames: [FramePos::FIRST; 2],
        }
    }
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

/// The signal state of four voices, lane `i` belonging to voice `4 * group + i`.
#[derive(Clone, Copy, Debug)]
struct Lanes {
    /// The envelopes: level, per-sample change, and the levels whose crossing ends the stage
    /// (above `hi`, below `lo`).
    level: f32x4,
    step: f32x4,
    hi: f32x4,
    lo: f32x4,
    /// The note's velocity under its part's level (0 while idle).
    velocity: f32x4,
    /// Samples since the note-on (the filter retunes every `FILTER_UPDATE` of them).
    clock: i32x4,
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
    analog_at: i32x4,
    /// How much each lane still plays the replaced score's wave (1 at the swap, fading to 0).
    old: f32x4,
}

impl Lanes {
    const SILENT: Lanes = Lanes {
        level: f32x4::ZERO,
        step: f32x4::ZERO,
        hi: f32x4::splat(f32::INFINITY),
        lo: f32x4::splat(f32::NEG_INFINITY),
        velocity: f32x4::ZERO,
        clock: i32x4::ZERO,
        phase: f32x4::ZERO,
        phase_inc: f32x4::ZERO,
        phase2: f32x4::ZERO,
        svf: [[f32x4::ZERO; 2]; 2],
        coeffs: [f32x4::ZERO; 3],
        pan_l: f32x4::ZERO,
        pan_r: f32x4::ZERO,
        levels: [0; 4],
        lens: f32x4::splat(wavetable::CYCLE as f32),
        analog_at: i32x4::ZERO,
        old: f32x4::ZERO,
    };
}

/// Lane `i` of `v` set to `x`.
#[inline(always)]
fn with_lane(v: f32x4, i: usize, x: f32) -> f32x4 {
    let mut a = v.to_array();
    a[i] = x;
    f32x4::from(a)
}

/// A group's lanes as masks (all bits set where true): which voices sound, and which play each
/// part (melody, harmony, bass). Fixed through a render (notes start between renders); a voice
/// that ends within one leaves `live`.
#[derive(Clone, Copy)]
struct Masks {
    live: f32x4,
    part: [f32x4; 3],
}

impl Masks {
    fn of(voices: &[Voice]) -> Masks {
        let lane = |f: &dyn Fn(&Voice) -> bool| {
            let mut a = [0.0f32; 4];
            for (x, v) in a.iter_mut().zip(voices) {
                if f(v) {
                    *x = f32::from_bits(u32::MAX);
                }
            }
            f32x4::from(a)
        };
        Masks {
            live: lane(&|v| v.stage != Stage::Idle),
            part: [0u8, 1, 2].map(|p| lane(&|v| v.part == p)),
        }
    }

    /// Each lane's part's value of `per_part` (melody, harmony, bass; the voices play no
    /// drums): the parts' masks are disjoint, so masking each value and joining them picks it.
    #[inline(always)]
    fn by_part(&self, per_part: [f32; 3]) -> f32x4 {
        let [m, h, b] = self.part;
        let [pm, ph, pb] = per_part;
        (m & f32x4::splat(pm)) | (h & f32x4::splat(ph)) | (b & f32x4::splat(pb))
    }
}

/// The envelopes and note bookkeeping of a group of four voices for one sample (block sample
/// `index`), as one vector computation: releases due now start, each level takes its step, a
/// level that crosses its stage's end moves on (a voice at a time, rarely), and the filters of
/// voices whose clock comes round retune (`filter_in` counts down to the next of them). Returns each lane's gain, noise sample and picture
/// share, or `None` when none of the four sounds.
///
/// `EVENTS` false compiles the sample for a stretch in which no release is due and no filter
/// retunes (`filter_in` is not 0): the group's loop runs such stretches without the code (and
/// the calls) those take, so its state stays in registers. `part_gain` is each lane's part's
/// gain at this sample.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn envelopes<const EVENTS: bool>(
    voices: &mut [Voice],
    g: &mut Lanes,
    masks: &mut Masks,
    next_release: &mut i64,
    filter_in: &mut u32,
    index: i64,
    c: &VoiceControl,
    part_gain: f32x4,
    any_picture: bool,
    sample_rate: f32,
    out: &mut NoteSink,
) -> Option<(f32x4, f32x4, f32x4)> {
    if EVENTS && index >= *next_release {
        for (i, v) in voices.iter_mut().enumerate() {
            if index >= v.release_at {
                release(v, g, i, v.release_samples, index.max(0) as u32, out);
            }
        }
        *next_release = earliest_release(voices);
    }
    g.level += g.step;
    if (g.level.simd_ge(g.hi) | g.level.simd_le(g.lo)).any() {
        let (level, hi, lo) = (g.level.to_array(), g.hi.to_array(), g.lo.to_array());
        for (i, v) in voices.iter_mut().enumerate() {
            if !(level[i] >= hi[i] || level[i] <= lo[i]) {
                continue;
            }
            match v.stage {
                Stage::Attack => enter(v, g, i, Stage::Decay, 1.0, -v.decay_step),
                Stage::Decay => enter(v, g, i, Stage::Sustain, v.sustain, 0.0),
                Stage::Release => {
                    go_idle(v, g, i);
                    masks.live = with_lane(masks.live, i, 0.0);
                }
                _ => {}
            }
        }
    }
    if masks.live.to_bitmask() == 0 {
        return None;
    }
    let t = &c.sound;
    if EVENTS && *filter_in == 0 {
        let (clock, level) = (g.clock.to_array(), g.level.to_array());
        for (i, v) in voices.iter_mut().enumerate() {
            if !(clock[i] as u32).is_multiple_of(FILTER_UPDATE) || v.stage == Stage::Idle {
                continue;
            }
            let part = usize::from(v.part).min(2);
            let key = (
                t.cutoff_log2 + t.tone_oct[part] + t.filter_env_oct * level[i],
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
    }
    g.clock += i32x4::ONE;
    if EVENTS && *filter_in == 0 {
        *filter_in = filter_countdown(g.clock, masks.live);
    } else {
        *filter_in -= 1;
    }
    let white = if t.noise > 0.0 {
        let mut w = [0.0f32; 4];
        for (w, v) in w.iter_mut().zip(voices.iter_mut()) {
            if v.stage != Stage::Idle {
                v.noise ^= v.noise << 13;
                v.noise ^= v.noise >> 17;
                v.noise ^= v.noise << 5;
                *w = (v.noise as f32 / u32::MAX as f32) * 2.0 - 1.0;
            }
        }
        f32x4::from(w)
    } else {
        f32x4::ZERO
    };
    let picture = if any_picture {
        masks.live & masks.by_part(t.picture)
    } else {
        f32x4::ZERO
    };
    let gain = g.level * g.velocity * f32x4::splat(VOICE_LEVEL) * part_gain;
    Some((gain, white, picture))
}

/// How many samples until the clock of one of the `live` lanes comes round to a filter update
/// (0: this one).
#[inline]
fn filter_countdown(clock: i32x4, live: f32x4) -> u32 {
    let (clock, live) = (clock.to_array(), live.to_bitmask());
    (0..4)
        .filter(|i| live & (1 << i) != 0)
        .map(|i| (clock[i].wrapping_neg() & (FILTER_UPDATE as i32 - 1)) as u32)
        .min()
        .unwrap_or(FILTER_UPDATE)
}

/// The earliest sample of the block on which one of `voices` lets go.
#[inline]
fn earliest_release(voices: &[Voice]) -> i64 {
    voices
        .iter()
        .filter(|v| v.stage != Stage::Idle)
        .map(|v| v.release_at)
        .min()
        .unwrap_or(i64::MAX)
}

/// What every group of voices reads through a chunk of samples.
struct Chunk<'a> {
    /// The chunk's first block sample.
    first: i64,
    controls: &'a [VoiceControl],
    /// Whether every sample of the chunk has the same part gains (to the bit).
    steady_gain: bool,
    derived: &'a [Derived],
    sample_rate: f32,
    waves: &'a PictureWaves<'a>,
    analog: &'a AnalogTable,
}

impl Chunk<'_> {
    /// One group of four `voices` (their lanes `lanes`) through the chunk, added into the
    /// chunk's sums `acc` (left, right). `UNISON` and `PICTURE` say whether any sample of the
    /// chunk may play the second oscillator or the picture's wave: each sample still asks its
    /// own [`Derived`], so every instance makes the same samples where it may be used.
    #[inline(always)]
    fn group<const UNISON: bool, const PICTURE: bool>(
        &self,
        voices: &mut [Voice],
        lanes: &mut Lanes,
        acc: (&mut [f32x4; CHUNK], &mut [f32x4; CHUNK]),
        out: &mut NoteSink,
    ) {
        let g = *lanes;
        let masks = Masks::of(voices);
        let layout =
            |t: Option<&MipTable>| t.map_or(FrameLayout::NONE, |t| FrameLayout::of(t, g.levels));
        let mut run = Run {
            g,
            masks,
            next_release: earliest_release(voices),
            filter_in: filter_countdown(g.clock, masks.live),
            layouts: if PICTURE {
                [layout(self.waves.table), layout(self.waves.old)]
            } else {
                [FrameLayout::NONE; 2]
            },
            bases: [(u32::MAX, i32x4::ZERO); 2],
            // (The parts' masks hold through the chunk: one pick serves every sample.)
            steady_gain: self
                .controls
                .first()
                .filter(|_| self.steady_gain)
                .map(|c| masks.by_part(part_gains(c))),
        };
        let (acc_l, acc_r) = acc;
        let m = self.controls.len().min(self.derived.len());
        let mut j = 0;
        while j < m {
            // A sample on which a release is due or a filter retunes goes the whole way; then
            // the samples up to the next such one go without that code.
            if self.first + j as i64 >= run.next_release || run.filter_in == 0 {
                self.sample::<true, UNISON, PICTURE>(j, voices, &mut run, acc_l, acc_r, out);
                j += 1;
                continue;
            }
            let end = (run.next_release - self.first).clamp(0, m as i64) as usize;
            while j < end && run.filter_in != 0 {
                self.sample::<false, UNISON, PICTURE>(j, voices, &mut run, acc_l, acc_r, out);
                j += 1;
            }
        }
        *lanes = run.g;
    }

    /// Chunk sample `j` of a group ([`Chunk::group`]); `EVENTS` as for [`envelopes`].
    #[inline(always)]
    fn sample<const EVENTS: bool, const UNISON: bool, const PICTURE: bool>(
        &self,
        j: usize,
        voices: &mut [Voice],
        run: &mut Run,
        acc_l: &mut [f32x4; CHUNK],
        acc_r: &mut [f32x4; CHUNK],
        out: &mut NoteSink,
    ) {
        let (Some(c), Some(d)) = (self.controls.get(j), self.derived.get(j)) else {
            return;
        };
        let waves = self.waves;
        let any_picture = PICTURE && d.any_picture;
        let part_gain = match run.steady_gain {
            Some(gain) => gain,
            None => run.masks.by_part(part_gains(c)),
        };
        let Some((gain, white, picture)) = envelopes::<EVENTS>(
            voices,
            &mut run.g,
            &mut run.masks,
            &mut run.next_release,
            &mut run.filter_in,
            self.first + j as i64,
            c,
            part_gain,
            any_picture,
            self.sample_rate,
            out,
        ) else {
            return;
        };
        let g = &mut run.g;
        if any_picture {
            for ((frame, base), (layout, at)) in
                run.bases.iter_mut().zip(run.layouts.iter().zip(&d.frames))
            {
                if *frame != at.frame {
                    (*frame, *base) = (at.frame, layout.base(at.frame));
                }
            }
        }
        let src = Sources {
            analog: self.analog,
            waves,
            frames: &d.frames,
            bases: &[run.bases[0].1, run.bases[1].1],
        };
        // Oscillators, filters and mix, four voices at once.
        let picture = if any_picture {
            let on = picture
                .simd_gt(f32x4::ZERO)
                .any()
                .then_some((picture, g.old));
            g.old = (g.old - f32x4::splat(waves.fade_step)).max(f32x4::ZERO);
            on
        } else {
            g.old = f32x4::ZERO;
            None
        };
        let unison = UNISON && d.unison;
        let inc1 = if unison {
            g.phase_inc * d.detune_down
        } else {
            g.phase_inc
        };
        let o1 = oscillator(&src, g.phase, g.lens, g.analog_at, d.brightness, picture);
        g.phase = wrap(g.phase + inc1);
        let (sl, sr) = if unison {
            let half = f32x4::splat(0.5);
            let inc2 = (g.phase_inc * d.detune_up).min(f32x4::splat(0.49));
            let o2 = oscillator(&src, g.phase2, g.lens, g.analog_at, d.brightness, picture);
            g.phase2 = wrap(g.phase2 + inc2);
            // Two oscillators spread by Width; noise in both.
            let (a, b) = (o1 + (white - o1) * d.noise, o2 + (white - o2) * d.noise);
            let (mid, side) = ((a + b) * half, (a - b) * half * d.width);
            let fl = svf(&mut g.svf[0], &g.coeffs, mid + side);
            let fr = svf(&mut g.svf[1], &g.coeffs, mid - side);
            (fl, fr)
        } else {
            let m = svf(&mut g.svf[0], &g.coeffs, o1 + (white - o1) * d.noise);
            (m, m)
        };
        acc_l[j] += sl * gain * g.pan_l;
        acc_r[j] += sr * gain * g.pan_r;
    }
}

/// A group's state through a chunk ([`Chunk::group`]).
struct Run {
    g: Lanes,
    masks: Masks,
    /// The earliest block sample on which one of the group's voices lets go.
    next_release: i64,
    /// Samples until one of the live lanes' filters retunes (0: this one).
    filter_in: u32,
    /// Where the playing and the old wave's frames lie for the four lanes, and where the frame
    /// each last read starts (worked out again only when the sample's frame moves).
    layouts: [FrameLayout; 2],
    bases: [(u32, i32x4); 2],
    /// The lanes' part gains where every sample of the chunk has the same.
    steady_gain: Option<f32x4>,
}

/// A sample's pitched parts' gains (melody, harmony, bass).
#[inline(always)]
fn part_gains(c: &VoiceControl) -> [f32; 3] {
    [c.part_gain[0], c.part_gain[1], c.part_gain[2]]
}

pub struct VoicePool {
    voices: Vec<Voice>,
    lanes: Vec<Lanes>,
    next_age: u64,
    /// The sine and the band-limited sawtooth at every octave level ([`analog_table`]).
    analog: Box<AnalogTable>,
    /// What each sample of a chunk derives for every group (kept here: filled anew each chunk,
    /// never allocated on the audio thread).
    derived: Box<[Derived; CHUNK]>,
}

impl VoicePool {
    pub fn new(capacity: usize) -> Self {
        VoicePool {
            voices: vec![Voice::IDLE; capacity],
            lanes: vec![Lanes::SILENT; capacity.div_ceil(4)],
            next_age: 0,
            analog: analog_table(&MipTable::saw()),
            derived: Box::new([Derived::SILENT; CHUNK]),
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
        for (voices, g) in self.voices.chunks_mut(4).zip(self.lanes.iter_mut()) {
            for (i, v) in voices.iter_mut().enumerate() {
                release(v, g, i, v.release_samples, 0, out);
            }
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
        let (v, g, i) = (&mut self.voices[slot], &mut self.lanes[slot / 4], slot % 4);
        // A stolen note ends for MIDI too.
        let stolen_release = v.release_samples;
        release(v, g, i, stolen_release, offset, out);
        out.push(NoteOut {
            offset,
            on: true,
            pitch: note.pitch,
            velocity: note.velocity,
            channel,
        });
        let idle = v.stage == Stage::Idle;
        let level = if idle { 0.0 } else { g.level.to_array()[i] };
        *v = Voice {
            stage: Stage::Attack,
            release_samples,
            end_beat,
            release_at,
            age: self.next_age,
            decay_step: (1.0 - env.sustain) / decay_samples.max(1.0),
            sustain: env.sustain,
            pitch: note.pitch,
            channel,
            part: note.part as u8,
            // Deterministic noise, different for each note.
            noise: 0x9e37_79b9 ^ (u32::from(note.pitch) << 16) ^ (self.next_age as u32) | 1,
            filter_for: (f32::NAN, f32::NAN),
        };
        enter(
            v,
            g,
            i,
            Stage::Attack,
            level,
            (1.0 - level) / attack_samples,
        );
        g.velocity = with_lane(g.velocity, i, note.velocity * part_level);
        let mut clock = g.clock.to_array();
        clock[i] = 0;
        g.clock = i32x4::from(clock);
        self.next_age += 1;
        // A free voice starts at a known phase with a quiet filter; a stolen one keeps its phase
        // and filter, so the waveform stays continuous through the takeover.
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
        let mut analog_at = g.analog_at.to_array();
        analog_at[i] = wavetable::level_start(level) as i32;
        g.analog_at = i32x4::from(analog_at);
        g.old = with_lane(g.old, i, 0.0);
        g.pan_l = with_lane(g.pan_l, i, angle.cos());
        g.pan_r = with_lane(g.pan_r, i, angle.sin());
    }

    /// Renders a chunk of up to [`CHUNK`] samples of all voices into `left` and `right`
    /// (overwritten): `controls[j]` is what they read at block sample `first + j` (`steady`: every
    /// one of them has the same sound, only the wave's position may move). Each group of
    /// four voices runs through the whole chunk before the next (its state stays in registers);
    /// the groups' sums are added in the same order on every sample as a sample-at-a-time loop
    /// adds them, so the chunking changes no sample. The note-offs the chunk starts are left in
    /// `out` in time order.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &mut self,
        first: i64,
        controls: &[VoiceControl],
        steady: bool,
        sample_rate: f32,
        waves: &PictureWaves,
        left: &mut [f32],
        right: &mut [f32],
        out: &mut NoteSink,
    ) {
        let m = controls.len().min(CHUNK).min(left.len()).min(right.len());
        let mark = out.len();
        let derived = &mut *self.derived;
        let frames = [waves.table, waves.old].map(|t| t.map_or(1, MipTable::frames));
        if steady && m > 0 {
            // (One sound all through the chunk: derived once, read at each sample's position.)
            let sound = Derived::sound(&controls[0].sound);
            for (d, c) in derived[..m].iter_mut().zip(controls) {
                *d = sound.at(c.position, frames);
            }
        } else {
            for (d, c) in derived[..m].iter_mut().zip(controls) {
                *d = Derived::of(&c.sound, c.position, frames);
            }
        }
        let (mut acc_l, mut acc_r) = ([f32x4::ZERO; CHUNK], [f32x4::ZERO; CHUNK]);
        // Whether any sample of the chunk plays the unison or the picture's wave: a group's loop
        // is compiled for each answer, so the usual chunk (neither) carries no code for them and
        // its state fits in the registers.
        let (unison, picture) = derived[..m].iter().fold((false, false), |(u, p), d| {
            (u | d.unison, p | d.any_picture)
        });
        let gains = |c: &VoiceControl| part_gains(c).map(f32::to_bits);
        let chunk = Chunk {
            first,
            controls: &controls[..m],
            steady_gain: controls[..m]
                .iter()
                .all(|c| gains(c) == gains(&controls[0])),
            derived: &derived[..m],
            sample_rate,
            waves,
            analog: &self.analog,
        };
        for (voices, lanes) in self.voices.chunks_mut(4).zip(self.lanes.iter_mut()) {
            if voices.iter().all(|v| v.stage == Stage::Idle) {
                continue;
            }
            let acc = (&mut acc_l, &mut acc_r);
            match (unison, picture) {
                (false, false) => chunk.group::<false, false>(voices, lanes, acc, out),
                (true, false) => chunk.group::<true, false>(voices, lanes, acc, out),
                (false, true) => chunk.group::<false, true>(voices, lanes, acc, out),
                (true, true) => chunk.group::<true, true>(voices, lanes, acc, out),
            }
        }
        for j in 0..m {
            left[j] = sum(acc_l[j]);
            right[j] = sum(acc_r[j]);
        }
        out.sort_from(mark);
    }

    /// One stereo sample of all voices at block sample `index` (a chunk of one; the picture's
    /// wave read at its first frame).
    #[cfg(test)]
    pub fn tick(
        &mut self,
        index: i64,
        t: &VoiceSound,
        part_gain: &[f32; 4],
        sample_rate: f32,
        waves: &PictureWaves,
        out: &mut NoteSink,
    ) -> (f32, f32) {
        let control = VoiceControl {
            sound: *t,
            part_gain: *part_gain,
            position: 0.0,
        };
        let (mut l, mut r) = ([0.0], [0.0]);
        self.render(
            index,
            &[control],
            false,
            sample_rate,
            waves,
            &mut l,
            &mut r,
            out,
        );
        (l[0], r[0])
    }

    /// The filters ring down exponentially: flush their states before they turn denormal (and
    /// guard the levels against float drift) at the end of a block.
    pub fn flush_denormals(&mut self) {
        let tiny = f32x4::splat(1e-20);
        for g in &mut self.lanes {
            g.level = g.level.abs().simd_lt(tiny).select(f32x4::ZERO, g.level);
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
            ..VoiceControl::SILENT.sound
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
