//! The picture with its playhead above, the piano roll (or a spectral score's spectrogram) below,
//! one playhead through both.

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::analysis::Picture;
use crate::plugin::composition::Composition;
use crate::plugin::playhead::Playhead;
use crate::score::{drum, Note, Part, Score, Spectrum};

use super::filmstrip::{filmstrip, PictureTexture, StripAction};
use super::theme::{part_colour, ACCENT, BACKGROUND};

/// The picture above (with a piece's filmstrip under it), the piano roll below, one playhead
/// through both. Returns where the picture is drawn and what was done in the filmstrip.
pub fn music(
    ui: &mut Ui,
    texture: &mut PictureTexture,
    composition: &Composition,
    score: &Score,
    playhead: &Playhead,
) -> (Rect, Option<StripAction>) {
    header(ui, composition, score);
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
    // The playing section's picture (a piece shows each in turn), else the first.
    let picture = if playhead.playing() {
        composition.picture_at(playhead.beat(), score.length_beats)
    } else {
        composition.picture()
    };
    let image_rect = draw_picture(ui, &painter, texture, picture, picture_area);
    roll(&painter, score, roll_area);
    if playhead.playing() {
        line(image_rect);
        line(roll_area);
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

/// The line above the picture: the source, key, mode and style, length and notes.
fn header(ui: &mut Ui, composition: &Composition, score: &Score) {
    let mode = composition.settings.mode;
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
            ui.label(format!("{mode:?}"));
        } else {
            ui.label(format!("{mode:?} · {}", score.style));
        }
        ui.separator();
        ui.label(format!(
            "{} bars, {} notes",
            (score.length_beats / 4.0).round(),
            score.notes.len()
        ));
    });
}

/// The picture fitted into `area`; returns where it is drawn.
fn draw_picture(
    ui: &Ui,
    painter: &egui::Painter,
    texture: &mut PictureTexture,
    picture: &Arc<Picture>,
    area: Rect,
) -> Rect {
    let aspect = picture.width as f32 / picture.height.max(1) as f32;
    let size = if area.width() / area.height() > aspect {
        Vec2::new(area.height() * aspect, area.height())
    } else {
        Vec2::new(area.width(), area.width() / aspect)
    };
    let image_rect = Rect::from_center_size(area.center(), size);
    let id = texture.get(ui.ctx(), picture);
    painter.rect_filled(area, 4.0, BACKGROUND);
    painter.image(
        id,
        image_rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    image_rect
}

/// The piano roll (or the spectrogram the Spectral mode plays) with its bar lines, a piece's
/// section lines and the parts' legend.
fn roll(painter: &egui::Painter, score: &Score, area: Rect) {
    painter.rect_filled(area, 4.0, BACKGROUND);
    let beats = score.length_beats.max(1e-6);
    let x_at = |beat: f64| area.min.x + (beat / beats) as f32 * area.width();
    let vertical = |x: f32, stroke: Stroke| {
        painter.line_segment([Pos2::new(x, area.min.y), Pos2::new(x, area.max.y)], stroke);
    };
    // The meter's bar lines, and fainter lines on its beats (where a bar is wide enough for
    // them to read).
    let meter = score.meter;
    let bar_beats = meter.bar_beats();
    let bar_width = (bar_beats / beats) as f32 * area.width();
    let beat_lines = bar_width / meter.beats().len() as f32 >= 12.0;
    let mut bar = 0.0;
    while bar < beats - 1e-9 {
        vertical(x_at(bar), Stroke::new(1.0, Color32::from_gray(52)));
        if beat_lines {
            for t in meter.beat_times().into_iter().skip(1) {
                vertical(x_at(bar + t), Stroke::new(1.0, Color32::from_gray(38)));
            }
        }
        bar += bar_beats;
    }
    // A piece's sections begin on brighter lines.
    for section in score.sections.iter().skip(1) {
        vertical(
            x_at(section.start_beats),
            Stroke::new(2.0, Color32::from_gray(110)),
        );
    }
    if let Some(spectrum) = score.spectrum.as_ref().filter(|s| s.is_valid()) {
        spectrogram(painter, spectrum, area);
    } else if !score.notes.is_empty() {
        notes(painter, score, area);
    } else {
        painter.text(
            area.center(),
            Align2::CENTER_CENTER,
            "No notes: the picture is too dark for the threshold",
            FontId::proportional(14.0),
            Color32::from_gray(150),
        );
    }
    let mut x = area.min.x + 8.0;
    for part in Part::ALL {
        let r = painter.text(
            Pos2::new(x, area.min.y + 6.0),
            Align2::LEFT_TOP,
            part.name(),
            FontId::proportional(12.0),
            part_colour(part),
        );
        x = r.max.x + 12.0;
    }
}

/// A spectral score's partials over time, brighter where louder.
fn spectrogram(painter: &egui::Painter, spectrum: &Spectrum, area: Rect) {
    let (frames, partials) = (spectrum.frames, spectrum.partials());
    let cell = Vec2::new(
        area.width() / frames.max(1) as f32,
        area.height() / partials.max(1) as f32,
    );
    for f in 0..frames {
        for p in 0..partials {
            let a = spectrum.amps[f * partials + p].clamp(0.0, 1.0);
            if a < 0.02 {
                continue;
            }
            let min = Pos2::new(
                area.min.x + f as f32 * cell.x,
                area.max.y - (p + 1) as f32 * cell.y,
            );
            let c = ACCENT.gamma_multiply(a.sqrt());
            painter.rect_filled(Rect::from_min_size(min, cell), 0.0, c);
        }
    }
}

/// The notes: drums in lanes at the bottom (one per drum of the kit), pitched notes above, each
/// in its part's colour, brighter when louder.
fn notes(painter: &egui::Painter, score: &Score, area: Rect) {
    let beats = score.length_beats.max(1e-6);
    let x_at = |beat: f64| area.min.x + (beat / beats) as f32 * area.width();
    let has_drums = score.notes.iter().any(|n| n.part == Part::Drums);
    let lane = if has_drums {
        (area.height() * 0.04).clamp(3.0, 9.0)
    } else {
        0.0
    };
    let drum_height = lane * drum::ALL.len() as f32;
    let brightness = |n: &Note| 0.45 + 0.55 * n.velocity.clamp(0.0, 1.0);
    for n in score.notes.iter().filter(|n| n.part == Part::Drums) {
        let k = drum::ALL.iter().position(|&d| d == n.pitch).unwrap_or(1);
        let w = ((n.length_beats / beats) as f32 * area.width()).clamp(2.0, 6.0);
        let y = area.max.y - (k + 1) as f32 * lane;
        let rect = Rect::from_min_size(Pos2::new(x_at(n.start_beats), y), Vec2::new(w, lane));
        let c = part_colour(Part::Drums).gamma_multiply(brightness(n));
        painter.rect_filled(rect.shrink(0.5), 1.0, c);
    }
    let bottom = area.max.y - drum_height - if has_drums { 4.0 } else { 0.0 };
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
    let row = (bottom - area.min.y) / f32::from(hi - lo + 1);
    for n in pitched() {
        let w = ((n.length_beats / beats) as f32 * area.width()).max(2.0);
        let y = bottom - f32::from(n.pitch - lo + 1) * row;
        let rect = Rect::from_min_size(
            Pos2::new(x_at(n.start_beats), y),
            Vec2::new(w, row.max(2.0)),
        );
        let c = part_colour(n.part).gamma_multiply(brightness(n));
        painter.rect_filled(rect.shrink(0.5), 1.5, c);
    }
}
