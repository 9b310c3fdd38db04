//! Keys, scales and chords: the musical vocabulary the composer speaks.

use serde::{Deserialize, Serialize};

/// The names Pixelody shows for the twelve pitch classes, from C.
pub use crate::score::NOTE_NAMES;

/// The pitch class (0 = C) a note name stands for: a letter, then any number of `#` or `b`
/// ("C#", "Db", "Cb" = B, "E#" = F), in either case. `None` for anything else.
pub fn pitch_class(name: &str) -> Option<u8> {
    let mut chars = name.trim().chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let natural: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let mut shift = 0;
    for c in chars {
        shift += match c {
            '#' => 1,
            'b' | 'B' => -1,
            _ => return None,
        };
    }
    Some((natural + shift).rem_euclid(12) as u8)
}

/// A scale as the pitch classes it contains above its tonic.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    Major,
    Minor,
    Dorian,
    Phrygian,
    Lydian,
    Mixolydian,
    Locrian,
    HarmonicMinor,
    MajorPentatonic,
    MinorPentatonic,
    Chromatic,
}

impl Scale {
    pub const ALL: [Scale; 11] = [
        Scale::Major,
        Scale::Minor,
        Scale::Dorian,
        Scale::Phrygian,
        Scale::Lydian,
        Scale::Mixolydian,
        Scale::Locrian,
        Scale::HarmonicMinor,
        Scale::MajorPentatonic,
        Scale::MinorPentatonic,
        Scale::Chromatic,
    ];

    /// The modes Auto chooses from, darkest to brightest (by how many scale degrees are lowered
    /// against Lydian): Palmer et al. (2013) match darker, greyer, cooler colours with minor,
    /// darker modes and lighter, more saturated, warmer ones with major, brighter modes.
    pub const BY_BRIGHTNESS: [Scale; 6] = [
        Scale::Phrygian,
        Scale::Minor,
        Scale::Dorian,
        Scale::Mixolydian,
        Scale::Major,
        Scale::Lydian,
    ];

    pub fn intervals(self) -> &'static [u8] {
        match self {
            Scale::Major => &[0, 2, 4, 5, 7, 9, 11],
            Scale::Minor => &[0, 2, 3, 5, 7, 8, 10],
            Scale::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Scale::Phrygian => &[0, 1, 3, 5, 7, 8, 10],
            Scale::Lydian => &[0, 2, 4, 6, 7, 9, 11],
            Scale::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
            Scale::Locrian => &[0, 1, 3, 5, 6, 8, 10],
            Scale::HarmonicMinor => &[0, 2, 3, 5, 7, 8, 11],
            Scale::MajorPentatonic => &[0, 2, 4, 7, 9],
            Scale::MinorPentatonic => &[0, 3, 5, 7, 10],
            Scale::Chromatic => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        }
    }

    /// The scale's stable id: the plug-in's Scale choice, presets and the command line use it.
    pub fn id(self) -> &'static str {
        match self {
            Scale::Major => "major",
            Scale::Minor => "minor",
            Scale::Dorian => "dorian",
            Scale::Phrygian => "phrygian",
            Scale::Lydian => "lydian",
            Scale::Mixolydian => "mixolydian",
            Scale::Locrian => "locrian",
            Scale::HarmonicMinor => "harmonic-minor",
            Scale::MajorPentatonic => "major-pentatonic",
            Scale::MinorPentatonic => "minor-pentatonic",
            Scale::Chromatic => "chromatic",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::Major => "major",
            Scale::Minor => "minor",
            Scale::Dorian => "Dorian",
            Scale::Phrygian => "Phrygian",
            Scale::Lydian => "Lydian",
            Scale::Mixolydian => "Mixolydian",
            Scale::Locrian => "Locrian",
            Scale::HarmonicMinor => "harmonic minor",
            Scale::MajorPentatonic => "major pentatonic",
            Scale::MinorPentatonic => "minor pentatonic",
            Scale::Chromatic => "chromatic",
        }
    }

    /// A rank of brightness: the mean of the intervals (Lydian highest, Locrian lowest).
    pub fn brightness(self) -> f32 {
        let i = self.intervals();
        i.iter().map(|&x| f32::from(x)).sum::<f32>() / i.len() as f32
    }
}

/// A key and scale, with the arithmetic of scale degrees.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tonality {
    /// Pitch class of the tonic, 0 = C.
    pub tonic: u8,
    pub scale: Scale,
}

impl Tonality {
    pub fn contains(&self, pitch: u8) -> bool {
        let pc = (pitch + 12 - self.tonic % 12) % 12;
        self.scale.intervals().contains(&pc)
    }

    /// The MIDI pitch of scale degree `degree` (any integer; 0 = the tonic in octave -1).
    pub fn pitch(&self, degree: i32) -> i32 {
        let iv = self.scale.intervals();
        let n = iv.len() as i32;
        let octave = degree.div_euclid(n);
        i32::from(self.tonic) + 12 * octave + i32::from(iv[degree.rem_euclid(n) as usize])
    }

    /// The highest degree whose pitch is at or below `pitch`.
    pub fn degree_at_or_below(&self, pitch: i32) -> i32 {
        let n = self.scale.intervals().len() as i32;
        let mut d = (pitch - i32::from(self.tonic)).div_euclid(12) * n;
        while self.pitch(d + 1) <= pitch {
            d += 1;
        }
        while self.pitch(d) > pitch {
            d -= 1;
        }
        d
    }

    pub fn name(&self) -> String {
        format!(
            "{} {}",
            NOTE_NAMES[usize::from(self.tonic % 12)],
            self.scale.name()
        )
    }
}

/// SplitMix64: a tiny, well-distributed generator. Every random choice in composing goes through
/// one, seeded from the picture and the Variation setting, so results repeat exactly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn note_names_read_back_as_their_pitch_classes() {
        for (pc, name) in super::NOTE_NAMES.iter().enumerate() {
            assert_eq!(super::pitch_class(name), Some(pc as u8), "{name}");
        }
        assert_eq!(super::pitch_class("db"), Some(1));
        assert_eq!(super::pitch_class("Cb"), Some(11));
        assert_eq!(super::pitch_class("E#"), Some(5));
        assert_eq!(super::pitch_class("H"), None);
        assert_eq!(super::pitch_class(""), None);
        assert_eq!(super::pitch_class("C major"), None);
    }

    use super::*;

    #[test]
    fn degrees_walk_the_scale_across_octaves() {
        let c_major = Tonality {
            tonic: 0,
            scale: Scale::Major,
        };
        let pitches: Vec<i32> = (35..=43).map(|d| c_major.pitch(d)).collect();
        assert_eq!(pitches, vec![60, 62, 64, 65, 67, 69, 71, 72, 74]);
        assert_eq!(c_major.degree_at_or_below(61), 35);
        assert_eq!(c_major.pitch(-1), -1);
        let a_minor = Tonality {
            tonic: 9,
            scale: Scale::Minor,
        };
        assert!(a_minor.contains(60) && !a_minor.contains(61));
        assert_eq!(a_minor.name(), "A minor");
    }

    #[test]
    fn modes_are_ordered_by_brightness() {
        let b: Vec<f32> = Scale::BY_BRIGHTNESS
            .iter()
            .map(|s| s.brightness())
            .collect();
        assert!(b.windows(2).all(|w| w[1] > w[0]), "{b:?}");
    }
}
