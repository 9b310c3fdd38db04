//! The command-line renderer: picture -> score -> WAV through the same engine the plugin uses,
//! driven by a simulated host transport. Runs on the main thread of its own process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::compose::{self, Mode, Scale, Settings};
use crate::engine::{render_offline, EngineParams, OfflineRender};
use crate::score::Score;

const USAGE: &str = "\
usage: pixelody render IMAGE -o OUT.wav [options]

Turns a picture into music and writes it as a stereo 32-bit float WAV file.

options:
  -o, --output OUT.wav   where to write the audio (required)
  --mode M               compose (default), scan or spectral
  --key K                auto (default: from the picture's dominant hue) or C, C#, Db, ... B
  --scale S              auto (default: from lightness, saturation, warmth) or major, minor,
                         dorian, phrygian, lydian, mixolydian, locrian, harmonic-minor,
                         major-pentatonic, minor-pentatonic, chromatic
  --seed N               variation: another number gives another score (default 0)
  --density D            0 to 1, how many notes (compose; default 0.5)
  --low N, --high N      MIDI pitch range (default 60 to 84)
  --grid G               scan: steps per bar, 4, 8, 16 or 32 (default 16)
  --threshold T          scan: lightness 0 to 1 from which a pixel is a note (default 0.5)
  --invert               scan: dark pixels are notes
  --snap                 spectral: partials snapped to the scale
  --timbre T             picture (default: the timbre the picture proposes) or default
                         (the plugin's default parameter values)
  --bars N               loop length in bars of 4/4, 1 to 16 (default 2)
  --loops N              how many times to play the loop, 1 to 64 (default 1)
  --bpm B                tempo in beats per minute, 20 to 300 (default 120)
  --sample-rate SR       8000 to 384000 Hz (default 48000)
  --block-size K         samples per processing block, 1 to 65536 (default 512);
                         the audio is identical for every block size
  --json OUT.json        also write the score (notes in beats) as JSON
  --midi OUT.mid         also write the notes as a standard MIDI file, one track per part";

/// A fully parsed `render` command.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderArgs {
    pub image: PathBuf,
    pub output: PathBuf,
    pub settings: Settings,
    pub loops: u32,
    pub bpm: f64,
    pub sample_rate: u32,
    pub block_size: usize,
    pub json: Option<PathBuf>,
    pub midi: Option<PathBuf>,
    /// Play the picture's proposed timbre (true) or the plugin's default parameters.
    pub picture_timbre: bool,
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    flag: &str,
    value: Option<OsString>,
    min: T,
    max: T,
) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let text = value.to_string_lossy();
    match text.parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(format!(
            "{flag} must be a number from {min} to {max}, not '{text}'"
        )),
    }
}

const MODES: [(&str, Mode); 3] = [
    ("compose", Mode::Compose),
    ("scan", Mode::Scan),
    ("spectral", Mode::Spectral),
];

const KEYS: [(&str, Option<u8>); 18] = [
    ("auto", None),
    ("C", Some(0)),
    ("C#", Some(1)),
    ("Db", Some(1)),
    ("D", Some(2)),
    ("D#", Some(3)),
    ("Eb", Some(3)),
    ("E", Some(4)),
    ("F", Some(5)),
    ("F#", Some(6)),
    ("Gb", Some(6)),
    ("G", Some(7)),
    ("G#", Some(8)),
    ("Ab", Some(8)),
    ("A", Some(9)),
    ("A#", Some(10)),
    ("Bb", Some(10)),
    ("B", Some(11)),
];

fn scales() -> Vec<(String, Option<Scale>)> {
    std::iter::once((String::from("auto"), None))
        .chain(
            Scale::ALL
                .iter()
                .map(|s| (s.name().to_lowercase().replace(' ', "-"), Some(*s))),
        )
        .collect()
}

