//! Compose mode's harmony: which chord sounds on each half bar, and the bass line under it.
//!
//! - A progression family (progressions.rs) chosen by the style and the picture (its mood and
//!   how much it moves): an eight-bar period of two four-bar phrases, the first ending open
//!   (a half cadence on V in most families: at the loop's midpoint), the second closing on I.
//!   Shorter loops take the period's opening, its half cadence and its close; longer ones repeat
//!   it.
//! - Harmonic rhythm from the picture's energy (its edges, the Density setting and the bar's own
//!   edges): a busy bar that holds one chord takes a second on beat 3 that leads into the next
//!   bar's chord (the chord a fifth above it, or a third below the bar's own); calm bars hold one.
//! - A two-bar loop (one phrase): I and a chord from the picture's lightness, then V-I (IV-I in a
//!   dark picture) in the second bar, the tonic on beat 3.
//! - Bass: roots on the bar's strong beats, the chord's third (a first inversion) where that makes
//!   the line move by step, passing tones between chords a third apart and approach notes into
//!   the next chord where the bottom of the picture is busy; cadence chords stand on their roots,
//!   and the loop's last beat walks back to its first (the dominant under the closing tonic).

use super::arrange::{rank, span};
use super::progressions;
use super::style::Style;
use super::theory::{Scale, Tonality};
use super::Settings;
use crate::analysis::Features;
use crate::score::Meter;

/// Chords a bar can hold: one on beat 1 and one on beat 3.
pub const HALVES: usize = 2;
/// Degrees of the bar chords, darkest region first.
const CHORDS_DARK_TO_LIGHT: [i32; 6] = [5, 1, 2, 3, 4, 0];
/// Bars in a period: an antecedent and a consequent phrase of four bars.
const PERIOD_BARS: usize = 8;

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

/// A chord of the progression, on a degree of the chords' seven-note tonality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chord {
    /// The triad the scale builds on the degree.
    Diatonic(i32),
    /// A major triad on the degree's root: V in a minor key, a secondary dominant (II = V/V,
    /// III = V/vi).
    Major(i32),
    /// A minor triad on the degree's root: the minor iv a major key borrows.
    Minor(i32),
    /// A major triad this many semitones above the tonic (bVII, bVI, bIII: borrowed from the
    /// parallel minor where the key has none).
    On(i32),
}

impl Chord {
    pub const TONIC: Chord = Chord::Diatonic(0);

    /// Pitch classes: root, third, fifth.
    pub fn pcs(self, ct: Tonality) -> [i32; 3] {
        let triad_on =
            |root: i32, third: i32| [root, root + third, root + 7].map(|p| p.rem_euclid(12));
        match self {
            Chord::Diatonic(d) => triad(ct, d),
            Chord::Major(d) => triad_on(ct.pitch(d), 4),
            Chord::Minor(d) => triad_on(ct.pitch(d), 3),
            Chord::On(s) => triad_on(i32::from(ct.tonic) + s, 4),
        }
    }

    /// The scale degree the chord stands on (the one at or below its root where the root is
    /// not in the scale): for the bass's scale-step arithmetic.
    pub fn degree(self, ct: Tonality) -> i32 {
        match self {
            Chord::Diatonic(d) | Chord::Major(d) | Chord::Minor(d) => d,
            Chord::On(s) => ct.degree_at_or_below(i32::from(ct.tonic) + s.rem_euclid(12)),
        }
    }

    /// Its seventh's pitch class: the scale's over a diatonic chord, a minor seventh over the
    /// others (a secondary dominant's, a borrowed chord's).
    pub fn seventh(self, ct: Tonality) -> i32 {
        match self {
            Chord::Diatonic(d) => ct.pitch(d + 6).rem_euclid(12),
            _ => (self.pcs(ct)[0] + 10).rem_euclid(12),
        }
    }

    /// Whether its root is the tonic.
    pub fn is_tonic(self, ct: Tonality) -> bool {
        self.pcs(ct)[0] == i32::from(ct.tonic) % 12
    }

    /// This chord, or where the mode makes it diminished or augmented, a diatonic one a third
    /// below or above it (they share two notes): the one that is neither the tonic nor one of
    /// `avoid` (its neighbours) where there is such a one.
    pub fn consonant(self, ct: Tonality, avoid: &[Chord]) -> Chord {
        if is_consonant(self.pcs(ct)) {
            return self;
        }
        let d = self.degree(ct);
        let mut candidates = [d - 2, d + 2, d - 1, d + 1]
            .into_iter()
            .map(|d| Chord::Diatonic(d.rem_euclid(7)))
            .filter(|c| is_consonant(c.pcs(ct)));
        let first = candidates.clone().next();
        candidates
            .find(|c| !c.is_tonic(ct) && !avoid.contains(c))
            .or(first)
            .unwrap_or(self)
    }

