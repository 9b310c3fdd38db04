//! The spectral bank's inner loop: every rotator turned once per sample and its sine added into
//! eight lanes, in plain Rust (the reference, and what other CPUs run) and with SSE2 and AVX
//! intrinsics, which give the same bits (see the bank's module note). Audio thread; no
//! allocation.

use super::{Group, Lane, LANES};

/// Turns every rotator by its step once per sample of `fracs` and adds the sines, weighted by
/// the gains interpolated at each sample's `frac`, into that sample's lanes (`acc_l`, `acc_r`,
/// zeroed by the caller). The reference for the vector versions below, and what other CPUs run.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn oscillate(
    groups: &mut [Group],
    fracs: &[f32],
    acc_l: &mut [Lane],
    acc_r: &mut [Lane],
) {
    for g in groups {
        for ((frac, al), ar) in fracs.iter().zip(acc_l.iter_mut()).zip(acc_r.iter_mut()) {
            for i in 0..LANES {
                let (x, y) = (g.re[i], g.im[i]);
                g.re[i] = x * g.step_re[i] - y * g.step_im[i];
                g.im[i] = x * g.step_im[i] + y * g.step_re[i];
                al[i] += g.im[i] * (g.gain_l[i] + g.slope_l[i] * frac);
                ar[i] += g.im[i] * (g.gain_r[i] + g.slope_r[i] * frac);
            }
        }
    }
}

