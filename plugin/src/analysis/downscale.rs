//! The working copy: a decoded picture averaged down to at most [`MAX_SIDE`] pixels a side in
//! linear light, then kept as 8-bit sRGB and OKLab. Background thread.

use super::decode::{Decoded, MAX_SIDE};
use super::oklab::{srgb8_to_linear_table, srgb8_to_oklab, Lab};
use super::Picture;
use image::DynamicImage;

/// Area-averaging downscale in linear light: each cell is the exact average of the source area
/// it covers (a box filter; a source pixel straddling two cells is shared between them by the
/// fraction on each side), so thin lines and small bright spots survive (point sampling would drop
/// them) and every cell weighs the same area whatever the ratio of the sizes.
pub fn downscale(decoded: &Decoded) -> Picture {
    let img = &decoded.image;
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let (w, h) = cells(sw, sh);
    // Rows of 8-bit RGB or RGBA as they are (the usual case), anything else converted once.
    let converted;
    let (raw, channels): (&[u8], usize) = match img {
        DynamicImage::ImageRgb8(b) => (b.as_raw(), 3),
        DynamicImage::ImageRgba8(b) => (b.as_raw(), 4),
        other => {
            converted = other.to_rgba8();
            (converted.as_raw(), 4)
        }
    };
    let (_, copy) = cell_sums(raw, channels, (sw, sh), (w, h), PARALLEL_PIXELS);
    copy.picture((w, h), (decoded.source_width, decoded.source_height))
}

/// The working copy's size in cells for a `sw x sh` source.
fn cells(sw: usize, sh: usize) -> (usize, usize) {
    let scale = (sw.max(sh) as f64 / MAX_SIDE as f64).max(1.0);
    (
        ((sw as f64 / scale).round() as usize).clamp(1, MAX_SIDE),
        ((sh as f64 / scale).round() as usize).clamp(1, MAX_SIDE),
    )
}

/// The working copy, made a cell row at a time from the cells' sums of linear light as each row
/// is finished (by the thread that sums it, while the rest of the picture decodes). It is kept as
/// 8-bit sRGB (it is what a project stores), and analysis reads the OKLab values of exactly those
/// bytes (as [`Picture::from_rgb`] reads them), so a reloaded picture recomposes identically.
struct WorkingCopy {
    /// Source pixels per cell.
    area: f64,
    rgb: Vec<[u8; 3]>,
    pixels: Vec<Lab>,
}

impl WorkingCopy {
    fn new((sw, sh): (usize, usize), (w, h): (usize, usize)) -> Self {
        WorkingCopy {
            area: (sw as f64 / w as f64) * (sh as f64 / h as f64),
            rgb: Vec::with_capacity(w * h),
            pixels: Vec::with_capacity(w * h),
        }
    }

    /// Adds the next cell row, from its cells' sums.
    fn row(&mut self, sums: &[[f64; 3]]) {
        let encode = SrgbEncoder::get();
        for c in sums {
            let p = c.map(|v| encode.to_u8(v / self.area));
            self.rgb.push(p);
            self.pixels.push(srgb8_to_oklab(p));
        }
    }

    /// Adds the rows of `below`.
    fn append(&mut self, mut below: WorkingCopy) {
        self.rgb.append(&mut below.rgb);
        self.pixels.append(&mut below.pixels);
    }

    fn picture(self, (w, h): (usize, usize), (source_width, source_height): (u32, u32)) -> Picture {
        Picture {
            width: w,
            height: h,
            rgb: self.rgb,
            pixels: self.pixels,
            source_width,
            source_height,
            content: Default::default(),
        }
    }
}

