//! Compose mode: a short arrangement that belongs to its picture and is musical first.
//!
//! - Time runs left to right; the melody grid is eighth notes, phrases are two bars.
//! - Melody (melody.rs): motifs from the picture developed into phrases with cadences, in a form
//!   read from the picture's horizontal structure, climbing to one climax two thirds through.
//! - Register: the whole arrangement sits higher the lighter the picture (Ward et al. 2006).
//! - Rhythm: how likely a step is to sound grows with the Density setting, the picture's edge
//!   density, its emotional brightness (lighter, saturated, warm = livelier) and the slice's own
//!   edges; downbeats are favoured.
//! - Chords and bass (harmony.rs): a progression family (progressions.rs) the style and the
//!   picture choose, one or two chords a bar as the picture's energy drives them, a half cadence
//!   at the period's midpoint and a close on I; voiced in three parts with the smallest movement
//!   from the previous chord; a bass that moves through inversions and passing tones. Chords
//!   from outside the key stay out of the melody's way (no cross-relations).
//! - Velocity follows local contrast.

use super::feel;
use super::harmony::{self, chord_tonality, Chord};
use super::melody::{self, Motif};
use super::seen;
use super::style::Style;
use super::texture::Texture;
use super::theory::{Rng, Tonality};
use super::Settings;
use crate::analysis::Features;
use crate::score::{Meter, Note, Part};

/// The melody's grid: eighth notes, in quarter-note beats.
const STEP_BEATS: f64 = 0.5;

