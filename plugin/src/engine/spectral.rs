//! Spectral resynthesis: an oscillator bank plays a [`Spectrum`], one sine per partial, with
//! left and right gains interpolated between frame centres at the exact loop position of every
//! sample.
//!
//! Each partial is a complex rotator (its phase as a unit vector, turned by a fixed step every
//! sample): four multiplies and two adds instead of a table lookup, and the same arithmetic for
//! every partial, so the loop over partials runs eight lanes wide. The lanes are explicit
//! (`[f32; 8]`) and summed in a fixed order at the end of the sample, so the result does not
//! depend on how wide the machine's vectors are: the AVX build of the loop (picked at run time)
//! and the SSE2 one give the same bits. Rotators drift off the unit circle by rounding; every
//! [`RENORM_EVERY`] samples of the bank's own clock a Newton step pulls them back.
//!
//! `new` allocates; `retune`, `reset` and `tick` run on the audio thread without allocating.

use crate::score::Spectrum;

/// Partials the bank can play; a spectrum with more plays its lowest `MAX_PARTIALS`.
pub const MAX_PARTIALS: usize = 512;
const LANES: usize = 8;
const GROUPS: usize = MAX_PARTIALS / LANES;
/// Output level for a spectrum whose every partial is at full amplitude.
const BANK_LEVEL: f32 = 0.6;
/// Samples between two renormalisations of the rotators (counted on the bank's own clock, so
/// the schedule does not depend on block boundaries).
const RENORM_EVERY: u32 = 256;

type Lane = [f32; LANES];

/// Eight partials, everything the inner loop reads for them side by side (one cache line each
/// field), so the loop holds no two pointers that might alias and vectorises.
#[derive(Clone, Copy, Default)]
struct Group {
    /// Rotator state: cosine and sine of each partial's phase.
    re: Lane,
    im: Lane,
    /// Per-sample rotation: cosine and sine of each partial's phase increment.
    step_re: Lane,
    step_im: Lane,
    /// Left and right gains at the earlier frame of the current pair, and their change to the
    /// later frame.
    gain_l: Lane,
    slope_l: Lane,
    gain_r: Lane,
    slope_r: Lane,
}

pub struct SpectralBank {
    groups: Vec<Group>,
    /// The frame pair the gains hold, and whether the steps match the playing spectrum.
    pair: Option<(usize, usize)>,
    tuned: bool,
    /// Lane groups in use and the output scale for the playing spectrum.
    used: usize,
    norm: f32,
    /// Fades the whole bank in when the transport plays and out when it stops.
    level: f32,
    clock: u32,
    avx: bool,
}

impl SpectralBank {
    pub fn new() -> Self {
        let mut bank = SpectralBank {
            groups: vec![Group::default(); GROUPS],
            pair: None,
            tuned: false,
            used: 0,
            norm: 0.0,
            level: 0.0,
            clock: 0,
            avx: avx_available(),
        };
        bank.reset();
        bank
    }

    /// Silences the bank and puts every partial back to its starting phase.
    pub fn reset(&mut self) {
        for k in 0..MAX_PARTIALS {
            // Spread the starting phases (golden ratio) so partials do not all peak together.
            let phase = (k as f64 * 0.618_033_988_75).fract() * std::f64::consts::TAU;
            let g = &mut self.groups[k / LANES];
            g.re[k % LANES] = phase.cos() as f32;
            g.im[k % LANES] = phase.sin() as f32;
        }
        self.level = 0.0;
        self.clock = 0;
        self.retune();
    }

    /// The spectrum changed (a new score): frequencies and gains are looked up again at the next
    /// sample. Phases carry on, so partials that stay do not click.
    pub fn retune(&mut self) {
        self.tuned = false;
        self.pair = None;
    }

    fn tune(&mut self, spectrum: &Spectrum, sample_rate: f32) {
        let partials = spectrum.partials().min(MAX_PARTIALS);
        for k in 0..MAX_PARTIALS {
            let w = if k < partials {
                // At or above Nyquist a partial would alias: it stays still (and silent, below).
                let f = f64::from(spectrum.freqs_hz[k]) / f64::from(sample_rate);
                if f < 0.5 {
                    f * std::f64::consts::TAU
                } else {
                    0.0
                }
            } else {
                0.0
            };
            let g = &mut self.groups[k / LANES];
            g.step_re[k % LANES] = w.cos() as f32;
            g.step_im[k % LANES] = w.sin() as f32;
        }
        self.used = partials.div_ceil(LANES);
        self.norm = BANK_LEVEL / (partials.max(1) as f32).sqrt();
        self.tuned = true;
    }

