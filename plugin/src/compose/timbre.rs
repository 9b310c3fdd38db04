//! The timbre a picture proposes, one value per timbre parameter (each a documented mapping):
//! - Brightness (sine to saw): jagged, busy, saturated pictures sound harsher; smooth, grey ones
//!   softer (jagged shapes match harsh timbres).
//! - Attack: many edges give plucks (2 ms), smooth pictures soft onsets (up to 80 ms).
//! - Decay: smooth pictures let notes bloom longer (up to 800 ms), busy ones snap (120 ms).
//! - Sustain and Release: darker pictures hold lower and ring longer (up to 600 ms release).
//! - Cutoff: lighter pictures are brighter in sound too (600 Hz for black to 12 kHz for white).
//! - Resonance: saturated colour rings (up to 60%).
//! - Filter Envelope: edges make the filter snap open (0.5 to 3 octaves).
//! - Noise: fine texture (high lightness entropy with many edges) becomes breath (up to 25%).
//! - Width: a palette of distant colours spreads wide, a monochrome one stays narrow.
//! - Detune: texture (entropy) thickens the sound (up to 18 cents of unison).
//! - Space: dark, smooth pictures and wide palettes get more reverb (4% to 40%) and a longer one,
//!   busy ones stay drier; darker pictures a darker tail; smooth, colourful ones a few delay
//!   repeats (up to 30%).
//! - A sound per part: the melody a little brighter, pluckier the busier the picture, playing more
//!   of the picture's own wave the more textured it is; the chords darker and softer, swelling
//!   in smooth pictures, their wave more the picture's the more colourful it is; the bass low and
//!   round, a little of the picture's wave where it has edges.
//! - Drums: lighter pictures tune the kit up (up to 4 semitones, darker ones down), smooth ones
//!   let it ring longer, busy ones shorten it.

use crate::analysis::Features;
use crate::score::{PartSound, Patch};

pub fn propose(f: &Features) -> Patch {
    let edges = (f.edge_density / 0.12).clamp(0.0, 1.0);
    let saturation = (f.chroma.mean / 0.15).clamp(0.0, 1.0);
    let light = f.lightness.mean.clamp(0.0, 1.0);
    let texture = f.entropy.clamp(0.0, 1.0);
    // Palette spread: chroma-weighted distance of the swatches from the picture's mean colour.
    let (ma, mb) = f.palette.iter().fold((0.0, 0.0), |(a, b), s| {
        (a + s.colour.a * s.weight, b + s.colour.b * s.weight)
    });
    let spread = f
        .palette
        .iter()
        .map(|s| s.weight * ((s.colour.a - ma).powi(2) + (s.colour.b - mb).powi(2)).sqrt())
        .sum::<f32>();
    Patch {
        brightness: (0.1 + 0.5 * edges + 0.3 * saturation).clamp(0.0, 1.0),
        attack_ms: 80.0 * (2.0f32 / 80.0).powf(edges),
        release_ms: 600.0 * (80.0f32 / 600.0).powf(light),
        decay_ms: 800.0 * (120.0f32 / 800.0).powf(edges),
        sustain: 0.4 + 0.4 * light,
        cutoff_hz: 600.0 * 20.0f32.powf(light),
        resonance: 0.6 * saturation,
        filter_env_oct: 0.5 + 2.5 * edges,
        noise: 0.25 * texture * edges,
        width: (0.2 + spread / 0.1).clamp(0.2, 1.0),
        detune_cents: 18.0 * texture,
        // Space: dark, smooth, wide pictures more and longer reverb, busy ones drier; dark ones
        // a darker tail; smooth, colourful ones a few repeats.
        reverb_mix: (0.12 + 0.18 * (1.0 - light) + 0.1 * (spread / 0.1).min(1.0) - 0.15 * edges)
            .clamp(0.04, 0.4),
        reverb_size: (0.25 + 0.45 * (1.0 - edges) + 0.2 * (1.0 - light)).clamp(0.0, 1.0),
        reverb_damping: (0.3 + 0.5 * (1.0 - light)).clamp(0.0, 1.0),
        delay_mix: (0.15 * (1.0 - edges) * saturation).clamp(0.0, 0.3),
        delay_feedback: 0.3,
        // Set from the picture's rows by `compose::proposed_patch`.
        wave_position: 0.0,
        wave_scan: 0.0,
        melody: PartSound {
            tone_oct: 0.5,
            envelope: (0.3 - 0.8 * edges).clamp(-1.0, 1.0),
            picture: (0.25 + 0.5 * texture).clamp(0.0, 1.0),
        },
        harmony: PartSound {
            tone_oct: -0.5,
            envelope: (0.1 + 0.5 * (1.0 - edges)).clamp(-1.0, 1.0),
            picture: (0.3 + 0.4 * saturation + 0.2 * texture).clamp(0.0, 1.0),
        },
        bass: PartSound {
            tone_oct: -1.0 + 0.5 * edges,
            envelope: -0.3 * edges,
            picture: 0.15 + 0.25 * edges,
        },
        kit_tune: ((light - 0.5) * 80.0).round() / 10.0,
        kit_decay: (0.5 * (1.0 - edges) - 0.3 * edges).clamp(-1.0, 1.0),
    }
}
