//! The editor's window as nice-plug sees it: its size (saved with the project, scaled as the
//! host asks) and the spawning of the egui app into the host's window.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nice_plug::editor::dpi::{LogicalSize, NativeSize};
use nice_plug::editor::{HostMethods, ParentWindowHandle, SizeConstraints, SpawnedEditor};
use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings,
    RepaintNotifier,
};

use super::app::App;
use super::{gl_driver, Link};

pub const DEFAULT_SIZE: (u32, u32) = (960, 640);
pub const MIN_SIZE: (u32, u32) = (760, 520);
const MAX_SIDE: u32 = 8192;

/// The editor's size in logical pixels, saved with the project.
#[derive(Debug)]
pub struct EditorSize {
    width: AtomicU32,
    height: AtomicU32,
    /// The window's last scale factor (f32 bits); not saved, it belongs to the screen.
    scale: AtomicU32,
}

impl Default for EditorSize {
    fn default() -> Self {
        EditorSize {
            width: AtomicU32::new(DEFAULT_SIZE.0),
            height: AtomicU32::new(DEFAULT_SIZE.1),
            scale: AtomicU32::new(1.0f32.to_bits()),
        }
    }
}

impl EditorSize {
    pub fn get(&self) -> (u32, u32) {
        (
            self.width.load(Ordering::Relaxed),
            self.height.load(Ordering::Relaxed),
        )
    }

    pub fn scale(&self) -> f64 {
        f64::from(f32::from_bits(self.scale.load(Ordering::Relaxed)))
    }

    pub fn set_scale(&self, scale: f64) {
        if scale.is_finite() && (0.25..=8.0).contains(&scale) {
            self.scale
                .store((scale as f32).to_bits(), Ordering::Relaxed);
        }
    }

    /// Stores a size, kept within sensible bounds (a damaged project cannot make it 0 or huge).
    pub fn set_size(&self, width: u32, height: u32) {
        self.width
            .store(width.clamp(MIN_SIZE.0, MAX_SIDE), Ordering::Relaxed);
        self.height
            .store(height.clamp(MIN_SIZE.1, MAX_SIDE), Ordering::Relaxed);
    }
}

/// How the editor size is saved.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct SavedSize {
    pub width: u32,
    pub height: u32,
}

impl PersistentField<'_, SavedSize> for Arc<EditorSize> {
    fn set(&self, new_value: SavedSize) {
        self.set_size(new_value.width, new_value.height);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&SavedSize) -> R,
    {
        let (width, height) = self.get();
        f(&SavedSize { width, height })
    }
}

/// nice-plug's editor for Pixelody: an egui editor built afresh at each opening, at the size the
/// project saved. The window owns the [`App`]; closing the window drops it.
pub struct PixelodyEditor {
    link: Link,
    /// Taken at the first opening, kept while this instance lives: see [`gl_driver`].
    gl_driver: std::sync::Mutex<Option<Arc<gl_driver::DriverHold>>>,
    /// Asks the open window for a frame: the editor rests while nothing changes, and draws when
    /// a score is published, a load moves on, the transport starts or stops (and, through
    /// nice-plug-egui's editor handle, which shares it, when a parameter moves, from the host
    /// too).
    repaint: RepaintNotifier,
}

impl PixelodyEditor {
    pub fn new(link: Link) -> Self {
        let repaint = RepaintNotifier::new();
        let wake = {
            let repaint = repaint.clone();
            Arc::new(move || repaint.request_repaint()) as Arc<dyn Fn() + Send + Sync>
        };
        link.params.score.wake.set(Some(wake.clone()));
        link.loader.wake.set(Some(wake));
        let _ = link.playhead.wake.set(repaint.clone());
        PixelodyEditor {
            link,
            gl_driver: Default::default(),
            repaint,
        }
    }

    fn logical_size(&self) -> LogicalSize<f64> {
        let (w, h) = self.link.params.editor_size.get();
        LogicalSize::new(f64::from(w), f64::from(h))
    }
}

fn resize_hint() -> ResizeHint {
    ResizeHint {
        can_resize: true,
        can_resize_horizontally: true,
        can_resize_vertically: true,
        preserve_aspect_ratio: false,
        aspect_ratio_width: 1,
        aspect_ratio_height: 1,
        size_constraints: SizeConstraints::Logical {
            min_size: Some(LogicalSize::new(MIN_SIZE.0 as f32, MIN_SIZE.1 as f32)),
            max_size: None,
        },
    }
}

impl Editor for PixelodyEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: nice_plug::context::gui::GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn std::error::Error>> {
        let mut held = self
            .gl_driver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none() {
            *held = gl_driver::hold();
        }
        drop(held);
        let state = EguiEditorState::from_size(self.logical_size(), 1.0);
        let settings = EguiNiceSettings::new()
            .with_tile("Pixelody")
            .with_resize_hint(resize_hint())
            .with_repaint_poll_interval(Duration::from_millis(16));
        let editor: EguiEditor<App> = create_egui_editor(
            state,
            self.repaint.clone(),
            settings,
            App::new(self.link.clone()),
        )
        .ok_or("the editor could not be created")?;
        if let Some(scale) = fallback_scale_factor {
            self.link.params.editor_size.set_scale(scale);
        }
        editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )
    }

    fn size(&self) -> NativeSize<u32> {
        NativeSize::from_size(
            self.logical_size().into(),
            self.link.params.editor_size.scale(),
        )
    }

    fn resize_hint(&self) -> ResizeHint {
        resize_hint()
    }
}
