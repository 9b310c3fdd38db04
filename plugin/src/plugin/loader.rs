//! Loading a picture the musician chose, on a thread of its own: the editor never waits, the
//! audio thread keeps playing the previous score, and a load overtaken by a newer one is
//! abandoned instead of published.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::handover::ScoreSlot;
use super::sync::lock;
use crate::plugin::composition::CompositionSlot;
use crate::score::Patch;

/// Files larger than this are refused before reading (the biggest picture the decoder accepts,
/// 100 megapixels, is far smaller as any common format).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

pub use crate::pipeline::{looks_like_picture, PICTURE_EXTENSIONS};

/// What the editor shows about loading.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadStatus {
    Idle,
    /// `name` is being read, decoded and composed since `since`.
    Working {
        name: String,
        since: Instant,
    },
    /// The last load worked; `skipped` names the files that could not be used, with why.
    Loaded {
        name: String,
        skipped: Vec<String>,
    },
    /// The last load failed; the previous picture keeps playing.
    Failed {
        message: String,
    },
}

/// Shared by the editor (which asks for loads) and the load threads.
pub struct Loader {
    /// The number of the newest load asked for; older loads give up when they see it change.
    latest: AtomicU64,
    /// Load threads still running, superseded ones included.
    running: AtomicUsize,
    status: Mutex<LoadStatus>,
    /// The timbre the newest loaded picture proposes, until the editor applies it.
    proposal: Mutex<Option<Patch>>,
    /// Wakes an open editor when the status changes.
    pub wake: super::sync::Wake,
}

