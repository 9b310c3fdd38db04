//! The one path from files to a score, for the plug-in's loader, the command line and the
//! benches alike: **gather** (read and decode the files, one at a time), **compose** (the pictures
//! as one piece, `compose::piece`), **level** (render the first bars through the engine so every
//! picture plays about as loud, [`loudness`]). It sits above `compose` and `engine`, which know
//! nothing of each other.
//!
//! Gathering: each still picture is a section, each animation its frames (sampled evenly), and
//! more than [`MAX_SECTIONS`] in all are sampled evenly down to that. Files that cannot be used
//! are named with the reason and skipped; the others still make the piece. Files are read and
//! decoded one at a time, so only one file's bytes are held at once.

pub mod loudness;
#[cfg(test)]
mod spectral_roundtrip;

use std::path::{Path, PathBuf};

use crate::analysis::{self, evenly_spaced, Picture, PictureError};
use crate::compose::{self, piece::MAX_SECTIONS};
use crate::score::Score;

/// The extensions offered by the file browser and accepted on drop without a second look.
pub const PICTURE_EXTENSIONS: &[&str] =
    &["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"];

/// Whether `path` is named like a picture Pixelody reads.
pub fn looks_like_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICTURE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The pictures in `dir` (by their names, not in subfolders), sorted by name: a folder dropped on
/// the editor or given to the command line is these pictures as a piece. `None` when it is not a
/// folder.
pub fn pictures_in(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && looks_like_picture(p))
        .collect();
    found.sort();
    Some(found)
}

/// One picture file's bytes to its score: decode, compose, level. `name` is how the musician
/// knows the file; it is named in errors and in the score's source.
pub fn picture_to_score(
    bytes: &[u8],
    name: &str,
    settings: &compose::Settings,
) -> Result<Score, PictureError> {
    let picture = if settings.content {
        decode_and_look(bytes)
    } else {
        analysis::decode(bytes)
    }
    .map_err(|e| e.in_file(name))?;
    let source = compose::source_name(name, &picture);
    Ok(compose_sections(
        &[(&picture, source.clone())],
        settings,
        source,
    ))
}

/// What the picture in `bytes` shows (`content::see`, on the picture decoded at the models'
/// size): nothing when the models cannot run, and the music is then what it was without them.
pub fn content_of(bytes: &[u8]) -> crate::content::Content {
    analysis::read_for(bytes, crate::content::VIEW_SIDE)
        .map_err(|e| e.message)
        .and_then(|decoded| crate::content::see(&decoded.image))
        .unwrap_or_default()
}

/// The picture in `bytes`, decoded into its working copy, with what it shows: the models look at
/// the decode the working copy is made from where it serves them (`analysis::decode_viewed`).
pub fn decode_and_look(bytes: &[u8]) -> Result<Picture, PictureError> {
    let (mut picture, view) = analysis::decode_viewed(bytes, crate::content::VIEW_SIDE)?;
    picture.content = crate::content::see(&view.image).unwrap_or_default();
    Ok(picture)
}

/// Pictures (each with the name its section is known by) to the piece's score, levelled;
/// `source` names the piece. The plug-in's recomposing and loading both end here.
pub fn compose_sections(
    sections: &[(&Picture, String)],
    settings: &compose::Settings,
    source: String,
) -> Score {
    let mut score = compose::piece::compose_piece(sections, settings, source);
    level(&mut score);
    score
}

/// Sets the score's level so that it plays about as loud as any other (see [`loudness`]).
pub fn level(score: &mut Score) {
    score.level_db = loudness::trim(score);
}

/// The pictures gathered for a piece, each with the name its section is known by, and one line
/// for each file that was refused.
#[derive(Default)]
pub struct Gathered {
    pub sections: Vec<(Picture, String)>,
    pub refused: Vec<String>,
    /// Describes the piece's origin when it is one animation ("anim.gif (320 x 240), 16 of 300
    /// frames"); `None` otherwise.
    animation: Option<String>,
}

/// Reads `files` (each a name and a way to read its bytes, called when its turn comes), stopping
/// early when `wanted` says the work is no longer wanted.
pub fn gather<F>(files: Vec<(String, F)>, wanted: &dyn Fn() -> bool) -> Gathered
where
    F: FnOnce() -> Result<Vec<u8>, String>,
{
    let mut g = Gathered::default();
    let count = files.len();
    // More files than sections: only those an even sample keeps are read.
    let keep = evenly_spaced(count, MAX_SECTIONS);
    let files = files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, f)| f);
    for (name, read) in files {
        if !wanted() {
            break;
        }
        // (The piece's first picture is also looked at for what it shows: its style, meter and
        // sound lead the piece.)
        let first = g.sections.is_empty();
        let frames = read().and_then(|bytes| {
            let mut frames = if first {
                analysis::decode_frames_with(&bytes, MAX_SECTIONS, || decode_and_look(&bytes))
            } else {
                analysis::decode_frames(&bytes, MAX_SECTIONS)
            }
            .map_err(|e| e.in_file(&name).to_string())?;
            // (An animation's first frame is looked at as the file's first picture.)
            if first && frames.total > 1 {
                if let Some((_, picture)) = frames.pictures.first_mut() {
                    picture.content = content_of(&bytes);
                }
            }
            Ok(frames)
        });
        match frames {
            Ok(f) if f.total > 1 => {
                let first = &f.pictures[0].1;
                if count == 1 {
                    g.animation = Some(format!(
                        "{} ({} x {}), {} of {} frames",
                        name,
                        first.source_width,
                        first.source_height,
                        f.pictures.len(),
                        f.total
                    ));
                }
                for (i, picture) in f.pictures {
                    g.sections
                        .push((picture, format!("{name}, frame {} of {}", i + 1, f.total)));
                }
            }
            Ok(f) => {
                for (_, picture) in f.pictures {
                    let source = compose::source_name(&name, &picture);
                    g.sections.push((picture, source));
                }
            }
            Err(why) => g.refused.push(why),
        }
    }
    if g.sections.len() > MAX_SECTIONS {
        let keep = evenly_spaced(g.sections.len(), MAX_SECTIONS);
        g.sections = std::mem::take(&mut g.sections)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, s)| s)
            .collect();
    }
    g
}