    fn load_pair(&mut self, spectrum: &Spectrum, sample_rate: f32, f0: usize, f1: usize) {
        let partials = spectrum.partials().min(MAX_PARTIALS);
        let stride = spectrum.partials();
        let gains = |f: usize, k: usize| -> (f32, f32) {
            if k >= partials || f64::from(spectrum.freqs_hz[k]) >= 0.5 * f64::from(sample_rate) {
                return (0.0, 0.0);
            }
            let (a, p) = (spectrum.amps[f * stride + k], spectrum.pans[f * stride + k]);
            (a * (1.0 - p) * 0.5, a * (1.0 + p) * 0.5)
        };
        for k in 0..self.used * LANES {
            let ((l0, r0), (l1, r1)) = (gains(f0, k), gains(f1, k));
            let (g, i) = (&mut self.groups[k / LANES], k % LANES);
            g.gain_l[i] = l0;
            g.slope_l[i] = l1 - l0;
            g.gain_r[i] = r0;
            g.slope_r[i] = r1 - r0;
        }
        self.pair = Some((f0, f1));
    }

    /// One stereo sample. `loop_pos` is the position within the loop as a fraction 0..1, or
    /// `None` while the transport is stopped (the bank fades out by `fade_step` per sample).
    pub fn tick(
        &mut self,
        spectrum: &Spectrum,
        loop_pos: Option<f64>,
        sample_rate: f32,
        fade_step: f32,
    ) -> (f32, f32) {
        self.level = match loop_pos {
            Some(_) => (self.level + fade_step).min(1.0),
            None => (self.level - fade_step).max(0.0),
        };
        if self.level == 0.0 {
            return (0.0, 0.0);
        }
        if !self.tuned {
            self.tune(spectrum, sample_rate);
        }
        let frames = spectrum.frames;
        // A frame's values are reached in the middle of its time span (a picture column is an
        // interval, not an instant); in between, and across the loop end, they glide.
        let pos = (loop_pos.unwrap_or(0.0) * frames as f64 - 0.5).rem_euclid(frames as f64);
        let f0 = (pos.floor() as usize).min(frames - 1);
        let f1 = (f0 + 1) % frames;
        let frac = (pos - f0 as f64) as f32;
        if self.pair != Some((f0, f1)) {
            self.load_pair(spectrum, sample_rate, f0, f1);
        }
        let groups = &mut self.groups[..self.used];
        let (l, r) = oscillate_fast(groups, frac, self.avx);
        let (l, r) = (sum(&l), sum(&r));
        self.clock = self.clock.wrapping_add(1);
        if self.clock.is_multiple_of(RENORM_EVERY) {
            renormalise(groups);
        }
        let g = self.level * self.norm;
        (l * g, r * g)
    }
}

/// Turns every rotator by its step and sums the sines, weighted by the interpolated gains, lane
/// by lane. The reference for the vector versions below, and the version other CPUs run.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn oscillate(groups: &mut [Group], frac: f32) -> (Lane, Lane) {
    let mut acc_l: Lane = [0.0; LANES];
    let mut acc_r: Lane = [0.0; LANES];
    for g in groups {
        for i in 0..LANES {
            let (x, y) = (g.re[i], g.im[i]);
            g.re[i] = x * g.step_re[i] - y * g.step_im[i];
            g.im[i] = x * g.step_im[i] + y * g.step_re[i];
            acc_l[i] += g.im[i] * (g.gain_l[i] + g.slope_l[i] * frac);
            acc_r[i] += g.im[i] * (g.gain_r[i] + g.slope_r[i] * frac);
        }
    }
    (acc_l, acc_r)
}

