//! The grouped controls: every parameter as a slider, switch or dropdown, each through the host's
//! gesture path (begin, set, end) and with its tooltip.

use egui::{Color32, Ui};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::plugin::params::{ModeChoice, PixelodyParams};
use crate::score::Part;

use super::theme::ACCENT;

/// Sets a parameter the way a host records a musician's change: begin, set, end.
pub fn set_with_gesture<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// [`set_with_gesture`] with the normalised value the host is to hand back.
pub fn set_normalized_with_gesture<P: Param>(setter: &ParamSetter, param: &P, normalized: f32) {
    setter.begin_set_parameter(param);
    setter.set_parameter_normalized(param, normalized);
    setter.end_set_parameter(param);
}

/// A dropdown for an enum parameter, through the gesture path, with the parameter's tooltip.
fn choice<T: Enum + PartialEq + Copy + 'static>(
    ui: &mut Ui,
    param: &EnumParam<T>,
    setter: &ParamSetter,
) {
    let current = param.value();
    let names = T::variants();
    let combo = egui::ComboBox::from_id_salt(param.name())
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
    hint(combo.response, param.name());
}

fn switch(ui: &mut Ui, param: &BoolParam, setter: &ParamSetter) {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, "");
    if response.changed() {
        set_with_gesture(setter, param, on);
    }
    hint(response, param.name());
}

/// `response` with the tooltip of the parameter named `name` (see `tooltips`); a control greyed
/// out for the mode says which mode uses it.
fn hint(response: egui::Response, name: &str) -> egui::Response {
    #[cfg(test)]
    tests::SEEN.with(|seen| {
        seen.borrow_mut()
            .push((name.to_string(), response.rect, response.enabled()))
    });
    match super::tooltips::tooltip(name) {
        Some(text) => response
            .on_hover_text(text)
            .on_disabled_hover_text(format!("{text}. Not used in this mode.")),
        None => response,
    }
}

/// The width of the label column, the same in every group (so every group's controls start at
/// one x): the longest label ("Filter Envelope") fits.
const LABEL_WIDTH: f32 = 112.0;

/// A labelled row; the label carries the tooltip of the parameter it names.
fn row(ui: &mut Ui, name: &str, add: impl FnOnce(&mut Ui)) {
    row_for(ui, true, name, add);
}

/// [`row`], greyed out (label and control) where the mode playing does not use it.
fn row_for(ui: &mut Ui, used: bool, name: &str, add: impl FnOnce(&mut Ui)) {
    let height = ui.spacing().interact_size.y;
    labelled(ui, used, name, height, add);
}

/// A row whose label is centred on a control `height` tall. (The grid gives each cell's ui the
/// top of its row: label and control sit level only when both are laid out over one height.
/// Each goes through a child ui, used or not, so a greyed row is as tall as the others.)
fn labelled(ui: &mut Ui, used: bool, name: &str, height: f32, add: impl FnOnce(&mut Ui)) {
    ui.add_enabled_ui(used, |ui| {
        let size = egui::vec2(LABEL_WIDTH, height);
        let layout = egui::Layout::left_to_right(egui::Align::Center);
        ui.allocate_ui_with_layout(size, layout, |ui| hint(ui.label(name), name));
    });
    ui.add_enabled_ui(used, add);
    ui.end_row();
}

fn slider_for<P: Param>(ui: &mut Ui, used: bool, param: &P, setter: &ParamSetter) {
    let height = slider_height(ui);
    labelled(ui, used, param.name(), height, |ui| {
        param_slider(ui, param, setter, 150.0);
    });
}

fn slider<P: Param>(ui: &mut Ui, param: &P, setter: &ParamSetter) {
    slider_for(ui, true, param, setter);
}

/// The height nice-plug's slider takes: its bar's line with an item spacing above and below.
fn slider_height(ui: &Ui) -> f32 {
    let spacing = ui.spacing();
    let bar = ui
        .text_style_height(&egui::TextStyle::Body)
        .max(spacing.interact_size.y * 0.8);
    bar + 2.0 * spacing.item_spacing.y
}