/// [`downscale`] of a `sw x sh` picture of 8-bit RGB (`channels` 3) or RGBA (4) rows that
/// `decode` hands over one at a time, top to bottom, as it decodes them: the rows are summed on a
/// second thread while the next ones decode (here when no thread can be had), so the working copy
/// is ready almost as soon as the last row is. The same sums in the same order as [`downscale`],
/// so the same working copy. An error from `decode` is returned as it is; rows beyond `sh` or of
/// another length are ignored (the caller checks what it decoded).
pub fn downscale_rows<E>(
    (sw, sh): (usize, usize),
    channels: usize,
    decode: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), E>,
) -> Result<Picture, E> {
    let (w, h) = cells(sw, sh);
    let (xs, ys) = (Spans::new(sw, w), Spans::new(sh, h));
    let row_len = sw * channels;
    let summer = || {
        let copy = WorkingCopy::new((sw, sh), (w, h));
        RowSummer::new(&xs, &ys, w, channels, 0, vec![[0.0; 3]; (w + 1) * h], copy)
    };
    // Rows travel in bands of about 64 KB (a few dozen rows), a handful in flight; the last
    // stretch in bands of an eighth of that, so little is left to sum when the last row decodes.
    let band_rows = (65_536 / row_len.max(1)).clamp(1, 64);
    let (band, last_band) = (band_rows * row_len, (band_rows / 8).max(1) * row_len);
    let last_stretch = sh.saturating_sub(2 * band_rows);
    let copy = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let spawned = std::thread::Builder::new()
            .name("pixelody-downscale".into())
            .spawn_scoped(scope, {
                let mut summer = summer();
                move || {
                    for rows in receive {
                        rows.chunks_exact(row_len).for_each(|row| summer.push(row));
                    }
                    summer.finish().1
                }
            });
        match spawned {
            Ok(thread) => {
                let mut rows = Vec::with_capacity(band);
                let mut sent = 0;
                let decoded = decode(&mut |row: &[u8]| {
                    if row.len() == row_len {
                        rows.extend_from_slice(row);
                        let full = if sent < last_stretch { band } else { last_band };
                        if rows.len() >= full {
                            sent += rows.len() / row_len;
                            let full = std::mem::replace(&mut rows, Vec::with_capacity(band));
                            // (The summer stops only when this side hangs up.)
                            let _ = send.send(full);
                        }
                    }
                });
                if !rows.is_empty() {
                    let _ = send.send(rows);
                }
                drop(send);
                let copy = thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                decoded.map(|()| copy)
            }
            Err(_) => {
                // No second thread: the same sums here, row by row.
                let mut summer = summer();
                let decoded = decode(&mut |row: &[u8]| {
                    if row.len() == row_len {
                        summer.push(row);
                    }
                });
                decoded.map(|()| summer.finish().1)
            }
        }
    })?;
    Ok(copy.picture((w, h), (sw as u32, sh as u32)))
}

/// Each cell's sum of the linear light of the source pixels it covers (`raw`: `channels` bytes a
/// pixel, `sw x sh` of them; `w x h` cells, each cell row `w + 1` long, the last one spare), and
/// the working copy made from them. Sources of `parallel_pixels` or more are summed in two bands
/// of cell rows at once, the lower on a thread of its own (here when no thread can be had): the
/// same sums in the same order either way.
fn cell_sums(
    raw: &[u8],
    channels: usize,
    (sw, sh): (usize, usize),
    (w, h): (usize, usize),
    parallel_pixels: usize,
) -> (Vec<[f64; 3]>, WorkingCopy) {
    let (xs, ys) = (Spans::new(sw, w), Spans::new(sh, h));
    let sums = Sums {
        raw,
        sw,
        w,
        xs: &xs,
        ys: &ys,
        sizes: ((sw, sh), (w, h)),
    };
    let mut acc = vec![[0.0f64; 3]; (w + 1) * h];
    let mut copy = WorkingCopy::new((sw, sh), (w, h));
    let split = (1..sh)
        .find(|&y| ys.cell[y] as usize >= h / 2 && ys.cell[y] != ys.cell[y - 1])
        .filter(|_| sw * sh >= parallel_pixels);
    match split {
        Some(y) => {
            let (top, bottom) = acc.split_at_mut(ys.cell[y] as usize * (w + 1));
            let bottom_len = bottom.len();
            std::thread::scope(|scope| {
                let lower = std::thread::Builder::new()
                    .name("pixelody-downscale".into())
                    .spawn_scoped(scope, || {
                        let mut band = vec![[0.0f64; 3]; bottom_len];
                        let copy = sums.band(channels, y..sh, &mut band);
                        (band, copy)
                    });
                copy = sums.band(channels, 0..y, top);
                let below = match lower {
                    Ok(thread) => {
                        let (band, below) = thread
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                        bottom.copy_from_slice(&band);
                        below
                    }
                    Err(_) => sums.band(channels, y..sh, bottom),
                };
                copy.append(below);
            });
        }
        None => copy = sums.band(channels, 0..sh, &mut acc),
    }
    (acc, copy)
}

