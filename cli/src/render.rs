//! `pixelody render`: picture -> score -> WAV through the engine the plugin uses, driven by a
//! simulated host transport; optionally the score as JSON and MIDI.

use std::path::{Path, PathBuf};

use pixelody::compose::{Settings, Style};
use pixelody::engine::{fold_tail, render_with_tail, EngineParams, OfflineRender, Tail};

/// A validated render request.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// One picture, or several, or folders: a section each picture.
    pub pictures: Vec<PathBuf>,
    pub output: PathBuf,
    pub settings: Settings,
    /// Play the picture's proposed timbre (true) or the plugin's default parameters.
    pub picture_timbre: bool,
    pub loops: u32,
    /// What rings on after the loops (the transport stopped).
    pub tail: Tail,
    /// The tail added onto the start instead, the file exactly the loops long.
    pub loop_seamless: bool,
    pub bpm: f64,
    pub sample_rate: u32,
    pub block_size: usize,
    pub json: Option<PathBuf>,
    pub midi: Option<PathBuf>,
    /// Only this part in the MIDI file.
    pub midi_part: Option<pixelody::score::Part>,
}

pub fn display(path: &Path) -> String {
    path.display().to_string()
}

/// The picture's bytes, or the one line that says why they cannot be read.
pub fn read_picture(path: &Path) -> Result<(Vec<u8>, String), String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "{}: cannot read the file ({})",
            display(path),
            io_reason(&e)
        )
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display(path));
    Ok((bytes, name))
}

/// `paths` with each folder replaced by the pictures in it, sorted by name (as a folder dropped
/// on the editor is read); a folder with none is an error.
pub fn pictures_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        match pixelody::pipeline::pictures_in(path) {
            Some(found) if found.is_empty() => {
                return Err(format!(
                    "{}: the folder has no pictures Pixelody can read (it reads {})",
                    display(path),
                    pixelody::analysis::READABLE
                ))
            }
            Some(found) => out.extend(found),
            None => out.push(path.clone()),
        }
    }
    Ok(out)
}

/// The pictures `paths` name (a folder is the pictures in it), and what reading them gave: a
/// section per picture (per frame of an animation) and the files refused, as the editor's
/// drop reads them.
pub fn gather(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, pixelody::pipeline::Gathered), String> {
    let pictures = pictures_of(paths)?;
    let files = pictures
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| display(path));
            (name, move || read_picture(path).map(|(bytes, _)| bytes))
        })
        .collect();
    let gathered = pixelody::pipeline::gather(files, &|| true);
    Ok((pictures, gathered))
}

/// Reads, composes and renders; returns what to print on success. With several pictures, one
/// that cannot be used is named on stderr and skipped; none usable is an error. A folder is the
/// pictures in it.
pub fn render(job: &Job) -> Result<String, String> {
    let settings = job.settings;
    let (_, gathered) = gather(&job.pictures)?;
    let score = gathered
        .score(&settings)
        .ok_or_else(|| gathered.refusals().unwrap_or_default())?;
    for why in &gathered.refused {
        eprintln!("pixelody: skipped {why}");
    }
    let samples = (score.length_beats * f64::from(job.loops) * 60.0 / job.bpm
        * f64::from(job.sample_rate))
    .round() as usize;
    let render = OfflineRender {
        sample_rate: job.sample_rate as f32,
        bpm: job.bpm,
        samples,
        block_size: job.block_size,
    };
    let params = if job.picture_timbre {
        EngineParams::with_patch(&score.patch)
    } else {
        EngineParams::default()
    };
    let (mut left, mut right) = render_with_tail(&score, &params, &render, job.tail);
    let tail_seconds = (left.len() - samples) as f64 / f64::from(job.sample_rate);
    if job.loop_seamless {
        for channel in [&mut left, &mut right] {
            let tail = channel.split_off(samples);
            fold_tail(channel, &tail);
        }
    }
    write_wav(&job.output, job.sample_rate, &left, &right)
        .map_err(|e| format!("{}: cannot write the WAV file ({e})", display(&job.output)))?;
    if let Some(path) = &job.json {
        let text = serde_json::to_string_pretty(&score).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| {
            format!(
                "{}: cannot write the score ({})",
                display(path),
                io_reason(&e)
            )
        })?;
    }
    if let Some(path) = &job.midi {
        std::fs::write(
            path,
            pixelody::midi_file::midi_file_of(&score, job.bpm, job.midi_part),
        )
        .map_err(|e| {
            format!(
                "{}: cannot write the MIDI file ({})",
                display(path),
                io_reason(&e)
            )
        })?;
    }
    Ok(format!(
        "Rendered {} -> {}: {} mode{}, {}{}, {} bars{}{} x {} at {} BPM, {} notes{}, {:.3} s{} at \
         {} Hz (blocks of {}), score {:016x}",
        score.source,
        display(&job.output),
        settings.mode.name(),
        if settings.clamped().region.is_some() {
            " (from part of the picture)"
        } else {
            ""
        },
        score.tonality,
        match (score.style.as_str(), score.progression.as_str()) {
            ("", _) => String::new(),
            (style, "") => format!(", {style}{}", feel(&settings, style)),
            (style, family) => format!(", {style} ({family} chords){}", feel(&settings, style)),
        },
        score.bars(),
        if score.meter.is_common() {
            String::new()
        } else {
            format!(" of {}", score.meter.label())
        },
        match score.sections.len() {
            0 | 1 => String::new(),
            n => format!(" in {n} sections"),
        },
        job.loops,
        job.bpm,
        score.notes.len(),
        match &score.spectrum {
            Some(sp) => format!(", {} partials x {} frames", sp.partials(), sp.frames),
            None => String::new(),
        },
        samples as f64 / f64::from(job.sample_rate),
        match (job.loop_seamless, tail_seconds > 0.0) {
            (true, true) =>
                format!(" (a seamless loop: its {tail_seconds:.2} s tail on its start)"),
            (true, false) => String::from(" (a loop: nothing rang on)"),
            (false, true) => format!(" + {tail_seconds:.2} s tail"),
            (false, false) => String::new(),
        },
        job.sample_rate,
        job.block_size,
        score.fingerprint()
    ))
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => String::from("no such file"),
        std::io::ErrorKind::PermissionDenied => String::from("permission denied"),
        _ if e.raw_os_error() == Some(21) => String::from("it is a folder, not a file"),
        _ => e.to_string(),
    }
}

fn write_wav(path: &Path, sample_rate: u32, left: &[f32], right: &[f32]) -> Result<(), String> {
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

/// The feel a Compose score was made with, as the summary line says it: ", swing 67% (the
/// style's), humanise 20%" (nothing for straight and exact).
fn feel(settings: &Settings, style: &str) -> String {
    let own = pixelody::compose::choice_named(&Style::ALL, Style::id, Style::name, style)
        .map_or(0.0, Style::swing);
    let swing = settings.swing.unwrap_or(own);
    let mut out = String::new();
    if swing > 0.0 {
        let whose = if settings.swing.is_none() {
            " (the style's)"
        } else {
            ""
        };
        out += &format!(", swing {:.0}%{whose}", swing * 100.0);
    }
    if settings.humanise > 0.0 {
        out += &format!(", humanise {:.0}%", settings.humanise * 100.0);
    }
    out
}
