//! The engine's tests: sample-exact onsets, block-size invariance, transport handling, the synth.

use super::offline::{render_offline, OfflineRender};
use super::{EngineParams, TransportState};
use crate::engine::{onset_offset, Engine};
use crate::score::Score;
use crate::score::{Note, Part};
use crate::test_support::{engine_playing, onsets};

fn sparse_score() -> Score {
    let notes = [0.0, 0.75, 1.0 / 3.0 + 1.0, 2.5]
        .iter()
        .enumerate()
        .map(|(i, &s)| Note {
            start_beats: s,
            length_beats: 0.2,
            pitch: 60 + 5 * i as u8,
            velocity: 0.9,
            part: Part::Melody,
        })
        .collect();
    Score::new(4.0, notes, String::from("test"))
}

fn params() -> EngineParams {
    EngineParams::default().with_timbre(|t| t.release_ms = 10.0)
}

#[test]
fn notes_start_on_their_computed_samples_across_loops() {
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: 120.0,
        samples: 48_000 * 4 + 100,
        block_size: 512,
    };
    let score = sparse_score();
    let (l, _) = render_offline(&score, &params(), &job);
    let beats_per_sample = job.bpm / 60.0 / 48_000.0;
    let expected: Vec<usize> = (0..3)
        .flat_map(|lap| {
            score.notes.iter().map(move |n| {
                onset_offset(n.start_beats + 4.0 * lap as f64, 0.0, beats_per_sample) as usize
            })
        })
        .filter(|&s| s < job.samples)
        .collect();
    assert_eq!(onsets(&l, 100), expected);
    assert_eq!(expected[2], 32_000);
}

#[test]
fn block_size_does_not_change_a_single_sample() {
    let score = sparse_score();
    let render = |block_size| {
        render_offline(
            &score,
            &params(),
            &OfflineRender {
                sample_rate: 44_100.0,
                bpm: 97.0,
                samples: 200_000,
                block_size,
            },
        )
    };
    let reference = render(1);
    for block in [7, 64, 480, 512, 4096] {
        assert!(render(block) == reference, "block size {block} differs");
    }
}

/// Magnitude of frequency `hz` in `x` (Goertzel).
fn magnitude(x: &[f32], hz: f32, sr: f32) -> f32 {
    let w = std::f32::consts::TAU * hz / sr;
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for v in x {
        let s0 = v + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2).sqrt() / x.len() as f32
}

fn staircase() -> Score {
    // Four frames over one bar: partial 0, then 1, then 2 sound alone, then silence.
    let mut s = Score::new(4.0, Vec::new(), String::from("staircase"));
    s.spectrum = Some(crate::score::Spectrum {
        frames: 4,
        freqs_hz: vec![220.0, 440.0, 880.0],
        amps: vec![1., 0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 0.],
        pans: vec![0.0; 12],
    });
    s
}

#[test]
fn spectral_frames_sound_at_their_time_and_frequency() {
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: 120.0,
        samples: 96_000,
        block_size: 256,
    };
    let (l, _) = render_offline(&staircase(), &params(), &job);
    // Each frame lasts one beat (24000 samples) and is reached at its middle; measure the
    // middle quarter of each beat, where the frame's own partial dominates.
    let window = |frame: usize| &l[frame * 24_000 + 9_000..frame * 24_000 + 15_000];
    for (frame, hz) in [(0, 220.0), (1, 440.0), (2, 880.0)] {
        let m: Vec<f32> = [220.0, 440.0, 880.0]
            .iter()
            .map(|&f| magnitude(window(frame), f, 48_000.0))
            .collect();
        let own = m[frame];
        let others = m
            .iter()
            .filter(|&&x| x != own)
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(own > 5.0 * others, "frame {frame} ({hz} Hz): {m:?}");
    }
    let peak = |x: &[f32]| x.iter().map(|v| v.abs()).fold(0.0, f32::max);
    assert!(
        peak(window(3)) < 0.2 * peak(window(0)),
        "the silent frame is quiet"
    );
}

#[test]
fn spectral_playback_does_not_depend_on_block_size() {
    let render = |block_size| {
        render_offline(
            &staircase(),
            &params(),
            &OfflineRender {
                sample_rate: 44_100.0,
                bpm: 97.0,
                samples: 60_000,
                block_size,
            },
        )
    };
    let reference = render(1);
    for block in [7, 64, 512, 4096] {
        assert!(render(block) == reference, "block size {block} differs");
    }
}

