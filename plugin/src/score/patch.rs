//! The timbre: the [`Patch`] a picture proposes and the table of its parameters. The table is
//! the one place a timbre parameter is described (id, name, unit, range, taper, default, step,
//! smoothing); the plugin's parameters, the engine's clamping and the editor's proposal are made
//! from it, so a new timbre parameter is one entry here plus its field.

use serde::{Deserialize, Serialize};

/// The timbre a picture proposes. Each value corresponds one-to-one to a timbre parameter of the
/// plugin (see [`TIMBRE`]); the command-line renderer plays it directly.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(default)]
pub struct Patch {
    pub attack_ms: f32,
    pub release_ms: f32,
    /// 0 = sine .. 1 = sawtooth.
    pub brightness: f32,
    pub decay_ms: f32,
    /// 0..1.
    pub sustain: f32,
    pub cutoff_hz: f32,
    /// 0..1.
    pub resonance: f32,
    /// Octaves the envelope opens the filter by.
    pub filter_env_oct: f32,
    /// 0..1.
    pub noise: f32,
    /// 0..1.
    pub width: f32,
    /// Unison detune in cents; 0 = one oscillator.
    pub detune_cents: f32,
    /// 0..1: how much reverb is heard.
    pub reverb_mix: f32,
    /// 0..1: the reverb's decay, 0.4 s to 8 s.
    pub reverb_size: f32,
    /// 0..1: how dark the reverb's tail gets.
    pub reverb_damping: f32,
    /// 0..1: how loud the delay's repeats are.
    pub delay_mix: f32,
    /// 0..0.9: how much of each repeat comes back.
    pub delay_feedback: f32,
    /// 0..1: which of the picture's waves sounds (0 = the top row's, 1 = the bottom row's).
    pub wave_position: f32,
    /// 0..1: how far the position travels down the picture and back over the loop.
    pub wave_scan: f32,
    /// Each pitched part's sound (melody, harmony, bass), around the shared timbre.
    pub melody: PartSound,
    pub harmony: PartSound,
    pub bass: PartSound,
    /// Semitones the drum kit is tuned by.
    pub kit_tune: f32,
    /// -1..1: the kit's decays from half as long to twice as long.
    pub kit_decay: f32,
}

/// One pitched part's sound around the shared timbre.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
#[serde(default)]
pub struct PartSound {
    /// Octaves the part's filter cutoff sits above (or below) the shared Cutoff.
    pub tone_oct: f32,
    /// -1..1: the part's envelope, from a short pluck (attack, decay and release a quarter as
    /// long) through the shared one (0) to a slow swell (four times as long).
    pub envelope: f32,
    /// 0..1: how much of the part's wave is the picture's own (the rest the analog oscillator).
    pub picture: f32,
}

impl PartSound {
    /// How much longer the part's envelope times are than the shared ones.
    pub fn time_scale(&self) -> f32 {
        4f32.powf(self.envelope.clamp(-1.0, 1.0))
    }
}

/// How a parameter's range is laid along its knob (the plugin's `FloatRange`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Taper {
    Linear,
    /// Skewed towards the low end: the exponent given to nice-plug's `FloatRange::skew_factor`.
    Skewed(f32),
}

/// How the value is written for the musician.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueText {
    /// A 0..1 value shown as a whole percentage.
    Percent,
    /// The value with this many decimals, then the unit.
    Decimals(usize),
    /// Hertz below 1 kHz, kilohertz above, with one decimal.
    Frequency,
}

/// How the engine follows a change of the parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smoothing {
    /// Glides there per sample (10 ms), for sounding notes too.
    Glide,
    /// Envelope times: each note takes the value it finds when it starts.
    AtNoteStart,
}

/// One timbre parameter.
#[derive(Clone, Copy, Debug)]
pub struct TimbreParam {
    /// The plugin's parameter id: stable forever, saved projects name parameters by it.
    pub id: &'static str,
    pub name: &'static str,
    /// Written after the value (" ms"); empty for percentages and frequencies.
    pub unit: &'static str,
    pub min: f32,
    pub max: f32,
    pub taper: Taper,
    pub default: f32,
    /// The value moves in steps of this size, if any.
    pub step: Option<f32>,
    pub text: ValueText,
    pub smoothing: Smoothing,
    pub get: fn(&Patch) -> f32,
    pub set: fn(&mut Patch, f32),
}

