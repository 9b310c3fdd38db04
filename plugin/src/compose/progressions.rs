//! The harmony's vocabulary: progression families, each an eight-bar period (two four-bar
//! phrases: an antecedent that ends open, mostly on V, and a consequent that closes on I), at
//! home in some styles and suited to a kind of picture (dark or light, still or busy).
//!
//! A family is what a musician names a progression by: the axis (I-V-vi-IV), doo-wop
//! (I-vi-IV-V), the circle turnaround (I-vi-ii-V) and the royal road (IV-V-iii-vi) of Lo-fi,
//! Pachelbel's canon with its descending bass, a modal pedal that rocks between I and the mode's
//! own colour chord (Dorian IV, Mixolydian bVII, Lydian II, Aeolian bVI), the Mixolydian
//! I-bVII-IV of rock and chiptune, the epic minor i-bVI-bIII-bVII of game music, the Andalusian
//! descent to a major V, the borrowed minor iv, and secondary dominants (V/vi, V/V).
//! Chords are written on the degrees of the chords' seven-note tonality, so a family sounds in
//! any mode (vi of a major key is VI of a minor one); a chord the mode makes diminished gives way
//! to the one a third below (or above) it, which shares two of its notes.

use super::harmony::Chord;
use super::style::Style;
use super::theory::{Scale, Tonality};
use Style::*;

/// A progression family: two four-bar phrases, each bar's chord on beats 1 and 3.
pub struct Family {
    pub name: &'static str,
    /// The styles that play it.
    styles: &'static [Style],
    /// The picture's mood it suits, -1 dark .. 1 light.
    mood: f32,
    /// How much the picture moves (its edges), 0 still .. 1 busy.
    motion: f32,
    pub bars: [[Tok; 2]; 8],
}

/// A chord in a family's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// The triad the scale builds on this degree.
    D(i32),
    /// A major triad on this degree's root (V in a minor key, II = V/V, III = V/vi).
    Maj(i32),
    /// A minor triad on this degree's root (the borrowed iv).
    Min(i32),
    /// A major triad this many semitones above the tonic (bVII = 10, bVI = 8, bIII = 3).
    On(i32),
    /// The mode's colour chord.
    Colour,
}
use Tok::*;

/// One chord for the whole bar.
const fn w(t: Tok) -> [Tok; 2] {
    [t, t]
}

const I: [Tok; 2] = w(D(0));

pub const FAMILIES: [Family; 14] = [
    Family {
        name: "Axis",
        styles: &[Pop, Pulse],
        mood: 0.5,
        motion: 0.6,
        bars: [I, w(D(4)), w(D(5)), w(D(3)), I, w(D(4)), [D(3), D(4)], I],
    },
    Family {
        name: "Doo-wop",
        styles: &[Pop, Ballad, Chiptune],
        mood: 0.6,
        motion: 0.3,
        bars: [I, w(D(5)), w(D(3)), w(D(4)), I, w(D(5)), [D(1), D(4)], I],
    },
    Family {
        name: "Minor first",
        styles: &[Pop, Pulse, LoFi],
        mood: -0.2,
        motion: 0.6,
        bars: [w(D(5)), w(D(3)), I, w(D(4)), w(D(5)), w(D(3)), w(D(4)), I],
    },
    Family {
        name: "Turnaround",
        styles: &[LoFi, Ballad],
        mood: 0.2,
        motion: 0.4,
        bars: [
            I,
            w(D(5)),
            w(D(1)),
            w(D(4)),
            w(D(2)),
            w(D(5)),
            [D(1), D(4)],
            I,
        ],
    },
    Family {
        name: "Royal road",
        styles: &[LoFi, Pop],
        mood: 0.0,
        motion: 0.7,
        bars: [
            w(D(3)),
            w(D(4)),
            w(D(2)),
            w(D(5)),
            w(D(1)),
            [D(2), D(5)],
            [D(3), D(4)],
            I,
        ],
    },
    Family {
        name: "Canon",
        styles: &[Ballad, Ambient],
        mood: 0.3,
        motion: 0.2,
        bars: [I, w(D(4)), w(D(5)), w(D(2)), w(D(3)), I, [D(3), D(4)], I],
    },
    Family {
        name: "Rising",
        styles: &[Ballad, Pop],
        mood: 0.7,
        motion: 0.5,
        bars: [
            I,
            w(D(2)),
            w(D(3)),
            w(D(4)),
            w(D(5)),
            w(D(3)),
            [D(1), D(4)],
            I,
        ],
    },
    Family {
        name: "Modal pedal",
        styles: &[Ambient, LoFi],
        mood: 0.0,
        motion: 0.0,
        bars: [I, w(Colour), I, w(Colour), I, w(Colour), w(Colour), I],
    },
    Family {
        name: "Mixolydian",
        styles: &[Chiptune, Pulse],
        mood: 0.4,
        motion: 0.8,
        bars: [I, w(On(10)), w(D(3)), w(D(4)), I, w(On(10)), w(D(3)), I],
    },
    Family {
        name: "Epic minor",
        styles: &[Chiptune, Pulse, Ambient],
        mood: -0.5,
        motion: 0.7,
        bars: [I, w(On(8)), w(On(3)), w(On(10)), I, w(On(8)), w(On(10)), I],
    },
    Family {
        name: "Andalusian",
        styles: &[Ballad, LoFi, Pulse],
        mood: -0.7,
        motion: 0.5,
        bars: [
            I,
            w(On(10)),
            w(On(8)),
            w(Maj(4)),
            I,
            w(On(10)),
            [On(8), Maj(4)],
            I,
        ],
    },
    Family {
        name: "Borrowed iv",
        styles: &[Ballad, Pop, Ambient],
        mood: -0.1,
        motion: 0.3,
        bars: [I, w(D(3)), w(D(5)), w(D(4)), I, w(D(3)), w(Min(3)), I],
    },
    Family {
        name: "Secondary dominants",
        styles: &[Pop, Ballad, LoFi],
        mood: 0.3,
        motion: 0.6,
        bars: [
            I,
            w(D(5)),
            w(Maj(1)),
            w(D(4)),
            w(Maj(2)),
            w(D(5)),
            [Maj(1), D(4)],
            I,
        ],
    },
    Family {
        name: "Plagal rock",
        styles: &[Pulse, Chiptune, Pop],
        mood: 0.5,
        motion: 0.9,
        bars: [I, w(D(3)), I, w(D(4)), I, w(D(3)), [D(4), D(3)], I],
    },
];

