//! How well cheaper renders measure a score's loudness (issue 33): for each picture, the level a
//! measure would give against the integrated loudness (ITU-R BS.1770) of the 48 kHz render the
//! musician hears, and what each measure costs.
//!
//! `cargo run --release -p pixelody --example loudness_probe --features gallery -- [FOLDER]`
//! (without a folder: the test gallery in every style). Prints figures; asserts nothing.

use std::time::Instant;

use pixelody::compose::{compose, Settings, Style};
use pixelody::engine::{render_offline, EngineParams, OfflineRender};
use pixelody::pipeline::loudness;
use pixelody::score::Score;

const BPM: f64 = 120.0;

/// The library's measure (`pipeline::loudness::mean_square_db`), silence as -120 dB.
fn mean_square_db(score: &Score, rate: f32, from: f64, beats: f64, preroll: f64) -> f32 {
    loudness::mean_square_db(score, rate, from, beats, preroll).unwrap_or(-120.0)
}

/// Integrated loudness of 4 bars at 48 kHz, as the music report measures it.
fn lufs(score: &Score) -> f32 {
    let params = EngineParams {
        gain_db: 0.0,
        ..EngineParams::with_patch(&score.patch)
    };
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: BPM,
        samples: 8 * 48_000,
        block_size: 512,
    };
    let (l, r) = render_offline(score, &params, &job);
    let mut meter = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I).expect("a meter");
    let frames: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
    meter.add_frames_f32(&frames).expect("measuring");
    meter.loudness_global().unwrap_or(f64::NEG_INFINITY) as f32
}

/// The first four bars' velocity-weighted note time, bar by bar.
fn bar_weights(score: &Score) -> [f64; 4] {
    let mut w = [0.0f64; 4];
    for n in &score.notes {
        let bar = ((n.start_beats / 4.0) as usize).min(3);
        w[bar] += f64::from(n.velocity * n.velocity) * (n.length_beats.min(4.0) + 0.25);
    }
    w
}

/// The busiest bar alone, corrected by how much more it holds than the average bar.
fn busiest_bar(score: &Score) -> f32 {
    let w = bar_weights(score);
    let bar = (0..4).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap_or(0);
    let mean = w.iter().sum::<f64>() / 4.0;
    mean_square_db(score, 8_000.0, bar as f64 * 4.0, 4.0, 0.5)
        + (10.0 * (mean / w[bar].max(1e-9)).log10()) as f32
}

type Measure = (&'static str, fn(&Score) -> f32);

fn main() {
    let settings = Settings {
        bars: 4,
        ..Settings::default()
    };
    let scores: Vec<Score> = match std::env::args().nth(1) {
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .expect("a folder of pictures")
                .filter_map(|e| Some(e.ok()?.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
                .collect();
            files.sort();
            files
                .iter()
                .filter_map(|f| pixelody::analysis::decode(&std::fs::read(f).ok()?).ok())
                .map(|p| compose(&p, &settings, String::new()))
                .collect()
        }
        None => pixelody::gallery::gallery()
            .into_iter()
            .step_by(2)
            .flat_map(|(_, p)| {
                Style::ALL.map(|style| {
                    let forced = Settings {
                        style: Some(style),
                        ..settings
                    };
                    compose(&p, &forced, String::new())
                })
            })
            .collect(),
    };
    let measures: [Measure; 4] = [
        ("16 kHz, 4 bars", |s| {
            mean_square_db(s, 16_000.0, 0.0, 16.0, 0.0)
        }),
        ("8 kHz, 4 bars", |s| {
            mean_square_db(s, 8_000.0, 0.0, 16.0, 0.0)
        }),
        ("8 kHz, 2 bars", |s| {
            mean_square_db(s, 8_000.0, 0.0, 8.0, 0.0)
        }),
        ("8 kHz, busiest bar", busiest_bar),
    ];
    let loudness: Vec<f32> = scores.iter().map(lufs).collect();
    let readings: Vec<Vec<f32>> = scores
        .iter()
        .map(|s| measures.iter().map(|(_, m)| m(s)).collect())
        .collect();
    println!(
        "{} scores; each measure's level applied (as pipeline::level does), the loudness that \
         results at 48 kHz",
        scores.len()
    );
    for (k, (name, measure)) in measures.iter().enumerate() {
        let after: Vec<f32> = loudness
            .iter()
            .zip(&readings)
            .map(|(l, r)| l + (-15.0f32 - r[k]).clamp(-12.0, 12.0))
            .collect();
        let moved: Vec<f32> = readings.iter().map(|r| r[k] - r[0]).collect();
        let span = |v: &[f32]| {
            v.iter()
                .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(*x), b.max(*x)))
        };
        let ((lo, hi), (mlo, mhi)) = (span(&after), span(&moved));
        let t = Instant::now();
        for s in scores.iter().take(10) {
            std::hint::black_box(measure(s));
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / scores.len().min(10) as f64;
        println!(
            "  {name:20} spread {:4.1} LU | level moved {mlo:+5.1} to {mhi:+5.1} dB against 16 kHz, 4 bars | {ms:5.1} ms a score",
            hi - lo
        );
    }
}
