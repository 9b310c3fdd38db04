//! Spectral mode (Photosounder-style): the picture is a spectrogram. Columns are time across the
//! loop (16 frames a bar), rows are partials spaced evenly in pitch (so logarithmically in
//! frequency) from Low at the bottom to High at the top, optionally snapped to the key's scale.
//! Brightness is amplitude, stretched between the picture's own black and white levels (5th and
//! 95th lightness percentiles); the red/green balance is the pan (red right, green left).

use super::theory::Tonality;
use super::Settings;
use crate::analysis::{Features, Picture};
use crate::score::Spectrum;

pub const FRAMES_PER_BAR: usize = 16;
/// Most partials a spectrum has: one per working-copy row at most.
pub const MAX_PARTIALS: usize = 128;

fn hz(midi: f32) -> f32 {
    440.0 * 2f32.powf((midi - 69.0) / 12.0)
}

pub fn spectrum(p: &Picture, f: &Features, s: &Settings, t: Tonality) -> Spectrum {
    spectrum_with(p, f, s, t, p.height.clamp(1, MAX_PARTIALS))
}

/// [`spectrum`] with `partials` rows (a piece reads every section with its first picture's).
pub fn spectrum_with(
    p: &Picture,
    f: &Features,
    s: &Settings,
    t: Tonality,
    partials: usize,
) -> Spectrum {
    let frames = s.bars as usize * FRAMES_PER_BAR;
    let partials = partials.clamp(1, MAX_PARTIALS);
    let (low, high) = (f32::from(s.low), f32::from(s.high));
    let freqs_hz = (0..partials)
        .map(|k| {
            let mut m = if partials > 1 {
                low + (high - low) * k as f32 / (partials - 1) as f32
            } else {
                low
            };
            if s.snap {
                let below = (m.floor() as i32).clamp(0, 127) as u8;
                m = (0..12)
                    .flat_map(|d| [below.saturating_sub(d), below.saturating_add(d + 1)])
                    .find(|&q| t.contains(q))
                    .map(f32::from)
                    .unwrap_or(m);
            }
            hz(m)
        })
        .collect();
    let (black, white) = if f.lightness.p95 - f.lightness.p05 > 0.05 {
        (f.lightness.p05, f.lightness.p95)
    } else {
        (0.0, 1.0)
    };
    let mut amps = Vec::with_capacity(frames * partials);
    let mut pans = Vec::with_capacity(frames * partials);
    for frame in 0..frames {
        let x0 = frame * p.width / frames;
        let x1 = ((frame + 1) * p.width / frames).max(x0 + 1).min(p.width);
        for k in 0..partials {
            let row = partials - 1 - k;
            let y0 = row * p.height / partials;
            let y1 = ((row + 1) * p.height / partials).max(y0 + 1).min(p.height);
            let (mut l, mut a, mut n) = (0.0f32, 0.0f32, 0.0f32);
            for y in y0..y1 {
                for x in x0..x1 {
                    let c = p.at(x, y);
                    l += c.l;
                    a += c.a;
                    n += 1.0;
                }
            }
            amps.push(((l / n - black) / (white - black)).clamp(0.0, 1.0));
            pans.push((a / n / 0.1).clamp(-1.0, 1.0));
        }
    }
    Spectrum {
        frames,
        freqs_hz,
        amps,
        pans,
    }
}

/// Spectra with the same partials, one after another in time; `None` for none, or when the
/// partials differ.
pub fn join(spectra: Vec<Spectrum>) -> Option<Spectrum> {
    let mut spectra = spectra.into_iter();
    let mut joined = spectra.next()?;
    for s in spectra {
        if s.freqs_hz != joined.freqs_hz {
            return None;
        }
        joined.frames += s.frames;
        joined.amps.extend(s.amps);
        joined.pans.extend(s.pans);
    }
    Some(joined)
}
