//! The egui app: what lives while the editor's window is open (textures, the file browser, the
//! preset bar, a drag out) and the frame it draws: the top bar, the controls on the right, the
//! picture and piano roll in the middle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nice_plug::prelude::*;
use nice_plug_egui::NiceEguiApp;

use super::browser::{Browser, Chosen, Purpose, Recent};
use super::filmstrip::PictureTexture;
use super::window::MIN_SIZE;
use super::{controls, drag_out, piano_roll, presets, status, theme, Link};
use crate::compose;
use crate::plugin::loader::{LoadStatus, Source};
use crate::plugin::randomise;
use crate::score::{Part, Patch};

/// The egui app: state that lives while the window is open.
pub struct App {
    link: Link,
    gui: Option<nice_plug::context::gui::GuiContext>,
    picture: PictureTexture,
    browser: Browser,
    recent: Recent,
    /// A message about the last action that is not a load (an export, a refused drop).
    info: Option<(String, bool)>,
    /// The picture being loaded, for the recent list once it has loaded.
    loading: Option<std::path::PathBuf>,
    /// A MIDI file being dragged out of the editor.
    drag_out: drag_out::DragOut,
    /// The mouse button, still down, has started a drag out already.
    press_dragged: bool,
    presets: presets::PresetBar,
    /// Since when a composition parameter has waited for its recomposition (see `recompose`).
    dirty_since: Option<std::time::Instant>,
}

/// How long a changed composition parameter waits for the audio thread to ask for its
/// recomposition before the editor does it itself: a host that is not processing (stopped, a
/// bypassed track, an offline render host between renders) still shows the music that will play.
const RECOMPOSE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// How often a resting editor draws anyway (what wakes it is listed on `PixelodyEditor`).
const IDLE_FRAME: Duration = Duration::from_secs(2);

/// Editors alive in this process, logged at each close: a leak shows as a growing number.
static OPEN_EDITORS: AtomicUsize = AtomicUsize::new(0);

impl Drop for App {
    fn drop(&mut self) {
        self.link
            .playhead
            .editor_open
            .store(false, Ordering::Relaxed);
        let left = OPEN_EDITORS.fetch_sub(1, Ordering::AcqRel) - 1;
        nice_plug::nice_log!("Editor closed ({left} editors open in this process)");
    }
}

impl App {
    pub fn new(link: Link) -> Self {
        OPEN_EDITORS.fetch_add(1, Ordering::AcqRel);
        App {
            link,
            gui: None,
            picture: PictureTexture::default(),
            browser: Browser::default(),
            recent: Recent::default(),
            info: None,
            loading: None,
            drag_out: drag_out::DragOut::default(),
            press_dragged: false,
            presets: presets::PresetBar::default(),
            dirty_since: None,
        }
    }

    /// The tempo a MIDI file gets: the host's, or Free-run Tempo when the host says none.
    fn tempo(&self) -> f64 {
        self.link
            .playhead
            .tempo()
            .unwrap_or_else(|| f64::from(self.link.params.output.free_tempo_bpm.value()))
    }

    /// Writes the score (or one part) where a drag hands it out, and starts the drag.
    fn drag_midi(&mut self, part: Option<Part>) {
        let score = self.link.params.score.current();
        let bytes = crate::midi_file::midi_file_of(&score, self.tempo(), part);
        let name = drag_out::file_name(&score.source, part);
        match drag_out::write(&drag_out::folder(), &name, &bytes) {
            Ok(path) => {
                self.info = Some((format!("Dragging {name}..."), false));
                self.drag_out.start(path);
            }
            Err(e) => {
                self.info = Some((format!("Could not write {name} to drag it: {e}"), true));
            }
        }
    }