pub(super) fn span(values: impl Iterator<Item = f32>) -> (f32, f32) {
    values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Maps `v` from the picture's own range to 0..1 (0.5 when the picture does not vary).
pub(super) fn rank(v: f32, (lo, hi): (f32, f32)) -> f32 {
    if hi - lo > 1e-6 {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// The lowest a bass note goes: E1, the open string of a bass guitar.
pub(super) const BASS_FLOOR: i32 = 28;
/// The highest a bass root goes (C3); a fifth or an octave above it may reach a little higher,
/// never above the chord's lowest note.
pub(super) const BASS_ROOT_CEILING: i32 = 48;
/// How wide the melody sings, in semitones: a singable tune keeps to about an octave.
const MELODY_SPAN: i32 = 12;
/// A calm picture's tune keeps to a sixth (folk melodies' median range is 9 semitones).
const CALM_SPAN: i32 = 9;
/// Edge density below which a picture counts as calm for its tune's span.
const CALM_EDGES: f32 = 0.05;

/// The melody's degrees of `t`: an octave (or all of Low..High where that is narrower) inside
/// the musician's Low and High Note, placed higher the lighter the picture (`shift`, -6..6).
fn melody_window(t: Tonality, s: &Settings, shift: i32, calm: bool) -> (i32, i32) {
    let (low, high) = (i32::from(s.low), i32::from(s.high));
    let width = MELODY_SPAN.min(high - low);
    let room = high - low - width;
    let base = low + (room as f32 * (shift + 6) as f32 / 12.0).round() as i32;
    let n = t.scale.intervals().len() as i32;
    let mut lo = t.degree_at_or_below(base);
    if t.pitch(lo) < base {
        lo += 1;
    }
    // The octave starts on the tonic or the dominant (the old authentic and plagal ranges), the
    // one nearest where lightness puts it inside Low..High: cadences then find their note
    // inside it, a step from the line.
    let fifth = (0..n).find(|&k| t.scale.intervals()[k as usize] == 7);
    let anchors = (lo - n..=lo + n).filter(|d| {
        let k = d.rem_euclid(n);
        (k == 0 || Some(k) == fifth) && t.pitch(*d) >= low && t.pitch(d + n) <= high
    });
    if let Some(anchor) = anchors.min_by_key(|d| (t.pitch(*d) - base).abs()) {
        lo = anchor;
    }
    // An octave from the lowest note (both ends the same note), where Low..High has room; a
    // calm picture's tune a sixth from it.
    let octave = lo + n;
    let hi = if calm {
        t.degree_at_or_below(t.pitch(lo) + CALM_SPAN.min(high - t.pitch(lo)))
    } else if t.pitch(octave) <= high {
        octave
    } else {
        t.degree_at_or_below(base + width)
    };
    (lo, hi.max(lo + 1))
}

/// The notes of `part` sounding at beat `t`: their indices in `notes` and their pitches.
fn sounding(notes: &[Note], part: Part, t: f64) -> impl Iterator<Item = (usize, i32)> + '_ {
    notes
        .iter()
        .enumerate()
        .filter(move |(_, n)| {
            n.part == part && n.start_beats <= t + 1e-6 && n.start_beats + n.length_beats > t + 1e-6
        })
        .map(|(i, n)| (i, i32::from(n.pitch)))
}

/// Parallel octaves and fifths between melody and bass on strong beats (the bar's two halves) hollow
/// the sound out: where the two move in the same direction into the same perfect interval, the
/// bass note struck on the second beat takes its chord's third instead (the chord in first
/// inversion), in the octave nearest it and still under the chord. Not on a phrase's last
/// chord (cadences stand on their roots) or the loop's last bass note.
fn avoid_parallels(notes: &mut [Note], ct: Tonality, chords: &[Chord], meter: Meter) {
    let last_bass = notes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.part == Part::Bass)
        .max_by(|a, b| a.1.start_beats.total_cmp(&b.1.start_beats))
        .map(|(i, _)| i);
    let mut previous: Option<(i32, i32)> = None;
    for (h, &chord) in chords.iter().enumerate() {
        let t = meter.half_start(h);
        let melody = sounding(notes, Part::Melody, t).map(|(_, p)| p).max();
        let bass = sounding(notes, Part::Bass, t).min_by_key(|&(_, p)| p);
        let (Some(m), Some((bi, b))) = (melody, bass) else {
            previous = None;
            continue;
        };
        let mut b = b;
        let struck_here = (notes[bi].start_beats - t).abs() < 1e-6;
        // (A phrase's last chord: the second half of every second bar.)
        let cadence = h % (2 * harmony::HALVES) == 2 * harmony::HALVES - 1;
        if let Some((m0, b0)) = previous {
            let interval = (m - b).rem_euclid(12);
            let parallel = interval == (m0 - b0).rem_euclid(12)
                && (interval == 0 || interval == 7)
                && m != m0
                && (m - m0).signum() == (b - b0).signum();
            if parallel && struck_here && !cadence && Some(bi) != last_bass {
                let third = chord.pcs(ct)[1];
                let lowest_chord = sounding(notes, Part::Harmony, t).map(|(_, p)| p).min();
                let ceiling = lowest_chord.map_or(BASS_ROOT_CEILING + 7, |p| p - 1);
                let candidates = [-12, 0, 12].map(|o| b - (b - third).rem_euclid(12) + o);
                if let Some(p) = candidates
                    .into_iter()
                    .filter(|&p| p >= BASS_FLOOR - 4 && p <= ceiling)
                    .min_by_key(|&p| (p - b).abs())
                {
                    notes[bi].pitch = p as u8;
                    b = p;
                }
            }
        }
        previous = Some((m, b));
    }
}

/// An arrangement: its notes, the melody's opening material (a piece's theme) and the name of
/// the progression family its chords follow.
pub(super) struct Arranged {
    pub notes: Vec<Note>,
    pub opening: Motif,
    pub progression: &'static str,
}

/// A borrowed or secondary chord brings a note from outside the key (the major V's leading tone
/// in a minor key, the borrowed iv's minor third, bVII's flat seventh): a melody note a semitone
/// from it, sounding with it, grates (a cross-relation), so it moves to the nearest note of its
/// scale that grates with nothing sounding.
/// The melody stays within Low and High Note (`range`).
fn avoid_cross_relations(
    notes: &mut [Note],
    t: Tonality,
    ct: Tonality,
    range: std::ops::RangeInclusive<i32>,
) {
    for i in 0..notes.len() {
        if notes[i].part != Part::Melody {
            continue;
        }
        let pcs: Vec<i32> = sounding(notes, Part::Harmony, notes[i].start_beats)
            .map(|(_, p)| p % 12)
            .collect();
        let m = i32::from(notes[i].pitch);
        let grates = pcs
            .iter()
            .any(|&h| !ct.contains(h as u8) && matches!((h - m).rem_euclid(12), 1 | 11));
        if !grates {
            continue;
        }
        // The nearest note of the scale that grates with nothing sounding, a chord tone rather
        // than not, and another pitch than the melody's notes either side (no drone).
        let neighbours: Vec<i32> = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|k| notes.get(k))
            .filter(|n| n.part == Part::Melody)
            .map(|n| i32::from(n.pitch))
            .collect();
        let cost = |p: i32| {
            let harsh = pcs
                .iter()
                .any(|&h| matches!((h - p).rem_euclid(12), 1 | 11));
            let fits = range.contains(&p) && t.contains(p as u8) && !harsh;
            fits.then(|| {
                (p - m).abs()
                    + if pcs.contains(&p.rem_euclid(12)) {
                        0
                    } else {
                        1
                    }
                    + if neighbours.contains(&p) { 6 } else { 0 }
            })
        };
        if let Some(p) = (1..=5)
            .flat_map(|d| [m - d, m + d])
            .filter_map(|p| cost(p).map(|c| (c, p)))
            .min()
            .map(|(_, p)| p)
        {
            notes[i].pitch = p as u8;
        }
    }
}

