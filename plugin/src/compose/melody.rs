//! Compose mode's melody: a one-bar motif taken from the picture, developed into two-bar phrases
//! that answer each other (antecedent ending open on the dominant, consequent closing on the
//! tonic), in a form from the picture (A A' B A''; patterned pictures repeat more literally,
//! varied ones develop more). Moves mostly by step, a leap is followed by a step back, strong beats
//! take chord tones, a phrase stays within an octave and ends on a longer note.

use super::arrange::{rank, span};
use super::theory::{Rng, Tonality};
use crate::analysis::Features;

/// Eighth-note steps per bar (the arrangement's grid).
pub const STEPS: usize = 8;
/// How strongly each eighth of a bar attracts a note.
pub const METRIC_WEIGHT: [f32; STEPS] = [1.0, 0.3, 0.6, 0.3, 0.85, 0.3, 0.6, 0.35];
/// Bars per phrase.
pub const PHRASE_BARS: usize = 2;

/// One melody note: its step from the loop start, its length in steps and its scale degree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    pub step: usize,
    pub len: usize,
    pub degree: i32,
}

/// A motif: onsets within a bar and the degree of each relative to the first.
#[derive(Clone, Debug, PartialEq)]
struct Motif {
    onsets: Vec<usize>,
    shape: Vec<i32>,
}

/// How alike two bar regions look (1 = the same): patterns score high, scenes lower.
fn likeness(f: &Features, a: usize, b: usize) -> f32 {
    let (ra, rb) = (&f.regions[a], &f.regions[b]);
    let d = (ra.lightness - rb.lightness).abs() / 0.08
        + (ra.chroma - rb.chroma).abs() / 0.03
        + (ra.edges - rb.edges).abs() / 0.02;
    (-d).exp()
}

/// The motif of bar `bar`: its rhythm from the metric weights and the bar's edges, its shape
/// from the heights of the edges at those steps (or an arch where the picture is flat).
fn motif(f: &Features, bar: usize, activity: f32, mood: f32, rng: &mut Rng) -> Motif {
    let cols = &f.columns[bar * STEPS..(bar + 1) * STEPS];
    let mut onsets = vec![0];
    for (i, c) in cols.iter().enumerate().skip(1) {
        let p = activity * (0.6 * METRIC_WEIGHT[i] + 0.6 * c.energy);
        if rng.unit() < p {
            onsets.push(i);
        }
    }
    if onsets.len() < 2 {
        onsets.push(4);
    }
    while onsets.len() > 6 {
        // Drop the metrically weakest onset (never the first).
        let weakest = (1..onsets.len())
            .min_by(|&a, &b| METRIC_WEIGHT[onsets[a]].total_cmp(&METRIC_WEIGHT[onsets[b]]))
            .unwrap_or(1);
        onsets.remove(weakest);
    }
    let heights = span(f.columns.iter().map(|c| c.height));
    let flat = heights.1 - heights.0 < 0.05;
    let rise = if mood + rng.unit() - 0.5 >= 0.0 {
        1
    } else {
        -1
    };
    let mut shape = vec![0];
    for k in 1..onsets.len() {
        let want = if flat {
            // An arch: away from the first note and back.
            let half = onsets.len() as i32 / 2;
            rise * (half - (k as i32 - half).abs()).max(0)
        } else {
            ((rank(cols[onsets[k]].height, heights) - rank(cols[0].height, heights)) * 4.0).round()
                as i32
        };
        let last = shape[k - 1];
        // Mostly seconds: a third now and then, repeated notes where the picture is level.
        let mut step = (want - last).clamp(-2, 2);
        if step.abs() == 2 && rng.unit() < 0.7 {
            step /= 2;
        }
        if step == 0 && rng.unit() < 0.6 {
            step = if rng.unit() < 0.5 { 1 } else { -1 };
        }
        shape.push(last + step);
    }
    // A motif that never moves is a drone, not a tune: give it the arch.
    if shape.iter().all(|&d| d == 0) {
        let half = onsets.len() as i32 / 2;
        for (k, d) in shape.iter_mut().enumerate() {
            *d = rise * (half - (k as i32 - half).abs()).max(0);
        }
    }
    Motif { onsets, shape }
}

/// The motif with its rhythm loosened for an answer: a note merged into its neighbour now and
/// then (never below two notes).
fn vary_rhythm(m: &Motif, rng: &mut Rng) -> Motif {
    let mut v = m.clone();
    if v.onsets.len() > 2 && rng.unit() < 0.6 {
        let k = 1 + (rng.unit() * (v.onsets.len() - 1) as f32) as usize % (v.onsets.len() - 1);
        v.onsets.remove(k);
        v.shape.remove(k);
    }
    v
}

