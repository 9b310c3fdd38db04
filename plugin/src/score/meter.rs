//! The meter a score is written in: its time signature and how its bar's eighths group into
//! beats (4/4 as 2+2+2+2, 6/8 as 3+3, 7/8 as 2+2+3 or 3+2+2). Every position in a score is in
//! quarter-note beats whatever the meter; a bar of 6/8 is three of them, a bar of 7/8 three and a
//! half. The composer, the engine's bar-aligned score swaps, the MIDI file and the piano roll all
//! read bars from here.

use serde::{Deserialize, Serialize};

/// The most beats (groups of eighths) a bar has.
pub const MAX_BEATS: usize = 8;
/// The longest bar, in eighths (16/8, 8/4).
pub const MAX_EIGHTHS: usize = 16;

/// A time signature, as a host or a musician gives it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub numerator: u8,
    pub denominator: u8,
}

impl Default for Signature {
    fn default() -> Self {
        Signature::COMMON
    }
}

impl Signature {
    pub const COMMON: Signature = Signature::new(4, 4);
    /// The meters the Meter parameter offers besides following the host.
    pub const CHOICES: [Signature; 6] = [
        Signature::new(4, 4),
        Signature::new(3, 4),
        Signature::new(6, 8),
        Signature::new(5, 4),
        Signature::new(7, 8),
        Signature::new(12, 8),
    ];

    pub const fn new(numerator: u8, denominator: u8) -> Self {
        Signature {
            numerator,
            denominator,
        }
    }

    /// Eighths in a bar, where a bar is a whole number of them from 4 to 16 (2/4 .. 16/8): a bar
    /// of two beats at least.
    pub fn eighths(self) -> Option<usize> {
        let (n, d) = (usize::from(self.numerator), usize::from(self.denominator));
        let eighths = match d {
            1 | 2 | 4 | 8 => n * 8 / d,
            16 if n % 2 == 0 => n / 2,
            _ => return None,
        };
        (4..=MAX_EIGHTHS).contains(&eighths).then_some(eighths)
    }

    /// Whether Pixelody composes in it (see [`Self::eighths`]).
    pub fn is_supported(self) -> bool {
        self.eighths().is_some()
    }

    /// "7/8".
    pub fn name(self) -> String {
        format!("{}/{}", self.numerator, self.denominator)
    }

    /// Reads "6/8" (spaces allowed).
    pub fn parse(text: &str) -> Option<Signature> {
        let (n, d) = text.trim().split_once('/')?;
        Some(Signature::new(
            n.trim().parse().ok()?,
            d.trim().parse().ok()?,
        ))
    }
}

/// A signature, the grouping of its bar's eighths into beats, and where its second half starts.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Meter {
    pub signature: Signature,
    /// Eighths per beat, in order; zeros after the last beat.
    groups: [u8; MAX_BEATS],
    /// The eighth where the bar's second half starts: its other strong beat, where a second
    /// chord enters.
    split: u8,
}

impl Default for Meter {
    fn default() -> Self {
        Meter::COMMON
    }
}

impl Meter {
    pub const COMMON: Meter = Meter {
        signature: Signature::COMMON,
        groups: [2, 2, 2, 2, 0, 0, 0, 0],
        split: 4,
    };

    /// The groupings Pixelody plays `signature` in (the picture chooses among several with
    /// [`Self::for_picture`]), or none where it does not compose in it. Simple meters count
    /// quarter notes (3/4 as 2+2+2 eighths), compound ones dotted quarters (6/8 as 3+3, 12/8 as
    /// 3+3+3+3), and an odd number of eighths makes one beat long (7/8 as 2+2+3 or 3+2+2). The
    /// second half starts at the beat nearest the bar's middle, the later one on a tie (3/4's
    /// third beat); an odd number of quarters has it both ways (5/4 as 3+2 or 2+3).
    pub fn groupings(signature: Signature) -> Vec<Meter> {
        let Some(eighths) = signature.eighths() else {
            return Vec::new();
        };
        let compound = signature.denominator >= 8 && eighths % 3 == 0 && eighths >= 6;
        let mut beatings: Vec<Vec<u8>> = if compound {
            vec![vec![3; eighths / 3]]
        } else if eighths % 2 == 0 {
            vec![vec![2; eighths / 2]]
        } else {
            // Twos and one three, last or first.
            let mut long_last = vec![2u8; (eighths - 3) / 2];
            long_last.push(3);
            let mut long_first = long_last.clone();
            long_first.rotate_right(1);
            vec![long_last, long_first]
        };
        beatings.dedup();
        let mut meters = Vec::new();
        for beats in beatings {
            let mut groups = [0u8; MAX_BEATS];
            if beats.len() > MAX_BEATS {
                continue;
            }
            groups[..beats.len()].copy_from_slice(&beats);
            let starts: Vec<usize> = beats
                .iter()
                .scan(0, |at, &g| {
                    let s = *at;
                    *at += usize::from(g);
                    Some(s)
                })
                .collect();
            let middle = eighths as f64 / 2.0;
            let mut candidates: Vec<usize> = starts.iter().copied().skip(1).collect();
            candidates.sort_by(|&a, &b| {
                let (da, db) = ((a as f64 - middle).abs(), (b as f64 - middle).abs());
                da.total_cmp(&db).then(b.cmp(&a))
            });
            let nearest = candidates.first().copied().unwrap_or(0);
            let odd_quarters = !compound && eighths % 2 == 0 && (eighths / 2) % 2 == 1;
            let splits: Vec<usize> = match candidates.get(1) {
                Some(&other) if odd_quarters && eighths >= 10 => vec![nearest, other],
                _ => vec![nearest],
            };
            for split in splits {
                meters.push(Meter {
                    signature,
                    groups,
                    split: split as u8,
                });
            }
        }
        meters
    }

