//! Tests of the sound (issue 19): nothing aliases at the top of the keyboard, no event clicks,
//! each part's sound and the picture's wave do what their controls say, and the tail the host
//! is told covers what rings.

use realfft::RealFftPlanner;

use super::offline::{render_offline, OfflineRender};
use super::voice::{Envelope, PictureWaves, VoicePool, VoiceSound};
use super::{Engine, EngineParams, NoteSink, SwapAt, TransportState};
use crate::score::{Note, Part, Score, Section, SectionSound, Wave};

use crate::test_support::engine_playing;
const SR: f32 = 48_000.0;

fn note(start: f64, len: f64, pitch: u8, part: Part) -> Note {
    Note {
        velocity: 0.9,
        ..crate::test_support::note(start, len, pitch, part)
    }
}

/// A dry, open, steady voice: full sustain, no filter movement, no effects.
fn open_params() -> EngineParams {
    EngineParams::default().with_timbre(|t| {
        t.brightness = 1.0;
        t.cutoff_hz = 20_000.0;
        t.filter_env_oct = 0.0;
        t.resonance = 0.0;
        t.sustain = 1.0;
        t.attack_ms = 5.0;
        t.release_ms = 20.0;
        t.noise = 0.0;
        t.detune_cents = 0.0;
    })
}

/// A wave whose frames are pseudo-random rows: every harmonic up to the row's limit present.
fn rich_wave() -> Wave {
    let mut x = 0x1234_5678u32;
    let rows = (0..4 * 128)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    Wave::from_rows(4, 128, rows)
}

/// One frame rising left to right (played there and back: a triangle), or falling (the same
/// triangle upside down).
fn ramp_wave(rising: bool) -> Wave {
    let rows = (0..64u32)
        .map(|i| {
            let v = (i * 255 / 63) as u8;
            if rising {
                v
            } else {
                255 - v
            }
        })
        .collect();
    Wave::from_rows(1, 64, rows)
}

/// Magnitude spectrum (Blackman-Harris window) of `x`, and the bin width in Hz.
fn spectrum(x: &[f32]) -> (Vec<f32>, f32) {
    let n = x.len();
    let mut input: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = std::f32::consts::TAU * i as f32 / n as f32;
            let w =
                0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos() - 0.01168 * (3.0 * t).cos();
            v * w
        })
        .collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut bins = fft.make_output_vec();
    fft.process(&mut input, &mut bins).unwrap();
    (bins.iter().map(|c| c.norm()).collect(), SR / n as f32)
}

/// The loudest component that is not a harmonic of `f0`, in dB relative to the fundamental.
fn worst_fold_db(x: &[f32], f0: f32) -> f32 {
    let (mags, hz) = spectrum(x);
    let fundamental = (0..mags.len())
        .filter(|&b| ((b as f32 * hz) - f0).abs() < 8.0 * hz)
        .map(|b| mags[b])
        .fold(0.0f32, f32::max);
    let mut worst = 0.0f32;
    for (b, m) in mags.iter().enumerate() {
        let f = b as f32 * hz;
        let near_harmonic = f < 30.0 || {
            let h = (f / f0).round();
            h >= 1.0 && (f - h * f0).abs() < 8.0 * hz
        };
        if !near_harmonic {
            worst = worst.max(*m);
        }
    }
    20.0 * (worst / fundamental).log10()
}

fn render(score: &Score, p: &EngineParams, seconds: f32) -> Vec<f32> {
    let job = OfflineRender {
        sample_rate: SR,
        bpm: 120.0,
        samples: (seconds * SR) as usize,
        block_size: 256,
    };
    render_offline(score, p, &job).0
}

