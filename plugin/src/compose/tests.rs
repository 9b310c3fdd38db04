//! Composition as a musician would check it: determinism, pictures that differ sound different,
//! the documented mapping directions, and exact round trips for Scan and Spectral.

use std::collections::HashSet;
use std::io::Cursor;

use image::{ImageFormat, RgbImage};

use super::*;
use crate::analysis::decode;
use crate::score::{Note, Part};

/// Encodes a generated picture as PNG and decodes it through the real path.
fn picture(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Picture {
    let img = RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    decode(&png.into_inner()).unwrap()
}

fn noise(seed: u64) -> impl Fn(u32, u32) -> [u8; 3] {
    move |x, y| {
        let mut r = Rng::new(seed ^ (u64::from(x) << 32 | u64::from(y)));
        let v = r.next_u64();
        [v as u8, (v >> 8) as u8, (v >> 16) as u8]
    }
}

/// Twelve pictures of different kinds: gradients, stripes, noise, shapes, colour fields.
fn gallery() -> Vec<(&'static str, Picture)> {
    vec![
        (
            "horizontal gradient",
            picture(64, 48, |x, _| [(x * 4) as u8; 3]),
        ),
        (
            "vertical gradient",
            picture(64, 48, |_, y| [(y * 5) as u8; 3]),
        ),
        (
            "warm diagonal",
            picture(64, 48, |x, y| [200, ((x + y) * 2) as u8, 40]),
        ),
        (
            "horizontal stripes",
            picture(64, 48, |_, y| if y % 8 < 4 { [255; 3] } else { [0; 3] }),
        ),
        (
            "vertical stripes",
            picture(64, 48, |x, _| if x % 8 < 4 { [255; 3] } else { [0; 3] }),
        ),
        (
            "checkerboard",
            picture(64, 48, |x, y| {
                if (x / 4 + y / 4) % 2 == 0 {
                    [240, 240, 60]
                } else {
                    [20, 20, 90]
                }
            }),
        ),
        ("noise", picture(64, 48, noise(1))),
        (
            "sun on blue",
            picture(64, 48, |x, y| {
                let (dx, dy) = (x as i32 - 40, y as i32 - 14);
                if dx * dx + dy * dy < 64 {
                    [255, 220, 80]
                } else {
                    [30, 60, 140]
                }
            }),
        ),
        (
            "mountain",
            picture(64, 48, |x, y| {
                let ridge = 40 - (32 - x as i32).abs();
                if (y as i32) > ridge {
                    [60, 70, 60]
                } else {
                    [170, 200, 230]
                }
            }),
        ),
        ("red field", picture(64, 48, |_, _| [220, 30, 30])),
        ("blue field", picture(64, 48, |_, _| [30, 40, 200])),
        (
            "wave",
            picture(64, 48, |x, y| {
                let h = 24.0 + 16.0 * (x as f32 / 6.0).sin();
                if (y as f32 - h).abs() < 2.0 {
                    [255, 255, 255]
                } else {
                    [10, 10, 30]
                }
            }),
        ),
    ]
}

fn compose_default(p: &Picture) -> Score {
    compose(p, &Settings::default(), String::from("test"))
}

/// Distance between two scores: the share of notes (onset, pitch, part) found in only one of
/// them (Jaccard distance), plus one if their key or scale differ. 0 = same notes and key.
fn distance(a: &Score, b: &Score) -> f32 {
    let set = |s: &Score| -> HashSet<(u64, u8, u8)> {
        s.notes
            .iter()
            .map(|n| ((n.start_beats * 64.0) as u64, n.pitch, n.part as u8))
            .collect()
    };
    let (sa, sb) = (set(a), set(b));
    let union = sa.union(&sb).count().max(1) as f32;
    let jaccard = 1.0 - sa.intersection(&sb).count() as f32 / union;
    jaccard + if a.tonality == b.tonality { 0.0 } else { 1.0 }
}

#[test]
fn same_picture_and_settings_give_the_same_score_and_seeds_vary_it() {
    for (name, p) in gallery() {
        let a = compose_default(&p);
        let b = compose_default(&p);
        assert_eq!(a.fingerprint(), b.fingerprint(), "{name}");
        let other = compose(
            &p,
            &Settings {
                seed: 7,
                ..Settings::default()
            },
            String::new(),
        );
        if p.pixels.iter().any(|c| (c.l - p.pixels[0].l).abs() > 0.01) {
            assert_ne!(
                a.fingerprint(),
                other.fingerprint(),
                "{name}: Variation changes nothing"
            );
        }
    }
}

#[test]
fn different_pictures_give_different_scores() {
    let scores: Vec<(&str, Score)> = gallery()
        .into_iter()
        .map(|(n, p)| (n, compose_default(&p)))
        .collect();
    for (i, (na, a)) in scores.iter().enumerate() {
        for (nb, b) in &scores[i + 1..] {
            let d = distance(a, b);
            assert!(d >= 0.25, "{na} and {nb} sound alike: distance {d:.2}");
        }
    }
}

#[test]
fn every_note_is_in_key_and_the_melody_moves_mostly_by_step() {
    for (name, p) in gallery() {
        for scale in [None, Some(Scale::MinorPentatonic), Some(Scale::Dorian)] {
            let settings = Settings {
                scale,
                ..Settings::default()
            };
            let s = compose(&p, &settings, String::new());
            let t = tonality(&crate::analysis::analyse(&p, 16, 2), &settings);
            let harmonic = Tonality {
                scale: arrange_parent(t.scale),
                ..t
            };
            for n in &s.notes {
                let ok = match n.part {
                    Part::Melody => t.contains(n.pitch),
                    _ => harmonic.contains(n.pitch),
                };
                assert!(ok, "{name} {}: {n:?} out of key", t.name());
            }
            let melody: Vec<&Note> = s.notes.iter().filter(|n| n.part == Part::Melody).collect();
            let leaps = melody
                .windows(2)
                .filter(|w| (i32::from(w[1].pitch) - i32::from(w[0].pitch)).abs() > 7)
                .count();
            assert!(
                leaps * 4 <= melody.len(),
                "{name}: {leaps} leaps in {} notes",
                melody.len()
            );
            // Phrases start on the bar: the first note of every two-bar phrase is on its downbeat.
            assert!(melody.iter().any(|n| n.start_beats == 0.0), "{name}");
            // Capped polyphony: never more than six notes at once.
            for n in &s.notes {
                let at = n.start_beats;
                let sounding = s
                    .notes
                    .iter()
                    .filter(|m| m.start_beats <= at && at < m.start_beats + m.length_beats)
                    .count();
                assert!(sounding <= 6, "{name}: {sounding} notes at beat {at}");
            }
        }
    }
}

fn arrange_parent(s: Scale) -> Scale {
    match s {
        Scale::MajorPentatonic | Scale::Chromatic => Scale::Major,
        Scale::MinorPentatonic => Scale::Minor,
        s => s,
    }
}

fn mean_pitch(s: &Score) -> f32 {
    s.notes.iter().map(|n| f32::from(n.pitch)).sum::<f32>() / s.notes.len() as f32
}

fn melody_onsets(s: &Score) -> usize {
    s.notes.iter().filter(|n| n.part == Part::Melody).count()
}

/// Melody notes summed over eight Variations, so one lucky seed cannot decide a comparison.
fn onsets_over_variations(p: &Picture) -> usize {
    (0..8)
        .map(|seed| {
            let settings = Settings {
                seed,
                ..Settings::default()
            };
            melody_onsets(&compose(p, &settings, String::new()))
        })
        .sum()
}

/// The same shapes (a wave over a field) in different colours.
fn wave_in(fg: [u8; 3], bg: [u8; 3]) -> Picture {
    picture(64, 48, move |x, y| {
        let h = 24.0 + 12.0 * (x as f32 / 5.0).sin();
        if (y as f32 - h).abs() < 3.0 {
            fg
        } else {
            bg
        }
    })
}

#[test]
fn a_lighter_picture_sounds_higher() {
    let dark = compose_default(&wave_in([120, 120, 120], [25, 25, 25]));
    let light = compose_default(&wave_in([250, 250, 250], [170, 170, 170]));
    assert!(
        mean_pitch(&light) > mean_pitch(&dark) + 3.0,
        "{} vs {}",
        mean_pitch(&light),
        mean_pitch(&dark)
    );
}

#[test]
fn warmer_more_saturated_pictures_get_brighter_modes_and_more_notes() {
    let warm = compose_default(&wave_in([255, 200, 40], [230, 120, 30]));
    let cool = compose_default(&wave_in([110, 120, 150], [60, 70, 110]));
    let rank = |s: &Score| {
        Scale::BY_BRIGHTNESS
            .iter()
            .position(|sc| s.tonality.ends_with(sc.name()))
            .unwrap_or_else(|| panic!("{} is not an Auto mode", s.tonality))
    };
    assert!(
        rank(&warm) > rank(&cool),
        "{} vs {}",
        warm.tonality,
        cool.tonality
    );
    let (w, c) = (
        onsets_over_variations(&wave_in([255, 200, 40], [230, 120, 30])),
        onsets_over_variations(&wave_in([110, 120, 150], [60, 70, 110])),
    );
    assert!(w > c, "warm {w} onsets vs cool {c}");
}

#[test]
fn more_edges_give_more_notes() {
    let smooth = picture(64, 48, |x, _| [(x * 3) as u8, 90, 120]);
    let busy = picture(64, 48, |x, y| {
        if (x / 2 + y / 2) % 2 == 0 {
            [200, 90, 120]
        } else {
            [40, 90, 120]
        }
    });
    let (s, b) = (
        onsets_over_variations(&smooth),
        onsets_over_variations(&busy),
    );
    assert!(b > s, "busy {b} onsets vs smooth {s}");
}

#[test]
fn the_key_follows_the_hue_around_the_circle_of_fifths_unless_chosen() {
    let red = compose_default(&picture(16, 16, |_, _| [230, 40, 60]));
    let yellow = compose_default(&picture(16, 16, |_, _| [240, 220, 40]));
    let grey = compose_default(&picture(16, 16, |x, _| [(x * 16) as u8; 3]));
    assert_ne!(
        red.tonality.split(' ').next(),
        yellow.tonality.split(' ').next()
    );
    assert!(grey.tonality.starts_with("C "), "{}", grey.tonality);
    let chosen = compose(
        &picture(16, 16, |_, _| [230, 40, 60]),
        &Settings {
            key: Some(2),
            scale: Some(Scale::HarmonicMinor),
            ..Settings::default()
        },
        String::new(),
    );
    assert_eq!(chosen.tonality, "D harmonic minor");
}

#[test]
fn a_picture_drawn_as_a_piano_roll_scans_back_to_its_notes() {
    let settings = Settings {
        mode: Mode::Scan,
        bars: 2,
        grid: 16,
        key: Some(0),
        scale: Some(Scale::Major),
        low: 60,
        high: 84,
        ..Settings::default()
    };
    let t = Tonality {
        tonic: 0,
        scale: Scale::Major,
    };
    let pitches = scan::row_pitches(&settings, t);
    let rows = pitches.len();
    assert_eq!(rows, 15);
    // (step, row, length in steps): a melody, a chord, held notes, the loop's last step.
    let drawn = [
        (0, 0, 2),
        (2, 2, 1),
        (3, 4, 3),
        (8, 0, 4),
        (8, 4, 4),
        (8, 7, 4),
        (15, 14, 1),
        (20, 9, 5),
        (31, 3, 1),
    ];
    let p = picture(32, rows as u32, |x, y| {
        let row = rows - 1 - y as usize;
        let on = drawn
            .iter()
            .any(|&(s, r, l)| r == row && (s..s + l).contains(&(x as usize)));
        if on {
            [255; 3]
        } else {
            [0; 3]
        }
    });
    let s = compose(&p, &settings, String::new());
    let mut got: Vec<(usize, u8, usize)> = s
        .notes
        .iter()
        .map(|n| {
            (
                (n.start_beats * 4.0) as usize,
                n.pitch,
                (n.length_beats * 4.0) as usize,
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(usize, u8, usize)> = drawn
        .iter()
        .map(|&(st, r, l)| (st, pitches[r], l))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn scan_keeps_the_brightest_notes_of_a_crowded_step() {
    let settings = Settings {
        mode: Mode::Scan,
        bars: 1,
        grid: 4,
        key: Some(0),
        scale: Some(Scale::Chromatic),
        low: 60,
        high: 71,
        ..Settings::default()
    };
    // Every cell lit, brighter towards the top.
    let p = picture(4, 12, |_, y| [255 - (y * 12) as u8; 3]);
    let s = compose(&p, &settings, String::new());
    let at_zero: Vec<u8> = s
        .notes
        .iter()
        .filter(|n| n.start_beats == 0.0)
        .map(|n| n.pitch)
        .collect();
    assert_eq!(at_zero.len(), scan::MAX_POLYPHONY);
    assert!(at_zero.iter().all(|&p| p >= 64), "{at_zero:?}");
}

#[test]
fn spectral_frames_reproduce_the_picture() {
    let p = gallery().remove(8).1; // the mountain
    let s = compose(
        &p,
        &Settings {
            mode: Mode::Spectral,
            ..Settings::default()
        },
        String::new(),
    );
    let sp = s.spectrum.as_ref().expect("spectral scores carry frames");
    assert!(sp.is_valid());
    assert_eq!(sp.frames, 32);
    assert_eq!(sp.partials(), p.height);
    assert!(sp.freqs_hz.windows(2).all(|w| w[1] > w[0]));
    // Correlate the frames with the picture's lightness sampled on the same grid.
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for f in 0..sp.frames {
        for k in 0..sp.partials() {
            xs.push(sp.amps[f * sp.partials() + k]);
            let x = (f * p.width + p.width / 2) / sp.frames;
            ys.push(p.at(x.min(p.width - 1), p.height - 1 - k).l);
        }
    }
    let r = correlation(&xs, &ys);
    assert!(r > 0.95, "correlation {r}");
}

pub fn correlation(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len() as f32;
    let (mx, my) = (x.iter().sum::<f32>() / n, y.iter().sum::<f32>() / n);
    let cov: f32 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f32 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let vy: f32 = y.iter().map(|b| (b - my) * (b - my)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn snapped_partials_are_in_the_scale() {
    let p = gallery().remove(6).1;
    let settings = Settings {
        mode: Mode::Spectral,
        snap: true,
        key: Some(9),
        scale: Some(Scale::MinorPentatonic),
        ..Settings::default()
    };
    let s = compose(&p, &settings, String::new());
    let t = Tonality {
        tonic: 9,
        scale: Scale::MinorPentatonic,
    };
    for f in &s.spectrum.unwrap().freqs_hz {
        let midi = (69.0 + 12.0 * (f / 440.0).log2()).round() as u8;
        assert!(t.contains(midi), "{f} Hz");
    }
}

#[test]
fn the_picture_proposes_its_timbre() {
    let smooth = compose_default(&picture(64, 48, |x, _| [(x * 3) as u8, 100, 110]));
    let jagged = compose_default(&picture(64, 48, |x, y| {
        if (x + y) % 2 == 0 {
            [255, 40, 40]
        } else {
            [0, 0, 0]
        }
    }));
    assert!(jagged.patch.brightness > smooth.patch.brightness + 0.3);
    assert!(jagged.patch.attack_ms < smooth.patch.attack_ms / 4.0);
}

/// The melodies of the generated picture set (`compose::gallery`), 8 bars each.
fn gallery_melodies() -> Vec<(String, Score, super::measure::MelodyMeasures)> {
    super::gallery::gallery()
        .into_iter()
        .map(|(name, p)| {
            let score = compose(
                &p,
                &Settings {
                    bars: 8,
                    ..Settings::default()
                },
                name.clone(),
            );
            let m = super::measure::melody_measures(&score)
                .unwrap_or_else(|| panic!("{name}: no melody"));
            (name, score, m)
        })
        .collect()
}

#[test]
fn melodies_move_by_step_stay_singable_and_repeat_like_tunes() {
    use super::measure::median;
    let set = gallery_melodies();
    let steps: Vec<f32> = set.iter().map(|s| s.2.step_share).collect();
    let ranges: Vec<f32> = set.iter().map(|s| f32::from(s.2.range)).collect();
    let recurring: Vec<f32> = set.iter().map(|s| s.2.recurring_bars).collect();
    // Human folk melodies: 0.78 of moves by step, a range of 9 in 8 bars, recurring bars.
    assert!(
        median(&steps) >= 0.72,
        "median step share {}",
        median(&steps)
    );
    for (name, _, m) in &set {
        assert!(m.step_share >= 0.55, "{name}: step share {}", m.step_share);
        assert!(m.range >= 4, "{name}: a drone, range {}", m.range);
        assert!(
            (1.5..=5.5).contains(&m.notes_per_bar),
            "{name}: {} notes a bar",
            m.notes_per_bar
        );
    }
    assert!(median(&ranges) <= 12.0, "median range {}", median(&ranges));
    let with_recurring = recurring.iter().filter(|r| **r > 0.0).count();
    assert!(
        with_recurring * 10 >= set.len() * 6,
        "{with_recurring} of {} repeat a bar",
        set.len()
    );
    // Patterns repeat more literally than scenes and paintings.
    let patterned = [
        "stripes",
        "checkerboard",
        "bricks",
        "grid",
        "polka dots",
        "tiles",
        "plaid",
    ];
    let (mut pat, mut other) = (Vec::new(), Vec::new());
    for (name, _, m) in &set {
        if patterned.iter().any(|p| name.contains(p)) {
            pat.push(m.recurring_bars);
        } else {
            other.push(m.recurring_bars);
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(
        mean(&pat) > mean(&other),
        "patterns {} vs others {}",
        mean(&pat),
        mean(&other)
    );
}

#[test]
fn phrases_end_on_cadences_open_then_closed() {
    for (name, score, _) in gallery_melodies() {
        let t = {
            let (tonic, _) = score.tonality.split_once(' ').unwrap();
            super::theory::pitch_class(tonic).unwrap()
        };
        let melody = super::measure::melody_line(&score);
        let bass_on = |beat: f64| {
            score
                .notes
                .iter()
                .filter(|n| n.part == Part::Bass && (n.start_beats - beat).abs() < 1e-9)
                .map(|n| n.pitch % 12)
                .next()
        };
        for phrase in 0..4 {
            let end_bar = phrase * 2 + 1;
            let bar_start = end_bar as f64 * 4.0;
            // The phrase's last melody note sounds on beat 3 of its second bar and holds.
            let last = melody
                .iter()
                .rfind(|n| n.0 >= bar_start && n.0 < bar_start + 4.0)
                .unwrap_or_else(|| panic!("{name}: phrase {phrase} has no last bar"));
            assert_eq!(
                last.0,
                bar_start + 2.0,
                "{name}: phrase {phrase} ends off beat 3"
            );
            let root = bass_on(bar_start).expect("a bass note on the cadence bar");
            let from_tonic = (i32::from(root) - i32::from(t)).rem_euclid(12);
            if phrase % 2 == 1 {
                // Closed: the tonic chord, the melody on the tonic, after V (authentic) or IV
                // (plagal); Locrian has neither as a major or minor triad.
                assert_eq!(from_tonic, 0, "{name}: phrase {phrase} does not close on I");
                assert_eq!(
                    last.2 % 12,
                    t,
                    "{name}: the melody does not close on the tonic"
                );
                let before = bass_on(bar_start - 4.0).expect("a bass note before the cadence");
                let before = (i32::from(before) - i32::from(t)).rem_euclid(12);
                if !score.tonality.contains("Locrian") {
                    assert!(
                        [7, 5, 6].contains(&before),
                        "{name}: phrase {phrase} closes from a chord {before} semitones above I"
                    );
                }
            } else {
                // Open: a half cadence on V (or, where the mode's V is not a major or minor
                // triad, away from I).
                assert_ne!(
                    from_tonic, 0,
                    "{name}: phrase {phrase} closes where it should open"
                );
            }
        }
    }
}
