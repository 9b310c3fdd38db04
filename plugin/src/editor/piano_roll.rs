//! The picture with its playhead above, the piano roll (or a spectral score's spectrogram) below,
//! one playhead through both.

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use crate::analysis::Picture;
use crate::plugin::composition::Composition;
use crate::plugin::playhead::Playhead;
use crate::score::{drum, note_name, Meter, Note, Part, Score, Spectrum};

use super::filmstrip::{filmstrip, PictureTexture, StripAction};
use super::theme::{part_colour, ACCENT, BACKGROUND};

/// What the musician did on the picture: drew the region to compose from, or cleared it
/// (`None`: the whole picture again).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionChosen(pub Option<[f32; 4]>);

/// The picture above (with a piece's filmstrip under it), the piano roll below, one playhead
/// through both; `region`, the part of the picture composed from, outlined on it. Returns where
/// the picture is drawn, what was done in the filmstrip and a region drawn or cleared.
pub fn music(
    ui: &mut Ui,
    texture: &mut PictureTexture,
    composition: &Composition,
    score: &Score,
    playhead: &Playhead,
    (parts_on, region): ([bool; 4], Option<[f32; 4]>),
) -> (Rect, Option<StripAction>, Option<RegionChosen>) {
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
    let response = ui.allocate_rect(full, Sense::hover());
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
    let view = RollView {
        parts_on,
        playing_at: playhead.playing().then(|| playhead.beat()),
    };
    let layout = roll(&painter, score, roll_area, &view);
    if playhead.playing() {
        line(image_rect);
        line(layout.grid);
    }
    // Hover the picture: what the models saw on it, outlined and named. (The picture takes
    // drags for the region, so this hover is the pointer's, not this response's.)
    if ui.rect_contains_pointer(image_rect) {
        sightings_on_picture(&painter, image_rect, picture);
    }
    // Hover a note: its name, part, bar and beat; every note there where notes overlap.
    let hovered = response
        .hover_pos()
        .map(|pos| layout.notes_at(score, pos))
        .unwrap_or_default();
    if !hovered.is_empty() {
        let lines: Vec<String> = hovered.iter().map(|n| describe(n, score.meter)).collect();
        response.on_hover_text_at_pointer(lines.join("\n"));
    }
    let chosen = region_on_picture(ui, &painter, image_rect, region);
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
    (picture_area, strip, chosen)
}

