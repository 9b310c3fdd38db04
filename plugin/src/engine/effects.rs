//! The effects after the voices: a tempo-synced stereo (ping-pong) delay, a feedback-delay-network
//! reverb, and a peak limiter that keeps every picture under -1 dBFS.
//!
//! - Delay: two lines crossing over (each repeat moves to the other side), the repeats darkened by
//!   a one-pole low-pass in the loop; the time is a note value of the host's tempo, glided (50 ms)
//!   when the tempo or the value changes so nothing clicks.
//! - Reverb: two allpass diffusers, then eight delay lines (22 to 47 ms, mutually prime) mixed by a
//!   Hadamard matrix (lossless), each line's gain set from the decay time (RT60 from 0.4 to 8 s by
//!   Size) and damped by a one-pole low-pass (Damping); left and right read different lines.
//! - Limiter: instant attack (the gain drops to exactly what keeps the peak at the ceiling), 80 ms
//!   release; it rests at unity and only moves on peaks.
//!
//! All buffers are allocated in `new`; `tick` only reads and writes them.

use wide::f32x4;

/// The limiter's ceiling: -2.5 dBFS sample peak. Peaks between samples rise above it (by up to
/// 0.9 dB measured on bright picture waves, where -1.5 dBFS let true peaks reach -0.6 dBFS), so
/// this keeps the true peak under -1 dBFS.
pub const CEILING: f32 = 0.75;
/// Longest delay time held, seconds.
const MAX_DELAY_SECONDS: f32 = 4.0;
/// The reverb's lines at 48 kHz, samples (scaled to the sample rate).
const LINES: [usize; 8] = [1051, 1201, 1373, 1511, 1693, 1867, 2039, 2251];
const DIFFUSERS: [usize; 2] = [223, 337];

/// What the effects need each sample (already smoothed by the engine).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FxParams {
    /// Delay time in samples (the note value at the current tempo).
    pub delay_samples: f32,
    pub delay_feedback: f32,
    pub delay_mix: f32,
    /// 0..1: the decay time, 0.4 s to 8 s.
    pub reverb_size: f32,
    /// 0..1: how dark the reverb gets.
    pub reverb_damping: f32,
    pub reverb_mix: f32,
}

impl FxParams {
    pub const DRY: FxParams = FxParams {
        delay_samples: 1.0,
        delay_feedback: 0.0,
        delay_mix: 0.0,
        reverb_size: 0.5,
        reverb_damping: 0.5,
        reverb_mix: 0.0,
    };
}

/// RT60 in seconds for a Size of 0..1.
pub fn decay_seconds(size: f32) -> f32 {
    0.4 * 20f32.powf(size.clamp(0.0, 1.0))
}

struct Line {
    buf: Vec<f32>,
    pos: usize,
}

impl Line {
    fn new(len: usize) -> Line {
        Line {
            buf: vec![0.0; len.max(2)],
            pos: 0,
        }
    }

    /// A delay of `delay` samples in this line, clamped to 1 ..= len - 2: its whole samples and
    /// the fraction (lines of one length share it).
    #[inline(always)]
    fn split(&self, delay: f32) -> (usize, f32) {
        let d = delay.clamp(1.0, (self.buf.len() - 2) as f32);
        // (Through an i32: the conversion to a usize costs several times as much, and a line is
        // far shorter than 2^31 samples.)
        let whole = d as i32 as usize;
        (whole, d - whole as f32)
    }

    /// The sample written `whole + frac` samples ago (as [`Line::split`] makes them: fractional,
    /// linear interpolation).
    #[inline(always)]
    fn read_split(&self, (whole, frac): (usize, f32)) -> f32 {
        let n = self.buf.len();
        // (Wrapped by subtraction: a division per read costs more than the rest of it.)
        let mut i = self.pos + n - whole;
        if i >= n {
            i -= n;
        }
        let j = if i == 0 { n - 1 } else { i - 1 };
        let (a, b) = (self.buf[i], self.buf[j]);
        a + (b - a) * frac
    }

    /// Where the sample written `len - 1` samples ago is: a fixed delay of the whole line, and
    /// the slot the next write goes to.
    #[inline(always)]
    fn oldest_slot(&self) -> usize {
        let i = self.pos + 1;
        if i == self.buf.len() {
            0
        } else {
            i
        }
    }

    #[inline(always)]
    fn write(&mut self, x: f32) {
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
        }
        self.buf[self.pos] = x;
    }

    fn clear(&mut self) {
        self.buf.fill(0.0);
    }
}