    /// As a musician writes it: a Roman numeral (I, vi, bVII).
    #[cfg(test)]
    pub fn roman(self, ct: Tonality) -> String {
        let pcs = self.pcs(ct);
        super::measure::numeral(
            pcs[0] - i32::from(ct.tonic),
            (pcs[1] - pcs[0]).rem_euclid(12) == 3,
        )
    }
}

/// Where bar `b` of `bars` stands in its period.
struct Place {
    /// The last bar of a phrase: its half cadence or its close.
    phrase_end: bool,
    /// The bar before a closing bar.
    before_close: bool,
}

/// The bar of an eight-bar family each bar of a `bars`-bar loop plays: periods of up to eight
/// bars, each an antecedent (its opening bars, then bar 4, the half cadence) and a consequent
/// (its opening bars, then bars 7 and 8, the close).
fn period_bars(bars: usize) -> Vec<usize> {
    if bars == 2 {
        return vec![0, 7];
    }
    let mut out = Vec::with_capacity(bars);
    let mut left = bars;
    while left > 0 {
        let n = left.min(PERIOD_BARS);
        left -= n;
        let first = n.div_ceil(2);
        let second = n - first;
        // The antecedent: bars 1-3 spread over all but its last bar, which is bar 4.
        for i in 0..first {
            out.push(if i + 1 == first && (first > 1 || second > 0) {
                3
            } else {
                (i * 3 / (first - 1).max(1)).min(2)
            });
        }
        // The consequent: bars 5-6 spread over all but its last two, which are bars 7 and 8.
        for i in 0..second {
            out.push(if i + 1 == second {
                7
            } else if i + 2 == second {
                6
            } else {
                4 + (i * 2 / (second - 2).max(1)).min(1)
            });
        }
    }
    out
}

fn place(b: usize, bars: usize) -> Place {
    let slots = period_bars(bars);
    let slot = slots[b.min(slots.len() - 1)];
    Place {
        phrase_end: slot == 3 || slot == 7,
        before_close: slots.get(b + 1) == Some(&7),
    }
}

/// The progression of a loop: its family's name and the chord on each half bar (`HALVES` per
/// bar).
pub struct Progression {
    pub family: &'static str,
    pub chords: Vec<Chord>,
}

/// The chords of the loop: `HALVES` per bar, in the family `style` plays for this picture.
pub fn progression(f: &Features, s: &Settings, ct: Tonality, style: Style) -> Progression {
    let bars = f.regions.len();
    let edges = span(f.regions.iter().map(|r| r.edges));
    let lights = span(f.regions.iter().map(|r| r.lightness));
    let consonant = |d: i32| is_consonant(triad(ct, d));
    let motion = (f.edge_density / 0.12).clamp(0.0, 1.0);
    let energy = 0.4 * motion + 0.35 * s.density;
    let family = progressions::choose(style, super::mood(f), motion);

    if bars == 2 {
        return Progression {
            family: "Two-bar cadence",
            chords: two_bars(f, ct),
        };
    }
    let slots = period_bars(bars);
    let mut halves = vec![Chord::TONIC; bars * HALVES];
    // From the end backwards, so a leading chord knows where it leads.
    for b in (0..bars).rev() {
        let slot = slots[b];
        let next = halves
            .get((b + 1) * HALVES)
            .copied()
            .unwrap_or(Chord::TONIC);
        let before = match b {
            0 => Chord::TONIC,
            _ => family.bars[slots[b - 1]][1].chord(ct, &[]),
        };
        let cadential = matches!(slot, 3 | 6 | 7);
        let [a, z] = family.bars[slot].map(|t| {
            let c = t.chord(ct, &[before, next]);
            // (A minor key's half cadence and its close take the major V of harmonic minor.)
            if cadential && c == Chord::Diatonic(4) && ct.scale == Scale::Minor {
                Chord::Major(4)
            } else {
                c
            }
        });
        let busy = energy + 0.3 * rank(f.regions[b].edges, edges) > 0.6;
        let pair = if a == z && busy && !cadential && bars > 1 {
            // A second chord leading into the next: a fifth above it, or a third below this one.
            let (own, to) = (a.degree(ct), next.degree(ct));
            let lead = [to + 4, own + 5, to - 1]
                .into_iter()
                .map(|d| d.rem_euclid(7))
                .find(|&d| d != own && d != to && consonant(d))
                .map(Chord::Diatonic);
            [a, lead.unwrap_or(a)]
        } else if a == z && slot != 0 && slot != 4 && a.is_tonic(ct) && !cadential {
            // A returning tonic inside a phrase: in a dark region its relative (vi), which
            // keeps the line moving.
            if rank(f.regions[b].lightness, lights) < 0.25 && consonant(5) {
                [Chord::Diatonic(5), Chord::Diatonic(5)]
            } else {
                [a, z]
            }
        } else {
            [a, z]
        };
        halves[b * HALVES] = pair[0];
        halves[b * HALVES + 1] = pair[1];
    }
    Progression {
        family: family.name,
        chords: halves,
    }
}

