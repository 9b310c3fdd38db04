//! Randomise: another Variation (and, if asked, another style) for the same picture, set the way
//! a host records a musician's change.

use nice_plug::prelude::*;

use super::params::{PixelodyParams, StyleChoice};

/// What Randomise picks: another Variation (0..=`max`, never `current`) from `entropy`, and with
/// `new_style` another style than the one playing (`playing`, the score's style name), never
/// Auto.
pub fn randomised(
    current: i32,
    max: i32,
    playing: &str,
    new_style: bool,
    entropy: u64,
) -> (i32, Option<StyleChoice>) {
    let span = max.max(1) as u64;
    // Any value but the current one: a step of 1..=max around the range.
    let variation = ((i64::from(current) + 1 + (entropy % span) as i64) % (span as i64 + 1)) as i32;
    let style = new_style.then(|| {
        let others: Vec<StyleChoice> = (1..StyleChoice::variants().len())
            .map(StyleChoice::from_index)
            .filter(|s| StyleChoice::variants()[s.to_index()] != playing)
            .collect();
        others[((entropy >> 32) % others.len() as u64) as usize]
    });
    (variation, style)
}

/// Randomise: another Variation (and with `new_style` another style), set as one gesture so the
/// host records one change. Returns what it did, as the editor says it: "Variation 304 (Pop)".
pub fn randomise(
    p: &PixelodyParams,
    setter: &ParamSetter,
    playing_style: &str,
    new_style: bool,
) -> String {
    let entropy = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let (variation, style) = randomised(
        p.composing.variation.value(),
        999,
        playing_style,
        new_style,
        entropy,
    );
    setter.begin_set_parameter(&p.composing.variation);
    if style.is_some() {
        setter.begin_set_parameter(&p.composing.style);
    }
    setter.set_parameter(&p.composing.variation, variation);
    if let Some(style) = style {
        setter.set_parameter(&p.composing.style, style);
        setter.end_set_parameter(&p.composing.style);
    }
    setter.end_set_parameter(&p.composing.variation);
    let style = match style {
        Some(s) => StyleChoice::variants()[s.to_index()],
        None => playing_style,
    };
    if style.is_empty() {
        format!("Variation {variation}")
    } else {
        format!("Variation {variation} ({style})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randomise_always_moves_and_stays_in_range() {
        let mut seen = std::collections::HashSet::new();
        for e in 0..5_000u64 {
            let entropy = e.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for current in [0, 1, 500, 998, 999] {
                let (v, style) = randomised(current, 999, "Ballad", true, entropy);
                assert!((0..=999).contains(&v) && v != current, "{current} -> {v}");
                let style = style.unwrap();
                assert!(style != StyleChoice::Auto && style != StyleChoice::Ballad);
                seen.insert(style.to_index());
            }
            assert_eq!(randomised(7, 999, "Ballad", false, entropy).1, None);
        }
        assert_eq!(seen.len(), 5, "every other style comes up");
    }
}
