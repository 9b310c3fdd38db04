//! What a listener hears in a melody, as numbers: how much it moves by step, its range, how much
//! of it repeats, how busy it is. Used by `cargo xtask music-report` (and by the composer's tests)
//! to compare Pixelody's melodies with human ones (issue 17's table: folk melodies move by two
//! semitones or less in about 0.78 of their moves, span about 9 semitones in 8 bars, repeat bar
//! patterns, and play about 3 notes a bar).

#[cfg(test)]
use crate::score::BEATS_PER_BAR;
use crate::score::{Part, Score};

/// The measures of one melody.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MelodyMeasures {
    /// Share of moves between consecutive melody notes of two semitones or less (repeats count).
    pub step_share: f32,
    /// Highest minus lowest melody pitch, in semitones.
    pub range: u8,
    /// Share of bars whose rhythm and interval pattern recurs in another bar.
    pub recurring_bars: f32,
    pub notes_per_bar: f32,
    /// Where the highest note first sounds, as a share of the loop (0 = its start).
    pub climax_at: f32,
    /// Where the highest note last sounds: a climax is reached in one place, not a ceiling the
    /// line keeps touching.
    pub climax_until: f32,
    /// Bars of three or more notes all on one pitch (a drone, not a tune).
    pub one_pitch_bars: usize,
    /// Bars measured.
    pub bars: usize,
}

/// The melody line: the highest melody note at each onset, in time order, as (start beat,
/// length, pitch).
pub fn melody_line(score: &Score) -> Vec<(f64, f64, u8)> {
    let mut line: Vec<(f64, f64, u8)> = Vec::new();
    for n in score.notes.iter().filter(|n| n.part == Part::Melody) {
        match line.last_mut() {
            Some(last) if (last.0 - n.start_beats).abs() < 1e-9 => {
                if n.pitch > last.2 {
                    *last = (n.start_beats, n.length_beats, n.pitch);
                }
            }
            _ => line.push((n.start_beats, n.length_beats, n.pitch)),
        }
    }
    line.sort_by(|a, b| a.0.total_cmp(&b.0));
    line
}

/// A bar's pattern: each note's onset and length in 1/48 beats from the bar line, and its
/// interval from the bar's first note.
fn bar_pattern(notes: &[(f64, f64, u8)], bar: usize, bar_beats: f64) -> Vec<(i64, i64, i32)> {
    let start = bar as f64 * bar_beats;
    let in_bar: Vec<&(f64, f64, u8)> = notes
        .iter()
        .filter(|n| n.0 >= start - 1e-9 && n.0 < start + bar_beats - 1e-9)
        .collect();
    let Some(first) = in_bar.first() else {
        return Vec::new();
    };
    let tick = |b: f64| (b * 48.0).round() as i64;
    in_bar
        .iter()
        .map(|n| {
            (
                tick(n.0 - start),
                tick(n.1),
                i32::from(n.2) - i32::from(first.2),
            )
        })
        .collect()
}

/// The measures of `score`'s melody, or `None` when it has fewer than two melody notes.
pub fn melody_measures(score: &Score) -> Option<MelodyMeasures> {
    let line = melody_line(score);
    if line.len() < 2 {
        return None;
    }
    let moves: Vec<i32> = line
        .windows(2)
        .map(|w| (i32::from(w[1].2) - i32::from(w[0].2)).abs())
        .collect();
    let steps = moves.iter().filter(|m| **m <= 2).count();
    let (lo, hi) = line
        .iter()
        .fold((u8::MAX, 0), |(lo, hi), n| (lo.min(n.2), hi.max(n.2)));
    let bar_beats = score.meter.bar_beats();
    let bars = (score.length_beats / bar_beats).round().max(1.0) as usize;
    let patterns: Vec<Vec<(i64, i64, i32)>> = (0..bars)
        .map(|b| bar_pattern(&line, b, bar_beats))
        .collect();
    let recurring = (0..bars)
        .filter(|&b| {
            !patterns[b].is_empty() && (0..bars).any(|o| o != b && patterns[o] == patterns[b])
        })
        .count();
    Some(MelodyMeasures {
        step_share: steps as f32 / moves.len() as f32,
        range: hi - lo,
        recurring_bars: recurring as f32 / bars as f32,
        notes_per_bar: line.len() as f32 / bars as f32,
        climax_at: line
            .iter()
            .find(|n| n.2 == hi)
            .map_or(0.0, |n| (n.0 / score.length_beats) as f32),
        climax_until: line
            .iter()
            .rfind(|n| n.2 == hi)
            .map_or(0.0, |n| (n.0 / score.length_beats) as f32),
        one_pitch_bars: (0..bars)
            .filter(|&b| {
                let bar: Vec<u8> = line
                    .iter()
                    .filter(|n| (n.0 / bar_beats + 1e-9) as usize == b)
                    .map(|n| n.2)
                    .collect();
                bar.len() >= 3 && bar.iter().all(|&p| p == bar[0])
            })
            .count(),
        bars,
    })
}

