//! Styles: the texture a Compose score is arranged in (accompaniment pattern, bass line, drums,
//! feel), chosen by the musician or read from the picture.

use serde::{Deserialize, Serialize};

use crate::analysis::Features;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// Slow pads, a sparse melody, roots held under them, almost no drums.
    Ambient,
    /// Broken chords and arpeggios in eighths, a singing bass, light drums in half time.
    Ballad,
    /// Rhythmic comping (stabs, strums in busy bars), a syncopated bass, a backbeat.
    Pop,
    /// An ostinato repeated bar after bar, an eighth-note bass pulse, four on the floor.
    Pulse,
    /// Fast arpeggios in sixteenths, octave bass, tight drums.
    Chiptune,
    /// Swung, seventh chords, a walking bass, laid-back drums.
    LoFi,
}

impl Style {
    pub const ALL: [Style; 6] = [
        Style::Ambient,
        Style::Ballad,
        Style::Pop,
        Style::Pulse,
        Style::Chiptune,
        Style::LoFi,
    ];

    /// The style's stable one-word id: the plug-in's Style choice, presets and the command line
    /// all use it.
    pub fn id(self) -> &'static str {
        match self {
            Style::Ambient => "ambient",
            Style::Ballad => "ballad",
            Style::Pop => "pop",
            Style::Pulse => "pulse",
            Style::Chiptune => "chiptune",
            Style::LoFi => "lofi",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Style::Ambient => "Ambient",
            Style::Ballad => "Ballad",
            Style::Pop => "Pop",
            Style::Pulse => "Pulse",
            Style::Chiptune => "Chiptune",
            Style::LoFi => "Lo-fi",
        }
    }

    /// The style's own swing (`feel::off_beat`): Lo-fi's triplet feel (off-beat eighths at two
    /// thirds of the beat), straight for the others. The Swing setting overrides it.
    pub fn swing(self) -> f32 {
        match self {
            Style::LoFi => 2.0 / 3.0,
            _ => 0.0,
        }
    }

    /// The picture's proposed timbre, nudged towards the style's sound: Ambient swells and rings
    /// in a large reverb with a few echoes,
    /// Chiptune is a bright raw wave with short notes (the nearest the synth has to a square),
    /// Lo-fi is dull and dusty (low cutoff, a little noise and detune), Pulse is tight.
    pub fn shape(self, p: &mut crate::score::Patch) {
        match self {
            Style::Ambient => {
                p.attack_ms = p.attack_ms.max(60.0);
                p.release_ms = p.release_ms.max(900.0);
                p.decay_ms = p.decay_ms.max(600.0);
                p.reverb_mix = p.reverb_mix.max(0.35);
                p.reverb_size = p.reverb_size.max(0.7);
                p.delay_mix = p.delay_mix.max(0.15);
                p.harmony.envelope = p.harmony.envelope.max(0.5);
                p.melody.picture = p.melody.picture.max(0.5);
                p.wave_scan = p.wave_scan.max(0.3);
                p.kit_decay = p.kit_decay.max(0.3);
            }
            Style::Chiptune => {
                p.brightness = 1.0;
                p.noise = 0.0;
                p.detune_cents = 0.0;
                p.attack_ms = p.attack_ms.min(3.0);
                p.release_ms = p.release_ms.min(80.0);
                p.cutoff_hz = p.cutoff_hz.max(8_000.0);
                p.reverb_mix = p.reverb_mix.min(0.1);
                // The raw oscillator, tight envelopes, a bright kit.
                for part in [&mut p.melody, &mut p.harmony, &mut p.bass] {
                    part.picture = 0.0;
                    part.envelope = part.envelope.min(-0.3);
                }
                p.kit_tune = p.kit_tune.max(2.0);
                p.kit_decay = p.kit_decay.min(-0.4);
            }
            Style::LoFi => {
                p.cutoff_hz = p.cutoff_hz.min(2_200.0);
                p.noise = p.noise.max(0.05);
                p.detune_cents = p.detune_cents.max(8.0);
                p.reverb_damping = p.reverb_damping.max(0.6);
                p.kit_tune = p.kit_tune.min(-2.0);
                p.kit_decay = p.kit_decay.min(-0.2);
            }
            Style::Pulse => {
                p.release_ms = p.release_ms.min(150.0);
                for part in [&mut p.melody, &mut p.harmony, &mut p.bass] {
                    part.envelope = part.envelope.min(0.0);
                }
            }
            Style::Ballad | Style::Pop => {}
        }
    }

    /// How busy the melody is against what the picture suggests.
    pub fn melody_activity(self) -> f32 {
        match self {
            Style::Ambient => 0.6,
            Style::Chiptune => 0.72,
            Style::Pulse => 0.8,
            Style::Ballad => 0.9,
            _ => 1.0,
        }
    }
}

