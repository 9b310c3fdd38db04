//! The preset bar at the top of the controls: previous, the menu (factory presets, then the
//! user's), next, and Save.... Loading goes through `plugin::presets::apply`, one host change.

use egui::Ui;
use nice_plug::prelude::*;

use crate::plugin::params::PixelodyParams;
use crate::plugin::presets::{self, Preset};

pub struct PresetBar {
    factory: Vec<Preset>,
    user: Vec<Preset>,
    /// User preset files that could not be read, said once in the status line.
    problems: Vec<String>,
    /// The preset loaded last (an index into factory then user), for "(edited)" and next.
    last: Option<usize>,
    /// The Save window's name field while it is open.
    saving: Option<String>,
}

impl Default for PresetBar {
    fn default() -> Self {
        PresetBar {
            factory: presets::factory(),
            user: Vec::new(),
            problems: Vec::new(),
            last: None,
            saving: None,
        }
    }
}

/// What the bar asks the editor to say in its status line.
pub type Said = Option<(String, bool)>;

impl PresetBar {
    /// Reads the user's presets again (at each editor opening, after a save or a delete).
    pub fn reload_user(&mut self) {
        let Some(folder) = presets::user_folder() else {
            return;
        };
        let (user, problems) = presets::load_user(&folder);
        self.user = user;
        self.problems = problems;
    }

    /// Problems reading the user's presets, once.
    pub fn take_problems(&mut self) -> Said {
        if self.problems.is_empty() {
            return None;
        }
        let text = format!(
            "Some presets could not be read: {}",
            std::mem::take(&mut self.problems).join("; ")
        );
        Some((text, true))
    }

    fn all(&self) -> impl Iterator<Item = &Preset> {
        self.factory.iter().chain(&self.user)
    }

    fn load(&mut self, index: usize, p: &PixelodyParams, setter: &ParamSetter) -> Said {
        let preset = self.all().nth(index)?.clone();
        presets::apply(p, setter, &preset);
        self.remember(p, Some(index));
        Some((format!("Preset: {}", preset.name), false))
    }

    /// Keeps `index` as the preset loaded last, in the project too (see
    /// `PixelodyParams::preset_name`).
    fn remember(&mut self, p: &PixelodyParams, index: Option<usize>) {
        self.last = index;
        let name = index
            .and_then(|i| self.all().nth(i))
            .map_or_else(String::new, |x| x.name.clone());
        *p.preset_name
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = name;
    }