#[test]
fn a_sawtooth_or_a_picture_wave_folds_nothing_above_minus_60_db_from_g_sharp_4_to_c8() {
    // C8 (4186 Hz) at 48 kHz: harmonics 6 and up lie above Nyquist, and a naive or PolyBLEP
    // sawtooth folds them back to -30..-40 dB. Every third semitone below it as far as G#4: the
    // octave levels (and the samples each has per period of its top harmonic) change there.
    for pitch in (68..=108).rev().step_by(4) {
        let mut score = Score::new(
            4.0,
            vec![note(0.0, 3.9, pitch, Part::Melody)],
            String::new(),
        );
        score.wave = Some(rich_wave());
        let f0 = 440.0 * 2f32.powf((f32::from(pitch) - 69.0) / 12.0);
        for (what, picture) in [("sawtooth", 0.0), ("picture wave", 1.0)] {
            let p = open_params().with_timbre(|t| t.melody.picture = picture);
            let x = render(&score, &p, 0.6);
            let steady = &x[9_600..9_600 + 16_384];
            assert!(steady.iter().any(|v| v.abs() > 0.01), "{what} sounds");
            let db = worst_fold_db(steady, f0);
            assert!(
                db < -60.0,
                "{what} at {pitch}: a folded component at {db:.1} dB"
            );
        }
    }
}

/// The largest sample-to-sample step in `x`.
fn max_step(x: &[f32]) -> f32 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

/// How much larger than a steady note's own steepest step an event's may be: the attack's and
/// the fades' slopes add a little to the waveform's; a click (a jump) is 20 to 200 times larger.
const CLICK_MARGIN: f32 = 1.5;

/// A held note playing the picture's wave (a rising row: a triangle) while, at the bar, a score
/// with no notes and another wave takes over; the output from the start.
fn swap_render(second_wave: Wave) -> Vec<f32> {
    let p = open_params().with_timbre(|t| {
        t.brightness = 0.0;
        t.melody.picture = 1.0;
    });
    let p = EngineParams {
        swap_at: SwapAt::NextBar,
        ..p
    };
    let mut first = Score::new(8.0, vec![note(0.0, 7.5, 48, Part::Melody)], String::new());
    first.wave = Some(ramp_wave(true));
    let mut second = Score::new(8.0, Vec::new(), String::new());
    second.wave = Some(second_wave);
    let mut engine = engine_playing(SR, &p, first);
    let mut out = Vec::new();
    let block = 128;
    for b in 0..(3.0 * SR) as usize / block {
        if b == 100 {
            assert!(engine.queue_score(Box::new(second.clone())).is_none());
        }
        let (mut l, mut r) = (vec![0.0; block], vec![0.0; block]);
        let t = TransportState {
            playing: true,
            tempo_bpm: Some(120.0),
            pos_beats: Some((b * block) as f64 / 24_000.0),
            beats_per_bar: None,
        };
        engine.process(&t, &p, &mut l, &mut r);
        let _ = engine.take_retired();
        out.extend(l);
    }
    out
}

#[test]
fn a_score_swap_under_a_held_note_fades_between_the_waves_without_a_click() {
    // The next score's wave is the same triangle upside down: switching at once would jump by
    // up to twice the amplitude.
    let flipped = swap_render(ramp_wave(false));
    let same = swap_render(ramp_wave(true));
    // Bar 2 starts at beat 4: sample 96,000.
    let swap = 96_000;
    let steady = max_step(&flipped[24_000..90_000]);
    let around = max_step(&flipped[swap - 2_000..swap + 20_000]);
    assert!(steady > 0.0);
    assert!(
        around <= CLICK_MARGIN * steady,
        "swap step {around} vs steady {steady}"
    );
    // Before the swap both play the same; once the fade is over, the note plays the flipped
    // wave: the exact negative of what it plays when the wave stays.
    assert_eq!(flipped[..swap - 1], same[..swap - 1]);
    let after = swap + 2_000..swap + 40_000;
    let level: f32 = same[after.clone()].iter().map(|v| v.abs()).sum();
    let residue: f32 = after.map(|i| (flipped[i] + same[i]).abs()).sum();
    assert!(
        level > 0.0 && residue < 1e-3 * level,
        "{residue} vs {level}"
    );
}

fn timbre_for_clicks() -> VoiceSound {
    VoiceSound {
        picture: [1.0; 3],
        ..super::voice::tests::timbre(0.0)
    }
}

