//! The synthesised drum kit (no samples): a fixed pool of one-shot voices, each a General MIDI
//! drum note.
//!
//! - Kick (36): a sine swept from about 160 Hz down to 50 Hz in the first ~50 ms, a 120 ms tail,
//!   and a 2 ms click of noise.
//! - Snare (38): a 185 Hz tone (60 ms) over band-passed noise (3 kHz, 140 ms).
//! - Clap (39): three bursts of band-passed noise 10 ms apart, then a 120 ms tail.
//! - Hi-hats (42 closed, 46 open): six detuned square waves at the classic drum machine's
//!   inharmonic ratios plus noise, high-passed at 7 kHz; 35 ms closed, 300 ms open (a closed hat
//!   chokes an open one).
//! - Shaker (70): high-passed noise, 5 ms in, 50 ms out.
//!
//! Everything is per-sample state computed from the hit's own sample count, so the sound does not
//! depend on block boundaries. `new` allocates nothing on the heap; nothing here does.

use wide::f32x4;

use super::filter::{damping, svf_coeffs};
use super::{NoteOut, NoteSink};
use crate::score::{drum, Note, Part};

/// No hit rings longer than this (the open hat at the longest Decay stops here).
pub const LONGEST_RING_SECONDS: f32 = 4.0;
/// The open hat's decay time constant, the kit's longest.
const OPEN_HAT_SECONDS: f32 = 0.3;

