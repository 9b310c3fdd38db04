//! What the engine is told to play with: the parameter values as the musician set them
//! ([`EngineParams`], read once per block), the targets they make ([`Targets`], once per
//! segment) and the sound as it is now ([`Smoothed`]), gliding towards them sample by sample.

use super::effects::FxParams;
use super::sections::{scanned_position, section_sound, MAX_CUTOFF_LOG2, MIN_CUTOFF_LOG2};
use super::voice::VoiceSound;
use super::DEFAULT_BPM;
use crate::score::{Patch, Score, Section, SectionSound};

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

/// The effects' settings the parameters ask for at `tempo`.
pub(super) fn fx_target(p: &EngineParams, tempo: f64, sample_rate: f32) -> FxParams {
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

/// `value` one smoothing step towards `target`, landing on it exactly once within 1e-6 or once a
/// step no longer moves it: levels gliding to silence would otherwise end in denormals, a dry mix
/// would never be dry, and a gain near 1 with a small `k` would stall short of its target (its
/// step below the float's resolution: a new score's level stuck 2e-5 off, heard as the plug-in
/// not matching the command line's render).
#[inline(always)]
pub(super) fn glide(value: &mut f32, target: f32, k: f32) {
    let before = *value;
    *value += (target - *value) * k;
    if (target - *value).abs() < 1e-6 || *value == before {
        *value = target;
    }
}

/// A score's level (`Score::level_db`) as a gain.
pub(super) fn score_level(score: &Score) -> f32 {
    if score.level_db.is_finite() {
        db_to_gain(score.level_db.clamp(-24.0, 24.0))
    } else {
        1.0
    }
}

/// A part's level as a gain: 0 at -60 dB and below.
pub(super) fn part_gain(db: f32) -> f32 {
    if db.is_finite() && db > -60.0 {
        db_to_gain(db.min(12.0))
    } else {
        0.0
    }
}

/// The timbre the parameters ask for, in the engine's smoothing domain (the parameters' ranges
/// come from the timbre table, `score::TIMBRE`).
pub(super) fn timbre_target(p: &EngineParams) -> VoiceSound {
    let t = p.timbre.clamped();
    VoiceSound {
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

pub fn db_to_gain(db: f32) -> f32 {
    if db <= -100.0 {
        0.0
    } else {
        10f32.powf(db / 20.0)
    }
}

/// The sound's settings as they are now, each gliding per sample towards its target.
#[derive(Clone, Copy, Debug)]
pub(super) struct Smoothed {
    pub gain: f32,
    /// The score's level as a gain.
    pub level: f32,
    /// Each part's gain, gliding towards its Level.
    pub part_gain: [f32; 4],
    pub timbre: VoiceSound,
    /// The effects' settings.
    pub fx: FxParams,
    /// The wave position and scan, and where in the loop the scan stands (kept when the
    /// transport stops).
    pub wave_position: f32,
    pub wave_scan: f32,
    pub loop_phase: f64,
    /// A piece's section sound where the playhead is (held while the transport stops).
    pub section_sound: SectionSound,
}

impl Smoothed {
    /// Settled on what `params` ask for, with the effects at `fx` and the score at `level`.
    pub fn at(params: &EngineParams, fx: FxParams, level: f32) -> Self {
        let t = params.timbre.clamped();
        Smoothed {
            gain: db_to_gain(params.gain_db),
            level,
            part_gain: params.part_db.map(part_gain),
            timbre: timbre_target(params),
            fx,
            wave_position: t.wave_position,
            wave_scan: t.wave_scan,
            loop_phase: 0.0,
            section_sound: SectionSound::default(),
        }
    }

    /// One sample's step towards `t`; `phase` gives the loop phase at this sample while the
    /// transport plays, `scanning` says whether a picture wave is there to scan. Returns the wave
    /// position to play.
    #[inline(always)]
    pub fn step(&mut self, t: &Targets, phase: impl Fn() -> Option<f64>, scanning: bool) -> f32 {
        // (The phase is worked out only where it is read: a piece's sections, a scan.)
        if !t.settled {
            self.glide(t, if t.sections.is_some() { phase() } else { None });
        }
        // The scan follows the loop (and holds where it is while the transport stops).
        if scanning && self.wave_scan > 0.0 {
            if let Some(phase) = phase() {
                self.loop_phase = phase;
            }
            scanned_position(self.wave_position, self.wave_scan, self.loop_phase)
        } else {
            self.wave_position
        }
    }

    /// Every setting one smoothing step towards `t` (`phase`: where a piece's sections are read).
    #[inline(always)]
    fn glide(&mut self, t: &Targets, phase: Option<f64>) {
        let k = t.k;
        self.gain += (t.gain - self.gain) * k;
        glide(&mut self.level, t.level, k);
        for (g, target) in self.part_gain.iter_mut().zip(t.parts) {
            glide(g, target, k);
        }
        if let (Some(sections), Some(phase)) = (t.sections, phase) {
            self.section_sound = section_sound(sections, phase, t.length);
        }
        let (brightness, cutoff_log2) = if t.sections.is_some() {
            let s = self.section_sound;
            (
                (t.timbre.brightness + s.brightness).clamp(0.0, 1.0),
                (t.timbre.cutoff_log2 + s.cutoff_oct).clamp(MIN_CUTOFF_LOG2, MAX_CUTOFF_LOG2),
            )
        } else {
            (t.timbre.brightness, t.timbre.cutoff_log2)
        };
        let (target, now) = (&t.timbre, &mut self.timbre);
        now.brightness += (brightness - now.brightness) * k;
        now.cutoff_log2 += (cutoff_log2 - now.cutoff_log2) * k;
        now.resonance += (target.resonance - now.resonance) * k;
        now.filter_env_oct += (target.filter_env_oct - now.filter_env_oct) * k;
        now.noise += (target.noise - now.noise) * k;
        now.width += (target.width - now.width) * k;
        now.detune_cents += (target.detune_cents - now.detune_cents) * k;
        if !t.parts_settled {
            for p in 0..3 {
                glide(&mut now.tone_oct[p], target.tone_oct[p], k);
                glide(&mut now.picture[p], target.picture[p], k);
            }
            glide(&mut self.wave_position, t.wave_position, k);
            glide(&mut self.wave_scan, t.wave_scan, k);
        }
        let f = &mut self.fx;
        f.delay_samples = t.fx.delay_samples;
        f.delay_feedback += (t.fx.delay_feedback - f.delay_feedback) * k;
        f.reverb_size += (t.fx.reverb_size - f.reverb_size) * k;
        f.reverb_damping += (t.fx.reverb_damping - f.reverb_damping) * k;
        glide(&mut f.delay_mix, t.fx.delay_mix, k);
        glide(&mut f.reverb_mix, t.fx.reverb_mix, k);
    }

    /// Every value [`Smoothed::glide`] moves, as bits (a glide that lands on `-0.0` from `+0.0`
    /// moved it). A value `glide` moves must be listed here: one left out would be skipped at
    /// rest while it still moves.
    fn glided_bits(&self) -> [u32; 27] {
        let (v, f) = (&self.timbre, &self.fx);
        [
            self.gain,
            self.level,
            self.part_gain[0],
            self.part_gain[1],
            self.part_gain[2],
            self.part_gain[3],
            v.brightness,
            v.cutoff_log2,
            v.resonance,
            v.filter_env_oct,
            v.noise,
            v.width,
            v.detune_cents,
            v.tone_oct[0],
            v.tone_oct[1],
            v.tone_oct[2],
            v.picture[0],
            v.picture[1],
            v.picture[2],
            self.wave_position,
            self.wave_scan,
            f.delay_samples,
            f.delay_feedback,
            f.delay_mix,
            f.reverb_size,
            f.reverb_damping,
            f.reverb_mix,
        ]
        .map(f32::to_bits)
    }
}

/// What a segment's samples glide towards, worked out once per segment.
pub(super) struct Targets<'a> {
    pub gain: f32,
    pub level: f32,
    pub parts: [f32; 4],
    pub timbre: VoiceSound,
    pub fx: FxParams,
    pub wave_position: f32,
    pub wave_scan: f32,
    /// The parts' sounds and the wave position rarely move: once they have landed on their
    /// targets (`glide` lands exactly), a segment skips their smoothing.
    pub parts_settled: bool,
    /// Whether every setting has come to rest on these targets: a step of the glides leaves
    /// every value as it is (to the bit), so the segment skips them (a piece whose sections
    /// sound different never rests: its section sound moves with the playhead).
    pub settled: bool,
    /// A piece whose sections sound different: each sample's section sound, from its position.
    pub sections: Option<&'a [Section]>,
    /// The score's length in beats.
    pub length: f64,
    /// The smoothing coefficient per sample.
    pub k: f32,
}

impl<'a> Targets<'a> {
    pub fn new(
        params: &EngineParams,
        score: Option<&'a Score>,
        fx: FxParams,
        now: &Smoothed,
        k: f32,
    ) -> Self {
        let timbre = timbre_target(params);
        let patch = params.timbre.clamped();
        let mut targets = Targets {
            gain: db_to_gain(params.gain_db.clamp(-100.0, 24.0)),
            // The score's own level (its loudness made even, `Score::level_db`): set when a
            // score is installed directly, glided when one takes over while playing.
            level: score.map_or(1.0, score_level),
            parts: params.part_db.map(part_gain),
            parts_settled: now.timbre.tone_oct == timbre.tone_oct
                && now.timbre.picture == timbre.picture
                && now.wave_position == patch.wave_position
                && now.wave_scan == patch.wave_scan,
            timbre,
            fx,
            wave_position: patch.wave_position,
            wave_scan: patch.wave_scan,
            sections: score
                .map(|s| s.sections.as_slice())
                .filter(|x| x.len() > 1 && x.iter().any(|x| x.sound != SectionSound::default())),
            length: score.map_or(1.0, |s| s.length_beats),
            k,
            settled: false,
        };
        // A glide's step depends only on the value, its target and `k`: a step that moves
        // nothing moves nothing on any later sample of the segment either.
        let mut stepped = *now;
        stepped.glide(&targets, None);
        targets.settled = targets.sections.is_none() && stepped.glided_bits() == now.glided_bits();
        targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_at_rest_skip_their_glides_only_when_a_step_would_move_nothing() {
        let params = EngineParams::default();
        let fx = fx_target(&params, 120.0, 48_000.0);
        let at_rest = Smoothed::at(&params, fx, 1.0);
        let targets = |now: &Smoothed| Targets::new(&params, None, fx, now, 0.01).settled;
        assert!(targets(&at_rest));
        let mut moving = at_rest;
        moving.timbre.brightness += 0.1;
        assert!(!targets(&moving));
        // A step would turn -0.0 into +0.0: not at rest, to the bit.
        let mut signed = at_rest;
        assert_eq!(signed.timbre.noise, 0.0);
        signed.timbre.noise = -0.0;
        assert!(!targets(&signed));
        // Skipping a settled segment's glides leaves every value where stepping leaves it.
        let t = Targets::new(&params, None, fx, &at_rest, 0.01);
        let (mut skipped, mut stepped) = (at_rest, at_rest);
        for _ in 0..100 {
            skipped.step(&t, || Some(0.25), true);
            stepped.glide(&t, Some(0.25));
        }
        assert_eq!(skipped.glided_bits(), stepped.glided_bits());
    }

    #[test]
    fn a_glide_lands_exactly_on_its_target() {
        // A score's level near unity gliding with a slow coefficient (the step falls below the
        // float's resolution long before it is within 1e-6), and levels going to silence.
        for (from, to, k) in [
            (1.0f32, 1.2f32, 0.002f32),
            (1.3, 0.9, 0.0005),
            (0.5, 0.0, 0.01),
        ] {
            let mut v = from;
            let mut steps = 0;
            while v != to {
                glide(&mut v, to, k);
                steps += 1;
                assert!(steps < 100_000, "{from} -> {to} stalled at {v}");
            }
        }
    }
}
