//! The parameters a musician turns (all host-automatable) and the persisted score.

use std::sync::Arc;

use nice_plug::prelude::*;

use std::sync::atomic::{AtomicBool, Ordering};

use super::composition::CompositionSlot;
use super::handover::ScoreSlot;
use super::recovery::Notices;
use crate::compose::{self, Scale, Settings, Style};
use crate::engine::{EngineParams, SwapAt, DEFAULT_BPM};
use crate::score::{Part, Patch, Signature, TimbreParam, ValueText, TIMBRE};

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
    let param = FloatParam::new(t.name, t.default, t.range());
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

/// The Content parameter: whether what the picture shows (faces, people, animals, things) shapes
/// the music.
#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum ContentChoice {
    #[id = "auto"]
    #[name = "Auto"]
    Auto,
    #[id = "off"]
    #[name = "Off"]
    Off,
}

/// The Meter parameter: the host's time signature, or one the musician sets.
#[derive(Enum, Debug, Clone, Copy, PartialEq)]
pub enum MeterChoice {
    #[id = "host"]
    #[name = "Host"]
    Host,
    #[id = "4/4"]
    #[name = "4/4"]
    FourFour,
    #[id = "3/4"]
    #[name = "3/4"]
    ThreeFour,
    #[id = "6/8"]
    #[name = "6/8"]
    SixEight,
    #[id = "5/4"]
    #[name = "5/4"]
    FiveFour,
    #[id = "7/8"]
    #[name = "7/8"]
    SevenEight,
    #[id = "12/8"]
    #[name = "12/8"]
    TwelveEight,
}

