//! The `pixelody` command line: renders a picture to WAV (and MIDI, JSON) through the same engine
//! the plugin plays, or shows what Pixelody reads in a picture. Exit codes: 0 done, 1 a file could
//! not be read, composed or written, 2 a usage error (clap's).

mod info;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pixelody::compose::{self, Mode, Scale, Settings, Style};
use pixelody::score::{Part, Signature};

#[derive(Parser, Debug)]
#[command(
    name = "pixelody",
    version,
    about = "Turns a picture into music: renders it to audio, or shows what Pixelody reads in it",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Turns a picture into music and writes it as a stereo 32-bit float WAV file.
    Render(RenderArgs),
    /// Shows what Pixelody reads in a picture: its features, key, scale, mood and proposed timbre.
    Info(InfoArgs),
}

/// How the picture becomes a score: the plugin's composition parameters.
#[derive(Args, Debug, Clone)]
pub struct ComposeArgs {
    /// How the picture is read: compose, scan or spectral.
    #[arg(long, default_value = "compose", value_parser = parse_mode)]
    mode: Mode,
    /// Tonic: auto (from the picture's dominant hue) or a note name (C, C#, Db, ... B).
    #[arg(long, default_value = "auto", value_parser = parse_key)]
    key: KeyArg,
    /// Scale: auto (from lightness, saturation and warmth) or major, minor, dorian, ... chromatic.
    #[arg(long, default_value = "auto", value_parser = parse_scale)]
    scale: ScaleArg,
    /// Style (compose): auto (from the picture's energy, mood and repetition) or ambient, ballad,
    /// pop, pulse, chiptune, lofi.
    #[arg(long, default_value = "auto", value_parser = parse_style)]
    style: StyleArg,
    /// Swing (compose): style (the style's own: Lo-fi swings, the others play straight) or 0 to
    /// 1: off-beat eighths from straight (0) through a triplet feel (0.67) to a hard shuffle (1).
    #[arg(long, default_value = "style", value_parser = parse_swing)]
    swing: SwingArg,
    /// 0 to 1 (compose): each part's timing and velocity spread a little, the same way for the
    /// same --seed.
    #[arg(long, visible_alias = "humanize", default_value_t = 0.0, value_parser = unit)]
    humanise: f32,
    /// Time signature of the bars: 4/4, 3/4, 6/8, 5/4, 7/8, 12/8 (or any from 2/4 to 16/8);
    /// 5/4 and 7/8 group as the picture leans (3+2 or 2+3, 2+2+3 or 3+2+2).
    #[arg(long, default_value = "4/4", value_parser = parse_meter)]
    meter: Signature,
    /// Compose from part of the picture: x,y,w,h as fractions of its width and height (the
    /// top-left corner, then the size), as a rectangle drawn on the editor's picture does.
    #[arg(long, value_parser = parse_region)]
    region: Option<[f32; 4]>,
    /// What the picture shows shapes the music (auto: faces and their expression, people,
    /// animals, vehicles, food; as the plug-in's Content parameter) or not (off).
    #[arg(long, value_enum, default_value_t = ContentArg::Auto)]
    content: ContentArg,
    /// Variation: another number gives another score from the same picture.
    #[arg(long, default_value_t = 0)]
    seed: u32,
    /// 0 to 1: more or fewer notes (compose).
    #[arg(long, default_value_t = 0.5, value_parser = unit)]
    density: f32,
    /// Lowest MIDI pitch of the melody, the scan rows and the partials.
    #[arg(long, default_value_t = 60, value_parser = |t: &str| whole(t, 0, 120).map(|v| v as u8))]
    low: u8,
    /// Highest MIDI pitch (at least 7 above --low).
    #[arg(long, default_value_t = 84, value_parser = |t: &str| whole(t, 7, 127).map(|v| v as u8))]
    high: u8,
    /// Scan: steps per bar.
    #[arg(long, default_value_t = 16, value_parser = parse_grid)]
    grid: u32,
    /// Scan: lightness 0 to 1 from which a pixel is a note.
    #[arg(long, default_value_t = 0.5, value_parser = unit)]
    threshold: f32,
    /// Scan: dark pixels are notes.
    #[arg(long)]
    invert: bool,
    /// Spectral: partials snapped to the scale.
    #[arg(long)]
    snap: bool,
    /// Loop length in bars of 4/4 (with several pictures: each section's length).
    #[arg(long, visible_alias = "section-bars", default_value_t = 2, value_parser = |t: &str| whole(t, compose::MIN_BARS, compose::MAX_BARS))]
    bars: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyArg(Option<u8>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleArg(Option<Scale>);

fn parse_key(text: &str) -> Result<KeyArg, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(KeyArg(None));
    }
    compose::pitch_class(text)
        .map(|pc| KeyArg(Some(pc)))
        .ok_or_else(|| format!("'{text}' is not auto or a note name (C, C#, Db, D, ... B)"))
}

