//! Compose mode's harmony: which chord sounds on each half bar, and the bass line under it.
//!
//! - One chord a bar from the bar's region (darker regions take vi, ii, iii, lighter ones IV, V,
//!   I); the loop starts on I, and so does every period that looks like the first.
//! - Harmonic rhythm from the picture's energy (its edges, the Density setting and the bar's own
//!   edges): busy bars take a second chord on beat 3 that leads into the next bar's chord (the
//!   chord a fifth above it, or a third below the bar's own), calm bars hold one chord.
//! - A two-bar loop (one phrase): I and a chord from the picture's lightness, then V-I (IV-I in a
//!   dark picture) in the second bar, the tonic on beat 3.
//! - Cadences: every antecedent phrase ends open on V (a half cadence; in a busy bar after the
//!   bar's own chord); every consequent closes on I, prepared in the bar before by V (authentic),
//!   IV (plagal), or both halves of a busier bar: ii-V or IV-V (ii-V-I, IV-V-I). A consequent that
//!   is not the loop's last may, in a dark region, close on vi instead (deceptive, V-vi) and so
//!   carry on into the next section.
//! - Bass: roots on the bar's strong beats, the chord's third (a first inversion) where that makes
//!   the line move by step, passing tones between chords a third apart and approach notes into
//!   the next chord where the bottom of the picture is busy; cadence chords stand on their roots,
//!   and the loop's last beat walks back to its first (the dominant under the closing tonic).

use super::arrange::{rank, span};
use super::melody::{span_likeness, PHRASE_BARS};
use super::theory::{Rng, Scale, Tonality};
use super::Settings;
use crate::analysis::Features;
use crate::score::BEATS_PER_BAR;

/// Chords a bar can hold: one on beat 1 and one on beat 3.
pub const HALVES: usize = 2;
/// Degrees of the bar chords, darkest region first.
const CHORDS_DARK_TO_LIGHT: [i32; 6] = [5, 1, 2, 3, 4, 0];

/// The seven-note scale whose triads harmonise `scale` (pentatonics borrow from their parents).
pub fn chord_tonality(t: Tonality) -> Tonality {
    let scale = match t.scale {
        Scale::MajorPentatonic | Scale::Chromatic => Scale::Major,
        Scale::MinorPentatonic => Scale::Minor,
        s => s,
    };
    Tonality { scale, ..t }
}

/// Pitch classes of the triad on `degree` of a seven-note tonality: root, third, fifth.
pub fn triad(t: Tonality, degree: i32) -> [i32; 3] {
    [0, 2, 4].map(|k| t.pitch(degree + k).rem_euclid(12))
}

/// A major or minor triad (a perfect fifth over the root), not a diminished or augmented one.
fn is_consonant(pcs: [i32; 3]) -> bool {
    (pcs[2] - pcs[0]).rem_euclid(12) == 7
}

/// Where bar `b` of `bars` stands in its phrase pair.
struct Place {
    /// The last bar of a phrase.
    phrase_end: bool,
    /// Its phrase closes (a consequent, or the loop's last phrase).
    closing: bool,
    /// The bar before a closing phrase's last bar.
    before_close: bool,
    /// The loop's last phrase.
    last_phrase: bool,
}

fn place(b: usize, bars: usize) -> Place {
    let phrase_bars = PHRASE_BARS.min(bars);
    let phrase = b / phrase_bars;
    let phrases = bars.div_ceil(phrase_bars);
    Place {
        phrase_end: (b + 1).is_multiple_of(phrase_bars) || b + 1 == bars,
        closing: phrase % 2 == 1 || b + 1 == bars,
        before_close: b + 1 < bars
            && (b + 2).is_multiple_of(phrase_bars)
            && phrase_bars > 1
            && (phrase % 2 == 1 || b + 2 == bars),
        last_phrase: phrase + 1 == phrases,
    }
}

