//! The oscillator: the analog wave (a sine blended into a band-limited sawtooth by Brightness)
//! blended into the picture's wave by the part's Picture amount, four voices at a time
//! (`wide::f32x4`). The sawtooth and the picture's wave are band-limited wavetables
//! (`crate::wavetable`): each note reads the octave level whose harmonics all stay under Nyquist,
//! so nothing folds back at any pitch.

use wide::{f32x4, i32x4};

use crate::wavetable::{self, MipTable};

/// The picture's waves as the voices read them.
#[derive(Clone, Copy, Debug)]
pub struct PictureWaves<'a> {
    /// The playing score's wave; `None` plays the analog wave where a part asks for the picture.
    pub table: Option<&'a MipTable>,
    /// The wave of the score just replaced, which notes sounding at the swap fade out of.
    pub old: Option<&'a MipTable>,
    /// How much of the old wave's share goes per sample.
    pub fade_step: f32,
}

#[cfg(test)]
impl PictureWaves<'_> {
    pub const NONE: PictureWaves<'static> = PictureWaves {
        table: None,
        old: None,
        fade_step: 1.0,
    };
}

/// Where four phases (0..1) fall in cycles of `len` samples (each lane's level's
/// [`wavetable::cycle_len`]): the sample and the fraction.
#[inline(always)]
pub(super) fn cycle_index(phase: f32x4, len: f32x4) -> (i32x4, f32x4) {
    // (The plain conversion: a phase is in 0..1 and a length at most 2048, so nothing is out of
    // an integer's range, and a NaN's index is clamped to 0 as the careful conversion makes it.)
    let x = phase * len;
    let i = x.fast_trunc_int();
    let frac = x - f32x4::from_i32x4(i);
    (
        i.max(i32x4::ZERO).min(len.fast_trunc_int() - i32x4::ONE),
        frac,
    )
}

/// Where a sample stands in a wave's frames: the frame and the crossfade towards the next.
#[derive(Clone, Copy, Debug)]
pub(super) struct FramePos {
    pub frame: u32,
    pub towards_next: f32x4,
}

impl FramePos {
    pub const FIRST: FramePos = FramePos {
        frame: 0,
        towards_next: f32x4::ZERO,
    };

    /// `position` (0..1, from the first frame to the last) in a wave of `frames` frames.
    #[inline(always)]
    pub fn of(position: f32, frames: usize) -> FramePos {
        let last = frames.max(1) - 1;
        let x = position.clamp(0.0, 1.0) * last as f32;
        // (Through an i32, several times cheaper than to a usize: x is 0 ..= last, or NaN (0).)
        let f0 = (x as i32 as usize).min(last);
        FramePos {
            frame: f0 as u32,
            towards_next: f32x4::splat(x - f0 as f32),
        }
    }
}

/// Where four lanes' octave levels of a wave start (its first frame, in pairs) and how far apart
/// its frames are, worked out once for a chunk (the lanes' levels change only at a note-on).
#[derive(Clone, Copy, Debug)]
pub(super) struct FrameLayout {
    start: [u32; 4],
    stride: [u32; 4],
}

impl FrameLayout {
    /// The layout of no wave (never read: a lane reads a wave only where there is one).
    pub const NONE: FrameLayout = FrameLayout {
        start: [0; 4],
        stride: [0; 4],
    };

    pub fn of(table: &MipTable, levels: [u32; 4]) -> FrameLayout {
        let at = |l: u32, f| table.offset(l as usize, f) as u32;
        FrameLayout {
            start: levels.map(|l| at(l, 0)),
            // (0 for a wave of one frame: the frame after the last is the last.)
            stride: levels.map(|l| at(l, 1) - at(l, 0)),
        }
    }

    /// Where each lane's level of `frame` starts (in pairs).
    #[inline(always)]
    pub fn base(&self, frame: u32) -> i32x4 {
        let (s, d) = (self.start, self.stride);
        i32x4::from([
            (s[0] + frame * d[0]) as i32,
            (s[1] + frame * d[1]) as i32,
            (s[2] + frame * d[2]) as i32,
            (s[3] + frame * d[3]) as i32,
        ])
    }
}

/// `table` at frame position `at` (neighbouring frames crossfaded), each lane at its octave level,
/// whose frame `at.frame` starts at pair `base` ([`FrameLayout::base`]): one four-float load per
/// lane (the table stores each frame beside the next).
#[inline(always)]
pub(super) fn frames_at(
    table: &MipTable,
    base: i32x4,
    at: FramePos,
    idx: i32x4,
    frac: f32x4,
) -> f32x4 {
    let (a, b) = read_pairs(table.data(), base + idx, frac);
    a + (b - a) * at.towards_next
}

/// What an oscillator reads: the analog table (sine and band-limited sawtooth sample pairs, see
/// [`analog_table`]) and the picture's wave.
pub(super) struct Sources<'a> {
    pub analog: &'a AnalogTable,
    pub waves: &'a PictureWaves<'a>,
    /// Where this sample reads the playing score's wave and the old one.
    pub frames: &'a [FramePos; 2],
    /// Where those frames start (in pairs) in the two waves for these four lanes.
    pub bases: &'a [i32x4; 2],
}