pub struct Effects {
    sample_rate: f32,
    delay: [Line; 2],
    delay_tone: [f32; 2],
    /// The delay time as it glides.
    delay_now: f32,
    glide: f32,
    diffusers: [Line; 2],
    lines: [Line; 8],
    damp_state: [f32; 8],
    /// The lines' loop gains and the Size they were computed for.
    gains: [f32; 8],
    gains_for: f32,
    limiter_gain: f32,
    release: f32,
    /// Whether anything may still ring (skips the work when the effects are dry and silent).
    active: bool,
}

impl Effects {
    pub fn new(sample_rate: f32) -> Effects {
        let scale = sample_rate / 48_000.0;
        let len = |n: usize| ((n as f32 * scale) as usize).max(8);
        Effects {
            sample_rate,
            delay: [
                Line::new((MAX_DELAY_SECONDS * sample_rate) as usize + 4),
                Line::new((MAX_DELAY_SECONDS * sample_rate) as usize + 4),
            ],
            delay_tone: [0.0; 2],
            delay_now: 1.0,
            glide: 1.0 - (-1.0 / (0.05 * sample_rate)).exp(),
            diffusers: DIFFUSERS.map(|n| Line::new(len(n))),
            lines: LINES.map(|n| Line::new(len(n))),
            damp_state: [0.0; 8],
            gains: [0.0; 8],
            gains_for: f32::NAN,
            limiter_gain: 1.0,
            release: 1.0 - (-1.0 / (0.08 * sample_rate)).exp(),
            active: false,
        }
    }

    pub fn reset(&mut self) {
        for l in self
            .delay
            .iter_mut()
            .chain(&mut self.diffusers)
            .chain(&mut self.lines)
        {
            l.clear();
        }
        self.delay_tone = [0.0; 2];
        self.damp_state = [0.0; 8];
        self.limiter_gain = 1.0;
        self.active = false;
    }

    /// One stereo sample through delay and reverb (not the limiter).
    #[cfg(test)]
    pub fn tick(&mut self, l: f32, r: f32, p: &FxParams) -> (f32, f32) {
        let (mut l, mut r) = ([l], [r]);
        self.process(&mut l, &mut r, std::slice::from_ref(p));
        (l[0], r[0])
    }