/// The family `style` plays for a picture of `mood` (-1..1) and `motion` (0..1): the nearest of
/// the style's own.
pub fn choose(style: Style, mood: f32, motion: f32) -> &'static Family {
    let distance = |f: &Family| (f.mood - mood).powi(2) + (f.motion - motion).powi(2);
    FAMILIES
        .iter()
        .filter(|f| f.styles.contains(&style))
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap_or(&FAMILIES[0])
}

impl Tok {
    /// The chord this stands for in `ct` (a seven-note tonality), next to `neighbours` (a
    /// chord the mode makes diminished gives way to one that differs from them).
    pub fn chord(self, ct: Tonality, neighbours: &[Chord]) -> Chord {
        let chord = match self {
            D(d) => Chord::Diatonic(d),
            Maj(d) => Chord::Major(d),
            Min(d) => Chord::Minor(d),
            On(s) => Chord::On(s),
            Colour => Chord::Diatonic(colour_degree(ct.scale)),
        };
        chord.consonant(ct, neighbours)
    }
}

/// The degree of the mode's colour chord: the major or minor triad that holds the note which
/// sets the mode apart (Dorian's major sixth, Mixolydian's minor seventh, Lydian's raised
/// fourth, Aeolian's minor sixth, Phrygian's minor second).
fn colour_degree(scale: Scale) -> i32 {
    match scale {
        Scale::Dorian => 3,
        Scale::Mixolydian => 6,
        Scale::Lydian | Scale::Phrygian => 1,
        Scale::Minor => 5,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numerals(f: &Family, scale: Scale) -> Vec<String> {
        let ct = Tonality { tonic: 0, scale };
        f.bars
            .iter()
            .map(|[a, b]| {
                let (a, b) = (a.chord(ct, &[]).roman(ct), b.chord(ct, &[]).roman(ct));
                if a == b {
                    a
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect()
    }

    #[test]
    fn families_read_as_musicians_name_them() {
        let axis = numerals(&FAMILIES[0], Scale::Major);
        assert_eq!(axis, ["I", "V", "vi", "IV", "I", "V", "IV-V", "I"]);
        let andalusian = FAMILIES.iter().find(|f| f.name == "Andalusian").unwrap();
        assert_eq!(
            numerals(andalusian, Scale::Minor),
            ["i", "bVII", "bVI", "V", "i", "bVII", "bVI-V", "i"]
        );
        let epic = FAMILIES.iter().find(|f| f.name == "Epic minor").unwrap();
        assert_eq!(
            numerals(epic, Scale::Major)[..4],
            ["I", "bVI", "bIII", "bVII"]
        );
        // The modal pedal rocks to the mode's own colour.
        let pedal = FAMILIES.iter().find(|f| f.name == "Modal pedal").unwrap();
        for (scale, colour) in [
            (Scale::Dorian, "IV"),
            (Scale::Mixolydian, "bVII"),
            (Scale::Lydian, "II"),
            (Scale::Minor, "bVI"),
        ] {
            assert_eq!(numerals(pedal, scale)[1], colour, "{scale:?}");
        }
    }

    #[test]
    fn every_family_is_major_or_minor_in_every_mode_and_closes_on_the_tonic() {
        for f in &FAMILIES {
            for scale in Scale::ALL {
                if matches!(
                    scale,
                    Scale::Locrian
                        | Scale::Chromatic
                        | Scale::MajorPentatonic
                        | Scale::MinorPentatonic
                ) {
                    continue;
                }
                let ct = Tonality { tonic: 2, scale };
                for (b, bar) in f.bars.iter().enumerate() {
                    for t in bar {
                        let pcs = t.chord(ct, &[]).pcs(ct);
                        assert_eq!(
                            (pcs[2] - pcs[0]).rem_euclid(12),
                            7,
                            "{} bar {b} in {scale:?}: {pcs:?}",
                            f.name
                        );
                    }
                }
                assert_eq!(f.bars[7][1].chord(ct, &[]).pcs(ct)[0], 2, "{}", f.name);
            }
        }
        // Every style has at least three families to choose from.
        for style in Style::ALL {
            let n = FAMILIES
                .iter()
                .filter(|f| f.styles.contains(&style))
                .count();
            assert!(n >= 3, "{style:?}: {n}");
        }
    }
}
