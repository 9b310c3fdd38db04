//! Picture analysis: file bytes -> a small perceptual working copy -> features.
//! Pure functions, run on a background or main thread, never on the audio thread.

mod decode;
mod downscale;
pub mod features;
mod frames;
mod jpeg_eighth;
mod oklab;

pub use decode::{
    decode, decode_viewed, read, read_for, Decoded, PictureError, MAX_SIDE, READABLE,
};
pub use downscale::downscale;
pub use features::{analyse, Column, Features, Region, Stats, Swatch};
pub use frames::{decode_frames, decode_frames_with, evenly_spaced, Frames, MAX_FRAMES_READ};
pub use oklab::{linear_to_oklab, srgb_to_oklab, Lab};

/// The downscaled working copy that analysis reads: row-major, top row first, as the 8-bit sRGB
/// that a project stores and the OKLab values analysis works in.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<[u8; 3]>,
    pub pixels: Vec<Lab>,
    /// Size of the source picture before downscaling.
    pub source_width: u32,
    pub source_height: u32,
    /// What the picture shows (faces, things), seen on the decoded picture before downscaling;
    /// empty for a painted picture or where nothing was looked for.
    pub content: crate::content::Content,
}

impl Picture {
    /// Builds a working copy from 8-bit sRGB pixels (`width * height` of them).
    pub fn from_rgb(
        width: usize,
        height: usize,
        rgb: Vec<[u8; 3]>,
        source_width: u32,
        source_height: u32,
    ) -> Picture {
        let pixels = rgb.iter().map(|&p| oklab::srgb8_to_oklab(p)).collect();
        Picture {
            width,
            height,
            rgb,
            pixels,
            source_width,
            source_height,
            content: Default::default(),
        }
    }

    pub fn at(&self, x: usize, y: usize) -> Lab {
        self.pixels[y * self.width + x]
    }

    /// The part of the working copy from `x`, `y` (fractions of the width and height from the
    /// top-left) spanning `w` by `h` of them, at least one pixel each way and always inside.
    pub fn crop(&self, [x, y, w, h]: [f32; 4]) -> Picture {
        let span = |from: f32, len: f32, n: usize| {
            let a = ((from.clamp(0.0, 1.0) * n as f32).floor() as usize).min(n.saturating_sub(1));
            let b = (((from + len).clamp(0.0, 1.0) * n as f32).ceil() as usize).clamp(a + 1, n);
            (a, b)
        };
        let (x0, x1) = span(x, w, self.width);
        let (y0, y1) = span(y, h, self.height);
        let mut rgb = Vec::with_capacity((x1 - x0) * (y1 - y0));
        let mut pixels = Vec::with_capacity(rgb.capacity());
        for row in y0..y1 {
            rgb.extend_from_slice(&self.rgb[row * self.width + x0..row * self.width + x1]);
            pixels.extend_from_slice(&self.pixels[row * self.width + x0..row * self.width + x1]);
        }
        // What is seen inside the part (its middle in it) is what the part shows.
        let (fx0, fx1) = (x0 as f32 / self.width as f32, x1 as f32 / self.width as f32);
        let (fy0, fy1) = (
            y0 as f32 / self.height as f32,
            y1 as f32 / self.height as f32,
        );
        let content = crate::content::Content {
            seen: self
                .content
                .seen
                .iter()
                .filter(|s| {
                    let [l, t, r, b] = s.place;
                    let (cx, cy) = ((l + r) / 2.0, (t + b) / 2.0);
                    (fx0..fx1).contains(&cx) && (fy0..fy1).contains(&cy)
                })
                .copied()
                .collect(),
        };
        Picture {
            width: x1 - x0,
            height: y1 - y0,
            rgb,
            pixels,
            source_width: self.source_width,
            source_height: self.source_height,
            content,
        }
    }
}
