//! Drawing: the picture with its playhead, the piano roll, the grouped controls, the status line
//! and the drop highlight.

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::analysis::Picture;
use crate::plugin::composition::Composition;
use crate::plugin::loader::{looks_like_picture, LoadStatus};
use crate::plugin::params::PixelodyParams;
use crate::plugin::status::Playhead;
use crate::score::{drum, Part, Score};

const ACCENT: Color32 = Color32::from_rgb(255, 176, 72);
const BACKGROUND: Color32 = Color32::from_rgb(22, 23, 28);
const PANEL: Color32 = Color32::from_rgb(30, 32, 38);

pub fn part_colour(part: Part) -> Color32 {
    match part {
        Part::Melody => Color32::from_rgb(255, 196, 84),
        Part::Harmony => Color32::from_rgb(84, 206, 190),
        Part::Bass => Color32::from_rgb(170, 124, 255),
        Part::Drums => Color32::from_rgb(230, 110, 110),
    }
}

pub fn style(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.global_style_mut(|style| {
        style.visuals.panel_fill = PANEL;
        style.visuals.window_fill = PANEL;
        style.visuals.extreme_bg_color = BACKGROUND;
        style.visuals.selection.bg_fill = Color32::from_rgb(160, 98, 30);
        style.visuals.hyperlink_color = ACCENT;
        style.spacing.item_spacing = Vec2::new(8.0, 6.0);
    });
}

/// The pictures as textures (a piece's every section), each uploaded once while it is shown.
#[derive(Default)]
pub struct PictureTexture {
    shown: Vec<(Arc<Picture>, egui::TextureHandle)>,
}

impl PictureTexture {
    fn get(&mut self, ctx: &egui::Context, picture: &Arc<Picture>) -> egui::TextureId {
        if let Some((_, t)) = self.shown.iter().find(|(p, _)| Arc::ptr_eq(p, picture)) {
            return t.id();
        }
        let bytes: Vec<u8> = picture.rgb.iter().flatten().copied().collect();
        let image = egui::ColorImage::from_rgb([picture.width, picture.height], &bytes);
        let texture = ctx.load_texture("picture", image, egui::TextureOptions::LINEAR);
        let id = texture.id();
        self.shown.push((picture.clone(), texture));
        id
    }

    /// Lets go of the textures of pictures `composition` no longer has.
    fn keep_only(&mut self, composition: &Composition) {
        self.shown.retain(|(p, _)| {
            composition
                .sections
                .iter()
                .any(|s| Arc::ptr_eq(p, &s.picture))
        });
    }
}

/// What the musician did in the filmstrip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StripAction {
    Remove(usize),
    /// Section `from` dragged onto section `to`'s place.
    Move {
        from: usize,
        to: usize,
    },
}

impl StripAction {
    /// The sections' new order (indices into the current `n`).
    pub fn order(self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        match self {
            StripAction::Remove(k) if k < n => {
                order.remove(k);
            }
            StripAction::Move { from, to } if from < n && to < n => {
                let moved = order.remove(from);
                order.insert(to, moved);
            }
            _ => {}
        }
        order
    }
}

