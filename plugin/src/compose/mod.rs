//! Composing: picture -> score. Pure and deterministic: the same picture, settings and Variation
//! always give the same score, bit for bit. Runs off the audio thread.
//!
//! Three ways to read a picture (see `Mode`): `arrange` writes melody, chords and bass from its
//! features; `scan` reads it as a piano roll; `spectral` as a spectrogram. In every mode `timbre`
//! proposes a patch from its colour, contrast and texture.

mod arrange;
pub mod feel;
mod harmony;
pub mod measure;
mod melody;
pub mod piece;
mod progressions;
mod scan;
mod seen;
mod spectral;
pub mod style;
mod texture;
pub mod theory;
mod timbre;
pub mod wave_rows;

use serde::{Deserialize, Serialize};

use crate::analysis::{self, Picture};
use crate::score::{Meter, Score, Signature};
pub use melody::repetition;
pub use style::Style;
pub use theory::{pitch_class, Rng, Scale, Tonality, NOTE_NAMES};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Melody, chords and bass from the picture's features (the default).
    Compose,
    /// The picture as a piano roll: rows are scale degrees, columns are grid steps.
    Scan,
    /// The picture as a spectrogram: rows are partials, columns are time.
    Spectral,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Compose, Mode::Scan, Mode::Spectral];

    /// The mode's stable id (also how it is written): the plug-in's Mode choice, presets and the
    /// command line use it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Compose => "compose",
            Mode::Scan => "scan",
            Mode::Spectral => "spectral",
        }
    }
}

/// The choice among `all` that `text` names, by its id or its name, whatever the case, with
/// spaces, hyphens or nothing between words ("lofi", "Lo-fi", "harmonic minor"). The one parser
/// of the composition's choices, for the command line and anything else that reads them as text.
pub fn choice_named<T: Copy>(
    all: &[T],
    id: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
    text: &str,
) -> Option<T> {
    let plain = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = plain(text);
    all.iter()
        .copied()
        .find(|&c| plain(id(c)) == wanted || plain(name(c)) == wanted)
}

/// Choices that shape the score, as the musician sets them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub mode: Mode,
    /// Loop length in bars of `meter`.
    pub bars: u32,
    /// Tonic pitch class (0 = C); `None` = Auto, from the picture's dominant hue.
    pub key: Option<u8>,
    /// `None` = Auto, from lightness, saturation and warmth.
    pub scale: Option<Scale>,
    /// 0..1: how many notes (Compose) relative to what the picture suggests.
    pub density: f32,
    /// Lowest and highest MIDI pitch of the melody (Compose), of the rows (Scan) and of the
    /// partials (Spectral).
    pub low: u8,
    pub high: u8,
    /// Variation: another seed gives another score from the same picture.
    pub seed: u32,
    /// Scan: steps per bar (4 = quarter notes .. 32 = thirty-second notes).
    pub grid: u32,
    /// Scan: lightness (0..1) from which a pixel is a note.
    pub threshold: f32,
    /// Scan: dark pixels are notes instead of light ones.
    pub invert: bool,
    /// Spectral: partials snapped to the key's scale.
    pub snap: bool,
    /// Compose: the texture (accompaniment, bass, drums, feel); `None` = Auto, from the picture.
    #[serde(default)]
    pub style: Option<Style>,
    /// Compose: swing, 0..1 (straight .. a triplet feel at 2/3 .. a hard shuffle); `None` = the
    /// style's own (Lo-fi swings, the others play straight).
    #[serde(default)]
    pub swing: Option<f32>,
    /// Compose: how far each part's timing and velocity spread, 0..1 (the same way for the same
    /// Variation).
    #[serde(default)]
    pub humanise: f32,
    /// The time signature the loop's bars are in (the host's, or the musician's); 4/4 in
    /// projects saved before meters existed. One Pixelody does not compose in composes in 4/4.
    #[serde(default)]
    pub meter: Signature,
    /// The part of the picture composed from, as fractions of its width and height: x and y of
    /// the top-left corner, width, height (`None`: the whole picture). Every section of a piece
    /// is read in the same part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<[f32; 4]>,
    /// Whether what the picture shows (faces and their expression, people, animals, things)
    /// shapes the music (Content Auto) or not (Off: only colour, light, edges and texture).
    #[serde(default = "content_on")]
    pub content: bool,
}

fn content_on() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Compose,
            bars: 2,
            key: None,
            scale: None,
            density: 0.5,
            low: 60,
            high: 84,
            seed: 0,
            grid: 16,
            threshold: 0.5,
            invert: false,
            snap: false,
            style: None,
            swing: None,
            humanise: 0.0,
            meter: Signature::COMMON,
            region: None,
            content: true,
        }
    }
}

/// The smallest region, as a share of the picture's width and height: a few pixels of the
/// working copy.
pub const MIN_REGION: f32 = 0.04;

pub const MIN_BARS: u32 = 1;
pub const MAX_BARS: u32 = 16;
pub const GRIDS: [u32; 4] = [4, 8, 16, 32];

