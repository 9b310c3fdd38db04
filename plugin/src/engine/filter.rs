//! The voices' resonant low-pass: Cytomic's topology-preserving (trapezoidal) state-variable
//! filter, four voices at a time.

use wide::f32x4;

/// tan(x) for 0 <= x <= 0.45 pi (a cutoff up to 0.45 of the sample rate), to within 3e-5 (the
/// [5/4] Padé approximant): every voice recomputes its filter often, and `tan` is a library call.
#[inline(always)]
fn tan(x: f32) -> f32 {
    let x2 = x * x;
    x * (945.0 - 105.0 * x2 + x2 * x2) / (945.0 - 420.0 * x2 + 15.0 * x2 * x2)
}

/// The cutoff the filter is made for: 20 Hz to 0.45 of the sample rate.
pub(super) fn clamped_cutoff(cutoff_hz: f32, sample_rate: f32) -> f32 {
    cutoff_hz.clamp(20.0, 0.45 * sample_rate)
}

/// The filter's damping `k` for a Resonance of 0..1 (2: none, 0.1: nearly self-oscillating).
pub(super) const fn damping(resonance: f32) -> f32 {
    2.0 - 1.9 * resonance.clamp(0.0, 1.0)
}

/// Cytomic's trapezoidal state-variable filter coefficients for a low-pass at `cutoff_hz`.
pub(super) fn svf_coeffs(cutoff_hz: f32, resonance: f32, sample_rate: f32) -> [f32; 3] {
    let fc = clamped_cutoff(cutoff_hz, sample_rate);
    let g = tan(std::f32::consts::PI * fc / sample_rate);
    let k = damping(resonance);
    let a1 = 1.0 / (1.0 + g * (g + k));
    [a1, g * a1, g * g * a1]
}

#[inline(always)]
pub(super) fn svf(state: &mut [f32x4; 2], c: &[f32x4; 3], x: f32x4) -> f32x4 {
    let two = f32x4::splat(2.0);
    let v3 = x - state[1];
    let v1 = c[0] * state[0] + c[1] * v3;
    let v2 = state[1] + c[1] * state[0] + c[2] * v3;
    state[0] = two * v1 - state[0];
    state[1] = two * v2 - state[1];
    v2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_tan_is_close() {
        for i in 1..1_000 {
            let x = i as f32 / 1_000.0 * 0.45 * std::f32::consts::PI;
            let (got, want) = (f64::from(tan(x)), f64::from(x).tan());
            assert!((got / want - 1.0).abs() < 3e-5, "tan {x}: {got} vs {want}");
        }
    }
}
