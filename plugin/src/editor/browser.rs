//! An in-editor file browser (pure egui: a native dialog may be missing or misbehave inside a
//! host) for "Open picture..." and "Export MIDI...", and the recent-files list, which is kept per
//! user in `$XDG_CONFIG_HOME/pixelody/recent-files.txt` (or `~/.config/...`).

use std::path::{Path, PathBuf};

use crate::plugin::loader::{looks_like_picture, Source};

const RECENT_MAX: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Purpose {
    OpenPicture,
    /// Pictures to add to the piece as sections after the ones it has.
    AddPictures,
    ExportMidi,
}

/// What the musician chose in the browser.
#[derive(Clone, Debug, PartialEq)]
pub enum Chosen {
    /// One picture, or several (picked with Ctrl or Shift): a piece.
    Pictures(Vec<Source>),
    /// Pictures to add to the piece.
    MorePictures(Vec<Source>),
    MidiFile(PathBuf),
}

struct Entry {
    name: String,
    path: PathBuf,
    is_dir: bool,
}

pub struct Browser {
    purpose: Option<Purpose>,
    dir: PathBuf,
    entries: Vec<Entry>,
    /// The path field: a folder to go to or a file to open.
    typed: String,
    /// The file name to save under (Export MIDI).
    save_name: String,
    /// The files picked (Ctrl-click adds or removes one, Shift-click a run from the last).
    selected: Vec<PathBuf>,
    problem: Option<String>,
    /// Whether it has been open in this session: it then opens where it was left.
    opened: bool,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            purpose: None,
            dir: home(),
            entries: Vec::new(),
            typed: String::new(),
            save_name: String::from("pixelody.mid"),
            selected: Vec::new(),
            problem: None,
            opened: false,
        }
    }
}

/// What the musician asked for in one frame of the browser.
#[derive(Default)]
struct Asked {
    go_to: Option<PathBuf>,
    chosen: Option<Chosen>,
    close: bool,
}

impl Browser {
    pub fn is_open(&self) -> bool {
        self.purpose.is_some()
    }

