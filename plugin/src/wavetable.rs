//! Band-limited single-cycle wavetables: a set of frames (one waveform each), each stored once per
//! octave with the harmonics that fit under Nyquist there (mip-maps), so a note reads a table whose
//! every harmonic is below half the sample rate and nothing folds back, at any pitch.
//!
//! Built off the audio thread (realfft: one forward transform per frame, one inverse per frame and
//! level); the engine only reads. Level `k` keeps harmonics `1..=MAX_HARMONIC >> k` in a cycle of
//! [`cycle_len`]`(k)` samples (plus a guard point for interpolation): 64 samples per period of its
//! highest harmonic, so a level is as long as its harmonics need and no longer (2048 samples for
//! the widest levels, halving with each octave down to 256). Levels that would hold the same
//! harmonics (a picture's wave has at most a few hundred) are stored once.
//!
//! Samples are stored in pairs, each frame's sample beside the next frame's same sample (the last
//! frame beside itself): one four-float load brings a lane both frames at two neighbouring
//! samples, everything a morph between neighbouring frames reads. Twice the memory, half the
//! loads on the audio thread.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;
use rustfft::{Fft, FftPlanner};

/// Samples per cycle in the widest levels.
pub const CYCLE: usize = 2048;
/// Octave levels: harmonics up to 1024, 512, .. 1.
pub const LEVELS: usize = 11;
const MAX_HARMONIC: usize = CYCLE / 2;
/// Samples per period of a level's highest harmonic, at least: linear interpolation then leaves
/// its images far down. A rich picture's wave folds nothing above -66 dB from E5 up (-78 dB at
/// C8; a sawtooth -84 dB); below E5, where every level is 2048 long as before, the same as
/// before (down to -43 dB at C3: 16 samples per period of a 128th harmonic). With 32, E5 to
/// E7 folded at -55 dB.
const OVERSAMPLING: usize = 64;
/// The shortest cycle a level has (the top octaves' few harmonics would fold at about -70 dB
/// from 128 samples).
const MIN_CYCLE: usize = 256;
/// The most a level of a picture's wave is raised to reach full scale (24 dB).
const MAX_GAIN: f32 = 16.0;

/// Samples per cycle at `level` (a power of two, from [`CYCLE`] down to 256); each frame stores
/// one more, the guard point (a copy of the first sample).
pub const fn cycle_len(level: usize) -> usize {
    let n = OVERSAMPLING * (MAX_HARMONIC >> level);
    if n > CYCLE {
        CYCLE
    } else if n < MIN_CYCLE {
        MIN_CYCLE
    } else {
        n
    }
}

/// Where `level` starts (in samples, guard points included) in a one-frame table that stores
/// every level: the analog oscillator's layout.
pub const fn level_start(level: usize) -> usize {
    let (mut l, mut at) = (0, 0);
    while l < level && l < LEVELS {
        at += cycle_len(l) + 1;
        l += 1;
    }
    at
}

/// A band-limited wavetable with `frames` waveforms, each at [`LEVELS`] bandwidths. Cheap to clone
/// (the samples are shared); the samples are freed with the last clone, never on the audio thread
/// (the engine hands every score back to be freed elsewhere).
#[derive(Clone)]
pub struct MipTable {
    frames: usize,
    /// Where each level's first frame starts in `data`, in sample pairs (levels that hold the
    /// same harmonics share one start).
    starts: [u32; LEVELS],
    // (A `Vec` behind the `Arc`: wrapping it moves the samples, `Arc<[f32]>` would copy them.)
    data: Arc<Vec<f32>>,
    /// What each frame holds, for working out how loud it plays without reading its samples.
    spectra: Arc<Vec<FrameSpectrum>>,
}

/// The first harmonics a summary keeps one by one; the rest are summed in octave bands.
pub const SUMMARY_HARMONICS: usize = 64;
/// Octave bands above [`SUMMARY_HARMONICS`]: harmonics 65-128, 129-256, 257-512, 513-1024.
pub const TAIL_BANDS: usize = 4;

