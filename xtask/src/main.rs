//! Project tasks. `cargo xtask bundle pixelody --release` (nice-plug's bundler), plus:
//! - `cargo xtask demo [--no-install]`: bundle, install into ~/.clap and ~/.vst3, render the
//!   bundled example picture to out/example.wav.
//! - `cargo xtask test`: everything CI runs, installing what the tests need.
//! - `cargo xtask bench`: the benchmarks; they print figures and assert nothing.
//! - `cargo xtask fuzz [picture|state] [seconds]`: a cargo-fuzz target (default picture, 600 s).

use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| String::from("cargo")))
}

fn bundle() -> Result<()> {
    nice_plug_xtask::chdir_workspace_root().map_err(|e| e.to_string())?;
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "pixelody", "--release"].map(String::from),
    )
    .map_err(|e| format!("bundling failed: {e:#}"))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

fn demo(install: bool) -> Result<()> {
    bundle()?;
    let bundled = root().join("target/bundled");
    if install {
        let home = PathBuf::from(std::env::var_os("HOME").ok_or("HOME is not set")?);
        let clap_dir = home.join(".clap");
        std::fs::create_dir_all(&clap_dir).map_err(|e| e.to_string())?;
        std::fs::copy(
            bundled.join("Pixelody.clap"),
            clap_dir.join("Pixelody.clap"),
        )
        .map_err(|e| format!("installing the CLAP plugin: {e}"))?;
        let vst3 = home.join(".vst3/Pixelody.vst3");
        let _ = std::fs::remove_dir_all(&vst3);
        copy_dir(&bundled.join("Pixelody.vst3"), &vst3)?;
        println!(
            "Installed {} and {}",
            clap_dir.join("Pixelody.clap").display(),
            vst3.display()
        );
    } else {
        println!(
            "Not installing (--no-install); the bundles are in {}",
            bundled.display()
        );
    }
    let out = root().join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    run(cargo()
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "pixelody-cli",
            "--bin",
            "pixelody",
            "--",
        ])
        .args([
            "render",
            "plugin/assets/example.png",
            "-o",
            "out/example.wav",
            "--loops",
            "2",
        ]))?;
    println!("Listen: {}", out.join("example.wav").display());
    Ok(())
}

/// What the VST3 tests need from PyPI. DawDreamer's wheel links only libc and zlib, so no Debian
/// package is needed on a fresh machine for offline rendering.
const PIP_PACKAGES: &[&str] = &["dawdreamer==0.9.0", "numpy", "pytest", "python-xlib"];

fn python_env() -> Result<PathBuf> {
    let venv = root().join(".venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let stamp = venv.join(".pixelody-requirements");
    let wanted = PIP_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(PIP_PACKAGES))?;
        std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    }
    Ok(python)
}

fn test() -> Result<()> {
    // The code standards are part of the test, and checked first so a slip fails in seconds:
    // formatted, and clippy-clean with warnings denied.
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--all-targets",
        "--workspace",
        "--",
        "-D",
        "warnings",
    ]))?;
    // One release build serves the bundles, the CLI, the unit tests and the host tests.
    bundle()?;
    // The real-time check needs debug assertions: a separate debug build of the plugin library
    // with nice-plug's allocation guard, loaded by the CLAP host test.
    run(cargo().args([
        "build",
        "-p",
        "pixelody",
        "--lib",
        "--features",
        "assert_process_allocs",
    ]))?;
    run(cargo().args(["test", "--release", "--workspace"]))?;
    let python = python_env()?;
    // The VST3 plug-in in DawDreamer (offline renders, the editor) and in Ardour, a real DAW.
    run(Command::new(python).args(["-m", "pytest", "-q", "tests/vst3", "tests/ardour"]))?;
    Ok(())
}

/// Runs a cargo-fuzz target (`picture` or `state`) for `seconds`, seeded with the committed
/// fixture pictures and project state. cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets
/// the stable toolchain provide them.
fn fuzz(target: &str, seconds: &str) -> Result<()> {
    if Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
    let seeds: Vec<PathBuf> = match target {
        "picture" => std::fs::read_dir(root().join("plugin/tests/pictures"))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .chain([root().join("plugin/assets/example.png")])
            .collect(),
        _ => Vec::new(),
    };
    for seed in seeds {
        if let Some(name) = seed.file_name() {
            let _ = std::fs::copy(&seed, corpus.join(name));
        }
    }
    run(cargo()
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--fuzz-dir", "fuzz", "-O", target])
        .arg(&corpus)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
        ]))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(!args.iter().any(|a| a == "--no-install")),
        Some("test") => test(),
        Some("bench") => run(cargo().args(["bench", "-p", "pixelody"])),
        Some("fuzz") => fuzz(
            args.get(1).map_or("picture", String::as_str),
            args.get(2).map_or("600", String::as_str),
        ),
        _ => nice_plug_xtask::main().map_err(|e| format!("{e:#}")),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        std::process::exit(1);
    }
}
