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

    let example =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/example.png")).unwrap();
    let cut = scratch("cut.png");
    std::fs::write(&cut, &example[..example.len() / 3]).unwrap();
    render_fails(&cut, "cut.png: the PNG data is damaged or incomplete");

    render_fails(
        &scratch("missing.png"),
        "missing.png: cannot read the file (no such file)",
    );
    render_fails(
        &std::env::temp_dir(),
        "cannot read the file (it is a folder, not a file)",
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
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/example.png"),
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
    let (code, _, stderr) = pixelody(&["render".as_ref(), "a.png".as_ref()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("pixelody: no output file given (-o OUT.wav)"),
        "{stderr}"
    );
    let (code, _, _) = pixelody(&["dance".as_ref()]);
    assert_eq!(code, 2);
}
