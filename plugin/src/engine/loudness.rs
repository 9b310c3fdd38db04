//! How loud the engine plays a score, predicted from what the score holds instead of rendered:
//! the integrated loudness (ITU-R BS.1770: K-weighted, gated) of the first bars as a 48 kHz
//! render at the given parameters would measure it, in about a tenth of a millisecond (a render
//! at 8 kHz took 9 ms and was further off).
//!
//! Each note's energy is worked out from the engine's own gain structure: its velocity, its
//! part's level, its envelope (attack, decay, sustain, release, the part's time scale) and the
//! power its oscillator leaves after the voice's low-pass (opened by the envelope) and the
//! K-weighting, harmonic by harmonic: the sine and sawtooth blended by Brightness, the
//! picture's wave from its table's own summary of each frame (`wavetable::FrameSpectrum`) where
//! the scan stands, noise, and unison's two oscillators, which start each note in phase and
//! drift apart (a slow drift keeps a short note louder; a faster one cancels it for a moment).
//! Drum hits carry the energy measured from the kit (`drums::hit_energy`), laid out as they die
//! away; the delay and the reverb add their repeats' and tail's energy. The energy is laid out
//! in time (100 ms bins) so the loudness is gated as a meter gates it: a sparse picture with
//! rests between its notes is measured by what sounds.
//!
//! What it leaves out: notes sounding together add their powers (notes of one pitch overlapping
//! in one part add in phase or out of it, by chance), the limiter, voices stolen past 32, the
//! glides between sections. Tested against the render note by note and on the test gallery;
//! the `loudness_probe` example compares it on any folder of pictures (the 29 real ones: within
//! -0.3 to +0.3 dB, spread after levelling 0.6 LU).

use super::drums;
use super::effects::decay_seconds;
use super::filter::{clamped_cutoff, damping};
use super::params::{db_to_gain, fx_target, part_gain, EngineParams};
use super::sections::{scanned_position, MAX_CUTOFF_LOG2, MIN_CUTOFF_LOG2};
use super::voice::{Voicing, DETUNE_MARGIN, VOICE_LEVEL};
use crate::score::{Part, Score, SectionSound};
use crate::wavetable;

/// The render the prediction stands for.
const RATE: f64 = 48_000.0;
/// The most harmonics of a note counted: the sawtooth's beyond the 64th carry about 1% of its
/// power (0.05 dB), less still after the low-pass.
const HARMONICS: usize = 64;
/// Time resolution of the energy laid out for gating, seconds.
const BIN: f64 = 0.1;
/// Envelope levels at which each note's power is worked out (the envelope opens the filter).
const LEVELS: usize = 5;

/// K-weighting's stages at 48 kHz (BS.1770): the head's high shelf, the low-frequency roll-off;
/// each (b0, b1, b2), (a1, a2).
const SHELF: ([f64; 3], [f64; 2]) = (
    [
        1.535_124_859_586_97,
        -2.691_696_189_406_38,
        1.198_392_810_852_85,
    ],
    [-1.690_659_293_182_41, 0.732_480_774_215_85],
);
const HIGH_PASS: ([f64; 3], [f64; 2]) = (
    [1.0, -2.0, 1.0],
    [-1.990_047_454_833_98, 0.990_072_250_366_21],
);

/// What a frequency is to the weighting and the filter: the cosine and sine of its angle per
/// sample at 48 kHz (`w = 2 pi f / 48000`).
#[derive(Clone, Copy)]
struct Angle {
    cos: f64,
    sin: f64,
}

impl Angle {
    fn of(f: f64) -> Angle {
        let (sin, cos) = (std::f64::consts::TAU * f / RATE).sin_cos();
        Angle { cos, sin }
    }

    /// `h` times the angle of `self`, from `self` times `h - 1` (a rotation, no library call).
    fn next(self, first: Angle) -> Angle {
        Angle {
            cos: self.cos * first.cos - self.sin * first.sin,
            sin: self.sin * first.cos + self.cos * first.sin,
        }
    }

    /// K-weighting's power gain here: BS.1770's two stages (the head's high shelf, the
    /// low-frequency roll-off) with their 48 kHz coefficients.
    fn k_weight(self) -> f64 {
        let (c1, s1) = (self.cos, self.sin);
        let (c2, s2) = (2.0 * c1 * c1 - 1.0, 2.0 * s1 * c1);
        let power = |(b, a): ([f64; 3], [f64; 2])| {
            let (nr, ni) = (b[0] + b[1] * c1 + b[2] * c2, -(b[1] * s1 + b[2] * s2));
            let (dr, di) = (1.0 + a[0] * c1 + a[1] * c2, -(a[0] * s1 + a[1] * s2));
            (nr * nr + ni * ni) / (dr * dr + di * di)
        };
        power(SHELF) * power(HIGH_PASS)
    }

