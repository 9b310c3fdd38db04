//! Spectral resynthesis: an oscillator bank plays a [`Spectrum`], one sine per partial, with
//! amplitudes and pans interpolated between frame centres at the exact loop position of every
//! sample.
//! `new` allocates; `tick` runs on the audio thread without allocating.

use crate::score::Spectrum;

/// Partials the bank can play (a spectrum has at most one per working-copy row).
pub const MAX_PARTIALS: usize = 128;
const TABLE_BITS: u32 = 11;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
/// Output level for a spectrum whose every partial is at full amplitude.
const BANK_LEVEL: f32 = 0.6;

pub struct SpectralBank {
    phases: Vec<f64>,
    table: Vec<f32>,
    /// Fades the whole bank in when the transport plays and out when it stops.
    level: f32,
}

impl SpectralBank {
    pub fn new() -> Self {
        SpectralBank {
            // Spread the starting phases (golden ratio) so partials do not all peak together.
            phases: (0..MAX_PARTIALS)
                .map(|k| (k as f64 * 0.618_033_988_75).fract())
                .collect(),
            table: (0..=TABLE_SIZE)
                .map(|i| (i as f64 / TABLE_SIZE as f64 * std::f64::consts::TAU).sin() as f32)
                .collect(),
            level: 0.0,
        }
    }

    pub fn reset(&mut self) {
        for (k, p) in self.phases.iter_mut().enumerate() {
            *p = (k as f64 * 0.618_033_988_75).fract();
        }
        self.level = 0.0;
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
        let partials = spectrum.partials().min(MAX_PARTIALS);
        let frames = spectrum.frames;
        // A frame's values are reached in the middle of its time span (a picture column is an
        // interval, not an instant); in between, and across the loop end, they glide.
        let pos = (loop_pos.unwrap_or(0.0) * frames as f64 - 0.5).rem_euclid(frames as f64);
        let f0 = (pos.floor() as usize).min(frames - 1);
        let f1 = (f0 + 1) % frames;
        let frac = (pos - f0 as f64) as f32;
        let (a0, a1) = (
            &spectrum.amps[f0 * partials..],
            &spectrum.amps[f1 * partials..],
        );
        let (p0, p1) = (
            &spectrum.pans[f0 * partials..],
            &spectrum.pans[f1 * partials..],
        );
        let (mut l, mut r) = (0.0f32, 0.0f32);
        for k in 0..partials {
            let amp = a0[k] + (a1[k] - a0[k]) * frac;
            let phase = self.phases[k];
            self.phases[k] =
                (phase + f64::from(spectrum.freqs_hz[k]) / f64::from(sample_rate)).fract();
            if amp <= 0.0 {
                continue;
            }
            let t = phase * TABLE_SIZE as f64;
            let i = t as usize;
            let s = self.table[i] + (self.table[i + 1] - self.table[i]) * (t - i as f64) as f32;
            let pan = p0[k] + (p1[k] - p0[k]) * frac;
            let v = s * amp;
            l += v * (1.0 - pan) * 0.5;
            r += v * (1.0 + pan) * 0.5;
        }
        let g = self.level * BANK_LEVEL / (partials as f32).sqrt();
        (l * g, r * g)
    }
}

impl Default for SpectralBank {
    fn default() -> Self {
        Self::new()
    }
}
