//! Any bytes as a picture: decode -> analyse -> compose in every mode must return a score or a
//! musician-readable error, never panic or run away with memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelody::compose::{Mode, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(picture) = pixelody::analysis::decode(data) else {
        return;
    };
    for mode in Mode::ALL {
        let settings = Settings {
            mode,
            seed: data.len() as u32,
            ..Settings::default()
        };
        let score = pixelody::compose::compose(&picture, &settings, String::from("fuzz"));
        assert!(score.notes.iter().all(|n| n.start_beats < score.length_beats));
    }
});