impl Settings {
    /// The same settings with every value brought into its documented range.
    pub fn clamped(&self) -> Settings {
        let mut s = *self;
        s.bars = s.bars.clamp(MIN_BARS, MAX_BARS);
        s.key = s.key.map(|k| k % 12);
        s.density = if s.density.is_finite() {
            s.density.clamp(0.0, 1.0)
        } else {
            0.5
        };
        s.low = s.low.min(120);
        s.high = s.high.clamp(s.low + 7, 127);
        s.grid = *GRIDS.iter().find(|&&g| g >= s.grid).unwrap_or(&32);
        s.threshold = if s.threshold.is_finite() {
            s.threshold.clamp(0.0, 1.0)
        } else {
            0.5
        };
        s.swing = s.swing.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 1.0));
        s.humanise = if s.humanise.is_finite() {
            s.humanise.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if !s.meter.is_supported() {
            s.meter = Signature::COMMON;
        }
        s.region = s.region.and_then(region_clamped);
        s
    }
}

/// `r` inside the picture and at least [`MIN_REGION`] each way; `None` where it is not a region
/// (not numbers) or is the whole picture.
pub fn region_clamped([x, y, w, h]: [f32; 4]) -> Option<[f32; 4]> {
    if ![x, y, w, h].iter().all(|v| v.is_finite()) {
        return None;
    }
    let w = w.clamp(MIN_REGION, 1.0);
    let h = h.clamp(MIN_REGION, 1.0);
    let x = x.clamp(0.0, 1.0 - w);
    let y = y.clamp(0.0, 1.0 - h);
    let whole = w >= 1.0 - 1e-6 && h >= 1.0 - 1e-6;
    (!whole).then_some([x, y, w, h])
}

/// The picture as `settings` read it: its region, or the whole of it.
pub fn framed<'a>(picture: &'a Picture, settings: &Settings) -> std::borrow::Cow<'a, Picture> {
    match settings.clamped().region {
        Some(r) => std::borrow::Cow::Owned(picture.crop(r)),
        None => std::borrow::Cow::Borrowed(picture),
    }
}