/// [`oscillate`] written with SSE2 (every x86-64 CPU) and AVX intrinsics: the same operations
/// in the same order on each lane, without fused multiply-adds, so all three agree to the bit.
/// (LLVM does not vectorise the plain loop well: it pairs left and right instead of lanes.)
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Group, Lane, LANES};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx")]
    pub unsafe fn oscillate_avx(groups: &mut [Group], frac: f32) -> (Lane, Lane) {
        let f = _mm256_set1_ps(frac);
        let (mut al, mut ar) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        for g in groups {
            let x = _mm256_loadu_ps(g.re.as_ptr());
            let y = _mm256_loadu_ps(g.im.as_ptr());
            let c = _mm256_loadu_ps(g.step_re.as_ptr());
            let s = _mm256_loadu_ps(g.step_im.as_ptr());
            let nx = _mm256_sub_ps(_mm256_mul_ps(x, c), _mm256_mul_ps(y, s));
            let ny = _mm256_add_ps(_mm256_mul_ps(x, s), _mm256_mul_ps(y, c));
            _mm256_storeu_ps(g.re.as_mut_ptr(), nx);
            _mm256_storeu_ps(g.im.as_mut_ptr(), ny);
            let gl = _mm256_add_ps(
                _mm256_loadu_ps(g.gain_l.as_ptr()),
                _mm256_mul_ps(_mm256_loadu_ps(g.slope_l.as_ptr()), f),
            );
            let gr = _mm256_add_ps(
                _mm256_loadu_ps(g.gain_r.as_ptr()),
                _mm256_mul_ps(_mm256_loadu_ps(g.slope_r.as_ptr()), f),
            );
            al = _mm256_add_ps(al, _mm256_mul_ps(ny, gl));
            ar = _mm256_add_ps(ar, _mm256_mul_ps(ny, gr));
        }
        let (mut l, mut r) = ([0.0; LANES], [0.0; LANES]);
        _mm256_storeu_ps(l.as_mut_ptr(), al);
        _mm256_storeu_ps(r.as_mut_ptr(), ar);
        (l, r)
    }

    pub fn oscillate_sse(groups: &mut [Group], frac: f32) -> (Lane, Lane) {
        let (mut l, mut r) = ([0.0; LANES], [0.0; LANES]);
        // SAFETY: SSE2 is part of x86-64; the pointers are to 4-float halves of 8-float arrays.
        unsafe {
            let f = _mm_set1_ps(frac);
            let zero = _mm_setzero_ps();
            let mut acc = [zero; 4];
            for g in groups.iter_mut() {
                for h in 0..2 {
                    let o = 4 * h;
                    let x = _mm_loadu_ps(g.re.as_ptr().add(o));
                    let y = _mm_loadu_ps(g.im.as_ptr().add(o));
                    let c = _mm_loadu_ps(g.step_re.as_ptr().add(o));
                    let s = _mm_loadu_ps(g.step_im.as_ptr().add(o));
                    let nx = _mm_sub_ps(_mm_mul_ps(x, c), _mm_mul_ps(y, s));
                    let ny = _mm_add_ps(_mm_mul_ps(x, s), _mm_mul_ps(y, c));
                    _mm_storeu_ps(g.re.as_mut_ptr().add(o), nx);
                    _mm_storeu_ps(g.im.as_mut_ptr().add(o), ny);
                    let gl = _mm_add_ps(
                        _mm_loadu_ps(g.gain_l.as_ptr().add(o)),
                        _mm_mul_ps(_mm_loadu_ps(g.slope_l.as_ptr().add(o)), f),
                    );
                    let gr = _mm_add_ps(
                        _mm_loadu_ps(g.gain_r.as_ptr().add(o)),
                        _mm_mul_ps(_mm_loadu_ps(g.slope_r.as_ptr().add(o)), f),
                    );
                    acc[h] = _mm_add_ps(acc[h], _mm_mul_ps(ny, gl));
                    acc[2 + h] = _mm_add_ps(acc[2 + h], _mm_mul_ps(ny, gr));
                }
            }
            _mm_storeu_ps(l.as_mut_ptr(), acc[0]);
            _mm_storeu_ps(l.as_mut_ptr().add(4), acc[1]);
            _mm_storeu_ps(r.as_mut_ptr(), acc[2]);
            _mm_storeu_ps(r.as_mut_ptr().add(4), acc[3]);
        }
        (l, r)
    }
}

/// The bank's inner loop on the widest vectors this CPU has.
fn oscillate_fast(groups: &mut [Group], frac: f32, avx: bool) -> (Lane, Lane) {
    #[cfg(target_arch = "x86_64")]
    {
        if avx {
            // SAFETY: `avx` is true only when the CPU reports AVX (`avx_available`).
            unsafe { x86::oscillate_avx(groups, frac) }
        } else {
            x86::oscillate_sse(groups, frac)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = avx;
        oscillate(groups, frac)
    }
}

/// Lanes summed pairwise in a fixed order.
fn sum(v: &Lane) -> f32 {
    ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))
}

