//! Animations: the frames of an animated GIF, WebP or PNG as pictures (a piece's sections).
//! Frames are decoded one at a time and each kept one is reduced to its working copy at once, so
//! a long or large animation never holds more than the decoder's canvas and the frame being
//! decoded at full size. Frames are sampled evenly over the whole animation: kept at a stride
//! that doubles whenever twice the wanted number have been kept, then thinned to the number
//! wanted at equal steps.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, Limits};

use super::decode::{describe, probe, PictureError};
use super::{downscale, Decoded, Picture};

/// The largest animation canvas we decode (4K UHD): every frame is this size in memory.
const MAX_ANIMATION_PIXELS: u64 = 3840 * 2160;
/// Frames read at most; a longer animation is sampled from its first this many.
pub const MAX_FRAMES_READ: usize = 20_000;

/// What a file holds for a piece: its pictures (an animation's sampled frames, each with its
/// frame number from 0) and how many frames were read.
pub struct Frames {
    pub pictures: Vec<(usize, Picture)>,
    pub total: usize,
}

/// The frames of `bytes` as at most `max` pictures (at least one): every frame of a short
/// animation, an even sample of a long one, and a still picture as itself.
pub fn decode_frames(bytes: &[u8], max: usize) -> Result<Frames, PictureError> {
    decode_frames_with(bytes, max, || super::decode(bytes))
}

/// [`decode_frames`], with a still picture (or `max` 1) decoded by `still`.
pub fn decode_frames_with(
    bytes: &[u8],
    max: usize,
    still: impl FnOnce() -> Result<Picture, PictureError>,
) -> Result<Frames, PictureError> {
    let max = max.max(1);
    let (format, w, h) = probe(bytes)?;
    let still = || {
        Ok(Frames {
            pictures: vec![(0, still()?)],
            total: 1,
        })
    };
    let animated = match format {
        ImageFormat::Gif => true,
        ImageFormat::WebP => WebPDecoder::new(Cursor::new(bytes))
            .map(|d| d.has_animation())
            .unwrap_or(false),
        ImageFormat::Png => PngDecoder::new(Cursor::new(bytes))
            .and_then(|d| d.is_apng())
            .unwrap_or(false),
        _ => false,
    };
    if !animated || max == 1 {
        return still();
    }
    if u64::from(w) * u64::from(h) > MAX_ANIMATION_PIXELS {
        return Err(PictureError::new(format!(
            "the animation is {w} x {h} pixels, too large to read frame by frame (limit 3840 x \
             2160)"
        )));
    }
    let limits = || {
        let mut l = Limits::default();
        l.max_image_width = Some(w);
        l.max_image_height = Some(h);
        // Room for the canvas, the frame and the decoder's own buffers, no more.
        l.max_alloc = Some(MAX_ANIMATION_PIXELS * 4 * 4);
        l
    };
    let fail = |e| describe(Some(format), e);
    let frames = match format {
        ImageFormat::Gif => {
            let mut d = GifDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            d.set_limits(limits()).map_err(fail)?;
            d.into_frames()
        }
        ImageFormat::WebP => {
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            d.set_limits(limits()).map_err(fail)?;
            d.into_frames()
        }
        _ => PngDecoder::with_limits(Cursor::new(bytes), limits())
            .and_then(PngDecoder::apng)
            .map_err(fail)?
            .into_frames(),
    };
    let mut kept: Vec<(usize, Picture)> = Vec::new();
    let mut stride = 1;
    let mut total = 0;
    let mut problem = None;
    for (i, frame) in frames.take(MAX_FRAMES_READ).enumerate() {
        let frame = match frame {
            Ok(frame) => frame,
            // A damaged frame ends the animation: the frames before it still play.
            Err(e) => {
                problem = Some(fail(e));
                break;
            }
        };
        total = i + 1;
        if i % stride != 0 {
            continue;
        }
        let image = DynamicImage::ImageRgba8(frame.into_buffer());
        kept.push((
            i,
            downscale(&Decoded {
                source_width: image.width(),
                source_height: image.height(),
                image,
            }),
        ));
        if kept.len() == 2 * max {
            kept = kept.into_iter().step_by(2).collect();
            stride *= 2;
        }
    }
    if kept.is_empty() {
        return Err(problem.unwrap_or_else(|| PictureError::new("the animation has no frames")));
    }
    Ok(Frames {
        pictures: evenly(kept, max),
        total,
    })
}