/// What a listener calls a style, as numbers: (harmony onsets per bar, mean harmony note length
/// in beats, bass onsets per bar, drum hits per bar). Harmony onsets closer than 0.1 beat (a
/// strum) count once.
pub fn texture_signature(score: &Score) -> [f32; 4] {
    let bars = score.bars().max(1.0) as f32;
    let part = |p: Part| score.notes.iter().filter(move |n| n.part == p);
    let mut onsets: Vec<f64> = part(Part::Harmony).map(|n| n.start_beats).collect();
    onsets.sort_by(f64::total_cmp);
    let mut distinct = 0;
    let mut last = f64::NEG_INFINITY;
    for t in onsets {
        if t - last >= 0.1 {
            distinct += 1;
            last = t;
        }
    }
    let lengths: Vec<f64> = part(Part::Harmony).map(|n| n.length_beats).collect();
    let mean_length = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
    let mut bass: Vec<f64> = part(Part::Bass).map(|n| n.start_beats).collect();
    bass.dedup();
    [
        distinct as f32 / bars,
        mean_length as f32,
        bass.len() as f32 / bars,
        part(Part::Drums).count() as f32 / bars,
    ]
}

/// Where a bass line sits and how it moves against the rest, as a listener hears it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BassMeasures {
    pub lowest: u8,
    pub highest: u8,
    /// The loop's first and last bass notes: far apart, the line jumps every time round.
    pub first: u8,
    pub last: u8,
    /// Bass notes that start above the lowest harmony note sounding with them.
    pub above_chord: usize,
    /// Strong beats (beats 1 and 3) where melody and bass move in parallel octaves or fifths.
    pub parallels: usize,
}

/// The bass line's measures, or `None` without a bass.
pub fn bass_measures(score: &Score) -> Option<BassMeasures> {
    let mut bass: Vec<&crate::score::Note> = score
        .notes
        .iter()
        .filter(|n| n.part == Part::Bass)
        .collect();
    bass.sort_by(|a, b| a.start_beats.total_cmp(&b.start_beats));
    let (first, last) = (bass.first()?, bass.last()?);
    let sounding = |part: Part, t: f64| {
        score.notes.iter().filter(move |n| {
            n.part == part && n.start_beats <= t + 1e-6 && n.start_beats + n.length_beats > t + 1e-6
        })
    };
    let above_chord = bass
        .iter()
        .filter(|b| {
            sounding(Part::Harmony, b.start_beats)
                .map(|n| n.pitch)
                .min()
                .is_some_and(|low| b.pitch > low)
        })
        .count();
    // Melody and bass at every strong beat: (melody top, bass bottom) where both sound.
    let beats = (score.length_beats / 2.0).round() as usize;
    let pairs: Vec<Option<(i32, i32)>> = (0..beats)
        .map(|k| {
            let t = k as f64 * 2.0;
            let m = sounding(Part::Melody, t)
                .map(|n| i32::from(n.pitch))
                .max()?;
            let b = sounding(Part::Bass, t).map(|n| i32::from(n.pitch)).min()?;
            Some((m, b))
        })
        .collect();
    let parallels = pairs
        .windows(2)
        .filter(|w| match (w[0], w[1]) {
            (Some((m0, b0)), Some((m1, b1))) => {
                let (i0, i1) = ((m0 - b0).rem_euclid(12), (m1 - b1).rem_euclid(12));
                i0 == i1
                    && (i0 == 0 || i0 == 7)
                    && m0 != m1
                    && (m1 - m0).signum() == (b1 - b0).signum()
            }
            _ => false,
        })
        .count();
    Some(BassMeasures {
        lowest: bass.iter().map(|n| n.pitch).min()?,
        highest: bass.iter().map(|n| n.pitch).max()?,
        first: first.pitch,
        last: last.pitch,
        above_chord,
        parallels,
    })
}

/// The accompaniment's rhythm as one string: for harmony, bass and drums (with the drum's note),
/// the places in the bar where they strike anywhere in the loop, in twelfths of a beat. Two
/// pictures with the same string have the same groove, whatever their chords.
pub fn groove_signature(score: &Score) -> String {
    let mut out = String::new();
    let bar = (score.meter.bar_beats() * 12.0).round() as i64;
    for part in [Part::Harmony, Part::Bass, Part::Drums] {
        let mut onsets: Vec<(i64, u8)> = score
            .notes
            .iter()
            .filter(|n| n.part == part)
            .map(|n| {
                let at = (n.start_beats * 12.0).round() as i64 % bar;
                (at, if part == Part::Drums { n.pitch } else { 0 })
            })
            .collect();
        onsets.sort_unstable();
        onsets.dedup();
        out.push_str(&format!("{part:?}:{onsets:?};"));
    }
    out
}

/// The tonic's pitch class, read from the score's key ("Eb Mixolydian").
pub fn tonic(score: &Score) -> Option<u8> {
    let (tonic, _) = score.tonality.split_once(' ')?;
    super::theory::pitch_class(tonic)
}

