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
    render_with_tail(score, params, job, Tail::None)
}

/// How long a one-shot render rings on after the music stops (the transport stops at the end of
/// `OfflineRender::samples`: notes release, delay and reverb die away).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tail {
    None,
    /// Exactly this many seconds.
    Seconds(f64),
    /// Until the output stays below [`TAIL_FLOOR_DB`] for [`QUIET_SECONDS`], at most
    /// [`MAX_TAIL_SECONDS`].
    UntilSilent,
}

/// The level a tail dies away to.
pub const TAIL_FLOOR_DB: f32 = -90.0;
/// The longest tail.
pub const MAX_TAIL_SECONDS: f64 = 10.0;
/// How long the output must stay under the floor for the tail to be over.
pub const QUIET_SECONDS: f64 = 0.1;

/// [`render_offline`], then the transport stopped for `tail`: the tail follows the loop's
/// samples in the channels returned.
pub fn render_with_tail(
    score: &Score,
    params: &EngineParams,
    job: &OfflineRender,
    tail: Tail,
) -> (Vec<f32>, Vec<f32>) {
    let mut engine = Engine::new(job.sample_rate);
    engine.reset(params);
    score.build_wave();
    engine.swap_score(Box::new(score.clone()));
    let rate = f64::from(engine.sample_rate());
    let beat_at = |sample: usize| sample as f64 * job.bpm / 60.0 / rate;
    let mut left = vec![0.0; job.samples];
    let mut right = vec![0.0; job.samples];
    let block = job.block_size.max(1);
    let mut pos = 0;
    while pos < job.samples {
        let n = block.min(job.samples - pos);
        let transport = TransportState {
            playing: true,
            tempo_bpm: Some(job.bpm),
            pos_beats: Some(beat_at(pos)),
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
    let most = match tail {
        Tail::None => return (left, right),
        Tail::Seconds(s) => (s.clamp(0.0, MAX_TAIL_SECONDS) * rate).round() as usize,
        Tail::UntilSilent => (MAX_TAIL_SECONDS * rate) as usize,
    };
    // The host stops where the music ends (its position stays there).
    let stopped = TransportState {
        playing: false,
        tempo_bpm: Some(job.bpm),
        pos_beats: Some(beat_at(job.samples)),
        beats_per_bar: None,
    };
    let floor = 10f32.powf(TAIL_FLOOR_DB / 20.0);
    let quiet_needed = (QUIET_SECONDS * rate) as usize;
    let mut quiet = 0;
    let mut rendered = 0;
    while rendered < most {
        let n = block.min(most - rendered);
        let from = left.len();
        left.resize(from + n, 0.0);
        right.resize(from + n, 0.0);
        engine.process(&stopped, params, &mut left[from..], &mut right[from..]);
        rendered += n;
        if tail == Tail::UntilSilent {
            for i in from..from + n {
                if left[i].abs().max(right[i].abs()) < floor {
                    quiet += 1;
                } else {
                    quiet = 0;
                }
            }
            if quiet >= quiet_needed {
                // (Ends where it went quiet.)
                let end = left.len() - quiet;
                left.truncate(end);
                right.truncate(end);
                break;
            }
        }
    }
    (left, right)
}

/// `tail` (what rings on after a loop) added onto the start of `body` (the loop), repeating round
/// it as often as the tail is longer: the loop then repeats without a click, its reverb and
/// releases running on into its own start as they would into the next repetition.
pub fn fold_tail(body: &mut [f32], tail: &[f32]) {
    if body.is_empty() {
        return;
    }
    for (i, v) in tail.iter().enumerate() {
        body[i % body.len()] += v;
    }
}