/// The chord degree (of `ct`) on each half bar of the loop: `HALVES` per bar.
pub fn progression(f: &Features, s: &Settings, ct: Tonality, rng: &mut Rng) -> Vec<i32> {
    let bars = f.regions.len();
    let lights = span(f.regions.iter().map(|r| r.lightness));
    let edges = span(f.regions.iter().map(|r| r.edges));
    let consonant = |d: i32| is_consonant(triad(ct, d));
    let energy = 0.4 * (f.edge_density / 0.12).clamp(0.0, 1.0) + 0.35 * s.density;

    // First the bar chords, as the regions light them.
    let mut bar_chords: Vec<i32> = Vec::with_capacity(bars);
    for (b, region) in f.regions.iter().enumerate() {
        // A period opens on I where it looks like the first (its material returns there too).
        let period = 2 * PHRASE_BARS;
        let returns = b % period == 0
            && span_likeness(f, b..(b + period).min(bars), 0..period.min(bars)) >= 0.5;
        let degree = if b == 0 || returns {
            0
        } else {
            let mut i = ((rank(region.lightness, lights) * 5.0).round() as usize).min(5);
            if Some(&CHORDS_DARK_TO_LIGHT[i]) == bar_chords.last() {
                i = if i == 0 || (i < 5 && rng.unit() < 0.5) {
                    i + 1
                } else {
                    i - 1
                };
            }
            // Modes put a diminished triad on different degrees: step towards the light past it.
            while !consonant(CHORDS_DARK_TO_LIGHT[i]) {
                i = (i + 1) % CHORDS_DARK_TO_LIGHT.len();
            }
            CHORDS_DARK_TO_LIGHT[i]
        };
        bar_chords.push(degree);
    }

    // Then the cadences and the harmonic rhythm, from the end backwards so a leading chord knows
    // where it leads.
    let dominant = [4, 6, 1, 3].into_iter().find(|&d| consonant(d));
    let mut halves = vec![0; bars * HALVES];
    for b in (0..bars).rev() {
        let region = &f.regions[b];
        let p = place(b, bars);
        let bright = rank(region.lightness, lights) > 0.5;
        let busy = energy + 0.3 * rank(region.edges, edges) > 0.6;
        let own = bar_chords[b];
        let next = halves.get((b + 1) * HALVES).copied().unwrap_or(0);
        let pair: [i32; 2] = if bars == 2 {
            // A two-bar loop is one phrase: I and a chord the picture lights, then a full cadence
            // inside the second bar (V-I, or IV-I in a dark picture), resolving on beat 3.
            if b == 0 {
                let light = ((f.lightness.mean - 0.25) / 0.5).clamp(0.0, 1.0);
                let mut i = ((light * 4.0).round() as usize).min(4);
                while !consonant(CHORDS_DARK_TO_LIGHT[i]) {
                    i = (i + 1) % 5;
                }
                [0, CHORDS_DARK_TO_LIGHT[i]]
            } else {
                let pre = if (light_picture(f) || !consonant(3)) && consonant(4) {
                    4
                } else {
                    3
                };
                [pre, 0]
            }
        } else if b > 0 && p.phrase_end && p.closing {
            // A consequent's close: I, or vi after V where the region is dark (deceptive).
            let deceptive = !p.last_phrase
                && bars >= 8
                && rank(region.lightness, lights) < 0.3
                && consonant(5)
                && consonant(4);
            if deceptive {
                [5, 5]
            } else {
                [0, 0]
            }
        } else if b > 0 && p.phrase_end {
            // A half cadence: V (the first major or minor triad of V, VII, II, IV), in a busy bar
            // after the bar's own chord.
            let v = dominant.unwrap_or(own);
            if busy && own != v {
                [own, v]
            } else {
                [v, v]
            }
        } else if b > 0 && p.before_close {
            let previous = bar_chords[b - 1];
            let closes_on_vi = halves[(b + 1) * HALVES] == 5;
            if consonant(4) && (closes_on_vi || busy || rng.unit() < 0.3) {
                // Two chords: a predominant, then V (ii-V-I or IV-V-I; V-vi when deceptive).
                let pre = if !bright && consonant(1) { 1 } else { 3 };
                let pre = if consonant(pre) { pre } else { 1 };
                if consonant(pre) {
                    [pre, 4]
                } else {
                    [4, 4]
                }
            } else {
                // One chord: V (authentic) in a lighter region, IV (plagal) in a darker one; V is
                // not repeated straight after the half cadence before it.
                let order = if bright && previous != 4 {
                    [4, 3]
                } else {
                    [3, 4]
                };
                // (Lydian's IV is diminished: then V, even after V.)
                let d = order
                    .into_iter()
                    .find(|&d| consonant(d) && d != previous)
                    .or_else(|| order.into_iter().find(|&d| consonant(d)))
                    .unwrap_or(own);
                [d, d]
            }
        } else if busy {
            // A second chord leading into the next: a fifth above it, or a third below this one.
            let lead = [next + 4, own + 5, next - 1]
                .into_iter()
                .map(|d| d.rem_euclid(7))
                .find(|&d| d != own && d != next && consonant(d));
            [own, lead.unwrap_or(own)]
        } else {
            [own, own]
        };
        halves[b * HALVES] = pair[0];
        halves[b * HALVES + 1] = pair[1];
    }
    halves
}