impl Gathered {
    /// How the piece is named: the one picture's name, the animation's, or the first picture's
    /// and how many follow.
    pub fn source(&self) -> String {
        match (&self.animation, self.sections.as_slice()) {
            (Some(a), _) => a.clone(),
            (None, [(_, one)]) => one.clone(),
            (None, [(_, first), rest @ ..]) => format!("{first} + {} more", rest.len()),
            (None, []) => String::new(),
        }
    }

    /// The piece, composed with `settings` and levelled; `None` when no file gave a picture.
    pub fn score(&self, settings: &compose::Settings) -> Option<Score> {
        if self.sections.is_empty() {
            return None;
        }
        let sections: Vec<(&Picture, String)> =
            self.sections.iter().map(|(p, n)| (p, n.clone())).collect();
        Some(compose_sections(&sections, settings, self.source()))
    }

    /// What the musician is told about refused files: "b.txt: this is not a picture ...; ...".
    pub fn refusals(&self) -> Option<String> {
        (!self.refused.is_empty()).then(|| self.refused.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, v: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::from_pixel(w, h, image::Rgb([v, v / 2, 255 - v]))
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    type Read = Box<dyn FnOnce() -> Result<Vec<u8>, String>>;

    fn file(name: &str, bytes: Vec<u8>) -> (String, Read) {
        (name.to_owned(), Box::new(move || Ok(bytes)))
    }

    #[test]
    fn good_files_make_sections_in_order_and_bad_ones_are_named() {
        let files = vec![
            file("a.png", png(40, 30, 10)),
            file("notes.txt", b"not a picture".to_vec()),
            file("b.png", png(20, 20, 200)),
            (
                String::from("gone.png"),
                Box::new(|| Err(String::from("gone.png: the file is not there any more"))) as Read,
            ),
        ];
        let g = gather(files, &|| true);
        let names: Vec<&str> = g.sections.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["a.png (40 x 30)", "b.png (20 x 20)"]);
        assert_eq!(g.refused.len(), 2);
        assert!(
            g.refused[0].starts_with("notes.txt: this is not a picture"),
            "{:?}",
            g.refused
        );
        assert_eq!(g.source(), "a.png (40 x 30) + 1 more");
        let score = g.score(&compose::Settings::default()).unwrap();
        assert_eq!(score.sections.len(), 2);
        assert_eq!(score.source, "a.png (40 x 30) + 1 more");
    }

    #[test]
    fn more_than_sixteen_pictures_are_sampled_evenly() {
        let files: Vec<(String, Read)> = (0..40)
            .map(|k| file(&format!("p{k:02}.png"), png(8, 8, (k * 6) as u8)))
            .collect();
        let read = std::cell::Cell::new(0);
        type Counted<'a> = Box<dyn FnOnce() -> Result<Vec<u8>, String> + 'a>;
        let files: Vec<(String, Counted<'_>)> = files
            .into_iter()
            .map(|(name, f)| {
                let read = &read;
                let counted: Counted<'_> = Box::new(move || {
                    read.set(read.get() + 1);
                    f()
                });
                (name, counted)
            })
            .collect();
        let g = gather(files, &|| true);
        assert_eq!(read.get(), MAX_SECTIONS, "only the files kept are read");
        assert_eq!(g.sections.len(), MAX_SECTIONS);
        assert_eq!(g.sections[0].1, "p00.png (8 x 8)");
        assert_eq!(g.sections[15].1, "p39.png (8 x 8)");
    }

    #[test]
    fn one_picture_is_named_as_before_and_nothing_usable_composes_nothing() {
        let g = gather(vec![file("a.png", png(4, 4, 1))], &|| true);
        assert_eq!(g.source(), "a.png (4 x 4)");
        let g = gather(vec![file("x.txt", b"x".to_vec())], &|| true);
        assert!(g.score(&compose::Settings::default()).is_none());
        assert!(g.refusals().unwrap().starts_with("x.txt"));
        // Work no longer wanted stops before reading.
        let g = gather(vec![file("a.png", png(4, 4, 1))], &|| false);
        assert!(g.sections.is_empty() && g.refused.is_empty());
    }
}
