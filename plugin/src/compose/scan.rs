//! Scan mode: MIDI art in reverse. The picture is a piano roll: rows from bottom to top are the
//! scale's pitches from Low to High, columns are steps of the grid across the loop. A cell is a
//! note when its lightness reaches the threshold (or stays below it, inverted); horizontal runs
//! are held notes; velocity follows brightness; each step keeps at most `MAX_POLYPHONY` notes, the
//! brightest. A picture drawn as a piano roll (one pixel per step and pitch) scans back to exactly
//! its notes.

use super::theory::Tonality;
use super::Settings;
use crate::analysis::Picture;
use crate::score::{Meter, Note, Part, BEATS_PER_BAR};

pub const MAX_POLYPHONY: usize = 8;

/// The pitches the rows stand for, lowest first: the scale's notes from `low` to `high`.
pub fn row_pitches(s: &Settings, t: Tonality) -> Vec<u8> {
    (s.low..=s.high).filter(|&p| t.contains(p)).collect()
}

/// Mean lightness of the picture area that covers cell (`col`, `row`) of a `cols` x `rows` grid,
/// `row` 0 at the top. Area sampling: every pixel of the picture belongs to exactly one cell when
/// the picture is larger than the grid, and cells repeat pixels when it is smaller.
fn cell(p: &Picture, col: usize, cols: usize, row: usize, rows: usize) -> f32 {
    let x0 = col * p.width / cols;
    let x1 = ((col + 1) * p.width / cols).max(x0 + 1).min(p.width);
    let y0 = row * p.height / rows;
    let y1 = ((row + 1) * p.height / rows).max(y0 + 1).min(p.height);
    let mut sum = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += p.at(x, y).l;
        }
    }
    sum / ((x1 - x0) * (y1 - y0)) as f32
}

/// The picture as a piano roll in `meter`: the Grid is a note value (16 = sixteenths, as in 4/4),
/// so a bar of 6/8 has 12 sixteenth steps and one of 7/8 fourteen (a quarter-note grid in 7/8
/// leaves the loop's last odd eighth silent).
pub fn scan(p: &Picture, s: &Settings, t: Tonality, meter: Meter) -> Vec<Note> {
    let pitches = row_pitches(s, t);
    let rows = pitches.len();
    let step_beats = BEATS_PER_BAR / f64::from(s.grid);
    let steps = (f64::from(s.bars) * meter.bar_beats() / step_beats + 1e-9).floor() as usize;
    if rows == 0 || steps == 0 {
        return Vec::new();
    }
    // Brightness of every lit cell (0 = not a note), `lit[step][row]` with row 0 = lowest pitch.
    let mut lit = vec![vec![0.0f32; rows]; steps];
    for (step, column) in lit.iter_mut().enumerate() {
        for (r, value) in column.iter_mut().enumerate() {
            let l = cell(p, step, steps, rows - 1 - r, rows);
            let b = if s.invert { 1.0 - l } else { l };
            if b >= s.threshold.max(1e-3) {
                *value = b;
            }
        }
        // Keep the brightest notes of a crowded step (ties: the lower pitch).
        let mut order: Vec<usize> = (0..rows).filter(|&r| column[r] > 0.0).collect();
        if order.len() > MAX_POLYPHONY {
            order.sort_by(|&a, &b| column[b].total_cmp(&column[a]).then(a.cmp(&b)));
            for &r in &order[MAX_POLYPHONY..] {
                column[r] = 0.0;
            }
        }
    }
    let mut notes = Vec::new();
    for (r, &pitch) in pitches.iter().enumerate() {
        let mut step = 0;
        while step < steps {
            if lit[step][r] == 0.0 {
                step += 1;
                continue;
            }
            let start = step;
            let mut peak = 0.0f32;
            while step < steps && lit[step][r] > 0.0 {
                peak = peak.max(lit[step][r]);
                step += 1;
            }
            notes.push(Note {
                start_beats: start as f64 * step_beats,
                length_beats: (step - start) as f64 * step_beats,
                pitch,
                velocity: 0.3 + 0.7 * peak,
                part: Part::Melody,
            });
        }
    }
    notes
}
