//! A fixed pool of synth voices: sine/saw oscillator, linear ADSR, constant-power pan per part.
//! `new` allocates; everything else runs on the audio thread without allocating.

use super::sequencer::onset_offset;
use super::{NoteOut, NoteSink};
use crate::score::{Note, Part};

pub const MAX_VOICES: usize = 32;
/// Level of each voice before the master gain, leaving headroom for chords.
const VOICE_LEVEL: f32 = 0.35;
const DECAY_SECONDS: f32 = 0.25;
const SUSTAIN: f32 = 0.6;
/// Where a new oscillator starts in its cycle: both the sine and the falling ramp are positive
/// here, so the first sample of every note is non-zero (an onset is visible on its own sample).
const START_PHASE: f64 = 0.25;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    Idle,
    Attack,
    Decay,
    Sustain,
    Release,
}

#[derive(Clone, Copy, Debug)]
struct Voice {
    stage: Stage,
    level: f32,
    /// Per-sample level change in the current stage.
    step: f32,
    release_samples: f32,
    phase: f64,
    phase_inc: f64,
    velocity: f32,
    pan_l: f32,
    pan_r: f32,
    /// Absolute host beat of the note-off.
    end_beat: f64,
    /// Block-relative sample at which the release starts (`i64::MAX`: not in this block).
    release_at: i64,
    /// Order of note-ons, for stealing the oldest voice.
    age: u64,
    decay_step: f32,
    /// MIDI key and channel (one channel per part), for the note-off that matches the note-on.
    pitch: u8,
    channel: u8,
}

impl Voice {
    const IDLE: Voice = Voice {
        stage: Stage::Idle,
        level: 0.0,
        step: 0.0,
        release_samples: 1.0,
        phase: 0.0,
        phase_inc: 0.0,
        velocity: 0.0,
        pan_l: 0.0,
        pan_r: 0.0,
        end_beat: 0.0,
        release_at: i64::MAX,
        age: 0,
        decay_step: 0.0,
        pitch: 0,
        channel: 0,
    };

    /// Starts the release (the note's MIDI note-off, at `offset`).
    fn release(&mut self, release_samples: f32, offset: u32, out: &mut NoteSink) {
        if matches!(self.stage, Stage::Idle | Stage::Release) {
            return;
        }
        out.push(NoteOut {
            offset,
            on: false,
            pitch: self.pitch,
            velocity: 0.0,
            channel: self.channel,
        });
        self.stage = Stage::Release;
        self.release_samples = release_samples;
        // Linear to exactly zero over the release time, from wherever the level is.
        self.step = -self.level / release_samples.max(1.0);
        self.release_at = i64::MAX;
    }
}

/// PolyBLEP residual that removes the aliasing step of a ramp's reset.
fn poly_blep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

pub struct VoicePool {
    voices: Vec<Voice>,
    next_age: u64,
    /// One sine cycle (plus a guard point) for table lookup: `sin` itself costs more than the
    /// rest of a voice.
    sine: Vec<f32>,
}

const SINE_SIZE: usize = 4096;

impl VoicePool {
    pub fn new(capacity: usize) -> Self {
        VoicePool {
            voices: vec![Voice::IDLE; capacity],
            next_age: 0,
            sine: (0..=SINE_SIZE)
                .map(|i| (i as f64 / SINE_SIZE as f64 * std::f64::consts::TAU).sin() as f32)
                .collect(),
        }
    }

    pub fn active(&self) -> usize {
        self.voices
            .iter()
            .filter(|v| v.stage != Stage::Idle)
            .count()
    }

    pub fn kill_all(&mut self) {
        self.voices.fill(Voice::IDLE);
    }

    /// Releases every sounding note at the start of the block.
    pub fn release_all(&mut self, release_samples: f32, out: &mut NoteSink) {
        for v in &mut self.voices {
            v.release(release_samples, 0, out);
        }
    }

    /// Works out, for a block starting at `start`, on which sample each held note lets go.
    pub fn schedule_releases(&mut self, start: f64, bps: f64, block_len: usize) {
        for v in &mut self.voices {
            if matches!(v.stage, Stage::Attack | Stage::Decay | Stage::Sustain) {
                let at = onset_offset(v.end_beat, start, bps);
                v.release_at = if at < block_len as i64 { at } else { i64::MAX };
            }
        }
    }

