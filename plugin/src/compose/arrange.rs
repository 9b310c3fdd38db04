//! Compose mode: a short arrangement that belongs to its picture and is musical first.
//!
//! - Time runs left to right; the melody grid is eighth notes, phrases are two bars.
//! - Melody (melody.rs): a one-bar motif from the picture's busiest bar (rhythm from its edges,
//!   shape from the height of its edges), developed into two-bar phrases: the answer bar moves it
//!   to its own chord, looser where the picture varies; antecedent phrases end open on the
//!   dominant, consequent ones close on the tonic; A A' B A'' where the picture contrasts, more
//!   literal repetition where its bars look alike. Mostly steps, chord tones on strong beats.
//! - Register: the whole arrangement sits higher the lighter the picture (Ward et al. 2006).
//! - Rhythm: how likely a step is to sound grows with the Density setting, the picture's edge
//!   density, its emotional brightness (lighter, saturated, warm = livelier) and the slice's own
//!   edges; downbeats are favoured.
//! - Chords: one diatonic triad per bar from the bar's region (darker regions take vi, ii, iii,
//!   lighter ones IV, V, I); the loop starts on I, every antecedent phrase ends on V (a half
//!   cadence) and every consequent on I, after V (authentic, lighter regions) or IV (plagal). Voiced in three parts with the smallest movement from
//!   the previous chord.
//! - Bass: the chord root, half notes, filling in quarter notes and an approach note where the
//!   bottom of the region is busy or Density is high.
//! - Velocity follows local contrast.

use super::melody::{self, METRIC_WEIGHT, PHRASE_BARS};
use super::theory::{Rng, Scale, Tonality};
use super::Settings;
use crate::analysis::Features;
use crate::score::{Note, Part, BEATS_PER_BAR};

pub const STEPS_PER_BEAT: usize = 2;
pub const STEPS_PER_BAR: usize = STEPS_PER_BEAT * BEATS_PER_BAR as usize;
const STEP_BEATS: f64 = 1.0 / STEPS_PER_BEAT as f64;
/// Degrees of the bar chords, darkest region first.
const CHORDS_DARK_TO_LIGHT: [i32; 6] = [5, 1, 2, 3, 4, 0];

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

/// The seven-note scale whose triads harmonise `scale` (pentatonics borrow from their parents).
fn chord_tonality(t: Tonality) -> Tonality {
    let scale = match t.scale {
        Scale::MajorPentatonic | Scale::Chromatic => Scale::Major,
        Scale::MinorPentatonic => Scale::Minor,
        s => s,
    };
    Tonality { scale, ..t }
}

/// Pitch classes of the triad on `degree` of a seven-note tonality.
fn triad(t: Tonality, degree: i32) -> [i32; 3] {
    [0, 2, 4].map(|k| t.pitch(degree + k).rem_euclid(12))
}

/// A major or minor triad (a perfect fifth over the root), not a diminished or augmented one.
fn is_consonant(pcs: [i32; 3]) -> bool {
    (pcs[2] - pcs[0]).rem_euclid(12) == 7
}