/// Source pictures at least this large (in pixels) are summed on two threads.
const PARALLEL_PIXELS: usize = 200_000;

/// The source's rows of 8-bit pixels and how they fall into cells.
struct Sums<'a> {
    raw: &'a [u8],
    sw: usize,
    /// Cells across.
    w: usize,
    xs: &'a Spans,
    ys: &'a Spans,
    /// The source's size and the working copy's.
    sizes: ((usize, usize), (usize, usize)),
}

impl Sums<'_> {
    /// Sums source rows `rows` (starting where a cell row starts) into `acc`, their cell rows
    /// (`w + 1` cells each, the first `ys.cell[rows.start]`), the first cell row beginning with
    /// the share of the row above that falls in it, as the rows above would have left it; and
    /// returns the working copy's rows of those cell rows.
    fn band(
        &self,
        channels: usize,
        rows: std::ops::Range<usize>,
        acc: &mut [[f64; 3]],
    ) -> WorkingCopy {
        let row = |y: usize| &self.raw[y * self.sw * channels..][..self.sw * channels];
        let copy = WorkingCopy::new(self.sizes.0, self.sizes.1);
        let mut summer = RowSummer::new(self.xs, self.ys, self.w, channels, rows.start, acc, copy);
        if let Some(y) = rows.start.checked_sub(1) {
            summer.carry_from_above(row(y));
        }
        for y in rows {
            summer.push(row(y));
        }
        summer.finish().1
    }
}

/// Source rows summed one at a time into cell rows `acc` (`w + 1` cells each), from source row
/// `y` on. Each row is summed column by column into the cell row it falls in (`cur`; a row
/// straddling two cell rows gives the rest of itself to `next`): every column is independent, so
/// this runs at the speed of the table lookups. A finished cell row is then summed across, and
/// made into the working copy's row.
struct RowSummer<'a, A> {
    xs: &'a Spans,
    ys: &'a Spans,
    lut: &'static [f32; 256],
    w: usize,
    channels: usize,
    cur: Vec<[f32; 3]>,
    next: Vec<[f32; 3]>,
    /// The cell row `acc` starts with, the one `cur` sums into, and the next source row.
    top: usize,
    cell_row: usize,
    y: usize,
    acc: A,
    copy: WorkingCopy,
}

impl<'a, A: AsMut<[[f64; 3]]>> RowSummer<'a, A> {
    /// A summer whose first row is source row `start` (where a cell row starts; the cell rows of
    /// `acc` begin with its cell row).
    fn new(
        xs: &'a Spans,
        ys: &'a Spans,
        w: usize,
        channels: usize,
        start: usize,
        acc: A,
        copy: WorkingCopy,
    ) -> Self {
        let top = ys.cell.get(start).map_or(0, |&c| c as usize);
        let sw = xs.cell.len();
        RowSummer {
            xs,
            ys,
            lut: srgb8_to_linear_table(),
            w,
            channels,
            cur: vec![[0.0; 3]; sw],
            next: vec![[0.0; 3]; sw],
            top,
            cell_row: top,
            y: start,
            acc,
            copy,
        }
    }

    /// Starts the first cell row with the share of the source row above that falls in it, as
    /// the rows above would have left it.
    fn carry_from_above(&mut self, row: &[u8]) {
        let Some(&first) = self.y.checked_sub(1).and_then(|y| self.ys.first.get(y)) else {
            return;
        };
        // (Its share in the cell row above goes to `next`, unused.)
        self.add(row, first, true);
        self.next.fill([0.0; 3]);
    }

    fn push(&mut self, row: &[u8]) {
        let (Some(&cy), Some(&first)) = (self.ys.cell.get(self.y), self.ys.first.get(self.y))
        else {
            return;
        };
        if cy as usize != self.cell_row {
            self.sum_across();
            std::mem::swap(&mut self.cur, &mut self.next);
            self.next.fill([0.0; 3]);
            self.cell_row = cy as usize;
        }
        self.add(row, first, false);
        self.y += 1;
    }

    /// Adds `row`: `first` of it to `cur` and the rest to `next`, or the other way round.
    fn add(&mut self, row: &[u8], first: f32, swapped: bool) {
        let (a, b) = if swapped {
            (&mut self.next, &mut self.cur)
        } else {
            (&mut self.cur, &mut self.next)
        };
        if self.channels == 4 {
            add_row::<4>(row, self.lut, first, a, b);
        } else {
            add_row::<3>(row, self.lut, first, a, b);
        }
    }

