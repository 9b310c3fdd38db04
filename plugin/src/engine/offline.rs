//! Offline rendering: drives the engine with a simulated host transport, as a DAW bounce would.
//! Used by the command-line renderer and by tests; the plugin uses the same `Engine::process`.

use super::{Engine, EngineParams, TransportState};
use crate::score::Score;

/// What to render and how the simulated host behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfflineRender {
    pub sample_rate: f32,
    pub bpm: f64,
    /// Length of the render in samples.
    pub samples: usize,
    /// How many samples the simulated host hands the engine at a time.
    pub block_size: usize,
}

/// Renders `score` from beat 0 and returns the left and right channels. Each block's position is
/// computed from its absolute sample index, exactly as a host derives it.
pub fn render_offline(
    score: &Score,
    params: &EngineParams,
    job: &OfflineRender,
) -> (Vec<f32>, Vec<f32>) {
    let mut engine = Engine::new(job.sample_rate);
    engine.reset(params);
    engine.swap_score(Box::new(score.clone()));
    let mut left = vec![0.0; job.samples];
    let mut right = vec![0.0; job.samples];
    let block = job.block_size.max(1);
    let mut pos = 0;
    while pos < job.samples {
        let n = block.min(job.samples - pos);
        let transport = TransportState {
            playing: true,
            tempo_bpm: Some(job.bpm),
            pos_beats: Some(pos as f64 * job.bpm / 60.0 / f64::from(engine.sample_rate())),
        };
        engine.process(
            &transport,
            params,
            &mut left[pos..pos + n],
            &mut right[pos..pos + n],
        );
        pos += n;
    }
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{onset_offset, Engine};
    use crate::score::{Note, Part};

    fn sparse_score() -> Score {
        let notes = [0.0, 0.75, 1.0 / 3.0 + 1.0, 2.5]
            .iter()
            .enumerate()
            .map(|(i, &s)| Note {
                start_beats: s,
                length_beats: 0.2,
                pitch: 60 + 5 * i as u8,
                velocity: 0.9,
                part: Part::Melody,
            })
            .collect();
        Score::new(4.0, notes, String::from("test"))
    }

    fn params() -> EngineParams {
        EngineParams {
            release_ms: 10.0,
            ..EngineParams::default()
        }
    }

    /// First samples that are non-zero after at least `gap` silent samples.
    fn onsets(x: &[f32], gap: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut silent = gap;
        for (i, s) in x.iter().enumerate() {
            if *s != 0.0 {
                if silent >= gap {
                    out.push(i);
                }
                silent = 0;
            } else {
                silent += 1;
            }
        }
        out
    }

    #[test]
    fn notes_start_on_their_computed_samples_across_loops() {
        let job = OfflineRender {
            sample_rate: 48_000.0,
            bpm: 120.0,
            samples: 48_000 * 4 + 100,
            block_size: 512,
        };
        let score = sparse_score();
        let (l, _) = render_offline(&score, &params(), &job);
        let bps = job.bpm / 60.0 / 48_000.0;
        let expected: Vec<usize> = (0..3)
            .flat_map(|lap| {
                score
                    .notes
                    .iter()
                    .map(move |n| onset_offset(n.start_beats + 4.0 * lap as f64, 0.0, bps) as usize)
            })
            .filter(|&s| s < job.samples)
            .collect();
        assert_eq!(onsets(&l, 100), expected);
        assert_eq!(expected[2], 32_000);
    }

    #[test]
    fn block_size_does_not_change_a_single_sample() {
        let score = sparse_score();
        let render = |block_size| {
            render_offline(
                &score,
                &params(),
                &OfflineRender {
                    sample_rate: 44_100.0,
                    bpm: 97.0,
                    samples: 200_000,
                    block_size,
                },
            )
        };
        let reference = render(1);
        for block in [7, 64, 480, 512, 4096] {
            assert!(render(block) == reference, "block size {block} differs");
        }
    }

    #[test]
    fn stopping_releases_every_voice() {
        let mut engine = Engine::new(48_000.0);
        let p = params();
        engine.reset(&p);
        engine.swap_score(Box::new(sparse_score()));
        let (mut l, mut r) = (vec![0.0; 256], vec![0.0; 256]);
        let playing = TransportState {
            playing: true,
            tempo_bpm: Some(120.0),
            pos_beats: Some(0.0),
        };
        engine.process(&playing, &p, &mut l, &mut r);
        assert_eq!(engine.active_voices(), 1);
        let stopped = TransportState::default();
        for _ in 0..10 {
            engine.process(&stopped, &p, &mut l, &mut r);
        }
        assert_eq!(engine.active_voices(), 0);
        assert!(l.iter().all(|s| *s == 0.0));
    }

    #[test]
    fn a_jump_releases_and_reseeks() {
        let mut engine = Engine::new(48_000.0);
        let p = params();
        engine.reset(&p);
        engine.swap_score(Box::new(sparse_score()));
        let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
        let at = |beats| TransportState {
            playing: true,
            tempo_bpm: Some(120.0),
            pos_beats: Some(beats),
        };
        engine.process(&at(0.0), &p, &mut l, &mut r);
        // Jump to just before the note at 2.5 beats: it must start 10 samples in.
        let bps = 120.0 / 60.0 / 48_000.0;
        engine.process(&at(2.5 - 10.0 * bps), &p, &mut l, &mut r);
        assert_eq!(
            engine.active_voices(),
            2,
            "old note releasing, new note sounding"
        );
        // Host loop wrap back to 0: the first note starts again on sample 0.
        for _ in 0..2000 {
            engine.process(&TransportState::default(), &p, &mut l, &mut r);
        }
        engine.process(&at(0.0), &p, &mut l, &mut r);
        assert!(l[0] != 0.0);
    }

    #[test]
    fn missing_tempo_and_position_fall_back_to_free_running() {
        let score = sparse_score();
        let p = params();
        let mut engine = Engine::new(48_000.0);
        engine.reset(&p);
        engine.swap_score(Box::new(score.clone()));
        let mut out = vec![0.0; 48_000];
        let mut right = vec![0.0; 48_000];
        for (l, r) in out.chunks_mut(100).zip(right.chunks_mut(100)) {
            let t = TransportState {
                playing: true,
                tempo_bpm: None,
                pos_beats: None,
            };
            engine.process(&t, &p, l, r);
        }
        let reference = render_offline(
            &score,
            &p,
            &OfflineRender {
                sample_rate: 48_000.0,
                bpm: p.fallback_bpm,
                samples: 48_000,
                block_size: 100,
            },
        );
        assert!(out == reference.0);
    }
}
