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

/// The working copy's cells (8-bit sRGB, what a project stores, and the OKLab values analysis
/// reads of exactly those bytes, as [`Picture::from_rgb`] reads them, so a reloaded picture
/// recomposes identically), `w x h` of them, row after row.
struct Cells {
    rgb: Vec<[u8; 3]>,
    pixels: Vec<Lab>,
}

impl Cells {
    fn new((w, h): (usize, usize)) -> Self {
        Cells {
            rgb: vec![[0; 3]; w * h],
            pixels: vec![Lab::default(); w * h],
        }
    }

    /// All the cells, to be written cell row after cell row from their sums.
    fn rows(&mut self, (sw, sh): (usize, usize), (w, h): (usize, usize)) -> CopyRows<'_> {
        CopyRows {
            area: (sw as f64 / w as f64) * (sh as f64 / h as f64),
            rgb: &mut self.rgb,
            pixels: &mut self.pixels,
            done: 0,
        }
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

/// A run of the working copy's cells, written a cell row at a time from the cells' sums of
/// linear light as each is finished (by the thread that sums it, while the rest of the picture
/// decodes).
struct CopyRows<'a> {
    /// Source pixels per cell.
    area: f64,
    rgb: &'a mut [[u8; 3]],
    pixels: &'a mut [Lab],
    /// Cells written so far.
    done: usize,
}

impl<'a> CopyRows<'a> {
    /// Writes the next cell row, from its cells' sums.
    fn row(&mut self, sums: &[[f64; 3]]) {
        let encode = SrgbEncoder::get();
        let rgb = self.rgb.iter_mut().skip(self.done);
        let pixels = self.pixels.iter_mut().skip(self.done);
        for ((c, rgb), lab) in sums.iter().zip(rgb).zip(pixels) {
            let p = c.map(|v| encode.to_u8(v / self.area));
            *rgb = p;
            *lab = srgb8_to_oklab(p);
        }
        self.done += sums.len();
    }

    /// The first `cells` cells (all of them if fewer are left), taken off the front.
    fn take_front(&mut self, cells: usize) -> CopyRows<'a> {
        let cells = cells.min(self.rgb.len()).min(self.pixels.len());
        let (rgb, rest_rgb) = std::mem::take(&mut self.rgb).split_at_mut(cells);
        let (pixels, rest_pixels) = std::mem::take(&mut self.pixels).split_at_mut(cells);
        (self.rgb, self.pixels) = (rest_rgb, rest_pixels);
        CopyRows {
            area: self.area,
            rgb,
            pixels,
            done: 0,
        }
    }
}

/// [`downscale`] of a `sw x sh` picture of 8-bit RGB (`channels` 3) or RGBA (4) rows that
/// `decode` hands over one at a time, top to bottom, as it decodes them: the rows are summed
/// while the next ones decode, so the working copy is ready almost as soon as the last row is.
/// The same sums in the same order as [`downscale`], so the same working copy. An error from
/// `decode` is returned as it is; rows beyond `sh` or of another length are ignored (the caller
/// checks what it decoded).
///
/// The rows travel in bands of whole cell rows (a band needs nothing of the others but the row
/// above it, when that row straddles into its first cell row), about 64 KB each and the last
/// stretch a cell row at a time. A second thread sums them as they come; the decoding thread
/// sums a band itself when a handful are already waiting, and whatever is still waiting when
/// the last row has decoded (then it waits for the band the helper is on, if any). So a second
/// core that runs slow, or is not there (no thread can be had), never holds the working copy up
/// by more than one band.
pub fn downscale_rows<E>(
    (sw, sh): (usize, usize),
    channels: usize,
    decode: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), E>,
) -> Result<Picture, E> {
    in_bands((sw, sh), channels, true, decode)
}

