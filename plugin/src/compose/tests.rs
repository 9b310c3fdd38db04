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

/// Distance between two scores: the share of pitched notes (onset, pitch, part) found in only one
/// of them (Jaccard distance), plus one if their key or scale differ. 0 = same notes and key.
fn distance(a: &Score, b: &Score) -> f32 {
    let set = |s: &Score| -> HashSet<(u64, u8, u8)> {
        s.notes
            .iter()
            .filter(|n| n.part != Part::Drums)
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
                    // (Drum notes name drums, not pitches.)
                    Part::Drums => true,
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
            // Capped polyphony: never more than six pitched notes at once.
            let pitched: Vec<&Note> = s.notes.iter().filter(|n| n.part != Part::Drums).collect();
            for n in &pitched {
                let at = n.start_beats;
                let sounding = pitched
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
    let p = gallery().remove(8).1; // the portrait
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
    let r = crate::test_support::correlation(&xs, &ys);
    assert!(r > 0.95, "correlation {r}");
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

/// The melodies of the generated picture set (`gallery`), 8 bars each.
fn gallery_melodies() -> Vec<(String, Score, super::measure::MelodyMeasures)> {
    crate::gallery::gallery()
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
    assert!(median(&ranges) <= 10.0, "median range {}", median(&ranges));
    // No bar drones on one pitch: a line at the edge of its range turns round, a level motif
    // takes a neighbour note.
    for (name, _, m) in &set {
        assert_eq!(m.one_pitch_bars, 0, "{name}: a bar of one pitch");
    }
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

/// The root of the major or minor triad the harmony part plays in the half bar from `beat`, in
/// semitones above the tonic `t` ([`super::measure::chord_at`]).
fn chord_root(score: &Score, beat: f64, t: u8) -> Option<i32> {
    super::measure::chord_at(score, beat, t).map(|c| c.0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Cadence {
    /// V-I (or v-i).
    Authentic,
    /// IV-I (or iv-I).
    Plagal,
    /// Another chord to I: bVII-I, bVI-I, II-I (a modal close).
    Modal,
    /// Ends on V or v: open.
    Half,
    /// Ends on another chord than I or V: open.
    Open,
}

/// The cadence ending on beat 3 of `bar`, named from the chords the harmony part sounds: the
/// chord there and the last different one before it (half bars). Also the chord before that, to
/// tell ii-V-I and IV-V-I.
fn cadence(score: &Score, bar: usize, t: u8) -> (Option<Cadence>, Vec<Option<i32>>) {
    let at = |half: usize| chord_root(score, half as f64 * 2.0, t);
    let last = bar * 2 + 1;
    let fin = at(last);
    let mut chain = vec![fin];
    let mut h = last;
    while h > 0 && chain.len() < 3 {
        h -= 1;
        if at(h) != *chain.last().unwrap() {
            chain.push(at(h));
        }
    }
    let prev = chain.get(1).copied().flatten();
    let name = match (fin, prev) {
        (Some(0), Some(7)) => Some(Cadence::Authentic),
        (Some(0), Some(5)) => Some(Cadence::Plagal),
        (Some(0), Some(_)) => Some(Cadence::Modal),
        (Some(7), _) => Some(Cadence::Half),
        (Some(_), _) => Some(Cadence::Open),
        _ => None,
    };
    (name, chain)
}

#[test]
fn phrases_end_on_cadences_open_then_closed() {
    use std::collections::HashMap;
    let mut kinds: HashMap<Cadence, usize> = HashMap::new();
    let mut prepared = 0;
    let mut families: HashMap<String, usize> = HashMap::new();
    let scores = gallery_melodies();
    for (name, score, _) in &scores {
        let t = super::measure::tonic(score).unwrap();
        *families.entry(score.progression.clone()).or_default() += 1;
        let melody = super::measure::melody_line(score);
        for phrase in 0..4 {
            let end_bar = phrase * 2 + 1;
            let bar_start = end_bar as f64 * 4.0;
            // The phrase's last melody note sounds on beat 3 of its second bar and holds (in the
            // loop's last bar, until a pickup on beat 4 that leads back to the first note).
            let in_bar: Vec<_> = melody
                .iter()
                .filter(|n| n.0 >= bar_start && n.0 < bar_start + 4.0)
                .collect();
            let close = in_bar
                .iter()
                .find(|n| n.0 == bar_start + 2.0)
                .unwrap_or_else(|| panic!("{name}: phrase {phrase} has no note on beat 3"));
            let after = in_bar.iter().filter(|n| n.0 > bar_start + 2.0).count();
            let pickup_room = if phrase == 3 { 2 } else { 0 };
            assert!(
                after <= pickup_room
                    && in_bar
                        .iter()
                        .all(|n| n.0 <= bar_start + 2.0 || n.0 >= bar_start + 3.0),
                "{name}: phrase {phrase} goes on after its cadence: {in_bar:?}"
            );
            // The melody ends every phrase on a tone of the chord under it.
            let (root, minor) = super::measure::chord_at(score, bar_start + 2.0, t)
                .unwrap_or_else(|| panic!("{name}: phrase {phrase} ends on no chord"));
            let third = if minor { 3 } else { 4 };
            let from_root = (i32::from(close.2) - i32::from(t) - root).rem_euclid(12);
            assert!(
                [0, third, 7].contains(&from_root),
                "{name}: phrase {phrase} ends on {} over the chord on {root}",
                close.2
            );
            let (kind, chain) = cadence(score, end_bar, t);
            let kind = kind.unwrap_or_else(|| {
                panic!("{name}: phrase {phrase} ends on no cadence: chords {chain:?}")
            });
            if phrase == 3 {
                // The loop closes on the tonic, in the melody too.
                assert!(
                    matches!(kind, Cadence::Authentic | Cadence::Plagal | Cadence::Modal),
                    "{name}: the loop closes with {kind:?} ({chain:?})"
                );
                assert_eq!(
                    close.2 % 12,
                    t,
                    "{name}: the melody does not close on the tonic"
                );
                if kind == Cadence::Authentic && matches!(chain.get(2), Some(Some(2 | 5))) {
                    prepared += 1;
                }
            }
            if phrase == 1 {
                // The first four-bar phrase ends open: the period's midpoint.
                assert!(
                    matches!(kind, Cadence::Half | Cadence::Open),
                    "{name}: bar 4 closes with {kind:?} ({chain:?})"
                );
            }
            *kinds.entry(kind).or_default() += 1;
        }
    }
    // The set hears every kind of close, full cadences prepared by ii or IV (ii-V-I, IV-V-I), a
    // half cadence at the midpoint of at least 30% of its loops, and eight families at least.
    for kind in [
        Cadence::Authentic,
        Cadence::Plagal,
        Cadence::Modal,
        Cadence::Half,
        Cadence::Open,
    ] {
        assert!(
            kinds.get(&kind).is_some_and(|&n| n > 0),
            "no {kind:?}: {kinds:?}"
        );
    }
    assert!(prepared > 0, "no ii-V-I or IV-V-I: {kinds:?}");
    let half_at_midpoint = scores
        .iter()
        .filter(|(_, score, _)| {
            cadence(score, 3, super::measure::tonic(score).unwrap()).0 == Some(Cadence::Half)
        })
        .count();
    assert!(
        half_at_midpoint * 10 >= scores.len() * 3,
        "{half_at_midpoint} of {} half cadences at bar 4",
        scores.len()
    );
    assert!(families.len() >= 8, "{families:?}");
}

#[test]
fn a_two_bar_loop_is_a_phrase_that_closes_with_a_full_cadence() {
    for (name, p) in crate::gallery::gallery() {
        let score = compose_default(&p);
        let (tonic, _) = score.tonality.split_once(' ').unwrap();
        let t = super::theory::pitch_class(tonic).unwrap();
        let (kind, chain) = cadence(&score, 1, t);
        assert!(
            matches!(kind, Some(Cadence::Authentic | Cadence::Plagal)),
            "{name}: {kind:?} {chain:?}"
        );
        // Two chords at least in the first bar's place: the loop does not sit on I.
        assert_ne!(chord_root(&score, 2.0, t), Some(0), "{name}");
    }
}

#[test]
fn busier_pictures_and_higher_density_change_chords_more_often() {
    let changes = |score: &Score, t: u8| {
        let roots: Vec<Option<i32>> = (0..16)
            .map(|h| chord_root(score, h as f64 * 2.0, t))
            .collect();
        roots.windows(2).filter(|w| w[0] != w[1]).count()
    };
    let (mut calm, mut busy) = (0, 0);
    for (name, p) in crate::gallery::gallery() {
        for (density, total) in [(0.0, &mut calm), (1.0, &mut busy)] {
            let settings = Settings {
                bars: 8,
                density,
                ..Settings::default()
            };
            let score = compose(&p, &settings, name.clone());
            let (tonic, _) = score.tonality.split_once(' ').unwrap();
            *total += changes(&score, super::theory::pitch_class(tonic).unwrap());
        }
    }
    // Cadences change chords in any case; busier harmony adds a chord on beat 3 in more bars.
    assert!(
        busy as f32 >= calm as f32 * 1.2,
        "density 1: {busy} changes, density 0: {calm}"
    );
}

#[test]
fn patterns_count_as_repetitive_and_scenes_do_not() {
    let by_name: std::collections::HashMap<String, Picture> =
        crate::gallery::gallery().into_iter().collect();
    let repetition = |name: &str| {
        let settings = Settings {
            bars: 8,
            ..Settings::default()
        };
        super::melody::repetition(&super::features(&by_name[name], &settings))
    };
    for name in [
        "vertical stripes",
        "checkerboard",
        "bricks",
        "tiles",
        "polka dots",
        "plaid",
    ] {
        assert!(repetition(name) >= 0.8, "{name}: {}", repetition(name));
    }
    for name in ["sunset", "hills", "circle", "snowy mountain", "two tones"] {
        assert!(repetition(name) <= 0.3, "{name}: {}", repetition(name));
    }
}

/// Four vertical strips, each a quarter of the picture, as `strips` paints them.
fn strips(strips: [fn(u32, u32) -> [u8; 3]; 4]) -> Picture {
    picture(128, 48, |x, y| strips[(x / 32) as usize](x % 32, y))
}

fn stripes(x: u32, _: u32) -> [u8; 3] {
    if x % 4 < 2 {
        [240; 3]
    } else {
        [20; 3]
    }
}

fn warm_field(_: u32, y: u32) -> [u8; 3] {
    [200, 120 + y as u8, 60]
}

fn dark_dots(x: u32, y: u32) -> [u8; 3] {
    if (x % 8 < 2) && (y % 8 < 2) {
        [90, 90, 200]
    } else {
        [10, 10, 40]
    }
}

fn noise_strip(x: u32, y: u32) -> [u8; 3] {
    noise(7)(x, y)
}

/// The onsets (in eighths from the bar line) of the melody in `bar`.
fn bar_rhythm(score: &Score, bar: usize) -> Vec<i64> {
    super::measure::melody_line(score)
        .iter()
        .filter(|n| n.0 >= bar as f64 * 4.0 && n.0 < bar as f64 * 4.0 + 4.0)
        .map(|n| ((n.0 - bar as f64 * 4.0) * 2.0).round() as i64)
        .collect()
}

#[test]
fn sections_follow_the_pictures_horizontal_structure() {
    use super::melody::{form, Development};
    let sixteen = Settings {
        bars: 16,
        ..Settings::default()
    };
    // Stripes, stripes, a warm field, stripes: A A B A, four bars each.
    let aaba = strips([stripes, stripes, warm_field, stripes]);
    let f = super::features(&aaba, &sixteen);
    let (plans, sources) = form(&f, 8, 2, 1.0, &mut Rng::new(1));
    let materials: Vec<usize> = plans.iter().map(|p| p.material).collect();
    assert_eq!(materials, [0, 0, 0, 0, 1, 1, 0, 0]);
    assert!(
        (8..12).contains(&sources[1]),
        "B's motif from its own bars: {sources:?}"
    );
    assert!(plans.iter().all(|p| p.development == Development::Plain));
    // In the melody, the A sections open with the same bar; B opens with another.
    let score = compose(&aaba, &sixteen, String::new());
    let a = bar_rhythm(&score, 0);
    let line = super::measure::melody_line(&score);
    assert_eq!(bar_rhythm(&score, 4), a, "{line:?}");
    assert_eq!(bar_rhythm(&score, 12), a);
    let b = bar_rhythm(&score, 8);
    assert!(
        b != a || {
            let line = super::measure::melody_line(&score);
            let shape = |bar: usize| -> Vec<i32> {
                let notes: Vec<i32> = line
                    .iter()
                    .filter(|n| (n.0 / 4.0) as usize == bar)
                    .map(|n| i32::from(n.2))
                    .collect();
                notes.windows(2).map(|w| (w[1] - w[0]).signum()).collect()
            };
            shape(8) != shape(0)
        },
        "B sounds like A: {b:?}"
    );

    // Four different strips: three materials (the most 16 bars take), and the loop returns to A.
    let abcd = strips([stripes, warm_field, dark_dots, noise_strip]);
    let f = super::features(&abcd, &sixteen);
    let (plans, sources) = form(&f, 8, 2, 1.0, &mut Rng::new(1));
    let materials: Vec<usize> = plans.iter().map(|p| p.material).collect();
    assert_eq!(sources.len(), 3, "{materials:?}");
    assert_eq!(&materials[..6], &[0, 0, 1, 1, 2, 2]);
    assert_eq!(materials[7], 0, "{materials:?}");
}

#[test]
fn returning_material_is_developed_unless_the_picture_is_a_pattern() {
    use super::melody::{developed, form, Development, Motif};
    let eight = Settings {
        bars: 8,
        ..Settings::default()
    };
    // Halves that look alike: the second period plays A again.
    let alike = strips([warm_field, stripes, warm_field, stripes]);
    let f = super::features(&alike, &eight);
    let (literal, _) = form(&f, 4, 2, 1.0, &mut Rng::new(3));
    assert!(literal
        .iter()
        .all(|p| p.material == 0 && p.development == Development::Plain));
    let developed_plans = (0..8)
        .map(|seed| form(&f, 4, 2, 0.0, &mut Rng::new(seed)).0)
        .collect::<Vec<_>>();
    for plans in &developed_plans {
        // The loop's last period develops its antecedent and closes on A as first heard.
        assert_ne!(plans[2].development, Development::Plain, "{plans:?}");
        assert_eq!(plans[3].development, Development::Plain);
        assert_eq!(plans[0].development, Development::Plain);
    }
    // Inversion turns the intervals upside down; augmentation spreads the bar over two.
    let m = Motif {
        onsets: vec![0, 2, 4, 6],
        shape: vec![0, 1, 2, 1],
    };
    let inverted = developed(&m, Development::Inverted, 0, crate::score::Meter::COMMON).unwrap();
    assert_eq!(
        (inverted.onsets, inverted.shape),
        (vec![0, 2, 4, 6], vec![0, -1, -2, -1])
    );
    let first = developed(&m, Development::Augmented, 0, crate::score::Meter::COMMON).unwrap();
    let second = developed(&m, Development::Augmented, 1, crate::score::Meter::COMMON).unwrap();
    assert_eq!((first.onsets, first.shape), (vec![0, 4], vec![0, 1]));
    assert_eq!((second.onsets, second.shape), (vec![0, 4], vec![2, 1]));
}

#[test]
fn the_melody_climbs_to_one_climax_two_thirds_through_and_leads_back_to_its_start() {
    let set = gallery_melodies();
    let placed = set
        .iter()
        .filter(|(_, _, m)| m.climax_at >= 0.5 && m.climax_until < 0.75)
        .count();
    assert!(
        placed * 10 >= set.len() * 6,
        "{placed} of {} melodies peak in bars 5-6 only",
        set.len()
    );
    let mut led = 0;
    for (name, score, _) in &set {
        let line = super::measure::melody_line(score);
        let (first, last) = (line[0], line[line.len() - 1]);
        if last.0 > 7.0 * 4.0 + 2.0 {
            // A pickup after the closing note: a step (or a repeat) into the first note.
            led += 1;
            let gap = (i32::from(first.2) - i32::from(last.2)).abs();
            assert!(
                gap <= 2,
                "{name}: the pickup {last:?} is {gap} semitones from {first:?}"
            );
        }
        // The bass goes back to the top through the dominant.
        let (tonic, _) = score.tonality.split_once(' ').unwrap();
        let t = super::theory::pitch_class(tonic).unwrap();
        let bass_last = score
            .notes
            .iter()
            .filter(|n| n.part == Part::Bass)
            .max_by(|a, b| a.start_beats.total_cmp(&b.start_beats))
            .unwrap();
        // (The Ballad's singing bass walks back through the dominant; the other styles' lines
        // end on the tonic, a step from it, or the dominant.)
        let from_tonic = (i32::from(bass_last.pitch % 12) - i32::from(t)).rem_euclid(12);
        if score.style == "Ballad" {
            assert_eq!(from_tonic, 7, "{name}");
        } else {
            assert!(
                [0, 1, 2, 7, 10, 11].contains(&from_tonic),
                "{name}: {from_tonic}"
            );
        }
    }
    assert!(
        led * 10 >= set.len() * 7,
        "{led} of {} melodies lead back",
        set.len()
    );
}

/// The generated picture set (`gallery`), 8 bars each, in `style` (`None` = Auto).
fn gallery_in(style: Option<super::Style>) -> Vec<(String, Score)> {
    gallery_in_meter(crate::score::Signature::COMMON, style)
}

/// [`gallery_in`], in the bars of `meter`.
pub(super) fn gallery_in_meter(
    meter: crate::score::Signature,
    style: Option<super::Style>,
) -> Vec<(String, Score)> {
    crate::gallery::gallery()
        .into_iter()
        .map(|(name, p)| {
            let settings = Settings {
                bars: 8,
                style,
                meter,
                ..Settings::default()
            };
            let score = compose(&p, &settings, name.clone());
            (name, score)
        })
        .collect()
}

#[test]
fn auto_picks_a_style_from_the_picture_and_every_style_is_chosen() {
    use std::collections::HashMap;
    let set = gallery_in(None);
    let mut chosen: HashMap<&str, usize> = HashMap::new();
    for (_, score) in &set {
        *chosen.entry(score.style.as_str()).or_default() += 1;
    }
    for style in super::Style::ALL {
        assert!(
            chosen.get(style.name()).is_some_and(|n| *n >= 2),
            "{} chosen less than twice: {chosen:?}",
            style.name()
        );
    }
    let style_of = |name: &str| set.iter().find(|s| s.0 == name).unwrap().1.style.clone();
    // Calm pictures are Ambient, regular patterns Pulse or Chiptune, a lively painting Pop.
    assert_eq!(style_of("white"), "Ambient");
    for pattern in ["checkerboard", "vertical stripes", "tiles", "polka dots"] {
        assert!(
            ["Pulse", "Chiptune"].contains(&style_of(pattern).as_str()),
            "{pattern}"
        );
    }
    assert_eq!(style_of("mondrian"), "Pop");
    // The style is the musician's when chosen, whatever the picture.
    for (_, score) in gallery_in(Some(super::Style::LoFi)) {
        assert_eq!(score.style, "Lo-fi");
    }
}

#[test]
fn styles_have_textures_a_listener_tells_apart() {
    use super::measure::{median, texture_signature};
    use super::Style;
    let medians: Vec<(Style, [f32; 4])> = Style::ALL
        .iter()
        .map(|&style| {
            let sigs: Vec<[f32; 4]> = gallery_in(Some(style))
                .iter()
                .map(|(_, s)| texture_signature(s))
                .collect();
            let m = |k: usize| median(&sigs.iter().map(|s| s[k]).collect::<Vec<_>>());
            (style, [m(0), m(1), m(2), m(3)])
        })
        .collect();
    // Harmony onsets a bar, harmony note length, bass onsets a bar, drum hits a bar: every two
    // styles differ by more than 20% in at least one.
    for (i, (a, sa)) in medians.iter().enumerate() {
        for (b, sb) in &medians[i + 1..] {
            let apart = (0..4).any(|k| (sa[k] - sb[k]).abs() > 0.2 * sa[k].max(sb[k]));
            assert!(apart, "{a:?} {sa:?} and {b:?} {sb:?} sound alike");
        }
    }
    // And each is what its name promises.
    let sig = |s: Style| medians.iter().find(|m| m.0 == s).unwrap().1;
    assert!(
        sig(Style::Ambient)[1] >= 2.0 && sig(Style::Ambient)[3] <= 1.0,
        "pads, few drums"
    );
    assert!(sig(Style::Chiptune)[0] >= 12.0, "sixteenth arpeggios");
    // (Eighths that breathe once a bar, on the off-beat where the picture is quietest.)
    assert!(sig(Style::Pulse)[2] >= 7.0, "an eighth-note bass pulse");
}

#[test]
fn drums_play_the_general_midi_kit_and_lofi_swings() {
    use crate::score::drum;
    for style in super::Style::ALL {
        for (name, score) in gallery_in(Some(style)).into_iter().take(12) {
            for n in score.notes.iter().filter(|n| n.part == Part::Drums) {
                assert!(
                    drum::ALL.contains(&n.pitch),
                    "{name} {style:?}: drum {}",
                    n.pitch
                );
            }
            let hits = score.notes.iter().filter(|n| n.part == Part::Drums).count();
            if style != super::Style::Ambient {
                // A backbeat at least: a kick and a snare or clap in every bar.
                assert!(hits >= 8 * 2, "{name} {style:?}: {hits} hits");
            }
        }
    }
    // Lo-fi swings: no note of any part starts on a straight off-beat eighth; some start on the
    // swung one (two thirds of the beat).
    for (name, score) in gallery_in(Some(super::Style::LoFi)).into_iter().take(12) {
        let frac = |n: &Note| n.start_beats - n.start_beats.floor();
        assert!(
            score.notes.iter().all(|n| (frac(n) - 0.5).abs() > 1e-6),
            "{name}"
        );
        assert!(
            score
                .notes
                .iter()
                .any(|n| (frac(n) - 2.0 / 3.0).abs() < 1e-6),
            "{name}"
        );
    }
}

#[test]
fn melodies_keep_to_low_and_high_and_an_octave_and_the_bass_stays_in_the_cellar() {
    // Issue 29: the melody promised to respect Low/High Note and went outside them in 16 of 58
    // pictures, sprawled over more than an octave, and 25 of 58 basses climbed an octave over the
    // loop (the loop then jumped down every time round), reaching C4 and above the chords.
    for (name, score, m) in gallery_melodies() {
        assert!(
            m.range <= 12,
            "{name}: the melody spans {} semitones",
            m.range
        );
        let melody: Vec<u8> = score
            .notes
            .iter()
            .filter(|n| n.part == Part::Melody)
            .map(|n| n.pitch)
            .collect();
        assert!(
            melody.iter().all(|p| (60..=84).contains(p)),
            "{name}: a melody note outside Low/High: {melody:?}"
        );
        let b = super::measure::bass_measures(&score).unwrap_or_else(|| panic!("{name}: no bass"));
        assert!(b.highest <= 60, "{name}: the bass reaches {}", b.highest);
        assert!(b.lowest >= 24, "{name}: the bass falls to {}", b.lowest);
        assert_eq!(b.above_chord, 0, "{name}: the bass rises above the chord");
        assert!(
            b.first.abs_diff(b.last) <= 7,
            "{name}: the bass starts on {} and ends on {}",
            b.first,
            b.last
        );
        assert!(
            b.parallels <= 1,
            "{name}: {} parallel octaves or fifths with the melody on strong beats",
            b.parallels
        );
    }
    // A narrow Low/High, far from the default, is kept too, light picture or dark.
    let narrow = Settings {
        bars: 8,
        low: 50,
        high: 59,
        ..Settings::default()
    };
    for (name, p) in crate::gallery::gallery().into_iter().step_by(5) {
        let score = compose(&p, &narrow, name.clone());
        let outside: Vec<u8> = score
            .notes
            .iter()
            .filter(|n| n.part == Part::Melody && !(50..=59).contains(&n.pitch))
            .map(|n| n.pitch)
            .collect();
        assert!(outside.is_empty(), "{name}: outside 50..59: {outside:?}");
    }
}

/// The picture writes the groove (the bar's onsets of harmony, bass and drums): within a style,
/// pictures whose accents fall elsewhere get other rhythms. (Issue 29 asks for 90% with a groove
/// of their own; this holds what is reached: 19 of 46, 30 grooves.)
#[test]
fn pictures_write_their_own_grooves() {
    let grooves: Vec<String> = gallery_in(None)
        .iter()
        .map(|(_, s)| super::measure::groove_signature(s))
        .collect();
    let own = grooves
        .iter()
        .filter(|g| grooves.iter().filter(|o| o == g).count() == 1)
        .count();
    let mut distinct = grooves.clone();
    distinct.sort();
    distinct.dedup();
    // The picture writes the groove: 90% of pictures have one no other picture has.
    assert!(
        own * 100 >= grooves.len() * 90,
        "{own} of {} own",
        grooves.len()
    );
    assert!(
        distinct.len() * 100 >= grooves.len() * 90,
        "{} grooves in {} pictures",
        distinct.len(),
        grooves.len()
    );
}

#[test]
fn every_style_sings_four_notes_a_bar_or_fewer() {
    // As Auto chooses, and with each style forced on every picture.
    let mut by_style: Vec<(String, Vec<f32>)> = Vec::new();
    for (_, score) in gallery_in(None) {
        let Some(m) = super::measure::melody_measures(&score) else {
            continue;
        };
        match by_style.iter_mut().find(|(s, _)| *s == score.style) {
            Some((_, v)) => v.push(m.notes_per_bar),
            None => by_style.push((score.style.clone(), vec![m.notes_per_bar])),
        }
    }
    for style in super::Style::ALL {
        let forced: Vec<f32> = gallery_in(Some(style))
            .iter()
            .filter_map(|(_, s)| super::measure::melody_measures(s))
            .map(|m| m.notes_per_bar)
            .collect();
        by_style.push((format!("{} (forced)", style.name()), forced));
    }
    for (style, busy) in &by_style {
        let m = super::measure::median(busy);
        assert!(m <= 4.0, "{style}: {m} notes a bar");
    }
}

#[test]
fn borrowed_chords_colour_the_harmony_and_never_grate_against_the_melody() {
    let mut coloured = 0;
    for (name, score, _) in gallery_melodies() {
        let t = super::measure::tonic(&score).unwrap();
        let settings = Settings {
            bars: 8,
            ..Settings::default()
        };
        let key = tonality(
            &super::features(&crate::gallery::picture(&name).unwrap(), &settings),
            &settings,
        );
        assert_eq!(key.name(), score.tonality);
        let parent = Tonality {
            scale: arrange_parent(key.scale),
            ..key
        };
        let sounding = |part: Part, at: f64| {
            score
                .notes
                .iter()
                .filter(move |n| {
                    n.part == part
                        && n.start_beats <= at + 1e-6
                        && at + 1e-6 < n.start_beats + n.length_beats
                })
                .map(|n| i32::from(n.pitch))
        };
        let mut outside = 0;
        for n in score.notes.iter().filter(|n| n.part == Part::Harmony) {
            if parent.contains(n.pitch) {
                continue;
            }
            outside += 1;
            // A note from outside the key is a tone of the major or minor chord it sounds in.
            let half_bar = (n.start_beats / 2.0).floor() * 2.0;
            let (root, minor) = super::measure::chord_at(&score, half_bar, t)
                .unwrap_or_else(|| panic!("{name}: {n:?} out of key and in no chord"));
            let from_root = (i32::from(n.pitch) - i32::from(t) - root).rem_euclid(12);
            assert!(
                [0, if minor { 3 } else { 4 }, 7, 10, 11].contains(&from_root),
                "{name}: {n:?} is not a tone of its chord ({root}, minor {minor})"
            );
        }
        coloured += usize::from(outside > 0);
        // The melody stays in its scale, and never a semitone from a borrowed note under it.
        for m in score.notes.iter().filter(|n| n.part == Part::Melody) {
            assert!(key.contains(m.pitch), "{name}: {m:?} out of key");
            for h in sounding(Part::Harmony, m.start_beats) {
                let grates = !parent.contains(h as u8)
                    && matches!((h - i32::from(m.pitch)).rem_euclid(12), 1 | 11);
                assert!(!grates, "{name}: melody {m:?} against {h}");
            }
        }
    }
    // Some pictures take chords from outside their key (bVII, bVI, a major V in minor, iv).
    assert!(coloured >= 3, "{coloured} pictures with borrowed chords");
}

#[test]
fn swing_and_humanise_set_the_feel_of_every_part() {
    let (name, p) = crate::gallery::gallery().swap_remove(4);
    let with = |style: super::Style, swing: Option<f32>, humanise: f32, seed: u32| {
        compose(
            &p,
            &Settings {
                bars: 4,
                style: Some(style),
                swing,
                humanise,
                seed,
                ..Settings::default()
            },
            String::new(),
        )
    };
    let frac = |b: f64| b - b.floor();
    // Full swing: no onset on a straight off-beat eighth, some on the dotted one (0.75).
    let shuffled = with(super::Style::Ballad, Some(1.0), 0.0, 0);
    assert!(shuffled
        .notes
        .iter()
        .all(|n| (frac(n.start_beats) - 0.5).abs() > 1e-6));
    assert!(shuffled
        .notes
        .iter()
        .any(|n| (frac(n.start_beats) - 0.75).abs() < 1e-9));
    // Straight Lo-fi: its off-beats where they are written.
    let straight = with(super::Style::LoFi, Some(0.0), 0.0, 0);
    assert!(straight
        .notes
        .iter()
        .any(|n| (frac(n.start_beats) - 0.5).abs() < 1e-9));
    // By Style: Lo-fi's own triplet feel.
    assert_eq!(
        with(super::Style::LoFi, None, 0.0, 0),
        with(super::Style::LoFi, Some(2.0 / 3.0), 0.0, 0),
        "{name}"
    );
    // Humanise: every note within its spread of the exact one, the same for the same Variation.
    let exact = with(super::Style::Pop, Some(0.0), 0.0, 3);
    let loose = with(super::Style::Pop, Some(0.0), 1.0, 3);
    assert_eq!(loose, with(super::Style::Pop, Some(0.0), 1.0, 3));
    assert_eq!(exact.notes.len(), loose.notes.len());
    let mut moved = 0;
    for n in &loose.notes {
        let near = exact.notes.iter().any(|e| {
            e.part == n.part
                && e.pitch == n.pitch
                && (e.start_beats - n.start_beats).abs() <= super::feel::TIMING_SPREAD + 1e-9
                && (e.velocity - n.velocity).abs() <= super::feel::VELOCITY_SPREAD + 1e-6
        });
        assert!(near, "{n:?} strays");
        moved += usize::from(!exact.notes.contains(n));
    }
    assert!(
        moved * 2 > loose.notes.len(),
        "{moved} of {} moved",
        loose.notes.len()
    );
}