/// The region on the picture drawn at `image`: the part outside it dimmed, its outline, and a
/// button that clears it; a rectangle dragged on the picture chooses a new one (a drag shorter
/// than 8 pixels either way is a click, and chooses nothing).
fn region_on_picture(
    ui: &mut Ui,
    painter: &egui::Painter,
    image: Rect,
    region: Option<[f32; 4]>,
) -> Option<RegionChosen> {
    let at = |[x, y, w, h]: [f32; 4]| {
        Rect::from_min_size(
            image.min + Vec2::new(x * image.width(), y * image.height()),
            Vec2::new(w * image.width(), h * image.height()),
        )
    };
    let shown = |r: Rect| {
        let dim = Color32::from_black_alpha(140);
        for band in [
            Rect::from_x_y_ranges(image.x_range(), image.min.y..=r.min.y),
            Rect::from_x_y_ranges(image.x_range(), r.max.y..=image.max.y),
            Rect::from_x_y_ranges(image.min.x..=r.min.x, r.y_range()),
            Rect::from_x_y_ranges(r.max.x..=image.max.x, r.y_range()),
        ] {
            painter.rect_filled(band, 0.0, dim);
        }
        painter.rect_stroke(r, 0.0, Stroke::new(2.0, ACCENT), egui::StrokeKind::Outside);
    };
    let id = ui.scope_id().with("region");
    let drag = ui.interact(image, id, Sense::drag());
    let mut chosen = None;
    // (Where the drag began, kept from its first frame: the pointer's own press origin is gone
    // by the frame the button is released on.)
    if drag.drag_started() {
        if let Some(at) = ui.input(|i| i.pointer.press_origin()) {
            ui.data_mut(|d| d.insert_temp(id, at));
        }
    }
    let origin: Option<Pos2> = ui.data(|d| d.get_temp(id));
    let now = drag
        .interact_pointer_pos()
        .or_else(|| ui.input(|i| i.pointer.latest_pos()));
    let dragged = match (origin, now) {
        (Some(a), Some(b)) if drag.dragged() || drag.drag_stopped() => {
            let r = Rect::from_two_pos(a, b).intersect(image);
            (r.width() >= 8.0 && r.height() >= 8.0).then_some(r)
        }
        _ => None,
    };
    if let Some(r) = dragged {
        shown(r);
        if drag.drag_stopped() {
            ui.data_mut(|d| d.remove::<Pos2>(id));
            let frac = |v: f32, from: f32, len: f32| (v - from) / len.max(1.0);
            chosen = Some(RegionChosen(crate::compose::region_clamped([
                frac(r.min.x, image.min.x, image.width()),
                frac(r.min.y, image.min.y, image.height()),
                r.width() / image.width().max(1.0),
                r.height() / image.height().max(1.0),
            ])));
        }
    } else if let Some(region) = region {
        let r = at(region);
        shown(r);
        let button = Rect::from_min_size(
            Pos2::new(r.max.x - 134.0, r.min.y + 4.0).max(image.min + Vec2::splat(4.0)),
            Vec2::new(130.0, 20.0),
        );
        let clear = ui
            .put(button, egui::Button::new("x  Whole picture").small())
            .on_hover_text("Compose from the whole picture again");
        if clear.clicked() {
            chosen = Some(RegionChosen(None));
        }
    } else {
        drag.on_hover_text(
            "Drag a rectangle on the picture to compose from that part of it (a face, a \
             horizon, one cup)",
        );
    }
    chosen
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
            "{} bars of {}, {} notes",
            score.bars().round(),
            score.meter.label(),
            score.notes.len()
        ));
    });
    // What the (first) picture shows, when the models saw something surely, on a line of its
    // own.
    let content = &composition.picture().content;
    if content.sure().next().is_some() {
        ui.horizontal(|ui| {
            let shapes = if composition.settings.content {
                "shapes the music (Content: Auto)"
            } else {
                "does not shape the music (Content: Off)"
            };
            ui.label(format!("Sees: {}", content.summary()))
                .on_hover_text(format!(
                    "What the picture shows, as Pixelody's models see it (how sure, 0 to 1); \
                     it {shapes}. Hover the picture to see where."
                ));
        });
    }
}

/// Outlines what the models saw surely on the picture drawn at `image`, each named.
fn sightings_on_picture(painter: &egui::Painter, image: Rect, picture: &Picture) {
    for seen in picture.content.sure() {
        let [l, t, r, b] = seen.place;
        let rect = Rect::from_min_max(
            image.min + Vec2::new(l * image.width(), t * image.height()),
            image.min + Vec2::new(r * image.width(), b * image.height()),
        );
        painter.rect_stroke(
            rect,
            2.0,
            Stroke::new(1.5, ACCENT),
            egui::StrokeKind::Inside,
        );
        // The name on a dark tag at the box's top-left corner, readable on any photo.
        let galley = painter.layout_no_wrap(
            format!("{} {:.2}", seen.name(), seen.confidence),
            egui::FontId::proportional(12.0),
            ACCENT,
        );
        let tag = Rect::from_min_size(rect.min, galley.size() + Vec2::new(6.0, 2.0));
        painter.rect_filled(tag, 2.0, Color32::from_black_alpha(200));
        painter.galley(tag.min + Vec2::new(3.0, 1.0), galley, ACCENT);
    }
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

/// What the roll shows besides the score: which parts sound (an Off part is greyed) and, while
/// the transport plays, the beat it is at (a piece's playing section is marked).
#[derive(Clone, Copy, Debug)]
pub struct RollView {
    pub parts_on: [bool; 4],
    pub playing_at: Option<f64>,
}

/// Where everything of the roll goes in `area`: a strip along the top for the bar numbers and
/// the legend, a strip down the left for the keyboard and the drum lanes' names, and the notes
/// in the grid between, so no label is ever drawn over a note.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RollLayout {
    pub top: Rect,
    pub keys: Rect,
    pub grid: Rect,
    /// Lowest and highest pitch shown, one row each.
    pub lo: u8,
    pub hi: u8,
    /// Height of a drum lane (0 without drums) and of a pitch row.
    pub lane: f32,
    pub row: f32,
    pub beats: f64,
}