    /// Sums the finished cell row across into its cells (it is then complete: a source row
    /// straddling it and the next gave it its share already) and makes it the working copy's.
    fn sum_across(&mut self) {
        let w = self.w;
        let at = (self.cell_row - self.top) * (w + 1);
        let cells = &mut self.acc.as_mut()[at..][..w + 1];
        self.xs.sum_across(&self.cur, cells);
        self.copy.row(&cells[..w]);
    }

    fn finish(mut self) -> (A, WorkingCopy) {
        self.sum_across();
        (self.acc, self.copy)
    }
}

/// Adds one source row of `N`-channel pixels (RGB, or RGBA composited over black) in linear light
/// to the column sums: all of it to `cur`, or `first` of it to `cur` and the rest to `next`.
fn add_row<const N: usize>(
    row: &[u8],
    lut: &[f32; 256],
    first: f32,
    cur: &mut [[f32; 3]],
    next: &mut [[f32; 3]],
) {
    let linear = |p: &[u8]| {
        let alpha = if N == 4 { f32::from(p[3]) / 255.0 } else { 1.0 };
        [0, 1, 2].map(|i| lut[p[i] as usize] * alpha)
    };
    let pixels = row.chunks_exact(N);
    if first == 1.0 {
        for (c, p) in cur.iter_mut().zip(pixels) {
            let v = linear(p);
            (0..3).for_each(|k| c[k] += v[k]);
        }
    } else {
        for ((c, n), p) in cur.iter_mut().zip(next.iter_mut()).zip(pixels) {
            let v = linear(p);
            (0..3).for_each(|k| c[k] += v[k] * first);
            (0..3).for_each(|k| n[k] += v[k] * (1.0 - first));
        }
    }
}

/// How the source pixels along one axis fall into cells: pixel `i` covers `[i, i + 1)`, cell `c`
/// covers `[c * src / dst, (c + 1) * src / dst)`; with `dst <= src` a pixel touches one cell or
/// two neighbours. `first[i]` is the share of pixel `i` in its first cell `cell[i]`; the rest goes
/// to the next one.
struct Spans {
    cell: Vec<u32>,
    first: Vec<f32>,
}

impl Spans {
    fn new(src: usize, dst: usize) -> Spans {
        let (cell, first) = (0..src)
            .map(|i| {
                let c = i * dst / src;
                let boundary = (c + 1) * src; // the cell's right edge, in units of 1 / dst pixel
                let share = if (i + 1) * dst <= boundary {
                    1.0
                } else {
                    (boundary - i * dst) as f32 / dst as f32
                };
                (c as u32, share)
            })
            .unzip();
        Spans { cell, first }
    }

    /// Adds each column sum of `line` to its cell(s) in `cells` (one spare cell at the end for
    /// the last column's empty second share). Sums are kept in registers while the cell stays the
    /// same: a column straddling a boundary is its cell's last, and its rest starts the next.
    fn sum_across(&self, line: &[[f32; 3]], cells: &mut [[f64; 3]]) {
        let (mut cell, mut sum, mut rest) = (0, [0.0f32; 3], [0.0f32; 3]);
        for ((v, &c), &first) in line.iter().zip(&self.cell).zip(&self.first) {
            if c as usize != cell {
                (0..3).for_each(|k| cells[cell][k] += f64::from(sum[k]));
                (cell, sum, rest) = (c as usize, rest, [0.0; 3]);
            }
            (0..3).for_each(|k| sum[k] += v[k] * first);
            (0..3).for_each(|k| rest[k] += v[k] * (1.0 - first));
        }
        (0..3).for_each(|k| cells[cell][k] += f64::from(sum[k]));
        (0..3).for_each(|k| cells[cell + 1][k] += f64::from(rest[k]));
    }
}

/// Linear light -> 8-bit sRGB, rounded to the nearest code: the code is the number of decision
/// points (the linear values halfway between neighbouring codes) at or below the value. A table
/// over 4096 equal steps of linear light gives the code at each step's start; at most one
/// decision point lies inside a step (the curve is steepest near black: 0.8 codes per step), so
/// there is no search and no `powf` per cell.
struct SrgbEncoder {
    steps: [f32; 255],
    start: Vec<u8>,
}