fn parse_scale(text: &str) -> Result<ScaleArg, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(ScaleArg(None));
    }
    compose::choice_named(&Scale::ALL, Scale::id, Scale::name, text)
        .map(|s| ScaleArg(Some(s)))
        .ok_or_else(|| not_one_of(text, Scale::ALL.map(Scale::id).as_slice(), true))
}

/// The message for a choice the command line does not know.
fn not_one_of(text: &str, ids: &[&str], auto: bool) -> String {
    let or_auto = if auto { "auto or " } else { "" };
    format!("'{text}' is not {or_auto}one of {}", ids.join(", "))
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    compose::choice_named(&Mode::ALL, Mode::name, Mode::name, text)
        .ok_or_else(|| not_one_of(text, Mode::ALL.map(Mode::name).as_slice(), false))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StyleArg(Option<Style>);

fn parse_style(text: &str) -> Result<StyleArg, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(StyleArg(None));
    }
    compose::choice_named(&Style::ALL, Style::id, Style::name, text)
        .map(|s| StyleArg(Some(s)))
        .ok_or_else(|| not_one_of(text, Style::ALL.map(Style::id).as_slice(), true))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwingArg(Option<f32>);

fn parse_swing(text: &str) -> Result<SwingArg, String> {
    if text.eq_ignore_ascii_case("style") {
        return Ok(SwingArg(None));
    }
    unit(text)
        .map(|v| SwingArg(Some(v)))
        .map_err(|e| format!("{e}, or style"))
}

fn parse_region(text: &str) -> Result<[f32; 4], String> {
    let parts: Vec<f32> = text
        .split(',')
        .map(|v| v.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("must be four numbers x,y,w,h from 0 to 1, not '{text}'"))?;
    match parts[..] {
        [x, y, w, h]
            if [x, y, w, h].iter().all(|v| (0.0..=1.0).contains(v))
                && w >= compose::MIN_REGION
                && h >= compose::MIN_REGION
                && x + w <= 1.0 + 1e-6
                && y + h <= 1.0 + 1e-6 =>
        {
            Ok([x, y, w, h])
        }
        _ => Err(format!(
            "must be x,y,w,h: fractions from 0 to 1, w and h at least {}, inside the picture \
             (x + w and y + h at most 1), not '{text}'",
            compose::MIN_REGION
        )),
    }
}

fn parse_meter(text: &str) -> Result<Signature, String> {
    Signature::parse(text)
        .filter(|s| s.is_supported())
        .ok_or_else(|| {
            format!(
                "must be a time signature such as 4/4, 3/4, 6/8, 5/4, 7/8 or 12/8 (a bar of 2/4 to \
                 16/8), not '{text}'"
            )
        })
}

fn parse_grid(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(g) if compose::GRIDS.contains(&g) => Ok(g),
        _ => Err(format!("must be 4, 8, 16 or 32, not '{text}'")),
    }
}

/// A number within `lo..=hi`, with a message that says so.
fn ranged(text: &str, lo: f64, hi: f64) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("must be a number from {lo} to {hi}, not '{text}'")),
    }
}

/// A whole number from `lo` to `hi`, with the same message as every other range.
fn whole(text: &str, lo: u32, hi: u32) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!(
            "must be a whole number from {lo} to {hi}, not '{text}'"
        )),
    }
}

fn unit(text: &str) -> Result<f32, String> {
    ranged(text, 0.0, 1.0).map(|v| v as f32)
}

