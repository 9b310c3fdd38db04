//! Bounded decoding: file bytes -> a small OKLab working copy.
//! Refuses oversized pictures from the header, before any pixel memory is allocated.

use std::fmt;
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use super::oklab::srgb8_to_linear_table;
use super::Picture;

/// Longest side of the working copy. Analysis never needs more detail than this.
pub const MAX_SIDE: usize = 128;
/// Largest picture we agree to decode, in pixels (about 100 megapixels).
const MAX_PIXELS: u64 = 100_000_000;
/// Largest side we agree to decode.
const MAX_DIMENSION: u32 = 30_000;
/// Upper bound on what a decoder may allocate at once.
const MAX_ALLOC_BYTES: u64 = 1 << 30;

/// Why a picture could not be used, worded for a musician. `file` names the input when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureError {
    pub file: Option<String>,
    pub message: String,
}

impl PictureError {
    fn new(message: impl Into<String>) -> Self {
        PictureError {
            file: None,
            message: message.into(),
        }
    }

    /// Attaches the file name the musician gave us.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for PictureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PictureError {}

const READABLE: &str = "PNG, JPEG, GIF, WebP, BMP or TIFF";

fn describe(format: Option<image::ImageFormat>, err: ImageError) -> PictureError {
    let kind = format
        .map(|f| format!("{f:?}").to_uppercase())
        .unwrap_or_else(|| String::from("picture"));
    match err {
        ImageError::Limits(_) => PictureError::new(format!(
            "the {kind} is too large to load safely (limit {MAX_DIMENSION} pixels a side, \
             {} megapixels)",
            MAX_PIXELS / 1_000_000
        )),
        ImageError::Unsupported(e) => PictureError::new(format!(
            "this {kind} uses a feature Pixelody cannot read ({e})"
        )),
        ImageError::IoError(_) | ImageError::Decoding(_) | ImageError::Parameter(_) => {
            PictureError::new(format!("the {kind} data is damaged or incomplete ({err})"))
        }
        other => PictureError::new(format!("the {kind} could not be read ({other})")),
    }
}

/// Decodes `bytes` (any of the formats in [`READABLE`]) into the working copy: EXIF orientation
/// applied, alpha composited over black (transparent areas are silent), averaged in linear light
/// over whole source pixels down to at most [`MAX_SIDE`] on the long side, then converted to OKLab.
/// Animated formats contribute their first frame.
pub fn decode(bytes: &[u8]) -> Result<Picture, PictureError> {
    if bytes.is_empty() {
        return Err(PictureError::new("the file is empty"));
    }
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| PictureError::new(format!("the file could not be read ({e})")))
    };
    let probe = reader()?;
    let Some(format) = probe.format() else {
        return Err(PictureError::new(format!(
            "this is not a picture Pixelody can read (it reads {READABLE})"
        )));
    };
    let (w, h) = probe
        .into_dimensions()
        .map_err(|e| describe(Some(format), e))?;
    if w == 0 || h == 0 {
        return Err(PictureError::new("the picture has no pixels"));
    }
    if w > MAX_DIMENSION || h > MAX_DIMENSION || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PictureError::new(format!(
            "the picture is {w} x {h} pixels, too large to load safely (limit {MAX_DIMENSION} \
             pixels a side, {} megapixels)",
            MAX_PIXELS / 1_000_000
        )));
    }

    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| describe(Some(format), e))?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| describe(Some(format), e))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(downscale(&img))
}