    /// tan(w / 2) = tan(pi f / 48000), what the filter's response is a function of.
    fn tangent(self) -> f64 {
        self.sin / (1.0 + self.cos).max(1e-12)
    }
}

/// The voices' low-pass (a trapezoidal state-variable filter, `filter.rs`) power gain at a
/// frequency whose `tan(pi f / rate)` is `t`, for a cutoff whose tangent is `1 / inverse_g`.
fn low_pass(t: f64, inverse_g: f64, k: f64) -> f64 {
    let w = t * inverse_g;
    let a = 1.0 - w * w;
    1.0 / (a * a + k * k * w * w)
}

/// The tangent the filter's coefficients use at `cutoff_log2` (clamped as `svf_coeffs` does).
fn cutoff_tan(cutoff_log2: f64) -> f64 {
    let fc = f64::from(clamped_cutoff(cutoff_log2.exp2() as f32, RATE as f32));
    (std::f64::consts::PI * fc / RATE).tan()
}

/// What a pitched part's notes sound through in one section: everything their power depends on
/// but the pitch, worked out once.
struct PartSound {
    /// The filter's damping (2 - 1.9 x resonance).
    k: f64,
    /// The inverse of the filter's cutoff tangent at each envelope level.
    inverse_g: [f64; LEVELS],
    brightness: f64,
    picture: f64,
    /// The noise's power at each envelope level (it does not depend on the pitch).
    noise: [f64; LEVELS],
    /// The oscillator's harmonics at each octave level it is played at.
    by_level: Vec<(usize, Harmonics)>,
}

/// An oscillator's power harmonic by harmonic (amplitude squared over two), the first
/// [`HARMONICS`] one by one and the octave bands above them.
struct Harmonics {
    power: [f64; HARMONICS],
    tail: [f64; wavetable::TAIL_BANDS],
}

/// The octave bands' middle harmonics (geometric), where their power is weighed.
const TAIL_MIDDLES: [f64; wavetable::TAIL_BANDS] = [90.5, 181.0, 362.0, 724.1];

impl PartSound {
    /// The analog wave blended into the picture's (the mean over `frames`) at octave level
    /// `level`, harmonic by harmonic: the two are in phase harmonic by harmonic, so their
    /// amplitudes add before the power is taken.
    fn harmonics(&self, level: usize, frames: &[&wavetable::FrameSpectrum]) -> Harmonics {
        let top = wavetable::top_harmonic(level);
        let saw = |h: f64| 2.0 / (std::f64::consts::PI * h);
        let mut power = [0.0; HARMONICS];
        let frames = if self.picture > 0.0 { frames } else { &[] };
        for (i, p) in power.iter_mut().enumerate().take(top) {
            let h = (i + 1) as f64;
            // A sine blended into a sawtooth (sine phase, 2 / (pi h)).
            let analog = if i == 0 {
                1.0 - self.brightness + self.brightness * saw(h)
            } else {
                self.brightness * saw(h)
            };
            *p = if frames.is_empty() {
                0.5 * analog * analog
            } else {
                let sum: f64 = frames
                    .iter()
                    .map(|f| {
                        let g = f64::from(f.gains[level]);
                        let c = f.harmonics[i];
                        let (re, im) = (
                            self.picture * g * f64::from(c.re),
                            (1.0 - self.picture) * analog + self.picture * g * f64::from(c.im),
                        );
                        0.5 * (re * re + im * im)
                    })
                    .sum();
                sum / frames.len() as f64
            };
        }
        // Above them, the two add in power (the sawtooth's tail is small).
        let mut tail = [0.0; wavetable::TAIL_BANDS];
        for (band, t) in tail.iter_mut().enumerate() {
            let (from, to) = (HARMONICS << band, HARMONICS << (band + 1));
            if to > top {
                break;
            }
            // Sum over h in (from, to] of (2 / (pi h))^2 / 2.
            let analog = self.brightness * self.brightness * 2.0
                / (std::f64::consts::PI * std::f64::consts::PI)
                * (1.0 / from as f64 - 1.0 / to as f64);
            let picture = if frames.is_empty() {
                0.0
            } else {
                frames
                    .iter()
                    .map(|f| f64::from(f.gains[level]).powi(2) * f64::from(f.tail[band]))
                    .sum::<f64>()
                    / frames.len() as f64
            };
            *t = (1.0 - self.picture).powi(2) * analog + self.picture.powi(2) * picture;
        }
        Harmonics { power, tail }
    }