#[test]
fn stopping_releases_every_voice() {
    let p = params();
    let mut engine = engine_playing(48_000.0, &p, sparse_score());
    let (mut l, mut r) = (vec![0.0; 256], vec![0.0; 256]);
    let playing = TransportState {
        playing: true,
        tempo_bpm: Some(120.0),
        pos_beats: Some(0.0),
        beats_per_bar: None,
    };
    engine.process(&playing, &p, &mut l, &mut r);
    assert_eq!(engine.active_voices(), 1);
    let stopped = TransportState::default();
    for _ in 0..10 {
        engine.process(&stopped, &p, &mut l, &mut r);
    }
    assert_eq!(engine.active_voices(), 0);
    assert!(l.iter().all(|s| *s == 0.0));
}

#[test]
fn a_jump_releases_and_reseeks() {
    let p = params();
    let mut engine = engine_playing(48_000.0, &p, sparse_score());
    let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
    let at = |beats| TransportState {
        playing: true,
        tempo_bpm: Some(120.0),
        pos_beats: Some(beats),
        beats_per_bar: None,
    };
    engine.process(&at(0.0), &p, &mut l, &mut r);
    // Jump to just before the note at 2.5 beats: it must start 10 samples in.
    let beats_per_sample = 120.0 / 60.0 / 48_000.0;
    engine.process(&at(2.5 - 10.0 * beats_per_sample), &p, &mut l, &mut r);
    assert_eq!(
        engine.active_voices(),
        2,
        "old note releasing, new note sounding"
    );
    // Host loop wrap back to 0: the first note starts again on sample 0.
    for _ in 0..2000 {
        engine.process(&TransportState::default(), &p, &mut l, &mut r);
    }
    engine.process(&at(0.0), &p, &mut l, &mut r);
    assert!(l[0] != 0.0);
}

fn note(start: f64, len: f64, pitch: u8) -> Note {
    crate::test_support::note(start, len, pitch, Part::Melody)
}

/// Runs `engine` over `blocks` (tempo, position, frames) and returns the note events with
/// their absolute sample.
fn run(
    engine: &mut Engine,
    p: &EngineParams,
    blocks: &[(f64, f64, usize)],
) -> Vec<(usize, bool, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(tempo, pos, frames) in blocks {
        let (mut l, mut r) = (vec![0.0; frames], vec![0.0; frames]);
        let t = TransportState {
            playing: true,
            tempo_bpm: Some(tempo),
            pos_beats: Some(pos),
            beats_per_bar: None,
        };
        engine.process(&t, p, &mut l, &mut r);
        out.extend(
            engine
                .note_events()
                .iter()
                .map(|e| (at + e.offset as usize, e.on, e.pitch)),
        );
        at += frames;
    }
    out
}

#[test]
fn starting_inside_a_held_note_chases_it() {
    let p = params();
    let mut engine = engine_playing(
        48_000.0,
        &p,
        Score::new(
            4.0,
            vec![note(0.0, 3.0, 60), note(3.5, 1.0, 64)],
            String::new(),
        ),
    );
    // Start at beat 2: the note from beat 0 to 3 should already sound; the note from 3.5 that
    // wraps past the loop end sounds again from 0 of the next lap.
    let ev = run(&mut engine, &p, &[(120.0, 2.0, 256)]);
    assert_eq!(ev, vec![(0, true, 60)]);
    let mut engine = engine_playing(
        48_000.0,
        &p,
        Score::new(4.0, vec![note(3.5, 1.0, 64)], String::new()),
    );
    let ev = run(&mut engine, &p, &[(120.0, 4.25, 256)]);
    assert_eq!(
        ev,
        vec![(0, true, 64)],
        "a note crossing the loop end is chased"
    );
}

#[test]
fn a_new_score_takes_over_at_the_next_bar() {
    let p = params();
    let mut engine = engine_playing(
        48_000.0,
        &p,
        Score::new(
            4.0,
            vec![note(0.0, 0.5, 60), note(2.0, 0.5, 62)],
            String::new(),
        ),
    );
    let beats_per_sample = 120.0 / 60.0 / 48_000.0;
    let blocks = |from: usize, count: usize| -> Vec<(f64, f64, usize)> {
        (from..from + count)
            .map(|b| (120.0, (b * 1000) as f64 * beats_per_sample, 1000))
            .collect()
    };
    run(&mut engine, &p, &blocks(0, 30)); // to beat 1.25
    assert!(engine
        .queue_score(Box::new(Score::new(
            4.0,
            vec![note(0.0, 0.5, 72)],
            String::new()
        )))
        .is_none());
    let ev = run(&mut engine, &p, &blocks(30, 70));
    let ons: Vec<(usize, u8)> = ev
        .iter()
        .filter(|e| e.1)
        .map(|e| (e.0 + 30_000, e.2))
        .collect();
    // The old score plays on to the bar line (its note at beat 2, sample 48000); at beat 4
    // (sample 96000) the new score's first note starts, on time.
    assert_eq!(ons, vec![(48_000, 62), (96_000, 72)]);
    assert!(
        engine.take_retired().is_some(),
        "the old score is handed back, not freed"
    );
}