/// The filmstrip of a piece's sections in `strip`: each picture small, the playing one framed in
/// the accent colour with the playhead across it (`playing`: the section and how far through it
/// the playhead is, 0..1); drag one onto another's place to move it, click its corner x to
/// remove it.
fn filmstrip(
    ui: &mut Ui,
    strip: Rect,
    textures: &mut PictureTexture,
    composition: &Composition,
    playing: Option<(usize, f32)>,
) -> Option<StripAction> {
    let n = composition.sections.len();
    let gap = 4.0;
    let height = strip.height();
    let width = ((strip.width() - gap * (n as f32 - 1.0)) / n as f32).min(height * 1.6);
    let mut action = None;
    ui.scope_builder(egui::UiBuilder::new().max_rect(strip), |ui| {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = gap;
            for (k, section) in composition.sections.iter().enumerate() {
                let (rect, response) =
                    ui.allocate_exact_size(Vec2::new(width, height), Sense::click_and_drag());
                let id = textures.get(ui.ctx(), &section.picture);
                let painter = ui.painter_at(rect);
                painter.rect_filled(rect, 2.0, BACKGROUND);
                let p = &section.picture;
                let aspect = p.width as f32 / p.height.max(1) as f32;
                let size = if rect.width() / rect.height() > aspect {
                    Vec2::new(rect.height() * aspect, rect.height())
                } else {
                    Vec2::new(rect.width(), rect.width() / aspect)
                };
                painter.image(
                    id,
                    Rect::from_center_size(rect.center(), size),
                    Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                    Color32::WHITE,
                );
                if let Some((_, through)) = playing.filter(|(p, _)| *p == k) {
                    painter.rect_stroke(rect, 2.0, Stroke::new(2.0, ACCENT), StrokeKind::Inside);
                    let x = rect.min.x + through.clamp(0.0, 1.0) * rect.width();
                    painter.line_segment(
                        [Pos2::new(x, rect.min.y), Pos2::new(x, rect.max.y)],
                        Stroke::new(1.5, Color32::WHITE),
                    );
                }
                let close = Rect::from_min_size(
                    Pos2::new(rect.max.x - 16.0, rect.min.y),
                    Vec2::splat(16.0),
                );
                if response.hovered() && n > 1 {
                    painter.rect_filled(close, 2.0, Color32::from_black_alpha(200));
                    painter.text(
                        close.center(),
                        Align2::CENTER_CENTER,
                        "x",
                        FontId::proportional(12.0),
                        Color32::WHITE,
                    );
                }
                if response.dnd_hover_payload::<usize>().is_some() {
                    painter.rect_stroke(
                        rect,
                        2.0,
                        Stroke::new(2.0, Color32::WHITE),
                        StrokeKind::Inside,
                    );
                }
                let response = response.on_hover_text(format!(
                    "{}: drag onto another section to move it there; x removes it",
                    section.name
                ));
                response.dnd_set_drag_payload(k);
                if let Some(from) = response.dnd_release_payload::<usize>() {
                    if *from != k {
                        action = Some(StripAction::Move { from: *from, to: k });
                    }
                }
                let on_close = response
                    .interact_pointer_pos()
                    .is_some_and(|p| close.contains(p));
                if response.clicked() && on_close && n > 1 {
                    action = Some(StripAction::Remove(k));
                }
            }
        });
    });
    action
}

/// What a loaded picture became, for the status line: "coffee.jpg: G major, Ballad, 8 bars".
pub fn became(name: &str, score: &Score) -> String {
    let bars = score.bars();
    let length = if bars == 1.0 {
        String::from("1 bar")
    } else {
        format!("{bars} bars")
    };
    let mut parts = vec![score.tonality.clone()];
    if !score.style.is_empty() {
        parts.push(score.style.clone());
    } else if score.spectrum.is_some() {
        parts.push(String::from("Spectral"));
    }
    parts.push(length);
    parts.retain(|p| !p.is_empty());
    format!("{name}: {}", parts.join(", "))
}

pub fn status_line(ui: &mut Ui, status: &LoadStatus, info: Option<&(String, bool)>, score: &Score) {
    match status {
        LoadStatus::Working { name, since } => {
            ui.add(egui::Spinner::new());
            ui.label(format!(
                "Turning {name} into music... {:.1} s (the current sound keeps playing)",
                since.elapsed().as_secs_f32()
            ));
            return;
        }
        LoadStatus::Failed { message } => {
            ui.colored_label(ui.visuals().error_fg_color, message);
            return;
        }
        _ => {}
    }
    match info {
        Some((message, true)) => {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        Some((message, false)) => {
            ui.label(message);
        }
        None => match status {
            LoadStatus::Loaded { name, skipped } => {
                ui.label(became(name, score));
                if skipped.is_empty() {
                    ui.weak("Drop another picture to change it.");
                } else {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("Skipped {}", skipped.join("; ")),
                    );
                }
            }
            _ => {
                ui.weak("Drop a picture here, or open one.");
            }
        },
    }
}

