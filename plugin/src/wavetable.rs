//! Band-limited single-cycle wavetables: a set of frames (one waveform each), each stored once per
//! octave with the harmonics that fit under Nyquist there (mip-maps), so a note reads a table whose
//! every harmonic is below half the sample rate and nothing folds back, at any pitch.
//!
//! Built off the audio thread (realfft: one forward transform per frame, one inverse per frame and
//! level); the engine only reads. Frames hold [`CYCLE`] samples plus a guard point for
//! interpolation; level `k` keeps harmonics `1..=MAX_HARMONIC >> k`.
//!
//! Samples are stored in pairs, each frame's sample beside the next frame's same sample (the last
//! frame beside itself): one four-float load brings a lane both frames at two neighbouring
//! samples, everything a morph between neighbouring frames reads. Twice the memory, half the
//! loads on the audio thread.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Samples per cycle in every table.
pub const CYCLE: usize = 2048;
/// One frame's samples plus the guard point (a copy of the first sample).
pub const STRIDE: usize = CYCLE + 1;
/// Octave levels: harmonics up to 1024, 512, .. 1.
pub const LEVELS: usize = 11;
const MAX_HARMONIC: usize = CYCLE / 2;
/// The most a level of a picture's wave is raised to reach full scale (24 dB).
const MAX_GAIN: f32 = 16.0;

/// A band-limited wavetable with `frames` waveforms, each at [`LEVELS`] bandwidths. Cheap to clone
/// (the samples are shared); the samples are freed with the last clone, never on the audio thread
/// (the engine hands every score back to be freed elsewhere).
#[derive(Clone)]
pub struct MipTable {
    frames: usize,
    // (A `Vec` behind the `Arc`: wrapping it moves the samples, `Arc<[f32]>` would copy them.)
    data: Arc<Vec<f32>>,
}

impl std::fmt::Debug for MipTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MipTable({} frames)", self.frames)
    }
}

/// The level whose harmonics all stay under Nyquist for a phase increment of up to `inc` cycles
/// per sample (the highest harmonic `h` of level `k` obeys `h * inc <= 0.5`).
pub fn level_for(inc: f32) -> usize {
    let mut level = 0;
    while level + 1 < LEVELS && (MAX_HARMONIC >> level) as f32 * inc > 0.5 {
        level += 1;
    }
    level
}

impl MipTable {
    /// Builds a table from harmonic spectra: `spectra[f][h - 1]` is harmonic `h` of frame `f` as
    /// a complex amplitude (`re` the cosine, `im` the sine part; a sine of amplitude `a` is
    /// `(0, a)`), harmonics beyond [`CYCLE`]` / 2` ignored. With `normalise`, every level of every
    /// frame is scaled to peak at 1 (by at most [`MAX_GAIN`]), so a wave whose energy sits in
    /// high harmonics does not fade away at the top of the keyboard where only its low ones fit.
    fn from_spectra(spectra: &[Vec<Complex<f32>>], normalise: bool) -> MipTable {
        let frames = spectra.len();
        let mut data = Vec::with_capacity(2 * LEVELS * frames * STRIDE);
        let inverse = RealFftPlanner::<f32>::new().plan_fft_inverse(CYCLE);
        let mut bins = inverse.make_input_vec();
        let mut cycle = inverse.make_output_vec();
        let mut scratch = inverse.make_scratch_vec();
        // A level at a time (its frames side by side), then stored as pairs.
        let mut level_frames = vec![0.0f32; frames * STRIDE];
        for level in 0..LEVELS {
            let top = MAX_HARMONIC >> level;
            for (f, spectrum) in spectra.iter().enumerate() {
                bins.fill(Complex::new(0.0, 0.0));
                for (h, c) in spectrum.iter().enumerate().take(top) {
                    // x[n] = sum X[k] e^{2 pi i k n / N} (unnormalised, real part doubled): a
                    // sine of amplitude a at harmonic k is X[k] = -i a / 2.
                    bins[h + 1] = Complex::new(0.5 * c.re, -0.5 * c.im);
                }
                // The Nyquist bin must be real for a real inverse transform.
                bins[CYCLE / 2].im = 0.0;
                inverse
                    .process_with_scratch(&mut bins, &mut cycle, &mut scratch)
                    .expect("buffers made by the plan");
                let scale = if normalise {
                    let peak = cycle.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                    (1.0 / peak.max(1e-9)).min(MAX_GAIN)
                } else {
                    1.0
                };
                let out = &mut level_frames[f * STRIDE..(f + 1) * STRIDE];
                for (o, x) in out.iter_mut().zip(&cycle) {
                    *o = x * scale;
                }
                out[CYCLE] = out[0];
            }
            // Pairs: frame f's sample i, then frame f + 1's (the last frame's own).
            for f in 0..frames {
                let (at, next) = (f * STRIDE, (f + 1).min(frames - 1) * STRIDE);
                for i in 0..STRIDE {
                    data.push(level_frames[at + i]);
                    data.push(level_frames[next + i]);
                }
            }
        }
        MipTable {
            frames,
            data: Arc::new(data),
        }
    }

    /// A band-limited falling ramp (1 at the start of the cycle to -1 at its end): the analog
    /// oscillator's sawtooth.
    pub fn saw() -> MipTable {
        let spectrum = (1..=MAX_HARMONIC)
            .map(|h| Complex::new(0.0, 2.0 / (std::f32::consts::PI * h as f32)))
            .collect();
        MipTable::from_spectra(&[spectrum], false)
    }