#[test]
fn in_three_four_the_next_bar_is_three_beats_away() {
    let p = params();
    let mut engine = engine_playing(
        48_000.0,
        &p,
        Score::new(4.0, vec![note(0.0, 0.5, 60)], String::new()),
    );
    let beats_per_sample = 120.0 / 60.0 / 48_000.0;
    let block = |b: usize| TransportState {
        playing: true,
        tempo_bpm: Some(120.0),
        pos_beats: Some((b * 1_000) as f64 * beats_per_sample),
        beats_per_bar: Some(3.0),
    };
    let (mut l, mut r) = (vec![0.0; 1_000], vec![0.0; 1_000]);
    engine.process(&block(0), &p, &mut l, &mut r);
    engine.queue_score(Box::new(Score::new(
        4.0,
        vec![note(0.0, 0.5, 72)],
        String::new(),
    )));
    let mut swapped_in_block = None;
    for b in 1..100 {
        engine.process(&block(b), &p, &mut l, &mut r);
        if engine.take_retired().is_some() {
            swapped_in_block.get_or_insert(b);
        }
    }
    // Beat 3 at 120 BPM is sample 72000, the first sample of block 72 (in 4/4 it would be
    // block 96).
    assert_eq!(swapped_in_block, Some(72));
}

#[test]
fn tempo_changes_between_blocks_keep_every_onset_on_its_sample() {
    let mut engine = Engine::new(48_000.0);
    let p = params();
    engine.reset(&p);
    let notes: Vec<Note> = (0..16)
        .map(|i| note(i as f64 * 0.25, 0.1, 60 + i as u8))
        .collect();
    engine.swap_score(Box::new(Score::new(4.0, notes, String::new())));
    // A host ramping the tempo from 90 to 150 BPM, one step per 480-sample block.
    let mut blocks = Vec::new();
    let (mut pos, mut expected) = (0.0f64, Vec::new());
    for b in 0..600usize {
        let tempo = 90.0 + 60.0 * b as f64 / 600.0;
        let beats_per_sample = tempo / 60.0 / 48_000.0;
        for k in 0..64 {
            let beat = k as f64 * 0.25;
            let at = onset_offset(beat, pos, beats_per_sample);
            if (0..480).contains(&at) {
                expected.push((b * 480 + at as usize, 60 + (k % 16) as u8));
            }
        }
        blocks.push((tempo, pos, 480));
        pos += 480.0 * beats_per_sample;
    }
    let ons: Vec<(usize, u8)> = run(&mut engine, &p, &blocks)
        .iter()
        .filter(|e| e.1)
        .map(|e| (e.0, e.2))
        .collect();
    assert!(expected.len() > 40);
    assert_eq!(ons, expected);
}

#[test]
fn notes_start_and_end_without_clicks() {
    // Sines only, so any step larger than the steepest slope of the waveform is a click.
    let p = params().with_timbre(|t| {
        t.brightness = 0.0;
    });
    let notes: Vec<Note> = (0..64)
        .map(|i| note(i as f64 * 0.125, 0.3, 48 + (i * 7 % 24) as u8))
        .collect();
    let score = Score::new(8.0, notes, String::new());
    let (l, _) = render_offline(
        &score,
        &p,
        &OfflineRender {
            sample_rate: 48_000.0,
            bpm: 140.0,
            samples: 200_000,
            block_size: 256,
        },
    );
    let peak = l.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let max_step = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    // The highest note (71, 494 Hz) moves at most 2*pi*f/sr of its amplitude per sample.
    let slope = std::f32::consts::TAU * 494.0 / 48_000.0;
    assert!(peak > 0.05);
    assert!(
        max_step <= 1.5 * slope * peak,
        "step {max_step} vs peak {peak}"
    );
    assert!(l.iter().all(|v| v.is_finite()));
    let dc = l.iter().sum::<f32>() / l.len() as f32;
    assert!(dc.abs() < 1e-3, "DC {dc}");
}

