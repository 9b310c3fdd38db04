//! The picture behind the score and the settings it was composed with. Persisted with the project
//! (field `composition`), so turning a composition parameter recomposes from the same picture
//! after a reload, without the file. Recomposing runs on the background thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use super::bridge::ScoreSlot;
use crate::analysis::{Picture, PictureError, MAX_SIDE};
use crate::compose::{self, Settings};
use crate::score::Score;

const COMPOSITION_FORMAT_VERSION: u32 = 1;

/// What a project stores: the working copy as base64 of its 8-bit sRGB bytes (at most
/// 128 x 128 x 3 bytes) and the settings the score was composed with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CompositionState {
    pub version: u32,
    /// How the musician knows the picture ("sunset.jpg (4000 x 3000)").
    pub source: String,
    pub width: usize,
    pub height: usize,
    pub source_width: u32,
    pub source_height: u32,
    pub rgb_base64: String,
    pub settings: Settings,
}

#[derive(Clone, Debug)]
pub struct Composition {
    pub source: String,
    pub picture: Arc<Picture>,
    pub settings: Settings,
}

impl Composition {
    /// A decoded picture, known to the musician as `file`, composed with `settings`: the one way
    /// a picture becomes a composition (loaded, dropped, or the bundled example) and its score.
    pub fn compose(picture: Picture, file: &str, settings: Settings) -> (Composition, Score) {
        let settings = settings.clamped();
        let source = compose::source_name(file, &picture);
        let score = compose::compose(&picture, &settings, source.clone());
        let composition = Composition {
            source,
            picture: Arc::new(picture),
            settings,
        };
        (composition, score)
    }

    pub fn to_state(&self) -> CompositionState {
        let bytes: Vec<u8> = self.picture.rgb.iter().flatten().copied().collect();
        CompositionState {
            version: COMPOSITION_FORMAT_VERSION,
            source: self.source.clone(),
            width: self.picture.width,
            height: self.picture.height,
            source_width: self.picture.source_width,
            source_height: self.picture.source_height,
            rgb_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            settings: self.settings,
        }
    }

    /// Rebuilds a composition from stored state; `None` when the state is not usable.
    pub fn from_state(state: CompositionState) -> Option<Composition> {
        let (w, h) = (state.width, state.height);
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(state.rgb_base64.as_bytes())
            .ok()?;
        if bytes.len() != w * h * 3 {
            return None;
        }
        let rgb = bytes.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        Some(Composition {
            source: state.source,
            picture: Arc::new(Picture::from_rgb(
                w,
                h,
                rgb,
                state.source_width,
                state.source_height,
            )),
            settings: state.settings.clamped(),
        })
    }
}

/// Shared by the plugin, its parameters' callbacks and the background thread.
pub struct CompositionSlot {
    current: RwLock<Composition>,
    /// Set when a composition parameter changes; the audio thread turns it into a background task.
    pub dirty: Arc<AtomicBool>,
}

impl CompositionSlot {
    pub fn new(initial: Composition) -> Arc<CompositionSlot> {
        Arc::new(CompositionSlot {
            current: RwLock::new(initial),
            dirty: Arc::new(AtomicBool::new(false)),
        })
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

    /// Recomposes the current picture with `wanted` settings, unless the score already is that
    /// composition (as after loading a project, whose parameters and score arrive together).
    /// Publishes only if no other score was published meanwhile. Background thread only.
    pub fn recompose(&self, wanted: Settings, scores: &ScoreSlot) {
        let wanted = wanted.clamped();
        let generation = scores.generation();
        let c = self.current();
        if c.settings == wanted {
            return;
        }
        let score = compose::compose(&c.picture, &wanted, c.source.clone());
        if scores.publish_if_unchanged(generation, score) {
            self.set_settings(wanted);
        }
    }

    /// Loads a new picture (from the editor's drop or file browser; off the audio thread):
    /// decodes it, composes it with `settings` and publishes the score. `wanted` is asked before
    /// composing and again just before publishing: once it says no (a newer picture was asked
    /// for), the work is abandoned and `Ok(None)` returned. On success the published score comes
    /// back. On any error nothing changes: the previous picture stays and its score keeps playing.
    pub fn load_picture(
        &self,
        bytes: &[u8],
        name: &str,
        settings: Settings,
        scores: &ScoreSlot,
        wanted: &dyn Fn() -> bool,
    ) -> Result<Option<Arc<Score>>, PictureError> {
        let picture = crate::analysis::decode(bytes).map_err(|e| e.in_file(name))?;
        if !wanted() {
            return Ok(None);
        }
        let (composition, score) = Composition::compose(picture, name, settings);
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Checked under the lock, so of two loads the newer one always publishes last.
        if !wanted() {
            return Ok(None);
        }
        *current = composition;
        scores.publish(score);
        Ok(Some(scores.current()))
    }

    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

impl PersistentField<'_, CompositionState> for Arc<CompositionSlot> {
    fn set(&self, new_value: CompositionState) {
        match Composition::from_state(new_value) {
            Some(c) => {
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
            picture: Arc::new(Picture::from_rgb(4, 3, rgb, 4, 3)),
            settings: Settings::default(),
        }
    }

    #[test]
    fn state_round_trips_the_picture_exactly() {
        let c = composition();
        let back = Composition::from_state(c.to_state()).unwrap();
        assert_eq!(*back.picture, *c.picture);
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
        slot.load_picture(good, "sunset.png", Settings::default(), &scores, &|| true)
            .unwrap();
        let playing = scores.current();
        assert_eq!(playing.source, "sunset.png (96 x 64)");
        for (bytes, why) in [
            (&good[..good.len() / 2], "damaged or incomplete"),
            (&b"just text"[..], "not a picture"),
            (&[][..], "empty"),
        ] {
            let err = slot
                .load_picture(bytes, "bad.png", Settings::default(), &scores, &|| true)
                .unwrap_err();
            assert!(err.to_string().starts_with("bad.png: "), "{err}");
            assert!(err.message.contains(why), "{err}");
            assert_eq!(
                *scores.current(),
                *playing,
                "the previous score keeps playing"
            );
            assert_eq!(slot.current().source, "sunset.png (96 x 64)");
        }
    }

    #[test]
    fn recomposing_with_the_same_settings_changes_nothing() {
        let (scores, _audio) = ScoreSlot::new(crate::score::Score::empty());
        let slot = CompositionSlot::new(composition());
        slot.recompose(Settings::default(), &scores);
        assert_eq!(scores.generation(), 0, "no new score");
        let scan = Settings {
            mode: compose::Mode::Scan,
            ..Settings::default()
        };
        slot.recompose(scan, &scores);
        assert_eq!(scores.generation(), 1);
        assert_eq!(slot.current().settings.mode, compose::Mode::Scan);
    }
}