impl ComposeArgs {
    /// The settings these arguments ask for; `Err` when they contradict each other.
    fn settings(&self) -> Result<Settings, String> {
        if self.high < self.low + 7 {
            return Err(format!(
                "--high ({}) must be at least 7 above --low ({})",
                self.high, self.low
            ));
        }
        Ok(Settings {
            mode: self.mode,
            bars: self.bars,
            key: self.key.0,
            scale: self.scale.0,
            density: self.density,
            low: self.low,
            high: self.high,
            seed: self.seed,
            grid: self.grid,
            threshold: self.threshold,
            invert: self.invert,
            snap: self.snap,
            style: self.style.0,
            swing: self.swing.0,
            humanise: self.humanise,
            meter: self.meter,
            region: self.region,
            content: self.content == ContentArg::Auto,
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ContentArg {
    /// Faces, people, animals and things the picture shows shape the music.
    Auto,
    /// Only colour, light, edges and texture do.
    Off,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum TimbreArg {
    /// The timbre the picture proposes.
    Picture,
    /// The plugin's default parameter values.
    Default,
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// The picture (PNG, JPEG, GIF, WebP, BMP or TIFF), or several, or a folder (its pictures in
    /// name order): one piece with a section per picture (an animated GIF, WebP or PNG gives a
    /// section per frame, up to 16 in all).
    #[arg(required = true, num_args = 1..)]
    pictures: Vec<PathBuf>,
    /// Where to write the audio (stereo, 32-bit float WAV).
    #[arg(short, long, value_name = "OUT.wav")]
    output: PathBuf,
    #[command(flatten)]
    compose: ComposeArgs,
    /// Which timbre plays the notes.
    #[arg(long, value_enum, default_value_t = TimbreArg::Picture)]
    timbre: TimbreArg,
    /// How many times to play the loop.
    #[arg(long, default_value_t = 1, value_parser = |t: &str| whole(t, 1, 64))]
    loops: u32,
    /// After the loops the transport stops and the sound rings out: auto (until it stays below
    /// -90 dBFS, at most 10 s) or seconds, 0 to 10 (0: none, the file ends with the loop).
    #[arg(long, default_value = "auto", value_parser = parse_tail)]
    tail: TailArg,
    /// A file that loops without a click: the tail is added onto its start (its reverb and
    /// releases ring into the next repetition) and the file is exactly the loops long.
    #[arg(long)]
    loop_seamless: bool,
    /// Tempo in beats per minute, 20 to 300.
    #[arg(long, default_value_t = 120.0, value_parser = |t: &str| ranged(t, 20.0, 300.0))]
    bpm: f64,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 48_000, value_parser = |t: &str| whole(t, 8_000, 384_000))]
    sample_rate: u32,
    /// Samples per processing block; the audio is identical for every block size.
    #[arg(long, default_value_t = 512, value_parser = |t: &str| whole(t, 1, 65_536))]
    block_size: u32,
    /// Also write the score (notes in beats) as JSON.
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Also write the notes as a standard MIDI file, one track per part.
    #[arg(long, value_name = "OUT.mid")]
    midi: Option<PathBuf>,
    /// With --midi: only this part's track (as the editor's Drag MIDI handles give it).
    #[arg(long, value_enum, requires = "midi")]
    midi_part: Option<PartArg>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailArg(pixelody::engine::Tail);

fn parse_tail(text: &str) -> Result<TailArg, String> {
    use pixelody::engine::{Tail, MAX_TAIL_SECONDS};
    if text.eq_ignore_ascii_case("auto") {
        return Ok(TailArg(Tail::UntilSilent));
    }
    ranged(text, 0.0, MAX_TAIL_SECONDS)
        .map(|s| {
            TailArg(if s == 0.0 {
                Tail::None
            } else {
                Tail::Seconds(s)
            })
        })
        .map_err(|e| format!("{e}, or auto"))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PartArg {
    Melody,
    /// The chords.
    Harmony,
    Bass,
    Drums,
}

impl PartArg {
    fn part(self) -> Part {
        match self {
            PartArg::Melody => Part::Melody,
            PartArg::Harmony => Part::Harmony,
            PartArg::Bass => Part::Bass,
            PartArg::Drums => Part::Drums,
        }
    }
}

#[derive(Args, Debug)]
struct InfoArgs {
    /// The picture (PNG, JPEG, GIF, WebP, BMP or TIFF), or several, or a folder, or an
    /// animation: then the piece they make, section by section, and its first picture's reading.
    #[arg(required = true, num_args = 1..)]
    pictures: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    compose: ComposeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result =
        match cli.command {
            Command::Render(args) => args.compose.settings().map_err(usage).and_then(|settings| {
                render::render(&render::Job {
                    pictures: args.pictures,
                    output: args.output,
                    settings,
                    picture_timbre: args.timbre == TimbreArg::Picture,
                    loops: args.loops,
                    tail: args.tail.0,
                    loop_seamless: args.loop_seamless,
                    bpm: args.bpm,
                    sample_rate: args.sample_rate,
                    block_size: args.block_size as usize,
                    json: args.json,
                    midi: args.midi,
                    midi_part: args.midi_part.map(PartArg::part),
                })
                .map_err(failure)
            }),
            Command::Info(args) => args.compose.settings().map_err(usage).and_then(|settings| {
                info::info(&args.pictures, &settings, args.json).map_err(failure)
            }),
        };
    match result {
        Ok(text) => {
            // (A closed pipe, as `| head` leaves it, is not an error worth a panic.)
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), "{text}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("pixelody: {message}");
            ExitCode::from(code)
        }
    }
}

fn usage(message: String) -> (u8, String) {
    (2, message)
}

fn failure(message: String) -> (u8, String) {
    (1, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("pixelody").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_every_option_of_render() {
        let Command::Render(r) = parse(&[
            "render",
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
            "--key",
            "Db",
            "--scale",
            "harmonic-minor",
            "--mode",
            "scan",
            "--grid",
            "8",
            "--invert",
            "--timbre",
            "default",
        ])
        .unwrap()
        .command
        else {
            panic!("not render")
        };
        let s = r.compose.settings().unwrap();
        assert_eq!(r.pictures, [PathBuf::from("pic.png")]);
        assert_eq!(
            (s.bars, r.loops, r.bpm, r.sample_rate, r.block_size),
            (4, 3, 97.5, 44_100, 1)
        );
        assert_eq!(
            (s.key, s.scale, s.mode, s.grid, s.invert),
            (Some(1), Some(Scale::HarmonicMinor), Mode::Scan, 8, true)
        );
        assert_eq!(r.timbre, TimbreArg::Default);
    }

    #[test]
    fn out_of_range_values_are_usage_errors_that_say_why() {
        let e = parse(&["render", "p.png", "-o", "o.wav", "--bars", "0"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--bars"), "{e}");
        let e = parse(&["render", "p.png", "-o", "o.wav", "--bpm", "500"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("must be a number from 20 to 300, not '500'"),
            "{e}"
        );
        // Every range says so in one form, whole numbers too.
        for (option, value, says) in [
            (
                "--bars",
                "1000",
                "must be a whole number from 1 to 16, not '1000'",
            ),
            (
                "--low",
                "121",
                "must be a whole number from 0 to 120, not '121'",
            ),
            (
                "--loops",
                "x",
                "must be a whole number from 1 to 64, not 'x'",
            ),
            (
                "--swing",
                "2",
                "must be a number from 0 to 1, not '2', or style",
            ),
            (
                "--humanise",
                "1.5",
                "must be a number from 0 to 1, not '1.5'",
            ),
        ] {
            let e = parse(&["render", "p.png", "-o", "o.wav", option, value]).unwrap_err();
            assert!(e.to_string().contains(says), "{option} {value}: {e}");
        }
        let e = parse(&["render", "p.png", "-o", "o.wav", "--key", "H"]).unwrap_err();
        assert!(e.to_string().contains("not auto or a note name"), "{e}");
        assert!(parse(&["render", "p.png"])
            .unwrap_err()
            .to_string()
            .contains("--output"));
        let Command::Render(r) = parse(&[
            "render", "p.png", "-o", "o.wav", "--low", "80", "--high", "82",
        ])
        .unwrap()
        .command
        else {
            panic!()
        };
        assert!(r
            .compose
            .settings()
            .unwrap_err()
            .contains("at least 7 above"));
    }
}