    pub fn show(&mut self, ui: &mut Ui, p: &PixelodyParams, setter: &ParamSetter) -> Said {
        // (An editor or a project opened again, or a preset the host loaded: the preset loaded
        // last, by its name.)
        let name = p
            .preset_name
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let known = self.last.and_then(|i| self.all().nth(i)).map(|x| &x.name) == Some(&name);
        if !known {
            let found = self.all().position(|x| !name.is_empty() && x.name == name);
            self.last = found;
        }
        let count = self.factory.len() + self.user.len();
        let current = self.all().position(|preset| presets::matches(p, preset));
        let label = match (current, self.last) {
            (Some(i), _) => self.all().nth(i).map(|x| x.name.clone()),
            (None, Some(i)) => self.all().nth(i).map(|x| format!("{} (edited)", x.name)),
            (None, None) => None,
        }
        .unwrap_or_else(|| String::from("Custom"));
        let at = current.or(self.last);
        let mut said = None;
        ui.horizontal(|ui| {
            ui.label("Preset");
            let previous = ui
                .button("<")
                .on_hover_text("The previous preset, as one change the host can undo");
            if previous.clicked() {
                let i = at.map_or(count - 1, |i| (i + count - 1) % count);
                said = self.load(i, p, setter);
            }
            let mut chosen = None;
            // (Tall enough for every factory preset and a few of the musician's; the hovered
            // preset's description below the list, never over it.)
            let rows = count.min(24) as f32 + 4.0;
            egui::ComboBox::from_id_salt("preset")
                .width(180.0)
                .height(22.0 * rows)
                .selected_text(label)
                .show_ui(ui, |ui| {
                    let mut about: Option<&str> = None;
                    for (i, preset) in self.factory.iter().enumerate() {
                        let item = ui.selectable_label(at == Some(i), &preset.name);
                        if item.hovered() {
                            about = Some(&preset.about);
                        }
                        if item.clicked() {
                            chosen = Some(i);
                        }
                    }

                    if !self.user.is_empty() {
                        ui.separator();
                        ui.weak("Your presets");
                    }
                    for (j, preset) in self.user.iter().enumerate() {
                        let i = self.factory.len() + j;
                        if ui.selectable_label(at == Some(i), &preset.name).clicked() {
                            chosen = Some(i);
                        }
                    }
                    ui.separator();
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(about.unwrap_or(
                                "Hover a preset to read what it is; pick one to load it.",
                            ))
                            .weak()
                            .small(),
                        )
                        .wrap(),
                    );
                });
            if let Some(i) = chosen {
                said = self.load(i, p, setter);
            }
            let next = ui
                .button(">")
                .on_hover_text("The next preset, as one change the host can undo");
            if next.clicked() {
                let i = at.map_or(0, |i| (i + 1) % count);
                said = self.load(i, p, setter);
            }
            if ui
                .button("Save...")
                .on_hover_text("Save these settings as a preset of your own")
                .clicked()
            {
                let name = match at.filter(|&i| i >= self.factory.len()) {
                    Some(i) => self.all().nth(i).map(|x| x.name.clone()),
                    None => None,
                };
                self.saving = Some(name.unwrap_or_else(|| self.unused_name()));
            }
        });
        if let Some(s) = self.save_window(ui.ctx(), p) {
            said = Some(s);
        }
        said
    }

    /// "My preset", or "My preset 2", 3, ... when the user has one of that name.
    fn unused_name(&self) -> String {
        (1..)
            .map(|n| match n {
                1 => String::from("My preset"),
                n => format!("My preset {n}"),
            })
            .find(|name| !self.user.iter().any(|x| &x.name == name))
            .unwrap_or_default()
    }

    /// The Save window: a name, Save (replacing a preset of the same name), Delete for one of
    /// the user's own, Cancel.
    fn save_window(&mut self, ctx: &egui::Context, p: &PixelodyParams) -> Said {
        let mut name = self.saving.take()?;
        let mut open = true;
        let mut said = None;
        let existing = self.user.iter().position(|x| x.name.trim() == name.trim());
        egui::Window::new("Save preset")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label("Name");
                let field = ui.text_edit_singleline(&mut name);
                field.request_focus();
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if existing.is_some() {
                    ui.weak("Replaces your preset of that name.");
                }
                ui.horizontal(|ui| {
                    let valid = !name.trim().is_empty();
                    if (ui.add_enabled(valid, egui::Button::new("Save")).clicked() || enter)
                        && valid
                    {
                        said = Some(self.save(p, name.trim()));
                        open = false;
                    }
                    if let Some(j) = existing {
                        if ui.button("Delete").clicked() {
                            said = Some(self.delete(j));
                            self.remember(p, None);
                            open = false;
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        open = false;
                    }
                });
            });
        if open {
            self.saving = Some(name);
        }
        said
    }

    fn save(&mut self, p: &PixelodyParams, name: &str) -> (String, bool) {
        let Some(folder) = presets::user_folder() else {
            return (
                String::from("Could not save: no home folder to keep presets in"),
                true,
            );
        };
        match presets::save_user(&folder, &presets::capture(p, name)) {
            Ok(path) => {
                self.reload_user();
                let saved = self
                    .user
                    .iter()
                    .position(|x| x.name == name)
                    .map(|j| self.factory.len() + j);
                self.remember(p, saved);
                (format!("Saved preset {name} ({})", path.display()), false)
            }
            Err(e) => (format!("Could not save preset {name}: {e}"), true),
        }
    }

    fn delete(&mut self, j: usize) -> (String, bool) {
        let Some(folder) = presets::user_folder() else {
            return (String::from("No presets folder"), true);
        };
        let name = self.user[j].name.clone();
        let said = match std::fs::remove_file(presets::file_for(&folder, &name)) {
            Ok(()) => (format!("Deleted preset {name}"), false),
            Err(e) => (format!("Could not delete preset {name}: {e}"), true),
        };
        self.last = None;
        self.reload_user();
        said
    }
}