fn chord_render(p: &EngineParams, block_size: usize) -> (Vec<f32>, Vec<f32>) {
    let notes: Vec<Note> = [48u8, 55, 60, 64]
        .iter()
        .map(|&k| note(0.0, 3.5, k))
        .collect();
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: 120.0,
        samples: 96_000,
        block_size,
    };
    render_offline(&Score::new(4.0, notes, String::new()), p, &job)
}

/// Energy of the first difference relative to the signal's: rises with high frequencies.
pub(super) fn brightness_of(x: &[f32]) -> f32 {
    let diff: f32 = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    diff / x.iter().map(|v| v * v).sum::<f32>().max(1e-12)
}

#[test]
fn the_filter_darkens_the_noise_adds_air_and_width_spreads() {
    let base = params().with_timbre(|t| {
        t.brightness = 1.0;
        t.cutoff_hz = 16_000.0;
        t.filter_env_oct = 0.0;
        t.resonance = 0.0;
    });
    let open = chord_render(&base, 512).0;
    let closed = chord_render(
        &base.with_timbre(|t| {
            t.cutoff_hz = 400.0;
        }),
        512,
    )
    .0;
    assert!(
        brightness_of(&closed) < 0.2 * brightness_of(&open),
        "{} vs {}",
        brightness_of(&closed),
        brightness_of(&open)
    );
    let noisy = chord_render(
        &base.with_timbre(|t| {
            t.noise = 1.0;
            t.brightness = 0.0;
        }),
        512,
    )
    .0;
    let clean = chord_render(
        &base.with_timbre(|t| {
            t.noise = 0.0;
            t.brightness = 0.0;
        }),
        512,
    )
    .0;
    assert!(brightness_of(&noisy) > 20.0 * brightness_of(&clean));
    // Unison spread: left and right decorrelate; without detune both sides carry one signal.
    let corr = |(l, r): (Vec<f32>, Vec<f32>)| {
        crate::test_support::correlation(&l[2_000..40_000], &r[2_000..40_000])
    };
    let mono = corr(chord_render(
        &base.with_timbre(|t| {
            t.detune_cents = 0.0;
            t.width = 1.0;
        }),
        512,
    ));
    let wide = corr(chord_render(
        &base.with_timbre(|t| {
            t.detune_cents = 15.0;
            t.width = 1.0;
        }),
        512,
    ));
    assert!(mono > 0.999 && wide < 0.9, "mono {mono}, wide {wide}");
}

/// `p` with every part of the synth at work: noise, the unison spread wide, a resonant filter
/// that moves, the delay and the reverb.
pub(super) fn full_synth(p: EngineParams) -> EngineParams {
    p.with_timbre(|t| {
        t.noise = 0.3;
        t.detune_cents = 12.0;
        t.width = 0.8;
        t.resonance = 0.7;
        t.filter_env_oct = 3.0;
        t.reverb_mix = 0.4;
        t.reverb_size = 0.6;
        t.delay_mix = 0.3;
        t.delay_feedback = 0.5;
    })
}

/// (With the delay and the reverb on: their lines and loops are per-sample state too.)
#[test]
fn the_full_synth_does_not_depend_on_block_size() {
    let p = full_synth(params());
    let reference = chord_render(&p, 1);
    for block in [7, 64, 512, 4096] {
        assert!(chord_render(&p, block) == reference, "block size {block}");
    }
    assert!(reference
        .0
        .iter()
        .all(|v| v.is_finite() && !v.is_subnormal()));
}

#[test]
fn missing_tempo_and_position_fall_back_to_free_running() {
    let score = sparse_score();
    let p = params();
    let mut engine = engine_playing(48_000.0, &p, score.clone());
    let mut out = vec![0.0; 48_000];
    let mut right = vec![0.0; 48_000];
    for (l, r) in out.chunks_mut(100).zip(right.chunks_mut(100)) {
        let t = TransportState {
            playing: true,
            tempo_bpm: None,
            pos_beats: None,
            beats_per_bar: None,
        };
        engine.process(&t, &p, l, r);
    }
    let reference = render_offline(
        &score,
        &p,
        &OfflineRender {
            sample_rate: 48_000.0,
            bpm: p.fallback_bpm,
            samples: 48_000,
            block_size: 100,
        },
    );
    assert!(out == reference.0);
}

/// Held and short notes on and off the beat grid, some crossing the loop end.
fn held_and_short() -> Score {
    Score::new(
        4.0,
        vec![
            note(0.0, 2.0, 48),
            note(0.0, 0.2, 72),
            note(0.5, 0.3, 74),
            note(1.0 / 3.0 + 1.0, 0.25, 76),
            note(2.0, 2.5, 55),
            note(2.75, 0.2, 79),
            note(3.9, 0.3, 81),
        ],
        String::new(),
    )
}