/// Reads and writes one field of a [`Patch`].
type Access = (fn(&Patch) -> f32, fn(&mut Patch, f32));

macro_rules! field {
    ($($f:ident).+) => {
        (|p: &Patch| p.$($f).+, |p: &mut Patch, v: f32| p.$($f).+ = v)
    };
}

// One positional row per parameter, so the table below reads as a table.
#[allow(clippy::too_many_arguments)]
const fn param(
    id: &'static str,
    name: &'static str,
    unit: &'static str,
    (min, max, taper): (f32, f32, Taper),
    default: f32,
    step: Option<f32>,
    text: ValueText,
    smoothing: Smoothing,
    (get, set): Access,
) -> TimbreParam {
    TimbreParam {
        id,
        name,
        unit,
        min,
        max,
        taper,
        default,
        step,
        text,
        smoothing,
        get,
        set,
    }
}

const PERCENT: (f32, f32, Taper) = (0.0, 1.0, Taper::Linear);
const BIPOLAR: (f32, f32, Taper) = (-1.0, 1.0, Taper::Linear);
const TONE: (f32, f32, Taper) = (-3.0, 3.0, Taper::Linear);

/// Every timbre parameter, in the order the plugin lists them.
pub const TIMBRE: [TimbreParam; 29] = {
    use Smoothing::*;
    use ValueText::*;
    [
        param(
            "attack",
            "Attack",
            " ms",
            (0.5, 2_000.0, Taper::Skewed(-2.0)),
            5.0,
            None,
            Decimals(1),
            AtNoteStart,
            field!(attack_ms),
        ),
        param(
            "release",
            "Release",
            " ms",
            (1.0, 5_000.0, Taper::Skewed(-2.0)),
            120.0,
            None,
            Decimals(0),
            AtNoteStart,
            field!(release_ms),
        ),
        param(
            "bright",
            "Brightness",
            "",
            PERCENT,
            0.4,
            None,
            Percent,
            Glide,
            field!(brightness),
        ),
        param(
            "decay",
            "Decay",
            " ms",
            (1.0, 5_000.0, Taper::Skewed(-2.0)),
            250.0,
            None,
            Decimals(0),
            AtNoteStart,
            field!(decay_ms),
        ),
        param(
            "sustain",
            "Sustain",
            "",
            PERCENT,
            0.6,
            None,
            Percent,
            AtNoteStart,
            field!(sustain),
        ),
        param(
            "cutoff",
            "Cutoff",
            "",
            (20.0, 20_000.0, Taper::Skewed(-2.2)),
            4_000.0,
            None,
            Frequency,
            Glide,
            field!(cutoff_hz),
        ),
        param(
            "resonance",
            "Resonance",
            "",
            PERCENT,
            0.2,
            None,
            Percent,
            Glide,
            field!(resonance),
        ),
        param(
            "filter_env",
            "Filter Envelope",
            " oct",
            (0.0, 8.0, Taper::Linear),
            1.5,
            Some(0.01),
            Decimals(2),
            Glide,
            field!(filter_env_oct),
        ),
        param(
            "noise",
            "Noise",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(noise),
        ),
        param(
            "width",
            "Width",
            "",
            PERCENT,
            0.5,
            None,
            Percent,
            Glide,
            field!(width),
        ),
        param(
            "detune",
            "Detune",
            " ct",
            (0.0, 100.0, Taper::Linear),
            0.0,
            Some(0.1),
            Decimals(1),
            Glide,
            field!(detune_cents),
        ),
        param(
            "reverb_mix",
            "Reverb Mix",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(reverb_mix),
        ),
        param(
            "reverb_size",
            "Reverb Size",
            "",
            PERCENT,
            0.5,
            None,
            Percent,
            Glide,
            field!(reverb_size),
        ),
        param(
            "reverb_damping",
            "Reverb Damping",
            "",
            PERCENT,
            0.5,
            None,
            Percent,
            Glide,
            field!(reverb_damping),
        ),
        param(
            "delay_mix",
            "Delay Mix",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(delay_mix),
        ),
        param(
            "delay_feedback",
            "Delay Feedback",
            "",
            (0.0, 0.9, Taper::Linear),
            0.35,
            None,
            Percent,
            Glide,
            field!(delay_feedback),
        ),
        param(
            "wave_position",
            "Wave Position",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(wave_position),
        ),
        param(
            "wave_scan",
            "Wave Scan",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(wave_scan),
        ),
        param(
            "melody_tone",
            "Melody Tone",
            " oct",
            TONE,
            0.0,
            Some(0.01),
            Decimals(2),
            Glide,
            field!(melody.tone_oct),
        ),
        param(
            "melody_envelope",
            "Melody Envelope",
            "",
            BIPOLAR,
            0.0,
            None,
            Percent,
            AtNoteStart,
            field!(melody.envelope),
        ),
        param(
            "melody_picture",
            "Melody Picture",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(melody.picture),
        ),
        param(
            "harmony_tone",
            "Harmony Tone",
            " oct",
            TONE,
            0.0,
            Some(0.01),
            Decimals(2),
            Glide,
            field!(harmony.tone_oct),
        ),
        param(
            "harmony_envelope",
            "Harmony Envelope",
            "",
            BIPOLAR,
            0.0,
            None,
            Percent,
            AtNoteStart,
            field!(harmony.envelope),
        ),
        param(
            "harmony_picture",
            "Harmony Picture",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(harmony.picture),
        ),
        param(
            "bass_tone",
            "Bass Tone",
            " oct",
            TONE,
            0.0,
            Some(0.01),
            Decimals(2),
            Glide,
            field!(bass.tone_oct),
        ),
        param(
            "bass_envelope",
            "Bass Envelope",
            "",
            BIPOLAR,
            0.0,
            None,
            Percent,
            AtNoteStart,
            field!(bass.envelope),
        ),
        param(
            "bass_picture",
            "Bass Picture",
            "",
            PERCENT,
            0.0,
            None,
            Percent,
            Glide,
            field!(bass.picture),
        ),
        param(
            "kit_tune",
            "Drums Tune",
            " st",
            (-12.0, 12.0, Taper::Linear),
            0.0,
            Some(0.1),
            Decimals(1),
            AtNoteStart,
            field!(kit_tune),
        ),
        param(
            "kit_decay",
            "Drums Decay",
            "",
            BIPOLAR,
            0.0,
            None,
            Percent,
            AtNoteStart,
            field!(kit_decay),
        ),
    ]
};