/// The scale degree nearest `degree` whose pitch class is in `chord` (searching outwards).
fn nearest_chord_tone(t: Tonality, degree: i32, chord: [i32; 3]) -> i32 {
    (0..=3)
        .flat_map(|d| [degree - d, degree + d])
        .find(|&d| chord.contains(&t.pitch(d).rem_euclid(12)))
        .unwrap_or(degree)
}

/// The chord tone nearest `degree`, looking first in direction `dir` (+1 up, -1 down, 0 down).
fn chord_tone_towards(t: Tonality, degree: i32, chord: [i32; 3], dir: i32) -> i32 {
    let dir = if dir == 0 { -1 } else { dir };
    (0..=3)
        .flat_map(|d| [degree + dir * d, degree - dir * d])
        .find(|&d| chord.contains(&t.pitch(d).rem_euclid(12)))
        .unwrap_or(degree)
}

/// The nearest degree to `degree` that is one of `targets` modulo the octave of `t`.
fn nearest_of(t: Tonality, degree: i32, targets: &[i32]) -> i32 {
    let n = t.scale.intervals().len() as i32;
    (0..n)
        .flat_map(|d| [degree - d, degree + d])
        .find(|d| targets.contains(&d.rem_euclid(n)))
        .unwrap_or(degree)
}

/// What each phrase plays: 0 = the first motif, 1 = the contrasting one.
fn form(phrases: usize, contrast: bool) -> Vec<usize> {
    (0..phrases)
        .map(|p| if contrast && p % 4 == 2 { 1 } else { 0 })
        .collect()
}

