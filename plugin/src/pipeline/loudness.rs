//! How loud a score plays, so every picture comes out about as loud as another: the first bars
//! (at most four) are rendered through the real engine at 8 kHz with the score's own timbre and
//! space, their mean square taken after a 120 Hz high-pass (loudness meters weigh low notes
//! down, ITU-R BS.1770's K-weighting) and the difference to the target is the score's level.
//! About 9 ms on the background thread (2-core VM); the audio thread only applies the gain.
//!
//! Cheaper measures were tried against the integrated loudness of a 48 kHz render (the
//! `loudness_probe` example): 8 kHz moves a score's level by -1.3 to +0.4 dB against 16 kHz (half
//! the cost); the first two bars, or the busiest bar alone, by up to 2.5 dB, which widens the
//! spread across pictures by 1 to 2 LU, so a whole four bars are still rendered.

use crate::engine::{render_offline, EngineParams, OfflineRender};
use crate::score::Score;

/// The mean square (dB) a score is brought to at 0 dB Output Gain.
const TARGET_DB: f32 = -15.0;
/// The most a level moves a score: a near-silent picture stays quiet rather than turned into
/// noise.
const MAX_TRIM_DB: f32 = 12.0;

/// The gain in dB that brings `score` to the target (0 for a silent one).
pub fn trim(score: &Score) -> f32 {
    let sample_rate = 8_000.0;
    let bpm = 120.0;
    let beats = score.length_beats.min(4.0 * score.meter.bar_beats());
    let samples = (beats * 60.0 / bpm * f64::from(sample_rate)) as usize;
    if samples == 0 {
        return 0.0;
    }
    let params = EngineParams {
        gain_db: 0.0,
        ..EngineParams::with_patch(&score.patch)
    };
    let job = OfflineRender {
        sample_rate,
        bpm,
        samples,
        block_size: 1024,
    };
    let (l, r) = render_offline(score, &params, &job);
    // A one-pole high-pass at 120 Hz per channel.
    let a = (-std::f32::consts::TAU * 120.0 / sample_rate).exp();
    let mut sum = 0.0f64;
    for x in [&l, &r] {
        let (mut prev_in, mut prev_out) = (0.0f32, 0.0f32);
        for &v in x.iter() {
            let y = a * (prev_out + v - prev_in);
            prev_in = v;
            prev_out = y;
            sum += f64::from(y * y);
        }
    }
    let ms = sum / (2 * samples) as f64;
    if ms < 1e-12 {
        return 0.0;
    }
    let db = 10.0 * ms.log10() as f32;
    (TARGET_DB - db).clamp(-MAX_TRIM_DB, MAX_TRIM_DB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::Settings;
    use crate::pipeline::compose_sections;

    #[test]
    fn every_picture_comes_out_about_as_loud_and_none_clips() {
        let mut loudness = Vec::new();
        for (name, p) in crate::gallery::gallery().into_iter().step_by(3) {
            let settings = Settings {
                bars: 4,
                ..Settings::default()
            };
            let score = compose_sections(&[(&p, name.clone())], &settings, name.clone());
            let job = OfflineRender {
                sample_rate: 48_000.0,
                bpm: 120.0,
                samples: 8 * 48_000,
                block_size: 512,
            };
            let (l, r) = render_offline(&score, &EngineParams::with_patch(&score.patch), &job);
            let mut meter =
                ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK)
                    .unwrap();
            let frames: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
            meter.add_frames_f32(&frames).unwrap();
            let peak = (0..2)
                .map(|c| meter.true_peak(c).unwrap())
                .fold(0.0, f64::max);
            assert!(20.0 * peak.log10() <= -1.0, "{name}: true peak {peak}");
            loudness.push(meter.loudness_global().unwrap() as f32);
        }
        let (lo, hi) = (
            loudness.iter().copied().fold(f32::MAX, f32::min),
            loudness.iter().copied().fold(f32::MIN, f32::max),
        );
        let median = crate::compose::measure::median(&loudness);
        assert!(hi - lo <= 6.0, "loudness from {lo} to {hi} LUFS");
        assert!((-20.0..=-14.0).contains(&median), "median {median} LUFS");
    }
}