/// Renders `score` from beat 0 at `bpm` through a host whose reported position at each block is
/// `report(exact position)`, and returns the audio and the note events (absolute sample).
fn render_reported(
    score: &Score,
    bpm: f64,
    samples: usize,
    block: usize,
    report: impl Fn(f64) -> f64,
) -> (Vec<f32>, Vec<(usize, bool, u8)>) {
    let p = params();
    let mut engine = engine_playing(48_000.0, &p, score.clone());
    let beats_per_sample = bpm / 60.0 / 48_000.0;
    let (mut left, mut right) = (vec![0.0; samples], vec![0.0; samples]);
    let mut events = Vec::new();
    let mut pos = 0;
    while pos < samples {
        let n = block.min(samples - pos);
        let t = TransportState {
            playing: true,
            tempo_bpm: Some(bpm),
            pos_beats: Some(report(pos as f64 * beats_per_sample)),
            beats_per_bar: None,
        };
        engine.process(&t, &p, &mut left[pos..pos + n], &mut right[pos..pos + n]);
        events.extend(
            engine
                .note_events()
                .iter()
                .map(|e| (pos + e.offset as usize, e.on, e.pitch)),
        );
        pos += n;
    }
    (left, events)
}

#[test]
fn a_hosts_rounded_positions_play_exactly_as_exact_ones() {
    // Ardour counts 1920 ticks a quarter and rounds; other hosts count 960 and may floor.
    let round = |ppq: f64| move |b: f64| (b * ppq).round() / ppq;
    let floor = |ppq: f64| move |b: f64| (b * ppq).floor() / ppq;
    let score = held_and_short();
    for bpm in [60.0, 100.0, 137.0, 240.0] {
        let samples = (10.0 * 60.0 / bpm * 48_000.0) as usize;
        let (exact, exact_events) = render_reported(&score, bpm, samples, 512, |b| b);
        assert!(exact_events.len() > 20);
        for block in [64, 480, 1024, 4096] {
            for (name, got) in [
                (
                    "1/1920 rounded",
                    render_reported(&score, bpm, samples, block, round(1920.0)),
                ),
                (
                    "1/960 rounded",
                    render_reported(&score, bpm, samples, block, round(960.0)),
                ),
                (
                    "1/960 floored",
                    render_reported(&score, bpm, samples, block, floor(960.0)),
                ),
                (
                    "whole samples",
                    // A host whose positions are a sample early or late now and then.
                    render_reported(&score, bpm, samples, block, |b| {
                        let beats_per_sample = bpm / 60.0 / 48_000.0;
                        let s = (b / beats_per_sample).round();
                        (s + [0.0, 1.0, -1.0][(s as usize / 64) % 3]) * beats_per_sample
                    }),
                ),
            ] {
                assert_eq!(got.1, exact_events, "{bpm} BPM, block {block}, {name}");
                assert!(
                    got.0 == exact,
                    "{bpm} BPM, block {block}, {name}: other samples"
                );
            }
        }
    }
}

#[test]
fn a_locate_among_rounded_positions_still_reseeks() {
    // The host plays rounded to 1/1920 quarter, then locates to beat 6 (on its grid) at sample
    // 30000 of a 137 BPM song: the same as an exact host making the same jump.
    let bpm = 137.0;
    let beats_per_sample = bpm / 60.0 / 48_000.0;
    let jump_at = 30_000.0 * beats_per_sample;
    let located = move |b: f64| {
        if b < jump_at - 1e-9 {
            b
        } else {
            b - jump_at + 6.0
        }
    };
    let score = held_and_short();
    let (exact, exact_events) = render_reported(&score, bpm, 96_000, 1000, located);
    let (rounded, events) = render_reported(&score, bpm, 96_000, 1000, move |b| {
        (located(b) * 1920.0).round() / 1920.0
    });
    assert_eq!(events, exact_events);
    assert!(rounded == exact);
    // At the jump the note sounding (the one from beat 4) is released and the one held at beat 6
    // (from 6, the loop's beat 2) is chased.
    let at_jump: Vec<_> = events.iter().filter(|e| e.0 == 30_000).collect();
    assert!(at_jump.contains(&&(30_000, false, 48)), "{at_jump:?}");
    assert!(at_jump.contains(&&(30_000, true, 55)), "{at_jump:?}");
}

