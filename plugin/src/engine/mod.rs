//! The real-time engine: plays a [`Score`] in time with a transport. Driven by plain calls so the
//! plugin, the command-line renderer and the tests share it. `process` runs on the audio thread:
//! it never allocates, frees, locks or blocks; everything it needs is built in [`Engine::new`].

mod drums;
pub mod effects;
mod filter;
mod loudness;
mod midi_out;
mod offline;
mod oscillator;
mod params;
mod sections;
mod sequencer;
#[cfg(test)]
mod sound_tests;
mod spectral;
#[cfg(test)]
mod tests;
mod transport;
mod voice;

pub use loudness::predicted_lufs;
pub use midi_out::{NoteOut, NoteSink, MAX_NOTE_EVENTS};
pub use params::{db_to_gain, EngineParams, SwapAt};
pub use transport::{tempo_bpm, TransportState};

pub use offline::{
    fold_tail, render_offline, render_with_tail, OfflineRender, Tail, MAX_TAIL_SECONDS,
};
pub use sequencer::{onset_offset, ONSET_TOLERANCE_SAMPLES};

use crate::score::{Note, Part, Score, BEATS_PER_BAR};
use drums::DrumKit;
use effects::{Effects, FxParams};
use params::{fx_target, score_level, Smoothed, Targets};
use sequencer::Cursor;
use spectral::{SpectralBank, CHUNK as SPECTRAL_CHUNK};
use transport::{locate, Clock, HostPosition, Timeline};
use voice::{Envelope, PictureWaves, VoiceControl, VoicePool, CHUNK as VOICE_CHUNK, MAX_VOICES};

// The spectral bank's chunks and the voices' are one.
const _: () = assert!(SPECTRAL_CHUNK == VOICE_CHUNK);

/// Tempo used when the host does not report one (DawDreamer's first blocks, some bounce paths).
pub const DEFAULT_BPM: f64 = 120.0;
/// Time constant of the per-sample parameter smoothing.
const SMOOTHING_SECONDS: f32 = 0.01;
/// How long notes sounding when a new score takes over take to move from the old score's
/// picture wave to the new one's (the old score is kept, then handed back, after it).
const WAVE_FADE_SECONDS: f32 = 0.02;

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

pub struct Engine {
    sample_rate: f32,
    score: Option<Box<Score>>,
    cursor: Cursor,
    voices: VoicePool,
    drums: DrumKit,
    effects: Effects,
    /// The tempo of the last block played (the delay keeps its time when the transport stops).
    last_tempo: f64,
    spectral: SpectralBank,
    notes_out: NoteSink,
    /// What the voices and the mix read at each sample of a chunk (filled anew each chunk).
    controls: Box<[VoiceControl; VOICE_CHUNK]>,
    fx: Box<[FxParams; VOICE_CHUNK]>,
    gain: [f32; VOICE_CHUNK],
    /// Our own clock: where the host's next block should start if it keeps playing; `None`
    /// forces a re-seek.
    timeline: Option<Timeline>,
    /// Our own position when the host plays without reporting one.
    free_beat: f64,
    /// The sound's settings as they are now, gliding towards the parameters.
    now: Smoothed,
    smoothing_coeff: f32,
    /// Whether the last block was silent (every sample below [`SILENT_PEAK`]): with no voice
    /// sounding either, the next block starts with the sound settled on the parameters instead
    /// of gliding to them (a picture's sound that arrived while the host was not processing is
    /// in place from the first note).
    silent: bool,
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
    /// Whether the CPU runs AVX (asked once, here, not on the audio thread).
    #[cfg(target_arch = "x86_64")]
    avx: bool,
}