/// Which of `n` items an even sample of at most `max` keeps, the first and the last included.
pub fn evenly_spaced(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    (0..max)
        .map(|j| (j * (n - 1) + (max - 1) / 2) / (max - 1).max(1))
        .collect()
}

/// `max` of `items` at equal steps, the first and the last included.
fn evenly<T>(items: Vec<T>, max: usize) -> Vec<T> {
    let wanted = evenly_spaced(items.len(), max);
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| wanted.contains(i))
        .map(|(_, item)| item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, Rgba, RgbaImage};

    /// An animated GIF of `n` frames, `w` x `h`, frame k filled with a grey level of k.
    fn gif(n: usize, w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = GifEncoder::new_with_speed(&mut out, 30);
            e.set_repeat(Repeat::Infinite).unwrap();
            for k in 0..n {
                let v = (k * 255 / n.max(2).saturating_sub(1)) as u8;
                let img = RgbaImage::from_pixel(w, h, Rgba([v, v, v, 255]));
                e.encode_frame(Frame::from_parts(
                    img,
                    0,
                    0,
                    Delay::from_numer_denom_ms(40, 1),
                ))
                .unwrap();
            }
        }
        out
    }

    #[test]
    fn a_short_animation_gives_every_frame_in_order() {
        let f = decode_frames(&gif(5, 32, 24), 16).unwrap();
        assert_eq!(f.total, 5);
        let frames: Vec<usize> = f.pictures.iter().map(|(i, _)| *i).collect();
        assert_eq!(frames, vec![0, 1, 2, 3, 4]);
        // Each frame is its own picture: darkest first, lightest last.
        let light = |p: &Picture| p.pixels.iter().map(|c| c.l).sum::<f32>();
        assert!(light(&f.pictures[0].1) < light(&f.pictures[4].1));
        assert_eq!(
            (f.pictures[0].1.source_width, f.pictures[0].1.source_height),
            (32, 24)
        );
    }

    #[test]
    fn a_long_animation_is_sampled_evenly_first_to_last() {
        let f = decode_frames(&gif(300, 8, 8), 16).unwrap();
        assert_eq!(f.total, 300);
        let frames: Vec<usize> = f.pictures.iter().map(|(i, _)| *i).collect();
        assert_eq!(frames.len(), 16);
        assert_eq!(frames[0], 0);
        assert!(frames[15] >= 280, "{frames:?}");
        let steps: Vec<usize> = frames.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) = (steps.iter().min().unwrap(), steps.iter().max().unwrap());
        assert!(hi - lo <= *lo, "uneven: {frames:?}");
    }

    #[test]
    fn a_still_picture_is_one_section() {
        let mut png = Vec::new();
        RgbaImage::from_pixel(4, 4, Rgba([9, 9, 9, 255]))
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let f = decode_frames(&png, 16).unwrap();
        assert_eq!((f.total, f.pictures.len()), (1, 1));
    }

    #[test]
    fn a_cut_animation_plays_the_frames_before_the_cut_and_garbage_is_refused() {
        let whole = gif(10, 16, 16);
        let cut = &whole[..whole.len() * 2 / 3];
        let f = decode_frames(cut, 16).unwrap();
        assert!(f.total >= 1 && f.total < 10, "{}", f.total);
        assert!(decode_frames(b"GIF89a nonsense", 16).is_err());
    }

    #[test]
    fn ten_thousand_frames_are_read_one_by_one_and_sampled() {
        let f = decode_frames(&gif(10_000, 2, 2), 16).unwrap();
        assert_eq!(f.total, 10_000);
        assert_eq!(f.pictures.len(), 16);
        assert_eq!(f.pictures[0].0, 0);
        assert!(f.pictures[15].0 >= 9_000, "{}", f.pictures[15].0);
    }

    #[test]
    fn frames_of_different_sizes_are_placed_on_the_canvas() {
        let mut out = Vec::new();
        {
            let mut e = GifEncoder::new(&mut out);
            // A full-size red frame, then a small blue patch in its corner.
            let red = RgbaImage::from_pixel(40, 30, Rgba([255, 0, 0, 255]));
            e.encode_frame(Frame::new(red)).unwrap();
            let blue = RgbaImage::from_pixel(10, 10, Rgba([0, 0, 255, 255]));
            e.encode_frame(Frame::from_parts(
                blue,
                30,
                20,
                Delay::from_numer_denom_ms(40, 1),
            ))
            .unwrap();
        }
        let f = decode_frames(&out, 16).unwrap();
        assert_eq!(f.pictures.len(), 2);
        for (_, p) in &f.pictures {
            assert_eq!((p.source_width, p.source_height), (40, 30));
        }
        // The small frame is its 10 x 10 patch on the canvas (as the decoder composes it).
        let blue = |p: &Picture| p.rgb.iter().filter(|c| c[2] > 200 && c[0] < 50).count();
        assert_eq!(blue(&f.pictures[1].1), 100);
        assert_eq!(blue(&f.pictures[0].1), 0);
    }

    /// An animated WebP's header (RIFF, VP8X with the animation flag) claiming `w` x `h` pixels,
    /// with nothing behind it.
    fn webp_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&22u32.to_le_bytes());
        b.extend_from_slice(b"WEBPVP8X");
        b.extend_from_slice(&10u32.to_le_bytes());
        b.extend_from_slice(&[0x02, 0, 0, 0]);
        b.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        b.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        b
    }

    #[test]
    fn an_animated_webp_claiming_gigabytes_is_refused_before_decoding() {
        // 16000 x 16000 RGBA frames would be 1 GB each.
        for (w, h) in [(16_000, 16_000), (5_000, 5_000)] {
            let err = decode_frames(&webp_header(w, h), 16)
                .err()
                .expect("refused");
            assert!(!err.message.is_empty());
            assert!(
                err.message.contains("too large") || err.message.contains("damaged"),
                "{w} x {h}: {err}"
            );
        }
    }

    /// The frames' dominant colours: 'r', 'g' or 'b' for each.
    fn colours(f: &Frames) -> String {
        f.pictures
            .iter()
            .map(|(_, p)| {
                let [r, g, b] = p.rgb[p.rgb.len() / 2];
                if r > g && r > b {
                    'r'
                } else if g > b {
                    'g'
                } else {
                    'b'
                }
            })
            .collect()
    }

    #[test]
    fn an_animated_webp_gives_its_frames() {
        // Made by ImageMagick: red, green, blue frames, 24 x 16.
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pictures/animated.webp"),
        )
        .unwrap();
        let f = decode_frames(&bytes, 16).unwrap();
        assert_eq!(f.total, 3);
        assert_eq!(colours(&f), "rgb");
    }

    #[test]
    fn an_animated_png_gives_its_frames() {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, 8, 6);
            e.set_color(png::ColorType::Rgb);
            e.set_depth(png::BitDepth::Eight);
            e.set_animated(3, 0).unwrap();
            let mut w = e.write_header().unwrap();
            for rgb in [[250u8, 10, 10], [10, 250, 10], [10, 10, 250]] {
                let frame: Vec<u8> = (0..8 * 6).flat_map(|_| rgb).collect();
                w.write_image_data(&frame).unwrap();
            }
            w.finish().unwrap();
        }
        let f = decode_frames(&out, 16).unwrap();
        assert_eq!(f.total, 3);
        assert_eq!(colours(&f), "rgb");
    }

    #[test]
    fn evenly_keeps_the_ends() {
        assert_eq!(evenly((0..10).collect(), 4), vec![0, 3, 6, 9]);
        assert_eq!(evenly((0..3).collect(), 4), vec![0, 1, 2]);
        assert_eq!(evenly((0..32).collect(), 16).len(), 16);
    }
}
