//! Compose mode's melody: one-bar motifs taken from the picture, developed into two-bar phrases
//! that answer each other, each ending on a tone of the chord under it (open on the half
//! cadence's V, closed on the tonic where the harmony closes on I).
//!
//! - Form from the picture's horizontal structure: the loop is cut into units (two-bar phrases up
//!   to 8 bars, four-bar sections beyond); a unit that looks like an earlier one (lightness,
//!   colour, edges) plays its material again, one unlike any plays new material from its own
//!   busiest bar (up to two motifs in 8 bars, three beyond), and the last unit returns to the
//!   first's (A A' B A'', A A B A, A B A' C A'' ...).
//! - Development: where the picture is not a pattern, material that returns mid-loop comes back
//!   inverted (its intervals upside down) or, in calmer regions, augmented (twice as slow);
//!   patterns (tiles, bricks, stripes) repeat literally.
//! - Moves mostly by step, a leap is followed by a step back, strong beats take chord tones, a
//!   phrase stays within an octave and ends on a longer note; the highest note sounds once, in
//!   the phrase two thirds through; the loop's last bar leads back to its first note by step.

use super::arrange::{rank, span};
use super::harmony::HALVES;
use super::theory::{Rng, Tonality};
use crate::analysis::Features;
use crate::score::Meter;

/// Bars per phrase.
pub const PHRASE_BARS: usize = 2;

/// One melody note: its step from the loop start, its length in steps and its scale degree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    pub step: usize,
    pub len: usize,
    pub degree: i32,
}

/// A motif: onsets within a bar (or two, augmented) and the degree of each relative to the first.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Motif {
    pub onsets: Vec<usize>,
    pub shape: Vec<i32>,
}

/// How alike two spans of bars look, by their mean lightness, colour and edges.
pub(super) fn span_likeness(
    f: &Features,
    a: std::ops::Range<usize>,
    b: std::ops::Range<usize>,
) -> f32 {
    let mean = |r: &std::ops::Range<usize>, v: &dyn Fn(&crate::analysis::Region) -> f32| {
        f.regions[r.clone()].iter().map(v).sum::<f32>() / r.len().max(1) as f32
    };
    let d = (mean(&a, &|r| r.lightness) - mean(&b, &|r| r.lightness)).abs() / 0.08
        + (mean(&a, &|r| r.chroma) - mean(&b, &|r| r.chroma)).abs() / 0.03
        + {
            // Edges relative to how busy the two are (a busy picture's bars differ more).
            let (ea, eb) = (mean(&a, &|r| r.edges), mean(&b, &|r| r.edges));
            (ea - eb).abs() / (0.02 + 0.25 * ea.max(eb))
        };
    (-d).exp()
}

/// How much the picture repeats itself from left to right, 0..1: 1 for a pattern (tiles,
/// bricks, stripes, a grid) or a picture that does not change, near 0 for a scene. The strongest
/// periodicity of its columns' lightness and edges: the autocorrelation's highest peak after its
/// first zero crossing (a smooth trend, which never crosses, is not a pattern).
pub fn repetition(f: &Features) -> f32 {
    let series: [Vec<f32>; 2] = [
        f.columns.iter().map(|c| c.lightness).collect(),
        f.columns.iter().map(|c| c.energy).collect(),
    ];
    let mut strongest: f32 = 0.0;
    let mut flat = true;
    for x in &series {
        let n = x.len();
        let mean = x.iter().sum::<f32>() / n.max(1) as f32;
        let d: Vec<f32> = x.iter().map(|v| v - mean).collect();
        let var: f32 = d.iter().map(|v| v * v).sum();
        if var / (n.max(1) as f32) < 1e-4 {
            continue;
        }
        flat = false;
        let r = |lag: usize| (0..n - lag).map(|i| d[i] * d[i + lag]).sum::<f32>() / var;
        if let Some(zero) = (1..n / 2).find(|&lag| r(lag) < 0.0) {
            let peak = (zero..=n / 2).map(r).fold(0.0, f32::max);
            strongest = strongest.max(peak);
        }
    }
    if flat {
        1.0
    } else {
        ((strongest - 0.2) / 0.5).clamp(0.0, 1.0)
    }
}

