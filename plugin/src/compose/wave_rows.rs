//! The picture as a wavetable: up to 64 of its rows, evenly spaced from top to bottom, each read
//! left to right as one cycle of a wave (lightness is the wave's height; the engine plays the row
//! there and back, so the cycle has no jump and the row's shape makes the harmonics). A smooth
//! sky gives a round, mellow frame; a row through leaves or text a bright, buzzing one.
//!
//! The picture also proposes where to listen: Wave Position at the row with the most detail, and
//! Wave Scan as far as the rows differ from one another (a picture whose rows all look alike
//! has nothing to scan through).

use crate::analysis::Picture;
use crate::score::wave::{Wave, MAX_FRAMES};
use crate::wavetable::LevelJob;

/// Points per row: enough for 128 harmonics (the cycle is the row and its mirror).
const WIDTH: usize = 128;

/// The picture's rows, as [`proposed_position_and_scan`] and the patch read them.
pub type Rows<'a> = (usize, usize, &'a [u8]);

/// The picture's [`Wave`], its table built while `alongside` runs with the rows (the table takes
/// about as long as the rest of a composition: on two cores a picture is composed in half the
/// time). The table's levels are jobs that a second thread takes one after another, and this
/// one takes whatever is left when `alongside` is done: a second core that runs slow, or is not
/// there (no thread can be had), holds the wave up by at most the level it is on. A panic in
/// either reaches the caller as it would without the thread.
pub fn wave_beside<T>(picture: &Picture, alongside: impl FnOnce(Rows<'_>) -> T) -> (Wave, T) {
    let (frames, width, rows) = rows(picture);
    let wave = Wave::unbuilt(frames, width, rows.clone());
    let mut build = wave.table_build();
    let out = std::thread::scope(|scope| {
        let (send, levels) = crossbeam_channel::unbounded::<LevelJob>();
        build.levels().into_iter().for_each(|level| {
            // (Both ends are here: it cannot fail.)
            let _ = send.send(level);
        });
        drop(send);
        let helper = std::thread::Builder::new()
            .name("pixelody-wave".into())
            .spawn_scoped(scope, {
                let levels = levels.clone();
                move || levels.try_iter().for_each(LevelJob::run)
            });
        let out = alongside((frames, width, &rows));
        levels.try_iter().for_each(LevelJob::run);
        if let Ok(helper) = helper {
            helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        out
    });
    (wave.with_table(build.finish()), out)
}

/// The picture's rows: how many, how wide, and their lightness values row after row.
pub fn rows(picture: &Picture) -> (usize, usize, Vec<u8>) {
    let (w, h) = (picture.width.max(1), picture.height.max(1));
    let frames = h.min(MAX_FRAMES);
    let width = w.min(WIDTH);
    let mut rows = Vec::with_capacity(frames * width);
    for f in 0..frames {
        // Each frame averages the band of rows it stands for, each point a span of columns.
        let (y0, y1) = (
            f * h / frames,
            ((f + 1) * h / frames).max(f * h / frames + 1),
        );
        for x in 0..width {
            let (x0, x1) = (x * w / width, ((x + 1) * w / width).max(x * w / width + 1));
            let mut sum = 0.0;
            for y in y0..y1.min(h) {
                for xx in x0..x1.min(w) {
                    sum += picture.at(xx, y).l;
                }
            }
            let mean = sum / ((y1 - y0) * (x1 - x0)) as f32;
            rows.push((mean.clamp(0.0, 1.0) * 255.0).round() as u8);
        }
    }
    (frames, width, rows)
}

/// How much a row changes from point to point, relative to its width.
fn detail(row: &[u8]) -> f32 {
    row.windows(2)
        .map(|p| (f32::from(p[0]) - f32::from(p[1])).abs())
        .sum::<f32>()
        / (255.0 * row.len().max(1) as f32)
}

/// The proposed Wave Position (the row with the most detail, 0 = top) and Wave Scan (how far the
/// rows differ from one another), both 0..1.
pub fn proposed_position_and_scan(frames: usize, width: usize, rows: &[u8]) -> (f32, f32) {
    let width = width.max(1);
    let frames = frames.min(rows.len() / width);
    if frames < 2 {
        return (0.0, 0.0);
    }
    let row = |f: usize| &rows[f * width..(f + 1) * width];
    let mut best = (0, -1.0f32);
    for f in 0..frames {
        let d = detail(row(f));
        if d > best.1 {
            best = (f, d);
        }
    }
    let change = (1..frames)
        .map(|f| {
            row(f)
                .iter()
                .zip(row(f - 1))
                .map(|(a, b)| (f32::from(*a) - f32::from(*b)).abs())
                .sum::<f32>()
                / (255.0 * width as f32)
        })
        .sum::<f32>()
        / (frames - 1) as f32;
    let position = best.0 as f32 / (frames - 1) as f32;
    (position, (change * 8.0).clamp(0.0, 0.6))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The picture's rows as a [`Wave`] (the composer builds it with [`wave_beside`]).
    fn wave(picture: &Picture) -> Wave {
        let (frames, width, rows) = rows(picture);
        Wave::from_rows(frames, width, rows)
    }

    fn picture(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Picture {
        let rgb = (0..w * h)
            .map(|i| {
                let v = f(i % w, i / w);
                [v, v, v]
            })
            .collect();
        Picture::from_rgb(w, h, rgb, w as u32, h as u32)
    }

    #[test]
    fn rows_become_frames_and_the_busiest_row_is_proposed() {
        // Smooth gradient on top, stripes at the bottom.
        let p = picture(160, 100, |x, y| {
            if y < 70 {
                (x * 255 / 159) as u8
            } else if (x / 4) % 2 == 0 {
                255
            } else {
                0
            }
        });
        let w = wave(&p);
        assert_eq!((w.frames(), w.width()), (64, 128));
        // Top row rises left to right.
        let top = w.row(0);
        assert!(top[0] < 10 && top[127] > 245, "{} {}", top[0], top[127]);
        let (position, scan) = proposed_position_and_scan(w.frames(), w.width(), w.rows());
        assert!(position > 0.7, "the striped rows: {position}");
        assert!(scan > 0.0);
        // A flat picture proposes no scan.
        let flat = wave(&picture(64, 64, |_, _| 90));
        assert_eq!(
            proposed_position_and_scan(flat.frames(), flat.width(), flat.rows()).1,
            0.0
        );
    }

    #[test]
    fn the_wave_built_beside_a_composition_is_the_wave_built_alone() {
        let table_bits = |wave: &Wave| {
            let table = wave.built_table().expect("built");
            let gains = (0..table.frames()).flat_map(|f| table.spectrum(f).gains);
            (table.data().iter().copied().chain(gains))
                .map(f32::to_bits)
                .collect::<Vec<u32>>()
        };
        let pictures = [
            picture(160, 100, |x, y| ((x * 7 + y * y) % 256) as u8),
            picture(
                128,
                96,
                |x, y| if (x / 3 + y / 5) % 2 == 0 { 230 } else { 20 },
            ),
            picture(40, 9, |x, _| (x * 6) as u8),
            picture(1, 1, |_, _| 200),
        ];
        for p in &pictures {
            let alone = wave(p);
            // The composition slower than the table (the second thread builds every level), and
            // none at all (this thread takes most of them).
            for pause in [
                std::time::Duration::from_millis(30),
                std::time::Duration::ZERO,
            ] {
                let (beside, ()) = wave_beside(p, |_| std::thread::sleep(pause));
                assert_eq!(beside, alone);
                assert!(
                    table_bits(&beside) == table_bits(&alone),
                    "{} x {}, pause {pause:?}",
                    p.width,
                    p.height
                );
            }
        }
    }

    #[test]
    fn tiny_pictures_make_a_wave_too() {
        let w = wave(&picture(1, 1, |_, _| 200));
        assert_eq!((w.frames(), w.width()), (1, 1));
        assert_eq!(
            proposed_position_and_scan(w.frames(), w.width(), w.rows()),
            (0.0, 0.0)
        );
    }
}
