//! Compose mode's accompaniment in a style: how the chords are played (held, broken, arpeggiated,
//! stabbed, strummed), the bass line, and the drum part. The chords themselves (harmony.rs) and
//! the melody do not depend on the style; the texture is most of what a listener calls style.
//!
//! Every pattern is varied by the picture: busier bars (edges in the bar's region, ranked within
//! the picture) take the busier variant; the drums' hi-hats go to sixteenths where the picture has
//! many edges, their accents follow local contrast, and an extra kick falls where the picture's
//! strongest edges sit low and strong (the bottom third).

use super::arrange::{rank, span, BASS_FLOOR, BASS_ROOT_CEILING};
use super::harmony::{self, spans, voice, HALVES};
use super::style::Style;
use super::theory::Tonality;
use crate::analysis::Features;
use crate::score::{drum, Meter, Note, Part};

/// One chord of the loop: where it sounds (beats from the loop start), its voicing (three notes,
/// four with a seventh) and its bass pitch.
#[derive(Clone, Debug)]
struct Chord {
    start: f64,
    end: f64,
    voicing: Vec<i32>,
    root: i32,
}

pub struct Texture<'a> {
    pub f: &'a Features,
    /// The chords' seven-note tonality.
    pub ct: Tonality,
    /// The chord on each half bar.
    pub chords: &'a [harmony::Chord],
    pub harmony_lo: i32,
    pub bass_lo: i32,
    pub density: f32,
    pub style: Style,
    /// The bars' meter: every pattern is written on its beats (see [`Self::backbeats`]).
    pub meter: Meter,
    /// Which of the style's three variants (broken-chord order, stab rhythm, kick pattern...):
    /// from the Variation setting, so another Variation is another take on the same style.
    pub variant: usize,
}

/// The octave of `pitch` nearest `previous` (or `pitch`'s own) among those in the bass's root
/// register, E1 to C3.
fn bass_pitch_near(pitch: i32, previous: Option<i32>) -> i32 {
    let pc = pitch.rem_euclid(12);
    let lowest = BASS_FLOOR + (pc - BASS_FLOOR).rem_euclid(12);
    let target = previous.unwrap_or(pitch);
    [lowest, lowest + 12]
        .into_iter()
        .filter(|&p| p <= BASS_ROOT_CEILING)
        .min_by_key(|&p| (p - target).abs())
        .unwrap_or(lowest)
}

fn note(start: f64, len: f64, pitch: i32, velocity: f32, part: Part) -> Note {
    Note {
        start_beats: start,
        length_beats: len.max(0.05),
        pitch: pitch.clamp(0, 127) as u8,
        velocity: velocity.clamp(0.05, 1.0),
        part,
    }
}