    /// A note's power at the envelope's `LEVELS` levels (0, 1/4 .. 1), K-weighted, at velocity 1
    /// and unity gain, both channels together.
    fn note_power(
        &mut self,
        pitch: u8,
        frames: &[&wavetable::FrameSpectrum],
        mix: &Mix,
    ) -> NotePower {
        let f0 = 440.0 * ((f64::from(pitch) - 69.0) / 12.0).exp2();
        let inc = (f0 / RATE).min(0.49);
        let level = wavetable::level_for(inc as f32 * DETUNE_MARGIN);
        if !self.by_level.iter().any(|(l, _)| *l == level) {
            let h = self.harmonics(level, frames);
            self.by_level.push((level, h));
        }
        let mut out = NotePower {
            levels: [0.0; LEVELS],
            drift: None,
        };
        let Some((_, harmonics)) = self.by_level.iter().find(|(l, _)| *l == level) else {
            return out;
        };
        let top = HARMONICS.min(wavetable::top_harmonic(level));
        // Each harmonic's K-weighted power and its filter tangent, then the tail bands'.
        let mut weighted = [0.0f64; HARMONICS + wavetable::TAIL_BANDS];
        let mut tangent = [0.0f64; HARMONICS + wavetable::TAIL_BANDS];
        let harmonics_at = (1..=top)
            .map(|h| (h as f64, harmonics.power[h - 1]))
            .chain(TAIL_MIDDLES.iter().copied().zip(harmonics.tail));
        let first = Angle::of(f0);
        let mut angle = first;
        for (i, (h, power)) in harmonics_at.enumerate() {
            let f = f0 * h;
            if i == top {
                // (The bands' middles are not whole harmonics; each is twice the one before.)
                angle = Angle::of(f);
            }
            if power > 0.0 && f < 0.5 * RATE {
                weighted[i] = power * angle.k_weight();
                tangent[i] = angle.tangent();
            }
            angle = if i + 1 < top {
                angle.next(first)
            } else {
                angle.next(angle)
            };
        }
        let n = top + wavetable::TAIL_BANDS;
        let mut coherent = [[0.0; LEVELS]; COHERENT];
        for l in 0..LEVELS {
            let inverse_g = self.inverse_g[l];
            let mut tone = 0.0;
            for i in 0..n {
                let p = weighted[i] * low_pass(tangent[i], inverse_g, self.k);
                tone += p;
                if let Some(c) = coherent.get_mut(i).filter(|_| i < top) {
                    c[l] = mix.drifting * p;
                }
            }
            out.levels[l] = mix.osc * tone + self.noise[l];
        }
        if mix.drifting > 0.0 {
            out.drift = Some((std::f64::consts::TAU * f0 * mix.detune_spread, coherent));
        }
        out
    }
}

/// How many of a note's first harmonics are followed as unison's two oscillators drift in and
/// out of phase (higher ones drift so fast that they average out within a note).
const COHERENT: usize = 24;

/// A note's power (K-weighted, both channels, velocity 1, unity gain) at each envelope level.
#[derive(Clone, Copy)]
struct NotePower {
    /// What it is whatever the unison's phases.
    levels: [f64; LEVELS],
    /// Unison: how fast (radians per second) the two oscillators' fundamentals drift apart,
    /// and how much of each of the first harmonics' power comes and goes with it (added in
    /// phase, cancelled out of it: both start a note in phase).
    drift: Option<(f64, [[f64; LEVELS]; COHERENT])>,
}

/// The oscillators' share against noise and what unison does to their power.
struct Mix {
    /// The oscillators' power factor: (1 - noise)^2, and with unison the half of it that
    /// stays as the two drift (the side's width added), ...
    osc: f64,
    /// ... and the half that comes and goes with their phase.
    drifting: f64,
    /// Unison's two frequencies' difference, as a share of the note's.
    detune_spread: f64,
    noise: f64,
    /// A logarithmic grid of frequencies from 10 Hz to just under Nyquist, with its K-weighting
    /// and tangents: where the noise's power is integrated.
    grid: Vec<(f64, f64, f64)>,
}

impl Mix {
    fn new(sound: &crate::score::Patch) -> Mix {
        let noise = f64::from(sound.noise);
        let osc = (1.0 - noise) * (1.0 - noise);
        let unison = sound.detune_cents > 0.01;
        let width = f64::from(sound.width);
        // The two oscillators at f / d and f d, d = 2^(cents / 1200); mid and side out: the
        // mid holds (1 + cos) / 2 of their power, the side (1 - cos) / 2 times the width squared.
        let (steady, drifting) = if unison {
            (0.5 * (1.0 + width * width), 0.5 * (1.0 - width * width))
        } else {
            (1.0, 0.0)
        };
        let d = (f64::from(sound.detune_cents) / 1200.0).exp2();
        const POINTS: usize = 48;
        let (lo, hi) = (10f64.ln(), (0.499 * RATE).ln());
        let grid = if noise > 0.0 {
            (0..=POINTS)
                .map(|i| {
                    let f = (lo + (hi - lo) * i as f64 / POINTS as f64).exp();
                    let a = Angle::of(f);
                    (f, a.k_weight(), a.tangent())
                })
                .collect()
        } else {
            Vec::new()
        };
        Mix {
            osc: osc * steady,
            drifting: osc * drifting,
            detune_spread: d - 1.0 / d,
            noise,
            grid,
        }
    }