impl Default for Patch {
    fn default() -> Self {
        let mut p = Patch::zero();
        for t in &TIMBRE {
            (t.set)(&mut p, t.default);
        }
        p
    }
}

impl Patch {
    fn zero() -> Patch {
        Patch {
            attack_ms: 0.0,
            release_ms: 0.0,
            brightness: 0.0,
            decay_ms: 0.0,
            sustain: 0.0,
            cutoff_hz: 0.0,
            resonance: 0.0,
            filter_env_oct: 0.0,
            noise: 0.0,
            width: 0.0,
            detune_cents: 0.0,
            reverb_mix: 0.0,
            reverb_size: 0.0,
            reverb_damping: 0.0,
            delay_mix: 0.0,
            delay_feedback: 0.0,
            wave_position: 0.0,
            wave_scan: 0.0,
            melody: PartSound::default(),
            harmony: PartSound::default(),
            bass: PartSound::default(),
            kit_tune: 0.0,
            kit_decay: 0.0,
        }
    }

    /// Whether every value is finite and in its parameter's range.
    pub fn is_valid(&self) -> bool {
        TIMBRE.iter().all(|t| {
            let v = (t.get)(self);
            v.is_finite() && (t.min..=t.max).contains(&v)
        })
    }

    /// Every value in its parameter's range; a value that is not a number becomes the default.
    pub fn clamped(&self) -> Patch {
        let mut p = *self;
        for t in &TIMBRE {
            let v = (t.get)(self);
            (t.set)(
                &mut p,
                if v.is_finite() {
                    v.clamp(t.min, t.max)
                } else {
                    t.default
                },
            );
        }
        p
    }