    /// The Drag MIDI handles: the whole score, or one part; then "+ Add pictures" (true when
    /// clicked). A drag starts when the button went
    /// down on a handle and the pointer has since moved past egui's click distance. egui's own
    /// drag detection is not used: when the press also focuses the window, the window manager
    /// holds the pointer's events and hands them over at once, so the frame that sees the press
    /// also sees the pointer already off the handle, and egui credits the press to nothing.
    fn drag_handles(&mut self, ui: &mut egui::Ui) -> bool {
        let score = self.link.params.score.current();
        let (origin, down, at) = ui.input(|i| {
            (
                i.pointer.press_origin(),
                i.pointer.primary_down(),
                i.pointer.latest_pos(),
            )
        });
        let moved = origin.zip(at).is_some_and(|(o, p)| o.distance(p) > 6.0);
        if !down {
            self.press_dragged = false;
        }
        ui.horizontal(|ui| {
            ui.label("Drag MIDI:");
            let handles = [
                ("All", None),
                ("Melody", Some(Part::Melody)),
                ("Chords", Some(Part::Harmony)),
                ("Bass", Some(Part::Bass)),
                ("Drums", Some(Part::Drums)),
            ];
            for (label, part) in handles {
                let has_notes = score.notes.iter().any(|n| part.is_none_or(|p| n.part == p));
                let what = part.map_or("the whole score", |_| "this part");
                let enabled = has_notes && !self.drag_out.busy();
                let handle = ui
                    .add_enabled(
                        enabled,
                        egui::Button::new(label).sense(egui::Sense::click_and_drag()),
                    )
                    .on_hover_text(format!(
                        "Drag onto a track in your DAW, or into a folder: {what} as a MIDI \
                         file at the current tempo"
                    ))
                    .on_hover_cursor(egui::CursorIcon::Grab);
                let pressed_here = origin.is_some_and(|o| handle.rect.contains(o));
                if enabled && down && pressed_here && moved && !self.press_dragged {
                    self.press_dragged = true;
                    self.drag_midi(part);
                } else if handle.clicked() {
                    self.info = Some((
                        String::from("Hold the mouse button on a handle and drag it out"),
                        false,
                    ));
                }
            }
            ui.separator();
            ui.link("+ Add pictures")
                .on_hover_text("Pictures to play after these, as sections of one piece")
                .clicked()
        })
        .inner
    }

    /// Loads pictures (one, or a piece); with `add` they become sections after the ones there are.
    fn load(&mut self, sources: Vec<Source>, add: bool) {
        let params = &self.link.params;
        self.info = None;
        self.loading = match sources.as_slice() {
            [Source::File(path)] if !add => Some(path.clone()),
            _ => None,
        };
        // (A new picture is read whole; added sections are read in the piece's region.)
        let settings = compose::Settings {
            region: params.settings().region.filter(|_| add),
            ..params.settings()
        };
        self.link.loader.load(
            sources,
            add,
            params.composition.clone(),
            params.score.clone(),
            settings,
        );
    }

    fn export_midi(&mut self, path: &std::path::Path) {
        let score = self.link.params.score.current();
        let bpm = self.tempo();
        let bytes = crate::midi_file::midi_file(&score, bpm);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.info = Some(match std::fs::write(path, bytes) {
            Ok(()) => (
                format!("Saved {name} ({} notes at {bpm:.1} BPM)", score.notes.len()),
                false,
            ),
            Err(e) => (format!("Could not save {name}: {e}"), true),
        });
        if let Some((message, true)) = &self.info {
            nice_plug::nice_warn!("{message}");
        }
    }

    /// Sends a picture's proposed timbre to the timbre parameters through the host's gesture
    /// path (begin, set, end), so the DAW records it and can undo it. Each goes as the
    /// normalised value the parameter holds exactly the score's value for (the patch is held,
    /// `Patch::held`), so the plug-in plays what `pixelody render` of the picture plays.
    fn apply_patch(&self, patch: &Patch) {
        let Some(gui) = &self.gui else { return };
        let setter = gui.param_setter();
        let p = &self.link.params;
        for (t, param) in p.timbre() {
            let value = (t.get)(patch);
            if value.is_finite() {
                controls::set_normalized_with_gesture(&setter, param, t.normalized_for(value));
            }
        }
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<std::path::PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if dropped.is_empty() {
            return;
        }
        // Every file dropped, a folder as the pictures in it (by name): one picture, or a piece
        // of several. What is not a picture is named in the status line and skipped.
        let sources = dropped
            .into_iter()
            .flat_map(|path| match crate::pipeline::pictures_in(&path) {
                Some(inside) if !inside.is_empty() => inside,
                _ => vec![path],
            })
            .map(Source::File)
            .collect();
        self.load(sources, false);
    }