impl SrgbEncoder {
    const BUCKETS: usize = 4096;

    /// The encoder, built once per process.
    fn get() -> &'static SrgbEncoder {
        static ENCODER: std::sync::OnceLock<SrgbEncoder> = std::sync::OnceLock::new();
        ENCODER.get_or_init(SrgbEncoder::new)
    }

    fn new() -> SrgbEncoder {
        let mut steps = [0.0; 255];
        for (k, s) in steps.iter_mut().enumerate() {
            *s = super::oklab::srgb_to_linear((k as f32 + 0.5) / 255.0);
        }
        let start = (0..Self::BUCKETS)
            .map(|i| {
                let v = i as f64 / Self::BUCKETS as f64;
                steps.partition_point(|&s| f64::from(s) <= v) as u8
            })
            .collect();
        SrgbEncoder { steps, start }
    }

    fn to_u8(&self, v: f64) -> u8 {
        let v = v.clamp(0.0, 1.0);
        let bucket = ((v * Self::BUCKETS as f64) as usize).min(Self::BUCKETS - 1);
        let code = self.start[bucket];
        // At most one decision point lies inside a bucket (see above); the last code has none.
        let past = self
            .steps
            .get(code as usize)
            .is_some_and(|&s| f64::from(s) <= v);
        code + u8::from(past)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bands_sum_exactly_what_one_does() {
        let mut noise = crate::test_support::Noise::new(7);
        for (sw, sh, channels) in [(700, 431, 3), (641, 480, 4), (333, 999, 3), (129, 2000, 4)] {
            let raw: Vec<u8> = (0..sw * sh * channels)
                .map(|_| (noise.next_u64() >> 24) as u8)
                .collect();
            let scale = (sw.max(sh) as f64 / MAX_SIDE as f64).max(1.0);
            let cells = (
                ((sw as f64 / scale).round() as usize).clamp(1, MAX_SIDE),
                ((sh as f64 / scale).round() as usize).clamp(1, MAX_SIDE),
            );
            let (one, one_copy) = cell_sums(&raw, channels, (sw, sh), cells, usize::MAX);
            let (two, two_copy) = cell_sums(&raw, channels, (sw, sh), cells, 0);
            assert_eq!(
                (one_copy.rgb, one_copy.pixels),
                (two_copy.rgb, two_copy.pixels)
            );
            assert!(
                one.iter()
                    .zip(&two)
                    .all(|(a, b)| a.map(f64::to_bits) == b.map(f64::to_bits)),
                "{sw} x {sh}"
            );
            assert!(one.iter().any(|c| c[0] > 0.0));
        }
    }

    #[test]
    fn a_decoder_that_panics_mid_picture_is_a_panic_not_a_hang() {
        for rows in [0, 1, 100, 479] {
            let caught = std::panic::catch_unwind(|| {
                downscale_rows::<()>((640, 480), 3, |push| {
                    for _ in 0..rows {
                        push(&[128; 640 * 3]);
                    }
                    panic!("a decoder's bug");
                })
            });
            assert!(caught.is_err(), "after {rows} rows");
        }
        let whole = downscale_rows::<()>((640, 480), 3, |push| {
            (0..480).for_each(|_| push(&[128; 640 * 3]));
            Ok(())
        });
        assert!(whole.unwrap().rgb.iter().all(|&p| p == [128; 3]));
    }

    #[test]
    fn srgb_encoding_rounds_to_the_nearest_code_without_searching() {
        let e = SrgbEncoder::new();
        let search = |v: f64| e.steps.partition_point(|&s| f64::from(s) <= v) as u8;
        let near_steps = e.steps.iter().flat_map(|&s| {
            let s = f64::from(s);
            [s - 1e-9, s, s + 1e-9]
        });
        for v in (0..=1_000_000)
            .map(|i| f64::from(i) / 1e6)
            .chain(near_steps)
        {
            assert_eq!(e.to_u8(v), search(v), "{v}");
        }
        assert_eq!(
            (e.to_u8(-0.5), e.to_u8(0.0), e.to_u8(1.0), e.to_u8(7.0)),
            (0, 0, 255, 255)
        );
        // The codes are the usual ones: 18% grey in linear light is sRGB 118, 50% is 188.
        assert_eq!((e.to_u8(0.18), e.to_u8(0.5)), (118, 188));
    }
}