/// The top strip's and the keyboard's size.
const TOP: f32 = 16.0;
const KEYS: f32 = 34.0;

impl RollLayout {
    pub fn new(score: &Score, area: Rect) -> Self {
        let top = Rect::from_min_max(area.min, Pos2::new(area.max.x, area.min.y + TOP));
        let keys = Rect::from_min_max(
            Pos2::new(area.min.x, top.max.y),
            Pos2::new(area.min.x + KEYS, area.max.y),
        );
        let grid = Rect::from_min_max(Pos2::new(keys.max.x, top.max.y), area.max);
        let has_drums = score.notes.iter().any(|n| n.part == Part::Drums);
        let lane = if has_drums {
            (grid.height() * 0.05).clamp(7.0, 11.0)
        } else {
            0.0
        };
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
        let mut layout = RollLayout {
            top,
            keys,
            grid,
            lo,
            hi,
            lane,
            row: 0.0,
            beats: score.length_beats.max(1e-6),
        };
        layout.row = (layout.pitched_bottom() - grid.min.y) / f32::from(hi - lo + 1);
        layout
    }

    /// Where the drum lanes end and the pitched rows begin (from the bottom).
    fn pitched_bottom(&self) -> f32 {
        let drums = self.lane * drum::ALL.len() as f32;
        self.grid.max.y - drums - if self.lane > 0.0 { 4.0 } else { 0.0 }
    }

    pub fn x_at(&self, beat: f64) -> f32 {
        self.grid.min.x + (beat / self.beats) as f32 * self.grid.width()
    }

    /// The row of `pitch` (its top and height) or the drum lane of a drum note.
    fn band(&self, n: &Note) -> (f32, f32) {
        if n.part == Part::Drums {
            let k = drum::ALL.iter().position(|&d| d == n.pitch).unwrap_or(1);
            (self.grid.max.y - (k + 1) as f32 * self.lane, self.lane)
        } else {
            let y =
                self.pitched_bottom() - f32::from(n.pitch.saturating_sub(self.lo) + 1) * self.row;
            (y, self.row.max(2.0))
        }
    }

    /// Where note `n` is drawn.
    pub fn note_rect(&self, n: &Note) -> Rect {
        let (y, h) = self.band(n);
        let w = (n.length_beats / self.beats) as f32 * self.grid.width();
        let w = if n.part == Part::Drums {
            w.clamp(2.0, 6.0)
        } else {
            w.max(2.0)
        };
        Rect::from_min_size(Pos2::new(self.x_at(n.start_beats), y), Vec2::new(w, h))
    }

    /// Every note under `pos`, the one drawn last first (a melody note over the chord note it
    /// shares a pitch with, then that one).
    pub fn notes_at<'a>(&self, score: &'a Score, pos: Pos2) -> Vec<&'a Note> {
        if !self.grid.contains(pos) {
            return Vec::new();
        }
        drawing_order(score)
            .rev()
            .filter(|n| self.note_rect(n).expand(1.0).contains(pos))
            .collect()
    }
}