    /// White noise (uniform in -1..1, its share squared) through the low-pass and the
    /// K-weighting: its power.
    fn noise_power(&self, inverse_g: f64, k: f64) -> f64 {
        let mut sum = 0.0;
        for w in self.grid.windows(2) {
            let (a, b) = (w[0], w[1]);
            let y = |(_, kw, t): (f64, f64, f64)| low_pass(t, inverse_g, k) * kw;
            sum += 0.5 * (y(a) + y(b)) * (b.0 - a.0);
        }
        self.noise * self.noise * sum / (0.5 * RATE) / 3.0
    }
}

/// How many stretches of the measured bars the picture's wave's scan is followed in (each
/// note hears the frame of the stretch its middle falls in).
const SCAN_POINTS: usize = 8;

/// A note's energy over time: what its envelope does, segment by segment, laid into `bins`.
#[allow(clippy::too_many_arguments)]
fn lay_out_note(
    bins: &mut [f64],
    start: f64,
    length: f64,
    attack: f64,
    decay: f64,
    sustain: f64,
    release: f64,
    power: &NotePower,
    gain: f64,
) {
    let end = bins.len() as f64 * BIN;
    // The energy per second of a stretch from `from` to `to` seconds into the note, its level
    // moving linearly from `a` to `b`: the mean of the level squared times the power at the
    // middle level.
    let at = |a: f64, b: f64, from: f64, to: f64| {
        let level = 0.5 * (a + b);
        let x = level.clamp(0.0, 1.0) * (LEVELS - 1) as f64;
        let i = (x as usize).min(LEVELS - 2);
        let w = x - i as f64;
        let interpolate = |p: &[f64; LEVELS]| p[i] + (p[i + 1] - p[i]) * w;
        let mut p = interpolate(&power.levels);
        let (mid, half) = (0.5 * (from + to), 0.5 * (to - from));
        match &power.drift {
            // Harmonics that drift through many cycles in the stretch average out (|sinc| <=
            // 1 / x): they are left out once x passes 50.
            Some((drift, coherent)) if drift * half <= 50.0 => {
                // The mean of cos(h w t) over the stretch: cos(h w mid) sinc(h w half).
                let (s1, c1) = (drift * mid).sin_cos();
                let (s, c) = (drift * half).sin_cos();
                let (mut cm, mut sm, mut ch, mut sh) = (c1, s1, c, s);
                for (h, q) in coherent.iter().enumerate() {
                    let x = (h + 1) as f64 * drift * half;
                    if x > 50.0 {
                        break;
                    }
                    let sinc = if x < 1e-9 { 1.0 } else { sh / x };
                    p += interpolate(q) * cm * sinc;
                    (cm, sm) = (cm * c1 - sm * s1, sm * c1 + cm * s1);
                    (ch, sh) = (ch * c - sh * s, sh * c + ch * s);
                }
            }
            _ => {}
        }
        p * (a * a + a * b + b * b) / 3.0
    };
    // (start, duration, level at its start, level at its end) of each stretch the envelope
    // moves linearly through: the attack, the decay, the sustain, the release.
    let mut t = start;
    let mut level = 0.0;
    let push = |bins: &mut [f64], t: f64, dur: f64, from: f64, to: f64| {
        if dur <= 0.0 || t >= end {
            return;
        }
        // Sub-steps of at most a bin (at least two while the level moves, or while a unison
        // drifts).
        let steps = if from != to || power.drift.is_some() {
            (dur / BIN).ceil().max(2.0)
        } else {
            (dur / BIN).ceil()
        }
        .min(64.0) as usize;
        let h = dur / steps as f64;
        for k in 0..steps {
            let s = t + h * k as f64;
            if s >= end {
                break;
            }
            let (a, b) = (
                from + (to - from) * k as f64 / steps as f64,
                from + (to - from) * (k + 1) as f64 / steps as f64,
            );
            let e = at(a, b, s - start, s + h - start) * h.min(end - s) * gain;
            bins[((s + 0.5 * h).min(end - 1e-9) / BIN) as usize] += e;
        }
    };
    // Attack (from silence to full), cut short by the note's end.
    let a = attack.min(length);
    let top = if attack > 0.0 { a / attack } else { 1.0 };
    push(bins, t, a, level, top);
    (t, level) = (t + a, top);
    if length > a {
        let d = decay.min(length - a);
        let to = 1.0 - (1.0 - sustain) * if decay > 0.0 { d / decay } else { 1.0 };
        push(bins, t, d, level, to);
        (t, level) = (t + d, to);
        let held = length - a - d;
        if held > 0.0 {
            push(bins, t, held, level, level);
            t += held;
        }
    }
    push(bins, t, release, level, 0.0);
}

