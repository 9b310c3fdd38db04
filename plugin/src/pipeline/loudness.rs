//! How loud a score plays, so every picture comes out about as loud as another: the engine
//! predicts the integrated loudness (ITU-R BS.1770) of the first bars (at most four) from the
//! notes and the sound (`engine::predicted_lufs`: within 0.4 dB of the 48 kHz render on the
//! real pictures, about a tenth of a millisecond), and the difference to the target is the
//! score's level. The audio thread only applies the gain.
//!
//! Spectral mode's scores, which the prediction does not know, are still measured by rendering
//! their first bars through the real engine at 8 kHz (a mean square after a 120 Hz high-pass,
//! about 9 ms).
//!
//! Before the prediction every score was measured that way: 8 kHz moved a level by -1.3 to
//! +0.4 dB against 16 kHz, the first two bars or the busiest bar alone by up to 2.5 dB (the
//! `loudness_probe` example compares them all against the 48 kHz render).

use crate::engine::{predicted_lufs, Engine, EngineParams, TransportState};
use crate::score::Score;

/// The loudness (LUFS) a score is brought to at 0 dB Output Gain (-16.5 LUFS at the default
/// -6 dB).
const TARGET_LUFS: f32 = -10.5;
/// Spectral mode's target: the mean square (dB) of the render at 8 kHz, as loud as the target
/// above.
const TARGET_DB: f32 = -15.0;
/// The most a level moves a score: a near-silent picture stays quiet rather than turned into
/// noise.
const MAX_TRIM_DB: f32 = 12.0;
/// The rate and tempo the score is measured at.
const RATE: f32 = 8_000.0;
const BPM: f64 = 120.0;

/// The gain in dB that brings `score` to the target (0 for a silent one).
pub fn trim(score: &Score) -> f32 {
    let beats = score.length_beats.min(4.0 * score.meter.bar_beats());
    if beats * 60.0 / BPM * f64::from(RATE) < 1.0 {
        return 0.0;
    }
    let params = EngineParams {
        gain_db: 0.0,
        ..EngineParams::with_patch(&score.patch)
    };
    let (measured, target) = if score.spectrum.is_some() {
        (mean_square_db(score, RATE, 0.0, beats, 0.0), TARGET_DB)
    } else {
        (predicted_lufs(score, &params, beats, BPM), TARGET_LUFS)
    };
    match measured {
        Some(db) => (target - db).clamp(-MAX_TRIM_DB, MAX_TRIM_DB),
        None => 0.0,
    }
}

/// The mean square (dB, both channels, after a one-pole 120 Hz high-pass) of `beats` of `score`
/// from beat `from`, rendered at `rate` and 120 BPM with the score's own timbre and space at 0 dB
/// Output Gain, starting `preroll` beats earlier so what rings into the span is heard; `None`
/// for silence. Measured block by block: nothing but the engine is held.
pub fn mean_square_db(
    score: &Score,
    rate: f32,
    from: f64,
    beats: f64,
    preroll: f64,
) -> Option<f32> {
    let params = EngineParams {
        gain_db: 0.0,
        ..EngineParams::with_patch(&score.patch)
    };
    let mut engine = Engine::new(rate);
    engine.reset(&params);
    score.build_wave();
    engine.swap_score(Box::new(score.clone()));
    let per_beat = 60.0 / BPM * f64::from(engine.sample_rate());
    let start = ((from - preroll).max(0.0) * per_beat) as usize;
    let (measured, end) = (
        (from * per_beat) as usize,
        ((from + beats) * per_beat) as usize,
    );
    const BLOCK: usize = 1024;
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let a = (-std::f32::consts::TAU * 120.0 / engine.sample_rate()).exp();
    // Each channel's high-pass: its last input and output.
    let mut state = [(0.0f32, 0.0f32); 2];
    let (mut sum, mut count) = (0.0f64, 0usize);
    let mut pos = start;
    while pos < end {
        let n = BLOCK.min(end - pos);
        let transport = TransportState {
            playing: true,
            tempo_bpm: Some(BPM),
            pos_beats: Some(pos as f64 / per_beat),
            beats_per_bar: None,
        };
        engine.process(&transport, &params, &mut l[..n], &mut r[..n]);
        for (x, (prev_in, prev_out)) in [&l[..n], &r[..n]].into_iter().zip(&mut state) {
            for (i, &v) in x.iter().enumerate() {
                let y = a * (*prev_out + v - *prev_in);
                (*prev_in, *prev_out) = (v, y);
                if pos + i >= measured {
                    sum += f64::from(y * y);
                    count += 1;
                }
            }
        }
        pos += n;
    }
    let ms = sum / count.max(1) as f64;
    (ms >= 1e-12).then(|| 10.0 * ms.log10() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::Settings;
    use crate::engine::{render_offline, OfflineRender};
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
        // (1.1 LU with the predicted levels; 4.5 LU when the render at 8 kHz measured them.)
        assert!(hi - lo <= 2.0, "loudness from {lo} to {hi} LUFS");
        assert!((-20.0..=-14.0).contains(&median), "median {median} LUFS");
    }
}