/// How long the kit's longest hit (the open hat) rings until it stops (60 dB down) at Drums Decay
/// `decay`.
pub fn ring_seconds(decay: f32) -> f32 {
    let d = if decay.is_finite() {
        decay.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (OPEN_HAT_SECONDS * 2f32.powf(d) * 1000f32.ln()).min(LONGEST_RING_SECONDS)
}
pub const DRUM_VOICES: usize = 8;

/// The K-weighted energy (both channels, power x seconds, at 48 kHz) of a hit of `pitch` at
/// full velocity and unity gain, with the kit tuned by `tune_st` and its decays scaled by
/// `decay` (as [`DrumKit::hit`] takes them): fitted to the kit's render (`engine::loudness`).
pub fn hit_energy(pitch: u8, tune_st: f32, decay: f32) -> f64 {
    let kind = Kind::of(pitch) as usize;
    let at = |v: f32, lo: f32, step: f32| {
        let x = ((if v.is_finite() { v } else { 0.0 } - lo) / step).clamp(0.0, 3.999);
        (x as usize, f64::from(x - x.floor()))
    };
    let ((ti, tw), (di, dw)) = (at(tune_st, -12.0, 6.0), at(decay, -1.0, 0.5));
    let t = &HIT_ENERGY_DB[kind];
    let row = |i: usize| t[i][di] + (t[i][di + 1] - t[i][di]) * dw;
    let db = row(ti) + (row(ti + 1) - row(ti)) * tw;
    10f64.powf(db / 10.0)
}

/// How fast a hit's energy dies away at the kit's `decay`: the time constant, in seconds, of its
/// main envelope's power (half that of its amplitude).
pub fn energy_seconds(pitch: u8, decay: f32) -> f64 {
    let d = if decay.is_finite() {
        decay.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    0.5 * f64::from(Kind::of(pitch).decay_seconds()) * f64::from(d).exp2()
}

/// Each kind's hit energy in dB (K-weighted, both channels, at 48 kHz, full velocity), by tune
/// (-12, -6, 0, 6, 12 semitones) and decay (-1, -0.5, 0, 0.5, 1): the kit's render, printed by
/// `cargo test -p pixelody --lib print_drum_energies -- --ignored --nocapture`.
#[rustfmt::skip]
const HIT_ENERGY_DB: [[[f64; 5]; 5]; 6] = [
    // KICK
    [
        [-28.30, -27.36, -26.50, -25.69, -24.88],
        [-26.61, -25.53, -24.50, -23.50, -22.50],
        [-25.55, -24.33, -23.14, -21.96, -20.77],
        [-24.92, -23.59, -22.27, -20.96, -19.64],
        [-24.57, -23.16, -21.76, -20.37, -18.96],
    ],
    // SNARE
    [
        [-27.10, -26.06, -24.92, -23.70, -22.41],
        [-26.85, -25.86, -24.77, -23.58, -22.32],
        [-26.69, -25.74, -24.67, -23.51, -22.26],
        [-26.60, -25.67, -24.61, -23.46, -22.23],
        [-26.56, -25.63, -24.59, -23.44, -22.21],
    ],
    // CLAP
    [
        [-29.45, -28.06, -26.66, -25.23, -23.78],
        [-29.45, -28.06, -26.66, -25.23, -23.78],
        [-29.45, -28.06, -26.66, -25.23, -23.78],
        [-29.45, -28.06, -26.66, -25.23, -23.78],
        [-29.45, -28.06, -26.66, -25.23, -23.78],
    ],
    // CLOSED_HAT
    [
        [-37.61, -36.09, -34.58, -33.07, -31.56],
        [-37.57, -36.01, -34.49, -32.97, -31.46],
        [-37.38, -35.88, -34.38, -32.87, -31.36],
        [-37.32, -35.78, -34.27, -32.76, -31.26],
        [-37.15, -35.62, -34.10, -32.58, -31.07],
    ],
    // OPEN_HAT
    [
        [-28.18, -26.70, -25.21, -23.71, -22.22],
        [-28.17, -26.67, -25.17, -23.67, -22.17],
        [-28.10, -26.61, -25.11, -23.60, -22.10],
        [-27.95, -26.46, -24.96, -23.46, -21.96],
        [-27.78, -26.28, -24.78, -23.28, -21.78],
    ],
    // SHAKER
    [
        [-30.47, -29.16, -27.79, -26.40, -24.98],
        [-30.47, -29.16, -27.79, -26.40, -24.98],
        [-30.47, -29.16, -27.79, -26.40, -24.98],
        [-30.47, -29.16, -27.79, -26.40, -24.98],
        [-30.47, -29.16, -27.79, -26.40, -24.98],
    ],
];
/// Level of a full-velocity hit before the part and master gains.
const DRUM_LEVEL: f32 = 0.5;
/// The drum machine's square-wave hi-hat frequencies (Hz).
const HAT_SQUARES: [f32; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];
/// The hats' and shaker's high-pass damping (the voices' filter at 32% resonance: 2 - 1.9 x 0.32).
const HIGH_PASS_K: f32 = damping(0.32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Kick,
    Snare,
    Clap,
    ClosedHat,
    OpenHat,
    Shaker,
}

impl Kind {
    fn of(pitch: u8) -> Kind {
        match pitch {
            drum::KICK | 35 => Kind::Kick,
            drum::CLAP => Kind::Clap,
            drum::CLOSED_HAT | 44 => Kind::ClosedHat,
            drum::OPEN_HAT => Kind::OpenHat,
            drum::SHAKER | 69 | 82 => Kind::Shaker,
            _ => Kind::Snare,
        }
    }

    /// The time constant (seconds) of the kind's main envelope at the kit's default Decay.
    const fn decay_seconds(self) -> f32 {
        match self {
            Kind::Kick => 0.12,
            Kind::Snare => 0.14,
            Kind::Clap => 0.12,
            Kind::ClosedHat => 0.035,
            Kind::OpenHat => OPEN_HAT_SECONDS,
            Kind::Shaker => 0.05,
        }
    }

    /// Pan: -1 left .. 1 right.
    fn pan(self) -> f32 {
        match self {
            Kind::ClosedHat | Kind::OpenHat => 0.25,
            Kind::Shaker => -0.3,
            Kind::Clap => -0.1,
            _ => 0.0,
        }
    }
}

/// sin(2 pi x) for x in 0..1, to about 0.1% (a parabola with Bhaskara-like correction): plenty
/// for a drum, several times cheaper than `sin`.
#[inline(always)]
fn sine(x: f32) -> f32 {
    // Map to -0.5..0.5, then a parabola per half cycle, refined.
    let t = x - 0.5;
    let y = -8.0 * t * (1.0 - 2.0 * t.abs());
    0.225 * (y * y.abs() - y) + y
}

/// One filter step: (band-pass, low-pass) outputs; high-pass is `x - k * band - low`.
#[inline(always)]
fn svf(state: &mut [f32; 2], c: &[f32; 3], x: f32) -> (f32, f32) {
    let v3 = x - state[1];
    let v1 = c[0] * state[0] + c[1] * v3;
    let v2 = state[1] + c[1] * state[0] + c[2] * v3;
    state[0] = 2.0 * v1 - state[0];
    state[1] = 2.0 * v2 - state[1];
    (v1, v2)
}

#[derive(Clone, Copy, Debug)]
struct Hit {
    kind: Kind,
    /// Samples since the hit.
    t: u32,
    velocity: f32,
    /// The main envelope (exponential, multiplied every sample).
    env: f32,
    /// The kick's pitch envelope, the snare's tone envelope.
    env2: f32,
    /// The kick's click, the clap's current burst.
    env3: f32,
    /// Constant-power pan gains.
    pan: [f32; 2],
    phase: f32,
    /// The hats' six square waves' phases, four and two lanes (the last two lanes stand still).
    squares: [f32x4; 2],
    filter: [f32; 2],
    noise: u32,
    /// Choked: fading out fast.
    choked: bool,
    /// The kit's tuning as a frequency ratio, and the main envelope's multiplier per sample
    /// (the kind's decay, lengthened or shortened by the kit's Decay), both fixed at the hit.
    tune: f32,
    decay: f32,
    age: u64,
    /// MIDI bookkeeping: the key, whether its note-off is still owed, and the block sample of it.
    pitch: u8,
    midi_open: bool,
    end_beat: f64,
    release_at: i64,
}

impl Hit {
    const IDLE: Hit = Hit {
        kind: Kind::Kick,
        t: 0,
        velocity: 0.0,
        env: 0.0,
        env2: 0.0,
        env3: 0.0,
        pan: [0.0; 2],
        phase: 0.0,
        squares: [f32x4::ZERO; 2],
        filter: [0.0; 2],
        noise: 1,
        choked: false,
        tune: 1.0,
        decay: 0.0,
        age: 0,
        pitch: 0,
        midi_open: false,
        end_beat: 0.0,
        release_at: i64::MAX,
    };

    /// The next sample of the kick (before its velocity, level and gain).
    #[inline(always)]
    fn kick(&mut self, r: &Rates) -> f32 {
        let freq = (50.0 + 110.0 * self.env2) * self.tune;
        self.env2 *= r.kick_pitch;
        self.phase += freq / r.sample_rate;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        let click = if self.t < r.click {
            self.env3 *= r.click_decay;
            self.white() * self.env3 * 0.4
        } else {
            0.0
        };
        let y = (sine(self.phase) + click) * self.env;
        self.env *= self.decay;
        y
    }

    /// The next sample of the snare (before its velocity, level and gain).
    #[inline(always)]
    fn snare(&mut self, r: &Rates) -> f32 {
        self.phase += 185.0 * self.tune / r.sample_rate;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        let tone = sine(self.phase) * self.env2 * 0.5;
        self.env2 *= r.snare_tone;
        let w = self.white();
        let (band, _) = svf(&mut self.filter, &r.snare_band, w);
        let y = tone + band * self.env * 1.2;
        self.env *= self.decay;
        y
    }

    /// The next sample of the clap (before its velocity, level and gain).
    #[inline(always)]
    fn clap(&mut self, r: &Rates) -> f32 {
        // Three bursts 10 ms apart, then the tail.
        let burst = if self.t < r.clap_bursts {
            if self.t.is_multiple_of(r.clap_spacing) {
                self.env3 = 1.0;
            }
            self.env3 *= r.clap_burst;
            self.env3
        } else {
            self.env *= self.decay;
            self.env
        };
        let w = self.white();
        let (band, _) = svf(&mut self.filter, &r.clap_band, w);
        band * burst * 1.6
    }

    /// The next sample of a hat (before its velocity, level and gain).
    #[inline(always)]
    fn hat(&mut self, r: &Rates) -> f32 {
        // Each square +1 in its first half cycle, -1 in its second: the sum is a
        // whole number, exact in any order (the two still lanes add +2).
        let (one, half) = (f32x4::ONE, f32x4::splat(0.5));
        let tune = f32x4::splat(self.tune);
        let mut up = f32x4::ZERO;
        for (p, inc) in self.squares.iter_mut().zip(r.hat_incs) {
            let q = *p + inc * tune;
            *p = q.simd_ge(one).select(q - one, q);
            up += p.simd_lt(half).select(one, -one);
        }
        let metal = up.reduce_add() - 2.0;
        let w = self.white();
        let x = metal / 6.0 * 0.6 + w * 0.4;
        let (band, low) = svf(&mut self.filter, &r.hat_high, x);
        let high = x - HIGH_PASS_K * band - low;
        let y = high * self.env * 0.9;
        self.env *= if self.choked { r.choke } else { self.decay };
        y
    }

    /// The next sample of the shaker (before its velocity, level and gain).
    #[inline(always)]
    fn shaker(&mut self, r: &Rates) -> f32 {
        let w = self.white();
        let (band, low) = svf(&mut self.filter, &r.shaker_high, w);
        let high = w - HIGH_PASS_K * band - low;
        if self.t < r.shaker_attack {
            high * self.env * self.t as f32 / r.shaker_attack as f32 * 0.6
        } else {
            self.env *= self.decay;
            high * self.env * 0.6
        }
    }

    /// One sample on: the hit falls silent once done.
    #[inline(always)]
    fn advance(&mut self, r: &Rates) {
        self.t = self.t.saturating_add(1);
        // Done at -60 dB below the hit (-66 dBFS at most): inaudible under the music.
        if self.env < 1e-3 || self.t > r.longest_ring {
            self.env = 0.0;
            self.filter = [0.0; 2];
        }
    }

    /// The hit through a chunk starting at block sample `first`, its kind's samples made by
    /// `next`, added into `left` and `right` (each sample's part gain in `gains`); its MIDI note
    /// ends where it is due.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn ring(
        &mut self,
        r: &Rates,
        first: i64,
        gains: &[f32],
        left: &mut [f32],
        right: &mut [f32],
        out: &mut NoteSink,
        next: impl Fn(&mut Hit, &Rates) -> f32,
    ) {
        let h = self;
        let m = gains.len().min(left.len()).min(right.len());
        // The chunk sample on which the MIDI note ends (m: not in this chunk): the hit plays up
        // to it, ends its note there, and plays on.
        let due = if h.release_at < first + m as i64 {
            (h.release_at - first).max(0) as usize
        } else {
            m
        };
        let mut play = |h: &mut Hit, from: usize, to: usize| {
            let samples = left[from..to].iter_mut().zip(&mut right[from..to]);
            for ((l, rr), &gain) in samples.zip(&gains[from..to]) {
                if !h.sounding() {
                    break;
                }
                let x = next(h, r);
                h.advance(r);
                let y = x * h.velocity * DRUM_LEVEL * gain;
                *l += y * h.pan[0];
                *rr += y * h.pan[1];
            }
        };
        play(h, 0, due);
        if due < m {
            h.note_off((first + due as i64).max(0) as u32, out);
            play(h, due, m);
        }
    }

    fn sounding(&self) -> bool {
        self.env > 0.0
    }

    fn note_off(&mut self, offset: u32, out: &mut NoteSink) {
        if self.midi_open {
            out.push(NoteOut {
                offset,
                on: false,
                pitch: self.pitch,
                velocity: 0.0,
                channel: Part::Drums.channel(),
            });
            self.midi_open = false;
            self.release_at = i64::MAX;
        }
    }

    fn white(&mut self) -> f32 {
        self.noise ^= self.noise << 13;
        self.noise ^= self.noise >> 17;
        self.noise ^= self.noise << 5;
        (self.noise as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// Per-sample-rate constants: envelope multipliers and filter coefficients.
#[derive(Clone, Copy, Debug)]
struct Rates {
    sample_rate: f32,
    kick_env: f32,
    kick_pitch: f32,
    click_decay: f32,
    /// Per-sample phase increments of the hi-hats' square waves (as [`Hit::squares`] holds them:
    /// the last two lanes 0).
    hat_incs: [f32x4; 2],
    snare_tone: f32,
    snare_noise: f32,
    clap_tail: f32,
    closed_hat: f32,
    open_hat: f32,
    shaker: f32,
    choke: f32,
    clap_burst: f32,
    /// The most samples a hit rings ([`LONGEST_RING_SECONDS`], whole samples).
    longest_ring: u32,
    /// Samples: a clap burst's spacing, the clap's bursts in all, the shaker's attack, the
    /// kick's click.
    clap_spacing: u32,
    clap_bursts: u32,
    shaker_attack: u32,
    click: u32,
    snare_band: [f32; 3],
    clap_band: [f32; 3],
    hat_high: [f32; 3],
    shaker_high: [f32; 3],
}

impl Rates {
    fn new(sample_rate: f32) -> Rates {
        let decay = |seconds: f32| (-1.0 / (seconds * sample_rate)).exp();
        Rates {
            sample_rate,
            kick_env: decay(Kind::Kick.decay_seconds()),
            kick_pitch: decay(0.03),
            click_decay: decay(0.002),
            hat_incs: {
                let [a, b, c, d, e, f] = HAT_SQUARES.map(|f| f * 1.7 / sample_rate);
                [f32x4::new([a, b, c, d]), f32x4::new([e, f, 0.0, 0.0])]
            },
            snare_tone: decay(0.06),
            snare_noise: decay(Kind::Snare.decay_seconds()),
            clap_tail: decay(Kind::Clap.decay_seconds()),
            closed_hat: decay(Kind::ClosedHat.decay_seconds()),
            open_hat: decay(Kind::OpenHat.decay_seconds()),
            shaker: decay(Kind::Shaker.decay_seconds()),
            choke: decay(0.005),
            clap_burst: decay(0.003),
            // (A whole count of samples is past the time exactly when it is past its floor.)
            longest_ring: (LONGEST_RING_SECONDS * sample_rate).floor() as u32,
            clap_spacing: (0.01 * sample_rate).round().max(1.0) as u32,
            clap_bursts: (0.03 * sample_rate).round().max(1.0) as u32,
            shaker_attack: (0.005 * sample_rate).round().max(1.0) as u32,
            click: (0.01 * sample_rate).round().max(1.0) as u32,
            snare_band: svf_coeffs(3_000.0, 0.42, sample_rate),
            clap_band: svf_coeffs(1_200.0, 0.63, sample_rate),
            hat_high: svf_coeffs(7_000.0, 0.32, sample_rate),
            shaker_high: svf_coeffs(5_000.0, 0.32, sample_rate),
        }
    }
}

pub struct DrumKit {
    hits: [Hit; DRUM_VOICES],
    next_age: u64,
    rates: Rates,
}

impl DrumKit {
    pub fn new(sample_rate: f32) -> DrumKit {
        DrumKit {
            hits: [Hit::IDLE; DRUM_VOICES],
            next_age: 0,
            rates: Rates::new(sample_rate),
        }
    }

    pub fn active(&self) -> usize {
        self.hits.iter().filter(|h| h.sounding()).count()
    }

    pub fn kill_all(&mut self) {
        self.hits = [Hit::IDLE; DRUM_VOICES];
    }

    /// Sends the note-offs still owed at the start of the block (the sound rings out).
    pub fn release_all(&mut self, out: &mut NoteSink) {
        for h in &mut self.hits {
            h.note_off(0, out);
        }
    }

    /// Works out on which sample of a block starting at `start` each hit's MIDI note ends.
    pub fn schedule_releases(&mut self, start: f64, beats_per_sample: f64, block_len: usize) {
        for h in &mut self.hits {
            if h.midi_open {
                let at = super::sequencer::onset_offset(h.end_beat, start, beats_per_sample);
                h.release_at = if at < block_len as i64 { at } else { i64::MAX };
            }
        }
    }

    /// Strikes `note` at block sample `offset` on a free voice or the oldest one, tuned by
    /// `tune_st` semitones and with its decay `2^decay` times as long (`decay` in -1..1: half as
    /// long to twice as long).
    #[allow(clippy::too_many_arguments)]
    pub fn hit(
        &mut self,
        note: &Note,
        offset: u32,
        end_beat: f64,
        release_at: i64,
        tune_st: f32,
        decay: f32,
        out: &mut NoteSink,
    ) {
        let kind = Kind::of(note.pitch);
        let r = &self.rates;
        let base = match kind {
            Kind::Kick => r.kick_env,
            Kind::Snare => r.snare_noise,
            Kind::Clap => r.clap_tail,
            Kind::ClosedHat => r.closed_hat,
            Kind::OpenHat => r.open_hat,
            Kind::Shaker => r.shaker,
        };
        // exp(-1 / (T sr)) to the power 1 / k is the multiplier of a decay k times as long.
        let lengthen = 2f32.powf(if decay.is_finite() {
            decay.clamp(-1.0, 1.0)
        } else {
            0.0
        });
        let decay = base.powf(1.0 / lengthen);
        let tune = 2f32.powf(
            if tune_st.is_finite() {
                tune_st.clamp(-12.0, 12.0)
            } else {
                0.0
            } / 12.0,
        );
        if kind == Kind::ClosedHat {
            for h in &mut self.hits {
                if h.kind == Kind::OpenHat && h.sounding() {
                    h.choked = true;
                }
            }
        }
        let slot = match self.hits.iter().position(|h| !h.sounding() && !h.midi_open) {
            Some(i) => i,
            None => (0..DRUM_VOICES)
                .min_by_key(|&i| self.hits[i].age)
                .unwrap_or(0),
        };
        let h = &mut self.hits[slot];
        h.note_off(offset, out);
        out.push(NoteOut {
            offset,
            on: true,
            pitch: note.pitch,
            velocity: note.velocity,
            channel: Part::Drums.channel(),
        });
        let angle = (kind.pan() + 1.0) * std::f32::consts::FRAC_PI_4;
        *h = Hit {
            kind,
            velocity: note.velocity,
            env: 1.0,
            env2: 1.0,
            env3: 1.0,
            pan: [angle.cos(), angle.sin()],
            noise: 0x2545_f491
                ^ (u32::from(note.pitch) << 8)
                ^ (self.next_age as u32).wrapping_mul(0x9e37_79b9)
                | 1,
            age: self.next_age,
            pitch: note.pitch,
            midi_open: true,
            tune,
            decay,
            end_beat,
            release_at,
            ..Hit::IDLE
        };
        self.next_age += 1;
    }

    /// One stereo sample of the kit at block sample `index`, the part's gain applied.
    #[cfg(test)]
    pub fn tick(&mut self, index: i64, gain: f32, out: &mut NoteSink) -> (f32, f32) {
        let (mut l, mut r) = ([0.0], [0.0]);
        self.render(index, &[gain], &mut l, &mut r, out);
        (l[0], r[0])
    }

    /// The kit over a chunk starting at block sample `first` into `left` and `right` (each
    /// sample's part gain in `gains`), a hit at a time through the whole chunk (its state stays
    /// in registers; a hit silent and not due to end its note is skipped). Each sample is the
    /// sum of the hits in their order, as a sample at a time makes it.
    #[inline(always)]
    pub fn render(
        &mut self,
        first: i64,
        gains: &[f32],
        left: &mut [f32],
        right: &mut [f32],
        out: &mut NoteSink,
    ) {
        let m = gains.len().min(left.len()).min(right.len());
        let (left, right) = (&mut left[..m], &mut right[..m]);
        left.fill(0.0);
        right.fill(0.0);
        let end = first + m as i64;
        // (Borrowed, not copied: a copy of the rates on every sample cost a tenth of the kit.)
        let (r, hits) = (&self.rates, &mut self.hits);
        for h in hits {
            if !h.sounding() && h.release_at >= end {
                continue;
            }
            // Each kind's loop on its own, with nothing of the other kinds in it.
            let (l, rr, gains) = (&mut *left, &mut *right, &gains[..m]);
            match h.kind {
                Kind::Kick => h.ring(r, first, gains, l, rr, out, Hit::kick),
                Kind::Snare => h.ring(r, first, gains, l, rr, out, Hit::snare),
                Kind::Clap => h.ring(r, first, gains, l, rr, out, Hit::clap),
                Kind::ClosedHat | Kind::OpenHat => h.ring(r, first, gains, l, rr, out, Hit::hat),
                Kind::Shaker => h.ring(r, first, gains, l, rr, out, Hit::shaker),
            }
        }
    }

    /// Flushes filter states that turned denormal.
    pub fn flush_denormals(&mut self) {
        for h in &mut self.hits {
            for s in &mut h.filter {
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

    fn render(pitch: u8, seconds: f32) -> Vec<f32> {
        render_tuned(pitch, seconds, 0.0, 0.0)
    }

    fn render_tuned(pitch: u8, seconds: f32, tune: f32, decay: f32) -> Vec<f32> {
        let sr = 48_000.0;
        let mut kit = DrumKit::new(sr);
        let mut out = NoteSink::with_capacity(8);
        let note = Note {
            start_beats: 0.0,
            length_beats: 0.1,
            pitch,
            velocity: 1.0,
            part: Part::Drums,
        };
        kit.hit(&note, 0, 0.1, i64::MAX, tune, decay, &mut out);
        (0..(seconds * sr) as i64)
            .map(|i| kit.tick(i, 1.0, &mut out).0)
            .collect()
    }

    #[test]
    fn a_chunk_at_a_time_sounds_and_ends_notes_exactly_as_a_sample_at_a_time() {
        // Every kind at once, the open hat choked by a closed one, notes ending inside chunks
        // and past them, the gain gliding; chunks of 1 to 67 samples against single samples.
        let hits = [
            (drum::KICK, 0, 900),
            (drum::SNARE, 0, 3_000),
            (drum::OPEN_HAT, 0, 5_000),
            (drum::CLAP, 0, 130),
            (drum::SHAKER, 0, 120),
            (drum::CLOSED_HAT, 0, 2_000),
        ];
        let kit = || {
            let mut kit = DrumKit::new(48_000.0);
            let mut out = NoteSink::with_capacity(64);
            for (pitch, at, end) in hits {
                let note = Note {
                    start_beats: 0.0,
                    length_beats: 0.1,
                    pitch,
                    velocity: 0.8,
                    part: Part::Drums,
                };
                kit.hit(&note, at, 0.1, end, 0.0, 0.0, &mut out);
            }
            (kit, out)
        };
        let gain = |i: i64| 1.0 - i as f32 * 2e-5;
        let total = 24_000;
        let (mut one, mut one_out) = kit();
        let single: Vec<(f32, f32)> = (0..total)
            .map(|i| one.tick(i, gain(i), &mut one_out))
            .collect();
        let (mut chunked, mut out) = kit();
        let (mut at, mut len) = (0, 1);
        while at < total {
            let n = len.min(total - at);
            let gains: Vec<f32> = (at..at + n).map(gain).collect();
            let (mut l, mut r) = (vec![9.0; n as usize], vec![9.0; n as usize]);
            // (The engine puts a chunk's note-offs in time order, as here.)
            let mark = out.len();
            chunked.render(at, &gains, &mut l, &mut r, &mut out);
            out.sort_from(mark);
            for (k, (a, b)) in l.iter().zip(&r).enumerate() {
                let want = single[at as usize + k];
                assert!(
                    a.to_bits() == want.0.to_bits() && b.to_bits() == want.1.to_bits(),
                    "sample {}: {:?} against {want:?}",
                    at as usize + k,
                    (a, b)
                );
            }
            at += n;
            len = len % 67 + 1;
        }
        assert!(single[1_000..].iter().any(|s| s.0.abs() > 1e-3));
        assert_eq!(out.events(), one_out.events(), "the same note-offs");
        assert!(
            out.len() >= 2 * hits.len(),
            "ons and offs: {:?}",
            out.events()
        );
    }

    /// Zero crossings per second over `x`: a rough measure of where the energy sits.
    fn crossings(x: &[f32]) -> f32 {
        let n = x
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        n as f32 / (x.len() as f32 / 48_000.0)
    }

    fn energy(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum()
    }

    #[test]
    fn the_kits_tune_and_decay_move_pitch_and_length() {
        // An octave up doubles where the kick settles; Decay +1 rings twice as long.
        let settle = |x: &[f32]| crossings(&x[4_800..24_000]);
        let (kick, up) = (
            render(drum::KICK, 0.5),
            render_tuned(drum::KICK, 0.5, 12.0, 0.0),
        );
        let ratio = settle(&up) / settle(&kick);
        assert!((1.8..2.2).contains(&ratio), "{ratio}");
        // Time for the open hat to fall 40 dB below its first 10 ms.
        let ring = |x: &[f32]| {
            let peak = x[..480].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            x.iter().rposition(|v| v.abs() > peak * 0.01).unwrap_or(0)
        };
        let (open, long, short) = (
            render(drum::OPEN_HAT, 4.0),
            render_tuned(drum::OPEN_HAT, 4.0, 0.0, 1.0),
            render_tuned(drum::OPEN_HAT, 4.0, 0.0, -1.0),
        );
        let (n, l, s) = (ring(&open) as f32, ring(&long) as f32, ring(&short) as f32);
        assert!((1.7..2.3).contains(&(l / n)), "{n} {l}");
        assert!((0.4..0.6).contains(&(s / n)), "{n} {s}");
        // Nonsense values play the kit as it is.
        assert_eq!(
            render_tuned(drum::SNARE, 0.2, f32::NAN, f32::INFINITY),
            render(drum::SNARE, 0.2)
        );
    }

    #[test]
    fn each_drum_sounds_like_its_kind() {
        let kick = render(drum::KICK, 0.5);
        let snare = render(drum::SNARE, 0.5);
        let hat = render(drum::CLOSED_HAT, 0.5);
        let open = render(drum::OPEN_HAT, 0.5);
        let clap = render(drum::CLAP, 0.5);
        let shaker = render(drum::SHAKER, 0.5);
        for (name, x) in [
            ("kick", &kick),
            ("snare", &snare),
            ("hat", &hat),
            ("clap", &clap),
            ("shaker", &shaker),
        ] {
            assert!(x.iter().all(|v| v.is_finite() && v.abs() < 2.0), "{name}");
            assert!(energy(&x[..2400]) > 1.0, "{name} is silent");
        }
        // The kick sweeps down: faster in its first 20 ms than from 100 ms on, where it sits near
        // 50 Hz.
        let early = crossings(&kick[..960]) / 2.0;
        let late = crossings(&kick[4800..14400]) / 2.0;
        assert!(early > 1.5 * late, "kick {early} Hz then {late} Hz");
        assert!((40.0..70.0).contains(&late), "kick settles at {late} Hz");
        // Brightness: hats above the snare above the kick.
        let (k, s, h) = (
            crossings(&kick[..4800]),
            crossings(&snare[..4800]),
            crossings(&hat[..1200]),
        );
        assert!(h > s && s > k, "crossings: kick {k}, snare {s}, hat {h}");
        // An open hat rings longer than a closed one; everything has died away after half a second.
        assert!(energy(&open[4800..]) > 10.0 * energy(&hat[4800..]));
        assert!(kick[23_000..].iter().all(|v| v.abs() < 0.02));
    }

    #[test]
    fn a_closed_hat_chokes_the_open_one_and_midi_notes_pair_up() {
        let mut kit = DrumKit::new(48_000.0);
        let mut out = NoteSink::with_capacity(16);
        let n = |pitch| Note {
            start_beats: 0.0,
            length_beats: 0.1,
            pitch,
            velocity: 1.0,
            part: Part::Drums,
        };
        kit.hit(&n(drum::OPEN_HAT), 0, 0.1, 100, 0.0, 0.0, &mut out);
        for i in 0..2_400 {
            kit.tick(i, 1.0, &mut out);
        }
        kit.hit(&n(drum::CLOSED_HAT), 0, 0.1, 100, 0.0, 0.0, &mut out);
        let open = kit.hits.iter().find(|h| h.kind == Kind::OpenHat).unwrap();
        assert!(open.choked);
        for i in 0..24_000 {
            kit.tick(i, 1.0, &mut out);
        }
        assert_eq!(kit.active(), 0);
        let events: Vec<(bool, u8, u8)> = out
            .events()
            .iter()
            .map(|e| (e.on, e.pitch, e.channel))
            .collect();
        assert_eq!(
            events,
            vec![(true, 46, 9), (false, 46, 9), (true, 42, 9), (false, 42, 9)]
        );
    }
}