/// A block whose every sample stays below this (-120 dB) is silent.
const SILENT_PEAK: f32 = 1e-6;

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
            last_tempo: DEFAULT_BPM,
            spectral: SpectralBank::new(),
            notes_out: NoteSink::with_capacity(MAX_NOTE_EVENTS),
            controls: Box::new([VoiceControl::SILENT; VOICE_CHUNK]),
            fx: Box::new([FxParams::DRY; VOICE_CHUNK]),
            gain: [0.0; VOICE_CHUNK],
            timeline: None,
            free_beat: 0.0,
            now: Smoothed::at(&defaults, FxParams::DRY, 1.0),
            smoothing_coeff: 1.0 - (-1.0 / (SMOOTHING_SECONDS * sample_rate)).exp(),
            silent: true,
            needs_seek: true,
            pending: None,
            swap_beat: None,
            retired: None,
            fading: None,
            fade_left: 0,
            #[cfg(target_arch = "x86_64")]
            avx: std::arch::is_x86_feature_detected!("avx"),
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
        self.effects.reset();
        self.now = Smoothed::at(
            params,
            fx_target(params, DEFAULT_BPM, self.sample_rate),
            self.score.as_deref().map_or(1.0, score_level),
        );
        self.spectral.reset();
        self.timeline = None;
        self.free_beat = 0.0;
        self.fade_left = 0;
        self.finish_wave_fade();
        self.needs_seek = true;
    }

    /// Installs a new score and hands back the previous one, which the caller must free off the
    /// audio thread. Sounding notes finish with their release; the new score takes over at once.
    /// The score's wave table must be built ([`Score::build_wave`]): the engine never builds one,
    /// and a wave without it plays as the analog wave.
    pub fn swap_score(&mut self, score: Box<Score>) -> Option<Box<Score>> {
        debug_assert!(
            wave_built(&score),
            "a score reached the engine with its wave unbuilt"
        );
        self.needs_seek = true;
        self.now.level = score_level(&score);
        self.spectral.retune();
        self.score.replace(score)
    }

    /// The notes started and ended during the last `process` call, in order.
    pub fn note_events(&self) -> &[NoteOut] {
        self.notes_out.events()
    }

    /// Queues `score` to take over at the boundary `EngineParams::swap_at` names (at once if nothing
    /// is playing), its wave table built as for [`Engine::swap_score`]. Hands back a previously
    /// queued score that never got to play, for freeing off the audio thread.
    pub fn queue_score(&mut self, score: Box<Score>) -> Option<Box<Score>> {
        debug_assert!(
            wave_built(&score),
            "a score reached the engine with its wave unbuilt"
        );
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

    /// Renders one block into `left`/`right` (overwritten), locked to `transport`: finds where
    /// the block starts on the host's timeline, then renders from note onset to note onset (and
    /// to a queued score's swap), starting each note on its sample.
    pub fn process(
        &mut self,
        transport: &TransportState,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = left.len().min(right.len());
        // Nothing sounds: settle on the parameters (no glide is heard when there is nothing to
        // hear, and what starts next starts as the parameters say).
        if self.silent && self.voices.active() == 0 && self.drums.active() == 0 {
            self.settle(params);
        }
        self.process_block(transport, params, &mut left[..n], &mut right[..n]);
        self.silent = left[..n]
            .iter()
            .chain(&right[..n])
            .all(|x| x.abs() < SILENT_PEAK);
    }

    /// The sound's settings settled on `params` where they would glide (the loop's phase and a
    /// piece's section sound kept).
    fn settle(&mut self, params: &EngineParams) {
        let settled = Smoothed::at(
            params,
            fx_target(params, self.last_tempo, self.sample_rate),
            self.score.as_deref().map_or(1.0, score_level),
        );
        self.now = Smoothed {
            loop_phase: self.now.loop_phase,
            section_sound: self.now.section_sound,
            ..settled
        };
    }

    /// [`Engine::process`]'s block, once the sound is settled where nothing sounds.
    fn process_block(
        &mut self,
        transport: &TransportState,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = left.len().min(right.len());
        self.notes_out.clear();
        let env = self.envelope(params);
        if !transport.playing {
            self.stopped(params, &mut left[..n], &mut right[..n]);
            return;
        }
        let clock = self.follow_transport(transport, params, &env, n);
        let Clock {
            start,
            beats_per_sample,
        } = clock;
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
            if self.score.is_none() {
                break;
            }
            self.start_onsets(i, clock, params, &env);
        }
        if let Some(t) = self.timeline.as_mut() {
            t.samples += n as u64;
            self.free_beat = t.now();
        }
    }

    /// The note envelope the parameters ask for, in samples.
    fn envelope(&self, params: &EngineParams) -> Envelope {
        let timbre = params.timbre.clamped();
        let samples = |ms: f32| (ms * 0.001 * self.sample_rate).max(1.0);
        Envelope {
            attack: samples(timbre.attack_ms),
            decay: samples(timbre.decay_ms),
            sustain: timbre.sustain,
            release: samples(timbre.release_ms),
            part_scale: [timbre.melody, timbre.harmony, timbre.bass].map(|p| p.time_scale()),
        }
    }

    /// A block while the transport is stopped: what sounded is released and rings out; a queued
    /// score takes over at once.
    fn stopped(&mut self, params: &EngineParams, left: &mut [f32], right: &mut [f32]) {
        if self.timeline.take().is_some() {
            self.voices.release_all(&mut self.notes_out);
            self.drums.release_all(&mut self.notes_out);
        }
        self.needs_seek = true;
        self.install_pending();
        self.render(params, left, right, 0, None);
    }

    /// Where this block of `n` samples starts on the host's timeline. A jump releases what sounds
    /// and finds the place in the score again (installing a queued score, a jump being a
    /// boundary too); the notes' releases within the block are scheduled and a queued score's
    /// swap beat set.
    fn follow_transport(
        &mut self,
        transport: &TransportState,
        params: &EngineParams,
        env: &Envelope,
        n: usize,
    ) -> Clock {
        let tempo = tempo_bpm(transport.tempo_bpm, params.fallback_bpm);
        let beats_per_sample = tempo / 60.0 / f64::from(self.sample_rate);
        let own = self.timeline.map(|t| t.now());
        let (start, how) = locate(transport.pos_beats, own, self.free_beat, beats_per_sample);
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
        if (params.swap_at == SwapAt::Immediately || self.needs_seek) && self.install_pending() {
            self.needs_seek = true;
        }
        if self.needs_seek {
            self.needs_seek = false;
            self.seek_and_chase(start, beats_per_sample, 0, env, params);
        }
        self.voices.schedule_releases(start, beats_per_sample, n);
        self.drums.schedule_releases(start, beats_per_sample, n);
        if self.pending.is_some() && self.swap_beat.is_none() {
            let bar = transport
                .beats_per_bar
                .filter(|b| b.is_finite() && *b > 0.0 && *b <= 64.0)
                .unwrap_or_else(|| {
                    // (A host that names no meter: the bars of the score that plays, or 4/4.)
                    self.score().map_or(BEATS_PER_BAR, |s| s.meter.bar_beats())
                });
            let unit = match params.swap_at {
                SwapAt::NextBar => bar,
                _ => 1.0,
            };
            self.swap_beat = Some((start / unit).ceil() * unit);
        }
        Clock {
            start,
            beats_per_sample,
        }
    }

    /// Starts every note whose onset falls on sample `i` of the block (a part switched off plays
    /// neither sound nor MIDI).
    fn start_onsets(&mut self, i: usize, clock: Clock, params: &EngineParams, env: &Envelope) {
        let Some(score) = self.score.as_deref() else {
            return;
        };
        let Clock {
            start,
            beats_per_sample,
        } = clock;
        let timbre = params.timbre.clamped();
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
                    self.sample_rate,
                    env,
                    &mut self.notes_out,
                );
            }
            self.cursor.advance(score);
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
        #[cfg(target_arch = "x86_64")]
        if self.avx {
            // SAFETY: `avx` is true only on a CPU that has AVX.
            return unsafe { self.render_avx(params, left, right, base, clock) };
        }
        self.render_with(params, left, right, base, clock);
    }

    /// [`Engine::render`] compiled for AVX: the same operations (no fused multiply-adds), in
    /// three-operand instructions, the vector selects as blends.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn render_avx(
        &mut self,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
        base: usize,
        clock: Option<Clock>,
    ) {
        self.render_with(params, left, right, base, clock);
    }

    #[inline(always)]
    fn render_with(
        &mut self,
        params: &EngineParams,
        left: &mut [f32],
        right: &mut [f32],
        base: usize,
        clock: Option<Clock>,
    ) {
        if let Some(c) = clock {
            self.last_tempo = c.beats_per_sample * 60.0 * f64::from(self.sample_rate);
        }
        let sr = self.sample_rate;
        let fade = 1.0 / (params.timbre.clamped().release_ms * 0.001 * sr);
        let score = self.score.as_deref();
        let targets = Targets::new(
            params,
            score,
            fx_target(params, self.last_tempo, sr),
            &self.now,
            self.smoothing_coeff,
        );
        let spectrum = score.and_then(|s| s.spectrum.as_ref());
        let length = score.map_or(1.0, |s| s.length_beats);
        // (Tables are built before a score reaches the audio thread; one that is not plays the
        // analog wave rather than be built here.)
        let table = score
            .and_then(|s| s.wave.as_ref())
            .and_then(|w| w.built_table());
        let old_table = self
            .fading
            .as_deref()
            .and_then(|s| s.wave.as_ref())
            .and_then(|w| w.built_table());
        let fade_step = 1.0 / (WAVE_FADE_SECONDS * sr);
        // The sample index on the host timeline, so positions do not depend on block boundaries.
        let origin = clock.map(|c| (c.start / c.beats_per_sample).round());
        let phase = |at: usize| {
            clock
                .zip(origin)
                .map(|(c, o)| (o + at as f64) * c.beats_per_sample / length)
        };
        // Everything renders a chunk at a time (each part's state stays in registers across
        // samples); only the controls' glides and the limiter go sample by sample.
        let (mut spectral_l, mut spectral_r) = ([0.0f32; SPECTRAL_CHUNK], [0.0f32; SPECTRAL_CHUNK]);
        let chunks = left
            .chunks_mut(SPECTRAL_CHUNK)
            .zip(right.chunks_mut(SPECTRAL_CHUNK));
        for (c, (left, right)) in chunks.enumerate() {
            let first = base + c * SPECTRAL_CHUNK;
            let m = left.len();
            if let Some(sp) = spectrum {
                let mut positions = [None; SPECTRAL_CHUNK];
                for (j, p) in positions[..m].iter_mut().enumerate() {
                    *p = phase(first + j);
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
            // The controls glide sample by sample; the voices then render the chunk group by
            // group and the kit hit by hit, the effects take the chunk and the limiter goes
            // sample by sample.
            let (controls, fx, gain) = (&mut *self.controls, &mut *self.fx, &mut self.gain);
            let mut kit_gain = [0.0; VOICE_CHUNK];
            for j in 0..m {
                let position = self
                    .now
                    .step(&targets, || phase(first + j), table.is_some());
                self.fade_left = self.fade_left.saturating_sub(1);
                let now = &self.now;
                controls[j] = VoiceControl {
                    sound: now.timbre,
                    part_gain: now.part_gain,
                    position,
                };
                fx[j] = now.fx;
                gain[j] = now.gain * now.level;
                kit_gain[j] = now.part_gain[Part::Drums as usize];
            }
            let waves = PictureWaves {
                table,
                old: old_table,
                fade_step,
            };
            let mark = self.notes_out.len();
            self.voices.render(
                first as i64,
                &controls[..m],
                // (Settings at rest glide nowhere: every sample's sound is the same.)
                targets.settled,
                sr,
                &waves,
                left,
                right,
                &mut self.notes_out,
            );
            let (mut kit_l, mut kit_r) = ([0.0; VOICE_CHUNK], [0.0; VOICE_CHUNK]);
            self.drums.render(
                first as i64,
                &kit_gain[..m],
                &mut kit_l,
                &mut kit_r,
                &mut self.notes_out,
            );
            for (j, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
                (*l, *r) = (*l + kit_l[j], *r + kit_r[j]);
                if spectrum.is_some() {
                    *l += spectral_l[j];
                    *r += spectral_r[j];
                }
            }
            self.effects.process(left, right, &fx[..m]);
            for ((l, r), g) in left.iter_mut().zip(right.iter_mut()).zip(&gain[..m]) {
                let (ol, or) = self.effects.limit(*l * g, *r * g);
                // The host never gets a denormal (its own effects would crawl on them): a quiet
                // tail under a gain gliding to silence can reach that range inside a block,
                // before the end-of-block flush of the states.
                (*l, *r) = (flush_denormal(ol), flush_denormal(or));
            }
            // The voices' note-offs and the drums' in time order, as a sample at a time makes them.
            self.notes_out.sort_from(mark);
        }
        self.voices.flush_denormals();
        self.drums.flush_denormals();
        self.effects.flush_denormals(&self.now.fx);
        self.finish_wave_fade();
    }
}

/// Whether `score` has no wave or its wave's table is built (what the engine may be handed).
fn wave_built(score: &Score) -> bool {
    score
        .wave
        .as_ref()
        .is_none_or(|w| w.built_table().is_some())
}

/// `x`, or 0 where it is denormal.
#[inline(always)]
fn flush_denormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}
