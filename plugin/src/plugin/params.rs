//! The parameters a musician turns (all host-automatable) and the persisted score.

use std::sync::Arc;

use nice_plug::prelude::*;

use std::sync::atomic::{AtomicBool, Ordering};

use super::bridge::ScoreSlot;
use super::composition::CompositionSlot;
use super::recovery::Notices;
use crate::compose::{self, Scale, Settings, Style};
use crate::engine::{EngineParams, SwapAt, DEFAULT_BPM};
use crate::score::{Patch, Taper, TimbreParam, ValueText, TIMBRE};

/// A parameter callback that asks for the score to be recomposed. Callbacks may run on the audio
/// thread, so it only raises a flag; `process` turns the flag into a background task.
fn recompose_on_change<T>(dirty: &Arc<AtomicBool>) -> Arc<dyn Fn(T) + Send + Sync> {
    let dirty = dirty.clone();
    Arc::new(move |_| dirty.store(true, Ordering::Release))
}

/// A 0..1 parameter shown in percent.
fn percent(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_unit("%")
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
}

/// A timbre parameter as the table (`score::TIMBRE`) describes it.
fn timbre_param(t: &TimbreParam) -> FloatParam {
    let range = match t.taper {
        Taper::Linear => FloatRange::Linear {
            min: t.min,
            max: t.max,
        },
        Taper::Skewed(exponent) => FloatRange::Skewed {
            min: t.min,
            max: t.max,
            factor: FloatRange::skew_factor(exponent),
        },
    };
    let param = FloatParam::new(t.name, t.default, range);
    let param = match t.step {
        Some(step) => param.with_step_size(step),
        None => param,
    };
    match t.text {
        ValueText::Percent => param
            .with_unit("%")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
        ValueText::Decimals(digits) => param
            .with_unit(t.unit)
            .with_value_to_string(formatters::v2s_f32_rounded(digits)),
        ValueText::Frequency => param
            .with_value_to_string(formatters::v2s_f32_hz_then_khz(1))
            .with_string_to_value(formatters::s2v_f32_hz_then_khz()),
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum PlayChoice {
    #[id = "transport"]
    Transport,
    #[id = "trigger"]
    #[name = "MIDI Trigger"]
    Trigger,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum SwapChoice {
    #[id = "bar"]
    #[name = "Next Bar"]
    NextBar,
    #[id = "beat"]
    #[name = "Next Beat"]
    NextBeat,
    #[id = "now"]
    Immediately,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum ModeChoice {
    #[id = "compose"]
    Compose,
    #[id = "scan"]
    Scan,
    #[id = "spectral"]
    Spectral,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum KeyChoice {
    #[id = "auto"]
    Auto,
    #[id = "c"]
    C,
    #[id = "c#"]
    #[name = "C#"]
    CSharp,
    #[id = "d"]
    D,
    #[id = "eb"]
    #[name = "Eb"]
    EFlat,
    #[id = "e"]
    E,
    #[id = "f"]
    F,
    #[id = "f#"]
    #[name = "F#"]
    FSharp,
    #[id = "g"]
    G,
    #[id = "ab"]
    #[name = "Ab"]
    AFlat,
    #[id = "a"]
    A,
    #[id = "bb"]
    #[name = "Bb"]
    BFlat,
    #[id = "b"]
    B,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum ScaleChoice {
    #[id = "auto"]
    Auto,
    #[id = "major"]
    Major,
    #[id = "minor"]
    Minor,
    #[id = "dorian"]
    Dorian,
    #[id = "phrygian"]
    Phrygian,
    #[id = "lydian"]
    Lydian,
    #[id = "mixolydian"]
    Mixolydian,
    #[id = "locrian"]
    Locrian,
    #[id = "harmonic-minor"]
    #[name = "Harmonic Minor"]
    HarmonicMinor,
    #[id = "major-pentatonic"]
    #[name = "Major Pentatonic"]
    MajorPentatonic,
    #[id = "minor-pentatonic"]
    #[name = "Minor Pentatonic"]
    MinorPentatonic,
    #[id = "chromatic"]
    Chromatic,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum StyleChoice {
    #[id = "auto"]
    Auto,
    #[id = "ambient"]
    Ambient,
    #[id = "ballad"]
    Ballad,
    #[id = "pop"]
    Pop,
    #[id = "pulse"]
    Pulse,
    #[id = "chiptune"]
    Chiptune,
    #[id = "lofi"]
    #[name = "Lo-fi"]
    LoFi,
}

impl StyleChoice {
    pub fn style(self) -> Option<Style> {
        Some(match self {
            StyleChoice::Auto => return None,
            StyleChoice::Ambient => Style::Ambient,
            StyleChoice::Ballad => Style::Ballad,
            StyleChoice::Pop => Style::Pop,
            StyleChoice::Pulse => Style::Pulse,
            StyleChoice::Chiptune => Style::Chiptune,
            StyleChoice::LoFi => Style::LoFi,
        })
    }
}

/// A part's Level: its internal sound only (MIDI out keeps its velocities); -60 dB is off.
fn part_level(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: -60.0,
            max: 6.0,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.1)
    .with_value_to_string(Arc::new(|v| {
        if v <= -60.0 {
            String::from("-inf")
        } else {
            format!("{v:.1}")
        }
    }))
    .with_smoother(SmoothingStyle::None)
}

/// The delay's time as a note value of the host's tempo.
#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum DelayChoice {
    #[id = "1/16"]
    #[name = "1/16"]
    Sixteenth,
    #[id = "1/8"]
    #[name = "1/8"]
    Eighth,
    #[id = "1/8d"]
    #[name = "1/8 dotted"]
    DottedEighth,
    #[id = "1/4"]
    #[name = "1/4"]
    Quarter,
    #[id = "1/4d"]
    #[name = "1/4 dotted"]
    DottedQuarter,
    #[id = "1/2"]
    #[name = "1/2"]
    Half,
}

impl DelayChoice {
    pub fn beats(self) -> f64 {
        match self {
            DelayChoice::Sixteenth => 0.25,
            DelayChoice::Eighth => 0.5,
            DelayChoice::DottedEighth => 0.75,
            DelayChoice::Quarter => 1.0,
            DelayChoice::DottedQuarter => 1.5,
            DelayChoice::Half => 2.0,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum GridChoice {
    #[id = "4"]
    #[name = "1/4"]
    Quarter,
    #[id = "8"]
    #[name = "1/8"]
    Eighth,
    #[id = "16"]
    #[name = "1/16"]
    Sixteenth,
    #[id = "32"]
    #[name = "1/32"]
    ThirtySecond,
}

impl KeyChoice {
    /// The tonic this choice names (0 = C), or `None` for Auto.
    pub fn pitch_class(self) -> Option<u8> {
        Some(match self {
            KeyChoice::Auto => return None,
            KeyChoice::C => 0,
            KeyChoice::CSharp => 1,
            KeyChoice::D => 2,
            KeyChoice::EFlat => 3,
            KeyChoice::E => 4,
            KeyChoice::F => 5,
            KeyChoice::FSharp => 6,
            KeyChoice::G => 7,
            KeyChoice::AFlat => 8,
            KeyChoice::A => 9,
            KeyChoice::BFlat => 10,
            KeyChoice::B => 11,
        })
    }
}

impl ScaleChoice {
    /// The scale this choice names, or `None` for Auto.
    pub fn scale(self) -> Option<Scale> {
        Some(match self {
            ScaleChoice::Auto => return None,
            ScaleChoice::Major => Scale::Major,
            ScaleChoice::Minor => Scale::Minor,
            ScaleChoice::Dorian => Scale::Dorian,
            ScaleChoice::Phrygian => Scale::Phrygian,
            ScaleChoice::Lydian => Scale::Lydian,
            ScaleChoice::Mixolydian => Scale::Mixolydian,
            ScaleChoice::Locrian => Scale::Locrian,
            ScaleChoice::HarmonicMinor => Scale::HarmonicMinor,
            ScaleChoice::MajorPentatonic => Scale::MajorPentatonic,
            ScaleChoice::MinorPentatonic => Scale::MinorPentatonic,
            ScaleChoice::Chromatic => Scale::Chromatic,
        })
    }
}

impl GridChoice {
    /// Steps per bar.
    pub fn steps(self) -> u32 {
        match self {
            GridChoice::Quarter => 4,
            GridChoice::Eighth => 8,
            GridChoice::Sixteenth => 16,
            GridChoice::ThirtySecond => 32,
        }
    }
}

#[derive(Params)]
pub struct PixelodyParams {
    /// The score the project plays; saved with the project so a reload needs no picture.
    #[persist = "score"]
    pub score: Arc<ScoreSlot>,
    /// The picture's working copy and the settings the score was composed with.
    #[persist = "composition"]
    pub composition: Arc<CompositionSlot>,
    /// The editor's size, so the project reopens it as the musician left it.
    #[persist = "editor-size"]
    pub editor_size: Arc<crate::editor::EditorSize>,
    /// What went wrong loading the project, for the editor (see `recovery`).
    #[persist = "load-notice"]
    pub notices: Arc<Notices>,

    /// On: a new picture keeps the current sound. Off: the picture's proposed timbre is sent to
    /// the timbre parameters (as recorded, undoable parameter changes).
    #[id = "lock_timbre"]
    pub lock_timbre: BoolParam,
    /// Output level of the internal synth.
    #[id = "gain"]
    pub gain_db: FloatParam,
    /// How fast notes reach full level; short for plucks, long for pads.
    #[id = "attack"]
    pub attack_ms: FloatParam,
    /// How long notes ring after their end (and after the transport stops).
    #[id = "release"]
    pub release_ms: FloatParam,
    /// Blend from a soft sine to a bright band-limited sawtooth.
    #[id = "bright"]
    pub brightness: FloatParam,
    /// Time from full level down to the sustain level.
    #[id = "decay"]
    pub decay_ms: FloatParam,
    /// Level held while a note lasts.
    #[id = "sustain"]
    pub sustain: FloatParam,
    /// Low-pass filter cutoff before the envelope opens it.
    #[id = "cutoff"]
    pub cutoff_hz: FloatParam,
    /// Emphasis at the cutoff.
    #[id = "resonance"]
    pub resonance: FloatParam,
    /// How far each note's envelope opens the filter.
    #[id = "filter_env"]
    pub filter_env_oct: FloatParam,
    /// Breath and grit: white noise mixed into every voice.
    #[id = "noise"]
    pub noise: FloatParam,
    /// Stereo spread of the two unison oscillators.
    #[id = "width"]
    pub width: FloatParam,
    /// Unison detune between the two oscillators of a voice; 0 = one oscillator.
    #[id = "detune"]
    pub detune_cents: FloatParam,
    #[id = "reverb_mix"]
    pub reverb_mix: FloatParam,
    #[id = "reverb_size"]
    pub reverb_size: FloatParam,
    #[id = "reverb_damping"]
    pub reverb_damping: FloatParam,
    #[id = "delay_mix"]
    pub delay_mix: FloatParam,
    #[id = "delay_feedback"]
    pub delay_feedback: FloatParam,
    #[id = "delay_time"]
    pub delay_time: EnumParam<DelayChoice>,
    // Each part's sound (Tone, Envelope, Picture) and the picture's wave.
    /// Which row of the picture sounds where a part plays the picture's wave.
    #[id = "wave_position"]
    pub wave_position: FloatParam,
    /// How far the wave position travels down the picture and back over the loop.
    #[id = "wave_scan"]
    pub wave_scan: FloatParam,
    #[id = "melody_tone"]
    pub melody_tone: FloatParam,
    #[id = "melody_envelope"]
    pub melody_envelope: FloatParam,
    #[id = "melody_picture"]
    pub melody_picture: FloatParam,
    #[id = "harmony_tone"]
    pub harmony_tone: FloatParam,
    #[id = "harmony_envelope"]
    pub harmony_envelope: FloatParam,
    #[id = "harmony_picture"]
    pub harmony_picture: FloatParam,
    #[id = "bass_tone"]
    pub bass_tone: FloatParam,
    #[id = "bass_envelope"]
    pub bass_envelope: FloatParam,
    #[id = "bass_picture"]
    pub bass_picture: FloatParam,
    /// The drum kit's tuning in semitones.
    #[id = "kit_tune"]
    pub kit_tune: FloatParam,
    /// The drum kit's decays, shorter or longer.
    #[id = "kit_decay"]
    pub kit_decay: FloatParam,
    /// The tempo Pixelody keeps when the host reports none.
    #[id = "tempo"]
    pub free_tempo_bpm: FloatParam,
    /// When a recomposed score takes over from the one playing.
    #[id = "swap"]
    pub swap_at: EnumParam<SwapChoice>,
    /// Transport: the score follows the host's timeline. MIDI Trigger: a held key plays the
    /// score from its beginning, transposed from the Root Key; releasing it stops.
    #[id = "play_mode"]
    pub play_mode: EnumParam<PlayChoice>,
    /// The key that plays the score untransposed.
    #[id = "root"]
    pub root_key: IntParam,
    /// In Transport mode, incoming keys transpose the score (the last key pressed stays).
    #[id = "midi_transpose"]
    pub midi_transpose: BoolParam,
    /// Off: only the MIDI notes go out (to drive another instrument); the internal synth is silent.
    #[id = "synth"]
    pub internal_synth: BoolParam,

    // Composition: each change recomposes the score on the background thread.
    /// How the picture is read: composed, scanned as a piano roll, or played as a spectrogram.
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    /// Tonic; Auto reads it from the picture's dominant hue.
    #[id = "key"]
    pub key: EnumParam<KeyChoice>,
    /// Auto reads it from lightness, saturation and warmth.
    #[id = "scale"]
    pub scale: EnumParam<ScaleChoice>,
    /// Loop length.
    #[id = "bars"]
    pub bars: IntParam,
    /// More or fewer notes than the picture suggests.
    #[id = "density"]
    pub density: FloatParam,
    /// Bottom of the melody, scan and spectral range.
    #[id = "low"]
    pub low_note: IntParam,
    /// Top of the melody, scan and spectral range.
    #[id = "high"]
    pub high_note: IntParam,
    /// The seed: another number, another score from the same picture.
    #[id = "variation"]
    pub variation: IntParam,
    /// Scan: steps per bar.
    #[id = "grid"]
    pub grid: EnumParam<GridChoice>,
    /// Scan: how light a pixel must be to become a note.
    #[id = "threshold"]
    pub threshold: FloatParam,
    /// Scan: dark pixels are notes.
    #[id = "invert"]
    pub invert: BoolParam,
    /// Spectral: partials snapped to the scale.
    #[id = "snap"]
    pub snap: BoolParam,
    #[id = "style"]
    pub style: EnumParam<StyleChoice>,

    // Parts: Level shapes the internal sound; a part switched off plays nothing, MIDI included.
    #[id = "melody_level"]
    pub melody_level: FloatParam,
    #[id = "harmony_level"]
    pub harmony_level: FloatParam,
    #[id = "bass_level"]
    pub bass_level: FloatParam,
    #[id = "drums_level"]
    pub drums_level: FloatParam,
    #[id = "melody_on"]
    pub melody_on: BoolParam,
    #[id = "harmony_on"]
    pub harmony_on: BoolParam,
    #[id = "bass_on"]
    pub bass_on: BoolParam,
    #[id = "drums_on"]
    pub drums_on: BoolParam,

    /// The host's bypass (VST3 and CLAP hosts show it as their own switch): the output fades out
    /// and back in; the score keeps following the transport meanwhile.
    #[id = "bypass"]
    pub bypass: BoolParam,
}

impl PixelodyParams {
    pub fn new(score: Arc<ScoreSlot>, composition: Arc<CompositionSlot>) -> Self {
        let d = EngineParams::default();
        let c = Settings::default();
        let dirty = composition.dirty.clone();
        PixelodyParams {
            score,
            composition,
            editor_size: Arc::default(),
            notices: Arc::default(),
            lock_timbre: BoolParam::new("Lock Timbre", false),
            gain_db: FloatParam::new(
                "Output Gain",
                d.gain_db,
                FloatRange::Linear {
                    min: -60.0,
                    max: 12.0,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            attack_ms: timbre_param(&TIMBRE[0]),
            release_ms: timbre_param(&TIMBRE[1]),
            brightness: timbre_param(&TIMBRE[2]),
            decay_ms: timbre_param(&TIMBRE[3]),
            sustain: timbre_param(&TIMBRE[4]),
            cutoff_hz: timbre_param(&TIMBRE[5]),
            resonance: timbre_param(&TIMBRE[6]),
            filter_env_oct: timbre_param(&TIMBRE[7]),
            noise: timbre_param(&TIMBRE[8]),
            width: timbre_param(&TIMBRE[9]),
            detune_cents: timbre_param(&TIMBRE[10]),
            reverb_mix: timbre_param(&TIMBRE[11]),
            reverb_size: timbre_param(&TIMBRE[12]),
            reverb_damping: timbre_param(&TIMBRE[13]),
            delay_mix: timbre_param(&TIMBRE[14]),
            delay_feedback: timbre_param(&TIMBRE[15]),
            wave_position: timbre_param(&TIMBRE[16]),
            wave_scan: timbre_param(&TIMBRE[17]),
            melody_tone: timbre_param(&TIMBRE[18]),
            melody_envelope: timbre_param(&TIMBRE[19]),
            melody_picture: timbre_param(&TIMBRE[20]),
            harmony_tone: timbre_param(&TIMBRE[21]),
            harmony_envelope: timbre_param(&TIMBRE[22]),
            harmony_picture: timbre_param(&TIMBRE[23]),
            bass_tone: timbre_param(&TIMBRE[24]),
            bass_envelope: timbre_param(&TIMBRE[25]),
            bass_picture: timbre_param(&TIMBRE[26]),
            kit_tune: timbre_param(&TIMBRE[27]),
            kit_decay: timbre_param(&TIMBRE[28]),
            delay_time: EnumParam::new("Delay Time", DelayChoice::DottedEighth),
            free_tempo_bpm: FloatParam::new(
                "Free-run Tempo",
                DEFAULT_BPM as f32,
                FloatRange::Linear {
                    min: 20.0,
                    max: 300.0,
                },
            )
            .with_unit(" BPM")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            swap_at: EnumParam::new("Score Change", SwapChoice::NextBar),
            play_mode: EnumParam::new("Play Mode", PlayChoice::Transport),
            root_key: IntParam::new("Root Key", 60, IntRange::Linear { min: 0, max: 127 })
                .with_value_to_string(formatters::v2s_i32_key_formatter())
                .with_string_to_value(formatters::s2v_i32_key_formatter()),
            midi_transpose: BoolParam::new("MIDI Transpose", false),
            internal_synth: BoolParam::new("Internal Synth", true),
            mode: EnumParam::new("Mode", ModeChoice::Compose)
                .with_callback(recompose_on_change(&dirty)),
            key: EnumParam::new("Key", KeyChoice::Auto).with_callback(recompose_on_change(&dirty)),
            scale: EnumParam::new("Scale", ScaleChoice::Auto)
                .with_callback(recompose_on_change(&dirty)),
            bars: IntParam::new(
                "Length",
                c.bars as i32,
                IntRange::Linear {
                    min: compose::MIN_BARS as i32,
                    max: compose::MAX_BARS as i32,
                },
            )
            .with_unit(" bars")
            .with_callback(recompose_on_change(&dirty)),
            density: percent("Density", c.density).with_callback(recompose_on_change(&dirty)),
            low_note: IntParam::new(
                "Low Note",
                i32::from(c.low),
                IntRange::Linear { min: 12, max: 113 },
            )
            .with_value_to_string(formatters::v2s_i32_key_formatter())
            .with_string_to_value(formatters::s2v_i32_key_formatter())
            .with_callback(recompose_on_change(&dirty)),
            high_note: IntParam::new(
                "High Note",
                i32::from(c.high),
                IntRange::Linear { min: 19, max: 120 },
            )
            .with_value_to_string(formatters::v2s_i32_key_formatter())
            .with_string_to_value(formatters::s2v_i32_key_formatter())
            .with_callback(recompose_on_change(&dirty)),
            variation: IntParam::new(
                "Variation",
                c.seed as i32,
                IntRange::Linear { min: 0, max: 999 },
            )
            .with_callback(recompose_on_change(&dirty)),
            grid: EnumParam::new("Grid", GridChoice::Sixteenth)
                .with_callback(recompose_on_change(&dirty)),
            threshold: percent("Threshold", c.threshold).with_callback(recompose_on_change(&dirty)),
            invert: BoolParam::new("Invert", c.invert).with_callback(recompose_on_change(&dirty)),
            snap: BoolParam::new("Snap to Scale", c.snap)
                .with_callback(recompose_on_change(&dirty)),
            style: EnumParam::new("Style", StyleChoice::Auto)
                .with_callback(recompose_on_change(&dirty)),
            melody_level: part_level("Melody Level"),
            harmony_level: part_level("Harmony Level"),
            bass_level: part_level("Bass Level"),
            drums_level: part_level("Drums Level"),
            melody_on: BoolParam::new("Melody On", true),
            harmony_on: BoolParam::new("Harmony On", true),
            bass_on: BoolParam::new("Bass On", true),
            drums_on: BoolParam::new("Drums On", true),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }

    /// The composition settings the parameters describe now.
    pub fn settings(&self) -> Settings {
        Settings {
            mode: match self.mode.value() {
                ModeChoice::Compose => compose::Mode::Compose,
                ModeChoice::Scan => compose::Mode::Scan,
                ModeChoice::Spectral => compose::Mode::Spectral,
            },
            bars: self.bars.value().max(1) as u32,
            key: self.key.value().pitch_class(),
            scale: self.scale.value().scale(),
            density: self.density.value(),
            low: self.low_note.value().clamp(0, 127) as u8,
            high: self.high_note.value().clamp(0, 127) as u8,
            seed: self.variation.value().max(0) as u32,
            grid: self.grid.value().steps(),
            threshold: self.threshold.value(),
            invert: self.invert.value(),
            snap: self.snap.value(),
            style: self.style.value().style(),
        }
        .clamped()
    }

    /// The timbre parameters in the order of the timbre table (`score::TIMBRE`); a test checks
    /// that each has its entry's id, name, range and default.
    pub fn timbre(&self) -> [&FloatParam; 29] {
        [
            &self.attack_ms,
            &self.release_ms,
            &self.brightness,
            &self.decay_ms,
            &self.sustain,
            &self.cutoff_hz,
            &self.resonance,
            &self.filter_env_oct,
            &self.noise,
            &self.width,
            &self.detune_cents,
            &self.reverb_mix,
            &self.reverb_size,
            &self.reverb_damping,
            &self.delay_mix,
            &self.delay_feedback,
            &self.wave_position,
            &self.wave_scan,
            &self.melody_tone,
            &self.melody_envelope,
            &self.melody_picture,
            &self.harmony_tone,
            &self.harmony_envelope,
            &self.harmony_picture,
            &self.bass_tone,
            &self.bass_envelope,
            &self.bass_picture,
            &self.kit_tune,
            &self.kit_decay,
        ]
    }

    /// The timbre the parameters describe now.
    pub fn patch(&self) -> Patch {
        let mut patch = Patch::default();
        for (t, param) in TIMBRE.iter().zip(self.timbre()) {
            (t.set)(&mut patch, param.value());
        }
        patch
    }

    /// The values the engine needs, read once per (sub-)block; the engine smooths them per sample.
    pub fn engine_params(&self) -> EngineParams {
        EngineParams {
            gain_db: self.gain_db.value(),
            timbre: self.patch(),
            fallback_bpm: f64::from(self.free_tempo_bpm.value()),
            swap_at: match self.swap_at.value() {
                SwapChoice::NextBar => SwapAt::NextBar,
                SwapChoice::NextBeat => SwapAt::NextBeat,
                SwapChoice::Immediately => SwapAt::Immediately,
            },
            transpose: 0,
            delay_beats: self.delay_time.value().beats(),
            part_db: self.part_levels().map(|p| p.value()),
            part_on: self.part_switches().map(|p| p.value()),
        }
    }

    /// Each part's Level, in `Part` order (melody, harmony, bass, drums).
    pub fn part_levels(&self) -> [&FloatParam; 4] {
        [
            &self.melody_level,
            &self.harmony_level,
            &self.bass_level,
            &self.drums_level,
        ]
    }

    /// Each part's On switch, in `Part` order.
    pub fn part_switches(&self) -> [&BoolParam; 4] {
        [
            &self.melody_on,
            &self.harmony_on,
            &self.bass_on,
            &self.drums_on,
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compose::NOTE_NAMES;

    /// The parameters of an instance playing the bundled example.
    pub(crate) fn params() -> PixelodyParams {
        let (composition, score) = super::super::example();
        let (slot, _audio) = ScoreSlot::new(score);
        PixelodyParams::new(slot, CompositionSlot::new(composition))
    }

    #[test]
    fn the_timbre_parameters_are_the_table() {
        let p = params();
        let map = p.param_map();
        for (t, param) in TIMBRE.iter().zip(p.timbre()) {
            let (id, _, _) = map
                .iter()
                .find(|(_, ptr, _)| *ptr == param.as_ptr())
                .expect("a timbre parameter the host sees");
            assert_eq!(id, t.id, "{}", t.name);
            assert_eq!(param.name(), t.name);
            assert_eq!(param.default_plain_value(), t.default, "{}", t.id);
            assert_eq!(param.preview_plain(0.0), t.min, "{}", t.id);
            assert_eq!(param.preview_plain(1.0), t.max, "{}", t.id);
        }
        // The engine gets exactly what the parameters say, field by field.
        assert_eq!(p.engine_params().timbre, Patch::default());
    }

    #[test]
    fn every_key_scale_and_grid_choice_means_what_it_says() {
        for i in 0..KeyChoice::variants().len() {
            let k = KeyChoice::from_index(i);
            match k.pitch_class() {
                None => assert_eq!(k, KeyChoice::Auto),
                Some(pc) => assert_eq!(KeyChoice::variants()[i], NOTE_NAMES[usize::from(pc)]),
            }
        }
        assert_eq!(KeyChoice::variants().len(), 13);
        let mut scales = Vec::new();
        for i in 0..ScaleChoice::variants().len() {
            let s = ScaleChoice::from_index(i);
            match s.scale() {
                None => assert_eq!(s, ScaleChoice::Auto),
                Some(scale) => {
                    // "Harmonic Minor" on the control, "harmonic minor" in "A harmonic minor".
                    assert!(ScaleChoice::variants()[i].eq_ignore_ascii_case(scale.name()));
                    scales.push(scale);
                }
            }
        }
        assert_eq!(scales, Scale::ALL, "every scale once, in order");
        let grids: Vec<u32> = (0..GridChoice::variants().len())
            .map(|i| GridChoice::from_index(i).steps())
            .collect();
        assert_eq!(grids, compose::GRIDS);
        for (i, g) in grids.iter().enumerate() {
            assert_eq!(GridChoice::variants()[i], format!("1/{g}"));
        }
    }
}