/// What the engine's 48 kHz render of `beats` of `score` from its start, at `bpm`, with
/// `params` (its own level left out) would measure as integrated loudness (LUFS); `None` for
/// silence (everything gated away).
pub fn predicted_lufs(score: &Score, params: &EngineParams, beats: f64, bpm: f64) -> Option<f32> {
    gated_loudness(&energy(score, params, beats, bpm))
}

/// The K-weighted energy (both channels, power x seconds) the render of `beats` of `score` at
/// `bpm` holds, in 100 ms bins.
fn energy(score: &Score, params: &EngineParams, beats: f64, bpm: f64) -> Vec<f64> {
    let seconds_per_beat = 60.0 / bpm;
    let window = beats * seconds_per_beat;
    let bins_n = ((window / BIN).ceil() as usize).max(1);
    let mut bins = vec![0.0f64; bins_n];
    let t = params.timbre.clamped();
    let mix = Mix::new(&t);
    let sections: &[crate::score::Section] = if score.sections.len() > 1
        && score
            .sections
            .iter()
            .any(|s| s.sound != SectionSound::default())
    {
        &score.sections
    } else {
        &[]
    };
    let length = score.length_beats.max(1e-9);
    let table = score
        .wave
        .as_ref()
        .filter(|_| {
            [t.melody, t.harmony, t.bass]
                .iter()
                .any(|p| p.picture > 0.0)
        })
        .map(|w| w.table());
    // The frame of the picture's wave heard in each stretch of the measured bars (as
    // `Smoothed::step` scans it).
    let scanning = t.wave_scan > 0.0;
    let frames: Vec<&wavetable::FrameSpectrum> = table.map_or(Vec::new(), |table| {
        (0..if scanning { SCAN_POINTS } else { 1 })
            .map(|i| {
                let phase = (i as f64 + 0.5) / SCAN_POINTS as f64 * beats / length;
                let pos = if scanning {
                    scanned_position(t.wave_position, t.wave_scan, phase)
                } else {
                    t.wave_position
                };
                let frame = (pos.clamp(0.0, 1.0) * (table.frames() - 1) as f32).round();
                table.spectrum(frame as usize)
            })
            .collect()
    });
    let parts = [t.melody, t.harmony, t.bass];
    let env_ms = |ms: f32| f64::from(ms.max(1000.0 / RATE as f32)) * 0.001;
    // Each part's sound in each section, and each note's power for its part, pitch and
    // section, worked out once.
    let mut sounds: Vec<((usize, usize, usize), PartSound)> = Vec::new();
    let mut powers: Vec<((usize, u8, usize, usize), NotePower)> = Vec::new();
    for note in &score.notes {
        let start = note.start_beats * seconds_per_beat;
        if note.start_beats >= beats || note.velocity <= 0.0 {
            continue;
        }
        let gain = part_gain(params.part_db[note.part as usize]);
        if !params.part_on[note.part as usize] || gain <= 0.0 {
            continue;
        }
        if note.part == Part::Drums {
            let e = drums::hit_energy(note.pitch, t.kit_tune, t.kit_decay);
            let g = f64::from(note.velocity * gain);
            let e = e * g * g;
            // Laid out as it dies away.
            let tau = drums::energy_seconds(note.pitch, t.kit_decay);
            let mut i = (start / BIN) as usize;
            let mut before = 1.0;
            while i < bins_n && before > 1e-3 {
                let after = (-((i + 1) as f64 * BIN - start) / tau).exp();
                bins[i] += e * (before - after);
                before = after;
                i += 1;
            }
            continue;
        }
        let p = note.part as usize;
        let section = if sections.is_empty() {
            0
        } else {
            ((note.start_beats / length * sections.len() as f64) as usize).min(sections.len() - 1)
        };
        // Where the scan stands in the middle of the note.
        let stretch = if frames.len() > 1 {
            let middle = note.start_beats + 0.5 * note.length_beats.min(beats - note.start_beats);
            ((middle / beats * SCAN_POINTS as f64) as usize).min(frames.len() - 1)
        } else {
            0
        };
        let key = (p, note.pitch, section, stretch);
        let power = match powers.iter().find(|(k, _)| *k == key) {
            Some((_, power)) => *power,
            None => {
                let at = match sounds.iter().position(|(k, _)| *k == (p, section, stretch)) {
                    Some(i) => i,
                    None => {
                        let sound = sections.get(section).map(|s| s.sound).unwrap_or_default();
                        let cutoff_log2 = f64::from(
                            (t.cutoff_hz.log2() + sound.cutoff_oct)
                                .clamp(MIN_CUTOFF_LOG2, MAX_CUTOFF_LOG2)
                                + parts[p].tone_oct,
                        );
                        let (env_oct, k) =
                            (f64::from(t.filter_env_oct), f64::from(damping(t.resonance)));
                        let inverse_g: [f64; LEVELS] = std::array::from_fn(|l| {
                            let env = l as f64 / (LEVELS - 1) as f64;
                            1.0 / cutoff_tan(cutoff_log2 + env_oct * env)
                        });
                        let noise = inverse_g.map(|g| mix.noise_power(g, k));
                        let s = PartSound {
                            k,
                            inverse_g,
                            brightness: f64::from(
                                (t.brightness + sound.brightness).clamp(0.0, 1.0),
                            ),
                            picture: f64::from(parts[p].picture.clamp(0.0, 1.0)),
                            noise,
                            by_level: Vec::new(),
                        };
                        sounds.push(((p, section, stretch), s));
                        sounds.len() - 1
                    }
                };
                let heard = frames.get(stretch..=stretch).unwrap_or(&[]);
                let power = sounds[at].1.note_power(note.pitch, heard, &mix);
                powers.push((key, power));
                power
            }
        };
        let voicing = Voicing::of(note.part);
        let scale = f64::from(parts[p].time_scale().clamp(0.1, 10.0));
        let g = f64::from(note.velocity * voicing.level * VOICE_LEVEL * gain);
        lay_out_note(
            &mut bins,
            start,
            note.length_beats * seconds_per_beat,
            env_ms(t.attack_ms) * scale * f64::from(voicing.attack_scale),
            env_ms(t.decay_ms) * scale,
            f64::from(t.sustain),
            env_ms(t.release_ms) * scale,
            &power,
            g * g,
        );
    }
    effects(&mut bins, params, bpm);
    let gain = f64::from(db_to_gain(params.gain_db.clamp(-100.0, 24.0)));
    for b in &mut bins {
        *b *= gain * gain;
    }
    bins
}

