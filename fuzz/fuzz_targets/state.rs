//! Any bytes as the persisted score and composition fields: loading must keep the invariants the
//! audio thread relies on, and the engine must play whatever survives without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelody::engine::{render_offline, EngineParams, OfflineRender};
use pixelody::plugin::composition::{Composition, CompositionState};
use pixelody::score::Score;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = serde_json::from_slice::<CompositionState>(data) {
        if let Some(c) = Composition::from_state(state) {
            let _ = pixelody::compose::compose(&c.picture, &c.settings, c.source);
        }
    }
    if let Ok(score) = serde_json::from_slice::<Score>(data) {
        let score = score.sanitized();
        let job = OfflineRender {
            sample_rate: 8_000.0,
            bpm: 240.0,
            samples: 2_048,
            block_size: 97,
        };
        let (l, r) = render_offline(&score, &EngineParams::default(), &job);
        assert!(l.iter().chain(&r).all(|s| s.is_finite()));
    }
});
