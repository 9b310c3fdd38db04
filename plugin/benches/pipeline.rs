//! Picture -> score, stage by stage, beside the bare `image::load_from_memory` of the same bytes;
//! then pieces: a 16-picture drop, and a 500-frame 1080p animation read frame by frame.
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
use pixelody::score::Score;

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

/// The medians of `stages`, each timed once per round for `rounds` rounds, the stages taking
/// turns: a minute in which this shared machine runs slow falls on every stage alike, so the
/// ratios between them hold (timed one stage after the other, a slow minute during one stage's
/// runs moved a ratio by a third).
fn interleaved_medians_ms<const N: usize>(
    rounds: usize,
    mut stages: [&mut dyn FnMut(); N],
) -> [f64; N] {
    let mut times = [(); N].map(|()| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for (stage, t) in stages.iter_mut().zip(&mut times) {
            let s = Instant::now();
            stage();
            t.push(s.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[rounds / 2]
    })
}

fn main() {
    println!(
        "Picture -> score on this machine ({} cores); medians, the stages timed in turn; ratios \
         against the bare decode",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let cases = [
        ("640x480 PNG", 640, 480, ImageFormat::Png, 41),
        ("1920x1080 JPEG", 1920, 1080, ImageFormat::Jpeg, 15),
        ("4000x3000 JPEG", 4000, 3000, ImageFormat::Jpeg, 7),
    ];
    // The content models' load, once per process (measured first: every later use finds them).
    let started = Instant::now();
    pixelody::content::warm_up().unwrap();
    let models_ms = started.elapsed().as_secs_f64() * 1e3;
    // (The speed targets are for Content Off; Content On adds the models, printed apart.)
    let settings = Settings {
        content: false,
        ..Settings::default()
    };
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

        let decoded = analysis::read(&bytes).unwrap();
        let picture = analysis::downscale(&decoded);
        let composed = compose::compose(&picture, &settings, String::new());
        let medians = interleaved_medians_ms(
            runs,
            [
                &mut || {
                    black_box(image::load_from_memory(&bytes).unwrap());
                },
                &mut || {
                    black_box(analysis::read(&bytes).unwrap());
                },
                // The working copy straight from the file (a common PNG is summed as its rows
                // decode).
                &mut || {
                    black_box(analysis::decode(&bytes).unwrap());
                },
                &mut || {
                    black_box(analysis::downscale(&decoded));
                },
                &mut || {
                    black_box(analysis::analyse(&picture, 16, 2));
                },
                // `compose` analyses the picture itself: its time is analysis and composition
                // together.
                &mut || {
                    black_box(compose::compose(&picture, &settings, String::new()));
                },
                &mut || {
                    let mut score = composed.clone();
                    pixelody::pipeline::level(&mut score);
                    black_box(score);
                },
                &mut || {
                    black_box(
                        pixelody::pipeline::picture_to_score(&bytes, "bench", &settings).unwrap(),
                    );
                },
            ],
        );
        let [bare, read, working, downscale, analyse, compose_ms, level_ms, total] = medians;
        let seeing = Settings::default();
        let with_content = median_ms(runs, || {
            black_box(pixelody::pipeline::picture_to_score(&bytes, "bench", &seeing).unwrap());
        });
        LIVE.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        black_box(pixelody::pipeline::picture_to_score(&bytes, "bench", &settings).unwrap());
        let peak = PEAK.load(Ordering::Relaxed) as f64;
        let rgb = f64::from(w) * f64::from(h) * 3.0;
        println!(
            "{name:>15} ({:>5} KB): bare decode {bare:7.1} ms | read {read:6.1} ms, downscale \
             {downscale:5.2} ms, working copy {working:5.2} ms, analyse {analyse:5.2} ms, analyse+compose {compose_ms:5.2} ms, level {level_ms:5.2} ms | \
             end to end {total:6.1} ms = {:.2}x bare decode, analysis+compose {:.1}% of it | peak \
             heap {:.1} MB = {:.2}x decoded RGB | with Content on {with_content:6.1} ms",
            bytes.len() / 1024,
            total / bare,
            100.0 * compose_ms / total,
            peak / 1e6,
            peak / rgb,
        );
    }
    saved_score();
    pieces();
    content(models_ms);
}

/// A saved project's score read back, as a project load reads it: the state is checked first
/// (the score read and dropped), then restored (read, and its wave's table built for playing).
fn saved_score() {
    let mut png = Cursor::new(Vec::new());
    photo(640, 480)
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    let settings = Settings {
        content: false,
        ..Settings::default()
    };
    let score = pixelody::pipeline::picture_to_score(png.get_ref(), "bench", &settings).unwrap();
    let json = serde_json::to_string(&score).unwrap();
    let read = median_ms(9, || {
        black_box(serde_json::from_str::<Score>(&json).unwrap());
    });
    let load = median_ms(9, || {
        black_box(serde_json::from_str::<Score>(&json).unwrap());
        let score: Score = serde_json::from_str(&json).unwrap();
        score.build_wave();
        black_box(score);
    });
    println!(
        "Saved score ({} KB of JSON): read {read:.2} ms; a project load (checked, read again, \
         its wave's table built) {load:.2} ms",
        json.len() / 1024
    );
}

/// The picture-content stage on the committed test photos: the models' load (once per process),
/// the decode at the models' size, and the three networks (on one core).
fn content(models_ms: f64) {
    println!("Picture content (faces, expressions, objects):");
    println!("  models loaded in {models_ms:.0} ms (once per process)");
    for name in [
        "astronaut.jpg",
        "cat.jpg",
        "coffee.jpg",
        "boats.jpg",
        "forest.jpg",
    ] {
        let path = format!("{}/tests/content/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).unwrap();
        let side = pixelody::content::VIEW_SIDE;
        let read = median_ms(5, || {
            black_box(analysis::read_for(&bytes, side).unwrap());
        });
        let decoded = analysis::read_for(&bytes, side).unwrap();
        let see = median_ms(5, || {
            black_box(pixelody::content::see(&decoded.image).unwrap());
        });
        let seen = pixelody::content::see(&decoded.image).unwrap();
        println!(
            "  {name:>14} ({}x{}): decode for the models {read:5.1} ms, content {see:5.1} ms: {}",
            decoded.image.width(),
            decoded.image.height(),
            seen.summary()
        );
    }
}

/// A 1080p animated GIF of `frames` frames (a gradient that drifts), written with the gif crate's
/// indexed frames so building it takes seconds, not the quantiser's minutes.
fn animation(frames: usize) -> Vec<u8> {
    let (w, h) = (1920u16, 1080u16);
    let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
    let mut out = Vec::new();
    {
        let mut e = gif::Encoder::new(&mut out, w, h, &palette).unwrap();
        e.set_repeat(gif::Repeat::Infinite).unwrap();
        for f in 0..frames {
            let pixels: Vec<u8> = (0..usize::from(h))
                .flat_map(|y| {
                    (0..usize::from(w)).map(move |x| ((x / 48 + y / 48 + f * 3) % 256) as u8)
                })
                .collect();
            let mut frame = gif::Frame::from_indexed_pixels(w, h, pixels, None);
            frame.delay = 4;
            e.write_frame(&frame).unwrap();
        }
    }
    out
}

fn pieces() {
    println!("Pieces:");
    let settings = Settings::default();
    // Sixteen different 640x480 PNGs dropped at once, against one of them alone.
    let pngs: Vec<Vec<u8>> = (0..16)
        .map(|k| {
            let img = photo(640 + k * 8, 480);
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, ImageFormat::Png).unwrap();
            out.into_inner()
        })
        .collect();
    let single = median_ms(5, || {
        black_box(pixelody::pipeline::picture_to_score(&pngs[0], "one.png", &settings).unwrap());
    });
    let drop = || {
        let files: Vec<(String, _)> = pngs
            .iter()
            .enumerate()
            .map(|(k, bytes)| (format!("{k}.png"), move || Ok::<_, String>(bytes.clone())))
            .collect();
        let gathered = pixelody::pipeline::gather(files, &|| true);
        gathered.score(&settings).unwrap()
    };
    let sixteen = median_ms(5, || {
        black_box(drop());
    });
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    black_box(drop());
    let peak = PEAK.load(Ordering::Relaxed) as f64;
    println!(
        "  16 x 640x480 PNG dropped at once: drop to score {sixteen:7.1} ms = {:.1} ms a section \
         = {:.2}x one picture alone ({single:.1} ms) | peak heap {:.1} MB",
        sixteen / 16.0,
        sixteen / 16.0 / single,
        peak / 1e6
    );
    // A 500-frame 1080p animation: decoded frame by frame, 16 frames kept.
    let gif = animation(500);
    let started = Instant::now();
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    let frames = analysis::decode_frames(&gif, 16).unwrap();
    let read = started.elapsed().as_secs_f64() * 1e3;
    let peak = PEAK.load(Ordering::Relaxed) as f64;
    let frame_bytes = 1920.0 * 1080.0 * 4.0;
    println!(
        "  500-frame 1920x1080 GIF ({} KB): {} frames read, {} kept, {read:.0} ms = {:.1} ms a \
         frame | peak heap {:.1} MB = {:.1} full frames (target <= 64 MB)",
        gif.len() / 1024,
        frames.total,
        frames.pictures.len(),
        read / frames.total as f64,
        peak / 1e6,
        peak / frame_bytes
    );
}