    /// Starts `note` at block sample `offset` on a free voice, or on the oldest one (deterministic
    /// stealing). A stolen voice attacks from its current level, so the takeover does not click.
    #[allow(clippy::too_many_arguments)]
    pub fn note_on(
        &mut self,
        note: &Note,
        offset: u32,
        end_beat: f64,
        release_at: i64,
        sample_rate: f32,
        attack_samples: f32,
        release_samples: f32,
        out: &mut NoteSink,
    ) {
        let slot = match self.voices.iter().position(|v| v.stage == Stage::Idle) {
            Some(i) => i,
            None => {
                let mut oldest = 0;
                for (i, v) in self.voices.iter().enumerate() {
                    if v.age < self.voices[oldest].age {
                        oldest = i;
                    }
                }
                oldest
            }
        };
        let freq = 440.0 * 2f64.powf((f64::from(note.pitch) - 69.0) / 12.0);
        // Parts differ in place, level and envelope: the melody plucks a little right of centre,
        // the chords swell in softly on the left, the bass sits in the middle.
        let (pan, part_level, attack_scale, channel): (f32, f32, f32, u8) = match note.part {
            Part::Melody => (0.15, 1.0, 1.0, 0),
            Part::Harmony => (-0.3, 0.5, 6.0, 1),
            Part::Bass => (0.0, 0.9, 1.0, 2),
        };
        let attack_samples = attack_samples * attack_scale;
        let angle = (pan + 1.0) * std::f32::consts::FRAC_PI_4;
        let v = &mut self.voices[slot];
        // A stolen note ends for MIDI too.
        let stolen_release = v.release_samples;
        v.release(stolen_release, offset, out);
        out.push(NoteOut {
            offset,
            on: true,
            pitch: note.pitch,
            velocity: note.velocity,
            channel,
        });
        let idle = v.stage == Stage::Idle;
        let level = if idle { 0.0 } else { v.level };
        // A free voice starts at a known phase; a stolen one keeps its phase, so the waveform
        // stays continuous through the takeover.
        let phase = if idle { START_PHASE } else { v.phase };
        *v = Voice {
            stage: Stage::Attack,
            level,
            step: (1.0 - level) / attack_samples,
            release_samples,
            phase,
            phase_inc: (freq / f64::from(sample_rate)).min(0.49),
            velocity: note.velocity * part_level,
            pan_l: angle.cos(),
            pan_r: angle.sin(),
            end_beat,
            release_at,
            age: self.next_age,
            decay_step: (1.0 - SUSTAIN) / (DECAY_SECONDS * sample_rate),
            pitch: note.pitch,
            channel,
        };
        self.next_age += 1;
    }

    /// One stereo sample of all voices. `index` is the block-relative sample number.
    pub fn tick(&mut self, index: i64, brightness: f32, out: &mut NoteSink) -> (f32, f32) {
        let (mut l, mut r) = (0.0f32, 0.0f32);
        for v in &mut self.voices {
            if v.stage == Stage::Idle {
                continue;
            }
            if index >= v.release_at {
                v.release(v.release_samples, index.max(0) as u32, out);
            }
            v.level += v.step;
            match v.stage {
                Stage::Attack if v.level >= 1.0 => {
                    v.level = 1.0;
                    v.stage = Stage::Decay;
                    v.step = -v.decay_step;
                }
                Stage::Decay if v.level <= SUSTAIN => {
                    v.level = SUSTAIN;
                    v.stage = Stage::Sustain;
                    v.step = 0.0;
                }
                Stage::Release if v.level <= 0.0 => {
                    *v = Voice::IDLE;
                    continue;
                }
                _ => {}
            }
            let t = v.phase;
            let x = t * SINE_SIZE as f64;
            let i = x as usize;
            let frac = (x - i as f64) as f32;
            let sine = self.sine[i] + (self.sine[i + 1] - self.sine[i]) * frac;
            let ramp = (1.0 - 2.0 * t + poly_blep(t, v.phase_inc)) as f32;
            let osc = sine + (ramp - sine) * brightness;
            let s = osc * v.level * v.velocity * VOICE_LEVEL;
            l += s * v.pan_l;
            r += s * v.pan_r;
            v.phase += v.phase_inc;
            if v.phase >= 1.0 {
                v.phase -= 1.0;
            }
        }
        (l, r)
    }

    /// Nothing in the voices decays exponentially, so no denormals can build up; this only guards
    /// the levels against float drift at the end of a block.
    pub fn flush_denormals(&mut self) {
        for v in &mut self.voices {
            if v.level.abs() < 1e-20 {
                v.level = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Note {
        Note {
            start_beats: 0.0,
            length_beats: 1.0,
            pitch: 69,
            velocity: 1.0,
            part: Part::Melody,
        }
    }

    #[test]
    fn first_sample_sounds_and_release_ends_in_silence() {
        let mut out = NoteSink::with_capacity(16);
        let mut pool = VoicePool::new(4);
        pool.note_on(&note(), 0, 1.0, 100, 48_000.0, 48.0, 480.0, &mut out);
        for brightness in [0.0, 0.5, 1.0] {
            let mut p = VoicePool::new(1);
            p.note_on(&note(), 0, 1.0, 100, 48_000.0, 48.0, 480.0, &mut out);
            let (l, r) = p.tick(0, brightness, &mut out);
            assert!(l > 0.0 && r > 0.0, "brightness {brightness}: {l} {r}");
        }
        out.clear();
        let mut last = 0.0;
        for i in 0..2_000 {
            last = pool.tick(i, 0.5, &mut out).0;
        }
        assert_eq!(last, 0.0);
        assert_eq!(pool.active(), 0);
        assert_eq!(
            out.events(),
            &[NoteOut {
                offset: 100,
                on: false,
                pitch: 69,
                velocity: 0.0,
                channel: 0
            }]
        );
    }

    #[test]
    fn stealing_takes_the_oldest_voice_and_ends_its_midi_note() {
        let mut out = NoteSink::with_capacity(16);
        let mut pool = VoicePool::new(2);
        for i in 0..3 {
            let n = Note {
                pitch: 60 + i,
                ..note()
            };
            pool.note_on(&n, 7, 1.0, i64::MAX, 48_000.0, 48.0, 480.0, &mut out);
        }
        assert_eq!(pool.active(), 2);
        let ages: Vec<u64> = pool.voices.iter().map(|v| v.age).collect();
        assert_eq!(ages, vec![2, 1]);
        let kinds: Vec<(bool, u8)> = out.events().iter().map(|e| (e.on, e.pitch)).collect();
        assert_eq!(kinds, vec![(true, 60), (true, 61), (false, 60), (true, 62)]);
    }
}
