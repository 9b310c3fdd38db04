//! The score: plain data that the composer writes and the engine plays; moved between threads,
//! never shared mutably. Depends on serde and on `wavetable` alone: a score's wave keeps the
//! picture's rows and builds their band-limited table where the score is made or read (a
//! project's score as it loads), always off the audio thread.

use serde::{Deserialize, Serialize};

pub mod meter;
mod patch;
pub mod wave;
pub use meter::{Meter, Signature};
pub use patch::{PartSound, Patch, Smoothing, Taper, TimbreParam, ValueText, TIMBRE};
pub use wave::Wave;

/// Bumped whenever the serialized shape of [`Score`] changes, so old projects can be migrated
/// (and a project from a newer build is refused with a message, not misread). 2: the drum part
/// and the style; 3: the picture's wave and the per-part sound. Older scores read as they are (no
/// drums, no style, no wave: every part plays the analog oscillator). 5: the meter (older scores
/// are 4/4).
pub const SCORE_FORMAT_VERSION: u32 = 5;

/// Beats (quarter notes) in a bar of 4/4: the meter of scores from before meters existed and of
/// hosts that name none.
pub const BEATS_PER_BAR: f64 = 4.0;

/// Which voice of the arrangement a note belongs to; the engine pans and shapes parts differently.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Melody,
    Harmony,
    Bass,
    /// General MIDI drum notes (36 kick, 38 snare, 39 clap, 42 closed hat, 46 open hat, 70
    /// shaker), played by the synthesised kit and sent on MIDI channel 10.
    Drums,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::Melody, Part::Harmony, Part::Bass, Part::Drums];

    pub fn name(self) -> &'static str {
        match self {
            Part::Melody => "Melody",
            Part::Harmony => "Harmony",
            Part::Bass => "Bass",
            Part::Drums => "Drums",
        }
    }

    /// The MIDI channel (0-based) the part's notes go out on: 1, 2, 3 and 10 (drums, as General
    /// MIDI has them).
    pub const fn channel(self) -> u8 {
        match self {
            Part::Melody => 0,
            Part::Harmony => 1,
            Part::Bass => 2,
            Part::Drums => 9,
        }
    }
}

/// General MIDI drum notes the kit plays.
pub mod drum {
    pub const KICK: u8 = 36;
    pub const SNARE: u8 = 38;
    pub const CLAP: u8 = 39;
    pub const CLOSED_HAT: u8 = 42;
    pub const OPEN_HAT: u8 = 46;
    pub const SHAKER: u8 = 70;
    pub const ALL: [u8; 6] = [KICK, SNARE, CLAP, CLOSED_HAT, OPEN_HAT, SHAKER];

    /// The drum's name, as General MIDI has it, or `None` for a note the kit does not play.
    pub const fn name(note: u8) -> Option<&'static str> {
        Some(match note {
            KICK => "Kick",
            SNARE => "Snare",
            CLAP => "Clap",
            CLOSED_HAT => "Closed Hat",
            OPEN_HAT => "Open Hat",
            SHAKER => "Shaker",
            _ => return None,
        })
    }

    /// A short name for a narrow label ("C.Hat").
    pub fn short_name(note: u8) -> Option<&'static str> {
        Some(match note {
            CLOSED_HAT => "C.Hat",
            OPEN_HAT => "O.Hat",
            _ => return name(note),
        })
    }
}

/// The pitch classes' names, C = 0 (sharps and flats as keys are usually written).
pub const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

/// A pitch's name with its octave, middle C (60) as C4: "Eb5".
pub fn note_name(pitch: u8) -> String {
    format!(
        "{}{}",
        NOTE_NAMES[usize::from(pitch % 12)],
        i32::from(pitch / 12) - 1
    )
}

/// Spectral mode's score: a picture read as a spectrogram. `amps` and `pans` hold
/// `frames x partials` values, frame-major; frame `f` sounds at beat `f * length / frames` of the
/// loop and the engine interpolates between frames.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Spectrum {
    pub frames: usize,
    /// Partial frequencies in Hz, lowest first.
    pub freqs_hz: Vec<f32>,
    /// Amplitudes 0..1.
    pub amps: Vec<f32>,
    /// -1 = left .. +1 = right.
    pub pans: Vec<f32>,
}

impl Spectrum {
    pub fn partials(&self) -> usize {
        self.freqs_hz.len()
    }

    /// Whether the shape is consistent and every value finite and in range.
    pub fn is_valid(&self) -> bool {
        let cells = self.frames.checked_mul(self.partials());
        self.frames > 0
            && cells == Some(self.amps.len())
            && cells == Some(self.pans.len())
            && self.freqs_hz.iter().all(|f| f.is_finite() && *f > 0.0)
            && self
                .amps
                .iter()
                .all(|a| a.is_finite() && (0.0..=1.0).contains(a))
            && self
                .pans
                .iter()
                .all(|p| p.is_finite() && (-1.0..=1.0).contains(p))
    }
}