/// The arrangement of `f` in `style` and `meter`; `theme` (when given, a piece's) is the
/// melody's opening material instead of a motif from the picture.
pub(super) fn arrange_with(
    f: &Features,
    s: &Settings,
    t: Tonality,
    style: Style,
    meter: Meter,
    rng: &mut Rng,
    theme: Option<Motif>,
) -> Arranged {
    let bars = f.regions.len();
    let steps = bars * meter.eighths();
    let mood = super::mood(f);
    let shift = super::register_shift(f);
    let low = i32::from(s.low) + shift;
    // (A surprised face lets even a calm picture's tune span its octave: `seen`.)
    let calm = f.edge_density < CALM_EDGES && !seen::surprised(&f.cues);
    let harmony_lo = (low - 10).max(24);
    // The bass's roots lie in the octave from here (E1 to E2 at the lowest and highest).
    let bass_lo = (low - 24).clamp(BASS_FLOOR, BASS_FLOOR + 12);

    let contrasts = span(f.columns.iter().map(|c| c.contrast));

    // Chords, one or two a bar, with cadences (harmony.rs).
    let ct = chord_tonality(t);
    let progression = harmony::progression(f, s, ct, style);
    let chords: Vec<[i32; 3]> = progression.chords.iter().map(|c| c.pcs(ct)).collect();

    let mut notes = Vec::new();
    let note = |start: f64, len: f64, pitch: i32, velocity: f32, part: Part| Note {
        start_beats: start,
        length_beats: len,
        pitch: pitch.clamp(0, 127) as u8,
        velocity,
        part,
    };

    // Melody: a motif from the picture, developed into phrases with cadences (melody.rs).
    let edge = (f.edge_density / 0.12).clamp(0.0, 1.0);
    let activity = seen::activity(
        &f.cues,
        ((0.1 + 0.55 * s.density + 0.3 * edge + 0.2 * mood) * style.melody_activity())
            .clamp(0.05, 1.0),
    );
    // A calm picture's tune sings within a sixth where its climax still stands out (the loop's
    // highest note, once); otherwise, and for lively pictures, within an octave.
    let calm_tune = calm
        .then(|| {
            let mut attempt = rng.clone();
            let sixth = melody_window(t, s, shift, true);
            let tune = melody::melody(
                f,
                t,
                &chords,
                sixth,
                (activity, mood),
                meter,
                &mut attempt,
                theme.clone(),
            );
            melody::single_peak(&tune.0, meter).then_some((tune, attempt))
        })
        .flatten();
    let (tones, opening) = match calm_tune {
        Some((tune, attempt)) => {
            *rng = attempt;
            tune
        }
        None => {
            let octave = melody_window(t, s, shift, false);
            melody::melody(f, t, &chords, octave, (activity, mood), meter, rng, theme)
        }
    };
    for tone in tones {
        let c = f.columns[tone.step.min(steps - 1)];
        let velocity = 0.5 + 0.4 * rank(c.contrast, contrasts) + 0.1 * meter.weight(tone.step);
        notes.push(note(
            tone.step as f64 * STEP_BEATS,
            tone.len as f64 * STEP_BEATS * seen::articulation(&f.cues),
            t.pitch(tone.degree),
            velocity.min(1.0),
            Part::Melody,
        ));
    }
    // Harmony, bass and drums in the style's texture (texture.rs), in one of its variants.
    let texture = Texture {
        f,
        ct,
        chords: &progression.chords,
        harmony_lo,
        bass_lo,
        density: seen::texture_density(&f.cues, s.density),
        style,
        meter,
        variant: (rng.next_u64() % 3) as usize,
    };
    notes.extend(texture.parts());
    seen::balance(&mut notes, &f.cues);
    avoid_parallels(&mut notes, ct, &progression.chords, meter);
    avoid_cross_relations(&mut notes, t, ct, i32::from(s.low)..=i32::from(s.high));
    // The feel: swung off-beats move every part together (the style's swing unless the
    // musician sets one), then each part spreads as Humanise asks.
    feel::swing(&mut notes, super::swing(f, s, style), meter);
    feel::humanise(&mut notes, s.humanise, s.seed);
    Arranged {
        notes,
        opening,
        progression: progression.family,
    }
}