/// A one-voice pool playing `notes` (pitch, start sample, end sample) with the picture's
/// triangle; returns the output.
fn pool_render(notes: &[(u8, usize, usize)], samples: usize) -> Vec<f32> {
    let wave = ramp_wave(true);
    let waves = PictureWaves {
        table: Some(wave.table()),
        old: None,
        fade_step: 1.0,
    };
    let env = Envelope {
        attack: 240.0,
        decay: 1.0,
        sustain: 1.0,
        release: 480.0,
        part_scale: [1.0; 3],
    };
    let mut pool = VoicePool::new(1);
    let mut sink = NoteSink::with_capacity(64);
    let t = timbre_for_clicks();
    // One long block: sample `i` is block index `i`, and each release is scheduled on its own.
    (0..samples)
        .map(|i| {
            sink.clear();
            for &(pitch, on, off) in notes {
                if on == i {
                    let n = note(0.0, 1.0, pitch, Part::Melody);
                    pool.note_on(&n, i as u32, 0.0, off as i64, SR, &env, &mut sink);
                }
            }
            pool.tick(i as i64, &t, &[1.0; 4], SR, &waves, &mut sink).0
        })
        .collect()
}

#[test]
fn starts_ends_and_steals_do_not_click() {
    // Alone, each note's steady steepest step; then the same notes started, ended and stolen.
    let low = pool_render(&[(57, 0, 40_000)], 40_000);
    let high = pool_render(&[(64, 0, 40_000)], 40_000);
    let steady = max_step(&low[10_000..30_000]).max(max_step(&high[10_000..30_000]));
    // Start, end (release to silence), start again, then a steal mid-note by a new pitch.
    let events = pool_render(
        &[
            (57, 100, 10_000),
            (57, 12_000, 30_000),
            (64, 20_000, 40_000),
        ],
        40_000,
    );
    let worst = max_step(&events);
    assert!(steady > 0.0 && events[25_000..].iter().any(|v| v.abs() > 0.01));
    assert!(
        worst <= CLICK_MARGIN * steady,
        "event step {worst} vs steady {steady}"
    );
}

#[test]
fn each_parts_tone_envelope_and_picture_shape_only_that_part() {
    let mut score = Score::new(
        4.0,
        vec![
            note(0.0, 2.0, 72, Part::Melody),
            note(0.0, 2.0, 60, Part::Harmony),
            note(0.0, 2.0, 40, Part::Bass),
        ],
        String::new(),
    );
    score.wave = Some(rich_wave());
    let base = open_params().with_timbre(|t| {
        t.cutoff_hz = 2_000.0;
        t.attack_ms = 2.0;
    });
    let solo = |p: &EngineParams, part: Part| {
        let mut p = *p;
        p.part_on = [false; 4];
        p.part_on[part as usize] = true;
        render(&score, &p, 0.9)
    };
    let bright = super::tests::brightness_of;
    // Melody Tone up two octaves brightens the melody, leaves the bass as it was.
    let toned = base.with_timbre(|t| t.melody.tone_oct = 2.0);
    let (m0, m1) = (solo(&base, Part::Melody), solo(&toned, Part::Melody));
    assert!(bright(&m1[4_800..]) > 1.5 * bright(&m0[4_800..]));
    assert_eq!(solo(&base, Part::Bass), solo(&toned, Part::Bass));
    // Harmony Envelope +100%: four times the attack, so the first 10 ms are much quieter.
    let slow = base.with_timbre(|t| t.harmony.envelope = 1.0);
    let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
    let (h0, h1) = (solo(&base, Part::Harmony), solo(&slow, Part::Harmony));
    assert!(energy(&h1[..480]) < 0.5 * energy(&h0[..480]));
    assert_eq!(solo(&base, Part::Melody), solo(&slow, Part::Melody));
    // Bass Picture: the bass changes, the others do not.
    let pictured = base.with_timbre(|t| t.bass.picture = 1.0);
    assert_ne!(solo(&base, Part::Bass), solo(&pictured, Part::Bass));
    assert_eq!(solo(&base, Part::Harmony), solo(&pictured, Part::Harmony));
    // Without a wave in the score (an old project), Picture plays the analog wave.
    let mut old = score.clone();
    old.wave = None;
    let mut p = pictured;
    p.part_on = [false, false, true, false];
    let mut q = base;
    q.part_on = [false, false, true, false];
    assert_eq!(render(&old, &p, 0.5), render(&old, &q, 0.5));
}

