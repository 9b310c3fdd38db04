//! Project state in the CLAP host: its size, a committed state from the first format still
//! loading and sounding as it did, and garbage state never crashing the plugin or silencing it.

use pixelody::score::Score;
use pixelody_tests::*;

const SR: f64 = 48_000.0;

/// A state saved by the first released format (version 0.1.0, score format 1, composition
/// format 1): the example picture recomposed as Scan, Key D, Length 1 bar, Variation 3.
/// How long a test watches for something that must not happen in the background.
const QUIET: std::time::Duration = std::time::Duration::from_millis(300);

const FIRST_FORMAT: &[u8] = include_bytes!("../states/v0.1.0-scan.state");

fn render(host: &mut ClapHost) -> (Vec<f32>, Vec<f32>) {
    host.activate(SR, 512);
    host.process(&playing_blocks(96_000, 512, 120.0, SR))
}

#[test]
fn a_typical_project_state_is_small() {
    let mut host = ClapHost::load(&release_bundle());
    let size = host.save_state().len();
    // The working copy (96 x 64 here, at most 128 x 128) dominates; the score is a few KB.
    assert!(size < 256 * 1024, "{size} bytes");
    println!("default state: {size} bytes");
}

#[test]
fn a_state_from_the_first_format_loads_and_plays_its_score() {
    let stored = score_in_state(FIRST_FORMAT);
    assert!(!stored.notes.is_empty());
    let mut host = ClapHost::load(&release_bundle());
    assert!(host.load_state(FIRST_FORMAT));
    // In a 3/4 project: a project from before meters stays in the 4/4 it was made in.
    host.activate(SR, 512);
    let (left, right) = host.process(&playing_blocks_in(Some((3, 4)), 96_000, 512, 120.0, SR));
    // Not recomposed on load (a recomposition would run on the background thread meanwhile), only
    // carried over to the current format (it has no drums and no style, as before).
    let upgraded = Score {
        version: pixelody::score::SCORE_FORMAT_VERSION,
        ..stored.clone()
    };
    assert_eq!(host.score_stays(QUIET), upgraded, "not recomposed on load");
    // It sounds exactly as the stored score does through the engine.
    let params = pixelody::engine::EngineParams::default();
    let job = pixelody::engine::OfflineRender {
        sample_rate: SR as f32,
        bpm: 120.0,
        samples: 96_000,
        block_size: 512,
    };
    let expected = pixelody::engine::render_offline(&stored, &params, &job);
    assert!(left == expected.0 && right == expected.1);
}

#[test]
fn garbage_state_is_refused_and_the_music_goes_on() {
    let mut host = ClapHost::load(&release_bundle());
    let good = host.save_state();
    let before = score_in_state(&good);
    let mut noise = vec![0u8; 1 << 20];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut wrong_shape = state_json(&good);
    wrong_shape["fields"]["score"] = serde_json::Value::String(String::from("{\"notes\": 7}"));
    wrong_shape["fields"]["composition"] = serde_json::Value::String(String::from("[1, 2, 3]"));
    let mut newer = state_json(&good);
    let mut future: serde_json::Value =
        serde_json::from_str(newer["fields"]["score"].as_str().unwrap()).unwrap();
    future["version"] = serde_json::json!(99);
    future["notes"] = serde_json::json!([{"start_beats": "soon"}]);
    newer["fields"]["score"] = serde_json::Value::String(future.to_string());
    let as_state = |j: &serde_json::Value| {
        let body = serde_json::to_vec(j).unwrap();
        let mut out = (body.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("1 MB of random bytes", noise),
        ("a length and no data", 1_000_000u64.to_le_bytes().to_vec()),
        ("JSON of the wrong shape", as_state(&wrong_shape)),
        ("a newer score format", as_state(&newer)),
    ];
    for (name, bytes) in cases {
        host.load_state(&bytes);
        assert_eq!(host.score_stays(QUIET), before, "{name} changed the score");
        let (left, _) = render(&mut host);
        assert!(left.iter().any(|s| *s != 0.0), "{name}: silent afterwards");
        assert!(left.iter().all(|s| s.is_finite()));
    }
}

/// Writes the first-format fixture (run once with `--ignored` when creating it; never again:
/// the point of the fixture is that it does not change).
#[test]
#[ignore]
fn write_first_format_fixture() {
    let mut host = ClapHost::load(&release_bundle());
    host.activate(SR, 512);
    let mut blocks = playing_blocks(4_096, 512, 120.0, SR);
    for (i, (name, value)) in [
        ("Mode", 1.0),
        ("Key", 3.0),
        ("Length", 0.0),
        ("Variation", 3.0),
    ]
    .into_iter()
    .enumerate()
    {
        blocks[i].param = Some((host.param_id(name), value));
    }
    host.process(&blocks);
    host.wait_for_score("the one-bar scan score", |s| s.bars() == 1.0);
    let state = host.save_state();
    let score: Score = score_in_state(&state);
    assert!(!score.notes.is_empty());
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/states/v0.1.0-scan.state"),
        state,
    )
    .unwrap();
}