    /// Builds a table from single cycles (each of any length up to [`CYCLE`]): each frame keeps
    /// its cycle's harmonics, without its mean, each level scaled to peak at 1.
    /// A cycle with nothing but its mean (a flat row of a picture) becomes a sine.
    pub fn from_cycles(cycles: &[Vec<f32>]) -> MipTable {
        let mut planner = RealFftPlanner::<f32>::new();
        let mut spectra = Vec::with_capacity(cycles.len());
        for cycle in cycles {
            let n = cycle.len().clamp(2, CYCLE);
            let forward = planner.plan_fft_forward(n);
            let mut input: Vec<f32> = cycle.iter().copied().chain([0.0; 2]).take(n).collect();
            let mut bins = forward.make_output_vec();
            forward
                .process(&mut input, &mut bins)
                .expect("buffers made by the plan");
            // X[k] = sum x[n] e^{-2 pi i k n / N}: harmonic k is (2 re, -2 im) / N as
            // (cosine, sine) amplitudes.
            let norm = 2.0 / n as f32;
            let spectrum: Vec<Complex<f32>> = bins[1..]
                .iter()
                .map(|b| Complex::new(b.re * norm, -b.im * norm))
                .collect();
            let energy: f32 = spectrum.iter().map(|c| c.norm_sqr()).sum();
            spectra.push(if energy > 1e-9 {
                spectrum
            } else {
                vec![Complex::new(0.0, 1.0)]
            });
        }
        MipTable::from_spectra(&spectra, true)
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Where frame `frame` of `level` starts in [`MipTable::data`], counted in pairs (the floats
    /// of sample `i` are at `2 * (offset + i)` and the one after).
    #[inline(always)]
    pub fn offset(&self, level: usize, frame: usize) -> usize {
        (level * self.frames + frame.min(self.frames - 1)) * STRIDE
    }

    /// All samples as pairs (this frame's, the next frame's): frame after frame, level after
    /// level, [`STRIDE`] pairs each.
    #[inline(always)]
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// One frame at one level, with its guard point (a copy, for building and tests).
    pub fn frame(&self, level: usize, frame: usize) -> Vec<f32> {
        let at = self.offset(level, frame);
        (0..STRIDE).map(|i| self.data[2 * (at + i)]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_keep_every_harmonic_under_nyquist() {
        for inc in [1e-4f32, 0.001, 0.01, 0.0872, 0.2, 0.49] {
            let level = level_for(inc);
            let top = (MAX_HARMONIC >> level) as f32;
            assert!(top * inc <= 0.5, "inc {inc}: level {level}");
            // ... and lose at most an octave of them.
            assert!(level == 0 || 2.0 * top * inc > 0.5, "inc {inc}");
        }
        assert_eq!(level_for(0.0), 0);
    }

    #[test]
    fn the_saw_falls_from_one_to_minus_one_and_loses_harmonics_by_octave() {
        let saw = MipTable::saw();
        let wide = saw.frame(0, 0);
        // Mid-cycle it is the ramp: 1 - 2 phase.
        for (i, want) in [(512, 0.5), (1024, 0.0), (1536, -0.5)] {
            assert!((wide[i] - want).abs() < 0.01, "{i}: {}", wide[i]);
        }
        assert_eq!(wide[CYCLE], wide[0], "guard point");
        // The narrowest level is a sine of the ramp's fundamental amplitude (2 / pi).
        let sine = saw.frame(LEVELS - 1, 0);
        let want = |i: usize| {
            2.0 / std::f32::consts::PI * (i as f32 / CYCLE as f32 * std::f32::consts::TAU).sin()
        };
        for i in (0..CYCLE).step_by(97) {
            assert!((sine[i] - want(i)).abs() < 1e-4, "{i}");
        }
    }

    #[test]
    fn cycles_become_normalised_frames_and_flat_ones_sines() {
        let square: Vec<f32> = (0..256).map(|i| if i < 128 { 1.0 } else { 0.2 }).collect();
        let flat = vec![0.7; 256];
        let t = MipTable::from_cycles(&[square, flat]);
        assert_eq!(t.frames(), 2);
        let peak = |f: usize, l: usize| t.frame(l, f).iter().fold(0.0f32, |m, x| m.max(x.abs()));
        // Each sample sits beside the next frame's (the last frame beside its own).
        let at = 2 * (t.offset(3, 0) + 100);
        assert_eq!(
            (t.data()[at], t.data()[at + 1]),
            (t.frame(3, 0)[100], t.frame(3, 1)[100])
        );
        let at = 2 * (t.offset(3, 1) + 100);
        assert_eq!(t.data()[at], t.data()[at + 1]);
        assert!((peak(0, 0) - 1.0).abs() < 1e-4);
        assert!((peak(0, 7) - 1.0).abs() < 1e-4, "every level at full scale");
        let mean: f32 = t.frame(0, 0)[..CYCLE].iter().sum::<f32>() / CYCLE as f32;
        assert!(mean.abs() < 1e-4, "no DC: {mean}");
        // The flat row is a sine: its quarter-cycle sample is its peak.
        assert!((t.frame(0, 1)[CYCLE / 4] - 1.0).abs() < 1e-3);
        assert!(peak(1, 5) > 0.99);
    }
}
