//! Project tasks. `cargo xtask bundle pixelody --release` (nice-plug's bundler), plus:
//! - `cargo xtask demo [--no-install]`: bundle, install into ~/.clap and ~/.vst3, render the
//!   bundled example picture to out/example.wav.
//! - `cargo xtask test`: everything CI runs, installing what the tests need.
//! - `cargo xtask bench`: the benchmarks; they print figures and assert nothing.
//! - `cargo xtask music-report [DIR]`: how the melodies move over a generated picture set (or
//!   the pictures in DIR), with a sheet of piano rolls (target/music-report/piano-rolls.png).
//! - `cargo xtask vendor-check`: the vendored crates are their crates.io releases plus
//!   vendor/patches/*.patch (also part of `test`).
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
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd
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

/// The cargo profile `cargo xtask test` builds with (Cargo.toml says why).
const PROFILE: &str = "ci";

/// What every build selects: the whole workspace but this tool. Cargo resolves a dependency's
/// features over the packages a build selects, and the command line's `clap` derive turns on
/// `syn`'s "full" feature, which rebuilds `serde_derive` and so everything that uses serde: a
/// build of the plug-in alone (`-p pixelody`) and one of the workspace shared almost nothing.
const WORKSPACE: &[&str] = &["--workspace", "--exclude", "xtask"];

/// The feature every build of `cargo xtask test` has: nice-plug's real-time allocation guard.
const GUARD: &str = "pixelody/assert_process_allocs";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Bundles the plugin (CLAP and VST3) into target/bundled, built with `profile` (e.g.
/// ["--release"]).
fn bundle(profile: &[&str]) -> Result<()> {
    nice_plug_xtask::chdir_workspace_root().map_err(|e| e.to_string())?;
    let args = ["bundle", "pixelody"]
        .iter()
        .chain(profile)
        .map(|a| a.to_string());
    nice_plug_xtask::main_with_args("cargo xtask", args)
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
    // (The whole workspace in one build: the plug-in, the command line and what they share.)
    bundle(&[&["--release"][..], WORKSPACE].concat())?;
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
    run(Command::new(target_dir().join("release/pixelody"))
        .current_dir(root())
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
const PIP_PACKAGES: &[&str] = &[
    "dawdreamer==0.9.0",
    "numpy",
    "pytest",
    "pytest-xdist",
    "python-xlib",
];

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
    // Each stage's wall time and the CPU time its commands used, printed at the end (and when a
    // stage fails), so the slow ones are the first looked at; the CPU time tells more work from
    // a slower minute of a shared machine.
    let started = std::time::Instant::now();
    let mut times = Times::new();
    let result = test_stages(&mut times);
    let stages: Vec<String> = times
        .iter()
        .map(|(name, d, cpu)| match cpu {
            Some(cpu) => format!("{name} {} s ({cpu:.0} s CPU)", d.as_secs()),
            None => format!("{name} {} s", d.as_secs()),
        })
        .collect();
    println!(
        "xtask test stage times: {} (total {} s)",
        stages.join(", "),
        started.elapsed().as_secs()
    );
    result
}

/// Each stage's name, wall time and the CPU time its commands used (where the system says).
type Times = Vec<(&'static str, std::time::Duration, Option<f64>)>;

/// The CPU seconds (user and system) used by this process's children that have been waited for,
/// theirs included, from `/proc/self/stat` (Linux; `None` elsewhere).
fn children_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces) start at
    // the third, the state; cutime and cstime are the 16th and 17th, in 1/100 s (Linux's USER_HZ).
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = |i: usize| fields.get(i - 3)?.parse::<f64>().ok();
    Some((ticks(16)? + ticks(17)?) / 100.0)
}

/// The CPU time used by the children waited for while `f` ran.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = children_cpu_s();
    let result = f();
    let cpu = children_cpu_s()
        .zip(before)
        .map(|(after, before)| after - before);
    (result, cpu)
}

/// A command running beside the stages that follow it; killed if they fail first.
struct Beside {
    name: &'static str,
    child: std::process::Child,
    started: std::time::Instant,
}