#[test]
fn a_host_drifting_against_its_sample_count_is_followed_without_restarting_notes() {
    // The host's beats run 0.3% faster than its samples at the tempo it reports (more than half a
    // sample a block): legato whole-beat notes must each start once, where the host's beat is.
    let score = Score::new(
        4.0,
        vec![
            note(0.0, 1.0, 60),
            note(1.0, 1.0, 62),
            note(2.0, 1.0, 64),
            note(3.0, 1.0, 65),
        ],
        String::new(),
    );
    let bpm = 120.0;
    let beats_per_sample = bpm / 60.0 / 48_000.0;
    let samples = (40.0 / (beats_per_sample * 1.003)) as usize;
    let (_, events) = render_reported(&score, bpm, samples, 512, |b| b * 1.003);
    let ons: Vec<_> = events.iter().filter(|e| e.1).collect();
    assert_eq!(ons.len(), 40, "one start per beat, none restarted: {ons:?}");
    for (beat, on) in ons.iter().enumerate() {
        assert_eq!(on.2, [60, 62, 64, 65][beat % 4]);
        let host_sample = beat as f64 / (beats_per_sample * 1.003);
        let off = on.0 as f64 - host_sample;
        // Our clock follows the host to within its rounding tolerance (1/960 beat, 25 samples).
        assert!(
            off.abs() <= 30.0,
            "beat {beat} starts {off} samples from the host's"
        );
    }
}

#[test]
fn a_hosts_tempo_is_sanitised_in_one_place() {
    use crate::engine::tempo_bpm;
    assert_eq!(tempo_bpm(Some(97.0), 120.0), 97.0);
    assert_eq!(tempo_bpm(Some(5_000.0), 120.0), 999.0);
    assert_eq!(tempo_bpm(Some(0.1), 120.0), 1.0);
    assert_eq!(tempo_bpm(Some(f64::NAN), 97.0), 97.0);
    assert_eq!(tempo_bpm(Some(-3.0), 97.0), 97.0);
    assert_eq!(tempo_bpm(None, f64::INFINITY), 120.0);
}

/// One block of `frames` samples at 120 BPM and 48 kHz from sample `at` (the position derived
/// from it, as a host does), the transport playing or stopped.
fn block_at(
    engine: &mut Engine,
    p: &EngineParams,
    at: usize,
    frames: usize,
    playing: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (vec![0.0; frames], vec![0.0; frames]);
    let t = TransportState {
        playing,
        tempo_bpm: Some(120.0),
        pos_beats: Some(at as f64 / 24_000.0),
        beats_per_bar: None,
    };
    engine.process(&t, p, &mut l, &mut r);
    (l, r)
}

/// Two bars of a backbeat under a bass and a melody note.
pub(super) fn band() -> Score {
    use crate::score::drum::*;
    let mut notes = vec![
        Note {
            part: Part::Bass,
            ..note(0.0, 2.0, 36)
        },
        note(1.0, 1.0, 72),
    ];
    for bar in 0..2 {
        let b = f64::from(bar) * 4.0;
        for (beat, pitch) in [
            (0.0, KICK),
            (1.0, SNARE),
            (2.0, KICK),
            (3.0, CLAP),
            (0.5, CLOSED_HAT),
            (1.5, OPEN_HAT),
            (2.5, CLOSED_HAT),
            (3.5, SHAKER),
        ] {
            notes.push(Note {
                part: Part::Drums,
                ..note(b + beat, 0.1, pitch)
            });
        }
    }
    Score::new(8.0, notes, String::from("band"))
}

#[test]
fn drums_sound_on_their_samples_and_go_out_on_channel_ten() {
    let mut engine = engine_playing(48_000.0, &params(), band());
    let p = params();
    let mut events = Vec::new();
    let mut left = Vec::new();
    for block in 0..400 {
        let (l, _) = block_at(&mut engine, &p, block * 480, 480, true);
        events.extend(
            engine
                .note_events()
                .iter()
                .map(|e| (block * 480 + e.offset as usize, *e)),
        );
        left.extend(l);
    }
    // Every drum note starts on its sample on channel 10 (9 from 0) and ends 0.1 beat later;
    // pitched parts keep their channels; the drums are not transposed.
    let drums: Vec<(usize, bool, u8)> = events
        .iter()
        .filter(|(_, e)| e.channel == 9)
        .map(|(at, e)| (*at, e.on, e.pitch))
        .collect();
    let expected_on: Vec<(usize, u8)> = band()
        .notes
        .iter()
        .filter(|n| n.part == Part::Drums)
        .map(|n| ((n.start_beats * 24_000.0) as usize, n.pitch))
        .collect();
    let ons: Vec<(usize, u8)> = drums.iter().filter(|d| d.1).map(|d| (d.0, d.2)).collect();
    assert_eq!(ons, expected_on);
    assert_eq!(drums.iter().filter(|d| !d.1).count(), ons.len());
    assert!(events.iter().any(|(_, e)| e.channel == 2 && e.pitch == 36));
    // The kick of the second bar (sample 96000) is heard from its sample on: the half beat
    // before it holds only the tails of the shaker and the clap.
    let peak = |x: &[f32]| x.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let (before, after) = (peak(&left[93_000..96_000]), peak(&left[96_000..96_480]));
    assert!(after > 10.0 * before, "before {before}, after {after}");
}

