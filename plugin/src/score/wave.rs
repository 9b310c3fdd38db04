//! The picture's own waveforms: rows of the picture, each one cycle of a wave, that the voices
//! morph through (Wave Position, Wave Scan) where a part's Picture amount lets them.
//!
//! A score stores the rows (lightness, 8 bits per point, base64 in the project); the band-limited
//! table is built from them when a score is composed, and for a score read from a project when it
//! is first asked for: when it is published to the audio thread, which never builds one (a
//! project's state is read twice on load, once to check it, and only the score that plays needs
//! its table).

use std::sync::OnceLock;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::wavetable::{MipTable, TableBuild};

/// At most this many frames (rows) in a wave.
pub const MAX_FRAMES: usize = 64;
/// Points per row at most: a cycle is the row and its mirror image, so up to twice this many
/// samples and half as many harmonics.
pub const MAX_WIDTH: usize = 512;

/// What a project saves of a [`Wave`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WaveRows {
    pub frames: usize,
    pub width: usize,
    /// `frames * width` lightness values, row after row, top row first, as base64.
    pub rows_base64: String,
}

/// The picture's rows as a wavetable, frame 0 the top row.
#[derive(Serialize, Deserialize, Clone)]
#[serde(from = "WaveRows", into = "WaveRows")]
pub struct Wave {
    frames: usize,
    width: usize,
    rows: Vec<u8>,
    /// Built from the rows once (clones share it).
    table: OnceLock<MipTable>,
}

impl Wave {
    /// A wave from `frames` rows of `width` lightness values each (row after row), its table
    /// built. Rows that are out of shape are cut or padded; with no rows at all the wave is one
    /// sine.
    pub fn from_rows(frames: usize, width: usize, rows: Vec<u8>) -> Wave {
        let wave = Wave::unbuilt(frames, width, rows);
        wave.table();
        wave
    }

    /// [`Wave::from_rows`] without the table, which is built when first asked for.
    pub(crate) fn unbuilt(frames: usize, width: usize, mut rows: Vec<u8>) -> Wave {
        let width = width.clamp(1, MAX_WIDTH);
        let frames = frames.clamp(1, MAX_FRAMES);
        rows.resize(frames * width, 128);
        Wave {
            frames,
            width,
            rows,
            table: OnceLock::new(),
        }
    }

    /// The table the voices read, made from [`Wave::table_build`] (the wave's own).
    pub(crate) fn with_table(self, table: MipTable) -> Wave {
        // (A table already there is the same one.)
        let _ = self.table.set(table);
        self
    }

    /// The band-limited table the voices read, built here if it is not yet (a few milliseconds:
    /// never on the audio thread, which reads [`Wave::built_table`]).
    pub fn table(&self) -> &MipTable {
        self.table.get_or_init(|| self.table_build().built())
    }

    /// The table's making, its levels left to run.
    pub(crate) fn table_build(&self) -> TableBuild {
        // A cycle is the row there and back: no jump where the cycle wraps (which would buzz
        // like a sawtooth whatever the row holds), and the row's shape sets the harmonics.
        let cycles: Vec<Vec<f32>> = self
            .rows
            .chunks(self.width)
            .map(|row| {
                row.iter()
                    .chain(row.iter().rev())
                    .map(|&v| f32::from(v) / 255.0)
                    .collect()
            })
            .collect();
        TableBuild::of_cycles(&cycles)
    }

    /// The table if it is built (the audio thread's read: it never builds one).
    pub fn built_table(&self) -> Option<&MipTable> {
        self.table.get()
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `frame`'s lightness values.
    pub fn row(&self, frame: usize) -> &[u8] {
        let f = frame.min(self.frames - 1);
        &self.rows[f * self.width..(f + 1) * self.width]
    }

    /// The rows, for the score's fingerprint.
    pub fn rows(&self) -> &[u8] {
        &self.rows
    }
}

impl PartialEq for Wave {
    fn eq(&self, other: &Wave) -> bool {
        (self.frames, self.width, &self.rows) == (other.frames, other.width, &other.rows)
    }
}

impl std::fmt::Debug for Wave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wave({} x {})", self.frames, self.width)
    }
}

impl From<WaveRows> for Wave {
    /// Unreadable rows (not base64) read as a flat wave, which plays as a sine. The table is
    /// left to be built when asked for.
    fn from(w: WaveRows) -> Wave {
        let rows = base64::engine::general_purpose::STANDARD
            .decode(w.rows_base64.as_bytes())
            .unwrap_or_default();
        Wave::unbuilt(w.frames, w.width, rows)
    }
}

impl From<Wave> for WaveRows {
    fn from(w: Wave) -> WaveRows {
        WaveRows {
            frames: w.frames,
            width: w.width,
            rows_base64: base64::engine::general_purpose::STANDARD.encode(&w.rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wave_round_trips_through_json_and_rebuilds_its_table() {
        let rows: Vec<u8> = (0..4 * 32).map(|i| (i * 37 % 256) as u8).collect();
        let w = Wave::from_rows(4, 32, rows);
        let json = serde_json::to_string(&w).unwrap();
        let back: Wave = serde_json::from_str(&json).unwrap();
        assert_eq!(back, w);
        // (Read from a project, the table waits until it is asked for.)
        assert!(w.built_table().is_some() && back.built_table().is_none());
        assert_eq!(back.table().data(), w.table().data());
        assert_eq!(back.table().frames(), 4);
    }

    #[test]
    fn garbage_rows_become_a_playable_wave() {
        let json = r#"{"frames": 1000000, "width": 0, "rows_base64": "not base64 !!"}"#;
        let w: Wave = serde_json::from_str(json).unwrap();
        assert_eq!((w.frames(), w.width()), (MAX_FRAMES, 1));
        assert!(w.table().data().iter().all(|x| x.is_finite()));
        let peak = w
            .table()
            .frame(0, 0)
            .iter()
            .fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 1.0).abs() < 1e-3, "a sine at full level: {peak}");
    }
}