/// The motif of bar `bar`: its rhythm from the metric weights and the bar's edges, its shape
/// from the heights of the edges at those steps (or an arch where the picture is flat).
fn motif(
    f: &Features,
    bar: usize,
    (activity, mood): (f32, f32),
    meter: Meter,
    rng: &mut Rng,
) -> Motif {
    let steps = meter.eighths();
    let cols = &f.columns[bar * steps..(bar + 1) * steps];
    let mut onsets = vec![0];
    for (i, c) in cols.iter().enumerate().skip(1) {
        let p = activity * (0.6 * meter.weight(i) + 0.6 * c.energy);
        if rng.unit() < p {
            onsets.push(i);
        }
    }
    if onsets.len() < 2 {
        onsets.push(meter.halves_at());
    }
    while onsets.len() > 5 {
        // Drop the metrically weakest onset (never the first).
        let weakest = (1..onsets.len())
            .min_by(|&a, &b| meter.weight(onsets[a]).total_cmp(&meter.weight(onsets[b])))
            .unwrap_or(1);
        onsets.remove(weakest);
    }
    let heights = span(f.columns.iter().map(|c| c.height));
    let flat = heights.1 - heights.0 < 0.05;
    // (Brighter pictures lean upwards; every picture can go either way with another Variation.)
    let rise = if rng.unit() < 0.5 + 0.4 * mood.clamp(-1.0, 1.0) {
        1
    } else {
        -1
    };
    // A surprised face (`seen`): leaps up to a fourth, kept more often, and a wider arch.
    let (widest, arch, leaps) = if super::seen::surprised(&f.cues) {
        (3, 2, f.cues.surprise.clamp(0.0, 1.0))
    } else {
        (2, 1, 0.0)
    };
    let mut shape = vec![0];
    for k in 1..onsets.len() {
        let want = if flat {
            // An arch: away from the first note and back.
            let half = onsets.len() as i32 / 2;
            arch * rise * (half - (k as i32 - half).abs()).max(0)
        } else {
            ((rank(cols[onsets[k]].height, heights) - rank(cols[0].height, heights)) * 4.0).round()
                as i32
        };
        let last = shape[k - 1];
        // Mostly seconds: a third now and then, repeated notes where the picture is level.
        let mut step = (want - last).clamp(-widest, widest);
        if step.abs() >= 2 && rng.unit() < 0.7 * (1.0 - leaps) {
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
pub(super) fn vary_rhythm(m: &Motif, rng: &mut Rng) -> Motif {
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

/// How a unit plays its material.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Development {
    /// As it came (the answer bar still moves it to its own chord).
    Plain,
    /// Intervals upside down.
    Inverted,
    /// Twice as slow: the motif's bar spread over the phrase's two bars.
    Augmented,
}

/// What each phrase plays: the material (an index into the motifs) and how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Plan {
    pub material: usize,
    pub development: Development,
}

/// The loop's form from the picture's horizontal structure: one `Plan` per phrase, and the bar
/// each material's motif comes from.
pub(super) fn form(
    f: &Features,
    phrases: usize,
    phrase_bars: usize,
    literal: f32,
    rng: &mut Rng,
) -> (Vec<Plan>, Vec<usize>) {
    let bars = f.regions.len();
    // (Eighths per bar: the picture is read one column per eighth.)
    let steps = f.columns.len() / bars.max(1);
    // Units: periods of two phrases (antecedent and consequent), which state the same material.
    let per_unit = 2;
    let units = phrases.div_ceil(per_unit);
    let unit_bars = |u: usize| {
        let first = u * per_unit * phrase_bars;
        first..((u + 1) * per_unit * phrase_bars).min(bars)
    };
    let max_materials = if bars > 8 { 3 } else { 2 };
    let mut labels: Vec<usize> = Vec::with_capacity(units);
    let mut sources: Vec<usize> = Vec::new();
    let energy = |b: usize| {
        f.columns[b * steps..(b + 1) * steps]
            .iter()
            .map(|c| c.energy)
            .sum::<f32>()
    };
    let busiest = |r: std::ops::Range<usize>| {
        r.clone()
            .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
            .unwrap_or(r.start)
    };
    for u in 0..units {
        let like = |a: usize| span_likeness(f, unit_bars(u), unit_bars(a));
        let best = (0..u).max_by(|&a, &b| like(a).total_cmp(&like(b)));
        let label = match best {
            None => 0,
            Some(a) if like(a) >= 0.5 || sources.len() >= max_materials => labels[a],
            Some(_) => sources.len(),
        };
        if label == sources.len() {
            // The first period's motif from the loop's busiest bar; a new one from its own.
            sources.push(if u == 0 {
                busiest(0..bars)
            } else {
                busiest(unit_bars(u))
            });
        }
        labels.push(label);
    }
    let edges = span(f.regions.iter().map(|r| r.edges));
    let mut seen = vec![false; sources.len()];
    let mut plans = Vec::with_capacity(phrases);
    for (u, &label) in labels.iter().enumerate() {
        // Material that returns is developed where the picture is not a pattern: inverted, or
        // augmented where the period is calmer than the picture's busiest bars. Developed is the
        // consequent, or, in the loop's last period, the antecedent (the loop closes on the
        // material as first heard).
        let returning = std::mem::replace(&mut seen[label], true);
        let calm = unit_bars(u)
            .map(|b| rank(f.regions[b].edges, edges))
            .sum::<f32>()
            / (unit_bars(u).len().max(1) as f32)
            < 0.4;
        let development = if !returning || literal >= 0.6 || rng.unit() < literal {
            Development::Plain
        } else if calm {
            Development::Augmented
        } else {
            Development::Inverted
        };
        let developed_phrase = if u + 1 == units { 0 } else { 1 };
        for k in 0..per_unit {
            let p = u * per_unit + k;
            if p >= phrases {
                break;
            }
            plans.push(Plan {
                // Contrast, then return: the loop's last phrase plays the first material.
                material: if p + 1 == phrases && units > 1 {
                    0
                } else {
                    label
                },
                development: if k == developed_phrase {
                    development
                } else {
                    Development::Plain
                },
            });
        }
    }
    (plans, sources)
}

/// `m` for a phrase's bar `b` (0 or 1) developed as `d`: inverted, or augmented across the two
/// bars (the motif's first half in bar 0, its second in bar 1). `None`: nothing of it in this bar.
pub(super) fn developed(m: &Motif, d: Development, b: usize, meter: Meter) -> Option<Motif> {
    let steps = meter.eighths();
    match d {
        Development::Plain => Some(m.clone()),
        Development::Inverted => Some(Motif {
            onsets: m.onsets.clone(),
            shape: m.shape.iter().map(|s| -s).collect(),
        }),
        Development::Augmented => {
            let (onsets, shape): (Vec<usize>, Vec<i32>) = m
                .onsets
                .iter()
                .zip(&m.shape)
                .filter(|(o, _)| (**o * 2) / steps == b)
                .map(|(o, s)| (o * 2 - b * steps, *s))
                .unzip();
            (!onsets.is_empty()).then_some(Motif { onsets, shape })
        }
    }
}

/// The melody for a loop of `chords.len() / HALVES` bars (`chords`: the pitch classes of the
/// chord on each half bar), between degrees `lo` and `hi` of `t`. `theme`, when given, is the
/// opening material (a piece's theme returning); the opening material used comes back with the
/// tones.
#[allow(clippy::too_many_arguments)]
pub(super) fn melody(
    f: &Features,
    t: Tonality,
    chords: &[[i32; 3]],
    (lo, hi): (i32, i32),
    (activity, mood): (f32, f32),
    meter: Meter,
    rng: &mut Rng,
    theme: Option<Motif>,
) -> (Vec<Tone>, Motif) {
    let steps = meter.eighths();
    let bars = chords.len() / HALVES;
    let phrase_bars = PHRASE_BARS.min(bars);
    let phrases = bars.div_ceil(phrase_bars);
    // How literally material returns: the picture's own self-similarity.
    let literal = repetition(f);
    let (plans, sources) = form(f, phrases, phrase_bars, literal, rng);
    let mut motifs: Vec<Motif> = sources
        .iter()
        .map(|&bar| motif(f, bar, (activity, mood), meter, rng))
        .collect();
    if let Some(theme) = theme {
        motifs[0] = theme;
    }
    // The climax: the phrase two thirds through sounds the loop's highest note, once: its answer
    // bar rises (by `lift` degrees more) until it does.
    let climax = (phrases >= 2).then_some(phrases * 2 / 3);
    let peak_is_unique = |tones: &[Tone], c: usize| {
        let in_climax = |t: &Tone| t.step / (phrase_bars * steps) == c;
        let top = tones
            .iter()
            .filter(|t| in_climax(t))
            .map(|t| t.degree)
            .max();
        let rest = tones
            .iter()
            .filter(|t| !in_climax(t))
            .map(|t| t.degree)
            .max();
        match (top, rest) {
            (Some(a), Some(b)) => a > b,
            _ => true,
        }
    };
    let mut tones = Vec::new();
    // (Patterns keep their repetition: an ostinato-like tune rises less for its climax.)
    let max_lift = if literal >= 0.6 { 3 } else { 5 };
    for lift in 0..=max_lift {
        let mut attempt = rng.clone();
        tones = phrases_of(
            f,
            t,
            chords,
            (lo, hi),
            &plans,
            &motifs,
            climax.map(|c| (c, lift)),
            (literal, activity),
            meter,
            &mut attempt,
        );
        let top = climax.and_then(|c| {
            tones
                .iter()
                .filter(|t| t.step / (phrase_bars * steps) == c)
                .map(|t| t.degree)
                .max()
        });
        let room = (lo, top.map_or(hi, |top| hi.min(top - 1)));
        lead_back(&mut tones, bars, room, meter);
        if climax.is_none_or(|c| peak_is_unique(&tones, c)) || lift == max_lift {
            *rng = attempt;
            break;
        }
    }
    turn_drones(&mut tones, (bars, steps), lo, hi);
    // Lengths: to the next note, at most half a bar; a phrase's last note to the phrase's end.
    let total = bars * steps;
    for k in 0..tones.len() {
        let next = tones.get(k + 1).map_or(total, |t| t.step);
        let phrase_end = (tones[k].step / (phrase_bars * steps) + 1) * phrase_bars * steps;
        let cap = if next >= phrase_end {
            phrase_end.min(total) - tones[k].step
        } else {
            steps.div_ceil(2)
        };
        tones[k].len = (next - tones[k].step).min(cap).max(1);
    }
    (tones, motifs.swap_remove(0))
}

/// A bar of three or more notes on one pitch is a drone, not a tune: its next-to-last note
/// becomes a neighbour (the step below, or above where the bar sits at the range's bottom), so
/// the bar turns and comes back. The loop's highest note stays the climax's.
fn turn_drones(tones: &mut [Tone], (bars, steps): (usize, usize), lo: i32, hi: i32) {
    let top = tones.iter().map(|t| t.degree).max().unwrap_or(hi);
    for bar in 0..bars {
        let at: Vec<usize> = (0..tones.len())
            .filter(|&k| tones[k].step / steps == bar)
            .collect();
        let [first, .., before, _] = at[..] else {
            continue;
        };
        let d = tones[first].degree;
        if at.len() < 3 || at.iter().any(|&k| tones[k].degree != d) {
            continue;
        }
        tones[before].degree = if d > lo {
            d - 1
        } else if d + 1 < top.min(hi) {
            d + 1
        } else {
            d
        };
    }
}

/// Whether the tune's highest note sounds in one phrase only (its climax stands out).
pub(super) fn single_peak(tones: &[Tone], meter: Meter) -> bool {
    let Some(top) = tones.iter().map(|t| t.degree).max() else {
        return true;
    };
    let mut phrases = tones
        .iter()
        .filter(|t| t.degree == top)
        .map(|t| t.step / (PHRASE_BARS * meter.eighths()));
    let first = phrases.next();
    phrases.all(|p| Some(p) == first)
}

/// A pickup at the end of the loop's last bar, after its closing note, that leads by step into
/// the loop's first note (nothing where the two are more than a fifth apart), between degrees
/// `lo` and `hi`: on the bar's last eighth, and the one before it for a wider gap (where that is
/// after the closing note).
fn lead_back(tones: &mut Vec<Tone>, bars: usize, (lo, hi): (i32, i32), meter: Meter) {
    let (Some(first), Some(close)) = (tones.first().copied(), tones.last().copied()) else {
        return;
    };
    let steps = meter.eighths();
    let bar = (bars - 1) * steps;
    if first.step != 0 || close.step != bar + meter.halves_at() {
        return;
    }
    let g = first.degree - close.degree;
    let s = g.signum();
    let (last, before) = (steps - 1, steps - 2);
    let pickup: &[(usize, i32)] = match g.abs() {
        0 => &[(last, 1)],
        1 => &[(last, 0)],
        2 => &[(last, -s)],
        3 | 4 => &[(before, -2 * s), (last, -s)],
        _ => &[],
    };
    for &(step, d) in pickup {
        let degree = first.degree + d;
        if (lo..=hi).contains(&degree) && step > meter.halves_at() {
            tones.push(Tone {
                step: bar + step,
                len: 0,
                degree,
            });
        }
    }
}

/// The phrases of the loop as `plans` say. `climax`: the phrase whose answer bar rises `lift`
/// degrees higher.
#[allow(clippy::too_many_arguments)]
fn phrases_of(
    f: &Features,
    t: Tonality,
    chords: &[[i32; 3]],
    (lo, hi): (i32, i32),
    plans: &[Plan],
    motifs: &[Motif],
    climax: Option<(usize, i32)>,
    (literal, activity): (f32, f32),
    meter: Meter,
    rng: &mut Rng,
) -> Vec<Tone> {
    let steps = meter.eighths();
    let bars = chords.len() / HALVES;
    let n = t.scale.intervals().len() as i32;
    let phrase_bars = PHRASE_BARS.min(bars);
    let chord_at = |step: usize| chords[meter.half_of(step).min(chords.len() - 1)];
    let heights = span(f.columns.iter().map(|c| c.height));
    let centre = (lo + hi) / 2;
    let reach = (hi - lo) / 2;
    // A surprised face (`seen`): strong beats keep leaps up to a fifth, and thirds stay unfilled.
    let surprised = super::seen::surprised(&f.cues);
    let widest = if surprised { 4 } else { 2 };

    let mut tones: Vec<Tone> = Vec::new();
    let mut first_start: Vec<Option<i32>> = vec![None; motifs.len()];
    let mut ceiling: Option<i32> = None;
    let mut answer_up: Vec<Option<bool>> = vec![None; motifs.len()];
    for (p, plan) in plans.iter().enumerate() {
        let bar0 = p * phrase_bars;
        let lift = match climax {
            Some((c, lift)) if c == p => lift,
            _ => 0,
        };
        // Where the phrase starts: the picture's height over it, near the middle of the range,
        // a chord tone of its first bar; a return starts where its material started before.
        // (A section that returns opens as it did: an antecedent always, a consequent as
        // literally as the picture repeats.)
        let start = match first_start[plan.material] {
            Some(d) if p % 2 == 0 || rng.unit() < 0.5 + 0.5 * literal => {
                nearest_chord_tone(t, d, chord_at(bar0 * steps))
            }
            _ => {
                let h = f.columns[bar0 * steps..(bar0 + 1) * steps]
                    .iter()
                    .map(|c| rank(c.height, heights))
                    .sum::<f32>()
                    / steps as f32;
                let mut d = centre + ((h - 0.5) * reach as f32).round() as i32;
                // From the previous phrase's last note, no further than a fourth.
                if let Some(end) = tones.last() {
                    d = end.degree + (d - end.degree).clamp(-3, 3);
                }
                nearest_chord_tone(t, d, chord_at(bar0 * steps))
            }
        };
        // After the climax the line comes down: a phrase starts at least a fourth below it.
        let start = match ceiling {
            Some(top) if start > top - 3 => {
                chord_tone_towards(t, top - 3, chord_at(bar0 * steps), -1)
            }
            _ => start,
        };
        first_start[plan.material].get_or_insert(start);
        let m = &motifs[plan.material];
        let mut phrase: Vec<Tone> = Vec::new();
        // The step of the note the line leaps up to towards the climax (kept where it lands).
        let mut climax_leap: Option<usize> = None;
        // The degrees (within the octave) the phrase's cadence note may take.
        let mut cadence_tones: Vec<i32> = vec![0];
        for b in 0..phrase_bars {
            let bar = bar0 + b;
            if bar >= bars {
                break;
            }
            let last_bar = b + 1 == phrase_bars || bar + 1 == bars;
            let material = developed(m, plan.development, b, meter);
            let material = match material {
                Some(m)
                    if b > 0 && plan.development == Development::Plain && rng.unit() >= literal =>
                {
                    Some(vary_rhythm(&m, rng))
                }
                other => other,
            };
            if let Some(material) = material {
                // The answer bar moves the motif to its own chord (a sequence; upwards towards
                // the climax); an augmented motif carries on where it left off.
                let base = if b == 0 {
                    start
                } else if plan.development == Development::Augmented {
                    // The interval into the motif's second half, from the note before.
                    let k = m.onsets.iter().position(|&o| o * 2 >= steps).unwrap_or(0);
                    let into = if k > 0 {
                        m.shape[k] - m.shape[k - 1]
                    } else {
                        0
                    };
                    phrase.last().map_or(start, |t| t.degree) + into
                } else {
                    // (In the climax's phrase a rising sequence, by `lift` more.)
                    // (Patterns answer the same way each time their material returns.)
                    let coin = rng.unit() < 0.5;
                    let up = lift > 0
                        || if literal >= 0.6 {
                            *answer_up[plan.material].get_or_insert(coin)
                        } else {
                            coin
                        };
                    let to = if up { 1 + lift } else { -1 };
                    // (A chord tone other than the start: the sequence moves.)
                    let chord = chord_at(bar * steps);
                    (0..=3)
                        .flat_map(|d| [start + to + d * to.signum(), start + to - d * to.signum()])
                        .find(|&d| d != start && chord.contains(&t.pitch(d).rem_euclid(12)))
                        .unwrap_or(start + to)
                };
                let count = if last_bar {
                    // Leave room for the cadence: the phrase's last note falls on the last bar's
                    // second half.
                    let cadence = meter.halves_at();
                    material
                        .onsets
                        .iter()
                        .filter(|&&o| o < cadence)
                        .count()
                        .max(1)
                } else {
                    material.onsets.len()
                };
                for k in 0..count.min(material.onsets.len()) {
                    let step = bar * steps + material.onsets[k];
                    let mut degree = base + material.shape[k] - material.shape[0];
                    let leap_to_climax = lift > 0 && k == 0;
                    if leap_to_climax {
                        climax_leap = Some(step);
                    }
                    if meter.is_strong(material.onsets[k]) && !phrase.is_empty() && !leap_to_climax
                    {
                        // Snapped onto a chord tone in the direction the line was going, so the
                        // motif's motion survives (not pulled back onto the note before). (The
                        // phrase's first note is its start, a chord tone already.)
                        let prev = phrase.last().map(|t| t.degree);
                        let dir = prev.map_or(0, |p| (degree - p).signum());
                        degree = chord_tone_towards(t, degree, chord_at(step), dir);
                        // A chord tone a step from the previous note rather than a leap to one.
                        if let Some(prev) = prev {
                            let near = nearest_chord_tone(t, prev, chord_at(step));
                            if (degree - prev).abs() > widest && (near - prev).abs() <= 2 {
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
            }
            if last_bar {
                // The cadence: closed on the tonic where the harmony closes on I, otherwise open
                // on a tone of the chord the phrase ends on (a half cadence's V, or the chord a
                // family's phrase pauses on), a step or two from the last note.
                let previous = phrase.last().map_or(start, |t| t.degree);
                let step = bar * steps + meter.halves_at();
                let chord = chord_at(step);
                let tonic = t.pitch(0).rem_euclid(12);
                let tones: Vec<i32> = (0..n)
                    .filter(|&d| chord.contains(&t.pitch(d).rem_euclid(12)))
                    .collect();
                cadence_tones = if chord[0] == tonic || tones.is_empty() {
                    vec![0]
                } else {
                    tones
                };
                let goal = nearest_of(t, previous, &cadence_tones);
                while phrase.last().is_some_and(|t| t.step >= step) {
                    phrase.pop();
                }
                // Approach the cadence note by step: the note before it (or a passing note on the
                // off-beat before, where that note is on a strong beat) moves next to it.
                if let Some(before) = phrase.last_mut() {
                    let gap = before.degree - goal;
                    if gap.abs() > 1 {
                        if !meter.is_strong(before.step) {
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
        // Thirds filled with passing tones where there is room (half a bar between the two
        // notes, or a quarter in a lively picture), on the weak eighth between or just before the
        // second note: the same wherever the material returns.
        let mut k = 1;
        while k < phrase.len() {
            let (a, b) = (phrase[k - 1], phrase[k]);
            let room = b.step - a.step;
            if !surprised
                && (b.degree - a.degree).abs() == 2
                && (room >= 4 || (room >= 2 && activity >= 0.6))
            {
                let mid = a.step + (b.step - a.step) / 2;
                let step = if meter.is_strong(mid) {
                    b.step - 1
                } else {
                    mid
                };
                phrase.insert(
                    k,
                    Tone {
                        step,
                        len: 0,
                        degree: (a.degree + b.degree) / 2,
                    },
                );
                k += 1;
            }
            k += 1;
        }
        // Keep the phrase singable: no leap wider than a fifth (a wider one turns round by an
        // octave, and the line carries on from there), moved by octaves into the range.
        let fifth = n / 2 + 1;
        for k in 1..phrase.len() {
            if climax_leap == Some(phrase[k].step) {
                continue;
            }
            let prev = phrase[k - 1].degree;
            let d = &mut phrase[k].degree;
            while *d - prev > fifth {
                *d -= n;
            }
            while prev - *d > fifth {
                *d += n;
            }
        }
        // The top of the range is the climax's: other phrases stay a step below it (where that
        // leaves them every note of the scale).
        let is_climax = climax.is_some_and(|(c, _)| c == p);
        let hi = if is_climax || climax.is_none() || hi - lo < n {
            hi
        } else {
            hi - 1
        };
        while phrase.iter().any(|t| t.degree > hi) && phrase.iter().all(|t| t.degree - n >= lo) {
            phrase.iter_mut().for_each(|t| t.degree -= n);
        }
        while phrase.iter().any(|t| t.degree < lo) && phrase.iter().all(|t| t.degree + n <= hi) {
            phrase.iter_mut().for_each(|t| t.degree += n);
        }
        // What is still outside is held at the edge, but the cadence is folded in by octaves
        // (it keeps its tonic or dominant), clamped only where the range is under an octave.
        let cadence = phrase.len().saturating_sub(1);
        for k in 0..phrase.len() {
            let d = phrase[k].degree;
            if k == cadence && k > 0 && !(lo..=hi).contains(&d) {
                // The octave of the cadence note nearest the note before it.
                let before = phrase[k - 1].degree;
                if let Some(best) = (-3..=3)
                    .map(|o| d + o * n)
                    .filter(|c| (lo..=hi).contains(c))
                    .min_by_key(|c| (c - before).abs())
                {
                    phrase[k].degree = best;
                }
            }
            // A line that runs past an edge turns round there (mirrored), rather than sticking
            // to the edge note as a drone; the climax's phrase keeps its peak at the top. (A
            // cadence note still outside takes the nearest of its chord's tones inside.)
            let d = phrase[k].degree;
            let inside = (lo..=hi)
                .filter(|c| cadence_tones.contains(&c.rem_euclid(n)))
                .min_by_key(|c| (c - d).abs());
            phrase[k].degree = if k == cadence && !(lo..=hi).contains(&d) && inside.is_some() {
                inside.unwrap_or(d)
            } else if d < lo {
                (2 * lo - d).min(hi)
            } else if d > hi && is_climax {
                hi
            } else if d > hi {
                (2 * hi - d).max(lo)
            } else {
                d
            };
        }
        if climax.is_some_and(|(c, _)| c == p) {
            ceiling = phrase.iter().map(|t| t.degree).max();
        }
        tones.extend(phrase);
    }
    tones
}
