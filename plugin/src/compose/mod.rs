//! Composing: features + settings -> score. Pure and deterministic: the same picture and settings
//! always give the same score, bit for bit. Runs off the audio thread.
//!
//! The foundation mapping (deepened by the composition work to come):
//! - time runs left to right, one eighth-note step per slice of the picture;
//! - the melody follows the height of the salient content in each slice (higher in the picture is
//!   higher in pitch), on a major pentatonic scale over two octaves from C4;
//! - a slice sounds only when enough stands out in it (its energy), louder the more stands out;
//!   neighbouring slices on the same pitch join into one held note;
//! - the bass plays two notes a bar whose root follows the bar's brightness (darker bars take the
//!   minor vi and ii roots, lighter bars I, IV and V).

use crate::analysis::{Column, Features};
use crate::score::{Note, Part, Score, BEATS_PER_BAR};

/// Choices that shape the score, as the musician sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Loop length in bars of 4/4.
    pub bars: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { bars: 2 }
    }
}

pub const MIN_BARS: u32 = 1;
pub const MAX_BARS: u32 = 16;

/// Steps per beat: the melody grid is eighth notes.
pub const STEPS_PER_BEAT: usize = 2;
/// Slices of the picture a bar reads.
pub const STEPS_PER_BAR: usize = STEPS_PER_BEAT * BEATS_PER_BAR as usize;

const PENTATONIC: [u8; 5] = [0, 2, 4, 7, 9];
const MELODY_ROOT: u8 = 60;
const MELODY_DEGREES: usize = 11;
/// Slices with less energy than this (relative to the busiest slice) stay silent.
const NOTE_THRESHOLD: f32 = 0.3;
/// Longest held melody note, in steps: repeated pitches re-articulate every beat.
const MAX_HELD_STEPS: usize = 2;
/// Bass roots from darkest to lightest bar: vi, ii, IV, I, V in C.
const BASS_ROOTS: [u8; 5] = [45, 38, 41, 36, 43];

/// How many picture slices `compose` expects for these settings.
pub fn steps_for(settings: &Settings) -> usize {
    settings.bars.clamp(MIN_BARS, MAX_BARS) as usize * STEPS_PER_BAR
}

fn span(values: impl Iterator<Item = f32>) -> (f32, f32) {
    values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

fn melody_pitch(height: f32) -> u8 {
    let degree = ((height.clamp(0.0, 1.0) * (MELODY_DEGREES - 1) as f32).round()) as usize;
    MELODY_ROOT + 12 * (degree / PENTATONIC.len()) as u8 + PENTATONIC[degree % PENTATONIC.len()]
}

pub fn compose(features: &Features, settings: &Settings, source: String) -> Score {
    let bars = settings.bars.clamp(MIN_BARS, MAX_BARS) as usize;
    let steps = bars * STEPS_PER_BAR;
    let step_beats = 1.0 / STEPS_PER_BEAT as f64;
    // Heights and energies are ranked within the picture (cross-modal matches are relative), so a
    // picture whose content sits in a narrow band still spans the melody's range.
    let raw = |i: usize| features.columns[i * features.columns.len() / steps];
    let (h_lo, h_hi) = span(features.columns.iter().map(|c| c.height));
    let (e_lo, e_hi) = span(features.columns.iter().map(|c| c.energy));
    let column = |i: usize| {
        let c = raw(i);
        Column {
            height: if h_hi - h_lo > 1e-3 {
                (c.height - h_lo) / (h_hi - h_lo)
            } else {
                c.height
            },
            energy: if e_hi - e_lo > 0.05 {
                (c.energy - e_lo) / (e_hi - e_lo)
            } else {
                c.energy
            },
            lightness: c.lightness,
        }
    };
    let mut notes = Vec::new();

    let mut step = 0;
    while step < steps {
        let c = column(step);
        if c.energy < NOTE_THRESHOLD {
            step += 1;
            continue;
        }
        let pitch = melody_pitch(c.height);
        let mut end = step + 1;
        while end < steps
            && end - step < MAX_HELD_STEPS
            && column(end).energy >= NOTE_THRESHOLD
            && melody_pitch(column(end).height) == pitch
        {
            end += 1;
        }
        notes.push(Note {
            start_beats: step as f64 * step_beats,
            length_beats: (end - step) as f64 * step_beats - 0.1 * step_beats,
            pitch,
            velocity: 0.5 + 0.5 * c.energy,
            part: Part::Melody,
        });
        step = end;
    }

    let bar_light: Vec<f32> = (0..bars)
        .map(|b| {
            (b * STEPS_PER_BAR..(b + 1) * STEPS_PER_BAR)
                .map(|i| column(i).lightness)
                .sum::<f32>()
                / STEPS_PER_BAR as f32
        })
        .collect();
    let lo = bar_light.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = bar_light.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for (b, light) in bar_light.iter().enumerate() {
        // A picture of even brightness keeps the tonic; otherwise bars are ranked within it.
        let rel = if hi - lo > 1e-3 {
            (light - lo) / (hi - lo)
        } else {
            0.75
        };
        let root = BASS_ROOTS[((rel * (BASS_ROOTS.len() - 1) as f32).round()) as usize];
        for half in 0..2 {
            notes.push(Note {
                start_beats: b as f64 * BEATS_PER_BAR + half as f64 * 2.0,
                length_beats: 1.75,
                pitch: root,
                velocity: 0.7,
                part: Part::Bass,
            });
        }
    }
    Score::new(bars as f64 * BEATS_PER_BAR, notes, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(cols: Vec<Column>) -> Features {
        Features {
            columns: cols,
            mean_lightness: 0.5,
            mean_chroma: 0.0,
        }
    }

    fn col(height: f32, energy: f32) -> Column {
        Column {
            height,
            energy,
            lightness: 0.5,
        }
    }

    #[test]
    fn higher_in_the_picture_is_higher_in_pitch() {
        let f = features((0..16).map(|i| col(i as f32 / 15.0, 1.0)).collect());
        let s = compose(&f, &Settings { bars: 2 }, String::new());
        let melody: Vec<u8> = s
            .notes
            .iter()
            .filter(|n| n.part == Part::Melody)
            .map(|n| n.pitch)
            .collect();
        assert!(melody.windows(2).all(|w| w[1] > w[0]), "{melody:?}");
        assert_eq!(melody.first(), Some(&60));
        assert_eq!(melody.last(), Some(&84));
    }

    #[test]
    fn quiet_slices_are_rests_and_equal_neighbours_are_held() {
        let mut cols = vec![col(0.0, 0.0); 8];
        cols[2] = col(0.5, 1.0);
        cols[3] = col(0.5, 1.0);
        let s = compose(&features(cols), &Settings { bars: 1 }, String::new());
        let melody: Vec<&Note> = s.notes.iter().filter(|n| n.part == Part::Melody).collect();
        assert_eq!(melody.len(), 1);
        assert_eq!(melody[0].start_beats, 1.0);
        assert!((melody[0].length_beats - 0.95).abs() < 1e-9);
    }

    #[test]
    fn loop_length_follows_bars() {
        let f = features(vec![col(0.5, 1.0); 64]);
        for bars in [1, 3, 16] {
            let s = compose(&f, &Settings { bars }, String::new());
            assert_eq!(s.length_beats, bars as f64 * 4.0);
            assert_eq!(
                s.notes.iter().filter(|n| n.part == Part::Bass).count(),
                2 * bars as usize
            );
        }
    }
}
