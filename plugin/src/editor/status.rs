//! What the editor tells the musician in words: the status line (what a picture became, what is
//! loading, what went wrong), the first-minute card of a fresh instance and the highlight over a
//! file dragged onto the editor.

use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, StrokeKind, Ui, Vec2};

use crate::plugin::composition::Composition;
use crate::plugin::loader::{looks_like_picture, LoadStatus};
use crate::score::Score;

use super::theme::ACCENT;

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
            said(ui, message, Some(ui.visuals().error_fg_color));
            return;
        }
        _ => {}
    }
    match info {
        Some((message, true)) => {
            said(ui, message, Some(ui.visuals().error_fg_color));
        }
        Some((message, false)) => {
            said(ui, message, None);
        }
        None => match status {
            LoadStatus::Loaded { name, skipped } => {
                if skipped.is_empty() {
                    said(
                        ui,
                        &format!("{} Drop another picture to change it.", became(name, score)),
                        None,
                    );
                } else {
                    said(ui, &became(name, score), None);
                    let skipped = format!("Skipped {}", skipped.join("; "));
                    said(ui, &skipped, Some(ui.visuals().warn_fg_color));
                }
            }
            _ => {
                ui.weak("Drop a picture here, or open one.");
            }
        },
    }
}

/// A message in the status line, on one line: cut short with "..." where the window is too
/// narrow for it, the whole of it on hover (and in the log, where messages are written too).
fn said(ui: &mut Ui, message: &str, colour: Option<Color32>) {
    let mut text = egui::RichText::new(message);
    if let Some(c) = colour {
        text = text.color(c);
    }
    ui.add(egui::Label::new(text).truncate())
        .on_hover_text(message);
}

/// Whether the editor shows a fresh instance: the bundled example plays and no picture of the
/// musician's has been loaded (a failed load leaves the card where it was).
pub fn first_minute(composition: &Composition, status: &LoadStatus) -> bool {
    matches!(status, LoadStatus::Idle | LoadStatus::Failed { .. })
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
            format!("{name} is not a picture ({})", crate::analysis::READABLE),
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
mod line_tests {
    use super::*;

    /// What `status_line` draws at the right of a top bar in a window `width` wide, after
    /// `before` pixels of buttons, with the pointer resting at `pointer`: the right edge of its
    /// rightmost text, and every text drawn.
    fn drawn(
        width: f32,
        before: f32,
        status: &LoadStatus,
        pointer: Option<Pos2>,
    ) -> (f32, Vec<String>) {
        let ctx = egui::Context::default();
        let mut drawn = (0.0f32, Vec::new());
        // (Several frames, a second apart: egui lays out a new context's first frame without
        // showing it, and shows a tooltip once the pointer has rested.)
        for frame in 0..4 {
            let input = egui::RawInput {
                screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(width, 640.0))),
                time: Some(f64::from(frame)),
                events: pointer
                    .filter(|_| frame == 0)
                    .map(|at| vec![egui::Event::PointerMoved(at)])
                    .unwrap_or_default(),
                ..Default::default()
            };
            let output = ctx.run_ui(input, |ui| {
                super::super::theme::style(ui.ctx());
                ui.horizontal(|ui| {
                    ui.add_space(before);
                    status_line(ui, status, None, &crate::test_support::example_score());
                });
            });
            drawn = (0.0, Vec::new());
            for clipped in &output.shapes {
                if let egui::Shape::Text(text) = &clipped.shape {
                    drawn.0 = drawn.0.max(text.visual_bounding_rect().max.x);
                    // (What shows: the glyphs laid out, an elided text ends in "…".)
                    let shown = text
                        .galley
                        .rows
                        .iter()
                        .flat_map(|r| r.glyphs.iter().map(|g| g.chr));
                    drawn.1.push(shown.collect());
                }
            }
        }
        drawn
    }

    #[test]
    fn a_long_refusal_fits_the_window_and_keeps_its_whole_text_on_hover() {
        let name = "a holiday picture with a very long name from a camera roll, copied twice.txt";
        let message = format!(
            "{name}: this is not a picture Pixelody can read (it reads {}); the current \
             sound keeps playing",
            crate::analysis::READABLE
        );
        let failed = LoadStatus::Failed {
            message: message.clone(),
        };
        for width in [760.0, 960.0, 1400.0] {
            let (right, texts) = drawn(width, 520.0, &failed, None);
            assert!(right > 600.0, "the message is drawn ({right})");
            assert!(right <= width, "{right} beyond a window {width} wide");
            assert!(!texts.contains(&message), "cut short: {texts:?}");
        }
        // The pointer resting on it shows the whole message.
        let (_, texts) = drawn(760.0, 520.0, &failed, Some(Pos2::new(600.0, 8.0)));
        assert!(texts.contains(&message), "{texts:?}");
        // A short message is drawn whole (not cut: the checks above can fail).
        let short = String::from("x.txt: not a picture");
        let (right, texts) = drawn(
            960.0,
            520.0,
            &LoadStatus::Failed {
                message: short.clone(),
            },
            None,
        );
        assert!(right < 700.0);
        assert!(texts.contains(&short), "{texts:?}");
    }
}
