//! The real-time engine: plays a [`Score`] in time with a transport. Driven by plain calls so the
//! plugin, the command-line renderer and the tests share it. `process` runs on the audio thread:
//! it never allocates, frees, locks or blocks; everything it needs is built in [`Engine::new`].

mod drums;
pub mod effects;
mod offline;
mod sequencer;
#[cfg(test)]
mod sound_tests;
mod spectral;
#[cfg(test)]
mod tests;
mod voice;

pub use offline::{render_offline, OfflineRender};
pub use sequencer::{onset_offset, ONSET_TOLERANCE_SAMPLES};

use crate::score::{Note, Part, Patch, Score, Section, SectionSound, BEATS_PER_BAR};
use drums::DrumKit;
use effects::{Effects, FxParams};
use sequencer::Cursor;
use spectral::{SpectralBank, CHUNK as SPECTRAL_CHUNK};
use voice::{Envelope, Timbre, VoicePool, Waves, MAX_VOICES};

/// Tempo used when the host does not report one (DawDreamer's first blocks, some bounce paths).
pub const DEFAULT_BPM: f64 = 120.0;
const MIN_BPM: f64 = 1.0;
const MAX_BPM: f64 = 999.0;
/// Time constant of the per-sample parameter smoothing.
const SMOOTHING_SECONDS: f32 = 0.01;
/// How long notes sounding when a new score takes over take to move from the old score's
/// picture wave to the new one's (the old score is kept, then handed back, after it).
const WAVE_FADE_SECONDS: f32 = 0.02;

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
fn rounding_tolerance(beats_per_sample: f64) -> f64 {
    HOST_TICK_BEATS.max(HOST_ROUNDING_SAMPLES * beats_per_sample)
}

/// How a reported host position relates to where our own clock says the block starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostPosition {
    /// Within the host's rounding: our clock is the truth.
    Rounded,
    /// Slightly off, as drift is: follow the host, keep the notes sounding.
    Drifted,
    /// Elsewhere: release and re-seek.
    Jumped,
}

fn classify(host: f64, own: f64, beats_per_sample: f64) -> HostPosition {
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
struct Timeline {
    anchor: f64,
    beats_per_sample: f64,
    samples: u64,
}

impl Timeline {
    fn now(&self) -> f64 {
        self.anchor + self.samples as f64 * self.beats_per_sample
    }
}

/// A note the engine started or ended, for MIDI out, at a sample offset within the block. It is
/// the same sample on which the internal synth starts or releases the note.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteOut {
    pub offset: u32,
    pub on: bool,
    pub pitch: u8,
    /// 0..1 (0 for note-offs).
    pub velocity: f32,
    /// 0 = melody, 1 = chords, 2 = bass.
    pub channel: u8,
}

/// A fixed-capacity list of [`NoteOut`]s: filled on the audio thread without allocating; events
/// beyond its capacity in one block are dropped (and counted).
pub struct NoteSink {
    events: Vec<NoteOut>,
    dropped: u64,
}

/// More note events than any score produces in one block.
pub const MAX_NOTE_EVENTS: usize = 1024;

impl NoteSink {
    pub fn with_capacity(capacity: usize) -> Self {
        NoteSink {
            events: Vec::with_capacity(capacity),
            dropped: 0,
        }
    }

