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
                // Meters that change under the music, and ones no one plays (each change is a
                // recomposition in the background, asked at most so often).
                meter: match rng.range(0, 40) {
                    0 => Some((0, 0)),
                    1 => Some((15, 16)),
                    2 => Some((u16::MAX, 3)),
                    3 => Some((7, 8)),
                    4 => Some((3, 4)),
                    5 => None,
                    _ => Some((4, 4)),
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

#[test]
fn instances_created_and_removed_two_hundred_times_with_work_pending() {
    // The worker thread every instance shares held the last reference to a removed instance while
    // it ran that instance's last task; the instance's drop then dropped the last handle to the
    // worker on the worker itself, which joined itself and panicked ("failed to join thread:
    // Resource deadlock avoided"): a dead worker, nothing recomposed again. Cycles alternate
    // between removing every instance (the worker ends and a new one starts) and keeping one.
    for n in 0..200u32 {
        let mut one = host();
        let mut two = host();
        for h in [&mut one, &mut two] {
            h.activate(48_000.0, 512);
        }
        let mut blocks = playing(1_024, 48_000.0, 0.0, 512);
        blocks[0].param = Some((one.param_id("Variation"), f64::from(n % 900 + 1)));
        one.process(&blocks);
        if n % 2 == 0 {
            drop(one);
            drop(two);
        } else {
            drop(one);
            // The survivor recomposes now and then (each wait takes a recomposition).
            if n % 50 == 1 {
                let before = two.saved_score();
                let mut blocks = playing(1_024, 48_000.0, 0.0, 512);
                blocks[0].param = Some((two.param_id("Variation"), f64::from(n + 3)));
                two.process(&blocks);
                two.wait_for_score("the survivor's recomposition", |s| *s != before);
            }
        }
    }
    let mut last = host();
    last.activate(48_000.0, 512);
    let before = last.saved_score();
    let mut blocks = playing(2_048, 48_000.0, 0.0, 512);
    blocks[0].param = Some((last.param_id("Variation"), 11.0));
    last.process(&blocks);
    last.wait_for_score("a recomposition after 200 cycles", |s| *s != before);
    assert_no_plugin_panics();
}

#[test]
fn every_parameter_every_sample_for_ten_seconds_and_a_flood_of_keys() {
    // What the VST3 validator's extensive mode does: each parameter moves at every sample. The
    // wrapper must take it without allocating on the audio thread (this build aborts if it does),
    // and a block with more events than its buffer holds (here 6,000 keys) drops the excess
    // instead of growing the buffer, and says so in the log once processing stops.
    let mut host = host();
    let params = host.params();
    assert!(params.len() >= 59);
    const SR: f64 = 48_000.0;
    const BLOCK: usize = 512;
    host.activate(SR, BLOCK);
    let log_start = plugin_log()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len() as usize);
    let blocks = playing(10 * SR as usize, SR, 0.0, BLOCK);
    // In time order, as a host sends them: at each sample every parameter, and in one block
    // 6,000 keys on its first sample besides (the wrapper
    // gathers the keys between two parameter changes, so these arrive together).
    let storm = |index: usize, events: &mut EventBuffer| {
        let mut rng = Rng(index as u64 * 7919 + 1);
        for t in 0..BLOCK as u32 {
            for (id, name, lo, hi) in &params {
                // Bypass on would only fade the sound out; everything else moves.
                if name == "Bypass" {
                    continue;
                }
                let value = lo + (hi - lo) * rng.unit();
                events.push(&ParamValueEvent::new(t, *id, Pckn::match_all(), value));
            }
            if index == 3 && t == 0 {
                for k in 0..6_000u16 {
                    let pckn = Pckn::new(0u16, 0u16, k % 128, Match::All);
                    events.push(&NoteOnEvent::new(t, pckn, 1.0));
                }
            }
        }
    };
    let (l, r, _) = host.process_with_events(&blocks, &storm);
    assert_clean("every parameter every sample", &l, &r);
    host.deactivate();
    // (The log is written by a thread of its own: give it a moment.)
    let read = || {
        let log = std::fs::read(plugin_log().expect("the tests log to a file")).unwrap_or_default();
        String::from_utf8_lossy(&log[log_start.min(log.len())..]).into_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !read().contains("were dropped") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = read();
    assert!(
        log.contains("were dropped"),
        "the dropped keys are reported off the audio thread; the log says:\n{log}"
    );
}