    /// This patch as the plug-in's timbre parameters hold it once the editor sets them to it
    /// (each value through its parameter's normalised form and back): what a dropped picture
    /// plays in the plug-in, and so what the command line plays too (issue 32).
    pub fn held(&self) -> Patch {
        let mut p = self.clamped();
        for t in &TIMBRE {
            let v = t.held((t.get)(&p));
            (t.set)(&mut p, v);
        }
        p
    }
}

impl TimbreParam {
    /// The parameter's range as nice-plug knows it.
    pub fn range(&self) -> nice_plug::prelude::FloatRange {
        use nice_plug::prelude::FloatRange;
        match self.taper {
            Taper::Linear => FloatRange::Linear {
                min: self.min,
                max: self.max,
            },
            Taper::Skewed(exponent) => FloatRange::Skewed {
                min: self.min,
                max: self.max,
                factor: FloatRange::skew_factor(exponent),
            },
        }
    }

    /// The value the parameter takes for the normalised value `normalized` (snapped to its
    /// step), as nice-plug's `FloatParam::preview_plain` computes it.
    fn plain(&self, normalized: f32) -> f32 {
        let range = self.range();
        let plain = range.unnormalize(normalized);
        match self.step {
            Some(step) => range.snap_to_step(plain, step),
            None => plain,
        }
    }

    /// The value this parameter holds once set to `value` (through its normalised form, as a
    /// host hands it over). Not always a value it holds again when set to it the same way
    /// (normalising and back can drift by an ulp): set it with [`TimbreParam::normalized_for`].
    pub fn held(&self, value: f32) -> f32 {
        self.plain(self.range().normalize(value))
    }

    /// The normalised value for which the parameter holds exactly `held` (a value from
    /// [`TimbreParam::held`]): found within a few ulps of the plain normalisation, which itself
    /// may land an ulp or two beside it.
    pub fn normalized_for(&self, held: f32) -> f32 {
        let guess = self.range().normalize(held);
        (0..=32u32)
            .flat_map(|k| [k as i32, -(k as i32)])
            .map(|d| f32::from_bits(guess.to_bits().wrapping_add_signed(d)))
            .find(|n| (0.0..=1.0).contains(n) && self.plain(*n).to_bits() == held.to_bits())
            .unwrap_or(guess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_field_once_with_sane_entries() {
        // Setting entry i to a marker changes exactly one field, and a different one each time.
        let mut seen = Vec::new();
        for (i, t) in TIMBRE.iter().enumerate() {
            let mut p = Patch::zero();
            (t.set)(&mut p, 1.0);
            let fields: Vec<f32> = TIMBRE.iter().map(|u| (u.get)(&p)).collect();
            assert_eq!(fields.iter().filter(|v| **v == 1.0).count(), 1, "{}", t.id);
            assert_eq!(
                fields[i], 1.0,
                "{} reads another field than it writes",
                t.id
            );
            seen.push(t.id);
            assert!(
                t.min < t.max && (t.min..=t.max).contains(&t.default),
                "{}",
                t.id
            );
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), TIMBRE.len(), "ids are unique");
        // serde sees the same number of fields (a part's sound is one object of three).
        let json = serde_json::to_value(Patch::default()).unwrap();
        let fields: usize = json
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_object().map_or(1, |o| o.len()))
            .sum();
        assert_eq!(fields, TIMBRE.len());
    }

    #[test]
    fn clamping_keeps_values_in_range_and_repairs_non_numbers() {
        let wild = Patch {
            cutoff_hz: 1e9,
            attack_ms: -3.0,
            noise: f32::NAN,
            ..Patch::default()
        };
        assert!(!wild.is_valid());
        let c = wild.clamped();
        assert!(c.is_valid());
        assert_eq!((c.cutoff_hz, c.attack_ms, c.noise), (20_000.0, 0.5, 0.0));
        assert!(Patch::default().is_valid());
    }
}
