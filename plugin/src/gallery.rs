//! Generated pictures, each a named painter: six are the editor's built-in examples (painted one
//! at a time, by name, when the musician picks one); all of them together are the varied set the
//! composer is measured on (`cargo xtask music-report` and the composer's tests): photo-like
//! scenes, paintings, patterns, flat artwork, light and dark versions of one design, and a few
//! extremes. Deterministic: the same pictures on every machine, nothing to download or commit.

use crate::analysis::Picture;

const W: usize = 96;
const H: usize = 64;

/// A picture from a colour function of (x, y) in 0..1 (y down), colours 0..1 sRGB.
fn paint_with(f: Paint) -> Picture {
    let mut rgb = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            let c = f((x as f32 + 0.5) / W as f32, (y as f32 + 0.5) / H as f32);
            rgb.push(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
        }
    }
    Picture::from_rgb(W, H, rgb, W as u32, H as u32)
}

/// Smooth value noise in 0..1, deterministic.
fn noise(x: f32, y: f32, scale: f32, seed: u32) -> f32 {
    let hash = |i: i32, j: i32| -> f32 {
        let mut h =
            (i as u32).wrapping_mul(0x9e37_79b1) ^ (j as u32).wrapping_mul(0x85eb_ca77) ^ seed;
        h ^= h >> 15;
        h = h.wrapping_mul(0x2c1b_3c6d);
        h ^= h >> 12;
        (h & 0xffff) as f32 / 65535.0
    };
    let (fx, fy) = (x * scale, y * scale);
    let (i, j) = (fx.floor() as i32, fy.floor() as i32);
    let (u, v) = (fx - fx.floor(), fy - fy.floor());
    let (u, v) = (u * u * (3.0 - 2.0 * u), v * v * (3.0 - 2.0 * v));
    let a = hash(i, j) + (hash(i + 1, j) - hash(i, j)) * u;
    let b = hash(i, j + 1) + (hash(i + 1, j + 1) - hash(i, j + 1)) * u;
    a + (b - a) * v
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|k| a[k] + (b[k] - a[k]) * t)
}

fn scaled(c: [f32; 3], k: f32) -> [f32; 3] {
    c.map(|v| v * k)
}

/// Hills under a sky: the design the light and dark versions share.
fn hills(x: f32, y: f32) -> [f32; 3] {
    let ridge = 0.55 + 0.12 * (x * 7.0).sin() + 0.05 * (x * 19.0).cos();
    if y > ridge {
        mix([0.25, 0.45, 0.2], [0.1, 0.25, 0.1], (y - ridge) * 3.0)
    } else {
        mix([0.45, 0.7, 0.95], [0.85, 0.9, 1.0], y / ridge)
    }
}

/// Bricks in a running bond: mortar lines, rows offset by half a brick.
fn bricks(x: f32, y: f32) -> [f32; 3] {
    let row = (y * 8.0) as i32;
    let bx = x * 6.0 + if row % 2 == 0 { 0.0 } else { 0.5 };
    if (y * 8.0).fract() < 0.12 || bx.fract() < 0.06 {
        [0.85, 0.85, 0.8]
    } else {
        [0.65, 0.25, 0.15]
    }
}

/// A painter: colours (0..1 sRGB) from (x, y) in 0..1, y down.
type Paint = fn(f32, f32) -> [f32; 3];

fn hills_light(x: f32, y: f32) -> [f32; 3] {
    scaled(hills(x, y), 1.35)
}

fn hills_dark(x: f32, y: f32) -> [f32; 3] {
    scaled(hills(x, y), 0.45)
}

fn hills_very_dark(x: f32, y: f32) -> [f32; 3] {
    scaled(hills(x, y), 0.2)
}

fn bricks_light(x: f32, y: f32) -> [f32; 3] {
    scaled(bricks(x, y), 1.3)
}

fn bricks_dark(x: f32, y: f32) -> [f32; 3] {
    scaled(bricks(x, y), 0.35)
}

