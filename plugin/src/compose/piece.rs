//! Pieces in sections: several pictures (a series, or an animation's frames) become one piece
//! that travels through them, each picture a section `Settings::bars` long, looping over the
//! whole. One piece, not a playlist:
//!
//! - Each section in its own picture's style (or the musician's, for every section), joined to
//!   the next where the style changes: a snare pickup into a section with drums, the drums
//!   thinning out before one without.
//! - One key centre: a section's key is its own picture's, moved to at most one fifth from the
//!   first section's tonic and from the section before (so every change is to a neighbour on
//!   the circle of fifths), in its own picture's mode; a section whose picture is unlike the
//!   one before never stays in its key (it moves a fifth, up for a brighter picture, down for a
//!   darker one). A Key or Scale the musician sets holds for every section.
//! - The first section's opening motif returns as the opening material of every later section,
//!   transformed: upside down where the picture is darker, its rhythm loosened where it is
//!   busier, backwards (retrograde) where the picture is otherwise unlike the first, as it was
//!   only where the pictures are alike.
//! - A section whose successor is in another key ends on that key's dominant chord (the pivot
//!   into it), and the last section leads back to the first the same way.
//!
//! - The sound glides from section to section: each section's picture proposes its own
//!   brightness and cutoff, kept as the difference from the first picture's, which the engine
//!   glides to over the beat before the section.
//!
//! Scan mode scans each picture in the shared key; Spectral mode reads every picture with the
//! first one's partials, so the frames join into one spectrogram.

use super::melody::Motif;
use super::theory::{Rng, Tonality};
use super::{arrange, features, mood, picture_seed, proposed_patch, scan, spectral};
use super::{style, tonality, wave_rows, Mode, Settings, Style};
use crate::analysis::{Features, Picture};
use crate::score::{Meter, Note, Part, Score, Section, SectionSound};

pub use crate::score::MAX_SECTIONS;

/// Whether two pictures look alike: about as light, as colourful, as busy, and of about the same
/// hue where they have one.
fn alike(a: &Features, b: &Features) -> bool {
    let hue = (a.hue - b.hue).rem_euclid(360.0);
    let hue_apart = hue.min(360.0 - hue) > 40.0 && a.hue_strength.min(b.hue_strength) > 0.2;
    (a.lightness.mean - b.lightness.mean).abs() < 0.08
        && (a.chroma.mean - b.chroma.mean).abs() < 0.03
        && (a.edge_density - b.edge_density).abs() < 0.03
        && !hue_apart
}

/// A section's tonality: its picture's own, kept within a fifth of the centre and of `previous`
/// (positions on the circle of fifths relative to the centre, -1, 0 or +1). `moves`: where its
/// picture is unlike the one before, which way to go (+1 brighter, -1 darker) if it would stay
/// in the key before (`before`).
fn section_tonality(
    own: Tonality,
    centre: Tonality,
    previous: i32,
    before: Tonality,
    moves: Option<i32>,
) -> (Tonality, i32) {
    // The circle-of-fifths position of a pitch class: 7 semitones is one step (7 * 7 = 1 mod 12).
    let fifths = |pc: u8| (i32::from(pc) * 7).rem_euclid(12);
    let mut d = (fifths(own.tonic) - fifths(centre.tonic) + 6).rem_euclid(12) - 6;
    d = d.clamp(-1, 1);
    if (d - previous).abs() > 1 {
        d = 0;
    }
    let at = |d: i32| Tonality {
        tonic: (i32::from(centre.tonic) + 7 * d).rem_euclid(12) as u8,
        scale: own.scale,
    };
    if let Some(way) = moves.filter(|_| at(d) == before) {
        // (Within a fifth of the centre and of the section before: from 0 either way, from
        // either side back to the centre.)
        d = if previous == 0 { way.signum() } else { 0 };
    }
    (at(d), d)
}