impl Default for Loader {
    fn default() -> Self {
        Loader {
            latest: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            status: Mutex::new(LoadStatus::Idle),
            proposal: Mutex::new(None),
            wake: Default::default(),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// Where a picture comes from: a file, or one of the examples built into the plugin.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    File(PathBuf),
    Example(&'static str),
}

impl Source {
    /// How the musician knows it ("coffee.jpg", "Night city.png").
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => file_name(path),
            Source::Example(name) => super::examples::file_name(name),
        }
    }

    fn bytes(self) -> Result<Vec<u8>, String> {
        match self {
            Source::File(path) => read_picture_file(&path),
            Source::Example(name) => super::examples::png(name)
                .ok_or_else(|| format!("{name}: there is no such example")),
        }
    }
}

/// Reads a file the musician chose, with the reasons it can fail in their words.
pub fn read_picture_file(path: &Path) -> Result<Vec<u8>, String> {
    let name = file_name(path);
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{name}: the file is not there any more"),
        std::io::ErrorKind::PermissionDenied => format!("{name}: no permission to read it"),
        _ => format!("{name}: cannot be read ({e})"),
    })?;
    if meta.is_dir() {
        return Err(format!("{name} is a folder, not a picture"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{name} is {} MB, too large for a picture (the limit is {} MB)",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        ));
    }
    std::fs::read(path).map_err(|e| format!("{name}: cannot be read ({e})"))
}

impl Loader {
    pub fn status(&self) -> LoadStatus {
        lock(&self.status).clone()
    }

    fn set_status(&self, status: LoadStatus) {
        *lock(&self.status) = status;
        self.wake.wake();
    }

    /// Shows a message without loading anything (a refused drop).
    pub fn refuse(&self, message: String) {
        nice_plug::nice_warn!("{message}");
        self.set_status(LoadStatus::Failed { message });
    }

    pub fn take_proposal(&self) -> Option<Patch> {
        lock(&self.proposal).take()
    }

    /// Starts loading `sources` (one picture, or several: a piece) on a new thread and returns at
    /// once; with `add` they become sections after the ones the piece has. Any load still running
    /// is superseded: it finishes its current step and then gives up without publishing.
    pub fn load(
        self: &Arc<Self>,
        sources: Vec<Source>,
        add: bool,
        composition: Arc<CompositionSlot>,
        scores: Arc<ScoreSlot>,
        settings: crate::compose::Settings,
    ) {
        let ticket = self.latest.fetch_add(1, Ordering::AcqRel) + 1;
        let name = match sources.as_slice() {
            [one] => one.name(),
            many => format!("{} pictures", many.len()),
        };
        self.set_status(LoadStatus::Working {
            name: name.clone(),
            since: Instant::now(),
        });
        let loader = self.clone();
        let shown = name.clone();
        self.running.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name(String::from("pixelody-load"))
            .spawn(move || {
                loader.run(ticket, sources, add, &name, &composition, &scores, settings);
                loader.running.fetch_sub(1, Ordering::AcqRel);
            });
        if let Err(e) = spawned {
            self.running.fetch_sub(1, Ordering::AcqRel);
            self.refuse(format!("{shown}: could not start loading ({e})"));
        }
    }

    /// Rearranges the piece's sections into `order` (see `CompositionSlot::rearrange`) on a new
    /// thread, as a load does: the music follows when it is composed.
    pub fn rearrange(
        self: &Arc<Self>,
        order: Vec<usize>,
        composition: Arc<CompositionSlot>,
        scores: Arc<ScoreSlot>,
        settings: crate::compose::Settings,
    ) {
        let ticket = self.latest.fetch_add(1, Ordering::AcqRel) + 1;
        let loader = self.clone();
        self.running.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name(String::from("pixelody-rearrange"))
            .spawn(move || {
                let wanted = || loader.current(ticket);
                if let Some(score) = composition.rearrange(&order, settings, &scores, &wanted) {
                    nice_plug::nice_log!("Sections now: {}", score.source);
                }
                loader.running.fetch_sub(1, Ordering::AcqRel);
            });
        if let Err(e) = spawned {
            self.running.fetch_sub(1, Ordering::AcqRel);
            self.refuse(format!("Could not rearrange the sections ({e})"));
        }
    }

    /// How many load threads are still running, superseded ones included (they finish their
    /// current step before they notice).
    pub fn loads_running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    fn current(&self, ticket: u64) -> bool {
        self.latest.load(Ordering::Acquire) == ticket
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        ticket: u64,
        sources: Vec<Source>,
        add: bool,
        name: &str,
        composition: &CompositionSlot,
        scores: &ScoreSlot,
        settings: crate::compose::Settings,
    ) {
        let files = sources
            .into_iter()
            .map(|source| (source.name(), move || source.bytes()))
            .collect();
        let outcome = composition.load(files, add, settings, scores, &|| self.current(ticket));
        if !self.current(ticket) {
            return;
        }
        match outcome {
            Ok(Some((score, skipped))) => {
                nice_plug::nice_log!("Loaded {}", score.source);
                for why in &skipped {
                    nice_plug::nice_warn!("Skipped {why}");
                }
                *lock(&self.proposal) = Some(score.patch);
                let name = if score.sections.is_empty() {
                    name.to_string()
                } else {
                    score.source.clone()
                };
                self.set_status(LoadStatus::Loaded { name, skipped });
            }
            Ok(None) => {}
            Err(message) => self.refuse(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{example, EXAMPLE_PICTURE};
    use std::time::Duration;

    fn wait_idle(loader: &Loader) -> LoadStatus {
        for _ in 0..500 {
            match loader.status() {
                LoadStatus::Working { .. } => std::thread::sleep(Duration::from_millis(10)),
                s => return s,
            }
        }
        panic!("loading never finished");
    }

    fn slots() -> (
        Arc<CompositionSlot>,
        Arc<ScoreSlot>,
        crate::plugin::handover::AudioEnds,
    ) {
        let (c, s) = example();
        let (scores, audio) = ScoreSlot::new(s);
        (CompositionSlot::new(c), scores, audio)
    }

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pixelody-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_picture_loads_and_proposes_its_timbre() {
        let (composition, scores, _audio) = slots();
        let loader = Arc::new(Loader::default());
        let mut png = Vec::new();
        image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 200]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let path = temp("blue.png", &png);
        loader.load(
            vec![Source::File(path)],
            false,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        assert_eq!(
            wait_idle(&loader),
            LoadStatus::Loaded {
                name: String::from("blue.png"),
                skipped: Vec::new(),
            }
        );
        assert_eq!(scores.current().source, "blue.png (40 x 30)");
        assert_eq!(loader.take_proposal(), Some(scores.current().patch));
        assert_eq!(loader.take_proposal(), None, "applied once");
    }

    #[test]
    fn bad_files_say_why_and_keep_the_previous_score() {
        let (composition, scores, _audio) = slots();
        let before = scores.current();
        let loader = Arc::new(Loader::default());
        let dir = std::env::temp_dir();
        for (path, why) in [
            (
                temp("notes.txt", b"hello"),
                "notes.txt: this is not a picture",
            ),
            (
                temp("cut.png", &EXAMPLE_PICTURE[..EXAMPLE_PICTURE.len() / 2]),
                "cut.png: ",
            ),
            (dir.join("pixelody-no-such-file.png"), "not there any more"),
            (dir.clone(), "is a folder"),
        ] {
            loader.load(
                vec![Source::File(path)],
                false,
                composition.clone(),
                scores.clone(),
                Default::default(),
            );
            match wait_idle(&loader) {
                LoadStatus::Failed { message } => assert!(message.contains(why), "{message}"),
                s => panic!("{s:?}"),
            }
            assert_eq!(scores.current(), before);
        }
    }

    #[test]
    fn several_files_load_as_one_piece_and_the_bad_ones_are_named() {
        let (composition, scores, _audio) = slots();
        let loader = Arc::new(Loader::default());
        let png = |v: u8| {
            let mut out = Vec::new();
            image::RgbImage::from_pixel(30, 20, image::Rgb([v, 255 - v, 90]))
                .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
                .unwrap();
            out
        };
        let files = vec![
            Source::File(temp("walk-1.png", &png(30))),
            Source::File(temp("walk-2.txt", b"a shopping list")),
            Source::File(temp("walk-3.png", &png(220))),
            Source::Example("Night city"),
        ];
        loader.load(
            files,
            false,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        match wait_idle(&loader) {
            LoadStatus::Loaded { name, skipped } => {
                assert_eq!(name, "walk-1.png (30 x 20) + 2 more");
                assert_eq!(skipped.len(), 1);
                assert!(skipped[0].starts_with("walk-2.txt: this is not a picture"));
            }
            s => panic!("{s:?}"),
        }
        let score = scores.current();
        let sources: Vec<&str> = score.sections.iter().map(|s| s.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "walk-1.png (30 x 20)",
                "walk-3.png (30 x 20)",
                "Night city.png (96 x 64)"
            ]
        );
        assert_eq!(composition.current().sections.len(), 3);
        // More added after them: four sections, the new one last.
        loader.load(
            vec![Source::Example("Mondrian")],
            true,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        assert!(matches!(wait_idle(&loader), LoadStatus::Loaded { .. }));
        let added = scores.current();
        assert_eq!(added.sections.len(), 4);
        assert_eq!(added.sections[3].source, "Mondrian.png (96 x 64)");
        assert_eq!(added.sections[0].source, "walk-1.png (30 x 20)");
        assert_eq!(added.source, "walk-1.png (30 x 20) + 3 more");
        let score = added;
        // All bad: nothing changes, and every file is named.
        loader.load(
            vec![
                Source::File(temp("a.txt", b"x")),
                Source::File(temp("b.txt", b"y")),
            ],
            false,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        match wait_idle(&loader) {
            LoadStatus::Failed { message } => {
                assert!(
                    message.starts_with("a.txt: ") && message.contains("; b.txt: "),
                    "{message}"
                )
            }
            s => panic!("{s:?}"),
        }
        assert_eq!(scores.current(), score);
    }

    #[test]
    fn a_newer_load_supersedes_an_older_one() {
        let (composition, scores, _audio) = slots();
        let loader = Arc::new(Loader::default());
        let mut big = Vec::new();
        image::RgbImage::from_fn(3000, 2000, |x, y| image::Rgb([x as u8, y as u8, 9]))
            .write_to(&mut std::io::Cursor::new(&mut big), image::ImageFormat::Png)
            .unwrap();
        let slow = temp("slow.png", &big);
        let fast = temp("fast.png", EXAMPLE_PICTURE);
        loader.load(
            vec![Source::File(slow)],
            false,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        loader.load(
            vec![Source::File(fast)],
            false,
            composition.clone(),
            scores.clone(),
            Default::default(),
        );
        wait_idle(&loader);
        // Until the slow load has finished its decode and noticed it was overtaken.
        let deadline = Instant::now() + Duration::from_secs(60);
        while loader.loads_running() > 0 {
            assert!(Instant::now() < deadline, "a load thread never finished");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(scores.current().source, "fast.png (96 x 64)");
        assert_eq!(composition.current().source, "fast.png (96 x 64)");
        assert_eq!(
            scores.generation(),
            1,
            "the superseded load published nothing"
        );
    }
}
