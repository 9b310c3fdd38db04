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
//! `new` allocates; `retune`, `reset` and `tick` run on the audio thread without allocating. The
//! inner loop, in plain Rust and with SSE2 and AVX intrinsics, is in `kernels.rs`.

mod kernels;

use crate::score::Spectrum;
use kernels::{avx_available, oscillate_fast};

/// Partials the bank can play; a spectrum with more plays its lowest `MAX_PARTIALS`.
pub const MAX_PARTIALS: usize = 512;
const LANES: usize = 8;
const GROUPS: usize = MAX_PARTIALS / LANES;
/// Output level for a spectrum whose every partial is at full amplitude.
const BANK_LEVEL: f32 = 0.6;
/// Samples between two renormalisations of the rotators (counted on the bank's own clock, so
/// the schedule does not depend on block boundaries).
const RENORM_EVERY: u32 = 256;
/// Most samples [`SpectralBank::render`] takes at once.
pub const CHUNK: usize = 64;

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
    #[cfg(test)]
    pub fn tick(
        &mut self,
        spectrum: &Spectrum,
        loop_pos: Option<f64>,
        sample_rate: f32,
        fade_step: f32,
    ) -> (f32, f32) {
        let (mut l, mut r) = ([0.0], [0.0]);
        self.render(
            spectrum,
            &[loop_pos],
            sample_rate,
            fade_step,
            &mut l,
            &mut r,
        );
        (l[0], r[0])
    }

    /// Renders up to [`CHUNK`] samples: `positions[j]` is sample `j`'s position within the loop
    /// as a fraction 0..1, or `None` while the transport is stopped (the bank fades out by
    /// `fade_step` per sample). The same samples as rendering them one at a time: runs of samples
    /// that share a frame pair are computed group by group with the rotators in registers, and
    /// each sample's lanes are summed over the groups in the same order.
    pub fn render(
        &mut self,
        spectrum: &Spectrum,
        positions: &[Option<f64>],
        sample_rate: f32,
        fade_step: f32,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let m = positions.len().min(CHUNK).min(left.len()).min(right.len());
        let frames = spectrum.frames;
        // A frame's values are reached in the middle of its time span (a picture column is an
        // interval, not an instant); in between, and across the loop end, they glide.
        let frame_at = |p: Option<f64>| {
            let pos = (p.unwrap_or(0.0) * frames as f64 - 0.5).rem_euclid(frames as f64);
            let f0 = (pos.floor() as usize).min(frames - 1);
            ((f0, (f0 + 1) % frames), (pos - f0 as f64) as f32)
        };
        let fade = |level: f32, p: Option<f64>| match p {
            Some(_) => (level + fade_step).min(1.0),
            None => (level - fade_step).max(0.0),
        };
        let mut fracs = [0.0f32; CHUNK];
        let mut gains = [0.0f32; CHUNK];
        let mut j = 0;
        while j < m {
            self.level = fade(self.level, positions[j]);
            if self.level == 0.0 {
                (left[j], right[j]) = (0.0, 0.0);
                j += 1;
                continue;
            }
            if !self.tuned {
                self.tune(spectrum, sample_rate);
            }
            let (pair, frac) = frame_at(positions[j]);
            if self.pair != Some(pair) {
                self.load_pair(spectrum, sample_rate, pair.0, pair.1);
            }
            // The run: following samples that sound, share the frame pair and come before the
            // next renormalisation.
            (fracs[0], gains[0]) = (frac, self.level * self.norm);
            let mut len = 1;
            let mut clock = self.clock.wrapping_add(1);
            while !clock.is_multiple_of(RENORM_EVERY) && j + len < m {
                let p = positions[j + len];
                let level = fade(self.level, p);
                let (next, frac) = frame_at(p);
                if level == 0.0 || next != pair {
                    break;
                }
                self.level = level;
                (fracs[len], gains[len]) = (frac, level * self.norm);
                len += 1;
                clock = clock.wrapping_add(1);
            }
            let groups = &mut self.groups[..self.used];
            let (mut acc_l, mut acc_r) = ([[0.0; LANES]; CHUNK], [[0.0; LANES]; CHUNK]);
            oscillate_fast(
                groups,
                &fracs[..len],
                &mut acc_l[..len],
                &mut acc_r[..len],
                self.avx,
            );
            for k in 0..len {
                left[j + k] = sum(&acc_l[k]) * gains[k];
                right[j + k] = sum(&acc_r[k]) * gains[k];
            }
            self.clock = clock;
            if clock.is_multiple_of(RENORM_EVERY) {
                renormalise(groups);
            }
            j += len;
        }
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

impl Default for SpectralBank {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::kernels::oscillate;
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
        // And both equal the plain loop, for runs of one sample and of many.
        let mut bank = SpectralBank::new();
        bank.tune(&sp, 48_000.0);
        bank.load_pair(&sp, 48_000.0, 2, 3);
        for fracs in [&[0.25][..], &[0.0, 0.1, 0.2, 0.5, 0.9, 0.95, 0.99]] {
            let n = fracs.len();
            let mut plain = bank.groups.clone();
            let (mut l, mut r) = (vec![[0.0; LANES]; n], vec![[0.0; LANES]; n]);
            oscillate(&mut plain, fracs, &mut l, &mut r);
            for avx in [avx_available(), false] {
                let mut groups = bank.groups.clone();
                let (mut l2, mut r2) = (vec![[0.0; LANES]; n], vec![[0.0; LANES]; n]);
                oscillate_fast(&mut groups, fracs, &mut l2, &mut r2, avx);
                assert_eq!((&l2, &r2), (&l, &r), "avx {avx}");
            }
        }
    }

    #[test]
    fn a_block_renders_the_samples_one_at_a_time_would() {
        let sp = spectrum(300);
        // Playing, a stop (fade out to silence) and playing again; across frame pairs and a
        // renormalisation.
        let positions: Vec<Option<f64>> = (0..2_000)
            .map(|i| (!(700..1_300).contains(&i)).then_some(i as f64 / 1_500.0))
            .collect();
        let mut one = SpectralBank::new();
        let single: Vec<(f32, f32)> = positions
            .iter()
            .map(|p| one.tick(&sp, *p, 48_000.0, 1.0 / 300.0))
            .collect();
        let mut bank = SpectralBank::new();
        let mut blocks = Vec::new();
        for chunk in positions.chunks(CHUNK) {
            let (mut l, mut r) = (vec![0.0; chunk.len()], vec![0.0; chunk.len()]);
            bank.render(&sp, chunk, 48_000.0, 1.0 / 300.0, &mut l, &mut r);
            blocks.extend(l.into_iter().zip(r));
        }
        assert_eq!(blocks, single);
        assert!(single[650].0 != 0.0 && single[1_250] == (0.0, 0.0));
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
