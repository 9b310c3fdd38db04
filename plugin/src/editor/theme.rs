//! The editor's look: its colours (one per part, shared by the piano roll and the legend) and
//! egui's visuals.

use egui::{Color32, Vec2};

use crate::score::Part;

pub const ACCENT: Color32 = Color32::from_rgb(255, 176, 72);
pub const BACKGROUND: Color32 = Color32::from_rgb(22, 23, 28);
pub const PANEL: Color32 = Color32::from_rgb(30, 32, 38);

/// The colour a part's notes and name are drawn in.
pub fn part_colour(part: Part) -> Color32 {
    match part {
        Part::Melody => Color32::from_rgb(255, 196, 84),
        Part::Harmony => Color32::from_rgb(84, 206, 190),
        Part::Bass => Color32::from_rgb(170, 124, 255),
        Part::Drums => Color32::from_rgb(230, 110, 110),
    }
}

/// Sets egui's visuals to the editor's dark theme.
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
