//! Picture -> score, stage by stage, beside the bare `image::load_from_memory` of the same bytes.
//! Run with `cargo xtask bench` (or `cargo bench -p pixelody --bench pipeline`). Prints figures;
//! asserts nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, RgbImage};
use pixelody::analysis;
use pixelody::compose::{self, Settings};

/// Counts live heap bytes and their peak, to report the memory a stage needs.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A photo-like test picture: smooth gradients, a horizon, soft noise (so JPEG has work to do).
fn photo(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 24) as f32;
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let horizon = 0.6 + 0.08 * (fx * 17.0).sin();
        let (r, g, b) = if fy < horizon {
            (90.0 + 120.0 * fy, 140.0 + 60.0 * fy, 230.0 - 80.0 * fy)
        } else {
            (60.0 + 40.0 * fx, 110.0 - 30.0 * fy, 50.0)
        };
        image::Rgb([(r + n) as u8, (g + n) as u8, (b + n) as u8])
    })
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn main() {
    println!(
        "Picture -> score on this machine ({} cores); medians; ratios against the bare decode",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let cases = [
        ("640x480 PNG", 640, 480, ImageFormat::Png, 9),
        ("1920x1080 JPEG", 1920, 1080, ImageFormat::Jpeg, 7),
        ("4000x3000 JPEG", 4000, 3000, ImageFormat::Jpeg, 5),
    ];
    let settings = Settings::default();
    for (name, w, h, format, runs) in cases {
        let img = photo(w, h);
        let mut out = Cursor::new(Vec::new());
        match format {
            ImageFormat::Jpeg => img
                .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
                .unwrap(),
            _ => img.write_to(&mut out, format).unwrap(),
        }
        let bytes = out.into_inner();
        drop(img);

        let bare = median_ms(runs, || {
            black_box(image::load_from_memory(&bytes).unwrap());
        });
        let read = median_ms(runs, || {
            black_box(analysis::read(&bytes).unwrap());
        });
        let decoded = analysis::read(&bytes).unwrap();
        let downscale = median_ms(runs, || {
            black_box(analysis::downscale(&decoded));
        });
        let picture = analysis::downscale(&decoded);
        let analyse = median_ms(runs, || {
            black_box(analysis::analyse(&picture, 16, 2));
        });
        // `compose` analyses the picture itself: its time is analysis and composition together.
        let compose_ms = median_ms(runs, || {
            black_box(compose::compose(&picture, &settings, String::new()));
        });
        let total = median_ms(runs, || {
            black_box(pixelody::picture_to_score(&bytes, "bench", &settings).unwrap());
        });
        LIVE.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        black_box(pixelody::picture_to_score(&bytes, "bench", &settings).unwrap());
        let peak = PEAK.load(Ordering::Relaxed) as f64;
        let rgb = f64::from(w) * f64::from(h) * 3.0;
        println!(
            "{name:>15} ({:>5} KB): bare decode {bare:7.1} ms | read {read:6.1} ms, downscale \
             {downscale:5.2} ms, analyse {analyse:5.2} ms, analyse+compose {compose_ms:5.2} ms | \
             end to end {total:6.1} ms = {:.2}x bare decode, analysis+compose {:.1}% of it | peak \
             heap {:.1} MB = {:.2}x decoded RGB",
            bytes.len() / 1024,
            total / bare,
            100.0 * compose_ms / total,
            peak / 1e6,
            peak / rgb,
        );
    }
}
