//! A piece's sections as a filmstrip under the picture (drag to reorder, x to remove), and the
//! pictures as textures.

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

use crate::analysis::Picture;
use crate::plugin::composition::Composition;

use super::theme::{ACCENT, BACKGROUND};

/// The pictures as textures (a piece's every section), each uploaded once while it is shown.
#[derive(Default)]
pub struct PictureTexture {
    shown: Vec<(Arc<Picture>, egui::TextureHandle)>,
}

impl PictureTexture {
    pub fn get(&mut self, ctx: &egui::Context, picture: &Arc<Picture>) -> egui::TextureId {
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
    pub fn keep_only(&mut self, composition: &Composition) {
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
pub fn filmstrip(
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
