//! The editor (layer 6): drop a picture, watch it play, shape it. egui through nice-plug-egui;
//! file drops arrive through our patched egui-baseview (vendor/egui-baseview) as egui's
//! hovered/dropped files. The editor never waits for the background work: pictures load on a
//! thread of their own ([`loader`]), the playhead comes from atomics the audio thread writes.

mod app;
pub mod browser;
mod controls;
mod drag_out;
mod filmstrip;
mod gl_driver;
mod piano_roll;
mod presets;
mod status;
mod theme;
mod tooltips;
mod window;

use std::sync::Arc;

use crate::plugin::loader::Loader;
use crate::plugin::params::PixelodyParams;
use crate::plugin::playhead::Playhead;
pub use window::{EditorSize, PixelodyEditor, SavedSize, DEFAULT_SIZE, MIN_SIZE};

/// What the editor shares with the plugin.
#[derive(Clone)]
pub struct Link {
    pub params: Arc<PixelodyParams>,
    pub playhead: Arc<Playhead>,
    pub loader: Arc<Loader>,
}