impl MeterChoice {
    /// The signature this choice sets, or `None` for Host.
    pub fn signature(self) -> Option<Signature> {
        let k = match self {
            MeterChoice::Host => return None,
            MeterChoice::FourFour => 0,
            MeterChoice::ThreeFour => 1,
            MeterChoice::SixEight => 2,
            MeterChoice::FiveFour => 3,
            MeterChoice::SevenEight => 4,
            MeterChoice::TwelveEight => 5,
        };
        Some(Signature::CHOICES[k])
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

/// The timbre table's row with this id, found at compile time: a misspelt id does not build.
const fn row_index(id: &str) -> usize {
    let mut i = 0;
    while i < TIMBRE.len() {
        let (a, b) = (TIMBRE[i].id.as_bytes(), id.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("no timbre table row has this id");
}

/// The timbre table's row with this id, as a `&'static TimbreParam` resolved when compiling.
macro_rules! row {
    ($id:expr) => {
        const { &TIMBRE[row_index($id)] }
    };
}

/// A group of parameters: its own fields (with their initialisers) and its timbre parameters,
/// each made from its row of the timbre table (`score::TIMBRE`) by id. Adding a timbre parameter
/// is its table row, its `Patch` field and its line here.
macro_rules! param_group {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident: $ty:ty = $init:expr, )*
            timbre { $( $(#[doc = $rdoc:literal])* $row:ident: $rid:literal, )* }
        }
    ) => {
        $(#[$meta])*
        #[derive(Params)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $( $(#[doc = $rdoc])* #[id = $rid] pub $row: FloatParam, )*
        }

        impl $name {
            fn new() -> Self {
                Self {
                    $( $field: $init, )*
                    $( $row: timbre_param(row!($rid)), )*
                }
            }

            /// The group's timbre parameters beside their rows of the timbre table, in the order
            /// the editor shows them.
            pub fn timbre(&self) -> impl Iterator<Item = (&'static TimbreParam, &FloatParam)> {
                [$( (row!($rid), &self.$row) ),*].into_iter()
            }
        }
    };
}

/// The settings the picture is composed with; each change recomposes the score on the background
/// thread.
#[derive(Params)]
pub struct ComposingParams {
    /// How the picture is read: composed, scanned as a piano roll, or played as a spectrogram.
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    /// Tonic; Auto reads it from the picture's dominant hue.
    #[id = "key"]
    pub key: EnumParam<KeyChoice>,
    /// Auto reads it from lightness, saturation and warmth.
    #[id = "scale"]
    pub scale: EnumParam<ScaleChoice>,
    #[id = "style"]
    pub style: EnumParam<StyleChoice>,
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
    /// Compose: off-beat eighths pushed late; at its lowest, the style's own swing.
    #[id = "swing"]
    pub swing: FloatParam,
    /// Compose: each part's timing and velocity spread, the same way for the same Variation.
    #[id = "humanise"]
    pub humanise: FloatParam,
    /// The bars' time signature: the host's (the default), or one set here.
    #[id = "meter"]
    pub meter: EnumParam<MeterChoice>,
    /// Whether what the picture shows shapes the music (Auto) or only its colours and light do.
    #[id = "content"]
    pub content: EnumParam<ContentChoice>,
}

/// Swing at or below this is "By Style": the style's own swing (Lo-fi's triplet feel).
const SWING_BY_STYLE: f32 = -0.05;

/// The Swing parameter: "By Style" at its lowest (the default, so projects from before sound as
/// they did), then 0% (straight) to 100% (a hard shuffle; 67% is a triplet feel).
fn swing_param() -> FloatParam {
    FloatParam::new(
        "Swing",
        SWING_BY_STYLE,
        FloatRange::Linear {
            min: SWING_BY_STYLE,
            max: 1.0,
        },
    )
    .with_value_to_string(Arc::new(|v| {
        if v < 0.0 {
            String::from("By Style")
        } else {
            format!("{:.0}%", v * 100.0)
        }
    }))
    .with_string_to_value(Arc::new(|s| {
        let t = s.trim().trim_end_matches('%').trim();
        if t.eq_ignore_ascii_case("by style") || t.eq_ignore_ascii_case("style") {
            Some(SWING_BY_STYLE)
        } else {
            t.parse::<f32>().ok().map(|v| (v / 100.0).clamp(0.0, 1.0))
        }
    }))
}

impl ComposingParams {
    fn new(dirty: &Arc<AtomicBool>) -> Self {
        let c = Settings::default();
        ComposingParams {
            mode: EnumParam::new("Mode", ModeChoice::Compose)
                .with_callback(recompose_on_change(dirty)),
            key: EnumParam::new("Key", KeyChoice::Auto).with_callback(recompose_on_change(dirty)),
            scale: EnumParam::new("Scale", ScaleChoice::Auto)
                .with_callback(recompose_on_change(dirty)),
            style: EnumParam::new("Style", StyleChoice::Auto)
                .with_callback(recompose_on_change(dirty)),
            bars: IntParam::new(
                "Length",
                c.bars as i32,
                IntRange::Linear {
                    min: compose::MIN_BARS as i32,
                    max: compose::MAX_BARS as i32,
                },
            )
            .with_unit(" bars")
            .with_callback(recompose_on_change(dirty)),
            density: percent("Density", c.density).with_callback(recompose_on_change(dirty)),
            low_note: note("Low Note", c.low, 12, 113).with_callback(recompose_on_change(dirty)),
            high_note: note("High Note", c.high, 19, 120).with_callback(recompose_on_change(dirty)),
            variation: IntParam::new(
                "Variation",
                c.seed as i32,
                IntRange::Linear { min: 0, max: 999 },
            )
            .with_callback(recompose_on_change(dirty)),
            grid: EnumParam::new("Grid", GridChoice::Sixteenth)
                .with_callback(recompose_on_change(dirty)),
            threshold: percent("Threshold", c.threshold).with_callback(recompose_on_change(dirty)),
            invert: BoolParam::new("Invert", c.invert).with_callback(recompose_on_change(dirty)),
            snap: BoolParam::new("Snap to Scale", c.snap).with_callback(recompose_on_change(dirty)),
            swing: swing_param().with_callback(recompose_on_change(dirty)),
            humanise: percent("Humanise", c.humanise).with_callback(recompose_on_change(dirty)),
            meter: EnumParam::new("Meter", MeterChoice::Host)
                .with_callback(recompose_on_change(dirty)),
            content: EnumParam::new("Content", ContentChoice::Auto)
                .with_callback(recompose_on_change(dirty)),
        }
    }
}

/// A MIDI note number parameter shown as a note name.
fn note(name: &str, default: u8, min: i32, max: i32) -> IntParam {
    IntParam::new(name, i32::from(default), IntRange::Linear { min, max })
        .with_value_to_string(formatters::v2s_i32_key_formatter())
        .with_string_to_value(formatters::s2v_i32_key_formatter())
}

param_group! {
    /// The sound the pitched parts share, proposed by each new picture unless Lock Timbre is on.
    pub struct SoundParams {
        /// On: a new picture keeps the current sound. Off: the picture's proposed timbre is sent
        /// to the timbre parameters (as recorded, undoable parameter changes).
        #[id = "lock_timbre"]
        pub lock_timbre: BoolParam = BoolParam::new("Lock Timbre", false),
        timbre {
            /// Blend from a soft sine to a bright band-limited sawtooth.
            brightness: "bright",
            /// How fast notes reach full level; short for plucks, long for pads.
            attack_ms: "attack",
            /// Time from full level down to the sustain level.
            decay_ms: "decay",
            /// Level held while a note lasts.
            sustain: "sustain",
            /// How long notes ring after their end (and after the transport stops).
            release_ms: "release",
            /// Low-pass filter cutoff before the envelope opens it.
            cutoff_hz: "cutoff",
            /// Emphasis at the cutoff.
            resonance: "resonance",
            /// How far each note's envelope opens the filter.
            filter_env_oct: "filter_env",
            /// Breath and grit: white noise mixed into every voice.
            noise: "noise",
            /// Unison detune between the two oscillators of a voice; 0 = one oscillator.
            detune_cents: "detune",
            /// Stereo spread of the two unison oscillators.
            width: "width",
        }
    }
}

param_group! {
    /// The picture's own rows as a wave (each pitched part's Picture blends it in).
    pub struct WaveParams {
        timbre {
            /// Which row of the picture sounds where a part plays the picture's wave.
            wave_position: "wave_position",
            /// How far the wave position travels down the picture and back over the loop.
            wave_scan: "wave_scan",
        }
    }
}

param_group! {
    /// Reverb and the tempo-synced delay.
    pub struct SpaceParams {
        /// The delay's time as a note value of the host's tempo.
        #[id = "delay_time"]
        pub delay_time: EnumParam<DelayChoice> =
            EnumParam::new("Delay Time", DelayChoice::DottedEighth),
        timbre {
            reverb_mix: "reverb_mix",
            reverb_size: "reverb_size",
            reverb_damping: "reverb_damping",
            delay_mix: "delay_mix",
            delay_feedback: "delay_feedback",
        }
    }
}

param_group! {
    /// The drum kit's sound and the drums' place in the mix (ids `drums_level`, `drums_on`).
    pub struct DrumParams {
        #[nested(id_prefix = "drums")]
        pub mix: MixParams = MixParams::new(Part::Drums),
        timbre {
            /// The drum kit's tuning in semitones.
            kit_tune: "kit_tune",
            /// The drum kit's decays, shorter or longer.
            kit_decay: "kit_decay",
        }
    }
}

/// A part's place in the internal sound: Level shapes it (MIDI out keeps its velocities); a part
/// switched off plays nothing, MIDI included.
#[derive(Params)]
pub struct MixParams {
    /// -60 dB is off.
    #[id = "level"]
    pub level: FloatParam,
    #[id = "on"]
    pub on: BoolParam,
}

impl MixParams {
    fn new(part: Part) -> Self {
        MixParams {
            level: FloatParam::new(
                format!("{} Level", part.name()),
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
            .with_smoother(SmoothingStyle::None),
            on: BoolParam::new(format!("{} On", part.name()), true),
        }
    }
}

/// A pitched part (melody, harmony, bass): its sound around the shared one and its place in the
/// mix. Nested with the part's id prefix, so the ids read `melody_tone`, `melody_level` and so on.
#[derive(Params)]
pub struct PartParams {
    /// Octaves the part's filter sits above or below the shared Cutoff.
    #[id = "tone"]
    pub tone: FloatParam,
    /// From a short pluck through the shared envelope to a slow swell.
    #[id = "envelope"]
    pub envelope: FloatParam,
    /// How much of the part's wave is the picture's own.
    #[id = "picture"]
    pub picture: FloatParam,
    #[nested]
    pub mix: MixParams,
    /// The table rows of tone, envelope and picture.
    rows: [&'static TimbreParam; 3],
}

impl PartParams {
    fn new(part: Part) -> Self {
        macro_rules! rows {
            ($prefix:literal) => {
                [
                    row!(concat!($prefix, "_tone")),
                    row!(concat!($prefix, "_envelope")),
                    row!(concat!($prefix, "_picture")),
                ]
            };
        }
        let rows = match part {
            Part::Melody => rows!("melody"),
            Part::Harmony => rows!("harmony"),
            Part::Bass | Part::Drums => rows!("bass"),
        };
        PartParams {
            tone: timbre_param(rows[0]),
            envelope: timbre_param(rows[1]),
            picture: timbre_param(rows[2]),
            mix: MixParams::new(part),
            rows,
        }
    }

    /// Tone, Envelope and Picture beside their rows of the timbre table.
    pub fn timbre(&self) -> impl Iterator<Item = (&'static TimbreParam, &FloatParam)> {
        self.rows
            .into_iter()
            .zip([&self.tone, &self.envelope, &self.picture])
    }
}

/// Level, tempo and how the score plays.
#[derive(Params)]
pub struct OutputParams {
    /// Output level of the internal synth.
    #[id = "gain"]
    pub gain_db: FloatParam,
    /// Off: only the MIDI notes go out (to drive another instrument); the internal synth is silent.
    #[id = "synth"]
    pub internal_synth: BoolParam,
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
    /// When a recomposed score takes over from the one playing.
    #[id = "swap"]
    pub swap_at: EnumParam<SwapChoice>,
    /// The tempo Pixelody keeps when the host reports none.
    #[id = "tempo"]
    pub free_tempo_bpm: FloatParam,
    /// The host's bypass (VST3 and CLAP hosts show it as their own switch): the output fades out
    /// and back in; the score keeps following the transport meanwhile.
    #[id = "bypass"]
    pub bypass: BoolParam,
}

impl OutputParams {
    fn new() -> Self {
        let d = EngineParams::default();
        OutputParams {
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
            internal_synth: BoolParam::new("Internal Synth", true),
            play_mode: EnumParam::new("Play Mode", PlayChoice::Transport),
            root_key: note("Root Key", 60, 0, 127),
            midi_transpose: BoolParam::new("MIDI Transpose", false),
            swap_at: EnumParam::new("Score Change", SwapChoice::NextBar),
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
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

/// Everything the host sees and saves: the persisted score and picture, then the parameters in
/// groups (the host's parameter tree shows them as folders; the ids are flat and stable forever,
/// saved projects name parameters by them).
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
    /// The name of the preset loaded (or saved) last, empty for none: the menu says "Name
    /// (edited)" once the sound moves away from it, also after the editor or the project
    /// reopens.
    #[persist = "preset"]
    pub preset_name: Arc<std::sync::RwLock<String>>,

    #[nested(group = "Composition")]
    pub composing: ComposingParams,
    #[nested(group = "Sound")]
    pub sound: SoundParams,
    #[nested(id_prefix = "melody", group = "Melody")]
    pub melody: PartParams,
    #[nested(id_prefix = "harmony", group = "Harmony")]
    pub harmony: PartParams,
    #[nested(id_prefix = "bass", group = "Bass")]
    pub bass: PartParams,
    #[nested(group = "Drums")]
    pub drums: DrumParams,
    #[nested(group = "Picture Wave")]
    pub wave: WaveParams,
    #[nested(group = "Space")]
    pub space: SpaceParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
}

impl PixelodyParams {
    pub fn new(score: Arc<ScoreSlot>, composition: Arc<CompositionSlot>) -> Self {
        let dirty = composition.dirty.clone();
        PixelodyParams {
            score,
            composition,
            editor_size: Arc::default(),
            notices: Arc::default(),
            preset_name: Arc::default(),
            composing: ComposingParams::new(&dirty),
            sound: SoundParams::new(),
            melody: PartParams::new(Part::Melody),
            harmony: PartParams::new(Part::Harmony),
            bass: PartParams::new(Part::Bass),
            drums: DrumParams::new(),
            wave: WaveParams::new(),
            space: SpaceParams::new(),
            output: OutputParams::new(),
        }
    }

    /// The composition settings the parameters describe now.
    pub fn settings(&self) -> Settings {
        self.settings_with(&|_| None)
    }

    /// The settings the parameters would give with the normalized values `moved` names (a
    /// preset about to load), the others as they are.
    pub fn settings_with(&self, moved: &dyn Fn(ParamPtr) -> Option<f32>) -> Settings {
        fn at<P: Param>(param: &P, moved: &dyn Fn(ParamPtr) -> Option<f32>) -> P::Plain {
            match moved(param.as_ptr()) {
                Some(normalized) => param.preview_plain(normalized),
                None => param.modulated_plain_value(),
            }
        }
        let p = &self.composing;
        Settings {
            mode: match at(&p.mode, moved) {
                ModeChoice::Compose => compose::Mode::Compose,
                ModeChoice::Scan => compose::Mode::Scan,
                ModeChoice::Spectral => compose::Mode::Spectral,
            },
            bars: at(&p.bars, moved).max(1) as u32,
            key: at(&p.key, moved).pitch_class(),
            scale: at(&p.scale, moved).scale(),
            density: at(&p.density, moved),
            low: at(&p.low_note, moved).clamp(0, 127) as u8,
            high: at(&p.high_note, moved).clamp(0, 127) as u8,
            seed: at(&p.variation, moved).max(0) as u32,
            grid: at(&p.grid, moved).steps(),
            threshold: at(&p.threshold, moved),
            invert: at(&p.invert, moved),
            snap: at(&p.snap, moved),
            style: at(&p.style, moved).style(),
            swing: Some(at(&p.swing, moved)).filter(|&v| v >= 0.0),
            humanise: at(&p.humanise, moved),
            meter: at(&p.meter, moved)
                .signature()
                .unwrap_or_else(|| self.composition.host_meter()),
            region: self.composition.region(),
            content: at(&p.content, moved) == ContentChoice::Auto,
        }
        .clamped()
    }

    /// The pitched parts' groups, in `Part` order.
    pub fn pitched(&self) -> [&PartParams; 3] {
        [&self.melody, &self.harmony, &self.bass]
    }

    /// Each part's Level and On, in `Part` order (melody, harmony, bass, drums).
    pub fn mixes(&self) -> [&MixParams; 4] {
        [
            &self.melody.mix,
            &self.harmony.mix,
            &self.bass.mix,
            &self.drums.mix,
        ]
    }

    /// Every timbre parameter beside its row of the timbre table (`score::TIMBRE`); a test
    /// checks that each row is here once, with its id, name, range and default.
    pub fn timbre(&self) -> impl Iterator<Item = (&'static TimbreParam, &FloatParam)> {
        self.sound
            .timbre()
            .chain(self.pitched().into_iter().flat_map(PartParams::timbre))
            .chain(self.drums.timbre())
            .chain(self.wave.timbre())
            .chain(self.space.timbre())
    }

    /// The timbre the parameters describe now.
    pub fn patch(&self) -> Patch {
        let mut patch = Patch::default();
        for (t, param) in self.timbre() {
            (t.set)(&mut patch, param.value());
        }
        patch
    }

    /// The values the engine needs, read once per (sub-)block; the engine smooths them per sample.
    pub fn engine_params(&self) -> EngineParams {
        let o = &self.output;
        EngineParams {
            gain_db: o.gain_db.value(),
            timbre: self.patch(),
            fallback_bpm: f64::from(o.free_tempo_bpm.value()),
            swap_at: match o.swap_at.value() {
                SwapChoice::NextBar => SwapAt::NextBar,
                SwapChoice::NextBeat => SwapAt::NextBeat,
                SwapChoice::Immediately => SwapAt::Immediately,
            },
            transpose: 0,
            delay_beats: self.space.delay_time.value().beats(),
            part_db: self.mixes().map(|m| m.level.value()),
            part_on: self.mixes().map(|m| m.on.value()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::NOTE_NAMES;

    use crate::test_support::example_params as params;

    #[test]
    fn the_timbre_parameters_are_the_table() {
        let p = params();
        let map = p.param_map();
        let rows: Vec<_> = p.timbre().collect();
        assert_eq!(rows.len(), TIMBRE.len(), "every row once");
        for row in &TIMBRE {
            let mut found = rows.iter().filter(|(t, _)| t.id == row.id);
            let (t, param) = *found.next().expect("a parameter for every row");
            assert!(found.next().is_none(), "{} twice", row.id);
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
    fn a_held_value_is_what_the_parameter_holds_when_set_to_it_through_a_host() {
        // A picture's proposed patch is held (issue 32): the plug-in's parameters, set to it
        // through normalised values as every host hands them over, hold it exactly.
        let p = params();
        for (t, param) in p.timbre() {
            for k in 0..=4_000 {
                let raw = t.min + (t.max - t.min) * (k as f32 / 4_000.0).powf(1.7);
                let held = t.held(raw);
                let set = param.preview_plain(param.preview_normalized(raw));
                assert_eq!(set.to_bits(), held.to_bits(), "{}: {raw}", t.id);
                let again = param.preview_plain(t.normalized_for(held));
                assert_eq!(again.to_bits(), held.to_bits(), "{}: {raw}", t.id);
            }
        }
        // Composed scores carry held patches: the command line plays what the plug-in will.
        let score = crate::pipeline::picture_to_score(
            crate::plugin::EXAMPLE_PICTURE,
            "example.png",
            &crate::compose::Settings::default(),
        )
        .unwrap();
        for (t, param) in p.timbre() {
            let v = (t.get)(&score.patch);
            let set = param.preview_plain(t.normalized_for(v));
            assert_eq!(set.to_bits(), v.to_bits(), "{}", t.id);
        }
    }

    /// Saved projects and host automation name parameters by id: the grouping must never
    /// change one (this is the list of ids the first release shipped, in its order).
    #[test]
    fn the_parameter_ids_are_the_ones_projects_saved() {
        const SHIPPED: [&str; 60] = [
            "lock_timbre",
            "gain",
            "attack",
            "release",
            "bright",
            "decay",
            "sustain",
            "cutoff",
            "resonance",
            "filter_env",
            "noise",
            "width",
            "detune",
            "reverb_mix",
            "reverb_size",
            "reverb_damping",
            "delay_mix",
            "delay_feedback",
            "delay_time",
            "wave_position",
            "wave_scan",
            "melody_tone",
            "melody_envelope",
            "melody_picture",
            "harmony_tone",
            "harmony_envelope",
            "harmony_picture",
            "bass_tone",
            "bass_envelope",
            "bass_picture",
            "kit_tune",
            "kit_decay",
            "tempo",
            "swap",
            "play_mode",
            "root",
            "midi_transpose",
            "synth",
            "mode",
            "key",
            "scale",
            "bars",
            "density",
            "low",
            "high",
            "variation",
            "grid",
            "threshold",
            "invert",
            "snap",
            "style",
            "melody_level",
            "harmony_level",
            "bass_level",
            "drums_level",
            "melody_on",
            "harmony_on",
            "bass_on",
            "drums_on",
            "bypass",
        ];
        let p = params();
        let map = p.param_map();
        let mut ids: Vec<&str> = map.iter().map(|(id, _, _)| id.as_str()).collect();
        ids.sort_unstable();
        // (Added since, never renamed: the feel and the meter.)
        let added = ["swing", "humanise", "meter", "content"];
        let mut shipped = SHIPPED.to_vec();
        shipped.extend(added);
        shipped.sort_unstable();
        assert_eq!(ids, shipped);
        // Each sits in its group (the host's folder), the parts' in their part's.
        let group = |id: &str| &map.iter().find(|(i, _, _)| i == id).unwrap().2;
        assert_eq!(group("melody_level"), "Melody");
        assert_eq!(group("bass_tone"), "Bass");
        assert_eq!(group("drums_on"), "Drums");
        assert_eq!(group("kit_tune"), "Drums");
        assert_eq!(group("style"), "Composition");
        assert_eq!(group("swing"), "Composition");
        assert_eq!(group("meter"), "Composition");
        assert_eq!(group("bright"), "Sound");
        assert_eq!(group("delay_time"), "Space");
        assert_eq!(group("bypass"), "Output");
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
        // The ids saved in projects and presets are the composer's own ids, so the plug-in, its
        // presets and the command line name each choice one way.
        let ids = |ids: Option<&'static [&'static str]>| ids.unwrap()[1..].to_vec();
        assert_eq!(ids(ScaleChoice::ids()), Scale::ALL.map(Scale::id));
        assert_eq!(ids(StyleChoice::ids()), Style::ALL.map(Style::id));
        assert_eq!(
            ModeChoice::ids().unwrap(),
            compose::Mode::ALL.map(compose::Mode::name)
        );
        for (i, style) in Style::ALL.iter().enumerate() {
            assert_eq!(StyleChoice::from_index(i + 1).style(), Some(*style));
            assert_eq!(StyleChoice::variants()[i + 1], style.name());
        }
        let grids: Vec<u32> = (0..GridChoice::variants().len())
            .map(|i| GridChoice::from_index(i).steps())
            .collect();
        assert_eq!(grids, compose::GRIDS);
        for (i, g) in grids.iter().enumerate() {
            assert_eq!(GridChoice::variants()[i], format!("1/{g}"));
        }
    }
}
