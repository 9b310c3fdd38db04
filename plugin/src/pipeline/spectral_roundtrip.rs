//! Spectral mode, end to end: a picture (PNG bytes) becomes a spectral score, the engine renders
//! it, and an STFT of the audio (realfft) gives the picture back. What a musician would check by
//! looking at the render in a spectrogram view. (A test of the library's own build: as a test
//! crate of its own it compiled the transforms' generic code again, 20 CPU-seconds of every
//! cold build.)

use crate::compose::{Mode, Settings};
use crate::engine::{render_offline, EngineParams, OfflineRender};
use crate::test_support::correlation;
use realfft::RealFftPlanner;

const SR: f32 = 48_000.0;
const BPM: f64 = 120.0;
const WINDOW: usize = 4096;

/// A 64 x 16 picture with shapes at known places: a rising diagonal, a bright block and a dark
/// background with a faint wash.
fn picture_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 16, |x, y| {
        let (x, y) = (x as i32, y as i32);
        let diagonal = (15 - y) == x / 4;
        let block = (40..56).contains(&x) && (2..6).contains(&y);
        let v = if diagonal || block {
            235
        } else {
            20 + (x as u8)
        };
        image::Rgb([v, v, v])
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn a_rendered_picture_reads_back_from_its_spectrogram() {
    let settings = Settings {
        mode: Mode::Spectral,
        bars: 2,
        low: 48,
        high: 96,
        ..Settings::default()
    };
    let score = super::picture_to_score(&picture_png(), "shapes.png", &settings).unwrap();
    let spectrum = score.spectrum.clone().expect("a spectral score");
    let (frames, partials) = (spectrum.frames, spectrum.partials());
    assert_eq!((frames, partials), (32, 16));

    let samples_per_frame = (score.length_beats * 60.0 / BPM * f64::from(SR)) as usize / frames;
    let job = OfflineRender {
        sample_rate: SR,
        bpm: BPM,
        samples: frames * samples_per_frame,
        block_size: 512,
    };
    let (left, right) = render_offline(&score, &EngineParams::default(), &job);
    let mono: Vec<f32> = left.iter().zip(&right).map(|(l, r)| l + r).collect();

    // STFT: a Hann window at the middle of every frame, magnitude at each partial's frequency
    // (the largest of its three nearest bins).
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(WINDOW);
    let hann: Vec<f32> = (0..WINDOW)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / WINDOW as f32).cos())
        .collect();
    let mut input = fft.make_input_vec();
    let mut bins = fft.make_output_vec();
    let mut heard = Vec::with_capacity(frames * partials);
    for f in 0..frames {
        let centre = f * samples_per_frame + samples_per_frame / 2;
        let start = centre.saturating_sub(WINDOW / 2).min(mono.len() - WINDOW);
        for (i, x) in input.iter_mut().enumerate() {
            *x = mono[start + i] * hann[i];
        }
        fft.process(&mut input, &mut bins).unwrap();
        for hz in &spectrum.freqs_hz {
            let k = (hz * WINDOW as f32 / SR).round() as usize;
            let m = (k - 1..=k + 1).map(|b| bins[b].norm()).fold(0.0, f32::max);
            heard.push(m);
        }
    }
    let peak = heard.iter().fold(0.0f32, |a, &b| a.max(b));
    let heard: Vec<f32> = heard.iter().map(|m| m / peak).collect();

    // Against the score's frames (what the engine was asked to play) and against the picture
    // itself, downscaled to frames x partials (its lightness, bottom row = lowest partial).
    let decoded = image::load_from_memory(&picture_png()).unwrap().to_luma8();
    let mut seen = Vec::with_capacity(frames * partials);
    for f in 0..frames {
        for k in 0..partials {
            let (x0, x1) = (f * 64 / frames, (f + 1) * 64 / frames);
            let y = (partials - 1 - k) * 16 / partials;
            let sum: u32 = (x0..x1)
                .map(|x| u32::from(decoded.get_pixel(x as u32, y as u32)[0]))
                .sum();
            seen.push(sum as f32 / (x1 - x0) as f32 / 255.0);
        }
    }
    let with_score = correlation(&heard, &spectrum.amps);
    let with_picture = correlation(&heard, &seen);
    eprintln!("STFT vs score frames: r = {with_score:.3}; vs picture: r = {with_picture:.3}");
    assert!(with_score > 0.95, "r = {with_score}");
    assert!(with_picture > 0.95, "r = {with_picture}");
}