/// One note of the score, positioned in beats from the start of the loop.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Note {
    /// Onset in quarter-note beats from the loop start, `0 <= start_beats < length_beats`.
    pub start_beats: f64,
    /// Duration in beats; the note-off falls at `start_beats + length_beats`.
    pub length_beats: f64,
    /// MIDI note number.
    pub pitch: u8,
    /// 0..=1.
    pub velocity: f32,
    pub part: Part,
}

/// What the audio thread plays: a loop of notes. Notes are sorted by `start_beats` (see
/// [`Score::new`]) so the sequencer can binary-search them without allocating.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Score {
    pub version: u32,
    /// The loop length in beats; the score repeats every `length_beats`.
    pub length_beats: f64,
    pub notes: Vec<Note>,
    /// A short human description of where the score came from (file name, picture size).
    pub source: String,
    /// Key and scale in words ("D Dorian"), for display.
    #[serde(default)]
    pub tonality: String,
    /// The style Compose mode arranged it in ("Ballad"), for display; empty in other modes and
    /// in scores saved before styles existed.
    #[serde(default)]
    pub style: String,
    /// The progression family Compose mode's chords follow ("Doo-wop", "Modal pedal"), for
    /// display; empty in other modes and in scores saved before families existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub progression: String,
    /// The meter it is written in (bars of it make the loop); 4/4 in scores saved before meters
    /// existed.
    #[serde(default, skip_serializing_if = "Meter::is_common")]
    pub meter: Meter,
    /// The timbre the picture proposes.
    #[serde(default)]
    pub patch: Patch,
    /// Gain in dB that brings this score to Pixelody's loudness (every picture about as loud as
    /// another at the same Output Gain); 0 in scores saved before it existed.
    #[serde(default)]
    pub level_db: f32,
    /// Present in Spectral mode: the frames the engine resynthesises.
    #[serde(default)]
    pub spectrum: Option<Spectrum>,
    /// The picture's rows as waveforms (the voices' Picture wave); absent in scores saved before
    /// it existed, where the Picture amount has nothing to play and the analog wave sounds.
    #[serde(default)]
    pub wave: Option<Wave>,
    /// A piece of several pictures: where each section starts, its picture and its key. Empty
    /// for one picture (and in scores saved before pieces existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

/// The most sections a piece has; a longer series or animation is sampled down to this.
pub const MAX_SECTIONS: usize = 16;

/// One section of a piece: a picture's part of the loop.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Section {
    pub start_beats: f64,
    /// The picture ("walk-03.jpg (4000 x 3000)", "anim.gif, frame 12").
    pub source: String,
    /// Its key and scale in words.
    pub tonality: String,
    /// The style Compose mode arranged it in ("Pop"); empty in other modes and in pieces saved
    /// before sections had their own.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
    /// How its picture's sound differs from the first section's; the engine glides to it over
    /// the beat before the section starts.
    #[serde(default)]
    pub sound: SectionSound,
}

/// A section's sound relative to the piece's (the first picture's proposal, or the parameters).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct SectionSound {
    /// Added to Brightness (-0.6..0.6).
    pub brightness: f32,
    /// Octaves added to Cutoff (-2.5..2.5).
    pub cutoff_oct: f32,
}

impl SectionSound {
    /// Within its range, and zero where it is not a number.
    pub fn clamped(self) -> Self {
        let fit = |v: f32, r: f32| if v.is_finite() { v.clamp(-r, r) } else { 0.0 };
        SectionSound {
            brightness: fit(self.brightness, 0.6),
            cutoff_oct: fit(self.cutoff_oct, 2.5),
        }
    }
}

impl Score {
    /// Builds a score, sorting the notes and dropping any that fall outside the loop or are not
    /// playable, so every consumer can rely on the invariants documented on the fields.
    pub fn new(length_beats: f64, mut notes: Vec<Note>, source: String) -> Self {
        let length_beats = if length_beats.is_finite() && length_beats > 0.0 {
            length_beats
        } else {
            BEATS_PER_BAR
        };
        notes.retain(|n| {
            n.start_beats.is_finite()
                && n.length_beats.is_finite()
                && n.start_beats >= 0.0
                && n.start_beats < length_beats
                && n.length_beats > 0.0
                && n.pitch < 128
                && n.velocity.is_finite()
        });
        for n in &mut notes {
            n.velocity = n.velocity.clamp(0.0, 1.0);
        }
        notes.sort_by(|a, b| {
            a.start_beats
                .total_cmp(&b.start_beats)
                .then(a.pitch.cmp(&b.pitch))
        });
        Score {
            version: SCORE_FORMAT_VERSION,
            length_beats,
            notes,
            source,
            tonality: String::new(),
            style: String::new(),
            progression: String::new(),
            meter: Meter::COMMON,
            patch: Patch::default(),
            level_db: 0.0,
            spectrum: None,
            wave: None,
            sections: Vec::new(),
        }
    }