/// The theme as a later section states it: upside down under a darker picture, its rhythm
/// loosened under a busier one, backwards under an otherwise unlike one, as it was under a
/// picture like the first.
fn restated(
    theme: &Motif,
    first_mood: f32,
    mood: f32,
    busier: bool,
    like_first: bool,
    rng: &mut Rng,
) -> Motif {
    if mood < first_mood - 0.25 {
        Motif {
            onsets: theme.onsets.clone(),
            shape: theme.shape.iter().map(|s| -s).collect(),
        }
    } else if busier {
        super::melody::vary_rhythm(theme, rng)
    } else if !like_first && theme.shape.len() > 1 {
        // Retrograde: the notes backwards, on the same rhythm.
        let last = theme.shape[theme.shape.len() - 1];
        Motif {
            onsets: theme.onsets.clone(),
            shape: theme.shape.iter().rev().map(|s| s - last).collect(),
        }
    } else {
        theme.clone()
    }
}

/// Joins a section (`notes`, `length` beats from 0) in `from` style to the next in `to`: into a
/// style with drums, a snare pickup on the last beat (sixteenths, growing louder) where the hats
/// and the kick make way; into one without, the drums thin out over the last two beats.
fn transition(notes: &mut Vec<Note>, length: f64, from: Style, to: Style) {
    if from == to {
        return;
    }
    let drums_in = |s: Style| s != Style::Ambient;
    let last_beat = length - 1.0;
    if drums_in(to) {
        notes.retain(|n| n.part != Part::Drums || n.start_beats < last_beat - 1e-9);
        for (k, velocity) in [0.45, 0.6, 0.75, 0.9].into_iter().enumerate() {
            notes.push(Note {
                start_beats: last_beat + 0.25 * k as f64,
                length_beats: 0.1,
                pitch: crate::score::drum::SNARE,
                velocity,
                part: Part::Drums,
            });
        }
    } else {
        notes.retain(|n| n.part != Part::Drums || n.start_beats < length - 2.0 - 1e-9);
    }
}

/// Turns the last half bar before `end` (beats) into the dominant chord of `next`: chord and
/// bass notes that start there move to its nearest chord tones (the bass to its root), and so do
/// melody notes, so the section hands over to the next key.
fn pivot_into(notes: &mut [Note], end: f64, next: Tonality, meter: Meter) {
    let root = (i32::from(next.tonic) + 7).rem_euclid(12);
    let chord = [root, (root + 4) % 12, (root + 7) % 12];
    let nearest = |pitch: u8, allowed: &[i32]| -> u8 {
        let p = i32::from(pitch);
        (0..=6)
            .flat_map(|d| [p - d, p + d])
            .find(|q| (0..=127).contains(q) && allowed.contains(&q.rem_euclid(12)))
            .unwrap_or(p) as u8
    };
    for n in notes
        .iter_mut()
        .filter(|n| n.start_beats >= end - meter.bar_beats() / 2.0 - 1e-9 && n.start_beats < end)
    {
        n.pitch = match n.part {
            Part::Bass => nearest(n.pitch, &chord[..1]),
            Part::Harmony | Part::Melody => nearest(n.pitch, &chord),
            Part::Drums => n.pitch,
        };
    }
}

/// Composes `sections` (pictures with the names they are known by) as one piece with
/// `settings`; `source` names the piece. One section is exactly [`super::compose`].
pub fn compose_piece(
    sections: &[(&Picture, String)],
    settings: &Settings,
    source: String,
) -> Score {
    let settings = settings.clamped();
    let sections = &sections[..sections.len().min(MAX_SECTIONS)];
    let Some(((first, _), _)) = sections.split_first() else {
        let bar_beats = Meter::plain(settings.meter).bar_beats();
        return Score::new(f64::from(settings.bars) * bar_beats, Vec::new(), source);
    };
    if sections.len() == 1 {
        return super::compose(first, &settings, source);
    }
    // (Every section read in the settings' region of its picture.)
    let framed: Vec<_> = sections
        .iter()
        .map(|(p, _)| super::framed(p, &settings))
        .collect();
    let sections: Vec<(&Picture, String)> = framed
        .iter()
        .zip(sections)
        .map(|(f, (_, name))| (&**f, name.clone()))
        .collect();
    let (wave, mut score) = wave_rows::wave_beside(sections[0].0, |rows| {
        piece_with_rows(&sections, settings, source, rows)
    });
    score.wave = Some(wave);
    score
}