/// A 64-bit fingerprint of the working copy, mixed into the random seed: different pictures vary
/// differently, the same picture always the same way.
fn picture_seed(picture: &Picture, seed: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for p in &picture.pixels {
        for v in [p.l, p.a, p.b] {
            h ^= u64::from(v.to_bits());
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The key and scale: chosen by the musician, or read from the picture. Auto key: the dominant
/// hue goes around the circle of fifths (hue sector k of 12 -> k fifths above C), so neighbouring
/// hues give related keys; a grey picture stays in C. Auto scale: lighter, more saturated, warmer
/// pictures get brighter modes (Palmer et al. 2013), darker, greyer, cooler ones darker modes.
pub fn tonality(features: &analysis::Features, settings: &Settings) -> Tonality {
    let tonic = settings.key.unwrap_or_else(|| {
        if features.chroma.mean * features.hue_strength < 0.01 {
            0
        } else {
            let sector = ((features.hue + 15.0) / 30.0).floor() as u32 % 12;
            (sector * 7 % 12) as u8
        }
    });
    let scale = settings
        .scale
        .unwrap_or_else(|| Scale::BY_BRIGHTNESS[brightness_rank(features)]);
    Tonality { tonic, scale }
}

/// The picture's emotional brightness, -1..1: lightness, saturation and warmth together.
/// Faces move it by how they feel (a smile brightens a grey photo's mode, a sad face darkens a
/// sunny one's), weighted by how sure the models are.
pub fn mood(features: &analysis::Features) -> f32 {
    let light = (features.lightness.mean - 0.55) / 0.2;
    let saturation = (features.chroma.mean - 0.06) / 0.05;
    let face = 0.8 * features.cues.valence;
    (0.5 * light + 0.3 * saturation + 0.4 * features.warmth + face).clamp(-1.0, 1.0)
}

fn brightness_rank(features: &analysis::Features) -> usize {
    let n = Scale::BY_BRIGHTNESS.len();
    (((mood(features) + 1.0) / 2.0 * (n - 1) as f32).round() as usize).min(n - 1)
}

/// What the composer reads in `picture` for `settings`: one column per eighth-note step and one
/// region per bar of the loop.
pub fn features(picture: &Picture, settings: &Settings) -> analysis::Features {
    let settings = settings.clamped();
    let bars = settings.bars as usize;
    let eighths = Meter::plain(settings.meter).eighths();
    let mut features = analysis::analyse(picture, bars * eighths, bars);
    if settings.content {
        features.cues = picture.content.cues();
    }
    features
}

/// The meter the loop is written in: the settings' time signature, grouped where it has more
/// than one way (7/8 as 2+2+3 or 3+2+2, 5/4 as 3+2 or 2+3) by where the picture's changes fall
/// in the bar (its columns' energy folded onto one bar).
pub fn meter(features: &analysis::Features, settings: &Settings) -> Meter {
    let signature = settings.clamped().meter;
    let eighths = Meter::plain(signature).eighths();
    let mut fold = vec![0.0f32; eighths];
    for (i, c) in features.columns.iter().enumerate() {
        fold[i % eighths] += c.energy;
    }
    let range = arrange::span(fold.iter().copied());
    let accents: Vec<f32> = fold.iter().map(|&v| arrange::rank(v, range)).collect();
    Meter::for_picture(signature, &accents)
}

/// The style Compose mode arranges `features` in: the musician's, or Auto's choice.
pub fn style(features: &analysis::Features, settings: &Settings) -> Style {
    settings
        .style
        .unwrap_or_else(|| style::auto(features, melody::repetition(features)))
}

/// The swing (`feel::off_beat`'s amount) a Compose score in `style` plays: the musician's, or
/// the style's own (boats lilt: `seen::swing`).
pub fn swing(features: &analysis::Features, settings: &Settings, style: Style) -> f32 {
    settings
        .swing
        .unwrap_or_else(|| seen::swing(&features.cues, style.swing()))
}

/// Semitones the melody's range moves with the picture's overall lightness (Ward et al. 2006):
/// lighter pictures sit higher, up to six semitones either way.
pub fn register_shift(features: &analysis::Features) -> i32 {
    ((features.lightness.mean - 0.5) * 24.0)
        .round()
        .clamp(-6.0, 6.0) as i32
}

/// The timbre and space a picture proposes with `settings` (what Lock Timbre keeps out): in
/// Compose mode nudged by the style (`Style::shape`). `wave` is the picture's wave (`wave_rows`:
/// frames, width and rows), which proposes where to listen in it.
pub fn proposed_patch(
    features: &analysis::Features,
    (frames, width, rows): (usize, usize, &[u8]),
    settings: &Settings,
) -> crate::score::Patch {
    let mut patch = timbre::propose(features);
    (patch.wave_position, patch.wave_scan) =
        wave_rows::proposed_position_and_scan(frames, width, rows);
    if settings.mode == Mode::Compose {
        style(features, settings).shape(&mut patch);
    }
    // As the plug-in's parameters will hold it: the plug-in after a drop and the command line
    // play the very same values.
    patch.held()
}

/// The sound [`compose`] proposes for `picture` with `settings` (a piece: its first picture),
/// without composing: what a preset that leaves the sound to the picture sets at once, before the
/// score it asks for is composed.
pub fn proposal(picture: &Picture, settings: &Settings) -> crate::score::Patch {
    let settings = settings.clamped();
    let picture = &*framed(picture, &settings);
    let features = features(picture, &settings);
    // (Only the rows: the wave's table is not built for a proposal.)
    let (frames, width, rows) = wave_rows::rows(picture);
    proposed_patch(&features, (frames, width, &rows), &settings)
}

/// How a picture is named in its score and in the editor: "sunset.jpg (4000 x 3000)".
pub fn source_name(file: &str, picture: &Picture) -> String {
    format!(
        "{file} ({} x {})",
        picture.source_width, picture.source_height
    )
}

/// Composes `picture` into a score with `settings`. `source` names the picture in the score.
pub fn compose(picture: &Picture, settings: &Settings, source: String) -> Score {
    let settings = settings.clamped();
    let picture = &*framed(picture, &settings);
    let (wave, mut score) = wave_rows::wave_beside(picture, |rows| {
        compose_with_rows(picture, settings, source, rows)
    });
    score.wave = Some(wave);
    score
}

/// [`compose`] but for the wave's table: the score with its patch proposed from `rows`, the
/// picture's rows, and no wave.
fn compose_with_rows(
    picture: &Picture,
    settings: Settings,
    source: String,
    rows: wave_rows::Rows<'_>,
) -> Score {
    let features = features(picture, &settings);
    let tonality = tonality(&features, &settings);
    let mut rng = Rng::new(picture_seed(picture, settings.seed));
    let meter = meter(&features, &settings);
    let length = f64::from(settings.bars) * meter.bar_beats();
    let mut score = match settings.mode {
        Mode::Compose => {
            let style = style(&features, &settings);
            let arranged =
                arrange::arrange_with(&features, &settings, tonality, style, meter, &mut rng, None);
            let mut s = Score::new(length, arranged.notes, source);
            s.style = style.name().to_string();
            s.progression = arranged.progression.to_string();
            s
        }
        Mode::Scan => Score::new(
            length,
            scan::scan(picture, &settings, tonality, meter),
            source,
        ),
        Mode::Spectral => {
            let mut s = Score::new(length, Vec::new(), source);
            s.spectrum = Some(spectral::spectrum(picture, &features, &settings, tonality));
            s
        }
    };
    score.tonality = tonality.name();
    score.meter = meter;
    score.patch = proposed_patch(&features, rows, &settings);
    score
}

#[cfg(test)]
mod meter_tests;
#[cfg(test)]
pub(crate) mod tests;