/// A picture light enough for an authentic cadence where a dark one takes a plagal one.
fn light_picture(f: &Features) -> bool {
    super::mood(f) > -0.2
}

/// The voicing of `pcs` in `[lo, lo + 19]` closest to `previous` (or to the middle of the range).
pub fn voice(pcs: [i32; 3], lo: i32, previous: Option<[i32; 3]>) -> [i32; 3] {
    let centre = lo + 8;
    let mut best = [0; 3];
    let mut best_cost = i32::MAX;
    for inversion in 0..3 {
        for octave in -1..=2 {
            let mut v = [0; 3];
            let mut last = i32::MIN;
            for k in 0..3 {
                let pc = pcs[(inversion + k) % 3];
                let mut p = lo + (pc - lo).rem_euclid(12) + 12 * octave;
                while p <= last {
                    p += 12;
                }
                v[k] = p;
                last = p;
            }
            if v[0] < lo || v[2] > lo + 19 {
                continue;
            }
            let cost = match previous {
                Some(prev) => (0..3).map(|k| (v[k] - prev[k]).abs()).sum(),
                None => (v[1] - centre).abs(),
            };
            if cost < best_cost {
                best_cost = cost;
                best = v;
            }
        }
    }
    best
}

/// The chords of `degrees` (one per half bar) as spans within bars: (first half bar, halves
/// long, degree).
pub fn spans(degrees: &[i32]) -> Vec<(usize, usize, i32)> {
    let mut spans: Vec<(usize, usize, i32)> = Vec::new();
    for (h, &d) in degrees.iter().enumerate() {
        match spans.last_mut() {
            Some(last) if last.2 == d && h % HALVES != 0 => last.1 += 1,
            _ => spans.push((h, 1, d)),
        }
    }
    spans
}

/// A bass note: start beat from the loop start, length in beats, MIDI pitch, velocity.
pub type BassNote = (f64, f64, i32, f32);