    /// A silent loop of one bar: what plays before any picture is loaded or when state is unusable.
    pub fn empty() -> Self {
        Score::new(BEATS_PER_BAR, Vec::new(), String::from("no picture"))
    }

    pub fn bars(&self) -> f64 {
        self.length_beats / self.meter.bar_beats()
    }

    /// Builds the wave's table if it is not yet (a score read from a project): before the
    /// score is cloned for an engine, so the copies share it. Never on the audio thread.
    pub fn build_wave(&self) {
        if let Some(wave) = &self.wave {
            wave.table();
        }
    }

    /// Re-establishes the invariants after deserializing data we did not write ourselves.
    pub fn sanitized(self) -> Self {
        let mut s = Score::new(self.length_beats, self.notes, self.source);
        s.tonality = self.tonality;
        s.style = self.style;
        s.progression = self.progression;
        if self.meter.is_valid() {
            s.meter = self.meter;
        }
        if self.level_db.is_finite() {
            s.level_db = self.level_db.clamp(-24.0, 24.0);
        }
        let p = self.patch;
        let ok = |v: f32, lo: f32, hi: f32| v.is_finite() && (lo..=hi).contains(&v);
        if ok(p.attack_ms, 0.0, 10_000.0)
            && ok(p.release_ms, 0.0, 10_000.0)
            && ok(p.brightness, 0.0, 1.0)
        {
            s.patch = p;
        }
        s.spectrum = self.spectrum.filter(Spectrum::is_valid);
        s.wave = self.wave;
        let length = s.length_beats;
        s.sections = self
            .sections
            .into_iter()
            .filter(|x| x.start_beats.is_finite() && (0.0..length).contains(&x.start_beats))
            .take(MAX_SECTIONS)
            .map(|x| Section {
                sound: x.sound.clamped(),
                ..x
            })
            .collect();
        s
    }

    /// A stable 64-bit fingerprint of the score's musical content (FNV-1a over its fields), used to
    /// check determinism and to show in the CLI which score was rendered.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(&self.length_beats.to_le_bytes());
        if !self.meter.is_common() {
            eat(&[
                self.meter.signature.numerator,
                self.meter.signature.denominator,
            ]);
            eat(self.meter.beats());
            eat(&[self.meter.halves_at() as u8]);
        }
        if let Some(sp) = &self.spectrum {
            eat(&(sp.frames as u64).to_le_bytes());
            for v in sp.freqs_hz.iter().chain(&sp.amps).chain(&sp.pans) {
                eat(&v.to_le_bytes());
            }
        }
        if let Some(w) = &self.wave {
            eat(&(w.frames() as u64).to_le_bytes());
            eat(w.rows());
        }
        for n in &self.notes {
            eat(&n.start_beats.to_le_bytes());
            eat(&n.length_beats.to_le_bytes());
            eat(&[n.pitch, n.part as u8]);
            eat(&n.velocity.to_le_bytes());
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: f64, pitch: u8) -> Note {
        Note {
            start_beats: start,
            length_beats: 0.5,
            pitch,
            velocity: 0.8,
            part: Part::Melody,
        }
    }

    #[test]
    fn new_sorts_and_drops_unplayable_notes() {
        let s = Score::new(
            4.0,
            vec![
                note(2.0, 60),
                note(f64::NAN, 61),
                note(4.0, 62),
                note(0.5, 63),
            ],
            String::new(),
        );
        let starts: Vec<f64> = s.notes.iter().map(|n| n.start_beats).collect();
        assert_eq!(starts, vec![0.5, 2.0]);
    }

    #[test]
    fn fingerprint_changes_with_content() {
        // Built twice, the same content gives the same fingerprint (it names a score in the
        // command line's output, so it must not depend on anything but the content)...
        let a = Score::new(4.0, vec![note(0.0, 60)], String::new());
        let again = Score::new(4.0, vec![note(0.0, 60)], String::new());
        assert_eq!(a.fingerprint(), again.fingerprint());
        // ... and any change of a note or of the length changes it.
        let b = Score::new(4.0, vec![note(0.0, 61)], String::new());
        let longer = Score::new(8.0, vec![note(0.0, 60)], String::new());
        let mut softer = a.clone();
        softer.notes[0].velocity *= 0.5;
        for other in [&b, &longer, &softer] {
            assert_ne!(a.fingerprint(), other.fingerprint());
        }
    }
}