    /// A chunk of stereo samples through delay and reverb, in place (not the limiter); `fx` holds
    /// each sample's settings (at least as many as samples). The delay goes a sample at a time;
    /// the reverb then runs over the chunk in stretches where none of its lines wraps round, so
    /// each line reads and writes consecutive slots (the same samples as a sample at a time).
    #[inline(always)]
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], fx: &[FxParams]) {
        let n = left.len().min(right.len()).min(fx.len());
        // Dry and silent: nothing to do until the first sample that asks for an effect.
        let Some(wake) = (if self.active {
            Some(0)
        } else {
            fx[..n]
                .iter()
                .position(|p| p.delay_mix > 0.0 || p.reverb_mix > 0.0)
        }) else {
            return;
        };
        if !self.active {
            // Waking up: the delay starts at its time (nothing in the line to glide over).
            self.delay_now = fx[wake].delay_samples;
            self.active = true;
        }
        let (left, right, fx) = (&mut left[wake..n], &mut right[wake..n], &fx[wake..n]);
        for ((l, r), p) in left.iter_mut().zip(right.iter_mut()).zip(fx) {
            (*l, *r) = self.delay(*l, *r, p);
        }
        self.reverb(left, right, fx);
    }

    /// One sample through the delay: ping-pong, the mono input into the left line.
    #[inline(always)]
    fn delay(&mut self, l: f32, r: f32, p: &FxParams) -> (f32, f32) {
        self.delay_now += (p.delay_samples - self.delay_now) * self.glide;
        // (Both lines are as long: one split serves both.)
        let at = self.delay[0].split(self.delay_now);
        let (dl, dr) = (self.delay[0].read_split(at), self.delay[1].read_split(at));
        let fb = p.delay_feedback.clamp(0.0, 0.95);
        self.delay_tone[0] += (dr - self.delay_tone[0]) * 0.35;
        self.delay_tone[1] += (dl - self.delay_tone[1]) * 0.35;
        self.delay[0].write(0.5 * (l + r) + fb * self.delay_tone[0]);
        self.delay[1].write(fb * self.delay_tone[1]);
        (l + p.delay_mix * dl, r + p.delay_mix * dr)
    }

    /// The reverb over a chunk, in place: the diffusers, then the network. Each line reads its
    /// oldest sample and overwrites it with the new one, one slot further each sample.
    fn reverb(&mut self, left: &mut [f32], right: &mut [f32], fx: &[FxParams]) {
        let Effects {
            sample_rate,
            diffusers,
            lines,
            damp_state,
            gains,
            gains_for,
            ..
        } = self;
        let lengths = lines.each_ref().map(|l| l.buf.len());
        let mut done = 0;
        while done < left.len() {
            // Each line's slot for the first sample of the stretch, and how far every line
            // goes before one of them wraps round.
            let d_at = diffusers.each_ref().map(Line::oldest_slot);
            let at = lines.each_ref().map(Line::oldest_slot);
            let run = diffusers
                .iter()
                .zip(d_at)
                .chain(lines.iter().zip(at))
                .map(|(l, a)| l.buf.len() - a)
                .fold(left.len() - done, usize::min);
            let mut k = 0;
            let [d0, d1] = diffusers.each_mut().map(|d| {
                k += 1;
                &mut d.buf[d_at[k - 1]..][..run]
            });
            let mut k = 0;
            let mut ring = lines.each_mut().map(|l| {
                k += 1;
                &mut l.buf[at[k - 1]..][..run]
            });
            let signs = f32x4::from([1.0, -1.0, 1.0, -1.0]);
            let mut state = halves(*damp_state);
            let mut gain4 = halves(*gains);
            let stretch = (left[done..][..run].iter_mut())
                .zip(right[done..][..run].iter_mut())
                .zip(&fx[done..][..run]);
            for (t, ((l, r), p)) in stretch.enumerate() {
                let mut x = 0.5 * (*l + *r);
                for d in [&mut *d0, &mut *d1] {
                    let delayed = d[t];
                    let v = x + 0.6 * delayed;
                    d[t] = v;
                    x = delayed - 0.6 * v;
                }
                let outs: [f32; 8] = std::array::from_fn(|i| ring[i][t]);
                let mixed = hadamard(halves(outs));
                if (p.reverb_size - *gains_for).abs() > 1e-4 || gains_for.is_nan() {
                    // -60 dB over the decay time, for each line's length.
                    let rt60 = decay_seconds(p.reverb_size) * *sample_rate;
                    for (g, len) in gains.iter_mut().zip(lengths) {
                        *g = 10f32.powf(-3.0 * len as f32 / rt60);
                    }
                    *gains_for = p.reverb_size;
                    gain4 = halves(*gains);
                }
                let damp = 0.05 + 0.9 * p.reverb_damping.clamp(0.0, 1.0);
                // The eight lines four at a time: damped, then fed back with the input (into
                // the even lines as it is, the odd ones inverted).
                let (keep, fed) = (f32x4::splat(1.0 - damp), f32x4::splat(x));
                let mut back = [0.0; 8];
                for k in 0..2 {
                    state[k] += (mixed[k] - state[k]) * keep;
                    let w = gain4[k] * state[k] + signs * fed * f32x4::splat(0.35);
                    back[4 * k..][..4].copy_from_slice(&w.to_array());
                }
                for (line, w) in ring.iter_mut().zip(back) {
                    line[t] = w;
                }
                let wet_l = (outs[0] + outs[2] + outs[4] + outs[6]) * 0.5;
                let wet_r = (outs[1] + outs[3] + outs[5] + outs[7]) * 0.5;
                (*l, *r) = (*l + p.reverb_mix * wet_l, *r + p.reverb_mix * wet_r);
            }
            let [lo, hi] = state.map(f32x4::to_array);
            damp_state[..4].copy_from_slice(&lo);
            damp_state[4..].copy_from_slice(&hi);
            for (l, a) in diffusers
                .iter_mut()
                .zip(d_at)
                .chain(lines.iter_mut().zip(at))
            {
                l.pos = a + run - 1;
            }
            done += run;
        }
    }

    /// The limiter: `(l, r)` with at most `CEILING` of peak.
    #[inline(always)]
    pub fn limit(&mut self, l: f32, r: f32) -> (f32, f32) {
        let peak = l.abs().max(r.abs());
        self.limiter_gain += (1.0 - self.limiter_gain) * self.release;
        if peak * self.limiter_gain > CEILING {
            self.limiter_gain = CEILING / peak;
        }
        (l * self.limiter_gain, r * self.limiter_gain)
    }

    /// Flushes tiny values in the loops (denormals) at the end of a block; drops back to the
    /// cheap path once everything has died away.
    pub fn flush_denormals(&mut self, p: &FxParams) {
        let mut loudest: f32 = 0.0;
        for s in self.delay_tone.iter_mut().chain(&mut self.damp_state) {
            if s.abs() < 1e-20 {
                *s = 0.0;
            }
            loudest = loudest.max(s.abs());
        }
        if self.active && p.delay_mix <= 0.0 && p.reverb_mix <= 0.0 && loudest < 1e-9 {
            self.reset();
        }
    }
}

