//! The picture behind the score and the settings it was composed with. Persisted with the project
//! (field `composition`), so turning a composition parameter recomposes from the same picture
//! after a reload, without the file. Recomposing runs on the background thread.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, RwLock, TryLockError};

use base64::Engine as _;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use super::handover::ScoreSlot;
use crate::analysis::{Picture, MAX_SIDE};
use crate::compose::{self, Settings};
use crate::pipeline::Gathered;
use crate::score::{Score, Signature};

/// 1: one picture. 2: a piece may hold more pictures (`sections`); a version-1 state is a piece
/// of one.
const COMPOSITION_FORMAT_VERSION: u32 = 2;

/// What a project stores: the working copy as base64 of its 8-bit sRGB bytes (at most
/// 128 x 128 x 3 bytes) and the settings the score was composed with. A piece of several
/// pictures stores the first here and the others in `sections` (at most 15, about 1 MB).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CompositionState {
    pub version: u32,
    /// How the musician knows the picture ("sunset.jpg (4000 x 3000)"), or the piece.
    pub source: String,
    pub width: usize,
    pub height: usize,
    pub source_width: u32,
    pub source_height: u32,
    pub rgb_base64: String,
    pub settings: Settings,
    /// In a piece: the first picture's section name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_section: Option<String>,
    /// In a piece: the pictures after the first, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionState>,
    /// What the first picture shows, as the models saw it when it was dropped (the working copy
    /// is too small to look at again): a reloaded project composes as it did.
    #[serde(default, skip_serializing_if = "crate::content::Content::is_empty")]
    pub content: crate::content::Content,
}

/// A later section's picture as a project stores it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SectionState {
    pub name: String,
    pub width: usize,
    pub height: usize,
    pub source_width: u32,
    pub source_height: u32,
    pub rgb_base64: String,
}

/// One picture of a composition, with the name its section is known by.
#[derive(Clone, Debug)]
pub struct SectionPicture {
    pub name: String,
    pub picture: Arc<Picture>,
}

#[derive(Clone, Debug)]
pub struct Composition {
    pub source: String,
    /// The pictures, a section each; never empty (one for a single picture).
    pub sections: Vec<SectionPicture>,
    pub settings: Settings,
}

fn picture_base64(p: &Picture) -> String {
    let bytes: Vec<u8> = p.rgb.iter().flatten().copied().collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A stored working copy back as a picture; `None` when it is not one.
fn picture_from(
    (w, h): (usize, usize),
    (source_width, source_height): (u32, u32),
    rgb_base64: &str,
) -> Option<Picture> {
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rgb_base64.as_bytes())
        .ok()?;
    if bytes.len() != w * h * 3 {
        return None;
    }
    let rgb = bytes.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    Some(Picture::from_rgb(w, h, rgb, source_width, source_height))
}

impl Composition {
    /// A decoded picture, known to the musician as `file`, composed with `settings`: the one way
    /// a single picture becomes a composition (the bundled example, the examples) and its score.
    pub fn of_picture(picture: Picture, file: &str, settings: Settings) -> (Composition, Score) {
        let source = compose::source_name(file, &picture);
        let composition = Composition {
            sections: vec![SectionPicture {
                name: source.clone(),
                picture: Arc::new(picture),
            }],
            source,
            settings: settings.clamped(),
        };
        let score = composition.score(&composition.settings);
        (composition, score)
    }

    /// The pictures gathered from files (see `sections::gather`) as a composition and its
    /// score; `None` when no file gave a picture.
    pub fn from_gathered(g: Gathered, settings: Settings) -> Option<(Composition, Score)> {
        let source = g.source();
        let composition = Composition {
            source,
            sections: g
                .sections
                .into_iter()
                .map(|(picture, name)| SectionPicture {
                    name,
                    picture: Arc::new(picture),
                })
                .collect(),
            settings: settings.clamped(),
        };
        if composition.sections.is_empty() {
            return None;
        }
        let score = composition.score(&composition.settings);
        Some((composition, score))
    }

    /// The first picture: the one shown when no section is playing.
    pub fn picture(&self) -> &Arc<Picture> {
        &self.sections[0].picture
    }

    /// The section playing at `beat` of a score `length_beats` long.
    pub fn section_at(&self, beat: f64, length_beats: f64) -> usize {
        let n = self.sections.len();
        if length_beats > 0.0 && beat.is_finite() {
            ((beat / length_beats * n as f64).floor().max(0.0) as usize).min(n - 1)
        } else {
            0
        }
    }