    /// The meter for `signature` whose strong places are where `accents` (how strongly the
    /// picture marks each eighth of the bar, 0..1) fall most, the first on a tie, or 4/4 where
    /// Pixelody does not compose in `signature`.
    pub fn for_picture(signature: Signature, accents: &[f32]) -> Meter {
        let score = |m: &Meter| -> f32 {
            (0..m.eighths())
                .map(|e| accents.get(e).copied().unwrap_or(0.0) * m.weight(e))
                .sum()
        };
        let mut best: Option<(Meter, f32)> = None;
        for m in Meter::groupings(signature) {
            let s = score(&m);
            if best.is_none_or(|(_, b)| s > b + 1e-6) {
                best = Some((m, s));
            }
        }
        best.map_or(Meter::COMMON, |(m, _)| m)
    }

    /// The first grouping of `signature`, or 4/4 where Pixelody does not compose in it.
    pub fn plain(signature: Signature) -> Meter {
        Meter::groupings(signature)
            .into_iter()
            .next()
            .unwrap_or(Meter::COMMON)
    }

    /// Whether it is 4/4 (the meter every score had before meters existed).
    pub fn is_common(&self) -> bool {
        *self == Meter::COMMON
    }

    /// Whether the groups and split describe a bar (a meter read from a saved score).
    pub fn is_valid(&self) -> bool {
        let beats = self.beats();
        !beats.is_empty()
            && beats.iter().all(|&g| g == 2 || g == 3)
            && self.groups[beats.len()..].iter().all(|&g| g == 0)
            && Some(self.eighths()) == self.signature.eighths()
            && self.beat_starts().contains(&self.halves_at())
    }

    /// Eighths per beat, in order.
    pub fn beats(&self) -> &[u8] {
        let n = self
            .groups
            .iter()
            .position(|&g| g == 0)
            .unwrap_or(MAX_BEATS);
        &self.groups[..n]
    }

    /// Eighths in a bar.
    pub fn eighths(&self) -> usize {
        self.beats().iter().map(|&g| usize::from(g)).sum()
    }

    /// A bar's length in quarter-note beats.
    pub fn bar_beats(&self) -> f64 {
        self.eighths() as f64 / 2.0
    }

    /// Whether its beats are dotted quarters (6/8, 12/8).
    pub fn is_compound(&self) -> bool {
        self.beats().iter().all(|&g| g == 3)
    }

    /// Where each beat starts, in eighths from the bar's start.
    pub fn beat_starts(&self) -> Vec<usize> {
        self.beats()
            .iter()
            .scan(0, |at, &g| {
                let s = *at;
                *at += usize::from(g);
                Some(s)
            })
            .collect()
    }

    /// The eighth where the bar's second half starts.
    pub fn halves_at(&self) -> usize {
        usize::from(self.split)
    }

    /// Whether eighth `e` (of the bar, or of the loop) is one of the bar's two strong beats.
    pub fn is_strong(&self, e: usize) -> bool {
        let e = e % self.eighths().max(1);
        e == 0 || e == self.halves_at()
    }

    /// Where half bar `h` of the loop starts (two a bar: the downbeat and the second half), in
    /// beats from the loop's start.
    pub fn half_start(&self, h: usize) -> f64 {
        let bar = (h / 2) as f64 * self.bar_beats();
        bar + if h % 2 == 1 {
            self.halves_at() as f64 / 2.0
        } else {
            0.0
        }
    }

    /// The half bar (as [`Self::half_start`] counts them) that eighth `step` of the loop is in.
    pub fn half_of(&self, step: usize) -> usize {
        let n = self.eighths().max(1);
        step / n * 2 + usize::from(step % n >= self.halves_at())
    }

