//! The oscillator: the analog wave (a sine blended into a band-limited sawtooth by Brightness)
//! blended into the picture's wave by the part's Picture amount, four voices at a time
//! (`wide::f32x4`). The sawtooth and the picture's wave are band-limited wavetables
//! (`crate::wavetable`): each note reads the octave level whose harmonics all stay under Nyquist,
//! so nothing folds back at any pitch.

use wide::{f32x4, i32x4};

use crate::wavetable::{self, MipTable};

/// The picture's wave as the voices read it this sample.
#[derive(Clone, Copy, Debug)]
pub struct PictureWaves<'a> {
    /// The playing score's wave; `None` plays the analog wave where a part asks for the picture.
    pub table: Option<&'a MipTable>,
    /// The wave of the score just replaced, which notes sounding at the swap fade out of.
    pub old: Option<&'a MipTable>,
    /// 0..1: where between the first frame and the last.
    pub position: f32,
    /// How much of the old wave's share goes per sample.
    pub fade_step: f32,
}

#[cfg(test)]
impl PictureWaves<'_> {
    pub const NONE: PictureWaves<'static> = PictureWaves {
        table: None,
        old: None,
        position: 0.0,
        fade_step: 1.0,
    };
}

/// Where four phases (0..1) fall in cycles of `len` samples (each lane's level's
/// [`wavetable::cycle_len`]): the sample and the fraction.
#[inline(always)]
pub(super) fn cycle_index(phase: f32x4, len: f32x4) -> (i32x4, f32x4) {
    let x = phase * len;
    let i = x.trunc_int();
    let frac = x - f32x4::from_i32x4(i);
    (i.max(i32x4::ZERO).min(len.trunc_int() - i32x4::ONE), frac)
}

/// Adds per-lane offsets to sample indices.
#[inline(always)]
pub(super) fn offsets(base: [u32; 4], idx: i32x4) -> [usize; 4] {
    let i = idx.to_array();
    [0, 1, 2, 3].map(|k| base[k] as usize + i[k] as usize)
}

/// `table` at `position` (0..1 through its frames, neighbouring frames crossfaded), each lane at
/// its octave level: one four-float load per lane (the table stores each frame beside the next).
#[inline(always)]
pub(super) fn frames_at(
    table: &MipTable,
    levels: [u32; 4],
    position: f32,
    idx: i32x4,
    frac: f32x4,
) -> f32x4 {
    let last = table.frames() - 1;
    let x = position.clamp(0.0, 1.0) * last as f32;
    let f0 = (x as usize).min(last);
    let w = f32x4::splat(x - f0 as f32);
    let base = levels.map(|l| table.offset(l as usize, f0) as u32);
    let (a, b) = read_pairs(table.data(), offsets(base, idx), frac);
    a + (b - a) * w
}

/// What an oscillator reads: the analog table (sine and band-limited sawtooth sample pairs, see
/// [`analog_table`]) and the picture's wave.
pub(super) struct Sources<'a> {
    pub analog: &'a [f32],
    pub waves: &'a PictureWaves<'a>,
}

/// The analog oscillator's table: per octave level and sample, the sine's and the band-limited
/// sawtooth's values side by side, so one four-float load per lane brings both and their next
/// samples (`[sine_i, saw_i, sine_i+1, saw_i+1]`). Level `k` starts at pair
/// [`wavetable::level_start`]`(k)`.
pub(super) fn analog_table(saw: &MipTable) -> Box<[f32]> {
    let mut t = Vec::with_capacity(2 * wavetable::level_start(wavetable::LEVELS));
    for level in 0..wavetable::LEVELS {
        let len = wavetable::cycle_len(level);
        for (i, s) in saw.frame(level, 0).into_iter().enumerate() {
            let x = (i % len) as f64 / len as f64 * std::f64::consts::TAU;
            t.push(x.sin() as f32);
            t.push(s);
        }
    }
    t.into_boxed_slice()
}

/// Four lanes' pairs of values at pair index `at` (the analog table's sine and sawtooth, a
/// wavetable's frame and the next frame), each interpolated by the fraction towards the next
/// sample.
#[inline(always)]
pub(super) fn read_pairs(data: &[f32], at: [usize; 4], frac: f32x4) -> (f32x4, f32x4) {
    let quad = |k: usize| -> f32x4 {
        match data.get(2 * at[k]..2 * at[k] + 4) {
            Some(&[a, b, c, d]) => f32x4::from([a, b, c, d]),
            _ => f32x4::ZERO,
        }
    };
    let [sine_a, saw_a, sine_b, saw_b] = f32x4::transpose([quad(0), quad(1), quad(2), quad(3)]);
    (
        sine_a + (sine_b - sine_a) * frac,
        saw_a + (saw_b - saw_a) * frac,
    )
}

/// Four voices' oscillators at `phase`: sine to sawtooth by `brightness`, then to the picture's
/// wave by `picture` (lanes still fading out of the old wave by `old`). `levels` are the lanes'
/// octave levels, `lens` their cycles' lengths, `analog_at` where those levels start in the
/// analog table.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn oscillator(
    src: &Sources,
    phase: f32x4,
    levels: [u32; 4],
    lens: f32x4,
    analog_at: [u32; 4],
    brightness: f32x4,
    picture: Option<(f32x4, f32x4)>,
) -> f32x4 {
    let (idx, frac) = cycle_index(phase, lens);
    let (sine, saw) = read_pairs(src.analog, offsets(analog_at, idx), frac);
    let analog = sine + (saw - sine) * brightness;
    let Some((amount, old)) = picture else {
        return analog;
    };
    let w = src.waves;
    let wave =
        |t: Option<&MipTable>| t.map_or(analog, |t| frames_at(t, levels, w.position, idx, frac));
    let mut pic = wave(w.table);
    if w.old.is_some() && old.simd_gt(f32x4::ZERO).any() {
        pic += (wave(w.old) - pic) * old;
    }
    analog + (pic - analog) * amount
}

/// A phase that passed 1 moved back into 0..1.
#[inline(always)]
pub(super) fn wrap(phase: f32x4) -> f32x4 {
    phase.simd_ge(f32x4::ONE).select(phase - f32x4::ONE, phase)
}
