//! Bounded decoding: file bytes -> decoded pixels (then `downscale` makes the working copy).
//! Refuses oversized pictures from the header, before any pixel memory is allocated.

use std::fmt;
use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::downscale::{downscale, downscale_rows};
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
    pub(super) fn new(message: impl Into<String>) -> Self {
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

/// The formats Pixelody reads, as a musician is told them.
pub const READABLE: &str = "PNG, JPEG, GIF, WebP, BMP or TIFF";

pub(super) fn describe(format: Option<image::ImageFormat>, err: ImageError) -> PictureError {
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
/// over whole source pixels down to at most [`MAX_SIDE`] on the long side, kept as 8-bit sRGB and
/// read as OKLab. Animated formats contribute their first frame.
pub fn decode(bytes: &[u8]) -> Result<Picture, PictureError> {
    let (format, w, h) = probe(bytes)?;
    if format == ImageFormat::Png {
        if let Some(picture) = decode_png_by_rows(bytes, w, h) {
            return Ok(picture);
        }
    }
    Ok(downscale(&read(bytes)?))
}

/// The working copy of the common PNG (8-bit RGB or RGBA, not interlaced, no transparent colour,
/// no EXIF orientation), summed on a second thread from each row as it is decoded: the same
/// working copy as decoding it whole and then downscaling, for the decode's time plus little
/// (`downscale_rows`). `None` for any other PNG, or when anything goes wrong: the general path
/// then reads it (and says what is wrong).
fn decode_png_by_rows(bytes: &[u8], w: u32, h: u32) -> Option<Picture> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_limits(png::Limits {
        bytes: MAX_ALLOC_BYTES as usize,
    });
    let mut reader = decoder.read_info().ok()?;
    let info = reader.info();
    let channels = match info.color_type {
        png::ColorType::Rgb if info.trns.is_none() => 3,
        png::ColorType::Rgba => 4,
        _ => return None,
    };
    if info.interlaced
        || info.bit_depth != png::BitDepth::Eight
        || info.exif_metadata.is_some()
        || (info.width, info.height) != (w, h)
    {
        return None;
    }
    let mut rows = 0u32;
    downscale_rows((w as usize, h as usize), channels, |push| {
        while let Some(row) = reader.next_row()? {
            push(row.data());
            rows += 1;
        }
        Ok::<(), png::DecodingError>(())
    })
    .ok()
    .filter(|_| rows == h)
}

/// A decoded picture before downscaling. JPEGs may already be reduced (see [`read`]).
pub struct Decoded {
    pub image: DynamicImage,
    pub source_width: u32,
    pub source_height: u32,
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, PictureError> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::new(format!("the file could not be read ({e})")))
}

/// The file's format and size from its header, refusing what is not a picture we read, has no
/// pixels or is too large, before any pixel memory is allocated.
pub(super) fn probe(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), PictureError> {
    if bytes.is_empty() {
        return Err(PictureError::new("the file is empty"));
    }
    let probe = reader(bytes)?;
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
    Ok((format, w, h))
}

/// Decodes `bytes`, refusing oversized pictures from their header before allocating pixels.
/// JPEGs are decoded at a reduced scale (the DCT's 1/2, 1/4 or 1/8) where the working copy still
/// gets at least one decoded pixel per cell: most of the cost of a large photo is never paid.
pub fn read(bytes: &[u8]) -> Result<Decoded, PictureError> {
    read_for(bytes, MAX_SIDE)
}