    /// The picture of the section playing at `beat` of a score `length_beats` long.
    pub fn picture_at(&self, beat: f64, length_beats: f64) -> &Arc<Picture> {
        &self.sections[self.section_at(beat, length_beats)].picture
    }

    /// The score of these pictures with `settings`.
    pub fn score(&self, settings: &Settings) -> Score {
        let sections: Vec<(&Picture, String)> = self
            .sections
            .iter()
            .map(|s| (&*s.picture, s.name.clone()))
            .collect();
        crate::pipeline::compose_sections(&sections, settings, self.source.clone())
    }

    /// The sound these pictures propose with `settings` (see [`compose::proposal`]).
    pub fn proposal(&self, settings: &Settings) -> crate::score::Patch {
        compose::proposal(self.picture(), settings)
    }

    pub fn to_state(&self) -> CompositionState {
        let first = self.picture();
        let piece = self.sections.len() > 1;
        CompositionState {
            version: COMPOSITION_FORMAT_VERSION,
            source: self.source.clone(),
            width: first.width,
            height: first.height,
            source_width: first.source_width,
            source_height: first.source_height,
            rgb_base64: picture_base64(first),
            settings: self.settings,
            first_section: piece.then(|| self.sections[0].name.clone()),
            content: first.content.clone(),
            sections: self.sections[1..]
                .iter()
                .map(|s| SectionState {
                    name: s.name.clone(),
                    width: s.picture.width,
                    height: s.picture.height,
                    source_width: s.picture.source_width,
                    source_height: s.picture.source_height,
                    rgb_base64: picture_base64(&s.picture),
                })
                .collect(),
        }
    }

    /// Rebuilds a composition from stored state; `None` when the state is not usable (a later
    /// section that is not is left out: the piece plays on without it).
    pub fn from_state(state: CompositionState) -> Option<Composition> {
        let mut first = picture_from(
            (state.width, state.height),
            (state.source_width, state.source_height),
            &state.rgb_base64,
        )?;
        first.content = state.content.sanitised();
        let mut sections = vec![SectionPicture {
            name: state.first_section.unwrap_or_else(|| state.source.clone()),
            picture: Arc::new(first),
        }];
        sections.extend(
            state
                .sections
                .iter()
                .take(compose::piece::MAX_SECTIONS - 1)
                .filter_map(|s| {
                    let p = picture_from(
                        (s.width, s.height),
                        (s.source_width, s.source_height),
                        &s.rgb_base64,
                    )?;
                    Some(SectionPicture {
                        name: s.name.clone(),
                        picture: Arc::new(p),
                    })
                }),
        );
        Some(Composition {
            source: state.source,
            sections,
            settings: state.settings.clamped(),
        })
    }
}

/// `c` with its sections in `order` (indices into them; each at most once, at least one);
/// `None` for an order that is not one. One section left is named as that picture.
pub fn rearranged(c: &Composition, order: &[usize]) -> Option<Composition> {
    let mut seen = vec![false; c.sections.len()];
    for &i in order {
        if i >= seen.len() || std::mem::replace(&mut seen[i], true) {
            return None;
        }
    }
    if order.is_empty() {
        return None;
    }
    let sections: Vec<SectionPicture> = order.iter().map(|&i| c.sections[i].clone()).collect();
    let source = if sections.len() == 1 {
        sections[0].name.clone()
    } else {
        c.source.clone()
    };
    Some(Composition {
        source,
        sections,
        settings: c.settings,
    })
}

/// A load's published score and the files it skipped (each named with why).
pub type Loaded = (Arc<Score>, Vec<String>);

/// Shared by the plugin, its parameters' callbacks and the background thread.
pub struct CompositionSlot {
    current: RwLock<Composition>,
    /// Set when a composition parameter changes; the audio thread turns it into a background task.
    pub dirty: Arc<AtomicBool>,
    /// The host's time signature as the audio thread last saw it (numerator << 8 | denominator;
    /// 4/4 where the host names none; 0 until the audio thread has run): what the Meter
    /// parameter's Host composes in.
    host_meter: AtomicU16,
    /// The part of the picture the musician asked to compose from (see `Settings::region`):
    /// what the next composition reads, set from the editor and from a project as it loads.
    region: RwLock<Option<[f32; 4]>>,
    /// Held while a parameter change is composed (`recompose_if_dirty`): the background worker
    /// and the editor's own thread may both be asked, and only one composes at a time.
    composing: Mutex<()>,
}