    /// A composition parameter changed and the audio thread has not asked for its recomposition
    /// within [`RECOMPOSE_WAIT`] (no audio runs): recompose on a thread of its own, as a load
    /// does. Whoever takes the change first composes it; the other finds nothing to do.
    fn recompose(&mut self, ctx: &egui::Context) {
        if !self.link.params.composition.is_dirty() {
            self.dirty_since = None;
            return;
        }
        let since = *self.dirty_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed() < RECOMPOSE_WAIT {
            ctx.request_repaint_after(RECOMPOSE_WAIT);
            return;
        }
        self.dirty_since = None;
        let params = self.link.params.clone();
        let spawned = std::thread::Builder::new()
            .name(String::from("pixelody-recompose"))
            .spawn(move || crate::plugin::recompose_if_dirty(&params));
        if let Err(e) = spawned {
            self.info = Some((format!("Could not recompose ({e})"), true));
        }
        ctx.request_repaint_after(RECOMPOSE_WAIT);
    }

    /// What happened since the last frame: a picture's proposed sound (sent to the parameters
    /// unless Lock Timbre is on), files dropped on the editor, a drag out that ended.
    fn take_news(&mut self, ctx: &egui::Context) {
        let p = &self.link.params;
        if let Some(patch) = self.link.loader.take_proposal() {
            if !p.sound.lock_timbre.value() {
                self.apply_patch(&patch);
            }
        }
        self.handle_drops(ctx);
        if let Some((name, outcome)) = self.drag_out.poll() {
            let (message, bad) = drag_out::message(&name, &outcome);
            nice_plug::nice_log!("Drag MIDI out: {message}");
            self.info = Some((message, bad));
        }
    }