/// One of the named `options` (case-insensitive).
fn choice<K: AsRef<str>, T: Copy>(
    flag: &str,
    value: Option<OsString>,
    options: &[(K, T)],
) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let text = value.to_string_lossy();
    options
        .iter()
        .find(|(name, _)| name.as_ref().eq_ignore_ascii_case(&text))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| n.as_ref()).collect();
            format!("{flag} must be one of {}, not '{text}'", names.join(", "))
        })
}

pub fn parse_render(args: Vec<OsString>) -> Result<RenderArgs, String> {
    let mut image = None;
    let mut output = None;
    let mut r = RenderArgs {
        image: PathBuf::new(),
        output: PathBuf::new(),
        settings: Settings::default(),
        loops: 1,
        bpm: 120.0,
        sample_rate: 48_000,
        block_size: 512,
        json: None,
        midi: None,
        picture_timbre: true,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("-o" | "--output") => {
                output = Some(PathBuf::from(
                    it.next().ok_or("--output needs a file name")?,
                ))
            }
            Some("--bars") => {
                r.settings.bars = number("--bars", it.next(), compose::MIN_BARS, compose::MAX_BARS)?
            }
            Some("--mode") => r.settings.mode = choice("--mode", it.next(), &MODES)?,
            Some("--key") => r.settings.key = choice("--key", it.next(), &KEYS)?,
            Some("--scale") => r.settings.scale = choice("--scale", it.next(), &scales())?,
            Some("--seed") => r.settings.seed = number("--seed", it.next(), 0, u32::MAX)?,
            Some("--density") => r.settings.density = number("--density", it.next(), 0.0, 1.0)?,
            Some("--low") => r.settings.low = number("--low", it.next(), 0, 120)?,
            Some("--high") => r.settings.high = number("--high", it.next(), 7, 127)?,
            Some("--grid") => {
                let g = number("--grid", it.next(), 4, 32)?;
                if !compose::GRIDS.contains(&g) {
                    return Err(format!("--grid must be 4, 8, 16 or 32, not {g}"));
                }
                r.settings.grid = g;
            }
            Some("--threshold") => {
                r.settings.threshold = number("--threshold", it.next(), 0.0, 1.0)?
            }
            Some("--invert") => r.settings.invert = true,
            Some("--timbre") => {
                r.picture_timbre = choice(
                    "--timbre",
                    it.next(),
                    &[("picture", true), ("default", false)],
                )?
            }
            Some("--snap") => r.settings.snap = true,
            Some("--loops") => r.loops = number("--loops", it.next(), 1, 64)?,
            Some("--bpm") => r.bpm = number("--bpm", it.next(), 20.0, 300.0)?,
            Some("--sample-rate") => {
                r.sample_rate = number("--sample-rate", it.next(), 8_000, 384_000)?
            }
            Some("--midi") => {
                r.midi = Some(PathBuf::from(it.next().ok_or("--midi needs a file name")?))
            }
            Some("--json") => {
                r.json = Some(PathBuf::from(it.next().ok_or("--json needs a file name")?))
            }
            Some("--block-size") => r.block_size = number("--block-size", it.next(), 1, 65_536)?,
            Some(flag) if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option '{flag}'"))
            }
            _ if image.is_none() => image = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument '{}'", arg.to_string_lossy())),
        }
    }
    if r.settings.high < r.settings.low + 7 {
        return Err(format!(
            "--high ({}) must be at least 7 above --low ({})",
            r.settings.high, r.settings.low
        ));
    }
    r.image = image.ok_or("no picture given")?;
    r.output = output.ok_or("no output file given (-o OUT.wav)")?;
    Ok(r)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Reads, composes and renders; returns what to print on success.