/// [`compose_piece`] of two sections or more, each read in its region already, but for the
/// wave's table: the score with its patch proposed from `rows`, the first picture's rows, and
/// no wave.
fn piece_with_rows(
    sections: &[(&Picture, String)],
    settings: Settings,
    source: String,
    rows: wave_rows::Rows<'_>,
) -> Score {
    let first = sections[0].0;
    let first_features = features(first, &settings);
    // (One meter for the whole piece, grouped as its first picture groups it.)
    let meter = super::meter(&first_features, &settings);
    let section_beats = f64::from(settings.bars) * meter.bar_beats();
    let centre = tonality(&first_features, &settings);
    let first_mood = mood(&first_features);
    let first_style = style(&first_features, &settings);
    let partials = first.height.clamp(1, spectral::MAX_PARTIALS);
    let first_patch = proposed_patch(&first_features, rows, &settings);

    // Every section's key first: each hands over to the next one's.
    let mut keys: Vec<(Features, Tonality)> = Vec::with_capacity(sections.len());
    let mut position = 0;
    for (k, (picture, _)) in sections.iter().enumerate() {
        // (The first section's features are read above already.)
        let f = match k {
            0 => first_features.clone(),
            _ => features(picture, &settings),
        };
        let t = match keys.last() {
            Some((before, t_before)) if settings.mode != Mode::Spectral => {
                // (A key the musician set holds for every section.)
                let free = settings.key.is_none() && settings.scale.is_none();
                let moves = (free && !alike(before, &f)).then(|| {
                    if mood(&f) >= mood(before) {
                        1
                    } else {
                        -1
                    }
                });
                let (t, d) =
                    section_tonality(tonality(&f, &settings), centre, position, *t_before, moves);
                position = d;
                t
            }
            _ => centre,
        };
        keys.push((f, t));
    }
    let styles: Vec<Style> = keys.iter().map(|(f, _)| style(f, &settings)).collect();

    let mut notes = Vec::new();
    let mut frames = Vec::new();
    let mut theme: Option<Motif> = None;
    let mut section_list = Vec::with_capacity(sections.len());
    for (k, ((picture, name), (f, t))) in sections.iter().zip(&keys).enumerate() {
        let start = k as f64 * section_beats;
        let mut rng = Rng::new(picture_seed(picture, settings.seed));
        let mut part = match settings.mode {
            Mode::Compose => {
                let statement = theme.as_ref().map(|m| {
                    let busier = f.edge_density > first_features.edge_density * 1.3;
                    let like = alike(&first_features, f);
                    restated(m, first_mood, mood(f), busier, like, &mut rng)
                });
                let arranged =
                    arrange::arrange_with(f, &settings, *t, styles[k], meter, &mut rng, statement);
                theme.get_or_insert(arranged.opening);
                let mut notes = arranged.notes;
                transition(
                    &mut notes,
                    section_beats,
                    styles[k],
                    styles[(k + 1) % styles.len()],
                );
                notes
            }
            Mode::Scan => scan::scan(picture, &settings, *t, meter),
            Mode::Spectral => {
                frames.push(spectral::spectrum_with(picture, f, &settings, *t, partials));
                Vec::new()
            }
        };
        let next = keys[(k + 1) % keys.len()].1;
        if next != *t {
            pivot_into(&mut part, section_beats, next, meter);
        }
        notes.extend(part.into_iter().map(|n| Note {
            start_beats: n.start_beats + start,
            ..n
        }));
        let own = proposed_patch(f, rows, &settings);
        section_list.push(Section {
            start_beats: start,
            source: name.clone(),
            tonality: t.name(),
            style: match settings.mode {
                Mode::Compose => styles[k].name().to_string(),
                _ => String::new(),
            },
            sound: SectionSound {
                brightness: own.brightness - first_patch.brightness,
                cutoff_oct: (own.cutoff_hz / first_patch.cutoff_hz).log2(),
            }
            .clamped(),
        });
    }

    let mut score = Score::new(section_beats * sections.len() as f64, notes, source);
    if settings.mode == Mode::Compose {
        score.style = first_style.name().to_string();
    }
    if settings.mode == Mode::Spectral {
        score.spectrum = spectral::join(frames);
    }
    score.tonality = centre.name();
    score.meter = meter;
    score.patch = first_patch;
    score.sections = section_list;
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{compose, Scale};
    use crate::gallery::gallery;

    fn pictures(names: &[&str]) -> Vec<(Picture, String)> {
        let all = gallery();
        names
            .iter()
            .map(|n| {
                let (_, p) = all.iter().find(|(g, _)| g == n).expect("a gallery picture");
                (p.clone(), format!("{n}.png"))
            })
            .collect()
    }

    fn piece(names: &[&str], settings: &Settings) -> Score {
        let owned = pictures(names);
        let sections: Vec<(&Picture, String)> = owned.iter().map(|(p, n)| (p, n.clone())).collect();
        compose_piece(&sections, settings, String::from("walk"))
    }

    #[test]
    fn one_section_is_the_picture_composed_alone() {
        let owned = pictures(&["forest"]);
        let alone = compose(
            &owned[0].0,
            &Settings::default(),
            String::from("forest.png"),
        );
        let sections = [(&owned[0].0, owned[0].1.clone())];
        let one = compose_piece(&sections, &Settings::default(), String::from("forest.png"));
        assert_eq!(one, alone);
        assert!(one.sections.is_empty());
    }

    #[test]
    fn sections_follow_each_other_for_the_whole_loop() {
        let names = ["sunset", "night city", "forest", "beach"];
        let s = Settings {
            bars: 4,
            ..Settings::default()
        };
        let score = piece(&names, &s);
        assert_eq!(score.length_beats, 4.0 * 16.0);
        assert_eq!(score.sections.len(), 4);
        for (k, section) in score.sections.iter().enumerate() {
            assert_eq!(section.start_beats, 16.0 * k as f64);
            assert_eq!(section.source, format!("{}.png", names[k]));
            // Every section plays: melody, chords and bass in each.
            for part in [Part::Melody, Part::Harmony, Part::Bass] {
                assert!(
                    score.notes.iter().any(|n| n.part == part
                        && n.start_beats >= section.start_beats
                        && n.start_beats < section.start_beats + 16.0),
                    "section {k} has no {part:?}"
                );
            }
        }
        // The same pictures and settings: the same piece.
        assert_eq!(score, piece(&names, &s));
    }

    fn fifths_apart(a: u8, b: u8) -> i32 {
        let d = ((i32::from(a) - i32::from(b)) * 7).rem_euclid(12);
        d.min(12 - d)
    }

    /// Pictures whose own keys lie all around the circle of fifths.
    const AROUND_THE_CIRCLE: [&str; 8] = [
        "sunset",
        "underwater",
        "meadow flowers",
        "autumn leaves",
        "storm clouds",
        "mondrian",
        "night city",
        "forest",
    ];

    /// The tonic's pitch class in a section's key ("Bb Dorian" gives 10).
    fn tonic_of(tonality: &str) -> i32 {
        super::super::NOTE_NAMES
            .iter()
            .position(|n| tonality.split(' ').next() == Some(n))
            .expect("a tonic name") as i32
    }

    #[test]
    fn keys_stay_within_a_fifth_of_the_centre_and_of_each_other() {
        let names = AROUND_THE_CIRCLE;
        let score = piece(&names, &Settings::default());
        let tonics: Vec<u8> = score
            .sections
            .iter()
            .map(|s| tonic_of(&s.tonality) as u8)
            .collect();
        let centre = tonics[0];
        for (k, &t) in tonics.iter().enumerate() {
            assert!(fifths_apart(t, centre) <= 1, "{:?}", score.sections);
            let next = tonics[(k + 1) % tonics.len()];
            assert!(fifths_apart(t, next) <= 1, "{:?}", score.sections);
        }
        assert!(
            tonics.iter().any(|&t| t != centre),
            "no section moves: {:?}",
            score.sections
        );
        // A key the musician sets holds everywhere.
        let fixed = piece(
            &names,
            &Settings {
                key: Some(2),
                scale: Some(Scale::Dorian),
                ..Settings::default()
            },
        );
        assert!(fixed.sections.iter().all(|s| s.tonality == "D Dorian"));
    }

    #[test]
    fn a_section_in_another_key_ends_on_that_keys_dominant() {
        let score = piece(&AROUND_THE_CIRCLE[..6], &Settings::default());
        let bar = 4.0 * f64::from(Settings::default().bars);
        let mut pivots = 0;
        for (k, s) in score.sections.iter().enumerate() {
            let next = &score.sections[(k + 1) % score.sections.len()];
            if next.tonality == s.tonality {
                continue;
            }
            pivots += 1;
            let tonic = tonic_of(&next.tonality);
            let v = (tonic + 7) % 12;
            let end = s.start_beats + bar;
            let last: Vec<&Note> = score
                .notes
                .iter()
                .filter(|n| {
                    n.part != Part::Drums && n.start_beats >= end - 2.0 && n.start_beats < end
                })
                .collect();
            assert!(!last.is_empty());
            for n in last {
                let pc = i32::from(n.pitch) % 12;
                assert!(
                    [v, (v + 4) % 12, (v + 7) % 12].contains(&pc),
                    "{n:?} before {}",
                    next.tonality
                );
                if n.part == Part::Bass {
                    assert_eq!(pc, v);
                }
            }
        }
        assert!(pivots > 0);
    }

    /// The melody's first bar in a section, as intervals between its notes.
    fn opening_intervals(score: &Score, section: &Section) -> Vec<i32> {
        let mut m: Vec<&Note> = score
            .notes
            .iter()
            .filter(|n| {
                n.part == Part::Melody
                    && n.start_beats >= section.start_beats
                    && n.start_beats < section.start_beats + 4.0
            })
            .collect();
        m.sort_by(|a, b| a.start_beats.total_cmp(&b.start_beats));
        m.windows(2)
            .map(|w| i32::from(w[1].pitch) - i32::from(w[0].pitch))
            .collect()
    }

    #[test]
    fn the_opening_motif_returns_in_later_sections() {
        // The same picture three times: the theme comes back as it was.
        let same = piece(&["forest", "forest", "forest"], &Settings::default());
        let first = opening_intervals(&same, &same.sections[0]);
        assert!(first.len() >= 2);
        for s in &same.sections[1..] {
            let again = opening_intervals(&same, s);
            let signs = |v: &[i32]| v.iter().map(|i| i.signum()).collect::<Vec<_>>();
            assert_eq!(signs(&again), signs(&first), "the theme's contour");
        }
        // Under a much darker picture it comes back upside down.
        let dark = piece(&["snowy mountain", "night city"], &Settings::default());
        let (a, b) = (
            opening_intervals(&dark, &dark.sections[0]),
            opening_intervals(&dark, &dark.sections[1]),
        );
        let n = a.len().min(b.len());
        assert!(n >= 1);
        // (A repeated note has no direction to turn: only the theme's moves count.)
        let moves = (0..n).filter(|&i| a[i] != 0).count();
        let opposite = (0..n)
            .filter(|&i| a[i].signum() == -b[i].signum() && a[i] != 0)
            .count();
        assert!(opposite >= 1 && opposite * 2 >= moves, "{a:?} then {b:?}");
        // The night sounds darker than the snowy day: its section sound says so.
        assert_eq!(dark.sections[0].sound, SectionSound::default());
        let night = dark.sections[1].sound;
        assert!(
            night.brightness < 0.0 || night.cutoff_oct < 0.0,
            "{night:?}"
        );
    }

    #[test]
    fn sections_take_their_own_style_joined_by_a_transition() {
        let names = ["meadow flowers", "storm clouds", "snowy mountain", "sunset"];
        let s = Settings {
            bars: 4,
            ..Settings::default()
        };
        let score = piece(&names, &s);
        let owned = pictures(&names);
        let styles: Vec<String> = owned
            .iter()
            .map(|(p, _)| compose(p, &s, String::new()).style)
            .collect();
        for (section, own) in score.sections.iter().zip(&styles) {
            assert_eq!(&section.style, own, "{}", section.source);
        }
        let mut distinct = styles.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() >= 3, "{styles:?}");
        assert_eq!(score.style, styles[0]);
        // At every change of style: a snare pickup on the last beat into a style with drums,
        // the drums silent for the last two beats before Ambient.
        for k in 0..names.len() {
            let (from, to) = (&styles[k], &styles[(k + 1) % names.len()]);
            if from == to {
                continue;
            }
            let end = 16.0 * (k + 1) as f64;
            let drums = |a: f64, b: f64| -> Vec<(f64, u8)> {
                score
                    .notes
                    .iter()
                    .filter(|n| {
                        n.part == Part::Drums && n.start_beats >= a - 1e-9 && n.start_beats < b
                    })
                    .map(|n| (n.start_beats - a, n.pitch))
                    .collect()
            };
            if to == "Ambient" {
                assert!(drums(end - 2.0, end).is_empty(), "{from} -> {to}");
            } else {
                let pickup = drums(end - 1.0, end);
                let snare = crate::score::drum::SNARE;
                assert_eq!(
                    pickup,
                    [(0.0, snare), (0.25, snare), (0.5, snare), (0.75, snare)],
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn a_section_unlike_the_one_before_moves_to_another_key() {
        let names = [
            "meadow flowers",
            "storm clouds",
            "snowy mountain",
            "sunset",
            "forest",
            "harbour",
        ];
        let score = piece(&names, &Settings::default());
        let owned = pictures(&names);
        let features: Vec<Features> = owned
            .iter()
            .map(|(p, _)| features(p, &Settings::default()))
            .collect();
        let mut moved = 0;
        for k in 1..names.len() {
            if !alike(&features[k - 1], &features[k]) {
                assert_ne!(
                    score.sections[k].tonality,
                    score.sections[k - 1].tonality,
                    "{} after {}",
                    names[k],
                    names[k - 1]
                );
                moved += 1;
            }
        }
        assert!(moved >= 3);
        // The same picture again stays in its key.
        let same = piece(&["forest", "forest"], &Settings::default());
        assert_eq!(same.sections[0].tonality, same.sections[1].tonality);
    }

    #[test]
    fn spectral_sections_join_into_one_spectrogram() {
        let s = Settings {
            mode: Mode::Spectral,
            ..Settings::default()
        };
        let score = piece(&["sunset", "portrait", "beach"], &s);
        let spectrum = score.spectrum.as_ref().expect("a spectrum");
        assert!(spectrum.is_valid());
        assert_eq!(
            spectrum.frames,
            3 * s.bars as usize * spectral::FRAMES_PER_BAR
        );
        let alone = compose(&pictures(&["sunset"])[0].0, &s, String::new());
        assert_eq!(spectrum.freqs_hz, alone.spectrum.unwrap().freqs_hz);
    }

    #[test]
    fn scan_sections_play_each_picture_in_turn() {
        let s = Settings {
            mode: Mode::Scan,
            ..Settings::default()
        };
        let score = piece(&["black", "white"], &s);
        let half = score.length_beats / 2.0;
        assert!(!score.notes.is_empty());
        assert!(
            score.notes.iter().all(|n| n.start_beats >= half),
            "black plays nothing"
        );
    }
}