#[test]
fn wave_position_and_scan_move_through_the_pictures_rows_in_time_with_the_loop() {
    // Frame 0 a smooth ramp, frame 3 noise-like: position 1 is brighter than position 0.
    let mut rows: Vec<u8> = (0..128u32).map(|i| (i * 2) as u8).collect();
    rows.extend((0..128u32).map(|i| (i * 2) as u8));
    rows.extend((0..128u32).map(|i| (i * 2) as u8));
    rows.extend((0..128u32).map(|i| if (i / 2) % 2 == 0 { 255 } else { 0 }));
    let mut score = Score::new(8.0, vec![note(0.0, 8.0, 48, Part::Melody)], String::new());
    score.wave = Some(Wave::from_rows(4, 128, rows));
    let p = |pos: f32, scan: f32| {
        open_params().with_timbre(|t| {
            t.melody.picture = 1.0;
            t.wave_position = pos;
            t.wave_scan = scan;
        })
    };
    let bright = super::tests::brightness_of;
    let top = render(&score, &p(0.0, 0.0), 1.0);
    let bottom = render(&score, &p(1.0, 0.0), 1.0);
    assert!(bright(&bottom[4_800..]) > 3.0 * bright(&top[4_800..]));
    // Scan 100% from the top: the bottom row halfway through the loop (beat 4), back at the top
    // at its end. The loop is 8 beats = 192,000 samples.
    let scanned = render(&score, &p(0.0, 1.0), 4.0);
    let at = |beat: f64| {
        let s = (beat * 24_000.0) as usize;
        bright(&scanned[s - 2_400..s + 2_400])
    };
    assert!(at(4.0) > 3.0 * at(0.3), "{} vs {}", at(4.0), at(0.3));
    assert!(at(4.0) > 2.0 * at(7.7));
    // Block size changes nothing, scan included.
    let job = |block_size| OfflineRender {
        sample_rate: SR,
        bpm: 120.0,
        samples: 60_000,
        block_size,
    };
    let reference = render_offline(&score, &p(0.2, 0.7), &job(1));
    for b in [13, 512, 4096] {
        assert!(
            render_offline(&score, &p(0.2, 0.7), &job(b)) == reference,
            "{b}"
        );
    }
}

#[test]
fn a_pieces_sound_glides_from_section_to_section_over_the_beat_before() {
    // Two sections of 4 beats, one held note each; the second section darker (-0.5 brightness,
    // two octaves lower cutoff). 120 BPM: a beat is 24,000 samples.
    let notes = vec![
        note(0.0, 4.0, 57, Part::Harmony),
        note(4.0, 4.0, 57, Part::Harmony),
    ];
    let mut score = Score::new(8.0, notes, String::from("piece"));
    let dark = SectionSound {
        brightness: -0.5,
        cutoff_oct: -2.0,
    };
    score.sections = [(0.0, SectionSound::default()), (4.0, dark)]
        .into_iter()
        .map(|(start_beats, sound)| Section {
            start_beats,
            source: String::new(),
            tonality: String::new(),
            style: String::new(),
            sound,
        })
        .collect();
    let p = open_params().with_timbre(|t| {
        t.brightness = 0.8;
        t.cutoff_hz = 4_000.0;
    });
    let out = render(&score, &p, 8.0);
    let bright = |beat: f64| {
        let s = (beat * 24_000.0) as usize;
        super::tests::brightness_of(&out[s - 2_400..s + 2_400])
    };
    // Each section sounds as its picture asks, the first brighter; the glide starts a beat before
    // the second section and is halfway at half that beat.
    assert!(
        bright(2.0) > 2.0 * bright(6.0),
        "{} vs {}",
        bright(2.0),
        bright(6.0)
    );
    assert!(
        bright(2.5) > 0.97 * bright(2.0),
        "no change two beats before"
    );
    let halfway = bright(3.5);
    assert!(
        halfway < 0.9 * bright(2.0) && halfway > 1.1 * bright(6.0),
        "{halfway}"
    );
    // The last beat of the loop glides back to the first section's sound.
    assert!(bright(7.6) > 1.2 * bright(6.0));
    // Block size changes nothing.
    let job = |block_size| OfflineRender {
        sample_rate: SR,
        bpm: 120.0,
        samples: 120_000,
        block_size,
    };
    let reference = render_offline(&score, &p, &job(1));
    for b in [17, 480, 4096] {
        assert!(render_offline(&score, &p, &job(b)) == reference, "{b}");
    }
    // Without section sounds, the sections change nothing.
    let mut plain = score.clone();
    for s in &mut plain.sections {
        s.sound = SectionSound::default();
    }
    let flat = render(&plain, &p, 8.0);
    let fb = |beat: f64| {
        let s = (beat * 24_000.0) as usize;
        super::tests::brightness_of(&flat[s - 2_400..s + 2_400])
    };
    assert!((fb(2.0) / fb(6.0) - 1.0).abs() < 0.05);
}