/// The notes in the order they are drawn: drums, bass, harmony, then the melody on top.
fn drawing_order(score: &Score) -> impl DoubleEndedIterator<Item = &Note> {
    [Part::Drums, Part::Bass, Part::Harmony, Part::Melody]
        .into_iter()
        .flat_map(move |p| score.notes.iter().filter(move |n| n.part == p))
}

/// What a hovered note is: "E4 · Melody · bar 3, beat 2.5" (eighths in 6/8, 7/8 and 12/8).
pub fn describe(n: &Note, meter: Meter) -> String {
    let name = if n.part == Part::Drums {
        drum::name(n.pitch).map_or_else(|| note_name(n.pitch), String::from)
    } else {
        note_name(n.pitch)
    };
    let bar_beats = meter.bar_beats();
    let bar = (n.start_beats / bar_beats + 1e-9).floor();
    let within = n.start_beats - bar * bar_beats;
    let at = if meter.signature.denominator == 8 {
        format!("eighth {}", trim(within * 2.0 + 1.0))
    } else {
        format!("beat {}", trim(within + 1.0))
    };
    format!("{name} · {} · bar {}, {at}", n.part.name(), bar as u32 + 1)
}

/// A position as a musician reads it: "2", "2.5", "2.33".
fn trim(v: f64) -> String {
    let s = format!("{:.2}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `colour` at `brightness` (0..1) over the roll's background, opaque: overlapping notes stay
/// their own colours instead of blending into a third.
fn shade(colour: Color32, brightness: f32) -> Color32 {
    let mix = |c: u8, b: u8| (f32::from(b) + (f32::from(c) - f32::from(b)) * brightness) as u8;
    Color32::from_rgb(
        mix(colour.r(), BACKGROUND.r()),
        mix(colour.g(), BACKGROUND.g()),
        mix(colour.b(), BACKGROUND.b()),
    )
}

/// The colour of `part` as the roll draws it: its own, or grey when it is switched Off.
fn roll_colour(part: Part, view: &RollView) -> Color32 {
    if view.parts_on[part as usize] {
        part_colour(part)
    } else {
        Color32::from_gray(96)
    }
}

/// The piano roll (or the spectrogram the Spectral mode plays): bar numbers and the legend along
/// the top, a keyboard (C of each octave named) and the drum lanes' names down the left, the
/// meter's bar and beat lines, a piece's section lines (the playing section lit).
fn roll(painter: &egui::Painter, score: &Score, area: Rect, view: &RollView) -> RollLayout {
    painter.rect_filled(area, 4.0, BACKGROUND);
    let layout = RollLayout::new(score, area);
    let grid = layout.grid;
    let vertical = |x: f32, stroke: Stroke| {
        painter.line_segment([Pos2::new(x, grid.min.y), Pos2::new(x, grid.max.y)], stroke);
    };
    // The legend, right-aligned in the top strip (an Off part greyed).
    let small = FontId::proportional(11.0);
    let mut x = layout.top.max.x - 6.0;
    for part in Part::ALL.iter().rev() {
        let r = painter.text(
            Pos2::new(x, layout.top.center().y),
            Align2::RIGHT_CENTER,
            part.name(),
            small.clone(),
            roll_colour(*part, view),
        );
        x = r.min.x - 10.0;
    }
    let legend_left = x;
    // A piece's playing section, lit.
    if let Some(beat) = view.playing_at {
        let starts: Vec<f64> = score.sections.iter().map(|s| s.start_beats).collect();
        if starts.len() > 1 {
            let k = starts.iter().rposition(|&s| s <= beat).unwrap_or(0);
            let end = starts.get(k + 1).copied().unwrap_or(layout.beats);
            let band =
                Rect::from_x_y_ranges(layout.x_at(starts[k])..=layout.x_at(end), grid.y_range());
            painter.rect_filled(band, 0.0, Color32::from_white_alpha(8));
        }
    }
    // The meter's bar lines with their numbers, and fainter lines on its beats (where a bar is
    // wide enough for them to read).
    let meter = score.meter;
    let bar_beats = meter.bar_beats();
    let bar_width = (bar_beats / layout.beats) as f32 * grid.width();
    let beat_lines = bar_width / meter.beats().len() as f32 >= 12.0;
    let mut bar = 0.0;
    let mut number = 1;
    while bar < layout.beats - 1e-9 {
        let x = layout.x_at(bar);
        vertical(x, Stroke::new(1.0, Color32::from_gray(52)));
        if beat_lines {
            for t in meter.beat_times().into_iter().skip(1) {
                vertical(
                    layout.x_at(bar + t),
                    Stroke::new(1.0, Color32::from_gray(38)),
                );
            }
        }
        // (Every bar numbered where there is room, else every second or fourth.)
        let every = if bar_width >= 18.0 {
            1
        } else if bar_width >= 9.0 {
            2
        } else {
            4
        };
        if (number - 1) % every == 0 && x + 14.0 < legend_left {
            painter.text(
                Pos2::new(x + 3.0, layout.top.center().y),
                Align2::LEFT_CENTER,
                number.to_string(),
                small.clone(),
                Color32::from_gray(140),
            );
        }
        bar += bar_beats;
        number += 1;
    }
    // A piece's sections begin on brighter lines.
    for section in score.sections.iter().skip(1) {
        vertical(
            layout.x_at(section.start_beats),
            Stroke::new(2.0, Color32::from_gray(110)),
        );
    }
    if let Some(spectrum) = score.spectrum.as_ref().filter(|s| s.is_valid()) {
        spectrogram(painter, spectrum, grid);
    } else if !score.notes.is_empty() {
        keyboard(painter, &layout);
        notes(painter, score, &layout, view);
    } else {
        painter.text(
            grid.center(),
            Align2::CENTER_CENTER,
            "No notes: the picture is too dark for the threshold",
            FontId::proportional(14.0),
            Color32::from_gray(150),
        );
    }
    layout
}

/// The keyboard down the left: a key per row (black keys dark), C of each octave named, and
/// the drum lanes' names under it.
fn keyboard(painter: &egui::Painter, layout: &RollLayout) {
    let keys = layout.keys;
    let bottom = layout.pitched_bottom();
    for pitch in layout.lo..=layout.hi {
        let y = bottom - f32::from(pitch - layout.lo + 1) * layout.row;
        let black = matches!(pitch % 12, 1 | 3 | 6 | 8 | 10);
        let key = Rect::from_min_max(
            Pos2::new(keys.min.x + 2.0, y),
            Pos2::new(keys.max.x - 2.0, y + layout.row),
        );
        let fill = if black {
            Color32::from_gray(40)
        } else {
            Color32::from_gray(78)
        };
        painter.rect_filled(key.shrink2(Vec2::new(0.0, 0.25)), 0.0, fill);
        if pitch % 12 == 0 {
            painter.text(
                Pos2::new(keys.min.x + 4.0, y + layout.row / 2.0),
                Align2::LEFT_CENTER,
                note_name(pitch),
                FontId::proportional(10.0),
                Color32::from_gray(235),
            );
            // (A faint line across the grid at each C, to read octaves by.)
            painter.line_segment(
                [
                    Pos2::new(layout.grid.min.x, y + layout.row),
                    Pos2::new(layout.grid.max.x, y + layout.row),
                ],
                Stroke::new(1.0, Color32::from_gray(34)),
            );
        }
    }
    if layout.lane > 0.0 {
        for (k, &d) in drum::ALL.iter().enumerate() {
            let y = layout.grid.max.y - (k as f32 + 0.5) * layout.lane;
            painter.text(
                Pos2::new(keys.min.x + 3.0, y),
                Align2::LEFT_CENTER,
                drum::short_name(d).unwrap_or(""),
                FontId::proportional(layout.lane.min(10.0)),
                Color32::from_gray(170),
            );
        }
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
/// in its part's colour (grey when Off), brighter when louder; the melody last, outlined, so a
/// note it shares with the chords shows as its own.
fn notes(painter: &egui::Painter, score: &Score, layout: &RollLayout, view: &RollView) {
    let brightness = |n: &Note| 0.45 + 0.55 * n.velocity.clamp(0.0, 1.0);
    for n in drawing_order(score) {
        let rect = layout.note_rect(n);
        let c = shade(roll_colour(n.part, view), brightness(n));
        match n.part {
            Part::Drums => {
                painter.rect_filled(rect.shrink(0.5), 1.0, c);
            }
            Part::Melody => {
                painter.rect_filled(rect, 1.5, c);
                painter.rect_stroke(
                    rect,
                    1.5,
                    Stroke::new(1.0, BACKGROUND),
                    egui::StrokeKind::Inside,
                );
            }
            _ => {
                painter.rect_filled(rect.shrink(0.5), 1.5, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Signature;

    fn note(start: f64, pitch: u8, part: Part) -> Note {
        Note {
            start_beats: start,
            length_beats: 0.5,
            pitch,
            velocity: 0.8,
            part,
        }
    }

    fn area() -> Rect {
        Rect::from_min_size(Pos2::new(10.0, 300.0), Vec2::new(600.0, 240.0))
    }

    #[test]
    fn labels_sit_outside_the_notes_and_every_note_is_found_where_it_is_drawn() {
        let notes = vec![
            note(0.0, 84, Part::Melody),
            note(0.0, 84, Part::Harmony),
            note(1.0, 48, Part::Bass),
            note(7.5, 36, Part::Drums),
            note(3.0, 70, Part::Drums),
        ];
        let score = Score::new(8.0, notes, String::new());
        let layout = RollLayout::new(&score, area());
        for n in &score.notes {
            let r = layout.note_rect(n);
            assert!(layout.grid.expand(0.5).contains_rect(r), "{n:?} at {r:?}");
            let inner = r.shrink(0.5);
            assert!(
                !inner.intersects(layout.top) && !inner.intersects(layout.keys),
                "{n:?}"
            );
            // (The melody is found over the chord note it shares a pitch with.)
            let found = layout.notes_at(&score, r.center())[0];
            let expected = if n.part == Part::Harmony {
                Part::Melody
            } else {
                n.part
            };
            assert_eq!(found.part, expected, "{n:?}");
        }
        // Where the melody covers a chord note, hovering names both, the melody first.
        let shared = layout.note_rect(&score.notes[0]).center();
        let both: Vec<Part> = layout
            .notes_at(&score, shared)
            .iter()
            .map(|n| n.part)
            .collect();
        assert_eq!(both, [Part::Melody, Part::Harmony]);
        assert!(layout.notes_at(&score, layout.keys.center()).is_empty());
    }

    #[test]
    fn a_hovered_note_says_its_name_part_bar_and_beat() {
        let four = Meter::COMMON;
        assert_eq!(
            describe(&note(9.5, 64, Part::Melody), four),
            "E4 · Melody · bar 3, beat 2.5"
        );
        assert_eq!(
            describe(&note(4.0, 36, Part::Drums), four),
            "Kick · Drums · bar 2, beat 1"
        );
        let six = Meter::plain(Signature::new(6, 8));
        assert_eq!(
            describe(&note(4.5, 70, Part::Bass), six),
            "Bb4 · Bass · bar 2, eighth 4"
        );
    }

    #[test]
    fn off_parts_are_grey_and_overlaps_keep_their_colours() {
        let view = RollView {
            parts_on: [true, false, true, true],
            playing_at: None,
        };
        assert_eq!(roll_colour(Part::Harmony, &view), Color32::from_gray(96));
        assert_eq!(roll_colour(Part::Melody, &view), part_colour(Part::Melody));
        assert_eq!(shade(part_colour(Part::Bass), 1.0), part_colour(Part::Bass));
        assert_eq!(shade(part_colour(Part::Bass), 0.5).a(), 255, "opaque");
    }
}