/// One Newton step towards |z| = 1 for every rotator (drift per step is ~1e-7, so one step
/// brings it back to rounding level).
fn renormalise(groups: &mut [Group]) {
    for g in groups {
        for i in 0..LANES {
            let s = 1.5 - 0.5 * (g.re[i] * g.re[i] + g.im[i] * g.im[i]);
            g.re[i] *= s;
            g.im[i] *= s;
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn avx_available() -> bool {
    std::arch::is_x86_feature_detected!("avx")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx_available() -> bool {
    false
}

impl Default for SpectralBank {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spectrum(partials: usize) -> Spectrum {
        let frames = 8;
        Spectrum {
            frames,
            freqs_hz: (0..partials)
                .map(|k| 40.0 * 2f32.powf(k as f32 / 48.0))
                .collect(),
            amps: (0..frames * partials)
                .map(|i| ((i * 7919) % 101) as f32 / 100.0)
                .collect(),
            pans: (0..frames * partials)
                .map(|i| ((i * 104_729) % 201) as f32 / 100.0 - 1.0)
                .collect(),
        }
    }

    fn render(bank: &mut SpectralBank, sp: &Spectrum, samples: usize) -> Vec<(f32, f32)> {
        (0..samples)
            .map(|i| bank.tick(sp, Some(i as f64 / 96_000.0), 48_000.0, 1.0 / 480.0))
            .collect()
    }

    #[test]
    fn wide_and_narrow_vectors_give_the_same_bits() {
        let sp = spectrum(MAX_PARTIALS);
        let mut wide = SpectralBank::new();
        let mut narrow = SpectralBank::new();
        narrow.avx = false;
        let out = render(&mut wide, &sp, 5_000);
        assert_eq!(out, render(&mut narrow, &sp, 5_000));
        assert!(out.iter().any(|s| s.0.abs() > 0.01 && s.1.abs() > 0.01));
        // And both equal the plain loop.
        let mut bank = SpectralBank::new();
        bank.tune(&sp, 48_000.0);
        bank.load_pair(&sp, 48_000.0, 2, 3);
        let mut plain = bank.groups.clone();
        for frac in [0.0, 0.25, 0.9] {
            let reference = oscillate(&mut plain, frac);
            for avx in [avx_available(), false] {
                let mut groups = bank.groups.clone();
                assert_eq!(
                    oscillate_fast(&mut groups, frac, avx),
                    reference,
                    "avx {avx}"
                );
            }
            bank.groups = plain.clone();
        }
    }

    #[test]
    fn a_lone_partial_is_a_clean_sine_at_its_frequency_for_minutes() {
        let sp = Spectrum {
            frames: 1,
            freqs_hz: vec![1_000.0],
            amps: vec![1.0],
            pans: vec![0.0],
        };
        let mut bank = SpectralBank::new();
        let fade = 1.0;
        // Three minutes at 48 kHz: the rotator neither drifts in level nor in pitch.
        let total = 3 * 60 * 48_000;
        let mut peak = (0.0f32, 0.0f32);
        let mut crossings = 0u32;
        let mut last = 0.0f32;
        for i in 0..total {
            let (l, _) = bank.tick(&sp, Some(0.0), 48_000.0, fade);
            if i >= total - 48_000 {
                peak.1 = peak.1.max(l.abs());
                if last <= 0.0 && l > 0.0 {
                    crossings += 1;
                }
            } else if i < 48_000 {
                peak.0 = peak.0.max(l.abs());
            }
            last = l;
        }
        assert!((peak.0 - peak.1).abs() < 1e-4 * peak.0, "{peak:?}");
        assert!((999..=1_001).contains(&crossings), "{crossings}");
    }

    #[test]
    fn partials_above_nyquist_are_silent() {
        let sp = Spectrum {
            frames: 1,
            freqs_hz: vec![30_000.0],
            amps: vec![1.0],
            pans: vec![0.0],
        };
        let mut bank = SpectralBank::new();
        assert!(render(&mut bank, &sp, 1_000)
            .iter()
            .all(|s| *s == (0.0, 0.0)));
    }
}