    /// Opens it for `purpose`: the first time in the session in `start`'s folder (the newest
    /// recent picture's), after that in the folder it was left in (also after a load that
    /// failed, which adds nothing to the recent pictures).
    pub fn open(&mut self, purpose: Purpose, start: Option<&Path>) {
        self.purpose = Some(purpose);
        let dir = start
            .filter(|_| !self.opened)
            .and_then(|p| p.parent())
            .filter(|d| d.is_dir())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.dir.clone());
        self.opened = true;
        self.go(dir);
    }

    pub fn close(&mut self) {
        self.purpose = None;
    }

    /// Lists `dir`: folders, then the files the purpose can use, each sorted by name.
    fn go(&mut self, dir: PathBuf) {
        match std::fs::read_dir(&dir) {
            Ok(list) => {
                let mut entries: Vec<Entry> = list
                    .flatten()
                    .filter_map(|e| {
                        let path = e.path();
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.starts_with('.') {
                            return None;
                        }
                        let is_dir = path.is_dir();
                        let wanted = is_dir
                            || match self.purpose {
                                Some(Purpose::ExportMidi) => {
                                    path.extension().is_some_and(|x| x == "mid")
                                }
                                _ => looks_like_picture(&path),
                            };
                        wanted.then_some(Entry { name, path, is_dir })
                    })
                    .collect();
                entries.sort_by(|a, b| {
                    b.is_dir
                        .cmp(&a.is_dir)
                        .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
                });
                self.entries = entries;
                self.typed = dir.to_string_lossy().into_owned();
                self.dir = dir;
                self.selected.clear();
                self.problem = None;
            }
            Err(e) => {
                self.problem = Some(format!("Cannot open {}: {e}", dir.display()));
            }
        }
    }

    /// Draws the browser while it is open; returns what the musician chose.
    pub fn show(&mut self, ctx: &egui::Context, recent: &Recent) -> Option<Chosen> {
        let purpose = self.purpose?;
        let title = match purpose {
            Purpose::OpenPicture => "Open picture (Ctrl or Shift: several, as one piece)",
            Purpose::AddPictures => "Add pictures to the piece",
            Purpose::ExportMidi => "Export MIDI file",
        };
        let mut asked = Asked::default();
        // (One window for every purpose, of one size: it stays where it is, its path field with
        // it, whatever the folder lists.)
        egui::Window::new(title)
            .id(egui::Id::unique("pixelody-browser"))
            .collapsible(false)
            .resizable(false)
            .fixed_size([560.0, 400.0])
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                self.path_bar(ui, purpose, &mut asked);
                if let Some(problem) = &self.problem {
                    ui.colored_label(ui.visuals().error_fg_color, problem);
                }
                ui.separator();
                ui.columns(2, |cols| {
                    egui::ScrollArea::vertical()
                        .id_salt("files")
                        .max_height(280.0)
                        .show(&mut cols[0], |ui| self.file_list(ui, purpose, &mut asked));
                    self.side(&mut cols[1], purpose, recent, &mut asked);
                });
                ui.separator();
                ui.horizontal(|ui| self.buttons(ui, purpose, &mut asked));
            });
        if let Some(dir) = asked.go_to {
            self.go(dir);
        }
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) || asked.close || asked.chosen.is_some()
        {
            self.purpose = None;
        }
        asked.chosen
    }

    /// Up, Home and a path to type.
    fn path_bar(&mut self, ui: &mut egui::Ui, purpose: Purpose, asked: &mut Asked) {
        ui.horizontal(|ui| {
            if ui.button("Up").clicked() {
                if let Some(parent) = self.dir.parent() {
                    asked.go_to = Some(parent.to_path_buf());
                }
            }
            if ui.button("Home").clicked() {
                asked.go_to = Some(home());
            }
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.typed)
                    .desired_width(f32::INFINITY)
                    .hint_text("Folder or file path"),
            );
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                let typed = PathBuf::from(self.typed.trim());
                if typed.is_dir() {
                    asked.go_to = Some(typed);
                } else if purpose != Purpose::ExportMidi {
                    asked.chosen = Some(pictures(purpose, vec![typed]));
                }
            }
        });
    }

    /// The folder's entries: a click selects (Ctrl or Shift: several), a double click takes.
    fn file_list(&mut self, ui: &mut egui::Ui, purpose: Purpose, asked: &mut Asked) {
        if self.entries.is_empty() {
            ui.weak(match purpose {
                Purpose::ExportMidi => "No MIDI files in this folder",
                _ => "No pictures in this folder",
            });
        }
        let modifiers = ui.input(|i| i.modifiers);
        for (index, e) in self.entries.iter().enumerate() {
            let label = if e.is_dir {
                format!("{}/", e.name)
            } else {
                e.name.clone()
            };
            let selected = self.selected.contains(&e.path);
            let r = ui.selectable_label(selected, label);
            if r.clicked() {
                if e.is_dir {
                    asked.go_to = Some(e.path.clone());
                } else if purpose == Purpose::ExportMidi {
                    self.selected = vec![e.path.clone()];
                    self.save_name = e.name.clone();
                } else {
                    self.selected = picked(&self.entries, &self.selected, index, modifiers);
                }
            }
            if r.double_clicked() && !e.is_dir {
                asked.chosen = Some(match purpose {
                    Purpose::ExportMidi => Chosen::MidiFile(e.path.clone()),
                    _ => pictures(purpose, vec![e.path.clone()]),
                });
            }
        }
    }

    /// Beside the files: the recent pictures and the examples, or the MIDI file's name.
    fn side(&mut self, ui: &mut egui::Ui, purpose: Purpose, recent: &Recent, asked: &mut Asked) {
        if purpose == Purpose::ExportMidi {
            ui.strong("File name");
            ui.text_edit_singleline(&mut self.save_name);
            ui.weak("One track per part, with the tempo.");
            return;
        }
        ui.strong("Recent");
        if recent.paths.is_empty() {
            ui.weak("Pictures you open appear here.");
        }
        for path in &recent.paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ui
                .link(name)
                .on_hover_text(path.to_string_lossy())
                .clicked()
            {
                asked.chosen = Some(pictures(purpose, vec![path.clone()]));
            }
        }
        ui.add_space(8.0);
        ui.strong("Examples");
        for (name, _) in crate::plugin::examples::EXAMPLES {
            if ui.link(name).clicked() {
                asked.chosen = Some(sources(purpose, vec![Source::Example(name)]));
            }
        }
    }

    /// Open, Add or Save, and Cancel.
    fn buttons(&mut self, ui: &mut egui::Ui, purpose: Purpose, asked: &mut Asked) {
        let action = match purpose {
            Purpose::OpenPicture => "Open",
            Purpose::AddPictures => "Add",
            Purpose::ExportMidi => "Save",
        };
        let ready = match purpose {
            Purpose::ExportMidi => !self.save_name.trim().is_empty(),
            _ => !self.selected.is_empty(),
        };
        if self.selected.len() > 1 {
            ui.weak(format!("{} pictures: one piece", self.selected.len()));
        }
        if ui.add_enabled(ready, egui::Button::new(action)).clicked() {
            asked.chosen = match purpose {
                Purpose::OpenPicture | Purpose::AddPictures => {
                    Some(pictures(purpose, self.selected.clone()))
                }
                Purpose::ExportMidi => {
                    let mut name = self.save_name.trim().to_string();
                    if !name.to_lowercase().ends_with(".mid") {
                        name.push_str(".mid");
                    }
                    Some(Chosen::MidiFile(self.dir.join(name)))
                }
            };
        }
        if ui.button("Cancel").clicked() {
            asked.close = true;
        }
    }
}