/// Area-averaging downscale in linear light. Every source pixel contributes to exactly one cell,
/// so thin lines and small bright spots survive (point sampling would drop them).
fn downscale(img: &DynamicImage) -> Picture {
    let rgba = img.to_rgba8();
    let (sw, sh) = (rgba.width() as usize, rgba.height() as usize);
    let scale = (sw.max(sh) as f64 / MAX_SIDE as f64).max(1.0);
    let w = ((sw as f64 / scale).round() as usize).clamp(1, MAX_SIDE);
    let h = ((sh as f64 / scale).round() as usize).clamp(1, MAX_SIDE);
    let lut = srgb8_to_linear_table();
    let mut acc = vec![[0.0f64; 4]; w * h];
    for (y, row) in rgba.rows().enumerate() {
        let cy = y * h / sh;
        for (x, p) in row.enumerate() {
            let cx = x * w / sw;
            let alpha = f64::from(p[3]) / 255.0;
            let cell = &mut acc[cy * w + cx];
            cell[0] += f64::from(lut[p[0] as usize]) * alpha;
            cell[1] += f64::from(lut[p[1] as usize]) * alpha;
            cell[2] += f64::from(lut[p[2] as usize]) * alpha;
            cell[3] += 1.0;
        }
    }
    // The working copy is kept as 8-bit sRGB (it is what a project stores), and analysis reads
    // the OKLab values of exactly those bytes, so a reloaded picture recomposes identically.
    let rgb = acc
        .iter()
        .map(|c| {
            let n = c[3].max(1.0);
            [c[0] / n, c[1] / n, c[2] / n].map(|v| linear_to_srgb8(v as f32))
        })
        .collect();
    Picture::from_rgb(w, h, rgb, sw as u32, sh as u32)
}

fn linear_to_srgb8(v: f32) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let s = if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, RgbImage, RgbaImage};

    fn png(img: &RgbImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn working_copy_is_small_and_keeps_aspect() {
        let img = RgbImage::from_fn(400, 100, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        let p = decode(&png(&img)).unwrap();
        assert_eq!((p.width, p.height), (128, 32));
        assert_eq!((p.source_width, p.source_height), (400, 100));
    }

    #[test]
    fn thin_bright_line_survives_area_averaging() {
        let mut img = RgbImage::new(512, 512);
        for y in 0..512 {
            img.put_pixel(257, y, image::Rgb([255, 255, 255]));
        }
        let p = decode(&png(&img)).unwrap();
        let lit = (0..p.width).filter(|&x| p.at(x, 10).l > 0.2).count();
        assert_eq!(lit, 1, "the line lands in exactly one column");
    }

    #[test]
    fn transparent_pixels_count_as_black() {
        let img = RgbaImage::from_pixel(8, 8, image::Rgba([255, 255, 255, 0]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        let p = decode(&out.into_inner()).unwrap();
        assert!(p.pixels.iter().all(|c| c.l < 1e-3));
    }

    #[test]
    fn bad_inputs_get_clear_messages() {
        assert_eq!(decode(&[]).unwrap_err().message, "the file is empty");
        let text = decode(b"hello, this is a text file").unwrap_err();
        assert!(text.message.contains("not a picture"), "{text}");
        let full = png(&RgbImage::new(64, 64));
        let cut = decode(&full[..full.len() / 2]).unwrap_err();
        assert!(cut.message.contains("damaged or incomplete"), "{cut}");
    }

    #[test]
    fn header_bomb_is_refused_before_decoding() {
        // A BMP header claiming 50000 x 50000 pixels (7.5 GB of RGB) with no pixel data behind it.
        let mut bmp = vec![0u8; 54];
        bmp[0..2].copy_from_slice(b"BM");
        bmp[10..14].copy_from_slice(&54u32.to_le_bytes());
        bmp[14..18].copy_from_slice(&40u32.to_le_bytes());
        bmp[18..22].copy_from_slice(&50_000i32.to_le_bytes());
        bmp[22..26].copy_from_slice(&50_000i32.to_le_bytes());
        bmp[26..28].copy_from_slice(&1u16.to_le_bytes());
        bmp[28..30].copy_from_slice(&24u16.to_le_bytes());
        let err = decode(&bmp).unwrap_err();
        assert!(err.message.contains("too large"), "{err}");
    }
}
