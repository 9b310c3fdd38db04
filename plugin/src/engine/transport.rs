//! Where a block starts on the host's timeline: the host's tempo sanitised, its reported
//! position read against the engine's own sample-counting clock (rounding, drift or a jump), and
//! the clock itself. Pure functions and plain data, tested alone; `Engine::process` asks
//! [`locate`] where each block starts.

use super::DEFAULT_BPM;

const MIN_BPM: f64 = 1.0;
const MAX_BPM: f64 = 999.0;

/// How far, in beats, a host's reported position may differ from our own clock and still be read
/// as the same timeline, rounded. Real hosts quantise what they send: Ardour counts beats in ticks
/// of 1/1920 quarter (its position is up to 1/3840 quarter off, about 7 samples at 100 BPM and
/// 48 kHz), hosts that count 960 PPQ may floor to 1/960 quarter, others round to whole samples.
/// Our clock is anchored on one reported position and the next one is compared with it, so the
/// difference of two rounded positions must pass: one whole 960 PPQ tick, or two samples (see
/// [`rounding_tolerance`]). Within it the engine keeps its own sample-exact clock, so onsets land
/// on the samples they land on with an exact host.
const HOST_TICK_BEATS: f64 = 1.0 / 960.0;
const HOST_ROUNDING_SAMPLES: f64 = 2.0;
/// Beyond the rounding tolerance but within this many beats (a 256th note), the host's clock has
/// drifted from ours (a tempo ramp between blocks, a host whose beats drift against its sample
/// count): the engine takes the host's position without restarting notes. Drift moves by far
/// less than this from one block to the next; anything further is a jump (locate, loop wrap,
/// pre-roll, a step in the tempo map) and re-seeks.
const DRIFT_BEATS: f64 = 1.0 / 64.0;

/// The rounding tolerance in beats at `beats_per_sample` beats per sample.
pub(super) fn rounding_tolerance(beats_per_sample: f64) -> f64 {
    HOST_TICK_BEATS.max(HOST_ROUNDING_SAMPLES * beats_per_sample)
}

/// How a reported host position relates to where our own clock says the block starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HostPosition {
    /// Within the host's rounding: our clock is the truth.
    Rounded,
    /// Slightly off, as drift is: follow the host, keep the notes sounding.
    Drifted,
    /// Elsewhere: release and re-seek.
    Jumped,
}

pub(super) fn classify(host: f64, own: f64, beats_per_sample: f64) -> HostPosition {
    let off = (host - own).abs();
    let rounding = rounding_tolerance(beats_per_sample);
    if off <= rounding {
        HostPosition::Rounded
    } else if off <= DRIFT_BEATS.max(4.0 * rounding) {
        HostPosition::Drifted
    } else {
        HostPosition::Jumped
    }
}

/// The engine's own clock while the host plays: a beat it was anchored on and the samples
/// played since, so positions do not accumulate rounding block after block.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeline {
    pub anchor: f64,
    pub beats_per_sample: f64,
    pub samples: u64,
}

impl Timeline {
    pub fn now(&self) -> f64 {
        self.anchor + self.samples as f64 * self.beats_per_sample
    }
}

/// What the host tells us about its transport at the first sample of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TransportState {
    pub playing: bool,
    pub tempo_bpm: Option<f64>,
    /// Position in quarter-note beats.
    pub pos_beats: Option<f64>,
    /// Bar length in quarter-note beats from the host's time signature (6/8 -> 3); `None` = 4/4.
    pub beats_per_bar: Option<f64>,
}

/// The tempo to play at: the host's when it reports a usable one, else `fallback`, kept within
/// 1 to 999 BPM. The one place a host's tempo is sanitised (the plugin computes its sub-block
/// positions and the playhead with it too).
pub fn tempo_bpm(reported: Option<f64>, fallback: f64) -> f64 {
    let fallback = if fallback.is_finite() {
        fallback
    } else {
        DEFAULT_BPM
    };
    reported
        .filter(|t| t.is_finite() && *t > 0.0)
        .unwrap_or(fallback)
        .clamp(MIN_BPM, MAX_BPM)
}

/// Where a block sits on the host timeline: its first sample's beat and the beats per sample.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    pub start: f64,
    pub beats_per_sample: f64,
}

/// Where a block starts and how the host's report relates to the engine's clock: `host` is the
/// position the host reports (if usable), `own` where the engine's clock says the block starts
/// (`None` when it was not playing), `free_beat` where it stopped. Within the host's rounding the
/// engine's own clock is the truth (so onsets stay sample-exact); drift follows the host; anything
/// else is a jump (locate, loop wrap, pre-roll) from which the engine re-seeks.
pub(super) fn locate(
    host: Option<f64>,
    own: Option<f64>,
    free_beat: f64,
    beats_per_sample: f64,
) -> (f64, HostPosition) {
    let host = host.filter(|p| p.is_finite() && p.abs() < 1e12);
    match (host, own) {
        (Some(h), Some(o)) => match classify(h, o, beats_per_sample) {
            HostPosition::Rounded => (o, HostPosition::Rounded),
            how => (h, how),
        },
        (None, Some(o)) => (o, HostPosition::Rounded),
        (Some(h), None) => (h, HostPosition::Jumped),
        (None, None) => (free_beat, HostPosition::Jumped),
    }
}
