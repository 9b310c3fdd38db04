//! Features: what composing reads from the working copy. Pure functions of the picture.
//! Where a musical match is relative (light/high, busy/dense), the composer normalises within the
//! picture; the global statistics here let it also tell a dark picture from a light one.

use super::{Lab, Picture};
use wide::f32x8;

/// A vertical slice of the picture, one per step of the composed grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// Height of the slice's strongest edges: 0 = bottom edge, 1 = top edge.
    pub height: f32,
    /// How much changes in the slice (its edges), relative to the busiest slice: 0..1.
    pub energy: f32,
    /// Mean OKLab lightness of the slice, 0..1.
    pub lightness: f32,
    /// Standard deviation of lightness within the slice: its local contrast.
    pub contrast: f32,
}

/// A horizontal section of the picture: one per bar (or chord).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    pub lightness: f32,
    pub chroma: f32,
    /// Chroma-weighted mean hue in degrees (0 = pinkish red, 90 = yellow, 180 = cyan, 270 = blue).
    pub hue: f32,
    pub warmth: f32,
    /// Mean gradient magnitude.
    pub edges: f32,
    /// Edges in the lower third of the region (where a bass line lives in a landscape).
    pub low_edges: f32,
}

/// One of the picture's dominant colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swatch {
    pub colour: Lab,
    /// Share of the picture, 0..1; swatches are sorted by weight, heaviest first.
    pub weight: f32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    pub mean: f32,
    pub std: f32,
    /// 5th and 95th percentiles: robust black and white levels.
    pub p05: f32,
    pub p95: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    pub columns: Vec<Column>,
    pub regions: Vec<Region>,
    pub palette: Vec<Swatch>,
    pub lightness: Stats,
    pub chroma: Stats,
    /// Chroma-weighted mean hue in degrees.
    pub hue: f32,
    /// How concentrated the hues are: 0 = grey or every hue equally, 1 = a single hue.
    pub hue_strength: f32,
    /// -1 = cool (blue/green) .. +1 = warm (red/orange/yellow).
    pub warmth: f32,
    /// Mean gradient magnitude, roughly 0..1 (0 = flat; a fine checkerboard is near 1).
    pub edge_density: f32,
    /// 0 = edges run vertically (changes left to right), 1 = horizontally (a horizon).
    pub edge_orientation: f32,
    /// Shannon entropy of the lightness histogram over 32 bins, normalised to 0..1: texture.
    pub entropy: f32,
    /// What the picture's content suggests (set by the composer when Content is on; none here).
    pub cues: crate::content::Cues,
}

fn warmth_of(p: &Lab) -> f32 {
    // Warm colours sit at positive a (red) and b (yellow); cool ones at negative b (blue).
    0.4 * p.a + 0.6 * p.b
}

fn hue_deg(a: f32, b: f32) -> f32 {
    b.atan2(a).to_degrees().rem_euclid(360.0)
}

/// Mean and standard deviation of a non-empty slice.
fn mean_std(values: &[f32]) -> (f32, f32) {
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let std = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt();
    (mean, std)
}

fn stats(mut values: Vec<f32>) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    let (mean, std) = mean_std(&values);
    // The two percentiles by selection, not a full sort: the same values in linear time.
    let last = values.len() - 1;
    let mut at = |q: f32| {
        *values
            .select_nth_unstable_by((last as f32 * q).round() as usize, f32::total_cmp)
            .1
    };
    let (p05, p95) = (at(0.05), at(0.95));
    Stats {
        mean,
        std,
        p05,
        p95,
    }
}

/// Gradient of the picture at (x, y): horizontal and vertical OKLab differences (L1 over L, a, b).
fn gradient(p: &Picture, x: usize, y: usize) -> (f32, f32) {
    let d = |u: Lab, v: Lab| (u.l - v.l).abs() + (u.a - v.a).abs() + (u.b - v.b).abs();
    let here = p.at(x, y);
    let gx = if x > 0 { d(here, p.at(x - 1, y)) } else { 0.0 };
    let gy = if y > 0 { d(here, p.at(x, y - 1)) } else { 0.0 };
    (gx, gy)
}