#[test]
fn the_tail_the_host_is_told_covers_what_rings_after_stop() {
    let p = EngineParams::default().with_timbre(|t| {
        t.release_ms = 300.0;
        t.reverb_mix = 0.3;
        t.reverb_size = 0.3;
        t.delay_mix = 0.3;
        t.delay_feedback = 0.5;
    });
    let score = Score::new(4.0, vec![note(0.0, 4.0, 60, Part::Melody)], String::new());
    let mut engine = engine_playing(SR, &p, score);
    let block = 512;
    let play = |engine: &mut Engine, playing: bool, at: usize| {
        let (mut l, mut r) = (vec![0.0; block], vec![0.0; block]);
        let t = TransportState {
            playing,
            tempo_bpm: Some(120.0),
            pos_beats: Some(at as f64 / 24_000.0),
            beats_per_bar: None,
        };
        engine.process(&t, &p, &mut l, &mut r);
        l.iter().chain(&r).fold(0.0f32, |m, v| m.max(v.abs()))
    };
    let mut playing_peak = 0.0f32;
    for b in 0..40 {
        playing_peak = playing_peak.max(play(&mut engine, true, b * block));
    }
    let tail = engine.tail_samples(&p) as usize;
    // From the stop on: the last block louder than -60 dB under the playing level ends before
    // the tail does, and the tail is not wildly longer than what rings (within 3x).
    let mut last_loud = 0;
    for b in 0..(20.0 * SR) as usize / block {
        if play(&mut engine, false, 0) > 1e-3 * playing_peak {
            last_loud = (b + 1) * block;
        }
    }
    assert!(last_loud > 0);
    assert!(last_loud <= tail, "rings {last_loud} samples, tail {tail}");
    assert!(tail < 3 * last_loud, "tail {tail} vs {last_loud}");
}

/// Where the CPU has AVX, the render loop runs a copy of itself compiled for it: the same
/// operations (no fused multiply-adds), so the same samples as the plain copy every other CPU
/// runs, to the bit, with every part of the synth at work (unison, noise, resonance, the
/// picture's wave scanning, the kit, the delay and the reverb).
#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx_render_makes_the_same_samples_as_the_plain_one() {
    assert!(
        std::arch::is_x86_feature_detected!("avx"),
        "this test needs a CPU with AVX to compare against"
    );
    let mut score = super::tests::band();
    score.wave = Some(rich_wave());
    let p = super::tests::full_synth(EngineParams::default()).with_timbre(|t| {
        t.wave_scan = 0.3;
        for part in [&mut t.melody, &mut t.harmony, &mut t.bass] {
            part.picture = 0.5;
        }
    });
    let render = |avx: bool| {
        let mut engine = engine_playing(SR, &p, score.clone());
        engine.avx = avx;
        let mut out = Vec::new();
        for b in 0..(2.0 * SR) as usize / 128 {
            let (mut l, mut r) = ([0.0f32; 128], [0.0f32; 128]);
            let t = TransportState {
                playing: true,
                tempo_bpm: Some(120.0),
                pos_beats: Some((b * 128) as f64 * 2.0 / f64::from(SR)),
                beats_per_bar: None,
            };
            engine.process(&t, &p, &mut l, &mut r);
            out.extend(l.iter().chain(&r).map(|x| x.to_bits()));
        }
        out
    };
    let (avx, plain) = (render(true), render(false));
    assert!(
        avx.iter()
            .filter(|&&x| f32::from_bits(x).abs() > 0.01)
            .count()
            > 10_000
    );
    assert!(
        avx == plain,
        "the AVX copy of the render loop changed a sample"
    );
}