/// Every picture by name, in the order the composer's figures are measured in: photo-like
/// scenes, paintings, patterns, flat artwork, extremes, then light and dark versions of one
/// design (and of a pattern), as the register mapping needs.
const PAINTERS: &[(&str, Paint)] = &[
    // Photo-like scenes.
    ("sunset", |x, y| {
        let sun = ((x - 0.6).powi(2) + (y - 0.45).powi(2)).sqrt() < 0.08;
        let ground = y > 0.62 + 0.05 * (x * 9.0).sin();
        if ground {
            [0.12, 0.08, 0.1]
        } else if sun {
            [1.0, 0.85, 0.4]
        } else {
            mix([0.95, 0.5, 0.2], [0.3, 0.15, 0.4], 1.0 - y)
        }
    }),
    ("night city", |x, y| {
        let building = y > 0.35 + 0.3 * noise(x, 0.0, 12.0, 3);
        let window = building
            && ((x * 60.0) as i32 % 3 == 0)
            && ((y * 40.0) as i32 % 2 == 0)
            && noise(x, y, 40.0, 9) > 0.5;
        if window {
            [1.0, 0.85, 0.5]
        } else if building {
            [0.08, 0.08, 0.12]
        } else {
            [0.02, 0.03, 0.1]
        }
    }),
    ("forest", |x, y| {
        let trunk = ((x * 11.0).fract() - 0.5).abs() < 0.08;
        let n = noise(x, y, 14.0, 5);
        if trunk {
            [0.3, 0.2, 0.1]
        } else {
            mix([0.05, 0.25, 0.08], [0.35, 0.6, 0.2], n)
        }
    }),
    ("beach", |x, y| {
        if y < 0.4 {
            mix([0.4, 0.65, 0.95], [0.8, 0.9, 1.0], y / 0.4)
        } else if y < 0.6 + 0.02 * (x * 30.0).sin() {
            [0.1, 0.45, 0.7]
        } else {
            mix([0.95, 0.85, 0.6], [0.85, 0.7, 0.45], noise(x, y, 20.0, 2))
        }
    }),
    ("snowy mountain", |x, y| {
        let peak = 0.2 + (x - 0.5).abs() * 1.1;
        if y < peak {
            [0.55, 0.7, 0.9]
        } else if y < peak + 0.15 {
            [0.97, 0.97, 1.0]
        } else {
            mix([0.4, 0.4, 0.45], [0.2, 0.2, 0.25], y)
        }
    }),
    ("dunes", |x, y| {
        mix(
            [0.95, 0.65, 0.3],
            [0.6, 0.35, 0.15],
            0.5 + 0.5 * ((x * 3.0 + y * 9.0).sin()),
        )
    }),
    ("meadow flowers", |x, y| {
        let n = noise(x, y, 30.0, 11);
        if y > 0.3 && n > 0.8 {
            [0.95, 0.3, 0.5]
        } else if y > 0.3 && n < 0.12 {
            [1.0, 0.9, 0.2]
        } else if y > 0.3 {
            [0.3, 0.6, 0.2]
        } else {
            [0.6, 0.8, 1.0]
        }
    }),
    ("storm clouds", |x, y| {
        let n = noise(x, y, 6.0, 21) * 0.6 + noise(x, y, 18.0, 4) * 0.4;
        [0.2 + 0.4 * n, 0.2 + 0.4 * n, 0.25 + 0.4 * n]
    }),
    ("portrait", |x, y| {
        let face = ((x - 0.5) / 0.18).powi(2) + ((y - 0.45) / 0.3).powi(2) < 1.0;
        let hair = ((x - 0.5) / 0.22).powi(2) + ((y - 0.35) / 0.3).powi(2) < 1.0;
        if face {
            [0.9, 0.7, 0.58]
        } else if hair {
            [0.25, 0.15, 0.08]
        } else {
            [0.55, 0.6, 0.62]
        }
    }),
    ("underwater", |x, y| {
        let ray = 0.15 * ((x * 20.0 + y * 6.0).sin().max(0.0)) * (1.0 - y);
        mix([0.1, 0.6, 0.7], [0.0, 0.15, 0.3], y).map(|v| v + ray)
    }),
    ("harbour", |x, y| {
        let mast = ((x * 7.0).fract() - 0.5).abs() < 0.02 && y > 0.2 && y < 0.6;
        if mast {
            [0.9, 0.9, 0.9]
        } else if y > 0.6 {
            mix([0.1, 0.3, 0.5], [0.05, 0.15, 0.3], noise(x, y, 25.0, 8))
        } else {
            [0.7, 0.8, 0.9]
        }
    }),
    ("autumn leaves", |x, y| {
        let n = noise(x, y, 16.0, 31);
        mix([0.85, 0.3, 0.05], [0.95, 0.75, 0.1], n)
    }),
    // Paintings.
    ("colour blobs", |x, y| {
        let blobs = [
            (0.2, 0.3, [0.9, 0.2, 0.2]),
            (0.7, 0.4, [0.2, 0.4, 0.9]),
            (0.45, 0.75, [0.95, 0.85, 0.2]),
        ];
        let mut c = [0.95, 0.93, 0.88];
        for (bx, by, col) in blobs {
            c = mix(
                c,
                col,
                (1.0 - ((x - bx).powi(2) + (y - by).powi(2)).sqrt() / 0.25) * 1.2,
            );
        }
        c
    }),
    ("diagonal strokes", |x, y| {
        let t = ((x + y) * 8.0).fract();
        if t < 0.5 {
            [0.2, 0.3, 0.6]
        } else {
            mix([0.9, 0.6, 0.3], [0.8, 0.3, 0.3], noise(x, y, 8.0, 6))
        }
    }),
    ("impressionist", |x, y| {
        [
            noise(x, y, 22.0, 1) * 0.6 + 0.3,
            noise(x, y, 22.0, 2) * 0.6 + 0.3,
            noise(x, y, 22.0, 3) * 0.5 + 0.4,
        ]
    }),
    ("colour fields", |_x, y| {
        if y < 0.45 {
            [0.75, 0.2, 0.15]
        } else if y < 0.55 {
            [0.5, 0.15, 0.15]
        } else {
            [0.3, 0.1, 0.2]
        }
    }),
    ("mondrian", |x, y| {
        let line = (x - 0.3).abs() < 0.02
            || (x - 0.75).abs() < 0.02
            || (y - 0.6).abs() < 0.03
            || (y - 0.25).abs() < 0.03;
        if line {
            [0.05, 0.05, 0.05]
        } else if x < 0.3 && y < 0.6 {
            [0.85, 0.1, 0.1]
        } else if x > 0.75 && y > 0.6 {
            [0.1, 0.2, 0.75]
        } else if x > 0.3 && x < 0.75 && y > 0.6 {
            [0.95, 0.85, 0.1]
        } else {
            [0.96, 0.96, 0.94]
        }
    }),
    ("swirl", |x, y| {
        let (dx, dy) = (x - 0.5, y - 0.5);
        let a = dy.atan2(dx) + 10.0 * (dx * dx + dy * dy).sqrt();
        mix(
            [0.1, 0.15, 0.45],
            [0.95, 0.85, 0.3],
            0.5 + 0.5 * (a * 3.0).sin(),
        )
    }),
    ("watercolour", |x, y| {
        mix([0.6, 0.75, 0.9], [0.95, 0.75, 0.8], noise(x, y, 4.0, 13))
    }),
    ("pointillism", |x, y| {
        let d = ((x * 48.0).fract() - 0.5).powi(2) + ((y * 32.0).fract() - 0.5).powi(2);
        if d < 0.12 {
            [noise(x, y, 6.0, 7), 0.5, 1.0 - noise(x, y, 6.0, 7)]
        } else {
            [0.95, 0.95, 0.9]
        }
    }),
    // Patterns: repetition the ear should hear.
    ("vertical stripes", |x, _y| {
        if (x * 8.0).fract() < 0.5 {
            [0.1, 0.1, 0.1]
        } else {
            [0.95, 0.95, 0.95]
        }
    }),
    ("wide and narrow stripes", |x, _y| {
        let t = (x * 4.0).fract();
        if t < 0.15 || (t > 0.5 && t < 0.6) {
            [0.8, 0.1, 0.2]
        } else {
            [0.95, 0.9, 0.8]
        }
    }),
    ("horizontal stripes", |_x, y| {
        if (y * 6.0).fract() < 0.5 {
            [0.1, 0.3, 0.6]
        } else {
            [0.9, 0.9, 0.6]
        }
    }),
    ("checkerboard", |x, y| {
        if ((x * 8.0) as i32 + (y * 6.0) as i32) % 2 == 0 {
            [0.05, 0.05, 0.05]
        } else {
            [0.95, 0.95, 0.95]
        }
    }),
    ("bricks", bricks),
    ("grid", |x, y| {
        if (x * 10.0).fract() < 0.1 || (y * 7.0).fract() < 0.12 {
            [0.2, 0.2, 0.25]
        } else {
            [0.9, 0.92, 0.95]
        }
    }),
    ("polka dots", |x, y| {
        if ((x * 8.0).fract() - 0.5).powi(2) + ((y * 6.0).fract() - 0.5).powi(2) < 0.08 {
            [0.95, 0.2, 0.3]
        } else {
            [1.0, 0.95, 0.85]
        }
    }),
    ("tiles", |x, y| {
        let (u, v) = ((x * 4.0).fract(), (y * 3.0).fract());
        if (u - v).abs() < 0.15 || (u + v - 1.0).abs() < 0.15 {
            [0.1, 0.4, 0.6]
        } else {
            [0.9, 0.85, 0.7]
        }
    }),
    ("zigzag", |x, y| {
        let t = (y * 5.0 + ((x * 6.0).fract() - 0.5).abs() * 2.0).fract();
        if t < 0.5 {
            [0.2, 0.6, 0.3]
        } else {
            [0.95, 0.95, 0.85]
        }
    }),
    ("concentric rings", |x, y| {
        if ((((x - 0.5) * 1.5).powi(2) + (y - 0.5).powi(2)).sqrt() * 10.0).fract() < 0.5 {
            [0.3, 0.1, 0.5]
        } else {
            [0.95, 0.9, 0.95]
        }
    }),
    ("plaid", |x, y| {
        let a = (x * 6.0).fract() < 0.3;
        let b = (y * 4.0).fract() < 0.3;
        match (a, b) {
            (true, true) => [0.4, 0.05, 0.05],
            (true, false) | (false, true) => [0.7, 0.15, 0.1],
            _ => [0.15, 0.3, 0.2],
        }
    }),
    // Flat artwork.
    ("circle", |x, y| {
        if ((x - 0.5) * 1.5).powi(2) + (y - 0.5).powi(2) < 0.09 {
            [0.95, 0.75, 0.1]
        } else {
            [0.15, 0.2, 0.35]
        }
    }),
    ("tricolour flag", |x, _y| {
        if x < 0.33 {
            [0.1, 0.3, 0.7]
        } else if x < 0.67 {
            [0.97, 0.97, 0.97]
        } else {
            [0.85, 0.15, 0.2]
        }
    }),
    ("triangle logo", |x, y| {
        if y > 0.2 && (x - 0.5).abs() < (y - 0.2) * 0.6 {
            [0.1, 0.1, 0.1]
        } else {
            [0.98, 0.6, 0.1]
        }
    }),
    ("two tones", |x, y| {
        if x + 0.3 * y < 0.6 {
            [0.2, 0.7, 0.6]
        } else {
            [0.95, 0.5, 0.4]
        }
    }),
    ("flat landscape", |_x, y| {
        if y < 0.4 {
            [0.55, 0.8, 0.95]
        } else if y < 0.7 {
            [0.35, 0.6, 0.3]
        } else {
            [0.5, 0.35, 0.2]
        }
    }),
    ("icons", |x, y| {
        let cell = (x * 4.0) as i32;
        let (u, v) = ((x * 4.0).fract(), y);
        let inside = match cell {
            0 => (u - 0.5).powi(2) + (v - 0.5).powi(2) < 0.06,
            1 => (u - 0.5).abs() < 0.25 && (v - 0.5).abs() < 0.2,
            2 => v > 0.3 && (u - 0.5).abs() < (v - 0.3) * 0.8,
            _ => (u - 0.5).abs() + (v - 0.5).abs() < 0.3,
        };
        if inside {
            [0.15, 0.15, 0.2]
        } else {
            [0.9, 0.9, 0.85]
        }
    }),
    // Extremes.
    ("black", |_x, _y| [0.0, 0.0, 0.0]),
    ("white", |_x, _y| [1.0, 1.0, 1.0]),
    ("grey noise", |x, y| {
        let n = noise(x, y, 60.0, 17);
        [n, n, n]
    }),
    ("hills, light", hills_light),
    ("hills", hills),
    ("hills, dark", hills_dark),
    ("hills, very dark", hills_very_dark),
    ("bricks, light", bricks_light),
    ("bricks, dark", bricks_dark),
];