pub fn render(args: &RenderArgs) -> Result<(Score, String), String> {
    let bytes = std::fs::read(&args.image).map_err(|e| {
        format!(
            "{}: cannot read the file ({})",
            display(&args.image),
            io_reason(&e)
        )
    })?;
    let settings = args.settings;
    let name = args
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display(&args.image));
    let score = crate::picture_to_score(&bytes, &name, &settings)
        .map_err(|e| format!("{}: {}", display(&args.image), e.message))?;
    let samples = (score.length_beats * f64::from(args.loops) * 60.0 / args.bpm
        * f64::from(args.sample_rate))
    .round() as usize;
    let job = OfflineRender {
        sample_rate: args.sample_rate as f32,
        bpm: args.bpm,
        samples,
        block_size: args.block_size,
    };
    let params = if args.picture_timbre {
        EngineParams::with_patch(&score.patch)
    } else {
        EngineParams::default()
    };
    let (left, right) = render_offline(&score, &params, &job);
    write_wav(&args.output, args.sample_rate, &left, &right)
        .map_err(|e| format!("{}: cannot write the WAV file ({e})", display(&args.output)))?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&score).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| {
            format!(
                "{}: cannot write the score ({})",
                display(path),
                io_reason(&e)
            )
        })?;
    }
    if let Some(path) = &args.midi {
        std::fs::write(path, crate::export::midi_file(&score, args.bpm)).map_err(|e| {
            format!(
                "{}: cannot write the MIDI file ({})",
                display(path),
                io_reason(&e)
            )
        })?;
    }
    let summary = format!(
        "Rendered {} -> {}: {} mode, {}, {} bars x {} at {} BPM, {} notes{}, {:.3} s at {} Hz \
         (blocks of {}), score {:016x}",
        score.source,
        display(&args.output),
        settings.mode.name(),
        score.tonality,
        score.bars(),
        args.loops,
        args.bpm,
        score.notes.len(),
        match &score.spectrum {
            Some(sp) => format!(", {} partials x {} frames", sp.partials(), sp.frames),
            None => String::new(),
        },
        samples as f64 / f64::from(args.sample_rate),
        args.sample_rate,
        args.block_size,
        score.fingerprint()
    );
    Ok((score, summary))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => String::from("no such file"),
        std::io::ErrorKind::PermissionDenied => String::from("permission denied"),
        _ if e.raw_os_error() == Some(21) => String::from("it is a folder, not a file"),
        _ => e.to_string(),
    }
}

pub fn write_wav(path: &Path, sample_rate: u32, left: &[f32], right: &[f32]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| e.to_string())?;
    for (l, r) in left.iter().zip(right) {
        w.write_sample(*l).map_err(|e| e.to_string())?;
        w.write_sample(*r).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())
}

/// Entry point of the `pixelody` binary; returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let mut it = args.into_iter();
    match it.next().as_ref().and_then(|a| a.to_str()) {
        Some("render") => {}
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return 0;
        }
        _ => {
            eprintln!("{USAGE}");
            return 2;
        }
    }
    let args = match parse_render(it.collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pixelody: {e}\n\n{USAGE}");
            return 2;
        }
    };
    match render(&args) {
        Ok((_, summary)) => {
            println!("{summary}");
            0
        }
        Err(e) => {
            eprintln!("pixelody: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_every_option() {
        let r = parse_render(args(&[
            "pic.png",
            "-o",
            "out.wav",
            "--bars",
            "4",
            "--bpm",
            "97.5",
            "--sample-rate",
            "44100",
            "--block-size",
            "1",
            "--loops",
            "3",
        ]))
        .unwrap();
        assert_eq!(r.image, PathBuf::from("pic.png"));
        assert_eq!(
            (r.settings.bars, r.loops, r.bpm, r.sample_rate, r.block_size),
            (4, 3, 97.5, 44_100, 1)
        );
    }

    #[test]
    fn rejects_out_of_range_values_with_a_reason() {
        let e = parse_render(args(&["p.png", "-o", "o.wav", "--bars", "0"])).unwrap_err();
        assert_eq!(e, "--bars must be a number from 1 to 16, not '0'");
        assert!(parse_render(args(&["p.png"]))
            .unwrap_err()
            .contains("no output"));
    }
}