fn packed(s: Signature) -> u16 {
    u16::from(s.numerator) << 8 | u16::from(s.denominator)
}

impl CompositionSlot {
    pub fn new(initial: Composition) -> Arc<CompositionSlot> {
        Arc::new(CompositionSlot {
            current: RwLock::new(initial),
            dirty: Arc::new(AtomicBool::new(false)),
            host_meter: AtomicU16::new(0),
            region: RwLock::new(None),
            composing: Mutex::new(()),
        })
    }

    /// The part of the picture to compose from, `None` for the whole.
    pub fn region(&self) -> Option<[f32; 4]> {
        *self
            .region
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Composes from `region` of the picture from now on (`None`: the whole), recomposing as a
    /// parameter change does. Never on the audio thread.
    pub fn set_region(&self, region: Option<[f32; 4]>) {
        *self
            .region
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            region.and_then(compose::region_clamped);
        self.dirty.store(true, Ordering::Release);
    }

    fn keep_region_of(&self, c: &Composition) {
        *self
            .region
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = c.settings.region;
    }

    /// The host's time signature (4/4 where it names none). Until the audio thread has heard
    /// the host (a project reopening, an editor before play), the meter the current score was
    /// composed in: a project in 7/8 must not be recomposed in 4/4 only because the host has
    /// not spoken yet.
    pub fn host_meter(&self) -> Signature {
        match self.host_meter.load(Ordering::Acquire) {
            0 => {
                self.current
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .settings
                    .meter
            }
            v => Signature::new((v >> 8) as u8, v as u8),
        }
    }

    /// Notes the host's time signature (`None`: it names none, 4/4); whether it changed. Lock-
    /// and allocation-free: the audio thread calls it every block.
    pub fn note_host_meter(&self, numerator: Option<i32>, denominator: Option<i32>) -> bool {
        let byte = |v: Option<i32>| v.and_then(|v| u8::try_from(v).ok()).filter(|&v| v > 0);
        let signature = match (byte(numerator), byte(denominator)) {
            (Some(n), Some(d)) => Signature::new(n, d),
            _ => Signature::COMMON,
        };
        let new = packed(signature);
        self.host_meter.swap(new, Ordering::AcqRel) != new
    }

    pub fn current(&self) -> Composition {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set_settings(&self, settings: Settings) {
        self.current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .settings = settings;
    }

    /// Composes the last parameter change, if one is waiting, with the settings `settings` gives
    /// once the change is taken. Off the audio thread: the background task the audio thread asks
    /// for, or the editor's thread when no audio runs. Whoever is asked while another composes
    /// leaves the change waiting for the next ask (never blocks: the worker is shared by every
    /// instance in the host). A change whose score could not be published (a picture load or a
    /// rearrangement published meanwhile) is marked waiting again: it is composed once more on
    /// the new picture, and is never lost, which once left a project deaf to every later change
    /// until the next one (two composers racing under host automation).
    pub fn recompose_if_dirty(&self, settings: impl FnOnce() -> Settings, scores: &ScoreSlot) {
        let _composing = match self.composing.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let generation = scores.generation();
        if !self.take_dirty() {
            return;
        }
        if !self.recompose(settings(), scores, generation) {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Recomposes the current picture with `wanted` settings, unless the score already is that
    /// composition (as after loading a project, whose parameters and score arrive together).
    /// Publishes only if no other score was published since `generation`; false if that stopped
    /// it. Background thread only.
    fn recompose(&self, wanted: Settings, scores: &ScoreSlot, generation: u64) -> bool {
        let wanted = wanted.clamped();
        let c = self.current();
        if c.settings == wanted {
            return true;
        }
        let score = c.score(&wanted);
        let published = scores.publish_if_unchanged(generation, score);
        if published {
            self.set_settings(wanted);
        }
        published
    }

    /// Loads new pictures (from the editor's drop or file browser; off the audio thread):
    /// `files` are read and decoded one at a time (see `sections::gather`), composed with
    /// `settings` as one piece, and the score published. With `add`, the pictures there are stay
    /// and the new ones become sections after them (up to 16 in all; the ones beyond are named as
    /// skipped). `wanted` is asked before each file, before composing and again just before
    /// publishing: once it says no (newer pictures were asked for), the work is abandoned and
    /// `Ok(None)` returned. On success the published score comes back with the files that were
    /// skipped (each named with why). When no file gave a picture nothing changes (the previous
    /// pictures stay and their score keeps playing) and the error says why.
    pub fn load<F>(
        &self,
        files: Vec<(String, F)>,
        add: bool,
        settings: Settings,
        scores: &ScoreSlot,
        wanted: &dyn Fn() -> bool,
    ) -> Result<Option<Loaded>, String>
    where
        F: FnOnce() -> Result<Vec<u8>, String>,
    {
        let mut gathered = crate::pipeline::gather(files, wanted);
        if !wanted() {
            return Ok(None);
        }
        let mut refused = std::mem::take(&mut gathered.refused);
        let made = if add && !gathered.sections.is_empty() {
            let mut c = self.current();
            let room = compose::piece::MAX_SECTIONS.saturating_sub(c.sections.len());
            for (k, (picture, name)) in gathered.sections.into_iter().enumerate() {
                if k < room {
                    c.sections.push(SectionPicture {
                        name,
                        picture: Arc::new(picture),
                    });
                } else {
                    refused.push(format!("{name}: the piece already has 16 sections"));
                }
            }
            c.source = format!("{} + {} more", c.sections[0].name, c.sections.len() - 1);
            c.settings = settings.clamped();
            let score = c.score(&c.settings);
            Some((c, score))
        } else {
            Composition::from_gathered(gathered, settings)
        };
        let Some((composition, score)) = made else {
            return Err(refused.join("; "));
        };
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Checked under the lock, so of two loads the newer one always publishes last.
        if !wanted() {
            return Ok(None);
        }
        self.keep_region_of(&composition);
        *current = composition;
        scores.publish(score);
        Ok(Some((scores.current(), refused)))
    }

    /// Rearranges the piece's sections into `order` (indices into the current sections: a
    /// section left out is removed; at least one must stay), composes it with `settings` and
    /// publishes the score, unless `wanted` says no or a newer score was published meanwhile.
    /// Background thread only.
    pub fn rearrange(
        &self,
        order: &[usize],
        settings: Settings,
        scores: &ScoreSlot,
        wanted: &dyn Fn() -> bool,
    ) -> Option<Arc<Score>> {
        let generation = scores.generation();
        let current = self.current();
        let c = rearranged(&current, order)?;
        let score = c.score(&settings.clamped());
        let mut slot = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !wanted() || !scores.publish_if_unchanged(generation, score) {
            return None;
        }
        *slot = Composition {
            settings: settings.clamped(),
            ..c
        };
        Some(scores.current())
    }

    /// Whether a composition parameter changed since the last recomposition began (the audio
    /// thread asks; the background thread takes it).
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

impl PersistentField<'_, CompositionState> for Arc<CompositionSlot> {
    fn set(&self, new_value: CompositionState) {
        match Composition::from_state(new_value) {
            Some(c) => {
                self.keep_region_of(&c);
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = c
            }
            None => nice_plug::nice_warn!(
                "The project's picture could not be restored; keeping the current one"
            ),
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&CompositionState) -> R,
    {
        f(&self.current().to_state())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composition() -> Composition {
        let rgb = (0..12u8).map(|i| [i * 20, 255 - i * 20, i]).collect();
        Composition {
            source: String::from("test.png (4 x 3)"),
            sections: vec![SectionPicture {
                name: String::from("test.png (4 x 3)"),
                picture: Arc::new(Picture::from_rgb(4, 3, rgb, 4, 3)),
            }],
            settings: Settings::default(),
        }
    }

    type Read = Box<dyn FnOnce() -> Result<Vec<u8>, String>>;

    fn one(name: &str, bytes: &[u8]) -> Vec<(String, Read)> {
        let bytes = bytes.to_vec();
        vec![(name.to_owned(), Box::new(move || Ok(bytes)))]
    }

    #[test]
    fn state_round_trips_the_picture_exactly() {
        let c = composition();
        let back = Composition::from_state(c.to_state()).unwrap();
        assert_eq!(**back.picture(), **c.picture());
        assert_eq!(back.settings, c.settings);
        assert_eq!(back.source, c.source);
    }

    #[test]
    fn damaged_state_is_refused() {
        let mut s = composition().to_state();
        s.width = 5;
        assert!(Composition::from_state(s).is_none());
        let mut s = composition().to_state();
        s.rgb_base64 = String::from("not base64!");
        assert!(Composition::from_state(s).is_none());
        let mut s = composition().to_state();
        s.width = 100_000;
        assert!(Composition::from_state(s).is_none());
    }

    #[test]
    fn a_bad_picture_changes_nothing_and_says_why() {
        let (scores, _audio) = ScoreSlot::new(crate::score::Score::empty());
        let slot = CompositionSlot::new(composition());
        let good = crate::plugin::EXAMPLE_PICTURE;
        slot.load(
            one("sunset.png", good),
            false,
            Settings::default(),
            &scores,
            &|| true,
        )
        .unwrap();
        let playing = scores.current();
        assert_eq!(playing.source, "sunset.png (96 x 64)");
        for (bytes, why) in [
            (&good[..good.len() / 2], "damaged or incomplete"),
            (&b"just text"[..], "not a picture"),
            (&[][..], "empty"),
        ] {
            let err = slot
                .load(
                    one("bad.png", bytes),
                    false,
                    Settings::default(),
                    &scores,
                    &|| true,
                )
                .unwrap_err();
            assert!(err.starts_with("bad.png: "), "{err}");
            assert!(err.contains(why), "{err}");
            assert_eq!(
                *scores.current(),
                *playing,
                "the previous score keeps playing"
            );
            assert_eq!(slot.current().source, "sunset.png (96 x 64)");
        }
    }

    /// A parameter change waiting to be composed, as the parameters mark it.
    fn changed(slot: &CompositionSlot) {
        slot.dirty.store(true, Ordering::Release);
    }

    fn scan() -> Settings {
        Settings {
            mode: compose::Mode::Scan,
            ..Settings::default()
        }
    }

    /// The slot and its scores, with a parameter change waiting.
    fn slot_with_a_change() -> (
        Arc<ScoreSlot>,
        super::super::handover::AudioEnds,
        Arc<CompositionSlot>,
    ) {
        let (scores, audio) = ScoreSlot::new(crate::score::Score::empty());
        let slot = CompositionSlot::new(composition());
        changed(&slot);
        (scores, audio, slot)
    }

    /// The next ask composes the waiting change (to Scan) and nothing waits any more.
    fn next_ask_composes_scan(slot: &CompositionSlot, scores: &ScoreSlot) {
        slot.recompose_if_dirty(scan, scores);
        assert_eq!(slot.current().settings.mode, compose::Mode::Scan);
        assert!(!slot.is_dirty());
    }

    #[test]
    fn recomposing_with_the_same_settings_changes_nothing() {
        let (scores, _audio) = ScoreSlot::new(crate::score::Score::empty());
        let slot = CompositionSlot::new(composition());
        slot.recompose_if_dirty(scan, &scores);
        assert_eq!(scores.generation(), 0, "no change waited: nothing composed");
        changed(&slot);
        slot.recompose_if_dirty(Settings::default, &scores);
        assert_eq!(scores.generation(), 0, "no new score");
        assert!(!slot.is_dirty());
        changed(&slot);
        next_ask_composes_scan(&slot, &scores);
        assert_eq!(scores.generation(), 1);
    }

    #[test]
    fn a_change_whose_score_lost_to_another_publication_is_composed_at_the_next_ask() {
        let (scores, _audio, slot) = slot_with_a_change();
        // Another score is published while the change is composed (a picture load finishing).
        slot.recompose_if_dirty(
            || {
                scores.publish(crate::score::Score::empty());
                scan()
            },
            &scores,
        );
        assert_eq!(scores.generation(), 1, "the other score stands");
        assert_eq!(slot.current().settings.mode, compose::Mode::Compose);
        assert!(slot.is_dirty(), "the change still waits");
        next_ask_composes_scan(&slot, &scores);
        assert_eq!(scores.generation(), 2);
    }

    #[test]
    fn an_ask_while_another_composes_leaves_the_change_for_the_next_ask() {
        let (scores, _audio, slot) = slot_with_a_change();
        slot.recompose_if_dirty(
            || {
                // A newer change arrives and the other asker runs while this one composes.
                changed(&slot);
                slot.recompose_if_dirty(|| panic!("two composers at once"), &scores);
                Settings::default()
            },
            &scores,
        );
        assert!(slot.is_dirty(), "the newer change still waits");
        next_ask_composes_scan(&slot, &scores);
    }

    #[test]
    fn until_the_host_speaks_its_meter_is_the_one_the_project_was_composed_in() {
        // A project reopened in a 7/8 session: before the audio thread has run, following the
        // host must not mean 4/4 (that would recompose the project, then recompose it back).
        let mut c = composition();
        c.settings.meter = crate::score::Signature::new(7, 8);
        let slot = CompositionSlot::new(c);
        assert_eq!(slot.host_meter().name(), "7/8");
        assert!(slot.note_host_meter(Some(7), Some(8)), "first heard");
        assert!(!slot.note_host_meter(Some(7), Some(8)));
        assert!(slot.note_host_meter(Some(3), Some(4)));
        assert_eq!(slot.host_meter().name(), "3/4");
        // A host that names none is a 4/4 host.
        assert!(slot.note_host_meter(None, Some(4)));
        assert_eq!(slot.host_meter().name(), "4/4");
        assert!(!slot.note_host_meter(Some(-3), None));
    }

    /// A piece of `n` sections from the test gallery, as the loader makes it.
    fn piece(n: usize) -> (Composition, Score) {
        let files: Vec<(String, Read)> = crate::gallery::gallery()
            .into_iter()
            .take(n)
            .map(|(name, p)| {
                let flat: Vec<u8> = p.rgb.iter().flatten().copied().collect();
                let img = image::RgbImage::from_raw(p.width as u32, p.height as u32, flat).unwrap();
                let mut png = Vec::new();
                img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                    .unwrap();
                (format!("{name}.png"), Box::new(move || Ok(png)) as Read)
            })
            .collect();
        let g = crate::pipeline::gather(files, &|| true);
        Composition::from_gathered(g, Settings::default()).unwrap()
    }

    #[test]
    fn a_piece_saves_every_picture_within_its_budget_and_reloads_as_the_same_music() {
        let (c, score) = piece(16);
        assert_eq!(c.sections.len(), 16);
        let json = serde_json::to_string(&c.to_state()).unwrap();
        // The gallery's pictures are 96 x 64; at the largest working copy (128 x 128) sixteen
        // sections would store 16 x 65,536 base64 bytes: 1 MB, well within 2 MB.
        assert!(json.len() < 2 << 20, "{} bytes", json.len());
        let back = Composition::from_state(serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back.source, c.source);
        assert_eq!(back.sections.len(), 16);
        for (a, b) in back.sections.iter().zip(&c.sections) {
            assert_eq!(a.name, b.name);
            assert_eq!(*a.picture, *b.picture);
        }
        assert_eq!(
            back.score(&back.settings),
            score,
            "the reloaded piece composes the same"
        );
        // A single picture's state is as before: no sections written.
        let single = composition().to_state();
        let text = serde_json::to_string(&single).unwrap();
        assert!(
            !text.contains("sections") && !text.contains("first_section"),
            "{text}"
        );
    }

    #[test]
    fn a_damaged_later_section_is_left_out_and_the_piece_plays_on() {
        let (c, _) = piece(3);
        let mut state = c.to_state();
        state.sections[0].rgb_base64 = String::from("garbage");
        let back = Composition::from_state(state).unwrap();
        assert_eq!(back.sections.len(), 2);
        assert_eq!(back.sections[1].name, c.sections[2].name);
    }

    #[test]
    fn sections_reorder_and_leave_and_the_piece_follows() {
        let (c, _) = piece(4);
        let (scores, _audio) = ScoreSlot::new(crate::score::Score::empty());
        let slot = CompositionSlot::new(c.clone());
        let score = slot
            .rearrange(&[3, 0, 2], Settings::default(), &scores, &|| true)
            .unwrap();
        let names: Vec<&str> = score.sections.iter().map(|s| s.source.as_str()).collect();
        let want: Vec<&str> = [3, 0, 2]
            .iter()
            .map(|&i| c.sections[i].name.as_str())
            .collect();
        assert_eq!(names, want);
        assert_eq!(slot.current().sections.len(), 3);
        assert_eq!(score.length_beats, 3.0 * 8.0);
        // Down to one: named as that picture, composed as it alone is.
        let one = slot
            .rearrange(&[1], Settings::default(), &scores, &|| true)
            .unwrap();
        assert!(one.sections.is_empty());
        assert_eq!(one.source, c.sections[0].name);
        // Not an order: nothing happens.
        assert!(rearranged(&c, &[]).is_none());
        assert!(rearranged(&c, &[0, 0]).is_none());
        assert!(rearranged(&c, &[9]).is_none());
    }

    #[test]
    fn the_picture_shown_follows_the_playing_section() {
        let (c, score) = piece(4);
        let quarter = score.length_beats / 4.0;
        for k in 0..4 {
            let at = c.picture_at(quarter * (k as f64 + 0.5), score.length_beats);
            assert!(Arc::ptr_eq(at, &c.sections[k].picture));
        }
        assert!(Arc::ptr_eq(
            c.picture_at(f64::NAN, score.length_beats),
            c.picture()
        ));
    }
}
