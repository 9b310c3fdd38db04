//! The real-time check: the plugin built with nice-plug's `assert_process_allocs` (xtask test)
//! aborts the whole process if `process()` allocates or frees. This test drives it through score
//! swaps (a sixteen-section piece among them), a host loop wrap, a locate jump and a stop;
//! reaching the end means none happened.

use pixelody::score::{drum, Note, Part, Score, Wave};
use pixelody_tests::*;

const SR: f64 = 48_000.0;

fn score(pitch: u8, count: usize) -> Score {
    let notes = (0..count)
        .map(|i| {
            let part = [Part::Bass, Part::Melody, Part::Drums, Part::Harmony][i % 4];
            Note {
                start_beats: i as f64 * 0.5,
                length_beats: 0.75,
                pitch: if part == Part::Drums {
                    drum::ALL[i % drum::ALL.len()]
                } else {
                    pitch + (i % 12) as u8
                },
                velocity: 0.7,
                part,
            }
        })
        .collect();
    let mut s = Score::new(count as f64 * 0.5, notes, format!("rt test {pitch}"));
    // A wave of its own, so a swap under sounding notes fades between two picture waves.
    let rows = (0..8 * 32)
        .map(|i| (i * usize::from(pitch) % 256) as u8)
        .collect();
    s.wave = Some(Wave::from_rows(8, 32, rows));
    s
}

#[test]
fn process_never_allocates_through_swaps_wraps_jumps_and_stops() {
    let mut host = ClapHost::load(&alloc_checked_library());
    let saved = host.save_state();
    host.activate(SR, 512);
    let tempo = 120.0;
    let bps = tempo / 60.0 / SR;

    // Play the example picture's score through one host loop wrap (8 beats back to 0), with the
    // delay and the reverb turned up in the first blocks, every part on the picture's wave and
    // the wave scanning.
    let mut blocks = playing_blocks(8 * 24_000, 512, tempo, SR);
    let turned = [
        ("Reverb Mix", 0.4),
        ("Delay Mix", 0.4),
        ("Drums Level", -12.0),
        ("Melody Picture", 0.8),
        ("Harmony Picture", 0.6),
        ("Bass Picture", 0.5),
        ("Wave Scan", 0.5),
    ];
    for (k, (name, value)) in turned.into_iter().enumerate() {
        blocks[k].param = Some((host.param_id(name), value));
    }
    blocks.extend(playing_blocks(24_000, 512, tempo, SR));
    let (l, _) = host.process(&blocks);
    assert!(l.iter().any(|s| *s != 0.0));

    // A new score arrives while playing (as from the editor or a preset): the audio thread swaps
    // it in and sends the old one back to be freed.
    for round in 0..5 {
        assert!(host.load_state(&state_with_score(&saved, &score(40 + round, 48))));
        let start = 3.0 + round as f64;
        let blocks: Vec<Block> = (0..40)
            .map(|i| Block {
                frames: 333,
                transport: HostTransport::playing_at(tempo, start + i as f64 * 333.0 * bps),
                param: None,
                key: None,
            })
            .collect();
        host.process(&blocks);
        host.pump_main_thread();
    }

    // A piece of sixteen pictures swaps in and plays across its section boundaries (every 8
    // beats at the default Length), keys changing on their pivots.
    let gallery: Vec<(&str, pixelody::analysis::Picture)> = pixelody::gallery::names()
        .take(16)
        .filter_map(|n| Some((n, pixelody::gallery::picture(n)?)))
        .collect();
    let sections: Vec<(&pixelody::analysis::Picture, String)> =
        gallery.iter().map(|(n, p)| (p, n.to_string())).collect();
    let piece = pixelody::compose::piece::compose_piece(
        &sections,
        &pixelody::compose::Settings::default(),
        String::from("rt piece"),
    );
    assert_eq!(piece.sections.len(), 16);
    assert!(host.load_state(&state_with_score(&saved, &piece)));
    let blocks: Vec<Block> = (0..200)
        .map(|i| Block {
            frames: 480,
            transport: HostTransport::playing_at(tempo, 6.0 + i as f64 * 480.0 * bps),
            param: None,
            key: None,
        })
        .collect();
    host.process(&blocks);
    host.pump_main_thread();

    // A locate jump, then a stop with voices sounding, then playing from a negative pre-roll.
    let mut blocks = playing_blocks(10_000, 256, tempo, SR);
    blocks.push(Block {
        frames: 256,
        transport: HostTransport::playing_at(tempo, 17.25),
        param: None,
        key: None,
    });
    blocks.extend((0..20).map(|_| Block {
        frames: 256,
        transport: HostTransport {
            playing: false,
            tempo: Some(tempo),
            pos_beats: Some(17.25),
            meter: None,
        },
        param: None,
        key: None,
    }));
    blocks.extend((0..40).map(|i| Block {
        frames: 256,
        transport: HostTransport::playing_at(tempo, -1.0 + i as f64 * 256.0 * bps),
        param: None,
        key: None,
    }));
    let (l, _) = host.process(&blocks);
    assert!(l.iter().all(|s| s.is_finite()));
}