/// The voicing of `pcs` in `[lo, lo + 19]` closest to `previous` (or to the middle of the range).
fn voice(pcs: [i32; 3], lo: i32, previous: Option<[i32; 3]>) -> [i32; 3] {
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

pub fn arrange(f: &Features, s: &Settings, t: Tonality, rng: &mut Rng) -> Vec<Note> {
    let bars = f.regions.len();
    let steps = bars * STEPS_PER_BAR;
    let mood = super::mood(f);
    let shift = super::register_shift(f);
    let (low, high) = (i32::from(s.low) + shift, i32::from(s.high) + shift);
    let (deg_lo, deg_hi) = (t.degree_at_or_below(low) + 1, t.degree_at_or_below(high));
    let harmony_lo = (low - 10).max(24);
    let bass_lo = (low - 24).max(12);

    let contrasts = span(f.columns.iter().map(|c| c.contrast));
    let lights = span(f.regions.iter().map(|r| r.lightness));
    let lows = span(f.regions.iter().map(|r| r.low_edges));

    // Chords, one per bar.
    let ct = chord_tonality(t);
    let mut chord_degrees = Vec::with_capacity(bars);
    for (b, region) in f.regions.iter().enumerate() {
        let degree = if b == 0 {
            0
        } else {
            let i = (rank(region.lightness, lights) * 5.0).round() as usize;
            let mut i = i.min(5);
            if Some(&CHORDS_DARK_TO_LIGHT[i]) == chord_degrees.last() {
                i = if i == 0 || (i < 5 && rng.unit() < 0.5) {
                    i + 1
                } else {
                    i - 1
                };
            }
            // Modes put a diminished triad on different degrees: step towards the light past it.
            while !is_consonant(triad(ct, CHORDS_DARK_TO_LIGHT[i])) {
                i = (i + 1) % CHORDS_DARK_TO_LIGHT.len();
            }
            CHORDS_DARK_TO_LIGHT[i]
        };
        // Cadences: an antecedent phrase ends open on V, a consequent (and the loop) on I.
        let phrase_bars = PHRASE_BARS.min(bars);
        let phrase = b / phrase_bars;
        let phrase_end = (b + 1) % phrase_bars == 0 || b + 1 == bars;
        let closing = phrase % 2 == 1 || b + 1 == bars;
        // (Where the mode's V is diminished, as in Phrygian and Locrian, the half cadence rests
        // on the first major or minor triad of VII, II, IV.)
        // The bar before a closing I prepares it, as the picture lights it: a lighter region
        // takes V (an authentic cadence, V-I), a darker one IV (plagal, IV-I); V is not repeated
        // after the half cadence before it.
        let before_close = b + 1 < bars
            && (b + 2) % phrase_bars == 0
            && phrase_bars > 1
            && (phrase % 2 == 1 || b + 2 == bars);
        let bright = rank(region.lightness, lights) > 0.5;
        let degree = match (phrase_end && b > 0, closing) {
            (true, true) => 0,
            (true, false) => [4, 6, 1, 3]
                .into_iter()
                .find(|&d| is_consonant(triad(ct, d)))
                .unwrap_or(degree),
            _ if before_close && b > 0 => {
                let previous = chord_degrees.last().copied();
                let order = if bright && previous != Some(4) {
                    [4, 3]
                } else {
                    [3, 4]
                };
                // (Lydian's IV is diminished: then V, even after V.)
                order
                    .into_iter()
                    .find(|&d| is_consonant(triad(ct, d)) && Some(d) != previous)
                    .or_else(|| order.into_iter().find(|&d| is_consonant(triad(ct, d))))
                    .unwrap_or(degree)
            }
            _ => degree,
        };
        chord_degrees.push(degree);
    }
    let chords: Vec<[i32; 3]> = chord_degrees.iter().map(|&d| triad(ct, d)).collect();

    let mut notes = Vec::new();
    let note = |start: f64, len: f64, pitch: i32, velocity: f32, part: Part| Note {
        start_beats: start,
        length_beats: len,
        pitch: pitch.clamp(0, 127) as u8,
        velocity,
        part,
    };

    // Harmony and bass.
    let mut voicing = None;
    for (b, chord) in chords.iter().enumerate() {
        let bar = b as f64 * BEATS_PER_BAR;
        let v = voice(*chord, harmony_lo, voicing);
        voicing = Some(v);
        let vel = 0.4 + 0.2 * f.regions[b].chroma.min(0.2) / 0.2;
        let halves = if s.density > 0.6 { 2 } else { 1 };
        for h in 0..halves {
            let len = BEATS_PER_BAR / halves as f64;
            for p in v {
                notes.push(note(bar + h as f64 * len, len - 0.1, p, vel, Part::Harmony));
            }
        }
        let root = bass_lo + (chord[0] - bass_lo).rem_euclid(12);
        let busy = rank(f.regions[b].low_edges, lows) * 0.5 + s.density * 0.5;
        let pattern: &[f64] = if busy > 0.7 {
            &[0.0, 1.0, 2.0, 3.0]
        } else if busy > 0.45 {
            &[0.0, 2.0, 3.0]
        } else {
            &[0.0, 2.0]
        };
        for (k, &beat) in pattern.iter().enumerate() {
            let next = pattern.get(k + 1).copied().unwrap_or(BEATS_PER_BAR);
            let mut pitch = root;
            if busy > 0.7 && k == pattern.len() - 1 {
                // Approach the next bar's root by a scale step from below or above.
                let next_root = chords[(b + 1) % bars][0];
                let target = bass_lo + (next_root - bass_lo).rem_euclid(12);
                let d = ct.degree_at_or_below(target);
                pitch = if target > root {
                    ct.pitch(d - 1)
                } else {
                    ct.pitch(d + 1)
                };
            }
            let vel = if beat == 0.0 { 0.85 } else { 0.7 };
            notes.push(note(
                bar + beat,
                (next - beat) * 0.9,
                pitch,
                vel,
                Part::Bass,
            ));
        }
    }

    // Melody: a motif from the picture, developed into phrases with cadences (melody.rs).
    let edge = (f.edge_density / 0.12).clamp(0.0, 1.0);
    let activity = (0.1 + 0.55 * s.density + 0.3 * edge + 0.2 * mood).clamp(0.05, 1.0);
    for tone in melody::melody(f, t, &chords, deg_lo, deg_hi, activity, mood, rng) {
        let c = f.columns[tone.step.min(steps - 1)];
        let velocity = 0.5
            + 0.4 * rank(c.contrast, contrasts)
            + 0.1 * METRIC_WEIGHT[tone.step % STEPS_PER_BAR];
        notes.push(note(
            tone.step as f64 * STEP_BEATS,
            tone.len as f64 * STEP_BEATS * 0.92,
            t.pitch(tone.degree),
            velocity.min(1.0),
            Part::Melody,
        ));
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
}