    /// The top bar: the buttons, the status line and any notice about the project's loading.
    /// Returns the file browser to open, if a button asks for one.
    fn top_bar(
        &mut self,
        ui: &mut egui::Ui,
        setter: &ParamSetter,
        status: &LoadStatus,
    ) -> Option<Purpose> {
        let mut open_browser = None;
        ui.horizontal(|ui| {
            ui.heading("Pixelody");
            ui.add_space(12.0);
            if ui.button("Open picture...").clicked() {
                open_browser = Some(Purpose::OpenPicture);
            }
            if ui.button("Export MIDI...").clicked() {
                open_browser = Some(Purpose::ExportMidi);
            }
            let button = ui.button("Randomise").on_hover_text(
                "Another Variation of this picture (Shift-click: another style too), as one \
                 change the host can undo",
            );
            if button.clicked() {
                let shift = ui.input(|i| i.modifiers.shift);
                let style = self.link.params.score.current().style.clone();
                let did = randomise::randomise(&self.link.params, setter, &style, shift);
                self.info = Some((format!("Randomise: {did}"), false));
            }
            ui.add_space(12.0);
            let score = self.link.params.score.current();
            status::status_line(ui, status, self.info.as_ref(), &score);
        });
        for notice in self.link.params.notices.all() {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, &notice);
                if ui.small_button("OK").clicked() {
                    self.link.params.notices.clear();
                }
            });
        }
        open_browser
    }

    /// The middle: the drag handles, the picture and piano roll (a piece's filmstrip rearranges
    /// its sections) and, on a fresh instance, the first-minute card. Returns the file browser to
    /// open, if asked for.
    fn music(&mut self, ui: &mut egui::Ui, status: &LoadStatus) -> Option<Purpose> {
        let mut open_browser = None;
        if self.drag_handles(ui) {
            open_browser = Some(Purpose::AddPictures);
        }
        let composition = self.link.params.composition.current();
        let score = self.link.params.score.current();
        let parts_on = self.link.params.mixes().map(|m| m.on.value());
        let region = self.link.params.composition.region();
        let (picture_area, strip, chosen) = piano_roll::music(
            ui,
            &mut self.picture,
            &composition,
            &score,
            &self.link.playhead,
            (parts_on, region),
        );
        if let Some(piano_roll::RegionChosen(region)) = chosen {
            self.link.params.composition.set_region(region);
            self.info = Some((
                match region {
                    Some(_) => String::from("Composing from the part of the picture you drew"),
                    None => String::from("Composing from the whole picture"),
                },
                false,
            ));
        }
        if let Some(action) = strip {
            let order = action.order(composition.sections.len());
            let p = &self.link.params;
            self.link
                .loader
                .rearrange(order, p.composition.clone(), p.score.clone(), p.settings());
        }
        if status::first_minute(&composition, status) && status::first_minute_card(ui, picture_area)
        {
            open_browser = Some(Purpose::OpenPicture);
        }
        open_browser
    }
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        theme::style(&egui_ctx);
        self.gui = Some(gui);
        self.recent = Recent::load();
        self.presets.reload_user();
        self.info = self.presets.take_problems();
        self.link
            .playhead
            .editor_open
            .store(true, Ordering::Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let ctx = ui.ctx().clone();
        self.take_news(&ctx);
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        let status = self.link.loader.status();
        match &status {
            LoadStatus::Loaded { .. } => {
                if let Some(path) = self.loading.take() {
                    self.recent.add(&path);
                }
            }
            LoadStatus::Failed { .. } => self.loading = None,
            _ => {}
        }
        let mut open_browser = None;
        nice_plug_egui::resizable_window::ResizableWindow::new("pixelody")
            .min_size(egui::vec2(MIN_SIZE.0 as f32, MIN_SIZE.1 as f32))
            .show(ui, |ui| {
                egui::Panel::top("bar").show(ui, |ui| {
                    open_browser = self.top_bar(ui, &setter, &status);
                });
                egui::Panel::right("controls")
                    .resizable(false)
                    .exact_size(410.0)
                    .show(ui, |ui| {
                        let said = self.presets.show(ui, &self.link.params, &setter);
                        if said.is_some() {
                            self.info = said;
                        }
                        ui.separator();
                        egui::ScrollArea::vertical().show(ui, |ui| {
                            controls::controls(ui, &self.link.params, &setter);
                        });
                    });
                egui::CentralPanel::default().show(ui, |ui| {
                    open_browser = self.music(ui, &status).or(open_browser);
                });
            });

        if let Some(purpose) = open_browser {
            let start = self.recent.paths.first().cloned();
            self.browser.open(purpose, start.as_deref());
        }
        match self.browser.show(&ctx, &self.recent) {
            Some(Chosen::Pictures(sources)) => self.load(sources, false),
            Some(Chosen::MorePictures(sources)) => self.load(sources, true),
            Some(Chosen::MidiFile(path)) => self.export_midi(&path),
            None => {}
        }
        status::drop_overlay(&ctx);
        // (After the controls: a change made in this frame is seen in this frame.)
        self.recompose(&ctx);

        // At the display rate while the playhead moves or a load runs; otherwise the editor
        // rests: parameters, published scores, loads and the transport wake it (see
        // `PixelodyEditor`), input wakes egui itself, and a frame every two seconds catches
        // anything else.
        let busy = matches!(status, LoadStatus::Working { .. }) || self.drag_out.busy();
        if self.link.playhead.playing() || busy {
            ctx.request_repaint_after(Duration::from_millis(16));
        } else {
            ctx.request_repaint_after(IDLE_FRAME);
        }
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        self.link
            .params
            .editor_size
            .set_scale(new_size.scale_factor);
        let l = new_size.logical;
        if l.width.is_finite() && l.height.is_finite() {
            self.link
                .params
                .editor_size
                .set_size(l.width.round() as u32, l.height.round() as u32);
        }
    }
}