/// The picture above (with a piece's filmstrip under it), the piano roll below, one playhead
/// through both. Returns where the picture is drawn and what was done in the filmstrip.
pub fn music(
    ui: &mut Ui,
    texture: &mut PictureTexture,
    composition: &Composition,
    score: &Score,
    playhead: &Playhead,
) -> (Rect, Option<StripAction>) {
    let settings = &composition.settings;
    ui.horizontal(|ui| {
        ui.strong(&score.source);
        ui.separator();
        ui.label(if score.tonality.is_empty() {
            "-"
        } else {
            &score.tonality
        });
        ui.separator();
        if score.style.is_empty() {
            ui.label(format!("{:?}", settings.mode));
        } else {
            ui.label(format!("{:?} · {}", settings.mode, score.style));
        }
        ui.separator();
        ui.label(format!(
            "{} bars, {} notes",
            (score.length_beats / 4.0).round(),
            score.notes.len()
        ));
    });
    let full = ui.available_rect_before_wrap();
    let picture_height = (full.height() * 0.5).max(80.0);
    let pieces = composition.sections.len() > 1;
    let strip_height = if pieces { 44.0 } else { 0.0 };
    let picture_area = Rect::from_min_size(
        full.min,
        Vec2::new(full.width(), picture_height - strip_height),
    );
    let strip_area = Rect::from_min_size(
        Pos2::new(full.min.x, picture_area.max.y + 4.0),
        Vec2::new(full.width(), (strip_height - 4.0).max(0.0)),
    );
    let roll_area = Rect::from_min_max(
        Pos2::new(full.min.x, picture_area.max.y + strip_height + 8.0),
        full.max,
    );
    ui.allocate_rect(full, Sense::hover());
    let painter = ui.painter_at(full);

    // The picture, fitted, with the playhead.
    // The playing section's picture (a piece shows each in turn), else the first.
    let picture = if playhead.playing() {
        composition.picture_at(playhead.beat(), score.length_beats)
    } else {
        composition.picture()
    };
    let aspect = picture.width as f32 / picture.height.max(1) as f32;
    let size = if picture_area.width() / picture_area.height() > aspect {
        Vec2::new(picture_area.height() * aspect, picture_area.height())
    } else {
        Vec2::new(picture_area.width(), picture_area.width() / aspect)
    };
    let image_rect = Rect::from_center_size(picture_area.center(), size);
    let id = texture.get(ui.ctx(), picture);
    painter.rect_filled(picture_area, 4.0, BACKGROUND);
    painter.image(
        id,
        image_rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    let progress = if score.length_beats > 0.0 {
        (playhead.beat() / score.length_beats).clamp(0.0, 1.0) as f32
    } else {
        0.0
    };
    let line = |rect: Rect| {
        let x = rect.min.x + progress * rect.width();
        painter.line_segment(
            [Pos2::new(x, rect.min.y), Pos2::new(x, rect.max.y)],
            Stroke::new(2.0, Color32::WHITE),
        );
    };
    if playhead.playing() {
        line(image_rect);
    }

    // The piano roll (or the spectrogram the Spectral mode plays).
    painter.rect_filled(roll_area, 4.0, BACKGROUND);
    let beats = score.length_beats.max(1e-6);
    let bar_beats = 4.0;
    let mut b = 0.0;
    while b < beats {
        let x = roll_area.min.x + (b / beats) as f32 * roll_area.width();
        painter.line_segment(
            [Pos2::new(x, roll_area.min.y), Pos2::new(x, roll_area.max.y)],
            Stroke::new(1.0, Color32::from_gray(52)),
        );
        b += bar_beats;
    }
    // A piece's sections begin on brighter lines.
    for section in score.sections.iter().skip(1) {
        let x = roll_area.min.x + (section.start_beats / beats) as f32 * roll_area.width();
        painter.line_segment(
            [Pos2::new(x, roll_area.min.y), Pos2::new(x, roll_area.max.y)],
            Stroke::new(2.0, Color32::from_gray(110)),
        );
    }
    if let Some(spectrum) = score.spectrum.as_ref().filter(|s| s.is_valid()) {
        let (frames, partials) = (spectrum.frames, spectrum.partials());
        let cell = Vec2::new(
            roll_area.width() / frames.max(1) as f32,
            roll_area.height() / partials.max(1) as f32,
        );
        for f in 0..frames {
            for p in 0..partials {
                let a = spectrum.amps[f * partials + p].clamp(0.0, 1.0);
                if a < 0.02 {
                    continue;
                }
                let min = Pos2::new(
                    roll_area.min.x + f as f32 * cell.x,
                    roll_area.max.y - (p + 1) as f32 * cell.y,
                );
                let c = ACCENT.gamma_multiply(a.sqrt());
                painter.rect_filled(Rect::from_min_size(min, cell), 0.0, c);
            }
        }
    } else if !score.notes.is_empty() {
        // Drums in lanes at the bottom (one per drum of the kit), pitched notes above.
        let has_drums = score.notes.iter().any(|n| n.part == Part::Drums);
        let lane = if has_drums {
            (roll_area.height() * 0.04).clamp(3.0, 9.0)
        } else {
            0.0
        };
        let drum_height = lane * drum::ALL.len() as f32;
        let pitched_area = Rect::from_min_max(
            roll_area.min,
            Pos2::new(
                roll_area.max.x,
                roll_area.max.y - drum_height - if has_drums { 4.0 } else { 0.0 },
            ),
        );
        for n in score.notes.iter().filter(|n| n.part == Part::Drums) {
            let k = drum::ALL.iter().position(|&d| d == n.pitch).unwrap_or(1);
            let x0 = roll_area.min.x + (n.start_beats / beats) as f32 * roll_area.width();
            let w = ((n.length_beats / beats) as f32 * roll_area.width()).clamp(2.0, 6.0);
            let y = roll_area.max.y - (k + 1) as f32 * lane;
            let rect = Rect::from_min_size(Pos2::new(x0, y), Vec2::new(w, lane));
            let c =
                part_colour(Part::Drums).gamma_multiply(0.45 + 0.55 * n.velocity.clamp(0.0, 1.0));
            painter.rect_filled(rect.shrink(0.5), 1.0, c);
        }
        let roll_area = pitched_area;
        let pitched = || score.notes.iter().filter(|n| n.part != Part::Drums);
        let lo = pitched()
            .map(|n| n.pitch)
            .min()
            .unwrap_or(48)
            .saturating_sub(2);
        let hi = pitched()
            .map(|n| n.pitch)
            .max()
            .unwrap_or(84)
            .saturating_add(2)
            .max(lo + 1);
        let rows = f32::from(hi - lo + 1);
        let row = roll_area.height() / rows;
        for n in pitched() {
            let x0 = roll_area.min.x + (n.start_beats / beats) as f32 * roll_area.width();
            let w = ((n.length_beats / beats) as f32 * roll_area.width()).max(2.0);
            let y = roll_area.max.y - f32::from(n.pitch - lo + 1) * row;
            let rect = Rect::from_min_size(Pos2::new(x0, y), Vec2::new(w, row.max(2.0)));
            let c = part_colour(n.part).gamma_multiply(0.45 + 0.55 * n.velocity.clamp(0.0, 1.0));
            painter.rect_filled(rect.shrink(0.5), 1.5, c);
        }
    } else {
        painter.text(
            roll_area.center(),
            Align2::CENTER_CENTER,
            "No notes: the picture is too dark for the threshold",
            FontId::proportional(14.0),
            Color32::from_gray(150),
        );
    }
    if playhead.playing() {
        line(roll_area);
    }
    // Legend.
    let mut x = roll_area.min.x + 8.0;
    for part in Part::ALL {
        let r = painter.text(
            Pos2::new(x, roll_area.min.y + 6.0),
            Align2::LEFT_TOP,
            part.name(),
            FontId::proportional(12.0),
            part_colour(part),
        );
        x = r.max.x + 12.0;
    }
    texture.keep_only(composition);
    let strip = if pieces {
        let playing = playhead.playing().then(|| {
            let k = composition.section_at(playhead.beat(), score.length_beats);
            let n = composition.sections.len() as f32;
            (k, progress * n - k as f32)
        });
        filmstrip(ui, strip_area, texture, composition, playing)
    } else {
        None
    };
    (picture_area, strip)
}

/// Whether the editor shows a fresh instance: the bundled example plays and nothing has been
/// loaded since.
pub fn first_minute(composition: &Composition, status: &LoadStatus) -> bool {
    matches!(status, LoadStatus::Idle)
        && composition
            .source
            .starts_with(&format!("{} (", crate::plugin::EXAMPLE_NAME))
}

/// The first-minute card over the bottom of the picture: what to do. Returns true when its
/// button is clicked (open the browser, where the examples are).
pub fn first_minute_card(ui: &mut Ui, picture_area: Rect) -> bool {
    let size = Vec2::new(picture_area.width().min(400.0), 74.0);
    let card = Rect::from_center_size(
        Pos2::new(
            picture_area.center().x,
            picture_area.max.y - size.y / 2.0 - 10.0,
        ),
        size,
    );
    let mut open = false;
    ui.scope_builder(egui::UiBuilder::new().max_rect(card), |ui| {
        egui::Frame::popup(ui.style())
            .fill(Color32::from_black_alpha(200))
            .show(ui, |ui| {
                ui.set_width(card.width() - 16.0);
                ui.vertical_centered(|ui| {
                    ui.strong("Drop a picture here to turn it into music");
                    ui.horizontal(|ui| {
                        ui.weak("This is the bundled example.");
                        open = ui.link("Open a picture, or pick an example").clicked();
                    });
                });
            });
    });
    open
}

/// Sets a parameter the way a host records a musician's change: begin, set, end.
pub fn set_with_gesture<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// What Randomise picks: another Variation (0..=`max`, never `current`) from `entropy`, and with
/// `new_style` another style than the one playing (`playing`, the score's style name), never
/// Auto.
pub fn randomised(
    current: i32,
    max: i32,
    playing: &str,
    new_style: bool,
    entropy: u64,
) -> (i32, Option<crate::plugin::params::StyleChoice>) {
    use crate::plugin::params::StyleChoice;
    let span = max.max(1) as u64;
    // Any value but the current one: a step of 1..=max around the range.
    let variation = ((i64::from(current) + 1 + (entropy % span) as i64) % (span as i64 + 1)) as i32;
    let style = new_style.then(|| {
        let others: Vec<StyleChoice> = (1..StyleChoice::variants().len())
            .map(StyleChoice::from_index)
            .filter(|s| StyleChoice::variants()[s.to_index()] != playing)
            .collect();
        others[((entropy >> 32) % others.len() as u64) as usize]
    });
    (variation, style)
}

/// Randomise: another Variation (and with `new_style` another style), set as one gesture so the
/// host records one change.
pub fn randomise(p: &PixelodyParams, setter: &ParamSetter, playing_style: &str, new_style: bool) {
    let entropy = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let (variation, style) = randomised(
        p.composing.variation.value(),
        999,
        playing_style,
        new_style,
        entropy,
    );
    setter.begin_set_parameter(&p.composing.variation);
    if style.is_some() {
        setter.begin_set_parameter(&p.composing.style);
    }
    setter.set_parameter(&p.composing.variation, variation);
    if let Some(style) = style {
        setter.set_parameter(&p.composing.style, style);
        setter.end_set_parameter(&p.composing.style);
    }
    setter.end_set_parameter(&p.composing.variation);
}

/// A dropdown for an enum parameter, through the gesture path.
fn choice<T: Enum + PartialEq + Copy + 'static>(
    ui: &mut Ui,
    param: &EnumParam<T>,
    setter: &ParamSetter,
) {
    let current = param.value();
    let names = T::variants();
    egui::ComboBox::from_id_salt(param.name())
        .width(150.0)
        .selected_text(names[current.to_index()])
        .show_ui(ui, |ui| {
            for (i, name) in names.iter().enumerate() {
                let v = T::from_index(i);
                if ui.selectable_label(v == current, *name).clicked() && v != current {
                    set_with_gesture(setter, param, v);
                }
            }
        });
}

