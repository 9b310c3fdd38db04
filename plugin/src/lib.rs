//! Pixelody: a picture becomes a score (notes in beats) that a synth plays in time with the host.
//!
//! Layers, each a folder, dependencies pointing down: `wavetable` (band-limited tables, built off
//! the audio thread) <- `score` (plain data) <- `analysis`
//! (picture -> features) <- `compose` (features -> score); `engine` (real-time playback) depends on
//! `score` only; `plugin` (nice-plug glue) knows them all; `editor` (egui) sits on top of the
//! glue. The command line (`cli/`, the `pixelody` binary) is a crate of its own on this library.

pub mod analysis;
pub mod compose;
pub mod editor;
pub mod engine;
pub mod export;
pub mod plugin;
pub mod score;
pub mod sections;
pub mod wavetable;

use analysis::PictureError;
use score::Score;

/// The whole off-audio-thread path: file bytes -> working copy -> features -> score.
/// `name` is how the musician knows the file; it is named in errors and in the score's source.
pub fn picture_to_score(
    bytes: &[u8],
    name: &str,
    settings: &compose::Settings,
) -> Result<Score, PictureError> {
    let picture = analysis::decode(bytes).map_err(|e| e.in_file(name))?;
    let source = compose::source_name(name, &picture);
    Ok(compose::compose(&picture, settings, source))
}

nice_plug::nice_export_clap!(plugin::Pixelody);
nice_plug::nice_export_vst3!(plugin::Pixelody);