/// [`read`], keeping at least `long_side` decoded pixels on the long side where the picture has
/// them (the picture-content models look at more than the working copy's 128).
pub fn read_for(bytes: &[u8], long_side: usize) -> Result<Decoded, PictureError> {
    let (format, w, h) = probe(bytes)?;
    // Report the size as the musician sees the picture: upright.
    let decoded = |image: DynamicImage| {
        let turned = (image.width() > image.height()) != (w > h);
        Decoded {
            image,
            source_width: if turned { h } else { w },
            source_height: if turned { w } else { h },
        }
    };
    if format == ImageFormat::Jpeg {
        if !jpeg_is_complete(bytes) {
            return Err(PictureError::new(
                "the JPEG data is damaged or incomplete (the file ends before the picture does)",
            ));
        }
        if let Some(image) = read_jpeg_scaled(bytes, w, h, long_side) {
            return Ok(decoded(image));
        }
    }

    let mut reader = reader(bytes)?;
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
    Ok(decoded(img))
}

/// The DCT scale (in eighths) a `w` x `h` JPEG is decoded at to keep `long_side` pixels.
fn jpeg_eighths(w: u32, h: u32, long_side: usize) -> u8 {
    let long = w.max(h) as usize;
    [1u8, 2, 4, 8]
        .into_iter()
        .find(|&n| long * usize::from(n) / 8 >= long_side)
        .unwrap_or(8)
}

/// [`decode`], and the picture as [`read_for`] reads it for `view_side` (the content models'
/// size): decoded once where one decode serves both, which is every picture but a JPEG whose
/// reduced scales for the two differ (the working copy is then exactly [`decode`]'s either way).
pub fn decode_viewed(bytes: &[u8], view_side: usize) -> Result<(Picture, Decoded), PictureError> {
    let (format, w, h) = probe(bytes)?;
    let view = read_for(bytes, view_side)?;
    let one = format != ImageFormat::Jpeg
        || jpeg_eighths(w, h, MAX_SIDE) == jpeg_eighths(w, h, view_side);
    let picture = if one {
        downscale(&view)
    } else {
        decode(bytes)?
    };
    Ok((picture, view))
}

/// Whether a JPEG's last scan is followed by its end marker. JPEG decoders fill a cut-off picture
/// with grey; we would rather say the file is incomplete. Inside entropy-coded data a 0xFF byte is
/// always followed by 0x00 or a restart marker, so an 0xFF 0xD9 after the last scan header (0xFF
/// 0xDA) can only be the end marker.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    // Searched from the end: the end marker is normally in the last bytes, so a large photo is
    // not read twice just to find it.
    let is = |m: [u8; 2]| move |w: &[u8]| w == m;
    let Some(end) = bytes.windows(2).rposition(is([0xFF, 0xD9])) else {
        return false;
    };
    let scan_before = bytes[..end].windows(2).any(is([0xFF, 0xDA]));
    let scan_after = bytes[end..].windows(2).any(is([0xFF, 0xDA]));
    scan_before && !scan_after
}

/// The reduced-scale JPEG path: the smallest DCT scale (1/8, 1/4, 1/2 or 1) that still leaves
/// at least one decoded pixel per working-copy cell. At 1/8 only each 8x8 block's average (its DC
/// coefficient) is reconstructed: the block's area average, which is what the downscale wants
/// anyway; the common baseline JPEG is then read by our own decoder (`jpeg_eighth`: the same
/// pixels as libjpeg-turbo's in about three quarters of the time), any other by libjpeg-turbo
/// (through `mozjpeg`). `None` when neither can handle the file; the general decoder then tries,
/// and reports any error.
fn read_jpeg_scaled(bytes: &[u8], w: u32, h: u32, long_side: usize) -> Option<DynamicImage> {
    let eighths = jpeg_eighths(w, h, long_side);
    if let Some(e) = (eighths == 1)
        .then(|| super::jpeg_eighth::decode(bytes))
        .flatten()
    {
        return picture_of(e.width, e.height, false, e.rgb, e.orientation);
    }
    let (sw, sh, cmyk, pixels, orientation) = libjpeg_scaled(bytes, eighths)?;
    picture_of(sw, sh, cmyk, pixels, orientation)
}

/// A JPEG decoded by libjpeg-turbo at `eighths` / 8 of its size: its width, height, whether its
/// pixels are CMYK (else RGB), the pixels, and its EXIF orientation.
pub(super) type Scaled = (usize, usize, bool, Vec<u8>, Option<Orientation>);