/// What Auto reads: energy (edges, colourfulness, contrast), 0..1.
pub fn energy(f: &Features) -> f32 {
    0.5 * (f.edge_density / 0.12).clamp(0.0, 1.0)
        + 0.25 * (f.chroma.mean / 0.12).clamp(0.0, 1.0)
        + 0.25 * (f.lightness.std / 0.25).clamp(0.0, 1.0)
}

/// The style a picture asks for.
///
/// - Calm pictures (little energy), and dim ones with little more, are Ambient.
/// - Patterns are Pulse, or Chiptune where colourful and light: a picture that repeats from left
///   to right (tiles, stripes), or one busy with small shapes all over (a lattice, a wall of cups,
///   a field of plants: many edges, spread evenly along it).
/// - Flat bright colour (few tones, strong colour, a light mood: illustrations, pixel art) is
///   Chiptune.
/// - Darker, cooler pictures with some energy are Lo-fi; lively, light ones Pop; the rest Ballad.
pub fn auto(f: &Features, repetition: f32) -> Style {
    // What the picture shows, seen surely, decides first (see `content::Scene`).
    if let Some((scene, _)) = f.cues.scene {
        return by_scene(scene, f);
    }
    let e = energy(f);
    let valence = super::mood(f);
    let colourful_and_light = f.chroma.mean > 0.08 && valence > 0.0;
    // (Bright: strongly coloured, or light and cheerful; a soft illustration is not.)
    let flat_colour = f.chroma.mean >= 0.09
        && f.entropy <= 0.65
        && (f.chroma.mean >= 0.13 || valence >= 0.5)
        && e < 0.55;
    if e < 0.3 || (e < 0.4 && valence < -0.4) {
        Style::Ambient
    } else if (repetition >= 0.8 && e >= 0.5) || busy_all_over(f) {
        if colourful_and_light {
            Style::Chiptune
        } else {
            Style::Pulse
        }
    } else if flat_colour {
        Style::Chiptune
    } else if valence < -0.15 {
        Style::LoFi
    } else if e >= 0.55 {
        Style::Pop
    } else {
        Style::Ballad
    }
}

/// The style a scene asks for: a portrait sings (Ballad: broken chords under the melody, a
/// singing bass), a crowd fills out (Pop), animals play (Chiptune's quick arpeggios), traffic
/// drives (Pulse), boats sway (Ballad's broken chords in a barcarolle's lilt: `seen::swing`), a
/// table is the cafe (Lo-fi). A dark portrait or crowd
/// keeps the darker texture (Lo-fi), as the picture's colours would choose.
fn by_scene(scene: crate::content::Scene, f: &Features) -> Style {
    use crate::content::Scene;
    let dark = super::mood(f) < -0.3;
    match scene {
        Scene::Portrait | Scene::Crowd if dark => Style::LoFi,
        Scene::Portrait => Style::Ballad,
        Scene::Crowd => Style::Pop,
        Scene::Animals => Style::Chiptune,
        Scene::Traffic => Style::Pulse,
        Scene::Boats => Style::Ballad,
        Scene::Table => Style::LoFi,
    }
}

/// Many small edges, evenly along the picture (their energy varies little from column to
/// column): texture that reads as a regular pattern even where no period shows.
pub fn busy_all_over(f: &Features) -> bool {
    let n = f.columns.len().max(1) as f32;
    let mean = f.columns.iter().map(|c| c.energy).sum::<f32>() / n;
    let var = f
        .columns
        .iter()
        .map(|c| (c.energy - mean) * (c.energy - mean))
        .sum::<f32>()
        / n;
    f.edge_density >= 0.12 && var.sqrt() <= 0.35 * mean
}