#[test]
fn a_part_switched_off_plays_nothing_and_a_silent_level_still_sends_midi() {
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: 120.0,
        samples: 96_000,
        block_size: 256,
    };
    let all = render_offline(&band(), &params(), &job);
    let mut drums_silent = params();
    drums_silent.part_db[Part::Drums as usize] = -60.0;
    let mut no_drums = params();
    no_drums.part_on[Part::Drums as usize] = false;
    let mut only_drums = params();
    only_drums.part_on = [false, false, false, true];
    let silent = render_offline(&band(), &drums_silent, &job);
    let off = render_offline(&band(), &no_drums, &job);
    let drums = render_offline(&band(), &only_drums, &job);
    // Level at -60 dB sounds exactly like the part switched off; the two parts add up to the whole.
    assert_eq!(silent, off);
    for i in 0..job.samples {
        assert!(
            (off.0[i] + drums.0[i] - all.0[i]).abs() < 1e-5,
            "sample {i}"
        );
    }
    assert!(drums.0.iter().any(|v| v.abs() > 0.05));
    // MIDI: the silent level still sends the drums, the switch does not.
    let count = |p: &EngineParams| {
        let mut n = 0;
        let mut engine = Engine::new(48_000.0);
        engine.reset(p);
        engine.swap_score(Box::new(band()));
        for block in 0..3 {
            block_at(&mut engine, p, block * 24_000, 24_000, true);
            n += engine
                .note_events()
                .iter()
                .filter(|e| e.channel == 9)
                .count();
        }
        n
    };
    assert!(count(&drums_silent) > 0);
    assert_eq!(count(&no_drums), 0);
}

#[test]
fn drums_do_not_depend_on_block_size() {
    let reference = render_offline(
        &band(),
        &params(),
        &OfflineRender {
            sample_rate: 44_100.0,
            bpm: 137.0,
            samples: 60_000,
            block_size: 1,
        },
    );
    for block in [7, 64, 512, 4096] {
        let job = OfflineRender {
            sample_rate: 44_100.0,
            bpm: 137.0,
            samples: 60_000,
            block_size: block,
        };
        assert!(
            render_offline(&band(), &params(), &job) == reference,
            "block size {block}"
        );
    }
}

#[test]
fn levels_glide_to_silence_and_back_without_denormals() {
    let mut engine = Engine::new(48_000.0);
    let mut p = params();
    engine.reset(&p);
    engine.swap_score(Box::new(band()));
    let mut out = Vec::new();
    for block in 0..600 {
        // Every part turned down to -inf after 100 blocks, back up after 400.
        p.part_db = if (100..400).contains(&block) {
            [-60.0; 4]
        } else {
            [0.0; 4]
        };
        let (l, r) = block_at(&mut engine, &p, block * 256, 256, true);
        out.extend(l.iter().chain(&r).copied());
    }
    assert!(out.iter().all(|v| v.is_finite() && !v.is_subnormal()));
    // Silent (exactly) once the glide has arrived, sounding again after.
    assert!(out[2 * 256 * 200..2 * 256 * 400].iter().all(|v| *v == 0.0));
    assert!(out[2 * 256 * 450..].iter().any(|v| v.abs() > 0.01));
}

/// Part levels gliding (a chunk whose samples have different part gains) and holding (one
/// gain for the whole chunk, picked once) make the same samples whatever the block size.
#[test]
fn gliding_part_levels_do_not_depend_on_block_size() {
    let render = |block: usize| {
        let mut engine = Engine::new(48_000.0);
        let mut p = params();
        engine.reset(&p);
        engine.swap_score(Box::new(band()));
        let mut out = Vec::new();
        let mut at = 0;
        while at < 48_000 {
            // The melody and the bass turned down a third of the way in, up again at two thirds.
            p.part_db = if (16_000..32_000).contains(&at) {
                [-12.0, 0.0, -20.0, 0.0]
            } else {
                [0.0; 4]
            };
            let (l, r) = block_at(&mut engine, &p, at, block, true);
            out.extend(
                l.iter()
                    .zip(&r)
                    .flat_map(|(l, r)| [l.to_bits(), r.to_bits()]),
            );
            at += block;
        }
        out
    };
    let reference = render(1);
    for block in [5, 64, 500] {
        assert!(render(block) == reference, "block size {block}");
    }
}