/// Every pixel's [`gradient`], computed once (three passes of the analysis read them).
fn gradients(p: &Picture) -> Vec<(f32, f32)> {
    (0..p.height)
        .flat_map(|y| (0..p.width).map(move |x| gradient(p, x, y)))
        .collect()
}

/// Reads the picture into `steps` columns and `regions` regions. What stands out in a slice is
/// where it changes: a column's height is the centroid of its squared vertical gradients (the
/// strongest edge dominates: a horizon, the rim of a sun, a bird); its energy is its total gradient.
pub fn analyse(picture: &Picture, steps: usize, regions: usize) -> Features {
    let steps = steps.max(1);
    let regions = regions.max(1);
    let (w, h) = (picture.width, picture.height);
    let n = picture.pixels.len().max(1) as f32;

    let lightness = stats(picture.pixels.iter().map(|p| p.l).collect());
    let chroma = stats(picture.pixels.iter().map(|p| p.chroma()).collect());
    let (sa, sb) = picture
        .pixels
        .iter()
        .fold((0.0f32, 0.0f32), |(sa, sb), p| (sa + p.a, sb + p.b));
    let hue = hue_deg(sa, sb);
    let hue_strength = if chroma.mean > 1e-6 {
        ((sa * sa + sb * sb).sqrt() / n / chroma.mean).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let warmth = (picture.pixels.iter().map(warmth_of).sum::<f32>() / n / 0.06).tanh();

    let grad = gradients(picture);
    let (mut sum_gx, mut sum_gy) = (0.0f32, 0.0f32);
    for &(gx, gy) in &grad {
        sum_gx += gx;
        sum_gy += gy;
    }
    let edge_density = ((sum_gx + sum_gy) / n).min(1.0);
    let edge_orientation = if sum_gx + sum_gy > 1e-9 {
        sum_gy / (sum_gx + sum_gy)
    } else {
        0.5
    };

    let mut histogram = [0u32; 32];
    for p in &picture.pixels {
        histogram[((p.l.clamp(0.0, 1.0) * 31.999) as usize).min(31)] += 1;
    }
    let entropy = histogram
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let q = c as f32 / n;
            -q * q.log2()
        })
        .sum::<f32>()
        / 5.0;

    let span = |i: usize, parts: usize| {
        let x0 = i * w / parts;
        (x0, ((i + 1) * w / parts).max(x0 + 1).min(w))
    };
    let mut columns: Vec<Column> = (0..steps)
        .map(|step| {
            // Every picture column belongs to exactly one step (area, not point, sampling); a
            // picture narrower than the grid repeats its columns.
            let (x0, x1) = span(step, steps);
            let (mut weight, mut moment, mut edges) = (0.0f32, 0.0f32, 0.0f32);
            let mut ls = Vec::with_capacity((x1 - x0) * h);
            for y in 0..h {
                let up = 1.0 - y as f32 / h as f32;
                let mut g = 0.0;
                for x in x0..x1 {
                    ls.push(picture.at(x, y).l);
                    g += grad[y * w + x].1;
                }
                g /= (x1 - x0) as f32;
                weight += g * g;
                moment += g * g * up;
                edges += g;
            }
            let (mean, std) = mean_std(&ls);
            Column {
                height: if weight > 1e-9 { moment / weight } else { 0.5 },
                energy: edges,
                lightness: mean,
                contrast: std,
            }
        })
        .collect();
    let max_energy = columns.iter().map(|c| c.energy).fold(0.0f32, f32::max);
    for c in &mut columns {
        c.energy = if max_energy > 1e-6 {
            c.energy / max_energy
        } else {
            0.0
        };
    }

    let regions = (0..regions)
        .map(|r| {
            let (x0, x1) = span(r, regions);
            let count = ((x1 - x0) * h).max(1) as f32;
            let (mut l, mut c, mut a, mut b, mut warm, mut edges, mut low) =
                (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for y in 0..h {
                for x in x0..x1 {
                    let p = picture.at(x, y);
                    let (gx, gy) = grad[y * w + x];
                    l += p.l;
                    c += p.chroma();
                    a += p.a;
                    b += p.b;
                    warm += warmth_of(&p);
                    edges += gx + gy;
                    if y * 3 >= h * 2 {
                        low += gx + gy;
                    }
                }
            }
            Region {
                lightness: l / count,
                chroma: c / count,
                hue: hue_deg(a, b),
                warmth: (warm / count / 0.06).tanh(),
                edges: edges / count,
                low_edges: low * 3.0 / count,
            }
        })
        .collect();

    Features {
        columns,
        regions,
        palette: palette(picture, 5),
        lightness,
        chroma,
        hue,
        hue_strength,
        warmth,
        edge_density,
        edge_orientation,
        entropy,
        cues: Default::default(),
    }
}