/// The JPEG in `bytes` decoded by libjpeg-turbo at `eighths` / 8; `None` when it cannot.
pub(super) fn libjpeg_scaled(bytes: &[u8], eighths: u8) -> Option<Scaled> {
    // libjpeg reports fatal errors by unwinding (without the panic hook); warnings are silenced.
    let decoded = std::panic::catch_unwind(|| -> std::io::Result<_> {
        let mut d =
            mozjpeg::Decompress::with_markers(&[mozjpeg::Marker::APP(1)]).from_mem(bytes)?;
        let orientation = d
            .markers()
            .filter_map(|m| m.data.strip_prefix(b"Exif\0\0"))
            .find_map(Orientation::from_exif_chunk);
        d.scale(eighths);
        let cmyk = matches!(
            d.color_space(),
            mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK
        );
        let mut started = if cmyk {
            d.to_colorspace(mozjpeg::ColorSpace::JCS_CMYK)?
        } else {
            d.rgb()?
        };
        let (sw, sh) = (started.width(), started.height());
        let pixels = started.read_scanlines::<u8>()?;
        started.finish()?;
        Ok((sw, sh, cmyk, pixels, orientation))
    });
    decoded.ok()?.ok()
}

/// A decoded JPEG's pixels (RGB, or CMYK as Adobe stores it) as a picture, turned upright.
fn picture_of(
    sw: usize,
    sh: usize,
    cmyk: bool,
    pixels: Vec<u8>,
    orientation: Option<Orientation>,
) -> Option<DynamicImage> {
    let rgb = if cmyk {
        // Adobe's CMYK JPEGs (nearly all of them) store the inks inverted; converted without a
        // colour profile: enough to hear the colours.
        pixels
            .chunks_exact(4)
            .flat_map(|c| {
                let k = u16::from(c[3]);
                [0, 1, 2].map(|i| ((u16::from(c[i]) * k) / 255) as u8)
            })
            .collect()
    } else {
        pixels
    };
    if rgb.len() != sw * sh * 3 {
        return None;
    }
    let mut img = DynamicImage::ImageRgb8(image::RgbImage::from_raw(
        u32::try_from(sw).ok()?,
        u32::try_from(sh).ok()?,
        rgb,
    )?);
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Some(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::downscale::downscale;
    use crate::analysis::Lab;
    use image::{RgbImage, RgbaImage};

    fn png(img: &RgbImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_summed_row_by_row_is_the_working_copy_of_its_whole_decode() {
        let mut noise = crate::test_support::Noise::new(11);
        let mut byte = || (noise.next_u64() >> 24) as u8;
        for (w, h) in [
            (640, 480),
            (641, 479),
            (129, 2000),
            (100, 50),
            (1, 1),
            (3000, 7),
        ] {
            let rgb = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 7 + y) as u8, byte(), (y * 3) as u8])
            });
            let rgba = RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([(x + y * 5) as u8, byte(), byte(), byte()])
            });
            let mut rgba_png = Cursor::new(Vec::new());
            rgba.write_to(&mut rgba_png, ImageFormat::Png).unwrap();
            for bytes in [png(&rgb), rgba_png.into_inner()] {
                let by_rows = decode_png_by_rows(&bytes, w, h).expect("read by rows");
                let whole = downscale(&read(&bytes).unwrap());
                assert_eq!(by_rows, whole, "{w} x {h}");
                assert_eq!(decode(&bytes).unwrap(), whole, "{w} x {h}");
                // Its OKLab values are those of its 8-bit bytes, as a reloaded picture's are.
                let (cw, ch, sw, sh) = (whole.width, whole.height, w, h);
                let reloaded = Picture::from_rgb(cw, ch, whole.rgb.clone(), sw, sh);
                assert_eq!(reloaded, whole, "{w} x {h}");
            }
        }
    }

    #[test]
    fn pngs_the_row_path_does_not_take_read_as_before() {
        // Grey, or an RGB with a transparent colour (image makes it RGBA): the general path.
        let grey = image::GrayImage::from_fn(40, 30, |x, _| image::Luma([x as u8 * 6]));
        let mut out = Cursor::new(Vec::new());
        grey.write_to(&mut out, ImageFormat::Png).unwrap();
        let grey = out.into_inner();
        assert!(decode_png_by_rows(&grey, 40, 30).is_none());
        assert_eq!(decode(&grey).unwrap(), downscale(&read(&grey).unwrap()));
        let mut keyed = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut keyed, 9, 9);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_trns(vec![0, 0, 0, 0, 0, 0]);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&[200u8; 9 * 9 * 3]).unwrap();
        }
        assert!(decode_png_by_rows(&keyed, 9, 9).is_none());
        assert_eq!(decode(&keyed).unwrap(), downscale(&read(&keyed).unwrap()));
        // Cut short: the general path's message, as before.
        let whole = png(&RgbImage::from_pixel(64, 64, image::Rgb([9, 99, 199])));
        let cut = &whole[..whole.len() * 2 / 3];
        assert!(decode_png_by_rows(cut, 64, 64).is_none());
        let err = decode(cut).unwrap_err();
        assert!(err.message.contains("damaged or incomplete"), "{err}");
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

    fn fixture(name: &str) -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pictures/");
        std::fs::read(format!("{path}{name}")).unwrap()
    }

    fn is_red(c: Lab) -> bool {
        c.a > 0.12 && c.b > 0.05
    }

    fn is_blue(c: Lab) -> bool {
        c.b < -0.15
    }

    /// Red left half, blue right half: how the fixture pictures were drawn.
    fn assert_red_blue(name: &str) {
        let p = decode(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((p.width, p.height), (48, 32), "{name}");
        assert!(is_red(p.at(5, 16)), "{name}: left is {:?}", p.at(5, 16));
        assert!(is_blue(p.at(42, 16)), "{name}: right is {:?}", p.at(42, 16));
    }

    #[test]
    fn reads_every_supported_format_and_colour_type() {
        for name in [
            "progressive.jpg",
            "cmyk.jpg",
            "palette.png",
            "lzw.tif",
            "lossy.webp",
        ] {
            assert_red_blue(name);
        }
        let mut rgb = RgbImage::new(48, 32);
        for (x, _, px) in rgb.enumerate_pixels_mut() {
            *px = if x < 24 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            };
        }
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Bmp,
            ImageFormat::Tiff,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let mut out = Cursor::new(Vec::new());
            rgb.write_to(&mut out, format).unwrap();
            let p = decode(&out.into_inner()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert!(is_red(p.at(5, 16)) && is_blue(p.at(42, 16)), "{format:?}");
        }
    }

    #[test]
    fn the_reduced_scale_jpeg_path_reads_every_jpeg_fixture() {
        // The general decoder would hide a failure of the fast path: ask the fast path itself.
        for (name, w, h) in [
            ("progressive.jpg", 48, 32),
            ("cmyk.jpg", 48, 32),
            ("oriented.jpg", 48, 32),
        ] {
            let img = read_jpeg_scaled(&fixture(name), w, h, MAX_SIDE)
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(img.width() * img.height(), 48 * 32, "{name}");
        }
    }

    #[test]
    fn a_large_jpeg_read_at_reduced_scale_matches_its_full_decode() {
        // 1920 x 1080 is read at 1/8 (240 x 135); the working copy must look like the one made
        // from every pixel.
        let img = RgbImage::from_fn(1920, 1080, |x, y| {
            let (fx, fy) = (x as f32 / 1920.0, y as f32 / 1080.0);
            let stripe = if (x / 97) % 2 == 0 { 60.0 } else { 0.0 };
            image::Rgb([
                (40.0 + 200.0 * fx) as u8,
                (30.0 + stripe + 150.0 * fy) as u8,
                (220.0 - 180.0 * fx * fy) as u8,
            ])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        let bytes = out.into_inner();
        let decoded = read(&bytes).unwrap();
        assert_eq!((decoded.image.width(), decoded.image.height()), (240, 135));
        let fast = downscale(&decoded);
        let full = downscale(&Decoded {
            image: image::load_from_memory(&bytes).unwrap(),
            source_width: 1920,
            source_height: 1080,
        });
        assert_eq!((fast.width, fast.height), (full.width, full.height));
        let n = fast.pixels.len() as f32;
        let mean_dl = fast
            .pixels
            .iter()
            .zip(&full.pixels)
            .map(|(a, b)| (a.l - b.l).abs() + (a.a - b.a).abs() + (a.b - b.b).abs())
            .sum::<f32>()
            / n;
        assert!(mean_dl < 0.01, "mean OKLab difference {mean_dl}");
    }

    #[test]
    fn sixteen_bit_grey_keeps_its_gradient() {
        let p = decode(&fixture("gray16.png")).unwrap();
        // ImageMagick's gradient runs from black at the top to white at the bottom.
        let column: Vec<f32> = (0..p.height).map(|y| p.at(10, y).l).collect();
        assert!(column.windows(2).all(|w| w[1] >= w[0]), "{column:?}");
        assert!(column[0] < 0.1 && column[p.height - 1] > 0.9);
        assert!(p.pixels.iter().all(|c| c.chroma() < 0.01));
    }

    #[test]
    fn jpeg_orientation_is_honoured() {
        // Stored as red | blue side by side with EXIF "rotate 90 CW": shown as red over blue.
        let p = decode(&fixture("oriented.jpg")).unwrap();
        assert_eq!((p.width, p.height), (32, 48));
        assert_eq!((p.source_width, p.source_height), (32, 48));
        assert!(is_red(p.at(16, 5)) && is_blue(p.at(16, 42)));
    }

    #[test]
    fn an_animation_contributes_its_first_frame() {
        let p = decode(&fixture("animated.gif")).unwrap();
        assert!(p.pixels.iter().all(|&c| is_red(c)));
    }

    #[test]
    fn a_tiff_with_jpeg_compression_reads() {
        // The tiff crate in use decodes JPEG-compressed TIFFs; if an upgrade dropped that, the
        // musician would get "this TIFF uses a feature ..." instead, and this test says so.
        let p = decode(&fixture("jpeg-in.tif")).expect("a JPEG-compressed TIFF reads");
        assert!(is_red(p.at(5, 16)) && is_blue(p.at(42, 16)));
    }

    #[test]
    fn a_cut_off_jpeg_is_called_incomplete() {
        for name in ["progressive.jpg", "cmyk.jpg", "oriented.jpg"] {
            let bytes = fixture(name);
            for tenth in 1..10 {
                let err = decode(&bytes[..bytes.len() * tenth / 10]).unwrap_err();
                assert!(
                    err.message.contains("damaged or incomplete"),
                    "{name} {tenth}/10: {err}"
                );
            }
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_gets_an_error_or_a_picture_never_a_panic() {
        for name in [
            "progressive.jpg",
            "cmyk.jpg",
            "palette.png",
            "lzw.tif",
            "lossy.webp",
            "animated.gif",
            "oriented.jpg",
            "gray16.png",
        ] {
            let bytes = fixture(name);
            for cut in (0..bytes.len()).step_by(7) {
                if let Err(e) = decode(&bytes[..cut]) {
                    assert!(!e.message.is_empty());
                }
            }
            let mut rng = crate::test_support::Noise::new(name.len() as u64);
            for _ in 0..200 {
                let mut b = bytes.clone();
                let i = (rng.next_u64() as usize) % b.len();
                b[i] ^= 1 << (rng.next_u64() % 8);
                let _ = decode(&b);
            }
        }
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
