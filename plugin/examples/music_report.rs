//! `cargo xtask music-report [DIR]`: how Pixelody's melodies move, over the generated picture set
//! (`gallery`) or the pictures in DIR, 8 bars each, beside what human melodies do. Prints a line per picture
//! and the medians, and writes a sheet of piano rolls (picture, then its 8 bars) to
//! target/music-report/piano-rolls.png to look at. It measures; it asserts nothing.

use std::path::PathBuf;

use pixelody::compose::measure::{
    bass_measures, groove_signature, median, melody_measures, progression, texture_signature,
};
use pixelody::compose::{compose, Settings, Style};
use pixelody::engine::{render_offline, EngineParams, OfflineRender};
use pixelody::gallery::gallery;
use pixelody::score::{drum, Part, Signature};

const BARS: u32 = 8;
/// Piano-roll drawing: pixels per eighth note and per semitone.
const STEP_PX: u32 = 4;
const PITCH_PX: u32 = 2;
const LOW: u8 = 30;
const HIGH: u8 = 96;

/// The bars (from 1) where the highest note sounds: "5" or "2-7".
fn peak_bars(at: f32, until: f32) -> String {
    let bar = |x: f32| (x * BARS as f32).floor() as u32 + 1;
    if bar(at) == bar(until) {
        bar(at).to_string()
    } else {
        format!("{}-{}", bar(at), bar(until))
    }
}

/// The pictures in `dir` that decode, by file name, as the plug-in reads them.
fn pictures_in(dir: &std::path::Path) -> Vec<(String, pixelody::analysis::Picture)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).ok()?;
            match pixelody::analysis::decode(&bytes) {
                Ok(mut picture) => {
                    // (What the picture shows too, as a drop into the plug-in reads it.)
                    picture.content = pixelody::pipeline::content_of(&bytes);
                    Some((name, picture))
                }
                Err(e) => {
                    eprintln!("{name}: skipped ({})", e.message);
                    None
                }
            }
        })
        .collect()
}

/// The progression each picture's chords follow (its family and the chords heard, bar by bar),
/// then the families in use and how the first phrase ends (a half cadence on V at the loop's
/// midpoint, or another open chord, or the tonic).
fn harmony_table(set: &[(String, pixelody::analysis::Picture)], settings: &Settings) {
    println!();
    println!(
        "{:<26} {:<20} {:<9} progression",
        "picture", "family", "style"
    );
    let mut families: Vec<(String, usize)> = Vec::new();
    let (mut half, mut tonic_mid, mut tonic_start) = (0, 0, 0);
    for (name, picture) in set {
        let score = compose(picture, settings, String::new());
        let bars = progression(&score);
        println!(
            "{:<26} {:<20} {:<9} {}",
            name,
            score.progression,
            score.style,
            bars.join(" | ")
        );
        match families.iter_mut().find(|f| f.0 == score.progression) {
            Some(f) => f.1 += 1,
            None => families.push((score.progression.clone(), 1)),
        }
        // The first phrase's end: the chord on beat 3 of bar 4.
        let mid = bars.get(3).map(|b| b.rsplit('-').next().unwrap_or(b));
        half += usize::from(matches!(mid, Some("V" | "v")));
        tonic_mid += usize::from(matches!(mid, Some("I" | "i")));
        let first = bars.first().map(|b| b.split('-').next().unwrap_or(b));
        tonic_start += usize::from(matches!(first, Some("I" | "i")));
    }
    families.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "Families: {} in use ({}). Bar 4 ends on V or v (a half cadence at the midpoint) in {} of \
         {} pieces, on the tonic in {}; {} start on the tonic.",
        families.len(),
        families
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        half,
        set.len(),
        tonic_mid,
        tonic_start
    );
}