/// A two-bar loop is one phrase: I and a chord the picture lights, then a full cadence inside
/// the second bar (V-I, or IV-I in a dark picture), resolving on beat 3.
fn two_bars(f: &Features, ct: Tonality) -> Vec<Chord> {
    let consonant = |d: i32| is_consonant(triad(ct, d));
    let light = ((f.lightness.mean - 0.25) / 0.5).clamp(0.0, 1.0);
    let mut i = ((light * 4.0).round() as usize).min(4);
    while !consonant(CHORDS_DARK_TO_LIGHT[i]) {
        i = (i + 1) % 5;
    }
    let pre = if (light_picture(f) || !consonant(3)) && consonant(4) {
        4
    } else {
        3
    };
    [0, CHORDS_DARK_TO_LIGHT[i], pre, 0]
        .map(Chord::Diatonic)
        .to_vec()
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

/// The chords of `chords` (one per half bar) as spans within bars: (first half bar, halves
/// long, chord).
pub fn spans(chords: &[Chord]) -> Vec<(usize, usize, Chord)> {
    let mut spans: Vec<(usize, usize, Chord)> = Vec::new();
    for (h, &c) in chords.iter().enumerate() {
        match spans.last_mut() {
            Some(last) if last.2 == c && h % HALVES != 0 => last.1 += 1,
            _ => spans.push((h, 1, c)),
        }
    }
    spans
}

/// A bass note: start beat from the loop start, length in beats, MIDI pitch, velocity.
pub type BassNote = (f64, f64, i32, f32);

/// The bass line under `chords` (one per half bar), from `lo` (or a fifth below, where
/// the line walks down) up about an octave and a half, in `meter`. `busy(b)`, 0..1: how much the
/// bottom of bar `b` moves; `second`: the beat of a calm bar's second note (in 4/4 2.0: beat 3).
/// A busy bar walks a note a beat; a middling one adds its last beat to the two.
pub fn bass(
    ct: Tonality,
    chords: &[Chord],
    lo: i32,
    (second, meter): (f64, Meter),
    busy: impl Fn(usize) -> f32,
) -> Vec<BassNote> {
    let bars = chords.len() / HALVES;
    let beats = meter.beat_times();
    let last_beat = beats.last().copied().unwrap_or(0.0);
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
    let spans = spans(chords);
    // Each span's bass: the root, or the third where that moves by step between its neighbours
    // (never on the loop's first chord or a cadence: the last two bars of each phrase stand on
    // roots).
    let mut roots: Vec<i32> = Vec::with_capacity(spans.len());
    let mut previous = None;
    for (k, &(h, _, c)) in spans.iter().enumerate() {
        let chord = c.pcs(ct);
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
                let next_root = near(next.pcs(ct)[0], Some(third));
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
        let start = meter.half_start(h);
        let end = meter.half_start(h + len);
        let bar_start = meter.half_start(bar * HALVES);
        let pattern: Vec<f64> = if b > 0.7 {
            beats.clone()
        } else if b > 0.45 || bar + 1 == bars {
            vec![0.0, second, last_beat]
        } else {
            vec![0.0, second]
        };
        // (Every chord's bass sounds where the chord starts.)
        let mut beats: Vec<f64> = pattern
            .iter()
            .map(|&p| bar_start + p)
            .filter(|&t| t > start + 1e-9 && t < end)
            .collect();
        beats.sort_by(f64::total_cmp);
        beats.dedup();
        beats.insert(0, start);
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
        let degrees = [0, 4, 5, 4, 1, 4, 0, 0].map(Chord::Diatonic);
        let line = bass(c, &degrees, 36, (2.0, Meter::COMMON), |_| 0.3);
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
        let degrees = [0, 0, 5, 5, 3, 3, 4, 4].map(Chord::Diatonic);
        let line = bass(c, &degrees, 36, (2.0, Meter::COMMON), |_| 0.3);
        let pcs: Vec<i32> = line.iter().map(|n| n.2.rem_euclid(12)).collect();
        assert_eq!(&pcs[..3], &[0, 11, 9], "{line:?}");
    }
}