/// What choosing `paths` means for `purpose`.
fn pictures(purpose: Purpose, paths: Vec<PathBuf>) -> Chosen {
    sources(purpose, paths.into_iter().map(Source::File).collect())
}

fn sources(purpose: Purpose, sources: Vec<Source>) -> Chosen {
    match purpose {
        Purpose::AddPictures => Chosen::MorePictures(sources),
        _ => Chosen::Pictures(sources),
    }
}

/// The files picked after a click on entry `index`: it alone; with Ctrl (Cmd) it added to or
/// taken from `selected`; with Shift the run from the last picked to it. Folders are never
/// picked.
fn picked(
    entries: &[Entry],
    selected: &[PathBuf],
    index: usize,
    modifiers: egui::Modifiers,
) -> Vec<PathBuf> {
    let path = &entries[index].path;
    if modifiers.command {
        let mut v = selected.to_vec();
        match v.iter().position(|p| p == path) {
            Some(i) => {
                v.remove(i);
            }
            None => v.push(path.clone()),
        }
        v
    } else if modifiers.shift {
        let anchor = selected
            .last()
            .and_then(|last| entries.iter().position(|e| &e.path == last))
            .unwrap_or(index);
        let (a, b) = (anchor.min(index), anchor.max(index));
        entries[a..=b]
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.path.clone())
            .collect()
    } else {
        vec![path.clone()]
    }
}

/// The pictures opened last, newest first; shared by every Pixelody instance of the user.
#[derive(Default)]
pub struct Recent {
    pub paths: Vec<PathBuf>,
}

fn recent_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("pixelody").join("recent-files.txt"))
}

impl Recent {
    pub fn load() -> Recent {
        let paths = recent_file()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .map(|text| {
                text.lines()
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .take(RECENT_MAX)
                    .collect()
            })
            .unwrap_or_default();
        Recent { paths }
    }

    /// Puts `path` first and saves the list (a failure to save only loses the list).
    pub fn add(&mut self, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.paths.retain(|p| *p != path);
        self.paths.insert(0, path);
        self.paths.truncate(RECENT_MAX);
        if let Some(file) = recent_file() {
            let text: String = self
                .paths
                .iter()
                .filter_map(|p| p.to_str())
                .map(|p| format!("{p}\n"))
                .collect();
            let saved = file
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&file, text));
            if let Err(e) = saved {
                nice_plug::nice_warn!("Could not save the recent files list: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        ["dir", "a.png", "b.png", "c.png", "d.png"]
            .iter()
            .map(|n| Entry {
                name: n.to_string(),
                path: PathBuf::from(n),
                is_dir: *n == "dir",
            })
            .collect()
    }

    fn paths(v: &[&str]) -> Vec<PathBuf> {
        v.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn it_opens_where_it_was_left_after_the_first_time() {
        let root = std::env::temp_dir().join(format!("pixelody-browser-{}", std::process::id()));
        let (recent, other) = (root.join("recent"), root.join("other"));
        std::fs::create_dir_all(&recent).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let mut b = Browser::default();
        // The first time: the newest recent picture's folder.
        b.open(Purpose::OpenPicture, Some(&recent.join("sea.png")));
        assert_eq!(b.dir, recent);
        // The musician goes elsewhere, picks a file that fails to load (nothing is added to the
        // recent pictures) and opens the browser again: it is where it was left.
        b.go(other.clone());
        b.close();
        b.open(Purpose::OpenPicture, Some(&recent.join("sea.png")));
        assert_eq!(b.dir, other);
        b.open(Purpose::ExportMidi, None);
        assert_eq!(b.dir, other);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn ctrl_adds_and_removes_shift_picks_a_run_without_folders() {
        let e = entries();
        let none = egui::Modifiers::NONE;
        let ctrl = egui::Modifiers::COMMAND;
        let shift = egui::Modifiers::SHIFT;
        let one = picked(&e, &[], 1, none);
        assert_eq!(one, paths(&["a.png"]));
        let two = picked(&e, &one, 3, ctrl);
        assert_eq!(two, paths(&["a.png", "c.png"]));
        assert_eq!(picked(&e, &two, 1, ctrl), paths(&["c.png"]));
        // A run from the last picked (c) back to the folder: the folder is left out.
        assert_eq!(
            picked(&e, &two, 0, shift),
            paths(&["a.png", "b.png", "c.png"])
        );
        assert_eq!(
            picked(&e, &one, 4, shift),
            paths(&["a.png", "b.png", "c.png", "d.png"])
        );
        // A plain click picks only that one again.
        assert_eq!(picked(&e, &two, 2, none), paths(&["b.png"]));
    }
}