/// Dominant colours by k-means in OKLab, started deterministically from the lightness quantiles
/// so the same picture always gives the same palette. The centres are fitted on every fourth
/// pixel (the working copy is already an average); the weights count every pixel.
fn palette(picture: &Picture, k: usize) -> Vec<Swatch> {
    let all = &picture.pixels;
    if all.is_empty() {
        return Vec::new();
    }
    let px: Vec<Lab> = all.iter().step_by(4).copied().collect();
    let mut centres = quantile_centres(&px, k);
    let fitted = Lanes::of(&px);
    let mut assign = vec![0usize; px.len()];
    for _ in 0..8 {
        fitted.nearest(&centres, |i, c| assign[i] = c);
        refit(&mut centres, &px, &assign);
    }
    let mut counts = vec![0usize; centres.len()];
    Lanes::of(all).nearest(&centres, |_, c| counts[c] += 1);
    swatches(centres, counts)
}

/// Each centre moved to the mean of the pixels assigned to it (in pixel order); one with none
/// stays.
fn refit(centres: &mut [Lab], px: &[Lab], assign: &[usize]) {
    let mut sums = vec![(0.0f32, 0.0f32, 0.0f32, 0usize); centres.len()];
    for (p, &a) in px.iter().zip(assign) {
        sums[a].0 += p.l;
        sums[a].1 += p.a;
        sums[a].2 += p.b;
        sums[a].3 += 1;
    }
    for (c, s) in centres.iter_mut().zip(&sums) {
        if s.3 > 0 {
            let m = s.3 as f32;
            *c = Lab {
                l: s.0 / m,
                a: s.1 / m,
                b: s.2 / m,
            };
        }
    }
}

/// The centres that won pixels, as swatches weighted by their share of `counts`, heaviest first.
fn swatches(centres: Vec<Lab>, counts: Vec<usize>) -> Vec<Swatch> {
    let total = counts.iter().sum::<usize>().max(1) as f32;
    let mut swatches: Vec<Swatch> = centres
        .into_iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(colour, c)| Swatch {
            colour,
            weight: c as f32 / total,
        })
        .collect();
    swatches.sort_by(|u, v| v.weight.total_cmp(&u.weight));
    swatches
}

/// The `k` starting centres: the pixels at the lightness quantiles `(2i + 1) / 2k`, in the order a
/// stable sort by lightness puts them (equal lightness: the earlier pixel first), picked without
/// sorting the rest.
fn quantile_centres(px: &[Lab], k: usize) -> Vec<Lab> {
    let mut order: Vec<(f32, u32)> = px.iter().zip(0..).map(|(p, i)| (p.l, i)).collect();
    let by = |u: &(f32, u32), v: &(f32, u32)| u.0.total_cmp(&v.0).then(u.1.cmp(&v.1));
    let mut from = 0;
    (0..k)
        .map(|i| {
            let at = (2 * i + 1) * (px.len() - 1) / (2 * k);
            // (Everything before `from` is smaller: the rest is searched.)
            let (_, nth, _) = order[from..].select_nth_unstable_by(at - from, by);
            from = at;
            px[nth.1 as usize]
        })
        .collect()
}

/// Pixels as lanes of eight lightness, a and b values (the last lanes padded with the last pixel).
struct Lanes {
    len: usize,
    l: Vec<f32x8>,
    a: Vec<f32x8>,
    b: Vec<f32x8>,
}