/// A frame's harmonics as the table plays them (before each level's gain): the first
/// [`SUMMARY_HARMONICS`] as complex amplitudes (cosine, sine), the power (amplitude squared over
/// two) of each octave band above, and each level's gain.
#[derive(Clone, Debug)]
pub struct FrameSpectrum {
    pub harmonics: [Complex<f32>; SUMMARY_HARMONICS],
    pub tail: [f32; TAIL_BANDS],
    pub gains: [f32; LEVELS],
}

/// The harmonic a level keeps last (its band limit).
pub const fn top_harmonic(level: usize) -> usize {
    MAX_HARMONIC >> level
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

/// The transforms' plans, made once per length for the process (planning a length computes its
/// twiddle factors; every picture's wave used to plan its lengths anew).
struct Planners {
    real: RealFftPlanner<f32>,
    complex: FftPlanner<f32>,
}

fn planned<T>(plan: impl FnOnce(&mut Planners) -> T) -> T {
    static PLANNERS: LazyLock<Mutex<Planners>> = LazyLock::new(|| {
        Mutex::new(Planners {
            real: RealFftPlanner::new(),
            complex: FftPlanner::new(),
        })
    });
    // (Planning does not leave a planner half-changed: one a panic poisoned is still good.)
    plan(&mut PLANNERS.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Cycles of `len` samples from harmonics `1..=top` (`top` at most `len / 2`), by a complex
/// inverse transform of half the length whose input holds only the few bins such a cycle fills.
///
/// With `X[k]` the cycle's spectrum (`x[n] = sum X[k] e^{2 pi i k n / len}` over all `len` bins,
/// `X[len - k]` the conjugate of `X[k]`), `M = len / 2` and `w = e^{2 pi i / len}`, the sequence
/// `z[m] = x[2m] + i x[2m + 1]` is the `M`-point inverse transform of
/// `Z[k] = (X[k] + conj X[M - k]) + i w^k (X[k] - conj X[M - k])`, `k < M`. Only harmonics up to
/// `top` are there, so `Z[k]` is zero but for `k <= top` and `k >= M - top`: those are worked out,
/// the rest stay zero.
struct Cycles {
    half: usize,
    top: usize,
    fft: Arc<dyn Fft<f32>>,
    /// `X[0..=M]` (only `1..=top` ever non-zero).
    bins: Vec<Complex<f32>>,
    /// `w^j` for `j` in `0..=top`.
    twiddles: Vec<Complex<f32>>,
    z: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl Cycles {
    fn new(len: usize, top: usize) -> Cycles {
        let half = len / 2;
        let fft = planned(|p| p.complex.plan_fft_inverse(half));
        let scratch = vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        let twiddles = (0..=top)
            .map(|j| {
                let (s, c) = (std::f64::consts::TAU * j as f64 / len as f64).sin_cos();
                Complex::new(c as f32, s as f32)
            })
            .collect();
        Cycles {
            half,
            top,
            fft,
            bins: vec![Complex::new(0.0, 0.0); half + 1],
            twiddles,
            z: vec![Complex::new(0.0, 0.0); half],
            scratch,
        }
    }

    /// The cycle of `spectrum` (harmonic `h` at `spectrum[h - 1]`, cosine and sine amplitudes;
    /// those above `top` left out) as `z`: sample `2m` is `z[m].re`, sample `2m + 1` `z[m].im`.
    fn of(&mut self, spectrum: &[Complex<f32>]) -> &[Complex<f32>] {
        let (half, top) = (self.half, self.top);
        for (h, bin) in self.bins[1..=top].iter_mut().enumerate() {
            // A sine of amplitude a at harmonic k is X[k] = -i a / 2 (and its conjugate at -k).
            *bin = spectrum.get(h).map_or(Complex::new(0.0, 0.0), |c| {
                Complex::new(0.5 * c.re, -0.5 * c.im)
            });
        }
        // The Nyquist bin (top = M) is real: it stands for itself only.
        self.bins[half].im = 0.0;
        let (bins, twiddles) = (&self.bins, &self.twiddles);
        let at = |k: usize| {
            let (x, mirror) = (bins[k], bins[half - k].conj());
            // w^k, for k <= top or M - k <= top: w^(M - j) = -conj(w^j).
            let w = match twiddles.get(k) {
                Some(w) => *w,
                None => -twiddles[half - k].conj(),
            };
            (x + mirror) + Complex::new(0.0, 1.0) * w * (x - mirror)
        };
        self.z.fill(Complex::new(0.0, 0.0));
        let low = top.min(half - 1);
        let high = (half - top).max(low + 1);
        for k in (0..=low).chain(high..half) {
            self.z[k] = at(k);
        }
        self.fft
            .process_with_scratch(&mut self.z, &mut self.scratch);
        &self.z
    }

    /// Swaps the last cycle made into `out` (of `len / 2` pairs; `out`'s old samples are
    /// overwritten by the next one).
    fn swap_out(&mut self, out: &mut Vec<Complex<f32>>) {
        std::mem::swap(&mut self.z, out);
    }
}

/// Writes the pairs (`a`'s sample `i` times `sa`, `b`'s times `sb`) to `out`, in order, for the
/// samples of two cycles as [`Cycles::of`] gives them (sample `2m` is `[m].re`, `2m + 1` is
/// `[m].im`), and the guard pair (sample 0 again) after them: `4n + 2` floats for cycles of `n`.
fn pairs_into(out: &mut [f32], (a, sa): (&[Complex<f32>], f32), (b, sb): (&[Complex<f32>], f32)) {
    let n = a.len().min(b.len());
    let (samples, guard) = out.split_at_mut((4 * n).min(out.len()));
    for (four, (a, b)) in samples.chunks_exact_mut(4).zip(a.iter().zip(b)) {
        four.copy_from_slice(&[a.re * sa, b.re * sb, a.im * sa, b.im * sb]);
    }
    if let (Some(a), Some(b), [g0, g1, ..]) = (a.first(), b.first(), guard) {
        (*g0, *g1) = (a.re * sa, b.re * sb);
    }
}

/// The largest magnitude among `samples` (their real and imaginary parts alike); 0 for none.
fn peak(samples: &[Complex<f32>]) -> f32 {
    // (Eight lanes of plain maxima: the largest of finite values whatever the order, and a
    // cycle's samples are always finite.)
    let lanes = samples.chunks_exact(4).fold(wide::f32x8::ZERO, |m, c| {
        let v = wide::f32x8::new([
            c[0].re, c[0].im, c[1].re, c[1].im, c[2].re, c[2].im, c[3].re, c[3].im,
        ]);
        m.fast_max(v.abs())
    });
    let rest = samples.chunks_exact(4).remainder().iter();
    rest.flat_map(|c| [c.re, c.im])
        .chain(lanes.to_array())
        .fold(0.0f32, |m, x| m.max(x.abs()))
}

/// A [`MipTable`] being built: its levels are jobs ([`LevelJob`]) that any thread may run, each
/// once, in any order; [`TableBuild::finish`] then makes the table. Every level is worked out
/// alike whoever runs it, so the table is the same to the bit.
pub struct TableBuild {
    frames: usize,
    spectra: Vec<Vec<Complex<f32>>>,
    normalise: bool,
    /// The levels made (the others share the one before), each with its cycle's length and top
    /// harmonic.
    made: Vec<(usize, usize, usize)>,
    starts: [u32; LEVELS],
    data: Vec<f32>,
    /// Each made level's gain for each frame, level after level.
    gains: Vec<f32>,
    summaries: Vec<FrameSpectrum>,
}

/// One level of a [`TableBuild`]: every frame's cycle at that level, written as pairs.
pub struct LevelJob<'a> {
    len: usize,
    top: usize,
    normalise: bool,
    spectra: &'a [Vec<Complex<f32>>],
    data: &'a mut [f32],
    gains: &'a mut [f32],
}

impl TableBuild {
    /// See [`MipTable::from_spectra`].
    fn new(spectra: Vec<Vec<Complex<f32>>>, normalise: bool) -> TableBuild {
        let frames = spectra.len();
        // The most harmonics any frame has: levels that keep at least as many are the same.
        let richest = spectra.iter().map(Vec::len).max().unwrap_or(0).max(1);
        // Which levels are made (the others share the one before), and so the table's size,
        // allocated once.
        let shape = |level: usize| (cycle_len(level), (MAX_HARMONIC >> level).min(richest));
        let made: Vec<(usize, usize, usize)> = (0..LEVELS)
            .filter(|&l| l == 0 || shape(l) != shape(l - 1))
            .map(|l| (l, shape(l).0, shape(l).1))
            .collect();
        let mut starts = [0u32; LEVELS];
        let mut start = 0;
        for level in 0..LEVELS {
            match made.iter().find(|m| m.0 == level) {
                Some(&(_, len, _)) => {
                    starts[level] = start as u32;
                    start += frames * (len + 1);
                }
                None => starts[level] = starts[level.saturating_sub(1)],
            }
        }
        let summaries = spectra
            .iter()
            .map(|spectrum| {
                let mut harmonics = [Complex::new(0.0, 0.0); SUMMARY_HARMONICS];
                let mut tail = [0.0f32; TAIL_BANDS];
                for (h, c) in spectrum.iter().enumerate().take(MAX_HARMONIC) {
                    match harmonics.get_mut(h) {
                        Some(slot) => *slot = *c,
                        None => {
                            // Harmonic h + 1 > 64: band 0 is 65..=128, band 1 129..=256, ...
                            let band = (h / SUMMARY_HARMONICS).ilog2() as usize;
                            tail[band.min(TAIL_BANDS - 1)] += 0.5 * c.norm_sqr();
                        }
                    }
                }
                FrameSpectrum {
                    harmonics,
                    tail,
                    gains: [1.0; LEVELS],
                }
            })
            .collect();
        TableBuild {
            frames,
            normalise,
            gains: vec![1.0; made.len() * frames],
            made,
            starts,
            data: vec![0.0; 2 * start],
            summaries,
            spectra,
        }
    }

    /// See [`MipTable::from_cycles`]: the cycles' spectra (one forward transform each).
    pub fn of_cycles(cycles: &[Vec<f32>]) -> TableBuild {
        let mut spectra = Vec::with_capacity(cycles.len());
        for cycle in cycles {
            let n = cycle.len().clamp(2, CYCLE);
            let forward = planned(|p| p.real.plan_fft_forward(n));
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
        TableBuild::new(spectra, true)
    }

    /// The levels to build, widest first.
    pub fn levels(&mut self) -> Vec<LevelJob<'_>> {
        let frames = self.frames;
        let (mut data, mut gains) = (&mut self.data[..], &mut self.gains[..]);
        self.made
            .iter()
            .map(|&(_, len, top)| {
                let (n, m) = (
                    (2 * frames * (len + 1)).min(data.len()),
                    frames.min(gains.len()),
                );
                let (level_data, rest) = std::mem::take(&mut data).split_at_mut(n);
                let (level_gains, rest_gains) = std::mem::take(&mut gains).split_at_mut(m);
                (data, gains) = (rest, rest_gains);
                LevelJob {
                    len,
                    top: top.min(len / 2),
                    normalise: self.normalise,
                    spectra: &self.spectra,
                    data: level_data,
                    gains: level_gains,
                }
            })
            .collect()
    }

    /// The table, its levels built here one after another.
    pub fn built(mut self) -> MipTable {
        self.levels().into_iter().for_each(LevelJob::run);
        self.finish()
    }

    /// The table, once every level has been built.
    pub fn finish(mut self) -> MipTable {
        let frames = self.frames;
        for level in 0..LEVELS {
            let made = self.made.iter().position(|m| m.0 == level);
            for (f, summary) in self.summaries.iter_mut().enumerate() {
                summary.gains[level] = match made {
                    Some(m) => self.gains[m * frames + f],
                    None => summary.gains[level.saturating_sub(1)],
                };
            }
        }
        MipTable {
            frames,
            starts: self.starts,
            data: Arc::new(self.data),
            spectra: Arc::new(self.summaries),
        }
    }
}

impl LevelJob<'_> {
    pub fn run(self) {
        let (len, frames) = (self.len, self.spectra.len());
        let mut cycles = Cycles::new(len, self.top);
        let mut slots = self.data.chunks_exact_mut(2 * (len + 1));
        // The frame before this one's cycle, and its scale.
        let (mut before, mut before_scale) = (vec![Complex::new(0.0, 0.0); len / 2], 1.0);
        for (f, spectrum) in self.spectra.iter().enumerate() {
            let this = cycles.of(spectrum);
            let scale = if self.normalise {
                (1.0 / peak(this).max(1e-9)).min(MAX_GAIN)
            } else {
                1.0
            };
            if let Some(gain) = self.gains.get_mut(f) {
                *gain = scale;
            }
            // Pairs: frame f - 1's sample i, then frame f's, each scaled as it is written.
            if f > 0 {
                if let Some(slot) = slots.next() {
                    pairs_into(slot, (&before, before_scale), (this, scale));
                }
            }
            cycles.swap_out(&mut before);
            before_scale = scale;
        }
        // The last frame's pairs hold its own samples twice.
        if let (true, Some(slot)) = (frames > 0, slots.next()) {
            let last = (&before[..], before_scale);
            pairs_into(slot, last, last);
        }
    }
}

impl MipTable {
    /// Builds a table from harmonic spectra: `spectra[f][h - 1]` is harmonic `h` of frame `f` as
    /// a complex amplitude (`re` the cosine, `im` the sine part; a sine of amplitude `a` is
    /// `(0, a)`), harmonics beyond [`CYCLE`]` / 2` ignored. With `normalise`, every level of every
    /// frame is scaled to peak at 1 (by at most [`MAX_GAIN`]), so a wave whose energy sits in
    /// high harmonics does not fade away at the top of the keyboard where only its low ones fit.
    fn from_spectra(spectra: Vec<Vec<Complex<f32>>>, normalise: bool) -> MipTable {
        TableBuild::new(spectra, normalise).built()
    }

    /// A band-limited falling ramp (1 at the start of the cycle to -1 at its end): the analog
    /// oscillator's sawtooth.
    pub fn saw() -> MipTable {
        let spectrum = (1..=MAX_HARMONIC)
            .map(|h| Complex::new(0.0, 2.0 / (std::f32::consts::PI * h as f32)))
            .collect();
        MipTable::from_spectra(vec![spectrum], false)
    }

    /// Builds a table from single cycles (each of any length up to [`CYCLE`]): each frame keeps
    /// its cycle's harmonics, without its mean, each level scaled to peak at 1.
    /// A cycle with nothing but its mean (a flat row of a picture) becomes a sine.
    pub fn from_cycles(cycles: &[Vec<f32>]) -> MipTable {
        TableBuild::of_cycles(cycles).built()
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// What frame `frame` holds (its harmonics and each level's gain).
    pub fn spectrum(&self, frame: usize) -> &FrameSpectrum {
        &self.spectra[frame.min(self.frames - 1)]
    }

    /// Where frame `frame` of `level` starts in [`MipTable::data`], counted in pairs (the floats
    /// of sample `i` are at `2 * (offset + i)` and the one after); the level's cycle is
    /// [`cycle_len`]`(level)` samples.
    #[inline(always)]
    pub fn offset(&self, level: usize, frame: usize) -> usize {
        let level = level.min(LEVELS - 1);
        self.starts[level] as usize + frame.min(self.frames - 1) * (cycle_len(level) + 1)
    }

    /// All samples as pairs (this frame's, the next frame's): frame after frame, level after
    /// level.
    #[inline(always)]
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// One frame at one level, with its guard point (a copy, for building and tests).
    pub fn frame(&self, level: usize, frame: usize) -> Vec<f32> {
        let at = self.offset(level, frame);
        (0..=cycle_len(level.min(LEVELS - 1)))
            .map(|i| self.data[2 * (at + i)])
            .collect()
    }

    /// The heap this table holds, in bytes.
    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_of_every_frame_is_its_harmonics_summed() {
        // Frames of 1 to 1024 harmonics (the last reaching the widest level's Nyquist), cosine
        // and sine parts, and one frame shorter than the others (its missing harmonics silent).
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for count in [1usize, 3, 40, 128, 300, 1024] {
            let spectra: Vec<Vec<Complex<f32>>> = (0..3)
                .map(|f| {
                    let n = if f == 1 { count.div_ceil(2) } else { count };
                    (1..=n)
                        .map(|h| Complex::new(next() / h as f32, next() / h as f32))
                        .collect()
                })
                .collect();
            let table = MipTable::from_spectra(spectra.clone(), false);
            for level in 0..LEVELS {
                let len = cycle_len(level);
                let top = top_harmonic(level).min(len / 2);
                for (f, spectrum) in spectra.iter().enumerate() {
                    let got = table.frame(level, f);
                    let mut worst = 0.0f64;
                    for (n, got) in got.iter().enumerate() {
                        let mut want = 0.0f64;
                        for (h, c) in spectrum.iter().enumerate().take(top) {
                            let h = h + 1;
                            let phase = std::f64::consts::TAU * (h * n) as f64 / len as f64;
                            let (re, im) = (f64::from(c.re), f64::from(c.im));
                            // (A cosine at Nyquist counts once, as a real transform takes it.)
                            let re = if 2 * h == len { re / 2.0 } else { re };
                            want += re * phase.cos() + im * phase.sin();
                        }
                        worst = worst.max((f64::from(*got) - want).abs());
                    }
                    assert!(
                        worst < 2e-5,
                        "{count} harmonics, level {level}, frame {f}: off by {worst}"
                    );
                }
            }
        }
    }

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
        let len = cycle_len(LEVELS - 1);
        assert_eq!(sine.len(), len + 1);
        let want = |i: usize| {
            2.0 / std::f32::consts::PI * (i as f32 / len as f32 * std::f32::consts::TAU).sin()
        };
        for i in (0..len).step_by(7) {
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

    #[test]
    fn levels_shrink_with_the_octave_and_a_pictures_wave_stores_each_bandwidth_once() {
        let lens: Vec<usize> = (0..LEVELS).map(cycle_len).collect();
        assert_eq!(
            lens,
            [2048, 2048, 2048, 2048, 2048, 2048, 1024, 512, 256, 256, 256]
        );
        assert_eq!(level_start(2), 2 * 2049);
        // Each level has 64 samples or more for each period of its highest harmonic.
        for (level, &len) in lens.iter().enumerate() {
            assert!(len == CYCLE || len >= OVERSAMPLING * (MAX_HARMONIC >> level));
            assert!(len >= (MAX_HARMONIC >> level) * 2, "every harmonic fits");
        }
        // A picture's wave as the composer makes it: 64 rows of 128 points (a 256-sample cycle,
        // 128 harmonics), so levels 0 to 3 are one level.
        let cycles: Vec<Vec<f32>> = (0..64)
            .map(|f| (0..256).map(|i| ((i * (f + 3)) % 17) as f32).collect())
            .collect();
        let t = MipTable::from_cycles(&cycles);
        assert_eq!(t.offset(0, 5), t.offset(3, 5));
        assert_ne!(t.offset(3, 5), t.offset(4, 5));
        assert_eq!(t.frame(0, 9), t.frame(3, 9));
        let per_frame: usize = 3 * 2048 + 1024 + 512 + 3 * 256 + 8;
        assert_eq!(t.bytes(), 64 * per_frame * 2 * 4);
        assert!(t.bytes() < 4_500_000, "{} bytes", t.bytes());
        // The pairs stay in step at a level of another length.
        let at = 2 * (t.offset(7, 7) + 100);
        assert_eq!(
            (t.data()[at], t.data()[at + 1]),
            (t.frame(7, 7)[100], t.frame(7, 8)[100])
        );
        assert_eq!(t.frame(7, 7)[512], t.frame(7, 7)[0], "guard point");
    }
}
