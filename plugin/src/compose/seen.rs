//! What the picture shows, as the arrangement hears it (`content::Cues`, Content on Auto): soft
//! hints, each weighted by how sure the models are, on top of what colour, light and edges ask
//! for. Nothing seen surely, nothing changes. (The style a scene chooses is `style::auto`'s; a
//! face's expression moves the mood in `mood`.)
//!
//! - A portrait puts the melody forward: it sings louder over a lighter, softer accompaniment
//!   (up to a third fewer accompaniment notes, a quarter softer; the tune a tenth louder).
//! - A crowd fills the texture: up to 0.3 more density for the accompaniment, and a busier tune.
//! - Boats sway: the off-beat eighths lilt in a triplet feel (a barcarolle's long-short, 12/8
//!   inside the host's 4/4) when the musician leaves Swing to the style.
//! - A surprised face widens the tune's leaps (`melody::motif`) and lets it span its octave.
//! - Animals play: the tune's notes are short (staccato, as strings play pizzicato for a
//!   cartoon's animals), on top of the quick arpeggios of the Chiptune they choose.

use crate::content::{Cues, Scene};
use crate::score::{Note, Part};

/// How surely the picture is `scene`: its confidence, 0 when it is another scene or none.
fn weight(cues: &Cues, scene: Scene) -> f32 {
    match cues.scene {
        Some((s, sure)) if s == scene => sure.clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// The accompaniment's density for the musician's `density`: a crowd fills it, a portrait
/// thins it.
pub(super) fn texture_density(cues: &Cues, density: f32) -> f32 {
    let crowd = weight(cues, Scene::Crowd);
    let portrait = weight(cues, Scene::Portrait);
    ((density + 0.3 * crowd) * (1.0 - 0.3 * portrait)).clamp(0.0, 1.0)
}

/// The melody's activity (`arrange`'s, 0.05..1): a crowd's tune is busier.
pub(super) fn activity(cues: &Cues, activity: f32) -> f32 {
    (activity * (1.0 + 0.2 * weight(cues, Scene::Crowd))).clamp(0.05, 1.0)
}

/// A portrait's balance: the melody louder, the chords and drums softer (the bass, the
/// melody's partner in the outer voices, stays).
pub(super) fn balance(notes: &mut [Note], cues: &Cues) {
    let portrait = weight(cues, Scene::Portrait);
    if portrait == 0.0 {
        return;
    }
    for n in notes {
        n.velocity = match n.part {
            Part::Melody => (n.velocity + 0.1 * portrait).min(1.0),
            Part::Harmony | Part::Drums => n.velocity * (1.0 - 0.25 * portrait),
            Part::Bass => n.velocity,
        };
    }
}

/// The swing a Swing left to the style plays (`style_swing`, `feel::off_beat`'s amount): boats
/// lilt at least in a triplet feel.
pub(super) fn swing(cues: &Cues, style_swing: f32) -> f32 {
    if weight(cues, Scene::Boats) > 0.0 {
        style_swing.max(2.0 / 3.0)
    } else {
        style_swing
    }
}

/// How much of its span a melody note sounds: 92%, down to about half for animals (staccato).
pub(super) fn articulation(cues: &Cues) -> f64 {
    0.92 - 0.4 * f64::from(weight(cues, Scene::Animals))
}

/// Whether the tune may leap wider than a third in its motifs and span its octave (a surprised
/// face, surely seen).
pub(super) fn surprised(cues: &Cues) -> bool {
    cues.surprise >= 0.5
}