/// The delay's repeats and the reverb's tail added to the energy laid out in `bins`.
fn effects(bins: &mut [f64], params: &EngineParams, bpm: f64) {
    let t = params.timbre.clamped();
    let fx = fx_target(params, bpm, RATE as f32);
    // The delay: the mono sum (half the power of a centred sound) into the left line, each
    // repeat crossing sides, fed back through a one-pole low-pass (about 0.85 of the power).
    let (mix, fb) = (
        f64::from(t.delay_mix),
        f64::from(t.delay_feedback.clamp(0.0, 0.95)),
    );
    if mix > 0.0 {
        let time = f64::from(fx.delay_samples) / RATE;
        let shift = ((time / BIN).round() as usize).max(1);
        let dry = bins.to_vec();
        let mut gain = 0.5 * mix * mix;
        let mut at = shift;
        while at < bins.len() && gain > 1e-4 {
            for i in at..bins.len() {
                bins[i] += dry[i - at] * gain;
            }
            gain *= fb * fb * 0.85;
            at += shift;
        }
    }
    // The reverb: the mono sum into a network whose tail gives back its input's energy times
    // `REVERB_GAIN` x RT60, dying away with a time constant of RT60 / 13.8 (60 dB).
    let mix = f64::from(t.reverb_mix);
    if mix > 0.0 {
        let rt60 = f64::from(decay_seconds(t.reverb_size));
        let gain = REVERB_GAIN * mix * mix * rt60;
        let tau = rt60 / 13.8;
        let dry = bins.to_vec();
        let per_bin = (-BIN / tau).exp();
        let mut tail = 0.0;
        for (b, d) in bins.iter_mut().zip(dry) {
            tail = tail * per_bin + d * (1.0 - per_bin);
            *b += gain * tail;
        }
    }
}

/// The reverb's wet energy for each second of RT60, of the energy sent into it (fitted to the
/// engine's renders of the test gallery in every style; Damping barely moves it for these
/// sounds, whose energy sits low).
const REVERB_GAIN: f64 = 0.12;

