//! Features: what composing reads from the working copy. Everything is normalised within the
//! picture, because cross-modal matches (light/high, busy/dense) are relative.

use super::Picture;

/// A vertical slice of the picture, one per step of the composed grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// Height of the slice's strongest edges: 0 = bottom edge, 1 = top edge.
    pub height: f32,
    /// How much changes in the slice (its edges), relative to the busiest slice: 0..1.
    pub energy: f32,
    /// Mean OKLab lightness of the slice, 0..1.
    pub lightness: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    pub columns: Vec<Column>,
    /// Mean OKLab lightness of the whole picture.
    pub mean_lightness: f32,
    /// Mean OKLab chroma of the whole picture.
    pub mean_chroma: f32,
}

/// Reads `steps` columns from the picture. What stands out in a slice is where it changes: the
/// vertical OKLab gradient between neighbouring rows (a horizon, the edge of a sun, a bird). A
/// column's height is the centroid of its squared gradients, so the strongest edge dominates; its
/// energy is its total gradient, so busy slices carry more notes.
pub fn analyse(picture: &Picture, steps: usize) -> Features {
    let steps = steps.max(1);
    let n = picture.pixels.len().max(1) as f32;
    let mean_lightness = picture.pixels.iter().map(|p| p.l).sum::<f32>() / n;
    let mean_chroma = picture.pixels.iter().map(|p| p.chroma()).sum::<f32>() / n;

    let mut columns: Vec<Column> = (0..steps)
        .map(|step| {
            // Every picture column belongs to exactly one step (area, not point, sampling); a
            // picture narrower than the grid repeats its columns.
            let x0 = step * picture.width / steps;
            let x1 = ((step + 1) * picture.width / steps)
                .max(x0 + 1)
                .min(picture.width);
            let (mut weight, mut moment, mut edges, mut light) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for y in 0..picture.height {
                let up = 1.0 - y as f32 / picture.height as f32;
                let mut g = 0.0;
                for x in x0..x1 {
                    let p = picture.at(x, y);
                    light += p.l;
                    if y > 0 {
                        let q = picture.at(x, y - 1);
                        g += (p.l - q.l).abs() + (p.a - q.a).abs() + (p.b - q.b).abs();
                    }
                }
                g /= (x1 - x0) as f32;
                weight += g * g;
                moment += g * g * up;
                edges += g;
            }
            Column {
                height: if weight > 1e-9 { moment / weight } else { 0.5 },
                energy: edges,
                lightness: light / ((x1 - x0) * picture.height) as f32,
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
    Features {
        columns,
        mean_lightness,
        mean_chroma,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Lab;

    fn picture(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Picture {
        let mut pixels = Vec::new();
        for y in 0..h {
            for x in 0..w {
                pixels.push(Lab {
                    l: f(x, y),
                    a: 0.0,
                    b: 0.0,
                });
            }
        }
        Picture {
            width: w,
            height: h,
            pixels,
            source_width: w as u32,
            source_height: h as u32,
        }
    }

    #[test]
    fn a_rising_line_gives_rising_heights() {
        // A bright diagonal from bottom-left to top-right on black.
        let p = picture(32, 32, |x, y| if x + y == 31 { 1.0 } else { 0.0 });
        let f = analyse(&p, 8);
        let h: Vec<f32> = f.columns.iter().map(|c| c.height).collect();
        assert!(h.windows(2).all(|w| w[1] > w[0]), "{h:?}");
    }

    #[test]
    fn a_flat_picture_has_no_energy() {
        // (and a picture without edges has nothing to follow)
        let f = analyse(&picture(16, 16, |_, _| 0.5), 4);
        assert!(f.columns.iter().all(|c| c.energy == 0.0));
    }
}