/// nice-plug's slider, `width` wide, with its tooltip, in a space as tall as it is. (It lays itself
/// out in a horizontal row that starts at the usual widget height and grows downwards: centred on
/// that shorter guess, it hung below its label.)
fn param_slider<P: Param>(ui: &mut Ui, param: &P, setter: &ParamSetter, width: f32) {
    let size = egui::vec2(ui.available_width(), slider_height(ui));
    // (From the top: the slider's row, started at the usual height, grows down to fill it.)
    let layout = egui::Layout::left_to_right(egui::Align::Min);
    ui.allocate_ui_with_layout(size, layout, |ui| {
        let response = ui.add(ParamSlider::for_param(param, setter).with_width(width));
        hint(response, param.name());
    });
}

fn group(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui)) {
    ui.add_space(4.0);
    ui.label(egui::RichText::new(title).strong().color(ACCENT).size(15.0));
    egui::Grid::new(title)
        .num_columns(2)
        .min_col_width(LABEL_WIDTH)
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
    // Each mode's own controls; the others greyed out (their tooltips say so).
    let mode = c.mode.value();
    let compose = mode == ModeChoice::Compose;
    let scan = mode == ModeChoice::Scan;
    let spectral = mode == ModeChoice::Spectral;
    group(ui, "Composition", |ui| {
        row(ui, c.mode.name(), |ui| choice(ui, &c.mode, setter));
        row(ui, c.key.name(), |ui| choice(ui, &c.key, setter));
        row(ui, c.scale.name(), |ui| choice(ui, &c.scale, setter));
        row_for(ui, compose, c.style.name(), |ui| {
            choice(ui, &c.style, setter)
        });
        slider(ui, &c.bars, setter);
        slider_for(ui, compose, &c.density, setter);
        slider(ui, &c.low_note, setter);
        slider(ui, &c.high_note, setter);
        slider_for(ui, compose, &c.variation, setter);
        // (The feel after the rest, so the controls above stay where musicians know them.)
        slider_for(ui, compose, &c.swing, setter);
        slider_for(ui, compose, &c.humanise, setter);
        row(ui, c.meter.name(), |ui| choice(ui, &c.meter, setter));
        row(ui, c.content.name(), |ui| choice(ui, &c.content, setter));
        row_for(ui, scan, c.grid.name(), |ui| choice(ui, &c.grid, setter));
        slider_for(ui, scan, &c.threshold, setter);
        row_for(ui, scan, c.invert.name(), |ui| {
            switch(ui, &c.invert, setter)
        });
        row_for(ui, spectral, c.snap.name(), |ui| {
            switch(ui, &c.snap, setter)
        });
    });
    ui.separator();
    group(ui, "Parts", |ui| {
        // The table's headings.
        ui.label("");
        ui.horizontal(|ui| {
            ui.weak("On");
            ui.add_space(14.0);
            ui.weak("Level");
        });
        ui.end_row();
        // On switch and Level, a part to a row.
        for (part, mix) in Part::ALL.iter().zip(p.mixes()) {
            let height = slider_height(ui);
            labelled(ui, true, part.name(), height, |ui| {
                ui.horizontal(|ui| {
                    switch(ui, &mix.on, setter);
                    param_slider(ui, &mix.level, setter, 122.0);
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use nice_plug::prelude::*;

    use super::LABEL_WIDTH;
    use crate::plugin::params::ModeChoice;

    thread_local! {
        /// The editor's own layout report: every labelled widget drawn, in order, with its
        /// place and whether it takes input (a label, then its control).
        pub static SEEN: RefCell<Vec<(String, egui::Rect, bool)>> = const { RefCell::new(Vec::new()) };
    }

    /// The controls panel drawn once in `mode`, as the editor draws it: what it showed.
    fn panel_in(mode: ModeChoice) -> Vec<(String, egui::Rect, bool)> {
        let params = crate::test_support::example_params();
        let setter = ParamSetter::new(&crate::test_support::InstantHost);
        super::set_with_gesture(&setter, &params.composing.mode, mode);
        assert_eq!(params.composing.mode.value(), mode);
        let ctx = egui::Context::default();
        // (Two frames: egui lays out a new context's first frame without showing it.)
        for _ in 0..3 {
            SEEN.with(|seen| seen.borrow_mut().clear());
            let _ = ctx.run_ui(egui::RawInput::default(), |ui| {
                super::super::theme::style(ui.ctx());
                egui::ScrollArea::vertical().show(ui, |ui| super::controls(ui, &params, &setter));
            });
        }
        SEEN.with(|seen| seen.take())
    }

    #[test]
    fn each_mode_greys_the_controls_only_another_mode_uses() {
        let others: [(&str, ModeChoice); 9] = [
            ("Style", ModeChoice::Compose),
            ("Density", ModeChoice::Compose),
            ("Variation", ModeChoice::Compose),
            ("Swing", ModeChoice::Compose),
            ("Humanise", ModeChoice::Compose),
            ("Grid", ModeChoice::Scan),
            ("Threshold", ModeChoice::Scan),
            ("Invert", ModeChoice::Scan),
            ("Snap to Scale", ModeChoice::Spectral),
        ];
        for mode in [ModeChoice::Compose, ModeChoice::Scan, ModeChoice::Spectral] {
            let seen = panel_in(mode);
            for (name, _, enabled) in &seen {
                let wants = others
                    .iter()
                    .find(|(n, _)| n == name)
                    .is_none_or(|(_, m)| *m == mode);
                assert_eq!(*enabled, wants, "{name} in {mode:?}");
            }
            for (name, _) in others {
                assert!(
                    seen.iter().filter(|(n, ..)| n == name).count() >= 2,
                    "{name}: its label and its control are drawn in {mode:?}"
                );
            }
        }
    }

    #[test]
    fn every_group_s_labels_and_controls_start_at_one_x_and_sit_level() {
        let seen = panel_in(ModeChoice::Compose);
        // A row is its label, then its control (the Parts rows: the part's name, then On and
        // Level, which start at the control column too).
        let mut label_x = Vec::new();
        let mut control_x = Vec::new();
        let mut i = 0;
        while i + 1 < seen.len() {
            let (label, rect, _) = &seen[i];
            let (control, next, _) = &seen[i + 1];
            if control == label || control.starts_with(&format!("{label} ")) {
                // Level with its control.
                let (y, level) = (rect.center().y, next.center().y);
                assert!(
                    (y - level).abs() <= 1.0,
                    "{label} at {y}, its control at {level}"
                );
                label_x.push((label.clone(), rect.min.x));
                control_x.push((control.clone(), next.min.x));
                i += 2;
            } else {
                i += 1;
            }
        }
        assert!(control_x.len() >= 50, "{} rows: {seen:?}", control_x.len());
        assert!(control_x.iter().any(|(name, _)| name == "Bass On"));
        for (what, xs) in [("label", &label_x), ("control", &control_x)] {
            let first = xs[0].1;
            for (name, x) in xs {
                assert!(
                    (x - first).abs() < 0.5,
                    "{name}'s {what} at {x}, not {first}"
                );
            }
        }
        assert!(control_x[0].1 - label_x[0].1 >= LABEL_WIDTH);
    }

    #[test]
    fn every_label_fits_the_one_label_column() {
        // (Measured in egui's own fonts at the editor's body size: a longer label would push its
        // group's controls right of the others'.)
        let params = crate::test_support::example_params();
        let ctx = egui::Context::default();
        let mut widest = (0.0f32, String::new());
        let _ = ctx.run_ui(egui::RawInput::default(), |ui| {
            super::super::theme::style(ui.ctx());
            for (_, ptr, _) in params.param_map() {
                // SAFETY: the pointer comes from the parameters alive above.
                let name = unsafe { ptr.name() };
                let galley = egui::WidgetText::from(name).into_galley(
                    ui,
                    None,
                    f32::INFINITY,
                    egui::TextStyle::Body,
                );
                if galley.size().x > widest.0 {
                    widest = (galley.size().x, name.to_string());
                }
            }
        });
        assert!(widest.0 <= LABEL_WIDTH, "{widest:?}");
        println!("widest label: {widest:?}");
    }
}