/// The picture painted by the painter named `name`, or `None` for no such name. Only that one is
/// painted (the editor's examples come from here).
pub fn picture(name: &str) -> Option<Picture> {
    PAINTERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, paint)| paint_with(*paint))
}

/// The painters' names, in the set's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    PAINTERS.iter().map(|(name, _)| *name)
}

/// The whole set, (name, picture), at least 40; for the composer's tests, its figures and the
/// music report (the `gallery` feature), not the plug-in.
#[cfg(any(test, feature = "gallery"))]
pub fn gallery() -> Vec<(String, Picture)> {
    PAINTERS
        .iter()
        .map(|(name, paint)| (name.to_string(), paint_with(*paint)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_picture_is_found_by_name_and_is_the_sets() {
        let set = super::gallery();
        let (name, mountain) = &set[4];
        assert_eq!(name, "snowy mountain");
        assert_eq!(super::picture(name).as_ref(), Some(mountain));
        assert_eq!(super::picture("no such"), None);
        assert!(super::names().eq(set.iter().map(|(n, _)| n.as_str())));
    }

    #[test]
    fn the_set_is_large_varied_and_repeatable() {
        let a = super::gallery();
        assert!(a.len() >= 40, "{} pictures", a.len());
        let mut names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), a.len(), "names are unique");
        assert_eq!(a, super::gallery(), "the same pictures every time");
    }
}
