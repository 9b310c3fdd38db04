//! Beats -> samples. Finds, without allocating, the sample on which each note of a looping score
//! starts within a block, given the block's start position and tempo.
//!
//! A note whose beat falls at sample position `x` (fractional, from the block start) starts on
//! sample `ceil(x)`: the first sample at or after its beat. A tolerance of
//! [`ONSET_TOLERANCE_SAMPLES`] absorbs rounding in host positions (CLAP sends beats in 1/2^31
//! fixed point), so a note exactly on a sample lands on that sample whatever the block size.

use crate::score::{Note, Score};

/// How far (in samples) a host position may be off before a note moves to the next sample.
pub const ONSET_TOLERANCE_SAMPLES: f64 = 1e-3;

/// The sample offset, relative to a block starting at `block_start` beats, at which an event at
/// `beat` happens. Negative when it is already due.
pub fn onset_offset(beat: f64, block_start: f64, beats_per_sample: f64) -> i64 {
    ((beat - block_start) / beats_per_sample - ONSET_TOLERANCE_SAMPLES).ceil() as i64
}

/// The next note to start: note `idx` of loop repetition `lap` (which may be negative during
/// pre-roll).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    lap: i64,
    idx: usize,
}

impl Cursor {
    /// The first note whose onset is at or after the block starting at `start`.
    pub fn seek(score: &Score, start: f64, beats_per_sample: f64) -> Cursor {
        if score.notes.is_empty() {
            return Cursor::default();
        }
        // Onsets with offset >= 0 are those strictly after this beat (see `onset_offset`).
        let threshold = start + (ONSET_TOLERANCE_SAMPLES - 1.0) * beats_per_sample;
        let len = score.length_beats;
        let lap = (threshold / len).floor();
        let local = threshold - lap * len;
        let idx = score.notes.partition_point(|n| n.start_beats <= local);
        let mut c = Cursor {
            lap: lap as i64,
            idx,
        };
        if idx >= score.notes.len() {
            c.lap += 1;
            c.idx = 0;
        }
        c
    }

    /// The note under the cursor and its absolute onset in host beats.
    pub fn current(&self, score: &Score) -> (Note, f64) {
        let note = score.notes[self.idx];
        (
            note,
            self.lap as f64 * score.length_beats + note.start_beats,
        )
    }

    /// Block-relative sample of the next onset (0 when overdue), or `None` if the score is empty.
    pub fn next_offset(&self, score: &Score, start: f64, beats_per_sample: f64) -> Option<usize> {
        if self.idx >= score.notes.len() {
            return None;
        }
        let (_, beat) = self.current(score);
        Some(onset_offset(beat, start, beats_per_sample).max(0) as usize)
    }

    pub fn advance(&mut self, score: &Score) {
        self.idx += 1;
        if self.idx >= score.notes.len() {
            self.idx = 0;
            self.lap += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Part;

    fn score(starts: &[f64], len: f64) -> Score {
        let notes = starts
            .iter()
            .map(|&s| Note {
                start_beats: s,
                length_beats: 0.25,
                pitch: 60,
                velocity: 1.0,
                part: Part::Melody,
            })
            .collect();
        Score::new(len, notes, String::new())
    }

    /// Collects (absolute sample, note index) of every onset over `total` samples in blocks.
    fn onsets(s: &Score, beats_per_sample: f64, total: usize, block: usize) -> Vec<usize> {
        let mut c = Cursor::seek(s, 0.0, beats_per_sample);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < total {
            let n = block.min(total - pos);
            let start = pos as f64 * beats_per_sample;
            while let Some(off) = c.next_offset(s, start, beats_per_sample) {
                if off >= n {
                    break;
                }
                out.push(pos + off);
                c.advance(s);
            }
            pos += n;
        }
        out
    }

    #[test]
    fn onsets_land_on_the_first_sample_at_or_after_their_beat() {
        // 120 BPM at 48 kHz: 24000 samples per beat.
        let beats_per_sample = 120.0 / 60.0 / 48_000.0;
        let s = score(&[0.0, 1.0, 1.5, 1.0 / 3.0], 2.0);
        let got = onsets(&s, beats_per_sample, 96_000, 512);
        assert_eq!(got, vec![0, 8000, 24000, 36000, 48000, 56000, 72000, 84000]);
    }

    #[test]
    fn block_size_does_not_move_onsets() {
        let beats_per_sample = 97.0 / 60.0 / 44_100.0;
        let s = score(&[0.0, 0.1, 0.77, 1.0, 2.999], 3.0);
        let reference = onsets(&s, beats_per_sample, 300_000, 1);
        for block in [7, 64, 480, 4096] {
            assert_eq!(
                onsets(&s, beats_per_sample, 300_000, block),
                reference,
                "block {block}"
            );
        }
    }

    #[test]
    fn seeking_into_the_middle_skips_earlier_notes_and_wraps() {
        let s = score(&[0.0, 1.0, 3.0], 4.0);
        let beats_per_sample = 0.001;
        let c = Cursor::seek(&s, 1.5, beats_per_sample);
        assert_eq!(c.current(&s).1, 3.0);
        let c = Cursor::seek(&s, 3.5, beats_per_sample);
        assert_eq!(c.current(&s).1, 4.0);
        let c = Cursor::seek(&s, -0.5, beats_per_sample);
        assert_eq!(c.current(&s).1, 0.0);
    }
}