/// The analog oscillator's table: per octave level and sample, the sine's and the band-limited
/// sawtooth's values side by side, so one four-float load per lane brings both and their next
/// samples (`[sine_i, saw_i, sine_i+1, saw_i+1]`). Level `k` starts at pair
/// [`wavetable::level_start`]`(k)`.
pub(super) fn analog_table(saw: &MipTable) -> Box<AnalogTable> {
    let mut t = Vec::with_capacity(ANALOG_LEN);
    for level in 0..wavetable::LEVELS {
        let len = wavetable::cycle_len(level);
        for (i, s) in saw.frame(level, 0).into_iter().enumerate() {
            let x = (i % len) as f64 / len as f64 * std::f64::consts::TAU;
            t.push(x.sin() as f32);
            t.push(s);
        }
    }
    t.resize(ANALOG_LEN, 0.0);
    t.into_boxed_slice()
        .try_into()
        .expect("the analog table was sized to ANALOG_LEN")
}

/// Floats the analog table holds: a sine and a sawtooth value for every sample of every level's
/// cycle and its guard point, under [`ANALOG_SPAN`].
const ANALOG_USED: usize = 2 * wavetable::level_start(wavetable::LEVELS);
/// A power of two at or above [`ANALOG_USED`]: a read's start masked to it is in the table
/// without a bounds check (the mask changes no index the lanes make).
const ANALOG_SPAN: usize = ANALOG_USED.next_power_of_two();
/// The analog table's length: the span and a last quad's room after it (zeros).
pub(super) const ANALOG_LEN: usize = ANALOG_SPAN + 4;

/// The analog table at its fixed size.
pub(super) type AnalogTable = [f32; ANALOG_LEN];

/// The four floats of `t` from float `at` (masked to the span: never changed, the lanes'
/// indices stay within their levels).
#[inline(always)]
fn analog_quad(t: &AnalogTable, at: i32) -> f32x4 {
    quad(t, at as u32 as usize & (ANALOG_SPAN - 1))
}

/// The four floats of `data` from float `a` (each caller bounds `a`, so that the compiler sees
/// the read is in the slice).
#[inline(always)]
fn quad(data: &[f32], a: usize) -> f32x4 {
    match data[a..a + 4] {
        [x, y, z, w] => f32x4::from([x, y, z, w]),
        _ => f32x4::ZERO,
    }
}

/// Four lanes' sine and sawtooth values at pair index `at` in the analog table, each
/// interpolated by the fraction towards the next sample.
#[inline(always)]
fn analog_pairs(t: &AnalogTable, at: i32x4, frac: f32x4) -> (f32x4, f32x4) {
    // (Pairs to floats for all four lanes at once.)
    let [a, b, c, d] = (at + at).to_array();
    interpolate(
        [
            analog_quad(t, a),
            analog_quad(t, b),
            analog_quad(t, c),
            analog_quad(t, d),
        ],
        frac,
    )
}

/// Four lanes' quads (`[a_i, b_i, a_i+1, b_i+1]`) as the two values each interpolated by the
/// lane's fraction towards its next sample.
#[inline(always)]
fn interpolate(quads: [f32x4; 4], frac: f32x4) -> (f32x4, f32x4) {
    let [a0, b0, a1, b1] = f32x4::transpose(quads);
    (a0 + (a1 - a0) * frac, b0 + (b1 - b0) * frac)
}

/// Four lanes' pairs of values at pair index `at` (the analog table's sine and sawtooth, a
/// wavetable's frame and the next frame), each interpolated by the fraction towards the next
/// sample.
#[inline(always)]
pub(super) fn read_pairs(data: &[f32], at: i32x4, frac: f32x4) -> (f32x4, f32x4) {
    let Some(last) = data.len().checked_sub(4) else {
        return (f32x4::ZERO, f32x4::ZERO);
    };
    // (Pairs to floats for the four lanes at once; each clamped to the last four floats, never
    // reached: a bound the compiler sees, so no lane needs its own check.)
    let [a, b, c, d] = (at + at).to_array();
    let at = |x: i32| quad(data, (x as u32 as usize).min(last));
    interpolate([at(a), at(b), at(c), at(d)], frac)
}

/// Four voices' oscillators at `phase`: sine to sawtooth by `brightness`, then to the picture's
/// wave by `picture` (lanes still fading out of the old wave by `old`). `lens` are the lanes'
/// cycles' lengths at their octave levels, `analog_at` where those levels start in the analog
/// table.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn oscillator(
    src: &Sources,
    phase: f32x4,
    lens: f32x4,
    analog_at: i32x4,
    brightness: f32x4,
    picture: Option<(f32x4, f32x4)>,
) -> f32x4 {
    let (idx, frac) = cycle_index(phase, lens);
    let (sine, saw) = analog_pairs(src.analog, analog_at + idx, frac);
    let analog = sine + (saw - sine) * brightness;
    let Some((amount, old)) = picture else {
        return analog;
    };
    let w = src.waves;
    let wave = |t: Option<&MipTable>, k: usize| match t {
        Some(t) => frames_at(t, src.bases[k], src.frames[k], idx, frac),
        None => analog,
    };
    let mut pic = wave(w.table, 0);
    if w.old.is_some() && old.simd_gt(f32x4::ZERO).any() {
        pic += (wave(w.old, 1) - pic) * old;
    }
    analog + (pic - analog) * amount
}

/// A phase that passed 1 moved back into 0..1.
#[inline(always)]
pub(super) fn wrap(phase: f32x4) -> f32x4 {
    phase.simd_ge(f32x4::ONE).select(phase - f32x4::ONE, phase)
}