/// The major or minor triad the harmony part plays in the half bar from `beat` (the notes
/// sounding at `beat` and those starting before the half bar ends: a broken chord or an arpeggio
/// names its chord too), as its root in semitones above `tonic` and whether it is minor (`None`
/// where it plays no such triad). With a seventh, the root whose chord has the most of its notes.
pub fn chord_at(score: &Score, beat: f64, tonic: u8) -> Option<(i32, bool)> {
    let half = score.meter.bar_beats() / 2.0;
    let pcs: Vec<i32> = score
        .notes
        .iter()
        .filter(|n| {
            n.part == Part::Harmony
                && ((n.start_beats <= beat + 1e-9 && beat < n.start_beats + n.length_beats)
                    || (n.start_beats > beat && n.start_beats < beat + half - 1e-9))
        })
        .map(|n| i32::from(n.pitch % 12))
        .collect();
    let has = |pc: i32| pcs.contains(&pc.rem_euclid(12));
    pcs.iter()
        .copied()
        .filter(|&r| has(r + 7) && (has(r + 3) || has(r + 4)))
        .max_by_key(|&r| (has(r + 10) || has(r + 11), std::cmp::Reverse(r)))
        .map(|r| ((r - i32::from(tonic)).rem_euclid(12), !has(r + 4)))
}

/// A chord as a musician writes it: the Roman numeral of its root above the tonic, upper case
/// for major and lower case for minor, flat or sharp where the root is off the major scale
/// (I, vi, bVII, bvi).
pub fn numeral(root: i32, minor: bool) -> String {
    let numeral = [
        "I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII",
    ][root.rem_euclid(12) as usize];
    if minor {
        let accidental = numeral.len() - numeral.trim_start_matches(['b', '#']).len();
        format!(
            "{}{}",
            &numeral[..accidental],
            numeral[accidental..].to_lowercase()
        )
    } else {
        numeral.to_string()
    }
}

/// The progression the harmony part plays, a bar at a time: the chord on beat 1, and "-" and
/// the chord where the bar's second half starts (4/4's beat 3) where it changes ("ii-V"); "?"
/// where no major or minor triad sounds.
pub fn progression(score: &Score) -> Vec<String> {
    let Some(tonic) = tonic(score) else {
        return Vec::new();
    };
    let meter = score.meter;
    let bars = (score.length_beats / meter.bar_beats()).round() as usize;
    let name = |beat: f64| {
        chord_at(score, beat, tonic).map_or_else(|| "?".to_string(), |(r, m)| numeral(r, m))
    };
    (0..bars)
        .map(|b| {
            let (start, second) = (meter.half_start(2 * b), meter.half_start(2 * b + 1));
            let (a, z) = (name(start), name(second));
            // (Where nothing sounds on beat 3, the chord holds.)
            if a == z || z == "?" {
                a
            } else {
                format!("{a}-{z}")
            }
        })
        .collect()
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f32]) -> f32 {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(f32::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Note;

    fn melody(notes: &[(f64, f64, u8)], bars: f64) -> Score {
        let notes = notes
            .iter()
            .map(|&(s, l, p)| Note {
                start_beats: s,
                length_beats: l,
                pitch: p,
                velocity: 0.8,
                part: Part::Melody,
            })
            .collect();
        Score::new(bars * BEATS_PER_BAR, notes, String::new())
    }

    #[test]
    fn a_scale_run_repeated_is_all_steps_and_all_recurring() {
        // C D E F in quarters, twice: moves 2 2 1 (then -5 across the bar line) 2 2 1.
        let bar = [
            (0.0, 1.0, 60),
            (1.0, 1.0, 62),
            (2.0, 1.0, 64),
            (3.0, 1.0, 65),
        ];
        let notes: Vec<_> = (0..2)
            .flat_map(|b| {
                bar.iter()
                    .map(move |&(s, l, p)| (s + 4.0 * f64::from(b), l, p))
            })
            .collect();
        let m = melody_measures(&melody(&notes, 2.0)).unwrap();
        assert_eq!(m.range, 5);
        assert!((m.step_share - 6.0 / 7.0).abs() < 1e-6);
        assert_eq!(m.recurring_bars, 1.0);
        assert_eq!(m.notes_per_bar, 4.0);
        assert_eq!((m.climax_at, m.climax_until), (3.0 / 8.0, 7.0 / 8.0));
    }

    #[test]
    fn leaps_and_changing_bars_score_low() {
        let notes = [
            (0.0, 1.0, 60),
            (1.0, 1.0, 67),
            (2.0, 2.0, 72),
            (4.0, 0.5, 64),
            (4.5, 3.5, 79),
        ];
        let m = melody_measures(&melody(&notes, 2.0)).unwrap();
        assert_eq!(m.step_share, 0.0);
        assert_eq!(m.range, 19);
        assert_eq!(m.recurring_bars, 0.0);
        assert_eq!((m.climax_at, m.climax_until), (4.5 / 8.0, 4.5 / 8.0));
        assert_eq!(median(&[3.0, 1.0, 2.0, f32::NAN]), 2.0);
    }
}