    pub fn push(&mut self, e: NoteOut) {
        // NOTE: never grow on the audio thread.
        if self.events.len() < self.events.capacity() {
            self.events.push(e);
        } else {
            self.dropped += 1;
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
    }

    pub fn events(&self) -> &[NoteOut] {
        &self.events
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
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

/// When a new score takes over from the one playing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwapAt {
    Immediately,
    NextBeat,
    NextBar,
}

/// Parameter values as the musician set them; the engine smooths them per sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EngineParams {
    /// Output gain in decibels.
    pub gain_db: f32,
    /// The timbre parameters (the same set a picture proposes).
    pub timbre: Patch,
    /// Tempo when the host reports none.
    pub fallback_bpm: f64,
    /// When a queued score takes over.
    pub swap_at: SwapAt,
    /// Semitones added to every note started from now on (MIDI transpose; not the drums).
    pub transpose: i32,
    /// The delay's time in beats (a note value).
    pub delay_beats: f64,
    /// Level of each part's internal sound in decibels (`Part as usize`: melody, harmony, bass,
    /// drums); -60 and below is silent. MIDI out is not affected.
    pub part_db: [f32; 4],
    /// Parts switched off play nothing: no sound and no MIDI.
    pub part_on: [bool; 4],
}

impl Default for EngineParams {
    fn default() -> Self {
        EngineParams::with_patch(&Patch::default())
    }
}

impl EngineParams {
    /// Default settings playing a picture's proposed timbre (what the command-line renderer uses).
    pub fn with_patch(patch: &Patch) -> Self {
        EngineParams {
            gain_db: -6.0,
            timbre: *patch,
            fallback_bpm: DEFAULT_BPM,
            swap_at: SwapAt::NextBar,
            transpose: 0,
            delay_beats: 0.75,
            part_db: [0.0; 4],
            part_on: [true; 4],
        }
    }