fn switch(ui: &mut Ui, param: &BoolParam, setter: &ParamSetter) {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, "");
    if response.changed() {
        set_with_gesture(setter, param, on);
    }
    hint(response, param.name());
}

/// `response` with the tooltip of the parameter named `name` (see `tooltips`).
fn hint(response: egui::Response, name: &str) -> egui::Response {
    match super::tooltips::tooltip(name) {
        Some(text) => response.on_hover_text(text),
        None => response,
    }
}

/// A labelled row; the label carries the tooltip of the parameter it names.
fn row(ui: &mut Ui, name: &str, add: impl FnOnce(&mut Ui)) {
    hint(ui.label(name), name);
    add(ui);
    ui.end_row();
}

fn slider<P: Param>(ui: &mut Ui, param: &P, setter: &ParamSetter) {
    row(ui, param.name(), |ui| {
        let response = ui.add(ParamSlider::for_param(param, setter).with_width(150.0));
        hint(response, param.name());
    });
}

fn group(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui)) {
    ui.add_space(4.0);
    ui.label(egui::RichText::new(title).strong().color(ACCENT).size(15.0));
    egui::Grid::new(title)
        .num_columns(2)
        .spacing([10.0, 6.0])
        .show(ui, add);
}

/// The picture's row at `position` as the wave it plays (one cycle: the row there and back).
fn wave_preview(ui: &mut Ui, score: &crate::score::Score, position: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(150.0, 40.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let Some(wave) = &score.wave else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "no picture wave",
            egui::FontId::proportional(11.0),
            Color32::GRAY,
        );
        return;
    };
    let frame = (position.clamp(0.0, 1.0) * (wave.frames() - 1) as f32).round() as usize;
    let row = wave.row(frame);
    let cycle: Vec<u8> = row.iter().chain(row.iter().rev()).copied().collect();
    let n = cycle.len().max(2);
    let points: Vec<egui::Pos2> = cycle
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = rect.left() + rect.width() * i as f32 / (n - 1) as f32;
            let y = rect.bottom() - 3.0 - (rect.height() - 6.0) * f32::from(*v) / 255.0;
            egui::pos2(x, y)
        })
        .collect();
    painter.add(egui::Shape::line(points, egui::Stroke::new(1.5, ACCENT)));
}