/// The bass line under `degrees` (one chord per half bar), from `lo` (or a fifth below, where
/// the line walks down) up about an octave and a half. `busy(b)`, 0..1: how much the bottom of bar `b` moves.
pub fn bass(ct: Tonality, degrees: &[i32], lo: i32, busy: impl Fn(usize) -> f32) -> Vec<BassNote> {
    let bars = degrees.len() / HALVES;
    let half = BEATS_PER_BAR / HALVES as f64;
    // Scale-step distance between two pitches of `ct`.
    let steps = |a: i32, b: i32| (ct.degree_at_or_below(a) - ct.degree_at_or_below(b)).abs();
    // The pitch of pitch class `pc` nearest `previous` within the bass's range (down to a fifth
    // below `lo`, never below E1 unless `lo` is).
    let floor = (lo - 7).max(lo.min(28));
    // (Never above C3 or an octave over `lo`: the line must not climb away from the cellar.)
    let ceiling = (lo + 12)
        .min(super::arrange::BASS_ROOT_CEILING)
        .max(floor + 12);
    let near = |pc: i32, previous: Option<i32>| {
        let first = lo + (pc - lo).rem_euclid(12);
        match previous {
            Some(p) => [first - 12, first, first + 12]
                .into_iter()
                .filter(|&c| c >= floor && c <= ceiling)
                .min_by_key(|&c| (c - p).abs())
                .unwrap_or(first),
            None if first > ceiling => first - 12,
            None => first,
        }
    };
    let spans = spans(degrees);
    // Each span's bass: the root, or the third where that moves by step between its neighbours
    // (never on the loop's first chord or a cadence: the last two bars of each phrase stand on
    // roots).
    let mut roots: Vec<i32> = Vec::with_capacity(spans.len());
    let mut previous = None;
    for (k, &(h, _, d)) in spans.iter().enumerate() {
        let chord = triad(ct, d);
        let root = near(chord[0], previous);
        let bar = h / HALVES;
        // The chord a cadence rests on or comes from stands on its root.
        let cadential = {
            let p = place(bar, bars);
            let last_in_bar = spans.get(k + 1).is_none_or(|s| s.0 / HALVES != bar);
            p.phrase_end || (p.before_close && last_in_bar)
        };
        let pitch = match (previous, spans.get(k + 1)) {
            (Some(prev), Some(&(_, _, next))) if k > 0 && !cadential => {
                let third = near(chord[1], Some(prev));
                let next_root = near(triad(ct, next)[0], Some(third));
                let cost = |p: i32| steps(p, prev) + steps(p, next_root);
                if steps(third, prev) <= 1 && cost(third) + 1 < cost(root) {
                    third
                } else {
                    root
                }
            }
            _ => root,
        };
        roots.push(pitch);
        previous = Some(pitch);
    }
    // The loop comes round: its last chord's bass in the octave nearest the first.
    if let [first, .., last] = roots.as_mut_slice() {
        *last = near(last.rem_euclid(12), Some(*first));
    }

    let mut notes = Vec::new();
    for (k, &(h, len, _)) in spans.iter().enumerate() {
        let bar = h / HALVES;
        let b = busy(bar);
        let start = h as f64 * half;
        let end = start + len as f64 * half;
        let bar_start = bar as f64 * BEATS_PER_BAR;
        let pattern: &[f64] = if b > 0.7 {
            &[0.0, 1.0, 2.0, 3.0]
        } else if b > 0.45 || bar + 1 == bars {
            &[0.0, 2.0, 3.0]
        } else {
            &[0.0, 2.0]
        };
        let beats: Vec<f64> = pattern
            .iter()
            .map(|&p| bar_start + p)
            .filter(|&t| t >= start && t < end)
            .collect();
        let here = roots[k];
        let (next, wraps) = match roots.get(k + 1) {
            Some(&n) => (n, false),
            // (Back to where the line started, so the loop comes round within a fifth.)
            None => (roots[0], true),
        };
        for (i, &t) in beats.iter().enumerate() {
            let until = beats.get(i + 1).copied().unwrap_or(end);
            let last = i + 1 == beats.len() && i > 0;
            let mut pitch = here;
            if last && wraps {
                // Back to the top of the loop through its dominant, a fifth below the tonic.
                let d = ct.degree_at_or_below(next);
                pitch = ct.pitch(d - 3);
                if pitch < floor {
                    pitch += 12;
                }
            } else if last && steps(here, next) == 2 {
                // A passing tone between chords a third apart.
                let d = ct.degree_at_or_below(here);
                pitch = ct.pitch(if next > here { d + 1 } else { d - 1 });
            } else if last && b > 0.7 && steps(here, next) > 2 {
                // Approach the next chord's bass by a scale step from below or above.
                let d = ct.degree_at_or_below(next);
                pitch = if next > here {
                    ct.pitch(d - 1)
                } else {
                    ct.pitch(d + 1)
                };
            }
            let velocity = if (t - bar_start).abs() < 1e-9 {
                0.85
            } else {
                0.7
            };
            notes.push((t, (until - t) * 0.9, pitch, velocity));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voicings_move_little_between_chords() {
        let c = Tonality {
            tonic: 0,
            scale: Scale::Major,
        };
        let i = voice(triad(c, 0), 50, None);
        let iv = voice(triad(c, 3), 50, Some(i));
        let moved: i32 = (0..3).map(|k| (iv[k] - i[k]).abs()).sum();
        assert!(moved <= 4, "{i:?} -> {iv:?}");
        assert!(iv.iter().all(|p| [5, 9, 0].contains(&p.rem_euclid(12))));
    }

    #[test]
    fn the_bass_takes_inversions_and_passing_tones_to_move_by_step() {
        let c = Tonality {
            tonic: 0,
            scale: Scale::Major,
        };
        // I V | vi V | ii V | I I: V in the first bar stands on its third and ii on its third
        // (ii6), so the bass walks C-B-A-G-F-G-C; the cadences' Vs stand on their roots.
        let degrees = [0, 4, 5, 4, 1, 4, 0, 0];
        let line = bass(c, &degrees, 36, |_| 0.3);
        let on = |beat: f64| {
            line.iter()
                .find(|n| n.0 == beat)
                .map(|n| n.2.rem_euclid(12))
        };
        let walk: Vec<Option<i32>> = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
            .into_iter()
            .map(on)
            .collect();
        let expected = [0, 11, 9, 7, 5, 7, 0].map(Some);
        assert_eq!(walk, expected, "{line:?}");
        // Every move of the line is at most a fourth, and the loop walks back through G.
        assert!(
            line.windows(2).all(|w| (w[1].2 - w[0].2).abs() <= 5),
            "{line:?}"
        );
        assert_eq!(line.last().map(|n| n.2.rem_euclid(12)), Some(7));
        // I | vi | IV | V, a chord a bar: the I-vi third is filled by a passing B on beat 3.
        let degrees = [0, 0, 5, 5, 3, 3, 4, 4];
        let line = bass(c, &degrees, 36, |_| 0.3);
        let pcs: Vec<i32> = line.iter().map(|n| n.2.rem_euclid(12)).collect();
        assert_eq!(&pcs[..3], &[0, 11, 9], "{line:?}");
    }
}
