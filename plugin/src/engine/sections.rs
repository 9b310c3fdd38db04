//! A piece's sound as the loop moves: each section's own brightness and cutoff, glided into the
//! next one's, and the picture wave's scan position over the loop.

use crate::score::{Section, SectionSound};

/// Cutoff's range in octaves above 1 Hz (20 Hz to 20 kHz), for a section's offset.
pub(super) const MIN_CUTOFF_LOG2: f32 = 4.321_928;
pub(super) const MAX_CUTOFF_LOG2: f32 = 14.287_712;

/// A piece's section sound at loop phase `phase` (any real; its fraction counts) of a loop
/// `length` beats long, `sections` of equal length: the section's own, gliding (smoothstep)
/// into the next one's over the beat before it starts (over half a section if that is shorter).
pub(super) fn section_sound(sections: &[Section], phase: f64, length: f64) -> SectionSound {
    let n = sections.len();
    let whole = phase - (phase as i64) as f64;
    let phase = if whole < 0.0 { whole + 1.0 } else { whole };
    let u = phase * n as f64;
    // (Through an i32, several times cheaper than to a usize: u is 0 ..= n, or NaN (0).)
    let k = (u as i32 as usize).min(n - 1);
    let within = (u - k as f64) as f32;
    let ramp = ((n as f64 / length.max(1e-9)) as f32).min(0.5);
    let w = ((within - (1.0 - ramp)) / ramp).clamp(0.0, 1.0);
    let w = w * w * (3.0 - 2.0 * w);
    let (a, b) = (sections[k].sound, sections[(k + 1) % n].sound);
    SectionSound {
        brightness: a.brightness + (b.brightness - a.brightness) * w,
        cutoff_oct: a.cutoff_oct + (b.cutoff_oct - a.cutoff_oct) * w,
    }
}

/// The wave position (0..1) at loop phase `phase` (0..1): `position` (0..1), moved by `scan`
/// (0..1) down the picture and back over the loop (a triangle, so the loop's end meets its
/// start), reflected at the picture's bottom.
pub(super) fn scanned_position(position: f32, scan: f32, phase: f64) -> f32 {
    // The fractional part without `floor` or `%` (library calls on baseline x86-64).
    let whole = phase - (phase as i64) as f64;
    let phase = if whole < 0.0 { whole + 1.0 } else { whole };
    let tri = 1.0 - (2.0 * phase as f32 - 1.0).abs();
    let p = (position + scan * tri).clamp(0.0, 2.0);
    if p > 1.0 {
        2.0 - p
    } else {
        p
    }
}