/// Every parameter, grouped. Sliders: drag, Shift for fine steps, double-click (or Ctrl+click)
/// to reset, click the value to type one.
pub fn controls(ui: &mut Ui, p: &PixelodyParams, setter: &ParamSetter) {
    let c = &p.composing;
    group(ui, "Composition", |ui| {
        row(ui, c.mode.name(), |ui| choice(ui, &c.mode, setter));
        row(ui, c.key.name(), |ui| choice(ui, &c.key, setter));
        row(ui, c.scale.name(), |ui| choice(ui, &c.scale, setter));
        row(ui, c.style.name(), |ui| choice(ui, &c.style, setter));
        slider(ui, &c.bars, setter);
        slider(ui, &c.density, setter);
        slider(ui, &c.low_note, setter);
        slider(ui, &c.high_note, setter);
        slider(ui, &c.variation, setter);
        row(ui, c.grid.name(), |ui| choice(ui, &c.grid, setter));
        slider(ui, &c.threshold, setter);
        row(ui, c.invert.name(), |ui| switch(ui, &c.invert, setter));
        row(ui, c.snap.name(), |ui| switch(ui, &c.snap, setter));
    });
    ui.separator();
    group(ui, "Parts", |ui| {
        // On switch and Level, a part to a row.
        for (part, mix) in Part::ALL.iter().zip(p.mixes()) {
            row(ui, part.name(), |ui| {
                ui.horizontal(|ui| {
                    switch(ui, &mix.on, setter);
                    let response =
                        ui.add(ParamSlider::for_param(&mix.level, setter).with_width(122.0));
                    hint(response, mix.level.name());
                });
            });
        }
    });
    ui.separator();
    group(ui, "Timbre", |ui| {
        row(ui, p.sound.lock_timbre.name(), |ui| {
            switch(ui, &p.sound.lock_timbre, setter);
        });
        for (_, param) in p.sound.timbre() {
            slider(ui, param, setter);
        }
    });
    ui.separator();
    // Each part's sound around the shared timbre, a group per part.
    for (part, params) in Part::ALL.iter().zip(p.pitched()) {
        group(ui, &format!("{} sound", part.name()), |ui| {
            for (_, param) in params.timbre() {
                slider(ui, param, setter);
            }
        });
    }
    group(ui, "Drum kit", |ui| {
        for (_, param) in p.drums.timbre() {
            slider(ui, param, setter);
        }
    });
    ui.separator();
    group(ui, "Picture wave", |ui| {
        for (_, param) in p.wave.timbre() {
            slider(ui, param, setter);
        }
        row(ui, "", |ui| {
            wave_preview(ui, &p.score.current(), p.wave.wave_position.value())
        });
    });
    ui.separator();
    let s = &p.space;
    group(ui, "Space", |ui| {
        slider(ui, &s.reverb_mix, setter);
        slider(ui, &s.reverb_size, setter);
        slider(ui, &s.reverb_damping, setter);
        row(ui, s.delay_time.name(), |ui| {
            choice(ui, &s.delay_time, setter)
        });
        slider(ui, &s.delay_mix, setter);
        slider(ui, &s.delay_feedback, setter);
    });
    ui.separator();
    let o = &p.output;
    group(ui, "Output", |ui| {
        slider(ui, &o.gain_db, setter);
        row(ui, o.internal_synth.name(), |ui| {
            switch(ui, &o.internal_synth, setter)
        });
        row(ui, o.play_mode.name(), |ui| {
            choice(ui, &o.play_mode, setter)
        });
        slider(ui, &o.root_key, setter);
        row(ui, o.midi_transpose.name(), |ui| {
            switch(ui, &o.midi_transpose, setter)
        });
        row(ui, o.swap_at.name(), |ui| choice(ui, &o.swap_at, setter));
        slider(ui, &o.free_tempo_bpm, setter);
    });
}

