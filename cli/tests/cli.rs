//! The `pixelody` command line with bad input: one line naming the file and the problem, a
//! non-zero exit code, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

fn pixelody(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pixelody"))
        .args(args)
        .output()
        .expect("running pixelody");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pixelody-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn render_fails(input: &Path, why: &str) {
    let out = scratch("out.wav");
    let (code, stdout, stderr) = pixelody(&[
        "render".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 1, "{input:?}: {stderr}");
    assert!(stdout.is_empty());
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(line.starts_with("pixelody: "), "{line}");
    assert!(line.contains(why), "{input:?}: {line}");
    assert!(!line.contains("panicked"), "{line}");
}

#[test]
fn bad_inputs_get_one_clear_line() {
    let text = scratch("notes.png");
    std::fs::write(&text, "shopping list: eggs").unwrap();
    render_fails(&text, "notes.png: this is not a picture Pixelody can read");

    let empty = scratch("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    render_fails(&empty, "empty.jpg: the file is empty");

    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugin/assets/example.png"
    ))
    .unwrap();
    let cut = scratch("cut.png");
    std::fs::write(&cut, &example[..example.len() / 3]).unwrap();
    render_fails(&cut, "cut.png: the PNG data is damaged or incomplete");

    render_fails(
        &scratch("missing.png"),
        "missing.png: cannot read the file (no such file)",
    );
    let empty = scratch("empty-folder");
    std::fs::create_dir_all(&empty).unwrap();
    render_fails(
        &empty,
        "empty-folder: the folder has no pictures Pixelody can read (it reads PNG, JPEG, GIF, WebP, \
         BMP or TIFF)",
    );
    // A path through a file, as if the file were a folder.
    render_fails(&text.join("inside.png"), "inside.png: cannot read the file");
    let long = scratch(&"x".repeat(300));
    render_fails(&long, "cannot read the file");
    // A file that exists but cannot be read (tests may run as root, where permissions do not
    // stop reads; reading this one fails with an I/O error for everyone).
    #[cfg(target_os = "linux")]
    render_fails(
        Path::new("/proc/self/mem"),
        "/proc/self/mem: cannot read the file",
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_work_and_are_named() {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.png");
    let path = scratch("x").with_file_name(name);
    std::fs::write(&path, "not a picture").unwrap();
    render_fails(&path, "caf\u{FFFD}.png: this is not a picture");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin/assets/example.png"),
        &path,
    )
    .unwrap();
    let out = scratch("caf\u{e9}.wav");
    let (code, stdout, stderr) = pixelody(&[
        "render".as_ref(),
        path.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Rendered caf\u{FFFD}.png (96 x 64)"),
        "{stdout}"
    );
}

#[test]
fn usage_mistakes_exit_2_with_the_reason() {
    let (code, stdout, stderr) = pixelody(&["render".as_ref(), "a.png".as_ref()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("--output"), "{stderr}");
    let (code, _, stderr) = pixelody(&["dance".as_ref()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unrecognized subcommand 'dance'"),
        "{stderr}"
    );
    let (code, _, stderr) = pixelody(&[
        "render".as_ref(),
        "a.png".as_ref(),
        "-o".as_ref(),
        "o.wav".as_ref(),
        "--bars".as_ref(),
        "17".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--bars"), "{stderr}");
    let (code, _, stderr) = pixelody(&[
        "render".as_ref(),
        "a.png".as_ref(),
        "-o".as_ref(),
        "o.wav".as_ref(),
        "--low".as_ref(),
        "80".as_ref(),
        "--high".as_ref(),
        "84".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        "pixelody: --high (84) must be at least 7 above --low (80)"
    );
}

#[test]
fn help_and_version_work_as_in_other_commands() {
    for flag in ["--help", "-h", "help"] {
        let (code, stdout, _) = pixelody(&[flag.as_ref()]);
        assert_eq!(code, 0, "{flag}");
        assert!(
            stdout.contains("render") && stdout.contains("info"),
            "{flag}: {stdout}"
        );
    }
    let (code, stdout, _) = pixelody(&["render".as_ref(), "--help".as_ref()]);
    assert_eq!(code, 0);
    for option in [
        "--output",
        "--bpm",
        "--key",
        "--scale",
        "--timbre",
        "--midi",
        "--block-size",
    ] {
        assert!(
            stdout.contains(option),
            "render --help lacks {option}: {stdout}"
        );
    }
    let (code, stdout, _) = pixelody(&["--version".as_ref()]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("pixelody {}", env!("CARGO_PKG_VERSION"))
    );
    // No command at all: the usage, as an error.
    let (code, _, stderr) = pixelody(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Usage"), "{stderr}");
}

#[test]
fn info_says_what_the_picture_shows() {
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugin/tests/content/astronaut.jpg"
    );
    let (code, stdout, stderr) = pixelody(&["info".as_ref(), photo.as_ref()]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Sees: "))
        .unwrap_or("");
    assert!(
        line.starts_with("Sees: a face, happy (0.9") && line.contains("a person (0.8"),
        "{stdout}"
    );
    let (code, stdout, _) = pixelody(&["info".as_ref(), photo.as_ref(), "--json".as_ref()]);
    assert_eq!(code, 0);
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let face = &info["content"]["seen"][0];
    assert_eq!(face["name"], "face, happy");
    assert_eq!(face["counts"], true);
    // Her face, in the upper middle of the portrait.
    let place: Vec<f64> = face["place"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        place[0] > 0.25 && place[2] < 0.65 && place[1] > 0.05 && place[3] < 0.45,
        "{place:?}"
    );
    // A picture of nothing it knows says so.
    let forest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugin/tests/content/forest.jpg"
    );
    let (_, stdout, _) = pixelody(&["info".as_ref(), forest.as_ref()]);
    assert!(stdout.contains("Sees: nothing it knows\n"), "{stdout}");
}

#[test]
fn info_says_what_pixelody_reads_in_a_picture() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin/assets/example.png");
    let (code, stdout, stderr) = pixelody(&["info".as_ref(), example.as_ref()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("example.png (96 x 64"), "{stdout}");
    assert!(
        stdout.contains("Key ") && stdout.contains("Proposed timbre"),
        "{stdout}"
    );
    let (code, stdout, _) = pixelody(&["info".as_ref(), example.as_ref(), "--json".as_ref()]);
    assert_eq!(code, 0);
    let info: serde_json::Value = serde_json::from_str(&stdout).expect("info --json is JSON");
    // The same key, scale and timbre the renderer's score carries.
    let out = scratch("info.wav");
    let json = scratch("info.json");
    let (code, _, _) = pixelody(&[
        "render".as_ref(),
        example.as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert_eq!(code, 0);
    let score: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let tonality = format!(
        "{} {}",
        info["music"]["key"].as_str().unwrap(),
        info["music"]["scale"].as_str().unwrap()
    );
    assert_eq!(score["tonality"].as_str().unwrap(), tonality);
    assert_eq!(
        score["patch"]["cutoff_hz"],
        info["proposed_timbre"]["cutoff_hz"]
    );
    assert_eq!(info["features"]["bars"].as_array().unwrap().len(), 2);
    // A picture it cannot read: one line, exit 1, as render.
    let text = scratch("words.png");
    std::fs::write(&text, "words").unwrap();
    let (code, _, stderr) = pixelody(&["info".as_ref(), text.as_os_str()]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("pixelody: ") && stderr.contains("words.png: this is not a picture"),
        "{stderr}"
    );
}

fn png(path: &Path, rgb: [u8; 3]) {
    image::RgbImage::from_pixel(48, 32, image::Rgb(rgb))
        .save(path)
        .unwrap();
}

fn score_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn several_pictures_render_as_one_piece_in_sections_and_a_bad_one_is_skipped_by_name() {
    let (a, b, bad, c) = (
        scratch("walk-a.png"),
        scratch("walk-b.png"),
        scratch("walk-notes.txt"),
        scratch("walk-c.png"),
    );
    png(&a, [200, 60, 40]);
    png(&b, [40, 90, 200]);
    png(&c, [230, 220, 90]);
    std::fs::write(&bad, "not a picture").unwrap();
    let (out, json) = (scratch("walk.wav"), scratch("walk.json"));
    let args: Vec<&std::ffi::OsStr> = vec![
        "render".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        bad.as_os_str(),
        c.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--section-bars".as_ref(),
        "4".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
    ];
    let (code, stdout, stderr) = pixelody(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("12 bars in 3 sections"), "{stdout}");
    assert_eq!(
        stderr.trim(),
        "pixelody: skipped walk-notes.txt: this is not a picture Pixelody can read (it reads \
         PNG, JPEG, GIF, WebP, BMP or TIFF)"
    );
    let score = score_json(&json);
    assert_eq!(score["length_beats"], 48.0);
    let sections = score["sections"].as_array().unwrap();
    let sources: Vec<&str> = sections
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            "walk-a.png (48 x 32)",
            "walk-b.png (48 x 32)",
            "walk-c.png (48 x 32)"
        ]
    );
    // The WAV is the whole piece, 12 bars at 120 BPM, then its tail (at most 10 s).
    let wav = hound::WavReader::open(&out).unwrap();
    assert!((24 * 48_000..=34 * 48_000).contains(&wav.duration()));

    // A folder of the same pictures (and a file that is not one) is the same piece, in name
    // order, as a drop on the editor reads it.
    let folder = scratch("walk-folder");
    std::fs::create_dir_all(&folder).unwrap();
    for (from, to) in [(&c, "3.png"), (&a, "1.png"), (&b, "2.png")] {
        std::fs::copy(from, folder.join(to)).unwrap();
    }
    std::fs::write(folder.join("notes.txt"), "not a picture").unwrap();
    let (listed, from_folder) = (scratch("listed.wav"), scratch("folder.wav"));
    let render = |inputs: Vec<&std::ffi::OsStr>, out: &Path| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["render".as_ref()];
        args.extend(inputs);
        args.extend(["-o".as_ref(), out.as_os_str()]);
        let (code, stdout, stderr) = pixelody(&args);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("in 3 sections"), "{stdout}");
    };
    let (one, two, three) = (
        folder.join("1.png"),
        folder.join("2.png"),
        folder.join("3.png"),
    );
    render(
        vec![one.as_os_str(), two.as_os_str(), three.as_os_str()],
        &listed,
    );
    render(vec![folder.as_os_str()], &from_folder);
    let samples = |p: &Path| -> Vec<f32> {
        hound::WavReader::open(p)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(samples(&listed), samples(&from_folder));
}

/// A WAV file's interleaved stereo samples.
fn wav_samples(path: &Path) -> Vec<f32> {
    hound::WavReader::open(path)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_render_rings_out_to_silence_or_loops_without_a_click() {
    let dir = scratch("tail");
    std::fs::create_dir_all(&dir).unwrap();
    let picture = dir.join("sunset.png");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin/assets/example.png"),
        &picture,
    )
    .unwrap();
    let render = |name: &str, extra: &[&str]| -> (Vec<f32>, String) {
        let out = dir.join(name);
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "render".as_ref(),
            picture.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        let (code, stdout, stderr) = pixelody(&args);
        assert_eq!(code, 0, "{stderr}");
        (wav_samples(&out), stdout)
    };
    let loop_len = 2 * 4 * 48_000 / 2 * 2; // 2 bars of 4/4 at 120 BPM, stereo samples
                                           // --tail 0: exactly the loop, ending wherever the music is (a click).
    let (bare, _) = render("bare.wav", &["--tail", "0"]);
    assert_eq!(bare.len(), loop_len);
    // By default the sound rings out after the loop and the file ends in silence (-90 dBFS).
    let (rung, said) = render("rung.wav", &[]);
    assert!(rung.len() > loop_len && rung.len() <= loop_len + 10 * 48_000 * 2);
    assert_eq!(&rung[..loop_len], &bare[..], "the loop itself is the same");
    let floor = 10f32.powf(-90.0 / 20.0);
    let end = &rung[rung.len() - 2 * 480..];
    assert!(end.iter().all(|v| v.abs() < floor * 4.0), "it ends silent");
    assert!(said.contains("s tail"), "{said}");
    // --tail 1.5: exactly a second and a half more.
    let (timed, _) = render("timed.wav", &["--tail", "1.5"]);
    assert_eq!(timed.len(), loop_len + 72_000 * 2);
    // --loop-seamless: the loop's length, its tail on its start (sample for sample the bare loop
    // plus what rang on after it); the file's last sample runs into its first as any two
    // neighbours do (no jump).
    let (seamless, said) = render("seamless.wav", &["--loop-seamless"]);
    assert_eq!(seamless.len(), loop_len);
    assert!(said.contains("seamless"), "{said}");
    let steps = |s: &[f32]| -> f32 {
        s.chunks(2)
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).abs())
            .fold(0.0, f32::max)
    };
    let wrap = |s: &[f32]| (s[0] - s[s.len() - 2]).abs();
    assert!(
        wrap(&seamless) <= steps(&seamless),
        "{} > {}",
        wrap(&seamless),
        steps(&seamless)
    );
    for (k, (a, b)) in seamless.iter().zip(&bare).enumerate() {
        let t = rung.get(loop_len + k).copied().unwrap_or(0.0);
        assert!((a - (b + t)).abs() < 1e-6, "sample {k}");
        if k > 40_000 {
            break;
        }
    }
    let (code, _, stderr) = pixelody(&[
        "render".as_ref(),
        picture.as_os_str(),
        "-o".as_ref(),
        dir.join("x.wav").as_os_str(),
        "--tail".as_ref(),
        "11".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("must be a number from 0 to 10"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_animated_gif_renders_a_section_per_frame() {
    let gif = scratch("anim.gif");
    {
        let mut e = image::codecs::gif::GifEncoder::new(std::fs::File::create(&gif).unwrap());
        for v in [20u8, 120, 240] {
            let frame = image::RgbaImage::from_pixel(40, 30, image::Rgba([v, 255 - v, v / 2, 255]));
            e.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    let (out, json) = (scratch("anim.wav"), scratch("anim.json"));
    let (code, stdout, stderr) = pixelody(&[
        "render".as_ref(),
        gif.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Rendered anim.gif (40 x 30), 3 of 3 frames"),
        "{stdout}"
    );
    let score = score_json(&json);
    let sources: Vec<&str> = score["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            "anim.gif, frame 1 of 3",
            "anim.gif, frame 2 of 3",
            "anim.gif, frame 3 of 3"
        ]
    );
    // `info` says what the animation makes: its frames as the piece's sections, each in the key
    // and style it plays in, then its first frame's reading.
    let (code, stdout, stderr) = pixelody(&["info".as_ref(), gif.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("anim.gif (40 x 30), 3 of 3 frames: a piece of 3 sections"),
        "{stdout}"
    );
    for (k, section) in sources.iter().enumerate() {
        let tonality = score["sections"][k]["tonality"].as_str().unwrap();
        let line = format!("{}. bar {} {section} - {tonality}", k + 1, 2 * k + 1);
        assert!(stdout.contains(&line), "{line} in {stdout}");
    }
    assert!(
        stdout.contains("The first section, read alone:\nanim.gif, frame 1 of 3"),
        "{stdout}"
    );
    let (_, json_out, _) = pixelody(&["info".as_ref(), gif.as_os_str(), "--json".as_ref()]);
    let info: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(info["piece"]["sections"].as_array().unwrap().len(), 3);
}

/// The long options a subcommand's `--help` lists (with their aliases), `--help` and `--version`
/// aside.
fn options_of(subcommand: &str) -> Vec<String> {
    let (code, help, _) = pixelody(&[subcommand.as_ref(), "--help".as_ref()]);
    assert_eq!(code, 0);
    let mut options = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        let flag = line.strip_prefix("-o, ").unwrap_or(line);
        if let Some(name) = flag.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            options.push(format!("--{name}"));
        }
        if let Some((_, alias)) = line.split_once("[alias: ") {
            options.push(alias.trim_end_matches(']').to_string());
        }
    }
    options.retain(|o| o != "--help" && o != "--version");
    options
}

/// Every option of `render` and `info` has its row in the README's command-line table, and every
/// option that table names exists.
#[test]
fn every_option_is_in_the_readmes_table() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## The command line")
        .nth(1)
        .expect("a command-line section")
        .split("\n## ")
        .next()
        .unwrap();
    let table: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    let first_column = |row: &str| row.split('|').nth(1).unwrap_or("").to_string();
    let mut documented = Vec::new();
    for row in &table {
        for span in first_column(row).split('`').filter(|o| o.starts_with('-')) {
            for option in span.split(", ") {
                documented.push(option.split(' ').next().unwrap().to_string());
            }
        }
    }
    let mut seen = Vec::new();
    for sub in ["render", "info"] {
        let options = options_of(sub);
        assert!(options.len() >= 3, "{sub}: {options:?}");
        for option in options {
            assert!(
                documented.contains(&option),
                "{sub} {option} is not in the README's table"
            );
            seen.push(option);
        }
    }
    for option in documented.iter().filter(|o| o.starts_with("--")) {
        assert!(
            seen.contains(option),
            "the README names {option}, which the command line does not have"
        );
    }
}
