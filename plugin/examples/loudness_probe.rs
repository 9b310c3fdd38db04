//! How well each way of measuring a score's loudness (issue 33) follows the integrated loudness
//! (ITU-R BS.1770) of the 48 kHz render the musician hears, and what each costs: the engine's
//! prediction (`engine::predicted_lufs`, what `pipeline::level` uses) against renders through
//! the engine at lower rates and over fewer bars.
//!
//! `cargo run --release -p pixelody --example loudness_probe --features gallery -- [FOLDER] [--parts]`
//! (without a folder: the test gallery in every style). `--parts` prints, score by score, how far
//! the prediction is off for each part alone, dry and with the effects. Prints figures; asserts
//! nothing.

use std::time::Instant;

use pixelody::compose::{compose, Settings, Style};
use pixelody::engine::{predicted_lufs, render_offline, EngineParams, OfflineRender};
use pixelody::pipeline::loudness;
use pixelody::score::Score;

const BPM: f64 = 120.0;

/// The engine's parameters for a score's own sound at 0 dB Output Gain.
fn params_of(score: &Score) -> EngineParams {
    EngineParams {
        gain_db: 0.0,
        ..EngineParams::with_patch(&score.patch)
    }
}

/// The library's render measure (`pipeline::loudness::mean_square_db`), silence as -120 dB.
fn mean_square_db(score: &Score, rate: f32, from: f64, beats: f64, preroll: f64) -> f32 {
    loudness::mean_square_db(score, rate, from, beats, preroll).unwrap_or(-120.0)
}

/// Integrated loudness of 4 bars at 48 kHz, as the music report measures it.
fn lufs(score: &Score, params: &EngineParams) -> f32 {
    let job = OfflineRender {
        sample_rate: 48_000.0,
        bpm: BPM,
        samples: 8 * 48_000,
        block_size: 512,
    };
    let (l, r) = render_offline(score, params, &job);
    let mut meter = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I).expect("a meter");
    let frames: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
    meter.add_frames_f32(&frames).expect("measuring");
    meter.loudness_global().unwrap_or(f64::NEG_INFINITY) as f32
}

/// The prediction of the first four bars' loudness at 48 kHz.
fn predicted(score: &Score, params: &EngineParams) -> f32 {
    predicted_lufs(score, params, 16.0, BPM).unwrap_or(-120.0)
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

fn scores(folder: Option<&str>) -> Vec<Score> {
    let settings = Settings {
        bars: 4,
        ..Settings::default()
    };
    match folder {
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .expect("a folder of pictures")
                .filter_map(|e| Some(e.ok()?.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
                .collect();
            files.sort();
            files
                .iter()
                .filter_map(|f| {
                    let picture = pixelody::analysis::decode(&std::fs::read(f).ok()?).ok()?;
                    let name = f.file_name()?.to_string_lossy().into_owned();
                    Some(compose(&picture, &settings, name))
                })
                .collect()
        }
        None => pixelody::gallery::gallery()
            .into_iter()
            .step_by(2)
            .flat_map(|(name, p)| {
                Style::ALL.map(|style| {
                    let forced = Settings {
                        style: Some(style),
                        ..settings
                    };
                    compose(&p, &forced, name.clone())
                })
            })
            .collect(),
    }
}

/// Each part alone, dry and then with the effects: the prediction's error (dB).
fn by_part(scores: &[Score]) {
    println!("prediction - render (dB): melody, harmony, bass, drums alone; dry | with effects");
    for s in scores {
        let mut line = format!("  {:9} {:24}", s.style, s.source);
        for dry in [true, false] {
            for part in 0..4 {
                let mut params = params_of(s);
                if dry {
                    params.timbre.reverb_mix = 0.0;
                    params.timbre.delay_mix = 0.0;
                }
                params.part_on = [false; 4];
                params.part_on[part] = true;
                let actual = lufs(s, &params);
                let error = if actual.is_finite() {
                    predicted(s, &params) - actual
                } else {
                    0.0
                };
                line += &format!(" {error:+5.1}");
            }
            line += " |";
        }
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let folder = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str);
    let scores = scores(folder);
    if args.iter().any(|a| a == "--parts") {
        by_part(&scores);
        return;
    }
    let measures: [Measure; 5] = [
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
        // (In LUFS: moved to about where the renders' mean square sits.)
        ("predicted", |s| predicted(s, &params_of(s)) - 2.0),
    ];
    let loudness: Vec<f32> = scores.iter().map(|s| lufs(s, &params_of(s))).collect();
    let errors: Vec<f32> = scores
        .iter()
        .zip(&loudness)
        .map(|(s, l)| predicted(s, &params_of(s)) - l)
        .collect();
    let mean = errors.iter().sum::<f32>() / errors.len() as f32;
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f32>() / errors.len() as f32).sqrt();
    let span = |v: &[f32]| {
        v.iter()
            .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(*x), b.max(*x)))
    };
    let (lo, hi) = span(&errors);
    println!(
        "{} scores; the prediction against the 48 kHz render: mean {mean:+.2} dB, sd {sd:.2} dB, \
         from {lo:+.2} to {hi:+.2}",
        scores.len()
    );
    let readings: Vec<Vec<f32>> = scores
        .iter()
        .map(|s| measures.iter().map(|(_, m)| m(s)).collect())
        .collect();
    println!("each measure's level applied (as pipeline::level does), the loudness that results at 48 kHz:");
    for (k, (name, measure)) in measures.iter().enumerate() {
        let after: Vec<f32> = loudness
            .iter()
            .zip(&readings)
            .map(|(l, r)| l + (-15.0f32 - r[k]).clamp(-12.0, 12.0))
            .collect();
        let moved: Vec<f32> = readings.iter().map(|r| r[k] - r[0]).collect();
        let ((lo, hi), (mlo, mhi)) = (span(&after), span(&moved));
        let runs = if k + 1 == measures.len() { 100 } else { 1 };
        let t = Instant::now();
        for _ in 0..runs {
            for s in scores.iter().take(10) {
                std::hint::black_box(measure(s));
            }
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / (runs * scores.len().min(10)) as f64;
        println!(
            "  {name:20} spread {:4.1} LU | level moved {mlo:+5.1} to {mhi:+5.1} dB against 16 kHz, 4 bars | {ms:6.2} ms a score",
            hi - lo
        );
    }
}