/// While a file hovers over the editor: a highlight that says whether it will be taken.
pub fn drop_overlay(ctx: &egui::Context) {
    let hovered = ctx.input(|i| i.raw.hovered_files.clone());
    let Some(first) = hovered.first() else { return };
    let path = first.path.clone().unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ok = hovered
        .iter()
        .any(|h| h.path.as_deref().is_some_and(looks_like_picture));
    let (colour, text) = if ok {
        (ACCENT, format!("Drop to turn {name} into music"))
    } else {
        (
            Color32::from_rgb(235, 87, 87),
            format!("{name} is not a picture (PNG, JPEG, GIF, WebP, BMP or TIFF)"),
        )
    };
    let screen = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("pixelody-drop"),
    ));
    painter.rect_filled(screen, 0.0, Color32::from_black_alpha(170));
    painter.rect_stroke(
        screen.shrink(6.0),
        8.0,
        Stroke::new(4.0, colour),
        StrokeKind::Inside,
    );
    painter.text(
        screen.center(),
        Align2::CENTER_CENTER,
        text,
        FontId::proportional(22.0),
        colour,
    );
}

#[cfg(test)]
mod became_tests {
    use super::*;

    #[test]
    fn the_status_line_says_what_the_picture_became() {
        let mut score = Score::new(32.0, Vec::new(), String::from("coffee.jpg (400 x 300)"));
        score.tonality = String::from("G major");
        score.style = String::from("Ballad");
        assert_eq!(
            became("coffee.jpg", &score),
            "coffee.jpg: G major, Ballad, 8 bars"
        );
        let mut one = Score::new(4.0, Vec::new(), String::new());
        one.tonality = String::from("D Dorian");
        assert_eq!(became("a.png", &one), "a.png: D Dorian, 1 bar");
    }
}