    /// Where each beat starts, in quarter-note beats from the bar's start.
    pub fn beat_times(&self) -> Vec<f64> {
        self.beat_starts().iter().map(|&e| e as f64 / 2.0).collect()
    }

    /// The eighths of the bar between its beats.
    pub fn off_beats(&self) -> Vec<usize> {
        let starts = self.beat_starts();
        (0..self.eighths())
            .filter(|e| !starts.contains(e))
            .collect()
    }

    /// How strongly eighth `e` of the bar attracts a note, the strong beats most: 1 on the
    /// downbeat, 0.85 where the second half starts, 0.6 on the other beats, 0.3 between them and
    /// 0.35 on the bar's last eighth (a pickup into the next). 4/4's weights are the ones the
    /// composer always had.
    pub fn weight(&self, e: usize) -> f32 {
        let e = e % self.eighths().max(1);
        if e == 0 {
            1.0
        } else if e == self.halves_at() {
            0.85
        } else if self.beat_starts().contains(&e) {
            0.6
        } else if e + 1 == self.eighths() {
            0.35
        } else {
            0.3
        }
    }

    /// "7/8 (2+2+3)", "5/4 (3+2)", or just "4/4" where the grouping goes without saying.
    pub fn label(&self) -> String {
        let name = self.signature.name();
        if Meter::groupings(self.signature).len() < 2 {
            return name;
        }
        let parts: Vec<String> = if self.signature.denominator == 8 {
            self.beats().iter().map(|g| g.to_string()).collect()
        } else {
            let first = self.halves_at() / 2;
            let rest = self.eighths() / 2 - first;
            vec![first.to_string(), rest.to_string()]
        };
        format!("{name} ({})", parts.join("+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_time_weights_are_the_composers_own() {
        let m = Meter::COMMON;
        let w: Vec<f32> = (0..8).map(|e| m.weight(e)).collect();
        assert_eq!(w, [1.0, 0.3, 0.6, 0.3, 0.85, 0.3, 0.6, 0.35]);
        assert_eq!(m.bar_beats(), 4.0);
        assert_eq!(m.halves_at(), 4);
    }

    #[test]
    fn every_offered_meter_groups_as_musicians_count_it() {
        let beats = |n, d| -> Vec<Vec<u8>> {
            Meter::groupings(Signature::new(n, d))
                .iter()
                .map(|m| m.beats().to_vec())
                .collect()
        };
        assert_eq!(beats(3, 4), [vec![2, 2, 2]]);
        assert_eq!(beats(6, 8), [vec![3, 3]]);
        assert_eq!(beats(12, 8), [vec![3, 3, 3, 3]]);
        assert_eq!(beats(7, 8), [vec![2, 2, 3], vec![3, 2, 2]]);
        assert_eq!(beats(5, 8), [vec![2, 3], vec![3, 2]]);
        assert_eq!(Meter::plain(Signature::new(3, 4)).halves_at(), 4);
        assert_eq!(Meter::plain(Signature::new(6, 8)).bar_beats(), 3.0);
        assert_eq!(Meter::plain(Signature::new(7, 8)).bar_beats(), 3.5);
        assert_eq!(Meter::plain(Signature::new(7, 8)).label(), "7/8 (2+2+3)");
        assert!(Meter::groupings(Signature::new(15, 16)).is_empty());
        assert!(Meter::groupings(Signature::new(0, 4)).is_empty());
        assert!(Meter::groupings(Signature::new(3, 8)).is_empty());
        assert!(Meter::groupings(Signature::new(4, 0)).is_empty());
        assert_eq!(
            Meter::for_picture(Signature::new(15, 16), &[]),
            Meter::COMMON
        );
    }

    #[test]
    fn five_four_is_three_and_two_or_two_and_three_as_the_picture_leans() {
        let sig = Signature::new(5, 4);
        let three_two = Meter::plain(sig);
        assert_eq!(three_two.label(), "5/4 (3+2)");
        let two_three = Meter::groupings(sig)[1];
        assert_eq!(two_three.label(), "5/4 (2+3)");
        let mut accents = [0.0; 10];
        accents[4] = 1.0;
        assert_eq!(Meter::for_picture(sig, &accents), two_three);
        accents[4] = 0.0;
        accents[6] = 1.0;
        assert_eq!(Meter::for_picture(sig, &accents), three_two);
    }

    #[test]
    fn signatures_read_and_name_themselves() {
        assert_eq!(Signature::parse(" 6 / 8"), Some(Signature::new(6, 8)));
        assert_eq!(Signature::parse("six"), None);
        assert_eq!(Signature::new(12, 8).name(), "12/8");
    }
}