    /// These parameters with the timbre changed by `f`.
    pub fn with_timbre(mut self, f: impl FnOnce(&mut Patch)) -> Self {
        f(&mut self.timbre);
        self
    }
}

/// `note` moved by `semitones`, kept on the MIDI keyboard (a drum note stays the drum it is).
fn transposed(note: &Note, semitones: i32) -> Note {
    if note.part == Part::Drums {
        return *note;
    }
    Note {
        pitch: (i32::from(note.pitch) + semitones).clamp(0, 127) as u8,
        ..*note
    }
}

/// The effects' settings the parameters ask for at `tempo`.
fn fx_target(p: &EngineParams, tempo: f64, sample_rate: f32) -> FxParams {
    let t = p.timbre.clamped();
    let beats = if p.delay_beats.is_finite() {
        p.delay_beats.clamp(0.0625, 4.0)
    } else {
        0.75
    };
    FxParams {
        delay_samples: (beats * 60.0 / tempo * f64::from(sample_rate)) as f32,
        delay_feedback: t.delay_feedback,
        delay_mix: t.delay_mix,
        reverb_size: t.reverb_size,
        reverb_damping: t.reverb_damping,
        reverb_mix: t.reverb_mix,
    }
}

/// `value` one smoothing step towards `target`, landing on it exactly once within 1e-6: levels
/// gliding to silence would otherwise end in denormals, and a dry mix would never be dry.
#[inline(always)]
fn glide(value: &mut f32, target: f32, k: f32) {
    *value += (target - *value) * k;
    if (target - *value).abs() < 1e-6 {
        *value = target;
    }
}

/// A score's level (`Score::level_db`) as a gain.
fn score_level(score: &Score) -> f32 {
    if score.level_db.is_finite() {
        db_to_gain(score.level_db.clamp(-24.0, 24.0))
    } else {
        1.0
    }
}

/// A part's level as a gain: 0 at -60 dB and below.
fn part_gain(db: f32) -> f32 {
    if db.is_finite() && db > -60.0 {
        db_to_gain(db.min(12.0))
    } else {
        0.0
    }
}

/// The timbre the parameters ask for, in the engine's smoothing domain (the parameters' ranges
/// come from the timbre table, `score::TIMBRE`).
fn timbre_target(p: &EngineParams) -> Timbre {
    let t = p.timbre.clamped();
    Timbre {
        brightness: t.brightness,
        cutoff_log2: t.cutoff_hz.log2(),
        resonance: t.resonance,
        filter_env_oct: t.filter_env_oct,
        noise: t.noise,
        width: t.width,
        detune_cents: t.detune_cents,
        tone_oct: [t.melody.tone_oct, t.harmony.tone_oct, t.bass.tone_oct],
        picture: [t.melody.picture, t.harmony.picture, t.bass.picture],
    }
}

/// Cutoff's range in octaves above 1 Hz (20 Hz to 20 kHz), for a section's offset.
const MIN_CUTOFF_LOG2: f32 = 4.321_928;
const MAX_CUTOFF_LOG2: f32 = 14.287_712;

/// A piece's section sound at loop phase `phase` (any real; its fraction counts) of a loop
/// `length` beats long, `sections` of equal length: the section's own, gliding (smoothstep)
/// into the next one's over the beat before it starts (over half a section if that is shorter).
fn section_sound(sections: &[Section], phase: f64, length: f64) -> SectionSound {
    let n = sections.len();
    let whole = phase - (phase as i64) as f64;
    let phase = if whole < 0.0 { whole + 1.0 } else { whole };
    let u = phase * n as f64;
    let k = (u as usize).min(n - 1);
    let within = (u - k as f64) as f32;
    let ramp = ((n as f64 / length.max(1e-9)) as f32).min(0.5);
    let w = ((within - (1.0 - ramp)) / ramp).clamp(0.0, 1.0);
    let w = w * w * (3.0 - 2.0 * w);
    let (a, b) = (sections[k].sound, sections[(k + 1) % n].sound);
    SectionSound {
        brightness: a.brightness + (b.brightness - a.brightness) * w,
        cutoff_oct: a.cutoff_oct + (b.cutoff_oct - a.cutoff_oct) * w,
    }
}

/// The wave position (0..1) at loop phase `phase` (0..1): `position` (0..1), moved by `scan`
/// (0..1) down the picture and back over the loop (a triangle, so the loop's end meets its
/// start), reflected at the picture's bottom.
fn scanned_position(position: f32, scan: f32, phase: f64) -> f32 {
    // The fractional part without `floor` or `%` (library calls on baseline x86-64).
    let whole = phase - (phase as i64) as f64;
    let phase = if whole < 0.0 { whole + 1.0 } else { whole };
    let tri = 1.0 - (2.0 * phase as f32 - 1.0).abs();
    let p = (position + scan * tri).clamp(0.0, 2.0);
    if p > 1.0 {
        2.0 - p
    } else {
        p
    }
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

pub fn db_to_gain(db: f32) -> f32 {
    if db <= -100.0 {
        0.0
    } else {
        10f32.powf(db / 20.0)
    }
}

/// Where a block sits on the host timeline: its first sample's beat and the beats per sample.
#[derive(Clone, Copy, Debug)]
struct Clock {
    start: f64,
    beats_per_sample: f64,
}

pub struct Engine {
    sample_rate: f32,
    score: Option<Box<Score>>,
    cursor: Cursor,
    voices: VoicePool,
    drums: DrumKit,
    effects: Effects,
    /// The effects' settings as they are now, gliding towards the parameters.
    fx: FxParams,
    /// The tempo of the last block played (the delay keeps its time when the transport stops).
    last_tempo: f64,
    spectral: SpectralBank,
    notes_out: NoteSink,
    /// Our own clock: where the host's next block should start if it keeps playing; `None`
    /// forces a re-seek.
    timeline: Option<Timeline>,
    /// Our own position when the host plays without reporting one.
    free_beat: f64,
    gain: f32,
    /// Each part's gain as it is now, gliding towards its Level.
    part_gain: [f32; 4],
    /// The score's level as a gain, as it is now.
    level: f32,
    /// The timbre as it is now, gliding towards the parameters.
    timbre: Timbre,
    smoothing_coeff: f32,
    needs_seek: bool,
    /// A score waiting for its boundary, and the host beat of that boundary once known.
    pending: Option<Box<Score>>,
    swap_beat: Option<f64>,
    /// The score a boundary swap replaced, waiting to be handed back for freeing.
    retired: Option<Box<Score>>,
    /// The score just replaced while its wave still sounds in the notes it left (for
    /// `fade_left` more samples); then it is retired.
    fading: Option<Box<Score>>,
    fade_left: u32,
    /// The wave position and scan as they are now, gliding towards the parameters, and where in
    /// the loop the scan stands (kept when the transport stops).
    wave_position: f32,
    wave_scan: f32,
    loop_phase: f64,
    /// A piece's section sound where the playhead is (held while the transport stops).
    section_sound: SectionSound,
}

impl Engine {
    /// Allocates everything `process` will ever touch.
    pub fn new(sample_rate: f32) -> Self {
        let sample_rate = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let defaults = EngineParams::default();
        Engine {
            sample_rate,
            score: None,
            cursor: Cursor::default(),
            voices: VoicePool::new(MAX_VOICES),
            drums: DrumKit::new(sample_rate),
            effects: Effects::new(sample_rate),
            fx: FxParams::DRY,
            last_tempo: DEFAULT_BPM,
            spectral: SpectralBank::new(),
            notes_out: NoteSink::with_capacity(MAX_NOTE_EVENTS),
            timeline: None,
            free_beat: 0.0,
            gain: db_to_gain(defaults.gain_db),
            part_gain: defaults.part_db.map(part_gain),
            level: 1.0,
            timbre: timbre_target(&defaults),
            smoothing_coeff: 1.0 - (-1.0 / (SMOOTHING_SECONDS * sample_rate)).exp(),
            needs_seek: true,
            pending: None,
            swap_beat: None,
            retired: None,
            fading: None,
            fade_left: 0,
            wave_position: defaults.timbre.wave_position,
            wave_scan: defaults.timbre.wave_scan,
            loop_phase: 0.0,
            section_sound: SectionSound::default(),
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn score(&self) -> Option<&Score> {
        self.score.as_deref()
    }

    /// Silences everything and forgets the transport position. No allocation.
    pub fn reset(&mut self, params: &EngineParams) {
        self.voices.kill_all();
        self.drums.kill_all();
        self.level = self.score.as_deref().map_or(1.0, score_level);
        self.effects.reset();
        self.fx = fx_target(params, DEFAULT_BPM, self.sample_rate);
        self.part_gain = params.part_db.map(part_gain);
        self.spectral.reset();
        self.timeline = None;
        self.free_beat = 0.0;
        self.gain = db_to_gain(params.gain_db);
        self.timbre = timbre_target(params);
        let t = params.timbre.clamped();
        (self.wave_position, self.wave_scan) = (t.wave_position, t.wave_scan);
        self.loop_phase = 0.0;
        self.fade_left = 0;
        self.finish_wave_fade();
        self.needs_seek = true;
    }

    /// Installs a new score and hands back the previous one, which the caller must free off the
    /// audio thread. Sounding notes finish with their release; the new score takes over at once.
    pub fn swap_score(&mut self, score: Box<Score>) -> Option<Box<Score>> {
        self.needs_seek = true;
        self.level = score_level(&score);
        self.spectral.retune();
        self.score.replace(score)
    }

    /// The notes started and ended during the last `process` call, in order.
    pub fn note_events(&self) -> &[NoteOut] {
        self.notes_out.events()
    }

    /// Queues `score` to take over at the boundary `EngineParams::swap_at` names (at once if nothing
    /// is playing). Hands back a previously queued score that never got to play, for freeing off
    /// the audio thread.
    pub fn queue_score(&mut self, score: Box<Score>) -> Option<Box<Score>> {
        if self.score.is_none() {
            self.score = Some(score);
            self.needs_seek = true;
            self.spectral.retune();
            return None;
        }
        self.swap_beat = None;
        self.pending.replace(score)
    }

    /// The score replaced at a boundary during the last `process` call, to be freed elsewhere.
    pub fn take_retired(&mut self) -> Option<Box<Score>> {
        self.retired.take()
    }

    /// Retires the replaced score once its wave has faded out of the notes it left.
    fn finish_wave_fade(&mut self) {
        if self.fade_left == 0 && self.retired.is_none() {
            self.retired = self.fading.take();
        }
    }

    /// Gives a retired score back when it could not be handed on yet; it is offered again later.
    pub fn put_back_retired(&mut self, score: Box<Score>) {
        self.retired = Some(score);
    }

    /// Installs the pending score if the retired slot is free (nothing is ever freed here). Notes
    /// still sounding fade from the old score's wave to the new one's.
    fn install_pending(&mut self) -> bool {
        if self.retired.is_some() || self.fading.is_some() {
            return false;
        }
        match self.pending.take() {
            Some(next) => {
                self.fading = self.score.replace(next);
                self.fade_left = if self.voices.active() > 0 {
                    self.voices.begin_wave_fade();
                    (WAVE_FADE_SECONDS * self.sample_rate) as u32
                } else {
                    0
                };
                self.finish_wave_fade();
                self.spectral.retune();
                self.swap_beat = None;
                true
            }
            None => false,
        }
    }

    /// Finds the next note at or after sample `at` of the block, and starts the notes that
    /// should already be sounding there ("chase"), as if they had been playing all along (their
    /// attack starts now, so nothing clicks).
    fn seek_and_chase(
        &mut self,
        start: f64,
        beats_per_sample: f64,
        at: usize,
        env: &Envelope,
        params: &EngineParams,
    ) {
        let Some(score) = self.score.as_deref() else {
            self.cursor = Cursor::default();
            return;
        };
        let here = start + at as f64 * beats_per_sample;
        self.cursor = Cursor::seek(score, here, beats_per_sample);
        let len = score.length_beats;
        let lap = (here / len).floor();
        for l in [lap - 1.0, lap] {
            for n in &score.notes {
                let onset = l * len + n.start_beats;
                let end = onset + n.length_beats;
                let started = onset_offset(onset, start, beats_per_sample) < at as i64;
                // (Drums are one-shots: a hit that has passed is not struck late.)
                let sounding = started && onset_offset(end, start, beats_per_sample) > at as i64;
                if sounding && n.part != Part::Drums && params.part_on[n.part as usize] {
                    let release_at = onset_offset(end, start, beats_per_sample);
                    self.voices.note_on(
                        &transposed(n, params.transpose),
                        at as u32,
                        end,
                        release_at,
                        self.sample_rate,
                        env,
                        &mut self.notes_out,
                    );
                }
            }
        }
    }

    /// Samples until everything sounding now has died away (60 dB down) once no note starts: the
    /// longest release of a pitched part, or the drums' longest ring, then the delay's repeats
    /// and the reverb's decay. What the host is told after the transport stops.
    pub fn tail_samples(&self, params: &EngineParams) -> u32 {
        let t = params.timbre.clamped();
        let longest_part = [t.melody, t.harmony, t.bass]
            .iter()
            .map(|p| p.time_scale())
            .fold(0.0f32, f32::max);
        let release = t.release_ms * 0.001 * longest_part;
        let has_drums = self
            .score
            .as_deref()
            .is_some_and(|s| s.notes.iter().any(|n| n.part == Part::Drums));
        let drums = if has_drums && params.part_on[Part::Drums as usize] {
            drums::ring_seconds(t.kit_decay)
        } else {
            0.0
        };
        let fx = fx_target(params, self.last_tempo, self.sample_rate);
        let delay = if fx.delay_mix > 0.0 && fx.delay_feedback > 0.0 {
            // Repeats until the feedback has taken them 60 dB down, one delay time each.
            let repeats = (1e-3f32).ln() / fx.delay_feedback.max(1e-3).ln();
            (repeats.ceil() + 1.0) * fx.delay_samples / self.sample_rate
        } else {
            0.0
        };
        let reverb = if fx.reverb_mix > 0.0 {
            effects::decay_seconds(fx.reverb_size)
        } else {
            0.0
        };
        let seconds = release.max(drums) + delay + reverb;
        (seconds * self.sample_rate).ceil().min(u32::MAX as f32) as u32
    }

    /// Number of voices currently sounding (including releases).
    pub fn active_voices(&self) -> usize {
        self.voices.active() + self.drums.active()
    }

    /// Renders one block into `left`/`right` (overwritten), locked to `transport`.
    pub fn process(
        &mut self,
        transport: &TransportState,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = left.len().min(right.len());
        self.notes_out.clear();
        let sr = self.sample_rate;
        let timbre = params.timbre.clamped();
        let samples = |ms: f32| (ms * 0.001 * sr).max(1.0);
        let env = Envelope {
            attack: samples(timbre.attack_ms),
            decay: samples(timbre.decay_ms),
            sustain: timbre.sustain,
            release: samples(timbre.release_ms),
            part_scale: [timbre.melody, timbre.harmony, timbre.bass].map(|p| p.time_scale()),
        };

        if !transport.playing {
            if self.timeline.take().is_some() {
                self.voices.release_all(&mut self.notes_out);
                self.drums.release_all(&mut self.notes_out);
            }
            self.needs_seek = true;
            // Nothing is playing: a queued score takes over at once.
            self.install_pending();
            self.render(params, &mut left[..n], &mut right[..n], 0, None);
            return;
        }

        let tempo = tempo_bpm(transport.tempo_bpm, params.fallback_bpm);
        let beats_per_sample = tempo / 60.0 / f64::from(sr);
        let host = transport
            .pos_beats
            .filter(|p| p.is_finite() && p.abs() < 1e12);
        let own = self.timeline.map(|t| t.now());
        // A position that is not where the previous block ended, give or take the host's rounding
        // and drift, is a jump (locate, loop wrap, pre-roll): release what sounds and find our
        // place in the score again.
        let (start, how) = match (host, own) {
            (Some(h), Some(o)) => match classify(h, o, beats_per_sample) {
                HostPosition::Rounded => (o, HostPosition::Rounded),
                how => (h, how),
            },
            (None, Some(o)) => (o, HostPosition::Rounded),
            (Some(h), None) => (h, HostPosition::Jumped),
            (None, None) => (self.free_beat, HostPosition::Jumped),
        };
        match self.timeline {
            // Same timeline, same tempo: keep counting samples from the same anchor.
            Some(t) if how == HostPosition::Rounded && t.beats_per_sample == beats_per_sample => {}
            _ => {
                self.timeline = Some(Timeline {
                    anchor: start,
                    beats_per_sample,
                    samples: 0,
                })
            }
        }
        if how == HostPosition::Jumped {
            if own.is_some() {
                self.voices.release_all(&mut self.notes_out);
                self.drums.release_all(&mut self.notes_out);
            }
            self.needs_seek = true;
        }
        if params.swap_at == SwapAt::Immediately || self.needs_seek {
            // A jump or a fresh start is a boundary too.
            if self.install_pending() {
                self.needs_seek = true;
            }
        }
        if self.needs_seek {
            self.needs_seek = false;
            self.seek_and_chase(start, beats_per_sample, 0, &env, params);
        }
        self.voices.schedule_releases(start, beats_per_sample, n);
        self.drums.schedule_releases(start, beats_per_sample, n);
        if self.pending.is_some() && self.swap_beat.is_none() {
            let bar = transport
                .beats_per_bar
                .filter(|b| b.is_finite() && *b > 0.0 && *b <= 64.0)
                .unwrap_or(BEATS_PER_BAR);
            let unit = match params.swap_at {
                SwapAt::NextBar => bar,
                _ => 1.0,
            };
            self.swap_beat = Some((start / unit).ceil() * unit);
        }

        let clock = Clock {
            start,
            beats_per_sample,
        };
        let mut swap_offset = match (&self.pending, self.swap_beat) {
            (Some(_), Some(beat)) => {
                Some(onset_offset(beat, start, beats_per_sample).max(0) as usize)
            }
            _ => None,
        };
        let mut i = 0;
        while i < n {
            let next_note = match self.score.as_deref() {
                Some(score) => self
                    .cursor
                    .next_offset(score, start, beats_per_sample)
                    .unwrap_or(n),
                None => n,
            };
            let next_swap = swap_offset.unwrap_or(n);
            let seg_end = next_note.min(next_swap).clamp(i, n);
            self.render(
                params,
                &mut left[i..seg_end],
                &mut right[i..seg_end],
                i,
                Some(clock),
            );
            i = seg_end;
            if i >= n {
                break;
            }
            // The new score takes over here; what the old one started finishes with its release.
            if next_swap <= i {
                // Tried once per block: if the retired slot is still taken, the next block retries.
                swap_offset = None;
                if self.install_pending() {
                    self.seek_and_chase(start, beats_per_sample, i, &env, params);
                }
            }
            let Some(score) = self.score.as_deref() else {
                break;
            };
            // Every onset that falls on sample `i` starts now.
            while let Some(offset) = self.cursor.next_offset(score, start, beats_per_sample) {
                if offset > i {
                    break;
                }
                let (note, onset_beat) = self.cursor.current(score);
                let end_beat = onset_beat + note.length_beats;
                let release_at = onset_offset(end_beat, start, beats_per_sample);
                if !params.part_on[note.part as usize] {
                    // A part switched off: neither sound nor MIDI.
                } else if note.part == Part::Drums {
                    self.drums.hit(
                        &note,
                        i as u32,
                        end_beat,
                        release_at,
                        timbre.kit_tune,
                        timbre.kit_decay,
                        &mut self.notes_out,
                    );
                } else {
                    self.voices.note_on(
                        &transposed(&note, params.transpose),
                        i as u32,
                        end_beat,
                        release_at,
                        sr,
                        &env,
                        &mut self.notes_out,
                    );
                }
                self.cursor.advance(score);
            }
        }

        if let Some(t) = self.timeline.as_mut() {
            t.samples += n as u64;
            self.free_beat = t.now();
        }
    }

    /// Renders voices (and a spectral score's bank) into a segment; `base` is the segment's offset
    /// within the block, used for the voices' scheduled releases and the loop position.
    fn render(
        &mut self,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
        base: usize,
        clock: Option<Clock>,
    ) {
        let gain_target = db_to_gain(params.gain_db.clamp(-100.0, 24.0));
        // The score's own level (its loudness made even, `Score::level_db`): set when a score is
        // installed directly, glided when one takes over while playing.
        let level_target = self.score.as_deref().map_or(1.0, score_level);
        let part_targets = params.part_db.map(part_gain);
        if let Some(c) = clock {
            self.last_tempo = c.beats_per_sample * 60.0 * f64::from(self.sample_rate);
        }
        let fx = fx_target(params, self.last_tempo, self.sample_rate);
        let target = timbre_target(params);
        let k = self.smoothing_coeff;
        let sr = self.sample_rate;
        let fade = 1.0 / (params.timbre.clamped().release_ms * 0.001 * sr);
        let score = self.score.as_deref();
        let spectrum = score.and_then(|s| s.spectrum.as_ref());
        let length = score.map_or(1.0, |s| s.length_beats);
        let table = score.and_then(|s| s.wave.as_ref()).map(|w| w.table());
        // A piece whose sections sound different: each sample's section sound, from its position.
        let sections = score
            .map(|s| s.sections.as_slice())
            .filter(|x| x.len() > 1 && x.iter().any(|x| x.sound != SectionSound::default()));
        let old_table = self
            .fading
            .as_deref()
            .and_then(|s| s.wave.as_ref())
            .map(|w| w.table());
        let fade_step = 1.0 / (WAVE_FADE_SECONDS * sr);
        let patch = params.timbre.clamped();
        // The parts' sounds and the wave position rarely move: once they have landed on their
        // targets (`glide` lands exactly), a block skips their smoothing.
        let parts_settled = self.timbre.tone_oct == target.tone_oct
            && self.timbre.picture == target.picture
            && self.wave_position == patch.wave_position
            && self.wave_scan == patch.wave_scan;
        // The sample index on the host timeline, so positions do not depend on block boundaries.
        let origin = clock.map(|c| (c.start / c.beats_per_sample).round());
        // The spectral bank renders a chunk at a time (its partials stay in registers across
        // samples); the voices and the mix go sample by sample.
        let (mut spectral_l, mut spectral_r) = ([0.0f32; SPECTRAL_CHUNK], [0.0f32; SPECTRAL_CHUNK]);
        let chunks = left
            .chunks_mut(SPECTRAL_CHUNK)
            .zip(right.chunks_mut(SPECTRAL_CHUNK));
        for (c, (left, right)) in chunks.enumerate() {
            let first = base + c * SPECTRAL_CHUNK;
            let m = left.len();
            if let Some(sp) = spectrum {
                let mut positions = [None; SPECTRAL_CHUNK];
                if let (Some(c), Some(o)) = (clock, origin) {
                    for (j, p) in positions[..m].iter_mut().enumerate() {
                        *p = Some((o + (first + j) as f64) * c.beats_per_sample / length);
                    }
                }
                self.spectral.render(
                    sp,
                    &positions[..m],
                    sr,
                    fade,
                    &mut spectral_l[..m],
                    &mut spectral_r[..m],
                );
            }
            for (j, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
                self.gain += (gain_target - self.gain) * k;
                glide(&mut self.level, level_target, k);
                for (g, target) in self.part_gain.iter_mut().zip(part_targets) {
                    glide(g, target, k);
                }
                if let (Some(sections), Some(c), Some(o)) = (sections, clock, origin) {
                    let phase = (o + (first + j) as f64) * c.beats_per_sample / length;
                    self.section_sound = section_sound(sections, phase, length);
                }
                let (brightness, cutoff_log2) = if sections.is_some() {
                    let s = self.section_sound;
                    (
                        (target.brightness + s.brightness).clamp(0.0, 1.0),
                        (target.cutoff_log2 + s.cutoff_oct).clamp(MIN_CUTOFF_LOG2, MAX_CUTOFF_LOG2),
                    )
                } else {
                    (target.brightness, target.cutoff_log2)
                };
                let t = &mut self.timbre;
                t.brightness += (brightness - t.brightness) * k;
                t.cutoff_log2 += (cutoff_log2 - t.cutoff_log2) * k;
                t.resonance += (target.resonance - t.resonance) * k;
                t.filter_env_oct += (target.filter_env_oct - t.filter_env_oct) * k;
                t.noise += (target.noise - t.noise) * k;
                t.width += (target.width - t.width) * k;
                t.detune_cents += (target.detune_cents - t.detune_cents) * k;
                if !parts_settled {
                    for p in 0..3 {
                        glide(&mut t.tone_oct[p], target.tone_oct[p], k);
                        glide(&mut t.picture[p], target.picture[p], k);
                    }
                    glide(&mut self.wave_position, patch.wave_position, k);
                    glide(&mut self.wave_scan, patch.wave_scan, k);
                }
                // The scan follows the loop (and holds where it is while the transport stops).
                let position = if table.is_some() && self.wave_scan > 0.0 {
                    if let (Some(c), Some(o)) = (clock, origin) {
                        self.loop_phase = (o + (first + j) as f64) * c.beats_per_sample / length;
                    }
                    scanned_position(self.wave_position, self.wave_scan, self.loop_phase)
                } else {
                    self.wave_position
                };
                self.fade_left = self.fade_left.saturating_sub(1);
                let waves = Waves {
                    table,
                    old: old_table,
                    position,
                    fade_step,
                };
                let index = (first + j) as i64;
                let (mut vl, mut vr) =
                    self.voices
                        .tick(index, t, &self.part_gain, sr, &waves, &mut self.notes_out);
                let (dl, dr) = self.drums.tick(
                    index,
                    self.part_gain[Part::Drums as usize],
                    &mut self.notes_out,
                );
                vl += dl;
                vr += dr;
                if spectrum.is_some() {
                    vl += spectral_l[j];
                    vr += spectral_r[j];
                }
                let f = &mut self.fx;
                f.delay_samples = fx.delay_samples;
                f.delay_feedback += (fx.delay_feedback - f.delay_feedback) * k;
                f.reverb_size += (fx.reverb_size - f.reverb_size) * k;
                f.reverb_damping += (fx.reverb_damping - f.reverb_damping) * k;
                glide(&mut f.delay_mix, fx.delay_mix, k);
                glide(&mut f.reverb_mix, fx.reverb_mix, k);
                let (wl, wr) = self.effects.tick(vl, vr, f);
                let g = self.gain * self.level;
                let (ol, or) = self.effects.limit(wl * g, wr * g);
                *l = ol;
                *r = or;
            }
        }
        self.voices.flush_denormals();
        self.drums.flush_denormals();
        self.effects.flush_denormals(&self.fx);
        self.finish_wave_fade();
    }
}
