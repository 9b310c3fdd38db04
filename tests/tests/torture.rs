//! Host torture: what a careless or hostile host can do, against the build with nice-plug's
//! allocation guard (any allocation or free in `process()` aborts this whole test process).
//! Always: finite output, no denormals, no panic, no allocation on the audio thread.

use pixelody_tests::*;

fn host() -> ClapHost {
    ClapHost::load(&alloc_checked_library())
}

fn playing(frames: usize, sr: f64, from: f64, block: usize) -> Vec<Block> {
    let tempo = 120.0;
    let mut blocks = playing_blocks(frames, block, tempo, sr);
    for b in &mut blocks {
        b.transport.pos_beats = b.transport.pos_beats.map(|p| p + from);
    }
    blocks
}

#[test]
fn every_sample_rate_from_8_to_384_khz() {
    let mut host = host();
    for sr in [
        8_000.0, 11_025.0, 22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0,
        384_000.0,
    ] {
        host.activate(sr, 512);
        let (l, r) = host.process(&playing(sr as usize / 2, sr, 0.0, 512));
        assert_clean(&format!("{sr} Hz"), &l, &r);
        assert!(l.iter().any(|s| *s != 0.0), "{sr} Hz is silent");
    }
}

#[test]
fn block_sizes_from_1_to_16384_and_random_every_call() {
    let mut host = host();
    host.activate(48_000.0, 16_384);
    let mut rng = Rng(7);
    let mut pos = 0usize;
    let mut blocks = Vec::new();
    for i in 0..300 {
        let frames = match i {
            0 => 1,
            1 => 16_384,
            _ => rng.range(1, 16_384) as usize,
        };
        blocks.push(Block {
            frames,
            transport: HostTransport::playing_at(120.0, pos as f64 * 2.0 / 48_000.0),
            param: None,
            key: None,
        });
        pos += frames;
    }
    let (l, r) = host.process(&blocks);
    assert_clean("random block sizes", &l, &r);
}

#[test]
fn transport_fuzz_jumps_tempi_stops_and_missing_fields() {
    let mut host = host();
    let mode = host.param_id("Play Mode");
    host.activate(44_100.0, 1_024);
    let mut rng = Rng(11);
    let blocks: Vec<Block> = (0..3_000)
        .map(|_| {
            let transport = HostTransport {
                playing: rng.unit() < 0.8,
                tempo: match rng.range(0, 9) {
                    0 => None,
                    1 => Some(0.0),
                    2 => Some(-30.0),
                    3 => Some(1e9),
                    4 => Some(f64::NAN),
                    _ => Some(20.0 + rng.unit() * 400.0),
                },
                pos_beats: match rng.range(0, 7) {
                    0 => None,
                    1 => Some(-8.0 + rng.unit() * 8.0),
                    2 => Some(1e7 * rng.unit()),
                    _ => Some(rng.unit() * 64.0),
                },
            };
            let frames = rng.range(1, 1_024) as usize;
            // Keys go up and down too (they trigger or transpose once Play Mode says so).
            let key = (rng.unit() < 0.2).then(|| {
                (
                    rng.unit() < 0.5,
                    rng.range(0, 127) as u8,
                    rng.range(0, frames as u64 - 1) as u32,
                )
            });
            Block {
                frames,
                transport,
                param: None,
                key,
            }
        })
        .collect();
    let (l, r) = host.process(&blocks);
    assert_clean("transport fuzz", &l, &r);
    // The same again in MIDI Trigger mode, where the keys start and stop the phrase.
    let mut blocks = blocks;
    blocks[0].param = Some((mode, 1.0));
    let (l, r) = host.process(&blocks);
    assert_clean("transport and key fuzz, MIDI Trigger", &l, &r);
}

#[test]
fn parameter_fuzz_random_values_every_block_bounds_included() {
    let mut host = host();
    let params = host.params();
    assert!(params.len() >= 18);
    host.activate(48_000.0, 512);
    let mut rng = Rng(23);
    for round in 0..4 {
        let blocks: Vec<Block> = (0..400)
            .map(|i| {
                let (id, _, lo, hi) =
                    params[rng.range(0, params.len() as u64 - 1) as usize].clone();
                let value = match rng.range(0, 3) {
                    0 => lo,
                    1 => hi,
                    _ => lo + (hi - lo) * rng.unit(),
                };
                Block {
                    frames: 256,
                    transport: HostTransport::playing_at(
                        120.0,
                        (round * 400 + i) as f64 * 256.0 * 2.0 / 48_000.0,
                    ),
                    param: Some((id, value)),
                    key: None,
                }
            })
            .collect();
        let (l, r) = host.process(&blocks);
        assert_clean("parameter fuzz", &l, &r);
        // The background thread recomposes what the changes asked for while the host goes on.
        host.pump_main_thread();
    }
}

#[test]
fn reset_and_reactivate_cycles() {
    let mut host = host();
    for i in 0..40 {
        let sr = if i % 2 == 0 { 48_000.0 } else { 44_100.0 };
        host.activate(sr, 64 + 32 * i);
        let (l, r) = host.process(&playing(2_000 + 97 * i, sr, i as f64, 64 + 32 * i));
        assert_clean("reactivated", &l, &r);
        if i % 3 == 0 {
            host.deactivate();
        }
    }
}

#[test]
fn sixteen_instances_in_parallel_threads() {
    let threads: Vec<_> = (0..16)
        .map(|k| {
            std::thread::spawn(move || {
                let mut host = host();
                host.activate(48_000.0, 256);
                let (l, r) = host.process(&playing(24_000, 48_000.0, k as f64, 256));
                assert_clean("parallel", &l, &r);
                l
            })
        })
        .collect();
    for t in threads {
        let l = t.join().expect("an instance panicked");
        assert!(l.iter().any(|s| *s != 0.0));
    }
}

#[test]
fn a_thousand_save_and_load_cycles_keep_the_state() {
    let mut host = host();
    host.activate(48_000.0, 256);
    let first = host.save_state();
    for i in 0..1_000 {
        let saved = host.save_state();
        assert!(host.load_state(&saved), "cycle {i}");
        if i % 100 == 0 {
            host.process(&playing(512, 48_000.0, i as f64, 256));
        }
    }
    assert_eq!(host.save_state(), first);
}

#[test]
fn removing_an_instance_with_work_pending_leaves_the_others_working() {
    // Every instance in a process shares nice-plug's background thread. Instances removed right
    // after a composition change (its recomposition still queued) used to stop that thread for
    // all: the others never recomposed again, and removing the last one aborted the host
    // (vendor/nice-plug/PIXELODY.md).
    let mut kept = host();
    kept.activate(48_000.0, 512);
    for n in 0..40 {
        let mut gone = host();
        gone.activate(48_000.0, 512);
        let mut blocks = playing(2_048, 48_000.0, 0.0, 512);
        blocks[0].param = Some((gone.param_id("Variation"), f64::from(n % 900 + 1)));
        gone.process(&blocks);
        drop(gone);
    }
    let before = kept.saved_score();
    let mut blocks = playing(2_048, 48_000.0, 0.0, 512);
    blocks[0].param = Some((kept.param_id("Variation"), 7.0));
    kept.process(&blocks);
    kept.wait_for_score("the remaining instance's recomposition", |s| *s != before);
}