#[cfg(test)]
mod randomise_tests {
    use super::*;
    use crate::plugin::params::StyleChoice;

    #[test]
    fn randomise_always_moves_and_stays_in_range() {
        let mut seen = std::collections::HashSet::new();
        for e in 0..5_000u64 {
            let entropy = e.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for current in [0, 1, 500, 998, 999] {
                let (v, style) = randomised(current, 999, "Ballad", true, entropy);
                assert!((0..=999).contains(&v) && v != current, "{current} -> {v}");
                let style = style.unwrap();
                assert!(style != StyleChoice::Auto && style != StyleChoice::Ballad);
                seen.insert(style.to_index());
            }
            assert_eq!(randomised(7, 999, "Ballad", false, entropy).1, None);
        }
        assert_eq!(seen.len(), 5, "every other style comes up");
    }
}

#[cfg(test)]
mod strip_tests {
    use super::StripAction;

    #[test]
    fn strip_actions_give_the_new_order() {
        assert_eq!(StripAction::Remove(1).order(4), vec![0, 2, 3]);
        assert_eq!(
            StripAction::Move { from: 3, to: 0 }.order(4),
            vec![3, 0, 1, 2]
        );
        assert_eq!(
            StripAction::Move { from: 0, to: 2 }.order(4),
            vec![1, 2, 0, 3]
        );
        assert_eq!(
            StripAction::Remove(9).order(2),
            vec![0, 1],
            "out of range: unchanged"
        );
    }
}