/// [`downscale_rows`], with a helper thread or (`helper` false) without.
fn in_bands<E>(
    (sw, sh): (usize, usize),
    channels: usize,
    helper: bool,
    decode: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), E>,
) -> Result<Picture, E> {
    let (w, h) = cells(sw, sh);
    let (xs, ys) = (Spans::new(sw, w), Spans::new(sh, h));
    let row_len = sw * channels;
    let band_rows = (65_536 / row_len.max(1)).clamp(1, 64);
    let last_stretch = sh.saturating_sub(2 * band_rows);
    // Bands waiting at most: about 256 KB of them (a band is at least a cell row).
    let band_bytes = band_rows.max(sh.div_ceil(h)) * row_len;
    let waiting = (262_144 / band_bytes.max(1)).clamp(1, 4);
    let summer = || BandSummer {
        rows: RowSummer::new(&xs, &ys, w, channels, 0, vec![[0.0; 3]; w + 1], None),
        row_len,
    };
    let mut cells = Cells::new((w, h));
    let mut uncut = cells.rows((sw, sh), (w, h));
    std::thread::scope(|scope| {
        let (send, receive) = crossbeam_channel::bounded::<Band>(waiting);
        // (No thread: every band is summed below, as it is cut.)
        let helper = helper.then(|| {
            std::thread::Builder::new()
                .name("pixelody-downscale".into())
                .spawn_scoped(scope, {
                    let (receive, summer) = (receive.clone(), summer());
                    move || help(receive, summer)
                })
        });
        let mut here = summer();
        let (mut rows, mut start, mut carry, mut y) = (Vec::new(), 0, false, 0);
        let decoded = decode(&mut |row: &[u8]| {
            if row.len() != row_len || y >= sh {
                return;
            }
            rows.extend_from_slice(row);
            y += 1;
            let target = if start < last_stretch {
                band_rows
            } else {
                (band_rows / 8).max(1)
            };
            let (Some(&last), next) = (ys.cell.get(y - 1), ys.cell.get(y)) else {
                return;
            };
            if next.is_some_and(|&next| next == last || y - start < target) {
                return;
            }
            // A band of whole cell rows: cut it, and start the next with the row above it if
            // that row straddles into the next's first cell row.
            let first = ys.cell.get(start).map_or(0, |&c| c as usize);
            let copy = uncut.take_front((last as usize + 1 - first) * w);
            let mut after = Vec::with_capacity(rows.len() + row_len);
            let straddles = next.is_some() && ys.first.get(y - 1).is_some_and(|&f| f < 1.0);
            if straddles {
                after.extend_from_slice(&rows[rows.len() - row_len..]);
            }
            let band = Band {
                start,
                carry,
                rows: std::mem::replace(&mut rows, after),
                copy,
            };
            (start, carry) = (y, straddles);
            if let Err(full) = send.try_send(band) {
                here.sum(full.into_inner());
            }
        });
        drop(send);
        receive.try_iter().for_each(|band| here.sum(band));
        if let Some(Ok(helper)) = helper {
            helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        decoded
    })?;
    Ok(cells.picture((w, h), (sw as u32, sh as u32)))
}

/// How long the helper keeps looking for the next band (giving way to any other thread that
/// wants its core) before it sleeps: a few bands' decoding, so it is awake when the next comes.
/// Woken from sleep for every band instead, it cost the decoding thread about a tenth of a
/// millisecond a 640x480 PNG in system calls (the working copy's interleaved medians, 600 rounds,
/// four runs: 1.82-2.08 ms against 1.93-2.26 ms).
const HELPER_LOOKS: std::time::Duration = std::time::Duration::from_micros(300);

/// The second thread of [`downscale_rows`]: sums the bands as they come until the decoding
/// thread hangs up.
fn help<'a>(receive: crossbeam_channel::Receiver<Band<'a>>, mut summer: BandSummer<'a>) {
    use crossbeam_channel::TryRecvError;
    let mut since = std::time::Instant::now();
    loop {
        let band = match receive.try_recv() {
            Ok(band) => band,
            Err(TryRecvError::Empty) if since.elapsed() < HELPER_LOOKS => {
                std::thread::yield_now();
                continue;
            }
            Err(TryRecvError::Empty) => match receive.recv() {
                Ok(band) => band,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        summer.sum(band);
        since = std::time::Instant::now();
    }
}

/// Source rows `start..` (after the row above, when `carry`) whose cell rows are `copy`.
struct Band<'a> {
    start: usize,
    carry: bool,
    rows: Vec<u8>,
    copy: CopyRows<'a>,
}

/// Sums bands, one after another, keeping its buffers.
struct BandSummer<'a> {
    rows: RowSummer<'a, Vec<[f64; 3]>>,
    row_len: usize,
}

impl<'a> BandSummer<'a> {
    fn sum(&mut self, band: Band<'a>) {
        let summer = &mut self.rows;
        summer.restart(band.start, Some(band.copy));
        let mut rows = band.rows.chunks_exact(self.row_len);
        if band.carry {
            rows.next()
                .into_iter()
                .for_each(|r| summer.carry_from_above(r));
        }
        rows.for_each(|r| summer.push(r));
        summer.sum_across();
    }
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
) -> (Vec<[f64; 3]>, Cells) {
    let (xs, ys) = (Spans::new(sw, w), Spans::new(sh, h));
    let sums = Sums {
        raw,
        sw,
        w,
        xs: &xs,
        ys: &ys,
    };
    let mut acc = vec![[0.0f64; 3]; (w + 1) * h];
    let mut cells = Cells::new((w, h));
    let mut copy = cells.rows((sw, sh), (w, h));
    let split = (1..sh)
        .find(|&y| ys.cell[y] as usize >= h / 2 && ys.cell[y] != ys.cell[y - 1])
        .filter(|_| sw * sh >= parallel_pixels);
    match split {
        Some(y) => {
            let (top, bottom) = acc.split_at_mut(ys.cell[y] as usize * (w + 1));
            let bottom_len = bottom.len();
            let upper = copy.take_front(ys.cell[y] as usize * w);
            // (Taken by the thread, or here when no thread can be had.)
            let lower = std::sync::Mutex::new(Some(copy));
            let take_lower = || lower.lock().ok().and_then(|mut copy| copy.take());
            std::thread::scope(|scope| {
                let thread = std::thread::Builder::new()
                    .name("pixelody-downscale".into())
                    .spawn_scoped(scope, || {
                        let mut band = vec![[0.0f64; 3]; bottom_len];
                        sums.band(channels, y..sh, &mut band, take_lower());
                        band
                    });
                sums.band(channels, 0..y, top, Some(upper));
                match thread {
                    Ok(thread) => {
                        let band = thread
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                        bottom.copy_from_slice(&band);
                    }
                    Err(_) => sums.band(channels, y..sh, bottom, take_lower()),
                }
            });
        }
        None => sums.band(channels, 0..sh, &mut acc, Some(copy)),
    }
    (acc, cells)
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
}