/// The melody for a loop of `chords.len()` bars (`chords`: the pitch classes of each bar's
/// chord), between degrees `lo` and `hi` of `t`.
#[allow(clippy::too_many_arguments)]
pub fn melody(
    f: &Features,
    t: Tonality,
    chords: &[[i32; 3]],
    lo: i32,
    hi: i32,
    activity: f32,
    mood: f32,
    rng: &mut Rng,
) -> Vec<Tone> {
    let bars = chords.len();
    let n = t.scale.intervals().len() as i32;
    let phrase_bars = PHRASE_BARS.min(bars);
    let phrases = bars.div_ceil(phrase_bars);
    // The motif comes from the bar with the most edges; the contrast from the bar least like it.
    let energy = |b: usize| {
        f.columns[b * STEPS..(b + 1) * STEPS]
            .iter()
            .map(|c| c.energy)
            .sum::<f32>()
    };
    let source = (0..bars)
        .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
        .unwrap_or(0);
    let other = (0..bars)
        .min_by(|&a, &b| likeness(f, source, a).total_cmp(&likeness(f, source, b)))
        .unwrap_or(0);
    // How literally material returns: the picture's own self-similarity.
    let literal = if bars > 1 {
        (1..bars).map(|b| likeness(f, b - 1, b)).sum::<f32>() / (bars - 1) as f32
    } else {
        1.0
    };
    let motifs = [
        motif(f, source, activity, mood, rng),
        motif(f, other, activity, mood, rng),
    ];
    let contrast = literal < 0.6 && other != source;
    let roles = form(phrases, contrast);
    let heights = span(f.columns.iter().map(|c| c.height));
    let centre = (lo + hi) / 2;
    let reach = (hi - lo) / 2;

    let mut tones: Vec<Tone> = Vec::new();
    let mut first_start: [Option<i32>; 2] = [None, None];
    for (p, &role) in roles.iter().enumerate() {
        let bar0 = p * phrase_bars;
        if bar0 >= bars {
            break;
        }
        let closing = p % 2 == 1 || p + 1 == phrases;
        // Where the phrase starts: the picture's height over it, near the middle of the range,
        // a chord tone of its first bar; a return starts where its material started before.
        let start = match first_start[role] {
            Some(d) if rng.unit() < 0.5 + 0.5 * literal => nearest_chord_tone(t, d, chords[bar0]),
            _ => {
                let h = f.columns[bar0 * STEPS..(bar0 + 1) * STEPS]
                    .iter()
                    .map(|c| rank(c.height, heights))
                    .sum::<f32>()
                    / STEPS as f32;
                let mut d = centre + ((h - 0.5) * reach as f32).round() as i32;
                // From the previous phrase's last note, no further than a fourth.
                if let Some(end) = tones.last() {
                    d = end.degree + (d - end.degree).clamp(-3, 3);
                }
                nearest_chord_tone(t, d, chords[bar0])
            }
        };
        first_start[role].get_or_insert(start);
        let m = &motifs[role];
        let mut phrase: Vec<Tone> = Vec::new();
        for b in 0..phrase_bars {
            let bar = bar0 + b;
            if bar >= bars {
                break;
            }
            let last_bar = b + 1 == phrase_bars || bar + 1 == bars;
            let material = if b == 0 || rng.unit() < literal {
                m.clone()
            } else {
                vary_rhythm(m, rng)
            };
            // The answer bar moves the motif to its own chord (a sequence).
            let base = if b == 0 {
                start
            } else {
                nearest_chord_tone(
                    t,
                    start + if rng.unit() < 0.5 { 1 } else { -1 },
                    chords[bar],
                )
            };
            let count = if last_bar {
                // Leave room for the cadence: the phrase's last note falls on beat 3.
                material.onsets.iter().filter(|&&o| o < 4).count().max(1)
            } else {
                material.onsets.len()
            };
            for k in 0..count {
                let step = bar * STEPS + material.onsets[k];
                let mut degree = base + material.shape[k] - material.shape[0];
                if material.onsets[k] % 4 == 0 {
                    // Snapped onto a chord tone in the direction the line was going, so the
                    // motif's motion survives (not pulled back onto the note before).
                    let prev = phrase.last().or(tones.last()).map(|t| t.degree);
                    let dir = prev.map_or(0, |p| (degree - p).signum());
                    degree = chord_tone_towards(t, degree, chords[bar], dir);
                    // A chord tone a step from the previous note rather than a leap to one.
                    if let Some(prev) = prev {
                        let near = nearest_chord_tone(t, prev, chords[bar]);
                        if (degree - prev).abs() > 2 && (near - prev).abs() <= 2 {
                            degree = near;
                        }
                    }
                }
                phrase.push(Tone {
                    step,
                    len: 0,
                    degree,
                });
            }
            if last_bar {
                // The cadence: open on the dominant (degrees 1, 4 or 6 of a seven-note scale,
                // its fifth for others), closed on the tonic, a step or two from the last note.
                let previous = phrase.last().map_or(start, |t| t.degree);
                let targets: &[i32] = if closing {
                    &[0]
                } else if n == 7 {
                    &[4, 1, 6]
                } else {
                    &[n / 2 + 1]
                };
                let goal = nearest_of(t, previous, targets);
                let step = bar * STEPS + 4;
                if phrase.last().is_some_and(|t| t.step >= step) {
                    phrase.pop();
                }
                // Approach the cadence note by step: the note before it (or a passing note on the
                // off-beat before, where that note is on a strong beat) moves next to it.
                if let Some(before) = phrase.last_mut() {
                    let gap = before.degree - goal;
                    if gap.abs() > 1 {
                        if before.step % 4 != 0 {
                            before.degree = goal + gap.signum();
                        } else if before.step < step - 1 {
                            let passing = Tone {
                                step: step - 1,
                                len: 0,
                                degree: goal + gap.signum(),
                            };
                            phrase.push(passing);
                        }
                    }
                }
                phrase.push(Tone {
                    step,
                    len: 0,
                    degree: goal,
                });
            }
        }
        // Keep the phrase singable: within an octave, moved by octaves into the range.
        let (plo, phi) = phrase.iter().fold((i32::MAX, i32::MIN), |(a, b), t| {
            (a.min(t.degree), b.max(t.degree))
        });
        if phi - plo > n {
            let mid = (plo + phi) / 2;
            for t in &mut phrase {
                if t.degree > mid + n / 2 {
                    t.degree -= n;
                } else if t.degree < mid - n / 2 {
                    t.degree += n;
                }
            }
        }
        while phrase.iter().any(|t| t.degree > hi) && phrase.iter().all(|t| t.degree - n >= lo) {
            phrase.iter_mut().for_each(|t| t.degree -= n);
        }
        while phrase.iter().any(|t| t.degree < lo) && phrase.iter().all(|t| t.degree + n <= hi) {
            phrase.iter_mut().for_each(|t| t.degree += n);
        }
        for t in &mut phrase {
            t.degree = t.degree.clamp(lo, hi);
        }
        tones.extend(phrase);
    }
    // Lengths: to the next note, at most half a bar; a phrase's last note to the phrase's end.
    let total = bars * STEPS;
    for k in 0..tones.len() {
        let next = tones.get(k + 1).map_or(total, |t| t.step);
        let phrase_end = (tones[k].step / (phrase_bars * STEPS) + 1) * phrase_bars * STEPS;
        let cap = if next >= phrase_end {
            phrase_end.min(total) - tones[k].step
        } else {
            4
        };
        tones[k].len = (next - tones[k].step).min(cap).max(1);
    }
    tones
}