impl Beside {
    fn start(name: &'static str, cmd: &mut Command) -> Result<Beside> {
        eprintln!("$ {cmd:?} (beside the next stages)");
        if cmd.get_current_dir().is_none() {
            cmd.current_dir(root());
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
        Ok(Beside {
            name,
            child,
            started: std::time::Instant::now(),
        })
    }

    /// Waits for it; its time from its start is recorded as stage `name`.
    fn finish(mut self, times: &mut Times) -> Result<()> {
        let (status, cpu) = measured(|| self.child.wait().map_err(|e| e.to_string()));
        times.push((self.name, self.started.elapsed(), cpu));
        match status? {
            s if s.success() => Ok(()),
            s => Err(format!("{} failed ({s})", self.name)),
        }
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        // (After `finish` it has exited: these do nothing.)
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` as the stage `name`, adding its times to `times`.
fn stage<T>(times: &mut Times, name: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = std::time::Instant::now();
    let (result, cpu) = measured(f);
    times.push((name, start.elapsed(), cpu));
    result
}

fn test_stages(times: &mut Times) -> Result<()> {
    // The code standards are part of the test: formatted and the vendored crates exactly their
    // releases plus their patches, checked first so a slip fails in seconds; clippy-clean with
    // warnings denied, checked beside the Python suites at the end (they mostly wait on the X
    // server, the editor and the DAWs: its checking of every target, 220 s of two cores' time,
    // is mostly hidden behind them).
    stage(times, "fmt", || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    stage(times, "vendor check", vendor_check)?;
    // The Python suites' venv (DawDreamer from PyPI) is made beside the build: it mostly waits on
    // the network.
    let venv = std::thread::spawn(python_env);
    // Everything is built once, in the `ci` profile (see Cargo.toml), with nice-plug's allocation
    // guard (`assert_process_allocs`): a `process()` call that allocates or frees aborts its
    // host, so every host test below (CLAP, DawDreamer's VST3, Ardour) checks it too, and the
    // plug-in library compiles once for the bundles, the command line and the tests. One cargo
    // command builds the library, the command line and every test at once, so the library and
    // its unit tests (the two largest units) compile side by side. The library is also kept
    // aside for the real-time test, which loads it by that path. (Each build selects the whole
    // workspace, `WORKSPACE`, with the same features, so that all of them resolve alike.)
    let test = || {
        let mut cmd = cargo();
        // (Not xtask itself: it has no tests, and its own dependencies would be built again in
        // this profile for nothing.)
        cmd.args(["test", "--profile", PROFILE])
            .args(WORKSPACE)
            .args(["--features", GUARD]);
        cmd
    };
    stage(times, "build", || run(test().arg("--no-run")))?;
    stage(times, "bundles", || {
        bundle(
            &[
                &["--profile", PROFILE][..],
                WORKSPACE,
                &["--lib", "--features", GUARD],
            ]
            .concat(),
        )
    })?;
    let built = target_dir().join(PROFILE);
    let guarded = target_dir().join("alloc-check");
    std::fs::create_dir_all(&guarded).map_err(|e| e.to_string())?;
    std::fs::copy(built.join("libpixelody.so"), guarded.join("libpixelody.so"))
        .map_err(|e| format!("keeping the guarded library: {e}"))?;
    let cli = built.join("pixelody");
    stage(
        times,
        "Rust tests",
        || run(test().env("PIXELODY_CLI", &cli)),
    )?;
    let python = stage(times, "Python venv (the rest of it)", || {
        venv.join()
            .map_err(|_| "making the Python venv panicked".to_string())?
    })?;
    // (In the `ci` profile, so its build scripts and procedural macros are the ones built above.)
    let clippy = Beside::start(
        "clippy (beside the Python suites)",
        cargo().args([
            "clippy",
            "--profile",
            PROFILE,
            "--all-targets",
            "--workspace",
            "--features",
            "pixelody/gallery",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The VST3 plug-in in DawDreamer (offline renders, the editor) and in Ardour, a real DAW, on
    // two pytest-xdist workers: the editor's tests mostly wait on its window and the X server
    // (one worker at a time used about half of the two cores), and each worker has its own
    // virtual screen and logs (tests/vst3/x11_helpers.py, tests/vst3/conftest.py).
    stage(times, "VST3 and Ardour tests (two workers)", || {
        run(Command::new(&python).env("PIXELODY_CLI", &cli).args([
            "-m",
            "pytest",
            "-q",
            "-n",
            "2",
            "tests/vst3",
            "tests/ardour",
        ]))
    })?;
    clippy.finish(times)
}

/// The crates.io crates Pixelody carries patched copies of: (folder under vendor/, crate,
/// version, SHA-256 of the crates.io `.crate` file). Each copy must be exactly that release with
/// `vendor/patches/<folder>.patch` applied (see each copy's PIXELODY.md for why).
const VENDORED: &[(&str, &str, &str, &str)] = &[
    (
        "baseview",
        "baseview",
        "0.4.2",
        "5d74c34d835411d7fcc30896cd37d28f0f6f11415ac116898546c6e019762a7d",
    ),
    (
        "egui-baseview",
        "egui-baseview",
        "0.9.0",
        "de6df8bd2f1c6b481ab6c029f741980d1a7b409053178fb9459053ae457828fe",
    ),
    (
        "nice-plug",
        "nice-plug",
        "0.4.2",
        "3f47be74bed3e8aa17bb055d4ff89af1fb016aa0d2756cd9b6c029a3743676a5",
    ),
];

/// Files a vendored copy leaves out of the release (lock file, packaging records, examples), or
/// adds (its notes); the comparison passes over them on both sides.
const NOT_COMPARED: &[&str] = &[
    "Cargo.lock",
    "Cargo.toml.orig",
    ".cargo_vcs_info.json",
    ".cargo-ok",
    "examples",
    "screenshot.png",
    "PIXELODY.md",
];

/// Where cargo keeps downloaded `.crate` files.
fn crate_cache() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("registry/cache")
}

/// The crates.io release `name-version.crate`, fetched through cargo (which verifies it) if it is
/// not in cargo's cache yet.
fn upstream_crate(name: &str, version: &str, scratch: &Path) -> Result<PathBuf> {
    let file = format!("{name}-{version}.crate");
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(crate_cache())
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join(&file))
            .find(|p| p.exists())
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    // A throw-away package outside the workspace (so our [patch] does not apply) that depends on
    // exactly this release; `cargo fetch` downloads it into the cache.
    let dir = scratch.join(format!("fetch-{name}"));
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{name} = {{ version = \"={version}\", default-features = false }}\n\n\
             [workspace]\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/lib.rs"), "").map_err(|e| e.to_string())?;
    run(cargo()
        .args(["fetch", "--manifest-path"])
        .arg(dir.join("Cargo.toml")))?;
    find().ok_or_else(|| format!("cargo fetched {name} {version} but {file} is not in its cache"))
}

/// Every file below `dir` (relative paths), leaving out NOT_COMPARED.
fn files(dir: &Path, below: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in
        std::fs::read_dir(dir.join(below)).map_err(|e| format!("{}: {e}", dir.display()))?
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if NOT_COMPARED.iter().any(|n| name == std::ffi::OsStr::new(n)) {
            continue;
        }
        let rel = below.join(&name);
        if entry.path().is_dir() {
            files(dir, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// Checks that each vendored crate is its crates.io release plus its patch file, byte for byte.
fn vendor_check() -> Result<()> {
    // Outside any git work tree: `git apply` inside one takes paths from the repository's top.
    let scratch =
        std::env::temp_dir().join(format!("pixelody-vendor-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for (folder, name, version, sha256) in VENDORED {
        let archive = upstream_crate(name, version, &scratch)?;
        let sum = Command::new("sha256sum")
            .arg(&archive)
            .output()
            .map_err(|e| format!("sha256sum: {e}"))?;
        let sum = String::from_utf8_lossy(&sum.stdout);
        if !sum.starts_with(sha256) {
            return Err(format!(
                "{} is not crates.io's {name} {version}",
                archive.display()
            ));
        }
        run(Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&scratch))?;
        let upstream = scratch.join(format!("{name}-{version}"));
        let patch = root()
            .join("vendor/patches")
            .join(format!("{folder}.patch"));
        run(Command::new("git")
            .env("GIT_CEILING_DIRECTORIES", &scratch)
            .args(["apply", "-p1", "--whitespace=nowarn"])
            .arg(&patch)
            .current_dir(&upstream))
        .map_err(|e| {
            format!(
                "{} does not apply to {name} {version}: {e}",
                patch.display()
            )
        })?;
        let vendored = root().join("vendor").join(folder);
        let (mut want, mut have) = (Vec::new(), Vec::new());
        files(&upstream, Path::new(""), &mut want)?;
        files(&vendored, Path::new(""), &mut have)?;
        want.sort();
        have.sort();
        for f in want.iter().filter(|f| !have.contains(f)) {
            problems.push(format!(
                "vendor/{folder}/{}: missing (in the release + patch)",
                f.display()
            ));
        }
        for f in have.iter().filter(|f| !want.contains(f)) {
            problems.push(format!(
                "vendor/{folder}/{}: not in the release + patch",
                f.display()
            ));
        }
        for f in want.iter().filter(|f| have.contains(f)) {
            let a = std::fs::read(upstream.join(f)).map_err(|e| e.to_string())?;
            let b = std::fs::read(vendored.join(f)).map_err(|e| e.to_string())?;
            if a != b {
                problems.push(format!(
                    "vendor/{folder}/{}: differs from the release + patch",
                    f.display()
                ));
            }
        }
        println!(
            "vendor/{folder}: {name} {version} + vendor/patches/{folder}.patch, {} files checked",
            have.len()
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the vendored crates are not their releases plus their patches:\n  {}\n\
             (a change to a vendored crate goes into its patch: see vendor/patches/README.md)",
            problems.join("\n  ")
        ))
    }
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
        Some("vendor-check") => vendor_check(),
        Some("bench") => run(cargo().args(["bench", "-p", "pixelody"])),
        Some("music-report") => run(cargo()
            .args([
                "run",
                "--release",
                "-q",
                "-p",
                "pixelody",
                "--example",
                "music_report",
                "--features",
                "gallery",
                "--",
            ])
            .args(&args[1..])),
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
