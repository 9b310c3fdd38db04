//! Pixelody: a picture becomes a score (notes in beats) that a synth plays in time with the host.
//!
//! Layers, each a folder, dependencies pointing down:
//! - `wavetable`: band-limited tables, built off the audio thread.
//! - `score`: plain data (notes, timbre, the picture's wave); knows only `wavetable`.
//! - `analysis`: picture bytes -> working copy -> features.
//! - `compose`: features -> score (melody, harmony, bass, drums, scan, spectral).
//! - `content`: what a picture shows (faces and their expression, COCO's objects), seen by
//!   small networks (run by `content::net`, our own engine) on the background thread.
//! - `engine`: real-time playback of a score; knows `score` only, never the framework.
//! - `pipeline`: the one path from files to a playable score (gather, compose, level the
//!   loudness by rendering through the engine); the plug-in's loader, the CLI and the benches
//!   start here.
//! - `midi_file`: a score as a standard MIDI file.
//! - `gallery`: generated pictures, each a named painter: the editor's examples, and the set the
//!   composer is measured on (whole only in tests and with the `gallery` feature).
//! - `plugin`: the nice-plug glue (parameters, the score hand-over, background tasks).
//! - `editor`: egui, on top of the glue.
//!
//! The command line (`cli/`, the `pixelody` binary) is a crate of its own on this library.
//! `docs/ARCHITECTURE.md` draws the threads and says where to change what.

pub mod analysis;
pub mod compose;
pub mod content;
pub mod editor;
pub mod engine;
pub mod gallery;
pub mod midi_file;
pub mod pipeline;
pub mod plugin;
pub mod score;
#[cfg(test)]
pub(crate) mod test_support;
pub mod wavetable;

nice_plug::nice_export_clap!(plugin::Pixelody);
nice_plug::nice_export_vst3!(plugin::Pixelody);
