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
            beats_per_bar: None,
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
