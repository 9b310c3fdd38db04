//! sRGB -> OKLab (Björn Ottosson, 2020): a perceptual space where lightness and chroma behave
//! the way musicians' eyes expect, so "lighter" and "more colourful" mean what they say.

/// An OKLab colour: `l` lightness 0..1, `a` green-red, `b` blue-yellow.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

impl Lab {
    pub fn chroma(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
}

pub(crate) fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Converts a linear-light RGB triple (0..1) to OKLab.
pub fn linear_to_oklab(r: f32, g: f32, b: f32) -> Lab {
    let l = 0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b;
    let m = 0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b;
    let s = 0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b;
    let (l, m, s) = (cbrt(l), cbrt(m), cbrt(s));
    Lab {
        l: 0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        a: 1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        b: 0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    }
}

/// Cube root of a non-negative value (negative and NaN inputs give 0) from an exponent-thirding
/// first guess and two Halley steps in double precision: within 1 ulp of the true root, several times faster than the
/// software `cbrtf` Rust links, and made of IEEE basic operations only, so every machine computes
/// the same bits (a platform's libm need not).
fn cbrt(x: f32) -> f32 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    if !x.is_normal() {
        return x.cbrt();
    }
    let x64 = f64::from(x);
    let mut y = f64::from(f32::from_bits(x.to_bits() / 3 + 0x2A51_4067));
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x64) / (2.0 * y3 + x64);
    }
    y as f32
}

/// The OKLab value of an 8-bit sRGB pixel (through [`srgb8_to_linear_table`]).
pub(crate) fn srgb8_to_oklab([r, g, b]: [u8; 3]) -> Lab {
    let lut = srgb8_to_linear_table();
    linear_to_oklab(lut[r as usize], lut[g as usize], lut[b as usize])
}

/// Converts gamma-encoded sRGB (0..1) to OKLab.
pub fn srgb_to_oklab(r: f32, g: f32, b: f32) -> Lab {
    linear_to_oklab(srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b))
}

/// The sRGB decoding table for 8-bit channels, so the downscaler averages in linear light
/// without calling `powf` per pixel. Built once per process.
pub(crate) fn srgb8_to_linear_table() -> &'static [f32; 256] {
    static TABLE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = srgb_to_linear(i as f32 / 255.0);
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_black_and_grey_have_no_chroma() {
        let w = srgb_to_oklab(1.0, 1.0, 1.0);
        assert!((w.l - 1.0).abs() < 1e-3 && w.chroma() < 1e-3, "{w:?}");
        let k = srgb_to_oklab(0.0, 0.0, 0.0);
        assert!(k.l.abs() < 1e-6);
        let g = srgb_to_oklab(0.5, 0.5, 0.5);
        assert!(g.chroma() < 1e-3 && g.l > 0.5 && g.l < 0.7);
    }

    #[test]
    fn fast_cube_root_is_within_one_ulp() {
        let mut worst = 0u32;
        for i in 0..200_000 {
            let x = 1e-9f32 * 1.000_13f32.powi(i);
            let (got, want) = (cbrt(x), f64::from(x).cbrt() as f32);
            worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
        }
        assert!(worst <= 1, "worst error {worst} ulp");
        assert_eq!(cbrt(0.0), 0.0);
        assert_eq!(cbrt(-1.0), 0.0);
        assert_eq!(cbrt(8.0), 2.0);
    }

    #[test]
    fn red_is_reddish_and_blue_is_bluish() {
        let r = srgb_to_oklab(1.0, 0.0, 0.0);
        assert!(r.a > 0.2);
        let b = srgb_to_oklab(0.0, 0.0, 1.0);
        assert!(b.b < -0.2);
    }
}