impl Sums<'_> {
    /// Sums source rows `rows` (starting where a cell row starts) into `acc`, their cell rows
    /// (`w + 1` cells each, the first `ys.cell[rows.start]`), the first cell row beginning with
    /// the share of the row above that falls in it, as the rows above would have left it; and
    /// writes the working copy's rows of those cell rows to `copy`.
    fn band(
        &self,
        channels: usize,
        rows: std::ops::Range<usize>,
        acc: &mut [[f64; 3]],
        copy: Option<CopyRows<'_>>,
    ) {
        let row = |y: usize| &self.raw[y * self.sw * channels..][..self.sw * channels];
        let mut summer = RowSummer::new(self.xs, self.ys, self.w, channels, rows.start, acc, copy);
        if let Some(y) = rows.start.checked_sub(1) {
            summer.carry_from_above(row(y));
        }
        for y in rows {
            summer.push(row(y));
        }
        summer.sum_across();
    }
}

/// Source rows summed one at a time into cell rows `acc` (`w + 1` cells each), from source row
/// `y` on. Each row is summed column by column into the cell row it falls in (`cur`; a row
/// straddling two cell rows gives the rest of itself to `next`): every column is independent, so
/// this runs at the speed of the table lookups. A finished cell row is then summed across, and
/// made into the working copy's row. An `acc` of one cell row is used again for each (only the
/// working copy is kept).
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
    copy: Option<CopyRows<'a>>,
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
        copy: Option<CopyRows<'a>>,
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

    /// Starts again at source row `start` (where a cell row starts), the cell rows written to
    /// `copy`.
    fn restart(&mut self, start: usize, copy: Option<CopyRows<'a>>) {
        self.top = self.ys.cell.get(start).map_or(0, |&c| c as usize);
        (self.cell_row, self.y, self.copy) = (self.top, start, copy);
        self.cur.fill([0.0; 3]);
        self.next.fill([0.0; 3]);
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
        let acc = self.acc.as_mut();
        let cells = if acc.len() == w + 1 {
            acc.fill([0.0; 3]);
            Some(acc)
        } else {
            let at = (self.cell_row - self.top) * (w + 1);
            acc.get_mut(at..at + w + 1)
        };
        if let Some(cells) = cells {
            self.xs.sum_across(&self.cur, cells);
            if let Some(copy) = &mut self.copy {
                copy.row(&cells[..w]);
            }
        }
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
    fn rows_summed_in_bands_by_either_thread_are_the_working_copy_of_the_whole() {
        let mut noise = crate::test_support::Noise::new(11);
        for (sw, sh, channels) in [
            (640, 480, 3),
            (700, 431, 3),
            (641, 480, 4),
            (333, 999, 3),
            (129, 2000, 4),
            (5000, 40, 3),
            (90, 70, 4),
            (1, 1, 3),
            (3000, 2999, 3),
        ] {
            let raw: Vec<u8> = (0..sw * sh * channels)
                .map(|_| (noise.next_u64() >> 24) as u8)
                .collect();
            let (w, h) = (sw as u32, sh as u32);
            let image = match channels {
                3 => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, raw.clone()).unwrap()),
                _ => {
                    DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, raw.clone()).unwrap())
                }
            };
            let whole = downscale(&Decoded {
                image,
                source_width: w,
                source_height: h,
            });
            // The helper sums every band (the rows come slowly), none (there is no helper: the
            // decoding thread sums a band when the waiting ones fill up, and the rest at the
            // end), or some (the rows come at once).
            for (helper, pause) in [(true, true), (false, false), (true, false)] {
                let by_rows = in_bands::<()>((sw, sh), channels, helper, |push| {
                    for (y, row) in raw.chunks_exact(sw * channels).enumerate() {
                        if pause && y % 8 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(50));
                        }
                        push(row);
                    }
                    Ok(())
                })
                .unwrap();
                let differ = by_rows.rgb.iter().zip(&whole.rgb).position(|(a, b)| a != b);
                assert!(
                    (by_rows.width, by_rows.height) == (whole.width, whole.height)
                        && by_rows.rgb == whole.rgb
                        && by_rows.pixels == whole.pixels,
                    "{sw} x {sh}, {channels} channels, helper {helper}, pause {pause}: first \
                     differing cell {differ:?}"
                );
            }
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