/// Eight values as two vectors of four.
#[inline(always)]
fn halves(x: [f32; 8]) -> [f32x4; 2] {
    [
        f32x4::from([x[0], x[1], x[2], x[3]]),
        f32x4::from([x[4], x[5], x[6], x[7]]),
    ]
}

/// The 8-point Hadamard transform, normalised (energy-preserving), on two vectors of four: the
/// same sums and differences in the same order as the butterflies a value at a time (a - b is
/// a + -b to the bit).
#[inline(always)]
fn hadamard(x: [f32x4; 2]) -> [f32x4; 2] {
    // Pairs one apart, then two apart, within each half; then the halves.
    let quarter = |v: f32x4| {
        let [a, b, c, d] = v.to_array();
        let v = f32x4::from([a, a, c, c]) + f32x4::from([b, -b, d, -d]);
        let [a, b, c, d] = v.to_array();
        f32x4::from([a, b, a, b]) + f32x4::from([c, d, -c, -d])
    };
    let [lo, hi] = x.map(quarter);
    let scale = f32x4::splat(1.0 / 8f32.sqrt());
    [(lo + hi) * scale, (lo - hi) * scale]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 8-point Hadamard transform a value at a time (butterflies one, two and four apart).
    fn hadamard_by_values(x: [f32; 8]) -> [f32; 8] {
        let mut y = x;
        let mut h = 1;
        while h < 8 {
            for i in (0..8).step_by(h * 2) {
                for j in i..i + h {
                    let (a, b) = (y[j], y[j + h]);
                    y[j] = a + b;
                    y[j + h] = a - b;
                }
            }
            h *= 2;
        }
        y.map(|v| v * (1.0 / 8f32.sqrt()))
    }

    #[test]
    fn the_vector_hadamard_makes_the_same_bits_as_the_butterflies() {
        // Finite values of every size and both signs (sums may overflow to infinity).
        let mut noise = crate::test_support::Noise::new(7);
        let mut next = || {
            let bits = noise.next_u64();
            let sign = if bits >> 63 == 0 { 1.0 } else { -1.0 };
            f32::from_bits((bits as u32) % 0x7f80_0000) * sign
        };
        for case in 0..10_000 {
            let mut x: [f32; 8] = std::array::from_fn(|_| next());
            if case % 7 == 0 {
                x[case % 8] = -0.0;
            }
            let [lo, hi] = hadamard(halves(x));
            let got: Vec<u32> = [lo.to_array(), hi.to_array()]
                .concat()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let want: Vec<u32> = hadamard_by_values(x).iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{x:?}");
        }
    }

    fn impulse_response(p: &FxParams, seconds: f32) -> Vec<(f32, f32)> {
        let mut fx = Effects::new(48_000.0);
        (0..(seconds * 48_000.0) as usize)
            .map(|i| fx.tick(if i == 0 { 1.0 } else { 0.0 }, 0.0, p))
            .collect()
    }

    #[test]
    fn a_chunk_at_a_time_sounds_exactly_as_a_sample_at_a_time() {
        // Chunks of every length up to 67 (the engine's are 64) against single samples: waking up
        // inside a chunk, settings gliding (the reverb's gains recomputed), every line wrapping
        // round many times; at 48 kHz and at the 8 kHz of the loudness prediction, where the
        // diffusers are shorter than a chunk.
        for rate in [48_000.0, 8_000.0] {
            let p = |i: usize| FxParams {
                delay_samples: 3_000.0 + (i / 5_000) as f32 * 700.0,
                delay_feedback: 0.6,
                delay_mix: if i < 1_000 { 0.0 } else { 0.4 },
                reverb_size: 0.3 + (i as f32 * 1e-4).sin().abs() * 0.5,
                reverb_damping: (i as f32 * 3e-4).cos().abs(),
                reverb_mix: if i < 1_500 { 0.0 } else { 0.5 },
            };
            let input = |i: usize| {
                let x = (i as f32 * 0.031).sin() * if i % 997 < 300 { 1.0 } else { 0.0 };
                (x, 0.5 * x)
            };
            let total = 30_000;
            let mut one = Effects::new(rate);
            let single: Vec<(f32, f32)> = (0..total)
                .map(|i| {
                    let (l, r) = input(i);
                    one.tick(l, r, &p(i))
                })
                .collect();
            let mut chunked = Effects::new(rate);
            let mut at = 0;
            let mut len = 1;
            while at < total {
                let n = len.min(total - at);
                let (mut l, mut r): (Vec<f32>, Vec<f32>) = (at..at + n).map(input).unzip();
                let fx: Vec<FxParams> = (at..at + n).map(p).collect();
                chunked.process(&mut l, &mut r, &fx);
                for (k, (a, b)) in l.iter().zip(&r).enumerate() {
                    let want = single[at + k];
                    assert!(
                        a.to_bits() == want.0.to_bits() && b.to_bits() == want.1.to_bits(),
                        "at {rate} Hz, sample {}: {:?} against {want:?}",
                        at + k,
                        (a, b)
                    );
                }
                at += n;
                len = len % 67 + 1;
            }
            assert!(single[20_000..].iter().any(|s| s.0.abs() > 1e-3));
        }
    }

    #[test]
    fn the_delay_repeats_on_the_beat_and_crosses_sides() {
        let p = FxParams {
            delay_samples: 12_000.0,
            delay_feedback: 0.5,
            delay_mix: 1.0,
            ..FxParams::DRY
        };
        let out = impulse_response(&p, 1.0);
        // The first repeat on the left at 12000, the second on the right at 24000, softer.
        let peak = |range: std::ops::Range<usize>, right: bool| {
            out[range]
                .iter()
                .map(|s| if right { s.1 } else { s.0 }.abs())
                .fold(0.0, f32::max)
        };
        assert!(peak(11_990..12_010, false) > 0.3);
        assert!(peak(11_990..12_010, true) < 1e-6);
        let second = peak(23_990..24_040, true);
        assert!(
            second > 0.05 && second < peak(11_990..12_010, false),
            "{second}"
        );
        assert!(peak(100..11_900, false) < 1e-6);
    }

    #[test]
    fn the_reverb_decays_in_its_time_and_spreads_both_sides() {
        for size in [0.2, 0.7] {
            // (Undamped: damping shortens the high frequencies' decay on purpose.)
            let p = FxParams {
                reverb_size: size,
                reverb_damping: 0.0,
                reverb_mix: 1.0,
                ..FxParams::DRY
            };
            let t60 = decay_seconds(size);
            let out = impulse_response(&p, t60 * 1.5 + 0.5);
            let energy = |from: f32, to: f32| {
                out[(from * 48_000.0) as usize..(to * 48_000.0) as usize]
                    .iter()
                    .map(|s| s.0 * s.0 + s.1 * s.1)
                    .sum::<f32>()
                    / ((to - from) * 48_000.0)
            };
            let early = energy(0.05, 0.15);
            let at_t60 = energy(0.05 + t60, 0.15 + t60);
            let db = 10.0 * (at_t60 / early).log10();
            assert!(
                (-70.0..-50.0).contains(&db),
                "size {size}: {db} dB after {t60} s"
            );
            let (l, r): (Vec<f32>, Vec<f32>) = out[2400..24_000].iter().copied().unzip();
            let corr = crate::test_support::correlation(&l, &r);
            assert!(corr.abs() < 0.5, "left and right should differ: {corr}");
            assert!(out.iter().all(|s| s.0.is_finite() && s.1.is_finite()));
        }
    }

    #[test]
    fn the_limiter_holds_the_ceiling_and_lets_quiet_signals_through() {
        let mut fx = Effects::new(48_000.0);
        let mut peak: f32 = 0.0;
        for i in 0..48_000 {
            let x = 3.0 * ((i as f32) * 0.05).sin();
            let (l, r) = fx.limit(x, -x);
            peak = peak.max(l.abs()).max(r.abs());
        }
        assert!(peak <= CEILING + 1e-6, "{peak}");
        let mut fx = Effects::new(48_000.0);
        for i in 0..4_800 {
            let x = 0.5 * ((i as f32) * 0.05).sin();
            assert_eq!(fx.limit(x, x), (x, x));
        }
    }
}
