//! The feel of a Compose score: swing (off-beat eighths pushed late, from straight through a
//! triplet feel to a hard shuffle) and humanise (each part's onsets and velocities spread a
//! little, the same way for the same Variation).

use crate::score::{Meter, Note, Part};

/// Where an off-beat eighth falls for a swing `amount` (0..1), as a share of the beat: 0.5
/// straight, 2/3 (at about 67%) a triplet feel, 0.75 at 100% (a dotted eighth and a sixteenth).
pub fn off_beat(amount: f32) -> f64 {
    // (In steps of 1/3000, so two thirds is exactly a triplet's two thirds.)
    let amount = (f64::from(amount.clamp(0.0, 1.0)) * 3000.0).round() / 3000.0;
    0.5 + 0.25 * amount
}

/// `beat` moved as swing moves it: the first half of each beat stretched to `off_beat`, the
/// second half squeezed after it (on-beats stay where they are).
pub fn swung(beat: f64, off_beat: f64) -> f64 {
    let whole = beat.floor();
    let frac = beat - whole;
    whole
        + if frac <= 0.5 {
            frac / 0.5 * off_beat
        } else {
            off_beat + (frac - 0.5) / 0.5 * (1.0 - off_beat)
        }
}

/// `beat` (of the loop) moved as swing moves it in `meter`: inside each beat of two eighths as
/// [`swung`] moves it; beats of three eighths (6/8, 12/8, 7/8's long beat) already lilt and stay
/// as they are.
pub fn swung_in(beat: f64, off_beat: f64, meter: Meter) -> f64 {
    let bar_beats = meter.bar_beats();
    let bar = (beat / bar_beats).floor() * bar_beats;
    let within = beat - bar;
    let beats = meter.beat_times();
    let k = beats
        .iter()
        .rposition(|&t| t <= within + 1e-12)
        .unwrap_or(0);
    if meter.beats()[k] != 2 {
        return beat;
    }
    bar + beats[k] + swung(within - beats[k], off_beat)
}

/// Swings every note (start and end) by `amount`, in `meter`.
pub fn swing(notes: &mut [Note], amount: f32, meter: Meter) {
    let at = off_beat(amount);
    if at == 0.5 {
        return;
    }
    for n in notes {
        let end = n.start_beats + n.length_beats;
        let (start, swung_end) = (swung_in(n.start_beats, at, meter), swung_in(end, at, meter));
        // (A note swing does not move keeps its length exactly.)
        if start != n.start_beats || swung_end != end {
            n.length_beats = swung_end - start;
            n.start_beats = start;
        }
    }
}

/// The most a note moves at Humanise 100%: a twentieth of a beat (25 ms at 120 BPM) either way.
pub const TIMING_SPREAD: f64 = 0.05;
/// The most a note's velocity changes at Humanise 100%.
pub const VELOCITY_SPREAD: f32 = 0.2;

/// A number in -1..1 (a triangular spread: small moves likelier than large) from `seed`,
/// `part` and `onset`: the same for the same three.
fn jitter(seed: u32, part: Part, onset: f64, salt: u64) -> f64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for v in [part as u64, (onset * 480.0).round() as u64, salt] {
        h ^= v;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
    }
    let unit = |x: u64| (x >> 11) as f64 / (1u64 << 53) as f64;
    unit(h) + unit(h.wrapping_mul(0x2545_f491_4f6c_dd1d)) - 1.0
}

/// Spreads each part's onsets (a chord's notes together, as one hand plays them) by up to
/// `amount` x [`TIMING_SPREAD`] beats and each note's velocity by up to `amount` x
/// [`VELOCITY_SPREAD`], the same way for the same `seed` (the Variation). Nothing moves before
/// the loop's start.
pub fn humanise(notes: &mut [Note], amount: f32, seed: u32) {
    let amount = amount.clamp(0.0, 1.0);
    if amount == 0.0 {
        return;
    }
    for n in notes {
        let onset = n.start_beats;
        let shift = jitter(seed, n.part, onset, 1) * TIMING_SPREAD * f64::from(amount);
        let start = (onset + shift).max(0.0);
        n.length_beats = (n.length_beats - (start - onset)).max(0.05);
        n.start_beats = start;
        let pitch_salt = 2 + u64::from(n.pitch);
        let dv = jitter(seed, n.part, onset, pitch_salt) as f32 * VELOCITY_SPREAD * amount;
        n.velocity = (n.velocity + dv).clamp(0.05, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes() -> Vec<Note> {
        (0..32)
            .flat_map(|k| {
                [Part::Melody, Part::Harmony, Part::Harmony].map(|part| Note {
                    start_beats: k as f64 * 0.5,
                    length_beats: 0.4,
                    pitch: 60 + (k % 7) as u8,
                    velocity: 0.6,
                    part,
                })
            })
            .collect()
    }

    #[test]
    fn swing_pushes_off_beats_late_and_leaves_the_beats() {
        for (amount, expected) in [(0.0, 0.5), (2.0 / 3.0, 2.0 / 3.0 * 0.25 + 0.5), (1.0, 0.75)] {
            let mut n = notes();
            swing(&mut n, amount, Meter::COMMON);
            for (a, b) in notes().iter().zip(&n) {
                let beat = a.start_beats.floor();
                if a.start_beats == beat {
                    assert_eq!(b.start_beats, beat);
                } else {
                    assert!((b.start_beats - beat - expected).abs() < 1e-9, "{b:?}");
                }
            }
        }
        assert_eq!(off_beat(2.0 / 3.0), 2.0 / 3.0, "a triplet feel");
        // Sixteenths keep their order.
        let order: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&b| swung(b, off_beat(1.0)))
            .collect();
        assert!(order.windows(2).all(|w| w[1] > w[0]), "{order:?}");
    }

    #[test]
    fn humanise_stays_within_its_spread_and_is_the_same_for_the_same_variation() {
        let mut a = notes();
        humanise(&mut a, 1.0, 7);
        let mut b = notes();
        humanise(&mut b, 1.0, 7);
        assert_eq!(a, b);
        let mut c = notes();
        humanise(&mut c, 1.0, 8);
        assert_ne!(a, c, "another Variation, another spread");
        let mut moved = 0;
        for (before, after) in notes().iter().zip(&a) {
            let d = after.start_beats - before.start_beats;
            assert!(d.abs() <= TIMING_SPREAD + 1e-9 && after.start_beats >= 0.0);
            assert!((after.velocity - before.velocity).abs() <= VELOCITY_SPREAD + 1e-6);
            moved += usize::from(d.abs() > 1e-6);
        }
        assert!(moved > 40, "{moved} of {} moved", a.len());
        // A chord's notes move together; half the amount, half the spread at most.
        for k in (0..a.len()).step_by(3) {
            assert_eq!(a[k + 1].start_beats, a[k + 2].start_beats);
        }
        let mut half = notes();
        humanise(&mut half, 0.5, 7);
        for (before, after) in notes().iter().zip(&half) {
            assert!((after.start_beats - before.start_beats).abs() <= TIMING_SPREAD / 2.0 + 1e-9);
        }
        // Nothing at 0%.
        let mut none = notes();
        humanise(&mut none, 0.0, 7);
        assert_eq!(none, notes());
    }
}