/// BS.1770's gated loudness of energy laid out in 100 ms bins: 400 ms blocks every 100 ms,
/// those under -70 LUFS dropped, then those 10 LU under the rest.
fn gated_loudness(bins: &[f64]) -> Option<f32> {
    let blocks: Vec<f64> = if bins.len() >= 4 {
        bins.windows(4)
            .map(|w| w.iter().sum::<f64>() / 0.4)
            .collect()
    } else {
        vec![bins.iter().sum::<f64>() / (bins.len() as f64 * BIN)]
    };
    let lufs = |ms: f64| -0.691 + 10.0 * ms.log10();
    let mean = |min: f64| {
        let kept: Vec<f64> = blocks.iter().copied().filter(|&b| b > min).collect();
        (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
    };
    let absolute = 10f64.powf((-70.0 + 0.691) / 10.0);
    let ungated = mean(absolute)?;
    let relative = ungated * 0.1;
    let gated = mean(relative.max(absolute))?;
    Some(lufs(gated) as f32)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::NoteSink;
    use crate::score::Note;

    /// BS.1770's K-weighting at 48 kHz, sample by sample (both stages, direct form I).
    pub struct KFilter {
        stages: [Biquad; 2],
    }

    struct Biquad {
        b: [f64; 3],
        a: [f64; 2],
        x: [f64; 2],
        y: [f64; 2],
    }

    impl Biquad {
        fn tick(&mut self, x: f64) -> f64 {
            let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
                - self.a[0] * self.y[0]
                - self.a[1] * self.y[1];
            self.x = [x, self.x[0]];
            self.y = [y, self.y[0]];
            y
        }
    }

    impl KFilter {
        pub fn new() -> KFilter {
            let stage = |(b, a): ([f64; 3], [f64; 2])| Biquad {
                b,
                a,
                x: [0.0; 2],
                y: [0.0; 2],
            };
            KFilter {
                stages: [stage(SHELF), stage(HIGH_PASS)],
            }
        }

        pub fn tick(&mut self, input: f32) -> f64 {
            let s = self.stages[0].tick(f64::from(input));
            self.stages[1].tick(s)
        }
    }

    /// The K-weighted energy (both channels, seconds x power) of one drum hit at full velocity.
    pub fn rendered_hit_energy(pitch: u8, tune: f32, decay: f32) -> f64 {
        let mut kit = drums::DrumKit::new(RATE as f32);
        let mut out = NoteSink::with_capacity(64);
        let note = Note {
            start_beats: 0.0,
            length_beats: 0.25,
            pitch,
            velocity: 1.0,
            part: Part::Drums,
        };
        kit.hit(&note, 0, 0.25, i64::MAX, tune, decay, &mut out);
        let (mut kl, mut kr) = (KFilter::new(), KFilter::new());
        let mut e = 0.0;
        for i in 0..(RATE as usize * 4) {
            let (l, r) = kit.tick(i as i64, 1.0, &mut out);
            let (a, b) = (kl.tick(l), kr.tick(r));
            e += a * a + b * b;
        }
        e / RATE
    }

    /// The K-weighted energy (both channels, power x seconds) of `score`'s first `seconds` as
    /// the engine renders it at 48 kHz, 120 BPM.
    pub fn rendered_energy(score: &Score, params: &EngineParams, seconds: f64) -> f64 {
        let job = crate::engine::OfflineRender {
            sample_rate: RATE as f32,
            bpm: 120.0,
            samples: (seconds * RATE) as usize,
            block_size: 512,
        };
        let (l, r) = crate::engine::render_offline(score, params, &job);
        let (mut kl, mut kr) = (KFilter::new(), KFilter::new());
        l.iter()
            .zip(&r)
            .map(|(&a, &b)| {
                let (a, b) = (kl.tick(a), kr.tick(b));
                a * a + b * b
            })
            .sum::<f64>()
            / RATE
    }

    /// A picture's wave: rows from smooth to edged, so the scan passes different spectra.
    fn wave() -> crate::score::Wave {
        let (frames, width) = (16, 64);
        let rows = (0..frames * width)
            .map(|i| {
                let (f, x) = ((i / width) as f32, (i % width) as f32 / width as f32);
                let smooth = 0.5 + 0.5 * (x * std::f32::consts::TAU).sin();
                let edge = if (x * (1.0 + f)).fract() < 0.5 {
                    1.0
                } else {
                    0.0
                };
                let w = f / (frames - 1) as f32;
                (255.0 * (smooth * (1.0 - w) + edge * w)) as u8
            })
            .collect();
        crate::score::Wave::from_rows(frames, width, rows)
    }

    #[test]
    fn a_note_s_predicted_energy_is_the_render_s() {
        // One note at a time, alone (4 s rendered): envelopes cut short in their attack and
        // held long, unison drifting slowly (3 cents: the two oscillators start in phase and
        // stay there for a short note) and fast, the filter closed and opened by the envelope,
        // noise, the picture's wave scanned.
        type Tweak = fn(&mut crate::score::Patch);
        let sounds: [(&str, Tweak); 8] = [
            ("a plain sine", |p| {
                p.brightness = 0.0;
                p.detune_cents = 0.0;
            }),
            ("a sawtooth, filter opened by the envelope", |p| {
                p.brightness = 1.0;
                p.cutoff_hz = 400.0;
                p.filter_env_oct = 3.0;
                p.resonance = 0.6;
                p.detune_cents = 0.0;
            }),
            ("unison 3 cents", |p| {
                p.detune_cents = 3.0;
                p.width = 0.4;
            }),
            ("unison 7 cents, wide", |p| {
                p.detune_cents = 6.8;
                p.width = 1.0;
                p.brightness = 1.0;
            }),
            ("unison 50 cents", |p| p.detune_cents = 50.0),
            ("noise", |p| p.noise = 0.4),
            ("the picture's wave", |p| {
                p.melody.picture = 1.0;
                p.bass.picture = 0.6;
                p.harmony.picture = 0.3;
            }),
            ("the picture's wave scanned", |p| {
                p.melody.picture = 0.7;
                p.bass.picture = 0.7;
                p.harmony.picture = 0.7;
                p.wave_scan = 1.0;
            }),
        ];
        for (name, tweak) in sounds {
            for part in [Part::Melody, Part::Harmony, Part::Bass] {
                for (attack_ms, beats) in [(2.0, 0.45), (200.0, 0.45), (20.0, 4.0)] {
                    let pitch = if part == Part::Bass { 40 } else { 64 };
                    let note = Note {
                        start_beats: 0.0,
                        length_beats: beats,
                        pitch,
                        velocity: 0.8,
                        part,
                    };
                    let mut score = Score::new(8.0, vec![note], String::new());
                    score.wave = Some(wave());
                    let mut params = EngineParams {
                        gain_db: 0.0,
                        ..EngineParams::default()
                    };
                    params.timbre.reverb_mix = 0.0;
                    params.timbre.delay_mix = 0.0;
                    params.timbre.attack_ms = attack_ms;
                    tweak(&mut params.timbre);
                    let render = 10.0 * rendered_energy(&score, &params, 4.0).log10();
                    let model = 10.0
                        * energy(&score, &params, 8.0, 120.0)
                            .iter()
                            .sum::<f64>()
                            .log10();
                    // (A note hears the frame where the scan stands in its middle; the render
                    // moves through the frames while it sounds.)
                    let within = if params.timbre.wave_scan > 0.0 {
                        0.5
                    } else {
                        0.35
                    };
                    assert!(
                        (model - render).abs() < within,
                        "{name}, {part:?} {attack_ms} ms attack, {beats} beats: predicted \
                         {model:.2} dB, rendered {render:.2} dB"
                    );
                }
            }
        }
    }

    #[test]
    fn a_piece_s_predicted_loudness_is_the_render_s() {
        // The test gallery's pictures in the styles they choose: the first four bars' loudness
        // (gated, as a meter measures it) against the 48 kHz render's.
        let settings = crate::compose::Settings {
            bars: 4,
            ..crate::compose::Settings::default()
        };
        let mut errors = Vec::new();
        for (name, picture) in crate::gallery::gallery().into_iter().step_by(3) {
            let score = crate::compose::compose(&picture, &settings, name.clone());
            let params = EngineParams {
                gain_db: 0.0,
                ..EngineParams::with_patch(&score.patch)
            };
            let job = crate::engine::OfflineRender {
                sample_rate: RATE as f32,
                bpm: 120.0,
                samples: 8 * RATE as usize,
                block_size: 512,
            };
            let (l, r) = crate::engine::render_offline(&score, &params, &job);
            let mut meter = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I).unwrap();
            let frames: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
            meter.add_frames_f32(&frames).unwrap();
            let render = meter.loudness_global().unwrap() as f32;
            let model = predicted_lufs(&score, &params, 16.0, 120.0).unwrap();
            assert!(
                (model - render).abs() < 1.0,
                "{name} ({}): predicted {model:.2} LUFS, rendered {render:.2} LUFS",
                score.style
            );
            errors.push((model - render).abs());
        }
        let mean = errors.iter().sum::<f32>() / errors.len() as f32;
        assert!(mean < 0.3, "off by {mean:.2} dB on average");
    }

    #[test]
    #[ignore]
    fn print_drum_energies() {
        for pitch in crate::score::drum::ALL {
            for tune in [-12.0f32, -6.0, 0.0, 6.0, 12.0] {
                let row: Vec<String> = [-1.0f32, -0.5, 0.0, 0.5, 1.0]
                    .iter()
                    .map(|&d| format!("{:7.2}", 10.0 * rendered_hit_energy(pitch, tune, d).log10()))
                    .collect();
                println!("{pitch} tune {tune:5}: {}", row.join(" "));
            }
        }
    }

    #[test]
    fn the_drums_energy_table_is_the_kit_s_render() {
        // On the table's grid and between its points.
        for pitch in crate::score::drum::ALL {
            for (tune, decay) in [
                (0.0, 0.0),
                (-12.0, 1.0),
                (12.0, -1.0),
                (3.0, 0.25),
                (-9.0, -0.7),
            ] {
                let (model, render) = (
                    10.0 * drums::hit_energy(pitch, tune, decay).log10(),
                    10.0 * rendered_hit_energy(pitch, tune, decay).log10(),
                );
                assert!(
                    (model - render).abs() < 0.25,
                    "drum {pitch} at tune {tune}, decay {decay}: {model:.2} dB, the kit {render:.2} dB"
                );
            }
        }
    }
}