/// [`oscillate`] written with SSE2 (every x86-64 CPU) and AVX intrinsics: the same operations
/// in the same order on each lane, without fused multiply-adds, so all three agree to the bit.
/// (LLVM does not vectorise the plain loop well: it pairs left and right instead of lanes.)
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Group, Lane};
    use std::arch::x86_64::*;

    /// One group's registers: rotator, step, and the two gain ramps.
    #[derive(Clone, Copy)]
    struct Avx {
        x: __m256,
        y: __m256,
        c: __m256,
        s: __m256,
        gl: __m256,
        sl: __m256,
        gr: __m256,
        sr: __m256,
    }

    #[target_feature(enable = "avx")]
    unsafe fn load(g: &Group) -> Avx {
        Avx {
            x: _mm256_loadu_ps(g.re.as_ptr()),
            y: _mm256_loadu_ps(g.im.as_ptr()),
            c: _mm256_loadu_ps(g.step_re.as_ptr()),
            s: _mm256_loadu_ps(g.step_im.as_ptr()),
            gl: _mm256_loadu_ps(g.gain_l.as_ptr()),
            sl: _mm256_loadu_ps(g.slope_l.as_ptr()),
            gr: _mm256_loadu_ps(g.gain_r.as_ptr()),
            sr: _mm256_loadu_ps(g.slope_r.as_ptr()),
        }
    }

    /// Turns the rotator once; returns the sine weighted by the left and right gains at `f`.
    #[target_feature(enable = "avx")]
    unsafe fn step(v: &mut Avx, f: __m256) -> (__m256, __m256) {
        let nx = _mm256_sub_ps(_mm256_mul_ps(v.x, v.c), _mm256_mul_ps(v.y, v.s));
        let ny = _mm256_add_ps(_mm256_mul_ps(v.x, v.s), _mm256_mul_ps(v.y, v.c));
        (v.x, v.y) = (nx, ny);
        let wl = _mm256_add_ps(v.gl, _mm256_mul_ps(v.sl, f));
        let wr = _mm256_add_ps(v.gr, _mm256_mul_ps(v.sr, f));
        (_mm256_mul_ps(ny, wl), _mm256_mul_ps(ny, wr))
    }

    #[target_feature(enable = "avx")]
    unsafe fn store(v: &Avx, g: &mut Group) {
        _mm256_storeu_ps(g.re.as_mut_ptr(), v.x);
        _mm256_storeu_ps(g.im.as_mut_ptr(), v.y);
    }

    /// Two groups at a time: a rotator's next sample waits for its previous one (~7 cycles), so
    /// two independent rotators keep the multipliers busy. Each sample's lanes still receive the
    /// groups in order (first, then second), as the plain loop adds them.
    #[target_feature(enable = "avx")]
    pub unsafe fn oscillate_avx(
        groups: &mut [Group],
        fracs: &[f32],
        acc_l: &mut [Lane],
        acc_r: &mut [Lane],
    ) {
        let mut pairs = groups.chunks_exact_mut(2);
        for pair in &mut pairs {
            let (mut a, mut b) = (load(&pair[0]), load(&pair[1]));
            for ((frac, al), ar) in fracs.iter().zip(acc_l.iter_mut()).zip(acc_r.iter_mut()) {
                let f = _mm256_set1_ps(*frac);
                let (al_a, ar_a) = step(&mut a, f);
                let (al_b, ar_b) = step(&mut b, f);
                let l = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(al.as_ptr()), al_a), al_b);
                let r = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(ar.as_ptr()), ar_a), ar_b);
                _mm256_storeu_ps(al.as_mut_ptr(), l);
                _mm256_storeu_ps(ar.as_mut_ptr(), r);
            }
            store(&a, &mut pair[0]);
            store(&b, &mut pair[1]);
        }
        for g in pairs.into_remainder() {
            let mut a = load(g);
            for ((frac, al), ar) in fracs.iter().zip(acc_l.iter_mut()).zip(acc_r.iter_mut()) {
                let (l, r) = step(&mut a, _mm256_set1_ps(*frac));
                _mm256_storeu_ps(
                    al.as_mut_ptr(),
                    _mm256_add_ps(_mm256_loadu_ps(al.as_ptr()), l),
                );
                _mm256_storeu_ps(
                    ar.as_mut_ptr(),
                    _mm256_add_ps(_mm256_loadu_ps(ar.as_ptr()), r),
                );
            }
            store(&a, g);
        }
    }

    pub fn oscillate_sse(
        groups: &mut [Group],
        fracs: &[f32],
        acc_l: &mut [Lane],
        acc_r: &mut [Lane],
    ) {
        // SAFETY: SSE2 is part of x86-64; the pointers are to 4-float halves of 8-float arrays.
        unsafe {
            for g in groups {
                for h in 0..2 {
                    let o = 4 * h;
                    let mut x = _mm_loadu_ps(g.re.as_ptr().add(o));
                    let mut y = _mm_loadu_ps(g.im.as_ptr().add(o));
                    let c = _mm_loadu_ps(g.step_re.as_ptr().add(o));
                    let s = _mm_loadu_ps(g.step_im.as_ptr().add(o));
                    let (gl, sl) = (
                        _mm_loadu_ps(g.gain_l.as_ptr().add(o)),
                        _mm_loadu_ps(g.slope_l.as_ptr().add(o)),
                    );
                    let (gr, sr) = (
                        _mm_loadu_ps(g.gain_r.as_ptr().add(o)),
                        _mm_loadu_ps(g.slope_r.as_ptr().add(o)),
                    );
                    for ((frac, al), ar) in fracs.iter().zip(acc_l.iter_mut()).zip(acc_r.iter_mut())
                    {
                        let f = _mm_set1_ps(*frac);
                        let nx = _mm_sub_ps(_mm_mul_ps(x, c), _mm_mul_ps(y, s));
                        let ny = _mm_add_ps(_mm_mul_ps(x, s), _mm_mul_ps(y, c));
                        (x, y) = (nx, ny);
                        let wl = _mm_add_ps(gl, _mm_mul_ps(sl, f));
                        let wr = _mm_add_ps(gr, _mm_mul_ps(sr, f));
                        let l = _mm_add_ps(_mm_loadu_ps(al.as_ptr().add(o)), _mm_mul_ps(ny, wl));
                        let r = _mm_add_ps(_mm_loadu_ps(ar.as_ptr().add(o)), _mm_mul_ps(ny, wr));
                        _mm_storeu_ps(al.as_mut_ptr().add(o), l);
                        _mm_storeu_ps(ar.as_mut_ptr().add(o), r);
                    }
                    _mm_storeu_ps(g.re.as_mut_ptr().add(o), x);
                    _mm_storeu_ps(g.im.as_mut_ptr().add(o), y);
                }
            }
        }
    }
}

/// The bank's inner loop on the widest vectors this CPU has.
pub(super) fn oscillate_fast(
    groups: &mut [Group],
    fracs: &[f32],
    acc_l: &mut [Lane],
    acc_r: &mut [Lane],
    avx: bool,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if avx {
            // SAFETY: `avx` is true only when the CPU reports AVX (`avx_available`).
            unsafe { x86::oscillate_avx(groups, fracs, acc_l, acc_r) }
        } else {
            x86::oscillate_sse(groups, fracs, acc_l, acc_r)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = avx;
        oscillate(groups, fracs, acc_l, acc_r)
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) fn avx_available() -> bool {
    std::arch::is_x86_feature_detected!("avx")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn avx_available() -> bool {
    false
}