impl Lanes {
    fn of(px: &[Lab]) -> Lanes {
        let lanes = |f: fn(&Lab) -> f32| -> Vec<f32x8> {
            px.chunks(8)
                .map(|c| f32x8::new(std::array::from_fn(|i| f(&c[i.min(c.len() - 1)]))))
                .collect()
        };
        Lanes {
            len: px.len(),
            l: lanes(|p| p.l),
            a: lanes(|p| p.a),
            b: lanes(|p| p.b),
        }
    }

    /// Calls `found(pixel, centre)` with each pixel's nearest centre, in pixel order: the first
    /// of `centres` at the smallest squared distance, as a search one pixel at a time finds it
    /// (the same operations in the same order, eight pixels at once).
    fn nearest(&self, centres: &[Lab], mut found: impl FnMut(usize, usize)) {
        for (g, ((l, a), b)) in self.l.iter().zip(&self.a).zip(&self.b).enumerate() {
            let mut best = (f32x8::ZERO, f32x8::splat(f32::INFINITY));
            for (i, c) in centres.iter().enumerate() {
                let (dl, da, db) = (
                    *l - f32x8::splat(c.l),
                    *a - f32x8::splat(c.a),
                    *b - f32x8::splat(c.b),
                );
                let d = dl * dl + da * da + db * db;
                let nearer = d.simd_lt(best.1);
                best = (
                    nearer.select(f32x8::splat(i as f32), best.0),
                    nearer.select(d, best.1),
                );
            }
            let first = g * 8;
            for (j, c) in best.0.to_array().into_iter().enumerate() {
                if first + j < self.len {
                    found(first + j, c as usize);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::srgb_to_oklab;

    /// The palette as k-means defines it, one pixel at a time with a whole stable sort for the
    /// start (the same refitting): what `palette` must give to the bit.
    fn palette_by_definition(picture: &Picture, k: usize) -> Vec<Swatch> {
        let all = &picture.pixels;
        if all.is_empty() {
            return Vec::new();
        }
        let px: Vec<Lab> = all.iter().step_by(4).copied().collect();
        let nearest = |p: &Lab, centres: &[Lab]| {
            let mut best = (0, f32::INFINITY);
            for (i, c) in centres.iter().enumerate() {
                let (dl, da, db) = (p.l - c.l, p.a - c.a, p.b - c.b);
                let d = dl * dl + da * da + db * db;
                if d < best.1 {
                    best = (i, d);
                }
            }
            best.0
        };
        let mut sorted: Vec<Lab> = px.clone();
        sorted.sort_by(|u, v| u.l.total_cmp(&v.l));
        let mut centres: Vec<Lab> = (0..k)
            .map(|i| sorted[(2 * i + 1) * (sorted.len() - 1) / (2 * k)])
            .collect();
        for _ in 0..8 {
            let assign: Vec<usize> = px.iter().map(|p| nearest(p, &centres)).collect();
            refit(&mut centres, &px, &assign);
        }
        let mut counts = vec![0usize; centres.len()];
        for p in all {
            counts[nearest(p, &centres)] += 1;
        }
        swatches(centres, counts)
    }

    #[test]
    fn the_palette_is_k_means_as_defined_to_the_bit() {
        let bits = |p: &[Swatch]| -> Vec<[u32; 4]> {
            p.iter()
                .map(|s| [s.colour.l, s.colour.a, s.colour.b, s.weight].map(f32::to_bits))
                .collect()
        };
        let mut pictures: Vec<(String, Picture)> = crate::gallery::gallery();
        // Sizes that leave a part-filled last lane, and a single pixel.
        for (w, h) in [(1, 1), (3, 1), (7, 5), (33, 9)] {
            pictures.push((
                format!("{w}x{h}"),
                picture(w, h, |x, y| {
                    let band = ((x + 2 * y) % 3) as f32 / 2.0;
                    (band, if x % 2 == 0 { 0.2 } else { 0.8 }, 1.0 - band)
                }),
            ));
        }
        // Equal lightness everywhere, and pixels halfway between two others: the start is picked
        // by position among equals, and a pixel as near to two centres goes to the first.
        let mut ties = picture(24, 2, |_, _| (0.5, 0.5, 0.5));
        for (i, p) in ties.pixels.iter_mut().enumerate() {
            p.a = [-0.1, 0.1, 0.0][(i / 4 + i / 24) % 3];
            p.b = [0.0, 0.05, -0.05][i % 3];
        }
        pictures.push(("equal lightness".into(), ties));
        for (name, p) in &pictures {
            for k in [1, 2, 3, 5, 9] {
                assert_eq!(
                    bits(&palette(p, k)),
                    bits(&palette_by_definition(p, k)),
                    "{name}, k = {k}"
                );
            }
        }
    }

    fn picture(w: usize, h: usize, f: impl Fn(usize, usize) -> (f32, f32, f32)) -> Picture {
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let (r, g, b) = f(x, y);
                rgb.push([r, g, b].map(|v| (v * 255.0).round() as u8));
            }
        }
        Picture::from_rgb(w, h, rgb, w as u32, h as u32)
    }

    #[test]
    fn a_rising_line_gives_rising_heights() {
        // A bright diagonal from bottom-left to top-right on black.
        let p = picture(32, 32, |x, y| {
            if x + y == 31 {
                (1.0, 1.0, 1.0)
            } else {
                (0.0, 0.0, 0.0)
            }
        });
        let f = analyse(&p, 8, 2);
        let h: Vec<f32> = f.columns.iter().map(|c| c.height).collect();
        assert!(h.windows(2).all(|w| w[1] > w[0]), "{h:?}");
    }

    #[test]
    fn a_flat_picture_has_no_edges_and_no_texture() {
        let f = analyse(&picture(16, 16, |_, _| (0.5, 0.5, 0.5)), 4, 2);
        assert!(f.columns.iter().all(|c| c.energy == 0.0));
        assert_eq!(f.edge_density, 0.0);
        assert_eq!(f.entropy, 0.0);
        assert!(f.hue_strength < 0.05);
    }

    #[test]
    fn warm_and_cool_pictures_are_told_apart() {
        let warm = analyse(&picture(8, 8, |_, _| (1.0, 0.6, 0.1)), 4, 1);
        let cool = analyse(&picture(8, 8, |_, _| (0.1, 0.3, 0.9)), 4, 1);
        assert!(
            warm.warmth > 0.5 && cool.warmth < -0.5,
            "{} {}",
            warm.warmth,
            cool.warmth
        );
        assert!(warm.hue_strength > 0.9);
        assert!((40.0..110.0).contains(&warm.hue), "orange hue {}", warm.hue);
        assert!((220.0..300.0).contains(&cool.hue), "blue hue {}", cool.hue);
    }

    #[test]
    fn stripes_set_the_edge_orientation() {
        let horizontal = analyse(
            &picture(16, 16, |_, y| {
                if y % 4 < 2 {
                    (1.0, 1.0, 1.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }),
            4,
            1,
        );
        let vertical = analyse(
            &picture(16, 16, |x, _| {
                if x % 4 < 2 {
                    (1.0, 1.0, 1.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }),
            4,
            1,
        );
        assert!(horizontal.edge_orientation > 0.9 && vertical.edge_orientation < 0.1);
        assert!(horizontal.edge_density > 0.2);
    }

    #[test]
    fn the_palette_finds_the_two_colours_of_a_split_picture() {
        let f = analyse(
            &picture(20, 10, |x, _| {
                if x < 15 {
                    (1.0, 0.0, 0.0)
                } else {
                    (0.0, 0.0, 1.0)
                }
            }),
            4,
            1,
        );
        let red = srgb_to_oklab(1.0, 0.0, 0.0);
        assert!((f.palette[0].colour.a - red.a).abs() < 1e-3);
        assert!((f.palette[0].weight - 0.75).abs() < 1e-6);
        assert!((f.palette[1].weight - 0.25).abs() < 1e-6);
    }
}