#[test]
fn the_effects_ring_on_after_stop_and_the_limiter_keeps_every_sample_under_the_ceiling() {
    let p = params().with_timbre(|t| {
        t.reverb_mix = 0.5;
        t.reverb_size = 0.7;
        t.delay_mix = 0.4;
    });
    let mut engine = Engine::new(48_000.0);
    engine.reset(&p);
    let loud: Vec<Note> = (0..24)
        .map(|k| Note {
            velocity: 1.0,
            ..note(0.0, 1.0, 36 + 2 * k)
        })
        .collect();
    engine.swap_score(Box::new(Score::new(4.0, loud, String::new())));
    let mut out = Vec::new();
    for block in 0..200 {
        // Plays for one beat (50 blocks), then stops.
        let p = EngineParams { gain_db: 12.0, ..p };
        let (l, r) = block_at(&mut engine, &p, block * 480, 480, block < 50);
        out.extend(l.iter().zip(&r).map(|(a, b)| a.abs().max(b.abs())));
    }
    assert!(out.iter().all(|v| *v <= super::effects::CEILING + 1e-6));
    assert!(
        out.iter().any(|v| *v > 0.8 * super::effects::CEILING),
        "the limiter was reached"
    );
    // A second after the stop (and the notes' 10 ms release), the reverb still sounds.
    let after = &out[48_000 + 24_000..48_000 + 28_800];
    assert!(after.iter().any(|v| *v > 1e-3), "no tail");
}

/// `seconds` of `engine` at 120 BPM from beat `from` (playing) or stopped, in 256-sample blocks.
fn blocks(engine: &mut Engine, p: &EngineParams, from: Option<f64>, seconds: f32) -> Vec<f32> {
    let sr = engine.sample_rate();
    let mut out = Vec::new();
    for b in 0..(seconds * sr) as usize / 256 {
        let (mut l, mut r) = (vec![0.0; 256], vec![0.0; 256]);
        let t = TransportState {
            playing: from.is_some(),
            tempo_bpm: Some(120.0),
            pos_beats: from.map(|f| f + (b * 256) as f64 * 2.0 / f64::from(sr)),
            beats_per_bar: None,
        };
        engine.process(&t, p, &mut l, &mut r);
        out.extend(l);
    }
    out
}

#[test]
fn a_sound_changed_while_nothing_sounds_is_in_place_from_the_first_note() {
    // A picture's sound reaching the parameters while the host does not process (stopped, or
    // not running at all): when play starts, the notes sound as the parameters say, not gliding
    // to it from the sound before (issue 32: the first 0.8 s glided).
    let dry = |bright: f32, cutoff: f32| {
        params().with_timbre(|t| {
            t.brightness = bright;
            t.cutoff_hz = cutoff;
            t.reverb_mix = 0.0;
            t.delay_mix = 0.0;
        })
    };
    let (before, after) = (dry(0.0, 400.0), dry(1.0, 9_000.0));
    let mut engine = engine_playing(48_000.0, &before, sparse_score());
    blocks(&mut engine, &before, Some(0.0), 1.0);
    blocks(&mut engine, &before, None, 1.0);
    let heard = blocks(&mut engine, &after, Some(0.0), 1.0);
    let fresh = blocks(
        &mut engine_playing(48_000.0, &after, sparse_score()),
        &after,
        Some(0.0),
        1.0,
    );
    assert!(fresh.iter().any(|x| x.abs() > 0.05));
    let worst = heard
        .iter()
        .zip(&fresh)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "{worst}");
    // While something sounds, a change still glides (no jump under a note).
    let mut engine = engine_playing(48_000.0, &before, sparse_score());
    blocks(&mut engine, &before, Some(0.0), 0.1);
    let gliding = blocks(&mut engine, &after, Some(0.2), 0.2);
    let jumped = blocks(
        &mut engine_playing(48_000.0, &after, sparse_score()),
        &after,
        Some(0.2),
        0.2,
    );
    assert!(gliding
        .iter()
        .zip(&jumped)
        .any(|(a, b)| (a - b).abs() > 0.01));
}
