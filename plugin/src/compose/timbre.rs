//! The timbre a picture proposes, one value per timbre parameter:
//! - Brightness (sine to saw): jagged, busy, saturated pictures sound harsher; smooth, grey ones
//!   softer (jagged shapes match harsh timbres).
//! - Attack: many edges give plucks (2 ms), smooth pictures soft onsets (up to 80 ms).
//! - Release: darker pictures ring longer (up to 600 ms), light ones are crisper (80 ms).

use crate::analysis::Features;
use crate::score::Patch;

pub fn propose(f: &Features) -> Patch {
    let edges = (f.edge_density / 0.12).clamp(0.0, 1.0);
    let saturation = (f.chroma.mean / 0.15).clamp(0.0, 1.0);
    let light = f.lightness.mean.clamp(0.0, 1.0);
    Patch {
        brightness: (0.1 + 0.5 * edges + 0.3 * saturation).clamp(0.0, 1.0),
        attack_ms: 80.0 * (2.0f32 / 80.0).powf(edges),
        release_ms: 600.0 * (80.0f32 / 600.0).powf(light),
    }
}