/// One line per meter: the melodies' measures, how many pictures write their own groove, how
/// often the bass and the kick land on the bar lines, and the groupings the pictures chose.
fn meter_table(set: &[(String, pixelody::analysis::Picture)], settings: &Settings) {
    println!();
    println!(
        "{:<6} {:>6} {:>6} {:>10} {:>12} {:>14} {:>12}  groupings",
        "meter", "steps", "range", "notes/bar", "own grooves", "bass on bars", "kick on bars"
    );
    for signature in Signature::CHOICES {
        let settings = Settings {
            meter: signature,
            ..*settings
        };
        let (mut steps, mut ranges, mut busy, mut grooves) = (vec![], vec![], vec![], vec![]);
        let (mut bass_on, mut kick_on, mut drummed, mut bars) = (0, 0, 0, 0);
        let mut groupings: Vec<(String, usize)> = Vec::new();
        for (_, picture) in set {
            let score = compose(picture, &settings, String::new());
            if let Some(m) = melody_measures(&score) {
                steps.push(m.step_share);
                ranges.push(f32::from(m.range));
                busy.push(m.notes_per_bar);
            }
            grooves.push(groove_signature(&score));
            let bar = score.meter.bar_beats();
            let starts = |part: Part, pitch: Option<u8>, at: f64| {
                score.notes.iter().any(|n| {
                    n.part == part
                        && (n.start_beats - at).abs() < 1e-9
                        && pitch.is_none_or(|p| p == n.pitch)
                })
            };
            let has_drums = score.notes.iter().any(|n| n.part == Part::Drums);
            for b in 0..BARS {
                let at = f64::from(b) * bar;
                bars += 1;
                bass_on += usize::from(starts(Part::Bass, None, at));
                if has_drums {
                    drummed += 1;
                    kick_on += usize::from(starts(Part::Drums, Some(drum::KICK), at));
                }
            }
            let label = score.meter.label();
            match groupings.iter_mut().find(|g| g.0 == label) {
                Some(g) => g.1 += 1,
                None => groupings.push((label, 1)),
            }
        }
        let own = grooves
            .iter()
            .filter(|g| grooves.iter().filter(|o| o == g).count() == 1)
            .count();
        println!(
            "{:<6} {:>6.2} {:>6.1} {:>10.1} {:>12} {:>14} {:>12}  {}",
            signature.name(),
            median(&steps),
            median(&ranges),
            median(&busy),
            format!("{own}/{}", set.len()),
            format!("{bass_on}/{bars}"),
            format!("{kick_on}/{drummed}"),
            groupings
                .iter()
                .map(|(g, n)| format!("{g} x{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn main() {
    // `music_report DIR`: the pictures in DIR (held-out photos, say) instead of the generated set.
    let set = match std::env::args_os().nth(1) {
        Some(dir) => pictures_in(&PathBuf::from(dir)),
        None => gallery(),
    };
    // PIXELODY_REPORT_SHOW=name prints the notes (beat:pitch) of the pictures whose name has it.
    let show = std::env::var("PIXELODY_REPORT_SHOW").ok();
    let settings = Settings {
        bars: BARS,
        ..Settings::default()
    };
    let roll_w = BARS * 8 * STEP_PX;
    let roll_h = u32::from(HIGH - LOW) * PITCH_PX;
    let panel_w = 96 + 8 + roll_w + 16;
    let panel_h = roll_h.max(64) + 8;
    let columns = 2u32;
    let rows = (set.len() as u32).div_ceil(columns);
    let mut sheet =
        image::RgbImage::from_pixel(panel_w * columns, panel_h * rows, image::Rgb([22, 23, 28]));

    println!(
        "{:<26} {:>6} {:>6} {:>9} {:>10} {:>6}  key, style",
        "picture", "steps", "range", "recurring", "notes/bar", "peak"
    );
    let (mut steps, mut ranges, mut recurring, mut busy) = (vec![], vec![], vec![], vec![]);
    let mut climaxes = Vec::new();
    let mut one_pitch_bars = 0;
    for (i, (name, picture)) in set.iter().enumerate() {
        let score = compose(picture, &settings, name.clone());
        if show.as_deref().is_some_and(|s| name.contains(s)) {
            for part in [Part::Melody, Part::Harmony, Part::Bass] {
                let notes: Vec<String> = score
                    .notes
                    .iter()
                    .filter(|n| n.part == part)
                    .map(|n| format!("{}:{}", n.start_beats, n.pitch))
                    .collect();
                println!("  {part:?}: {}", notes.join(" "));
            }
            println!("  groove: {}", groove_signature(&score));
        }
        match melody_measures(&score) {
            Some(m) => {
                println!(
                    "{:<26} {:>6.2} {:>6} {:>9.2} {:>10.1} {:>6}  {}, {}",
                    name,
                    m.step_share,
                    m.range,
                    m.recurring_bars,
                    m.notes_per_bar,
                    peak_bars(m.climax_at, m.climax_until),
                    score.tonality,
                    score.style
                );
                steps.push(m.step_share);
                one_pitch_bars += m.one_pitch_bars;
                ranges.push(f32::from(m.range));
                recurring.push(m.recurring_bars);
                busy.push(m.notes_per_bar);
                climaxes.push((m.climax_at, m.climax_until));
            }
            None => println!(
                "{name:<26} (fewer than two melody notes)  {}",
                score.tonality
            ),
        }
        // The panel: the picture, then the roll (melody amber, harmony teal, bass violet).
        let (px, py) = (
            (i as u32 % columns) * panel_w,
            (i as u32 / columns) * panel_h,
        );
        // A thumbnail of at most 96 x 64.
        let scale = (picture.width as f32 / 96.0)
            .max(picture.height as f32 / 64.0)
            .max(1.0);
        let (tw, th) = (
            (picture.width as f32 / scale) as u32,
            (picture.height as f32 / scale) as u32,
        );
        for y in 0..th {
            for x in 0..tw {
                let (sx, sy) = ((x as f32 * scale) as usize, (y as f32 * scale) as usize);
                let c = picture.rgb
                    [sy.min(picture.height - 1) * picture.width + sx.min(picture.width - 1)];
                sheet.put_pixel(px + x, py + y, image::Rgb(c));
            }
        }
        let rx = px + 96 + 8;
        for bar in 0..=BARS {
            for y in 0..roll_h {
                sheet.put_pixel(rx + bar * 8 * STEP_PX, py + y, image::Rgb([50, 52, 60]));
            }
        }
        for n in &score.notes {
            if n.pitch < LOW || n.pitch >= HIGH {
                continue;
            }
            let colour = match n.part {
                Part::Melody => [255, 196, 84],
                Part::Harmony => [84, 206, 190],
                Part::Bass => [170, 124, 255],
                Part::Drums => [230, 110, 110],
            };
            let x0 = rx + (n.start_beats * 2.0 * f64::from(STEP_PX)) as u32;
            let x1 = rx + ((n.start_beats + n.length_beats) * 2.0 * f64::from(STEP_PX)) as u32;
            let y = py + roll_h - u32::from(n.pitch - LOW + 1) * PITCH_PX;
            for x in x0..x1.max(x0 + 1).min(rx + roll_w) {
                for dy in 0..PITCH_PX.max(1) {
                    sheet.put_pixel(x, y + dy, image::Rgb(colour));
                }
            }
        }
    }
    let share = |v: &[f32], ok: &dyn Fn(f32) -> bool| {
        v.iter().filter(|x| ok(**x)).count() as f32 / v.len().max(1) as f32
    };
    println!();
    println!(
        "{} pictures, {} bars each (medians; human folk melodies from issue 17 in brackets)",
        set.len(),
        BARS
    );
    println!("  step share       {:.2}   (0.78; target median >= 0.72, every melody >= 0.55: {:.0}% are)", median(&steps), 100.0 * share(&steps, &|s| s >= 0.55));
    println!(
        "  range            {:.1}    (9 semitones; target median <= 10)",
        median(&ranges)
    );
    println!("  recurring bars   {:.2}   (up to 0.5-0.75; target: 60% of melodies with one: {:.0}% have)", median(&recurring), 100.0 * share(&recurring, &|r| r > 0.0));
    println!("  notes per bar    {:.1}    (3.1, 2.1-4.0)", median(&busy));
    // The climax phrase of 8 bars: bars 5 and 6 (two thirds through is bar 6).
    let placed = climaxes
        .iter()
        .filter(|(at, until)| *at >= 0.5 && *until < 0.75)
        .count();
    println!(
        "  climax           {placed} of {} melodies reach their highest note in bars 5-6 only (two thirds through)",
        climaxes.len()
    );
    println!(
        "  barely moving    {} melodies span under 5 semitones in {} bars (a tune, not a drone, needs more)",
        ranges.iter().filter(|r| **r < 5.0).count(),
        BARS
    );
    println!(
        "  one-pitch bars   {one_pitch_bars} bars of three or more melody notes on one pitch, in {} melodies",
        set.len()
    );
    // The bass and the accompaniment's groove, per picture.
    println!();
    println!(
        "{:<26} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>8}  style",
        "picture", "low", "high", "first", "last", "above", "par.", "outside"
    );
    let (mut grooves, mut cellar_ok, mut outside_total) = (Vec::new(), 0, 0);
    let mut styles = Vec::new();
    let mut bass_highs = Vec::new();
    for (name, picture) in &set {
        let score = compose(picture, &settings, String::new());
        let outside = score
            .notes
            .iter()
            .filter(|n| {
                n.part == Part::Melody && (n.pitch < settings.low || n.pitch > settings.high)
            })
            .count();
        outside_total += outside;
        grooves.push(groove_signature(&score));
        styles.push(format!("{} ({})", name, score.style));
        if std::env::var_os("PIXELODY_REPORT_STYLE").is_some() {
            let f = pixelody::compose::features(picture, &settings);
            println!(
                "  {name}: energy {:.2} mood {:.2} repetition {:.2} chroma {:.3} edges {:.3} entropy {:.2} light {:.2}",
                pixelody::compose::style::energy(&f),
                pixelody::compose::mood(&f),
                pixelody::compose::repetition(&f),
                f.chroma.mean,
                f.edge_density,
                f.entropy,
                f.lightness.mean
            );
            println!(
                "    busy all over (a pattern to Auto): {}",
                pixelody::compose::style::busy_all_over(&f)
            );
        }
        if let Some(b) = bass_measures(&score) {
            let ok = b.highest <= 60 && b.above_chord == 0 && b.first.abs_diff(b.last) <= 7;
            cellar_ok += usize::from(ok);
            bass_highs.push(f32::from(b.highest));
            println!(
                "{:<26} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>8}  {}",
                name,
                b.lowest,
                b.highest,
                b.first,
                b.last,
                b.above_chord,
                b.parallels,
                outside,
                score.style
            );
        }
    }
    let own = grooves
        .iter()
        .filter(|g| grooves.iter().filter(|o| o == g).count() == 1)
        .count();
    println!(
        "Bass: {cellar_ok} of {} in the cellar (never above C4 or the chord, first and last within \
         a fifth); median highest {:.0}. Melody notes outside Low/High: {outside_total}. Grooves: \
         {own} of {} pictures have one of their own ({} distinct).",
        bass_highs.len(),
        median(&bass_highs),
        grooves.len(),
        {
            let mut g = grooves.clone();
            g.sort();
            g.dedup();
            g.len()
        }
    );
    // Who shares a groove: where the picture does not yet write its own.
    let mut shared: Vec<Vec<&str>> = Vec::new();
    for (i, g) in grooves.iter().enumerate() {
        let with: Vec<&str> = (0..grooves.len())
            .filter(|&j| &grooves[j] == g)
            .map(|j| styles[j].as_str())
            .collect();
        if with.len() > 1 && !shared.contains(&with) && with[0] == styles[i] {
            shared.push(with);
        }
    }
    for group in &shared {
        println!("  one groove: {}", group.join(", "));
    }
    // Styles: which Auto picks, and each style's texture forced on every picture.
    let mut chosen: Vec<(String, usize)> = Style::ALL
        .iter()
        .map(|s| (s.name().to_string(), 0))
        .collect();
    for (_, picture) in &set {
        let score = compose(picture, &settings, String::new());
        if let Some(c) = chosen.iter_mut().find(|c| c.0 == score.style) {
            c.1 += 1;
        }
    }
    println!();
    println!(
        "Auto style over {} pictures: {}",
        set.len(),
        chosen
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    harmony_table(&set, &settings);
    meter_table(&set, &settings);
    println!("Texture signature, each style forced on every picture (medians):");
    println!(
        "  {:<10} {:>16} {:>18} {:>14} {:>14} {:>16}",
        "style",
        "harmony onsets/bar",
        "harmony length",
        "bass onsets/bar",
        "drum hits/bar",
        "melody notes/bar"
    );
    for style in Style::ALL {
        let forced = Settings {
            style: Some(style),
            ..settings
        };
        let scores: Vec<_> = set
            .iter()
            .map(|(_, p)| compose(p, &forced, String::new()))
            .collect();
        let sigs: Vec<[f32; 4]> = scores.iter().map(texture_signature).collect();
        let m = |k: usize| median(&sigs.iter().map(|s| s[k]).collect::<Vec<_>>());
        let busy: Vec<f32> = scores
            .iter()
            .filter_map(melody_measures)
            .map(|m| m.notes_per_bar)
            .collect();
        println!(
            "  {:<10} {:>16.1} {:>18.2} {:>14.1} {:>14.1} {:>16.1}",
            style.name(),
            m(0),
            m(1),
            m(2),
            m(3),
            median(&busy)
        );
    }
    // Loudness: 4 bars of each picture as the command line renders it (its proposed timbre and
    // space, 120 BPM, 48 kHz), integrated loudness and true peak (ITU-R BS.1770, ebur128).
    let mut louds = Vec::new();
    let mut peaks = Vec::new();
    for (_, picture) in &set {
        let four = Settings {
            bars: 4,
            ..settings
        };
        let mut score = compose(picture, &four, String::new());
        pixelody::pipeline::level(&mut score);
        let params = EngineParams::with_patch(&score.patch);
        let job = OfflineRender {
            sample_rate: 48_000.0,
            bpm: 120.0,
            samples: 8 * 48_000,
            block_size: 512,
        };
        let (l, r) = render_offline(&score, &params, &job);
        let mut meter =
            ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK)
                .expect("a loudness meter");
        let frames: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
        meter.add_frames_f32(&frames).expect("measuring");
        louds.push(meter.loudness_global().unwrap_or(f64::NEG_INFINITY) as f32);
        let tp = (0..2)
            .map(|c| meter.true_peak(c).unwrap_or(0.0))
            .fold(0.0, f64::max);
        peaks.push(20.0 * (tp.max(1e-9)).log10() as f32);
    }
    let finite: Vec<f32> = louds.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    println!();
    println!(
        "Loudness, 4 bars each at the picture's own timbre: median {:.1} LUFS, {:.1} to {:.1} \
         (spread {:.1} LU; target median -20 to -14, spread <= 6); true peak at most {:.1} dBFS \
         (target <= -1)",
        median(&finite),
        lo,
        hi,
        hi - lo,
        peaks.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    );
    let out = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("music-report");
    std::fs::create_dir_all(&out).expect("the report folder");
    let path = out.join("piano-rolls.png");
    sheet.save(&path).expect("writing the piano-roll sheet");
    println!("Piano rolls: {}", path.display());
}
