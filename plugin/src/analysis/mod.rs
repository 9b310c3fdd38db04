//! Picture analysis: file bytes -> a small perceptual working copy -> features.
//! Pure functions, run on a background or main thread, never on the audio thread.

mod decode;
pub mod features;
mod oklab;

pub use decode::{decode, PictureError, MAX_SIDE};
pub use features::{analyse, Column, Features, Region, Stats, Swatch};
pub use oklab::{srgb_to_oklab, Lab};

/// The downscaled working copy that analysis reads: OKLab pixels, row-major, top row first.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<Lab>,
    /// Size of the source picture before downscaling.
    pub source_width: u32,
    pub source_height: u32,
}

impl Picture {
    pub fn at(&self, x: usize, y: usize) -> Lab {
        self.pixels[y * self.width + x]
    }
}