impl Texture<'_> {
    fn bars(&self) -> usize {
        self.chords.len() / HALVES
    }

    /// A bar's length in beats.
    fn bar_beats(&self) -> f64 {
        self.meter.bar_beats()
    }

    /// The bar beat `t` of the loop is in.
    fn bar_of(&self, t: f64) -> usize {
        (t / self.bar_beats() + 1e-9) as usize
    }

    /// Where the bar that beat `t` is in starts.
    fn bar_start(&self, t: f64) -> f64 {
        self.bar_of(t) as f64 * self.bar_beats()
    }

    /// Where in its bar beat `t` falls, in beats.
    fn within(&self, t: f64) -> f64 {
        t - self.bar_start(t)
    }

    /// Whether beat `t` of the loop is on one of the meter's beats (not between them).
    fn on_beat(&self, t: f64) -> bool {
        let e = self.within(t) * 2.0;
        (e - e.round()).abs() < 1e-9 && self.meter.beat_starts().contains(&(e.round() as usize))
    }

    /// Whether a figure starts again at beat `t` of the loop: where a half bar or a beat of three
    /// eighths starts.
    fn regroups(&self, t: f64) -> bool {
        if !self.on_beat(t) {
            return false;
        }
        let e = (self.within(t) * 2.0).round() as usize;
        let starts = self.meter.beat_starts();
        let long = starts
            .iter()
            .position(|&s| s == e)
            .is_some_and(|k| self.meter.beats()[k] == 3);
        e == 0 || e == self.meter.halves_at() || long
    }

    /// The eighths of a bar from `from` to `to` (exclusive), as beats within the bar.
    fn eighths(&self, from: usize, to: usize, except: &[usize]) -> Vec<f64> {
        (from..to.min(self.meter.eighths()))
            .filter(|e| !except.contains(e))
            .map(|e| e as f64 / 2.0)
            .collect()
    }

    /// Where the kick belongs: the downbeat, and the second half's start where that half has
    /// two beats or more (4/4's beat 3, 12/8's third dotted quarter, 5/4's fourth quarter).
    fn downbeats(&self) -> Vec<f64> {
        let (_, second) = self.halves();
        let mut at = vec![0.0];
        if second.len() >= 2 {
            at.push(second[0]);
        }
        at
    }

    /// Where the snare answers: the last beat of each half of two beats or more, and a second
    /// half of one beat (4/4's beats 2 and 4; 3/4's 2 and 3, the waltz's "chick chick"; 6/8's
    /// second dotted quarter; 7/8 2+2+3's second and third beats).
    fn backbeats(&self) -> Vec<f64> {
        let (first, second) = self.halves();
        let mut at = Vec::new();
        if first.len() >= 2 {
            at.extend(first.last());
        }
        at.extend(second.last());
        at
    }

    /// The beats of the bar's two halves, as beats within the bar.
    fn halves(&self) -> (Vec<f64>, Vec<f64>) {
        let split = self.meter.halves_at() as f64 / 2.0;
        self.meter
            .beat_times()
            .into_iter()
            .partition(|&t| t < split)
    }

    /// Whether the meter is a waltz's: three quarter-note beats.
    fn waltz(&self) -> bool {
        self.meter.beats() == [2, 2, 2]
    }

    /// The picture's rhythm folded onto one bar: for each eighth of the bar, how much its
    /// columns change (mean energy over the loop's bars), ranked within the bar, 0..1. With
    /// `low`, only the changes in the bottom third of the picture (where a kick belongs).
    fn accents(&self, low: bool) -> Vec<f32> {
        let n = self.meter.eighths();
        let mut sum = vec![0.0f32; n];
        for (i, c) in self.f.columns.iter().enumerate() {
            if !low || c.height < 1.0 / 3.0 {
                sum[i % n] += c.energy;
            }
        }
        let range = span(sum.iter().copied());
        sum.iter().map(|&v| rank(v, range)).collect()
    }

    /// The accent of beat `t` within the bar.
    fn accent_at(&self, accents: &[f32], t: f64) -> f32 {
        accents[((t * 2.0) as usize).min(accents.len() - 1)]
    }

    /// The `k` places of `candidates` (beats within the bar) where the picture's accents are
    /// strongest, in time order; Variation moves the choice one place along among near-equals.
    fn strongest(&self, candidates: &[f64], k: usize, accents: &[f32]) -> Vec<f64> {
        let mut ranked: Vec<(f64, f32)> = candidates
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let a = self.accent_at(accents, t);
                // (A nudge from Variation that only reorders close calls.)
                let nudge = 0.08
                    * ((i + self.variant + self.character()) % candidates.len().max(1)) as f32
                    / candidates.len().max(1) as f32;
                (t, a + nudge)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut chosen: Vec<f64> = ranked.into_iter().take(k).map(|(t, _)| t).collect();
        chosen.sort_by(f64::total_cmp);
        chosen
    }

    /// One of `n` choices, read from where the picture's accents fall in the bar (its strongest
    /// eighth overall and at the bottom), turned by Variation and by `salt` (which choice this
    /// is): pictures with their accents in the same places make the same choices.
    fn pick(&self, n: usize, salt: usize) -> usize {
        let strongest = |a: Vec<f32>| {
            (0..a.len())
                .max_by(|&i, &j| a[i].total_cmp(&a[j]))
                .unwrap_or(0)
        };
        let (top, low) = (
            strongest(self.accents(false)),
            strongest(self.accents(true)),
        );
        (top * 3 + low * 5 + salt * 7 + self.variant + self.character()) % n.max(1)
    }

    /// The picture's character where its accents do not decide (a pattern that is the same from
    /// left to right, a flat field): which way its edges run, its hue and how light it is, as a
    /// number that turns the close calls of [`Self::strongest`] and [`Self::pick`], so two such
    /// pictures do not take the same groove.
    fn character(&self) -> usize {
        let f = self.f;
        let orientation = (f.edge_orientation.clamp(0.0, 1.0) * 2.0).round() as usize;
        let hue = ((f.hue.rem_euclid(360.0) / 60.0) as usize).min(5)
            * f.hue_strength.clamp(0.0, 1.0).ceil() as usize;
        let light = (f.lightness.mean.clamp(0.0, 1.0) * 2.0).round() as usize;
        orientation + 3 * hue + 5 * light
    }

    /// Whether bar `b` is one of the picture's busier (edges ranked within the picture).
    fn busy(&self, b: usize) -> bool {
        let edges = span(self.f.regions.iter().map(|r| r.edges));
        rank(self.f.regions[b].edges, edges) > 0.5 || self.density > 0.75
    }

    fn chords(&self) -> Vec<Chord> {
        let mut chords = self.chords_voiced();
        // The loop comes round: its last root in the octave nearest its first, so the bass does
        // not drop an octave every time it starts again.
        if let [first, .., last] = chords.as_mut_slice() {
            last.root = bass_pitch_near(last.root, Some(first.root));
        }
        chords
    }

    fn chords_voiced(&self) -> Vec<Chord> {
        let sevenths = self.style == Style::LoFi;
        let mut previous: Option<[i32; 3]> = None;
        let mut root_prev: Option<i32> = None;
        spans(self.chords)
            .into_iter()
            .map(|(h, len, c)| {
                let pcs = c.pcs(self.ct);
                let v = voice(pcs, self.harmony_lo, previous);
                previous = Some(v);
                let mut voicing = v.to_vec();
                if sevenths {
                    // The seventh inside the voicing, above its lowest note.
                    let pc7 = c.seventh(self.ct);
                    voicing.push(v[0] + 1 + (pc7 - v[0] - 1).rem_euclid(12));
                    voicing.sort_unstable();
                }
                // The root nearest the previous one, within the bass's register.
                let first = self.bass_lo + (pcs[0] - self.bass_lo).rem_euclid(12);
                let root = bass_pitch_near(first, root_prev);
                root_prev = Some(root);
                Chord {
                    start: self.meter.half_start(h),
                    end: self.meter.half_start(h + len),
                    voicing,
                    root,
                }
            })
            .collect()
    }

    /// The harmony, bass and drum parts.
    pub fn parts(&self) -> Vec<Note> {
        let chords = self.chords();
        let mut notes = self.harmony(&chords);
        notes.extend(self.bass(&chords));
        notes.extend(self.drums());
        notes
    }

    fn harmony(&self, chords: &[Chord]) -> Vec<Note> {
        let mut notes = Vec::new();
        let velocity = |c: &Chord| {
            let b = self.bar_of(c.start);
            0.4 + 0.2 * self.f.regions[b].chroma.min(0.2) / 0.2
        };
        // Chord `c` struck at every beat of `at` (within the bar) that falls in it, each held until
        // the next strike or the chord's end, less `gap`.
        let strikes = |c: &Chord, at: &[f64], gap: f64, notes: &mut Vec<Note>| {
            let bar = self.bar_start(c.start);
            let mut times: Vec<f64> = at
                .iter()
                .map(|&t| bar + t)
                .filter(|&t| t > c.start + 1e-9 && t < c.end - 1e-9)
                .collect();
            times.insert(0, c.start);
            for (k, &t) in times.iter().enumerate() {
                let until = times.get(k + 1).copied().unwrap_or(c.end);
                for &p in &c.voicing {
                    notes.push(note(t, until - t - gap, p, velocity(c), Part::Harmony));
                }
            }
        };
        // The voicing's notes one at a time, in `order` (indices into the voicing, cycling), every
        // `rate` beats, each held `hold` beats.
        // The picture's weakest off-beat eighths in the bar (ranked by its accents), where the
        // figures rest: a picture's own gaps make the figure's rhythm its own.
        let accents = self.accents(false);
        let mut offbeats: Vec<usize> = self.meter.off_beats();
        offbeats.sort_by(|&a, &b| accents[a].total_cmp(&accents[b]));
        let rests = |t: f64, rate: f64| {
            let within = self.within(t);
            let eighth = (within * 2.0 + 1e-9) as usize;
            let on_second_half = (within * 2.0 - eighth as f64) > 1e-6;
            // Eighth figures rest on the weakest off-beat eighth; sixteenth figures skip the
            // second sixteenth of the two weakest eighths (a gallop).
            let weakest = |k: usize| offbeats.get(k) == Some(&eighth);
            if rate >= 0.5 {
                weakest(0)
            } else {
                on_second_half && (weakest(0) || weakest(1))
            }
        };
        // The half bar beat `t` is in: where it starts and how long it is.
        let split = self.meter.halves_at() as f64 / 2.0;
        let half_of = |t: f64| {
            let (bar, within) = (self.bar_start(t), self.within(t));
            if within < split - 1e-9 {
                (bar, split)
            } else {
                (bar + split, self.bar_beats() - split)
            }
        };
        let figure = |c: &Chord, order: &[usize], rate: f64, hold: f64, notes: &mut Vec<Note>| {
            let mut t = c.start;
            let mut k = 0;
            // (A chord of half a bar in eighths plays every note: it has none to spare; in
            // sixteenths it plays them twice over and may rest.)
            let may_rest = c.end - c.start > self.bar_beats() / 2.0 + 1e-9 || rate < 0.5;
            // An eighth figure that rests in a half bar plays the chord's notes once each in
            // what is left of it (so the half bar still sounds the whole chord).
            let mut once: Vec<usize> = Vec::new();
            for &i in order {
                if !once.contains(&i) {
                    once.push(i);
                }
            }
            let half_rests = |t: f64| {
                let (from, half) = half_of(t);
                (0..(half / rate).round() as usize).any(|j| rests(from + j as f64 * rate, rate))
            };
            while t < c.end - 1e-9 {
                // (Outside 4/4 the figure starts again with each half bar and each beat of three
                // eighths: a Ballad in 6/8 rocks low-high-middle in each dotted quarter, 7/8 as
                // 2+2+3 plays its figure through the twos and again in the three.)
                if !self.meter.is_common() && self.regroups(t) {
                    k = 0;
                }
                if may_rest && rests(t, rate) {
                    t += rate;
                    continue;
                }
                // (An index past the voicing is its lowest notes an octave up.)
                let i = if may_rest && rate >= 0.5 && half_rests(t) {
                    let (from, _) = half_of(t);
                    let before = (0..((t - from) / rate).round() as usize)
                        .filter(|&j| !rests(from + j as f64 * rate, rate))
                        .count();
                    once[before % once.len()]
                } else {
                    order[k % order.len()]
                };
                let m = c.voicing.len();
                let pitch = c.voicing[i % m] + 12 * (i / m) as i32;
                let accent = if self.on_beat(t) { 1.0 } else { 0.85 };
                let len = hold.min(c.end - t);
                notes.push(note(t, len, pitch, velocity(c) * accent, Part::Harmony));
                t += rate;
                k += 1;
            }
        };
        let last_eighth = self.meter.eighths() - 1;
        for c in chords {
            let busy = self.busy(self.bar_of(c.start));
            let n = c.voicing.len();
            match self.style {
                // Pads held for the whole chord, breathing: the top voice sounds again, softly,
                // on the picture's strongest accent in the chord's first bar.
                Style::Ambient => {
                    let from = notes.len();
                    strikes(c, &[], 0.05, &mut notes);
                    let bar = self.bar_start(c.start);
                    let at =
                        bar + self.strongest(&self.eighths(1, last_eighth, &[]), 1, &accents)[0];
                    let top = (from..notes.len()).max_by_key(|&k| notes[k].pitch);
                    if let Some(k) = top.filter(|_| at > c.start + 0.25 && at < c.end - 0.5) {
                        let again = Note {
                            start_beats: at,
                            length_beats: c.end - at - 0.05,
                            velocity: notes[k].velocity * 0.8,
                            ..notes[k]
                        };
                        notes[k].length_beats = at - notes[k].start_beats - 0.05;
                        notes.push(again);
                    }
                }
                // Broken chords (low, high, middle, high) in calm bars, arpeggios up and down in
                // busy ones, eighths held over each other.
                Style::Ballad => {
                    let calm: [&[usize]; 3] = [&[0, 2, 1, 2], &[0, 1, 2, 1], &[0, 1, 2]];
                    let order: &[usize] = if busy {
                        &[0, 1, 2, 1]
                    } else {
                        calm[self.pick(3, 1)]
                    };
                    figure(c, order, 0.5, 0.9, &mut notes);
                }
                // Stabs on 1 and where the picture's accents fall in calm bars; strummed on every
                // eighth in busy ones. In 3/4 a waltz: the bass on 1, the chord on 2 and 3.
                Style::Pop if self.waltz() => {
                    let bar = self.bar_start(c.start);
                    for t in [1.0, 2.0].map(|b| bar + b) {
                        if t >= c.start - 1e-9 && t < c.end - 1e-9 {
                            for &p in &c.voicing {
                                let accent = if t - bar < 1.5 { 1.0 } else { 0.85 };
                                notes.push(note(t, 0.45, p, velocity(c) * accent, Part::Harmony));
                            }
                        }
                    }
                }
                Style::Pop => {
                    if busy {
                        let bar = self.bar_start(c.start);
                        let starts = self.meter.beat_starts();
                        for e in 0..self.meter.eighths() {
                            let t = bar + e as f64 * 0.5;
                            if t < c.start - 1e-9 || t >= c.end - 1e-9 {
                                continue;
                            }
                            // Down strokes low to high on the beat, up strokes high to low between.
                            let beat = starts.iter().rev().find(|&&s| s <= e).copied();
                            let down = (e - beat.unwrap_or(0)) % 2 == 0;
                            for (k, &p) in c.voicing.iter().enumerate() {
                                let order = if down { k } else { n - 1 - k };
                                let at = t + 0.02 * order as f64;
                                let accent = if down { 1.0 } else { 0.75 };
                                notes.push(note(at, 0.4, p, velocity(c) * accent, Part::Harmony));
                            }
                        }
                    } else {
                        // Stabs on 1 and where the picture's accents fall.
                        let from = notes.len();
                        let more = 2 + usize::from(self.density > 0.6);
                        let split = self.meter.halves_at();
                        let candidates = self.eighths(1, last_eighth + 1, &[split]);
                        let at = self.strongest(&candidates, more, &accents);
                        strikes(c, &at, 0.0, &mut notes);
                        // Stabs are short.
                        for x in &mut notes[from..] {
                            x.length_beats = x.length_beats.min(0.45);
                        }
                    }
                }
                // The same figure every bar: an ostinato.
                Style::Pulse => {
                    let ostinato: [&[usize]; 3] = [&[0, 1, 2, 1], &[0, 2, 1, 2], &[0, 0, 2, 1]];
                    figure(c, ostinato[self.pick(3, 2)], 0.5, 0.35, &mut notes);
                }
                // Fast arpeggios: sixteenths up, up and down in busy bars.
                Style::Chiptune => {
                    let calm: [&[usize]; 3] = [&[0, 1, 2, 3], &[3, 2, 1, 0], &[0, 2, 1, 3]];
                    let order: &[usize] = if busy {
                        &[0, 1, 2, 3, 2, 1]
                    } else {
                        calm[self.pick(3, 3)]
                    };
                    figure(c, order, 0.25, 0.2, &mut notes);
                }
                // Seventh chords struck on 1 and 2& (and 3& in busy bars), held.
                Style::LoFi => {
                    let candidates = self.eighths(3, last_eighth + 1, &[]);
                    let at = self.strongest(&candidates, 1 + usize::from(busy), &accents);
                    strikes(c, &at, 0.1, &mut notes);
                }
            }
        }
        notes
    }

    fn bass(&self, chords: &[Chord]) -> Vec<Note> {
        if self.style == Style::Ballad {
            // The singing line: roots, inversions, passing tones (harmony.rs).
            let lows = span(self.f.regions.iter().map(|r| r.low_edges));
            let busy =
                |b: usize| rank(self.f.regions[b].low_edges, lows) * 0.5 + self.density * 0.5;
            // Its second note where the bar's second half starts (4/4's beat 3), or pushed an
            // eighth earlier or held an eighth later where the bottom of the picture leans there.
            let low = self.accents(true);
            let split = self.meter.halves_at();
            let second = [split - 1, split + 1]
                .into_iter()
                .filter(|&e| e < self.meter.eighths() && low[e] > 0.7 && low[e] > low[split])
                .max_by(|&a, &b| low[a].total_cmp(&low[b]))
                .unwrap_or(split) as f64
                / 2.0;
            let meter = (second, self.meter);
            return harmony::bass(self.ct, self.chords, self.bass_lo, meter, busy)
                .into_iter()
                .map(|(start, len, pitch, velocity)| note(start, len, pitch, velocity, Part::Bass))
                .collect();
        }
        #[derive(Clone, Copy)]
        enum Role {
            Root,
            Fifth,
            Octave,
            /// A scale step into the next chord's root.
            Approach,
            /// The next chord's root, early (syncopation).
            Next,
        }
        impl Role {
            /// Root for a fifth, a fifth for anything else.
            fn other(self) -> Role {
                match self {
                    Role::Fifth => Role::Root,
                    _ => Role::Fifth,
                }
            }
        }
        use Role::*;
        let accents = self.accents(true);
        let starts = self.meter.beat_starts();
        let (split, n) = (self.meter.halves_at(), self.meter.eighths());
        let last_beat = starts.last().copied().unwrap_or(0);
        // Pop: the root on 1, then where the bottom of the picture is busiest, the next root
        // anticipated on the bar's last eighth (4/4's 4&); a waltz's bass only on 1. Lo-fi: a
        // note a beat, the middle ones a fifth or the root as the picture leans, an approach
        // into the next chord, and an eighth pushed where the picture's bottom is busiest off
        // the beat.
        let from_second_beat =
            self.eighths(starts.get(1).copied().unwrap_or(2), last_beat + 1, &[]);
        let pop: Vec<(f64, Role)> = if self.waltz() {
            vec![(0.0, Root)]
        } else {
            std::iter::once((0.0, Root))
                .chain(
                    self.strongest(&from_second_beat, 2, &accents)
                        .into_iter()
                        .map(|t| {
                            let e = (t * 2.0) as usize;
                            let fifth = starts.contains(&e) && e >= split;
                            (t, if fifth { Fifth } else { Root })
                        }),
                )
                .chain(std::iter::once(((n - 1) as f64 / 2.0, Next)))
                .collect()
        };
        let lofi: Vec<(f64, Role)> = {
            let lean = |i: usize| if accents[i] > 0.5 { Fifth } else { Root };
            let mut p: Vec<(f64, Role)> = starts
                .iter()
                .enumerate()
                .map(|(k, &e)| {
                    let role = if k == 0 {
                        Root
                    } else if k + 1 == starts.len() {
                        Approach
                    } else if e == split {
                        lean(e).other()
                    } else {
                        lean(e)
                    };
                    (e as f64 / 2.0, role)
                })
                .collect();
            let pushes = self.eighths(0, n - 1, &starts);
            let push = self.strongest(&pushes, 1, &accents)[0];
            if self.accent_at(&accents, push) > 0.75 {
                p.push((push, Root));
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            p
        };
        // Pulse: eighths that drive on, resting on the off-beat eighth where the bottom of the
        // picture is quietest and jumping an octave where it is strongest. Chiptune: root and
        // octave eighths with the same rest, and a gallop (two sixteenths) on the strongest.
        let offbeats = self.eighths(0, n, &starts);
        let quiet = offbeats
            .iter()
            .copied()
            .min_by(|&a, &b| {
                self.accent_at(&accents, a)
                    .total_cmp(&self.accent_at(&accents, b))
            })
            .unwrap_or((n - 1) as f64 / 2.0);
        let loud = self.strongest(&offbeats, 1, &accents)[0];
        let eighths = |role: &dyn Fn(usize) -> Role| -> Vec<(f64, Role)> {
            (0..n)
                .map(|e| e as f64 * 0.5)
                .filter(|&t| t != quiet || t == loud)
                .enumerate()
                .map(|(k, t)| (t, role(k)))
                .collect()
        };
        let pulse: Vec<(f64, Role)> = eighths(&|_| Root)
            .into_iter()
            .map(|(t, r)| (t, if t == loud { Octave } else { r }))
            .collect();
        let chip: Vec<(f64, Role)> = {
            let mut p = eighths(&|k| if k % 2 == 0 { Root } else { Octave });
            p.push((loud + 0.25, Octave));
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            p
        };
        let pattern: &[(f64, Role)] = match self.style {
            Style::Ambient | Style::Ballad => &[],
            Style::Pop => &pop,
            Style::Pulse => &pulse,
            Style::Chiptune => &chip,
            Style::LoFi => &lofi,
        };
        let mut notes = Vec::new();
        if self.style == Style::Ambient {
            // Roots held under the pads; a chord that lasts a bar or more breathes: its root
            // sounds again, softly, where the bottom of the picture is strongest.
            let again = self.strongest(&from_second_beat, 1, &accents)[0];
            for c in chords {
                let at = self.bar_start(c.start) + again;
                let split = c.end - c.start >= self.bar_beats() - 1e-9 && at > c.start + 0.5;
                let until = if split { at } else { c.end };
                notes.push(note(
                    c.start,
                    until - c.start - 0.05,
                    c.root,
                    0.75,
                    Part::Bass,
                ));
                if split {
                    notes.push(note(at, c.end - at - 0.05, c.root, 0.55, Part::Bass));
                }
            }
            return notes;
        }
        let bar_beats = self.bar_beats();
        let total = self.bars() as f64 * bar_beats;
        for b in 0..self.bars() {
            let bar = b as f64 * bar_beats;
            // Every chord that starts inside the bar gets its root where it starts.
            let mut times: Vec<(f64, Role)> = pattern.iter().map(|&(t, r)| (bar + t, r)).collect();
            for c in chords
                .iter()
                .filter(|c| c.start > bar && c.start < bar + bar_beats)
            {
                if !times.iter().any(|(t, _)| (t - c.start).abs() < 1e-9) {
                    times.push((c.start, Root));
                }
            }
            times.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (k, &(t, role)) in times.iter().enumerate() {
                let until = times.get(k + 1).map_or(bar + bar_beats, |x| x.0);
                let here = chords
                    .iter()
                    .rposition(|c| c.start <= t + 1e-9)
                    .unwrap_or(0);
                let c = &chords[here];
                let next = &chords[(here + 1) % chords.len()];
                // (Across the loop's wrap, where the first chord's root really is.)
                let next_root = if here + 1 == chords.len() {
                    next.root
                } else if next.root - c.root > 6 {
                    next.root - 12
                } else if c.root - next.root > 6 {
                    next.root + 12
                } else {
                    next.root
                };
                // Fifths and octaves go below the root where above it they would reach the
                // chord (the bass stays under the harmony).
                let ceiling = c.voicing.first().map_or(BASS_ROOT_CEILING + 7, |&v| v - 1);
                let pitch = match role {
                    Root => c.root,
                    Fifth if c.root + 7 <= ceiling => c.root + 7,
                    Fifth => c.root - 5,
                    // (The loop's last note comes home to the root it starts from.)
                    Octave if t + 0.5 >= total - 1e-9 => c.root,
                    Octave if c.root + 12 <= ceiling => c.root + 12,
                    Octave if c.root - 12 >= BASS_FLOOR => c.root - 12,
                    Octave => c.root,
                    Next if next.start - t <= 1.0 + 1e-9 || (t + 0.5 >= total - 1e-9) => next_root,
                    Next => c.root,
                    Approach => {
                        let d = self.ct.degree_at_or_below(next_root);
                        if next_root >= c.root {
                            self.ct.pitch(d - 1)
                        } else {
                            self.ct.pitch(d + 1)
                        }
                    }
                };
                let accent = if (t - bar).abs() < 1e-9 { 0.85 } else { 0.7 };
                let len =
                    ((until - t) * 0.9).min(if self.style == Style::Pulse { 0.4 } else { 4.0 });
                notes.push(note(t, len, pitch, accent, Part::Bass));
            }
        }
        notes
    }

    fn drums(&self) -> Vec<Note> {
        use drum::*;
        let f = self.f;
        let edge = (f.edge_density / 0.12).clamp(0.0, 1.0);
        let sixteenth_hats = edge >= 0.6;
        let contrasts = span(f.columns.iter().map(|c| c.contrast));
        let energies = span(f.columns.iter().map(|c| c.energy));
        let bars = self.bars();
        let (accents, low_accents) = (self.accents(false), self.accents(true));
        let pulse = super::style::energy(f) >= 0.4;
        // The bar's skeleton in the meter, in sixteenths (4/4: kicks 0 and 8, snares 4 and 12).
        let n = self.meter.eighths();
        let sixteenths = 2 * n;
        let at = |t: f64| (t * 4.0).round() as usize;
        let starts = self.meter.beat_starts();
        let beats = self.meter.beat_times();
        let (downbeats, backbeats) = (self.downbeats(), self.backbeats());
        let split = self.meter.halves_at() as f64 / 2.0;
        let bar_end = self.bar_beats();
        let last_backbeat = backbeats.last().copied().unwrap_or(split);
        let offbeats = self.eighths(0, n, &starts);
        let first_beat = starts.get(1).copied().unwrap_or(2);
        let sorted = |mut v: Vec<f64>| {
            v.retain(|&t| t > 0.0 && t < bar_end);
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        // (Snares on every backbeat, the last one a little harder.)
        let snares = |soft: f32, hard: f32| -> Vec<(usize, u8, f32)> {
            backbeats
                .iter()
                .enumerate()
                .map(|(k, &t)| {
                    (
                        at(t),
                        SNARE,
                        if k + 1 == backbeats.len() { hard } else { soft },
                    )
                })
                .collect()
        };
        let on_beat = |s: usize| s.is_multiple_of(2) && starts.contains(&(s / 2));
        let last_beat16 = at(beats.last().copied().unwrap_or(0.0));
        let mut notes = Vec::new();
        for b in 0..bars {
            let busy = self.busy(b);
            // The last bar of a four-bar period (or of the loop) ends with a fill.
            let fill = (b + 1) % 4 == 0 || b + 1 == bars;
            let mut hits: Vec<(usize, u8, f32)> = Vec::new();
            let hats = |hits: &mut Vec<(usize, u8, f32)>, every: usize| {
                for s in (0..sixteenths).step_by(every) {
                    hits.push((s, CLOSED_HAT, if on_beat(s) { 0.5 } else { 0.35 }));
                }
            };
            // A fill: the last beat's hats give way to three snares rising into the next bar.
            let roll = |hits: &mut Vec<(usize, u8, f32)>, v: [f32; 3]| {
                hits.retain(|h| h.0 < last_beat16 || h.1 != CLOSED_HAT);
                for (k, v) in v.into_iter().enumerate() {
                    hits.push((sixteenths - 3 + k, SNARE, v));
                }
            };
            match self.style {
                // Silence for a calm picture; for a livelier one a real soft pulse: a low kick
                // on the first beat of every other bar, a shaker on the picture's accent between.
                Style::Ambient => {
                    if pulse {
                        if b % 2 == 0 {
                            hits.push((0, KICK, 0.4));
                        } else {
                            let t = self.strongest(&sorted(beats.clone()), 1, &accents)[0];
                            hits.push((at(t), SHAKER, 0.25));
                        }
                    }
                }
                Style::Ballad => {
                    hits.push((0, KICK, 0.75));
                    // A soft second kick where the picture's bottom is busiest, if it is.
                    let later: Vec<f64> = self.eighths(first_beat, n, &starts);
                    if let Some(&second) = self.strongest(&later, 1, &low_accents).first() {
                        if self.accent_at(&low_accents, second) > 0.8 {
                            hits.push((at(second), KICK, 0.4));
                        }
                    }
                    // The snare where the bar's second half starts (a half-time backbeat).
                    hits.push((at(split), SNARE, 0.6));
                    // Hats on the beats, or in eighths where the picture has edges to spare.
                    let eighth_hats = edge >= 0.4;
                    for s in (0..sixteenths).step_by(2) {
                        if eighth_hats || on_beat(s) {
                            hits.push((s, CLOSED_HAT, if on_beat(s) { 0.35 } else { 0.25 }));
                        }
                    }
                    // Hats on the beats lilt: a soft off-beat one where the picture's accent falls.
                    if !eighth_hats {
                        let t = self.strongest(&offbeats, 1, &accents)[0];
                        hits.push((at(t), CLOSED_HAT, 0.2));
                    }
                    if fill {
                        hits.push((sixteenths - 2, SNARE, 0.45));
                    }
                }
                Style::Pop => {
                    // The kick on 1, and on the eighths where the bottom of the picture is
                    // busiest (one, or two in a busy bar), never on the snare's beats.
                    hits.push((0, KICK, 0.9));
                    // (Outside 4/4 the kick also marks where the second half's group starts:
                    // 7/8 as 3+2+2 says its grouping.)
                    if !self.meter.is_common() {
                        hits.extend(downbeats.iter().skip(1).map(|&t| (at(t), KICK, 0.85)));
                    }
                    let more = 1 + usize::from(busy);
                    let free: Vec<usize> = backbeats.iter().map(|&t| (t * 2.0) as usize).collect();
                    for t in self.strongest(&self.eighths(3, n, &free), more, &low_accents) {
                        hits.push((at(t), KICK, 0.8));
                    }
                    hits.extend(snares(0.85, 0.9));
                    if busy {
                        hits.push((at(last_backbeat), CLAP, 0.7));
                    }
                    hats(&mut hits, if sixteenth_hats { 1 } else { 2 });
                    if fill {
                        roll(&mut hits, [0.5, 0.65, 0.8]);
                    } else if b % 2 == 1 {
                        hits.retain(|h| !(h.0 == sixteenths - 2 && h.1 == CLOSED_HAT));
                        hits.push((sixteenths - 2, OPEN_HAT, 0.5));
                    }
                }
                Style::Pulse => {
                    // A kick on every beat (in 7/8 too: it keeps driving).
                    for &t in &beats {
                        hits.push((at(t), KICK, 0.95));
                    }
                    // A soft pickup kick a sixteenth before the beat where the picture's bottom
                    // is strongest.
                    let before: Vec<f64> = beats
                        .iter()
                        .skip(1)
                        .chain(std::iter::once(&bar_end))
                        .map(|&t| t - 0.25)
                        .collect();
                    let pickup = self.strongest(&before, 1, &low_accents)[0];
                    hits.push((at(pickup), KICK, 0.5));
                    // Clap on the backbeats, or also on the bar's last sixteenth, or a snare on
                    // the first; the off-beat hats open, or closed and a ride on the picture's
                    // accent.
                    let choice = self.pick(3, 4);
                    for (k, &t) in backbeats.iter().enumerate() {
                        let last = k + 1 == backbeats.len();
                        hits.push(match (choice, last) {
                            (_, true) => (at(t), CLAP, 0.75),
                            (2, false) => (at(t), SNARE, 0.6),
                            _ => (at(t), CLAP, 0.7),
                        });
                    }
                    if choice == 1 {
                        hits.push((sixteenths - 1, CLAP, 0.4));
                    }
                    let open = self.pick(2, 5) == 0;
                    for &t in &offbeats {
                        hits.push((at(t), if open { OPEN_HAT } else { CLOSED_HAT }, 0.55));
                    }
                    if !open {
                        let t = self.strongest(&offbeats, 1, &accents)[0];
                        hits.push((at(t) + 1, OPEN_HAT, 0.4));
                    }
                    if sixteenth_hats {
                        for s in (1..sixteenths).step_by(2) {
                            hits.push((s, CLOSED_HAT, 0.3));
                        }
                    }
                }
                Style::Chiptune => {
                    // Kicks where the halves start, and one (two in a dense score) where the
                    // picture's bottom is strongest off the beat; a ghost snare on its accent.
                    for &t in &downbeats {
                        hits.push((at(t), KICK, 0.9));
                    }
                    let more = 1 + usize::from(self.density > 0.6);
                    let mut off = self.eighths(first_beat, n, &starts);
                    off.extend(backbeats.iter().map(|t| t - 0.25));
                    for t in self.strongest(&sorted(off), more, &low_accents) {
                        hits.push((at(t), KICK, 0.7));
                    }
                    let ghosts = sorted(vec![split - 0.25, last_backbeat + 0.25, bar_end - 0.25]);
                    let ghost = self.strongest(&ghosts, 1, &accents)[0];
                    hits.extend(snares(0.85, 0.85));
                    hits.push((at(ghost), SNARE, 0.35));
                    hats(&mut hits, 1);
                    if fill {
                        roll(&mut hits, [0.55, 0.7, 0.85]);
                    }
                }
                Style::LoFi => {
                    // A lazy second kick where the picture's bottom leans, a ghost snare where
                    // its accents fall off the beat.
                    let lazy = sorted(vec![split - 0.5, split, split + 0.5, split + 0.75]);
                    let second = self.strongest(&lazy, 1, &low_accents)[0];
                    let mut off: Vec<f64> = beats.iter().skip(1).map(|t| t - 0.25).collect();
                    off.push(last_backbeat + 0.25);
                    let ghost = self.strongest(&sorted(off), 1, &accents)[0];
                    hits.extend([(0, KICK, 0.85), (at(second), KICK, 0.6)]);
                    hits.extend(snares(0.65, 0.7));
                    hits.push((at(ghost), SNARE, 0.25));
                    hats(&mut hits, 2);
                    if fill {
                        hits.push((sixteenths - 1, SNARE, 0.3));
                    }
                    for &t in &offbeats {
                        hits.push((at(t), SHAKER, 0.2));
                    }
                }
            }
            // An extra kick where the picture's strongest edges sit low and strong (the bottom
            // third), on an eighth with no kick near it.
            if !matches!(self.style, Style::Ambient | Style::Pulse) {
                let kicks: Vec<usize> = hits.iter().filter(|h| h.1 == KICK).map(|h| h.0).collect();
                let extra = (0..n)
                    .map(|e| (e * 2, f.columns[b * n + e]))
                    .filter(|(s, c)| {
                        c.height < 1.0 / 3.0
                            && rank(c.energy, energies) > 0.75
                            && kicks.iter().all(|k| k.abs_diff(*s) > 2)
                    })
                    .max_by(|a, b| a.1.energy.total_cmp(&b.1.energy));
                if let Some((s, _)) = extra {
                    hits.push((s, KICK, 0.7));
                }
            }
            for (s, pitch, velocity) in hits {
                // Accents follow the picture's local contrast.
                let c = f.columns[(b * n + s / 2).min(f.columns.len() - 1)];
                let accent = 0.8 + 0.4 * rank(c.contrast, contrasts);
                let len = if pitch == OPEN_HAT { 0.45 } else { 0.1 };
                notes.push(note(
                    b as f64 * bar_end + s as f64 * 0.25,
                    len,
                    i32::from(pitch),
                    velocity * accent,
                    Part::Drums,
                ));
            }
        }
        notes
    }
}
