//! What the library's unit tests share: small builders and measures that several layers' tests
//! use, so no test imports another layer's tests and none keeps its own copy. Test builds only.

use crate::plugin::composition::CompositionSlot;
use crate::plugin::handover::ScoreSlot;
use crate::plugin::params::PixelodyParams;
use crate::score::{Note, Part, Score};

/// A note of `part` at velocity 0.8.
pub fn note(start: f64, len: f64, pitch: u8, part: Part) -> Note {
    Note {
        start_beats: start,
        length_beats: len,
        pitch,
        velocity: 0.8,
        part,
    }
}

/// The score a fresh instance plays: the bundled example.
pub fn example_score() -> Score {
    crate::plugin::example_score()
}

/// The parameters of an instance playing the bundled example.
pub fn example_params() -> PixelodyParams {
    let (composition, score) = crate::plugin::example();
    let (slot, _audio) = ScoreSlot::new(score);
    PixelodyParams::new(slot, CompositionSlot::new(composition))
}

/// Pearson's correlation of two signals (1: the same shape, 0: unrelated).
pub fn correlation(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len() as f32;
    let (mx, my) = (x.iter().sum::<f32>() / n, y.iter().sum::<f32>() / n);
    let cov: f32 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f32 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let vy: f32 = y.iter().map(|b| (b - my) * (b - my)).sum();
    cov / (vx * vy).sqrt()
}

/// First samples that sound after at least `gap` silent samples: the onsets of separated notes.
pub fn onsets(x: &[f32], gap: usize) -> Vec<usize> {
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

/// A repeatable stream of pseudo-random numbers (xorshift), for tests that need noise without
/// borrowing the composer's generator.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// An engine at `sample_rate`, reset to `params`, with `score` installed and ready to play.
pub fn engine_playing(
    sample_rate: f32,
    params: &crate::engine::EngineParams,
    score: Score,
) -> crate::engine::Engine {
    let mut engine = crate::engine::Engine::new(sample_rate);
    engine.reset(params);
    engine.swap_score(Box::new(score));
    engine
}

/// A host for the editor's widgets in tests: a change sets the parameter at once, as a host
/// that hands every change back would. (No state, no restarts: the widgets use neither.)
pub struct InstantHost;

impl nice_plug::prelude::GuiContextInner for InstantHost {
    fn plugin_api(&self) -> nice_plug::prelude::PluginApi {
        nice_plug::prelude::PluginApi::Clap
    }

    unsafe fn raw_begin_set_parameter(&self, _param: nice_plug::prelude::ParamPtr) {}

    unsafe fn raw_set_parameter_normalized(
        &self,
        param: nice_plug::prelude::ParamPtr,
        normalized: f32,
    ) {
        // SAFETY: the widgets pass pointers to parameters that outlive the call.
        unsafe { param._internal_set_normalized_value(normalized) };
    }

    unsafe fn raw_end_set_parameter(&self, _param: nice_plug::prelude::ParamPtr) {}

    fn get_state(&self) -> nice_plug::prelude::PluginState {
        // (Never asked for by the widgets: an empty state.)
        nice_plug::prelude::PluginState {
            version: String::new(),
            params: Default::default(),
            fields: Default::default(),
        }
    }

    fn set_state(&self, _state: nice_plug::prelude::PluginState) {}

    fn request_restart(&self) {}
}
