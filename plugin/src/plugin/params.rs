//! The parameters a musician turns (all host-automatable) and the persisted score.

use std::sync::Arc;

use nice_plug::prelude::*;

use super::bridge::ScoreSlot;
use crate::engine::{EngineParams, DEFAULT_BPM};

#[derive(Params)]
pub struct PixelodyParams {
    /// The score the project plays; saved with the project so a reload needs no picture.
    #[persist = "score"]
    pub score: Arc<ScoreSlot>,

    /// Output level of the internal synth.
    #[id = "gain"]
    pub gain_db: FloatParam,
    /// How fast notes reach full level; short for plucks, long for pads.
    #[id = "attack"]
    pub attack_ms: FloatParam,
    /// How long notes ring after their end (and after the transport stops).
    #[id = "release"]
    pub release_ms: FloatParam,
    /// Blend from a soft sine to a bright band-limited sawtooth.
    #[id = "bright"]
    pub brightness: FloatParam,
    /// The tempo Pixelody keeps when the host reports none.
    #[id = "tempo"]
    pub free_tempo_bpm: FloatParam,
}

impl PixelodyParams {
    pub fn new(score: Arc<ScoreSlot>) -> Self {
        let d = EngineParams::default();
        PixelodyParams {
            score,
            gain_db: FloatParam::new(
                "Output Gain",
                d.gain_db,
                FloatRange::Linear {
                    min: -60.0,
                    max: 12.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            attack_ms: FloatParam::new(
                "Attack",
                d.attack_ms,
                FloatRange::Skewed {
                    min: 0.5,
                    max: 2_000.0,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_unit(" ms")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            release_ms: FloatParam::new(
                "Release",
                d.release_ms,
                FloatRange::Skewed {
                    min: 1.0,
                    max: 5_000.0,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_unit(" ms")
            .with_value_to_string(formatters::v2s_f32_rounded(0)),
            brightness: FloatParam::new(
                "Brightness",
                d.brightness,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit("%")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            free_tempo_bpm: FloatParam::new(
                "Free-run Tempo",
                DEFAULT_BPM as f32,
                FloatRange::Linear {
                    min: 20.0,
                    max: 300.0,
                },
            )
            .with_unit(" BPM")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
        }
    }

    /// The values the engine needs, read once per (sub-)block; the engine smooths them per sample.
    pub fn engine_params(&self) -> EngineParams {
        EngineParams {
            gain_db: self.gain_db.value(),
            attack_ms: self.attack_ms.value(),
            release_ms: self.release_ms.value(),
            brightness: self.brightness.value(),
            fallback_bpm: f64::from(self.free_tempo_bpm.value()),
        }
    }
}
