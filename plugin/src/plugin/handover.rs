//! The one path scores take between threads. The main/background side publishes a score (and keeps
//! a copy for saving and display); the audio thread picks it up through an `rtrb` ring and sends
//! the score it replaces back through a second ring, so it is freed here, never on the audio thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use nice_plug::params::persist::PersistentField;
use rtrb::{Consumer, Producer, RingBuffer};

use super::sync::lock;
use crate::score::Score;

/// Scores waiting for the audio thread. Publishing is human-paced, so a few slots are plenty; if
/// the audio thread is not running, `activate` picks up the newest score instead.
const QUEUE_SLOTS: usize = 8;

/// The audio thread's ends of the two rings.
pub struct AudioEnds {
    pub incoming: Consumer<Box<Score>>,
    pub retired: Producer<Box<Score>>,
}

impl AudioEnds {
    /// Hands the engine the scores published since the last block (it plays the newest, at its
    /// boundary) and sends back what it replaced. Returns whether anything was sent back, which
    /// then needs freeing on the background thread. Nothing is ever freed here: a score only
    /// leaves through the retired ring, and when the ring is full the engine keeps it for later.
    pub fn install_newest(&mut self, engine: &mut crate::engine::Engine) -> bool {
        let mut sent = false;
        if let Some(old) = engine.take_retired() {
            match self.retired.push(old) {
                Ok(()) => sent = true,
                Err(rtrb::PushError::Full(old)) => {
                    engine.put_back_retired(old);
                    return sent;
                }
            }
        }
        while self.retired.slots() > 0 {
            let Ok(score) = self.incoming.pop() else {
                break;
            };
            if let Some(displaced) = engine.queue_score(score) {
                // Cannot fail: a free slot was checked above and only this thread pushes.
                let _ = self.retired.push(displaced);
                sent = true;
            }
        }
        sent
    }
}

struct MainEnds {
    outgoing: Producer<Box<Score>>,
    retired: Consumer<Box<Score>>,
}

/// Shared by the plugin, its background tasks and (later) its editor. Persisted with the project
/// as the `score` field, so a reload plays the same notes without the picture.
pub struct ScoreSlot {
    current: RwLock<Arc<Score>>,
    main: Mutex<MainEnds>,
    /// Counts publications, so a slow recomposition can tell it has been overtaken.
    generation: AtomicU64,
    /// Wakes an open editor when a score is published.
    pub wake: super::sync::Wake,
}

impl ScoreSlot {
    /// Creates the slot holding `initial`, and the audio thread's ends of the rings.
    pub fn new(initial: Score) -> (Arc<ScoreSlot>, AudioEnds) {
        let (outgoing, incoming) = RingBuffer::new(QUEUE_SLOTS);
        let (retired_tx, retired_rx) = RingBuffer::new(QUEUE_SLOTS * 2);
        let slot = Arc::new(ScoreSlot {
            current: RwLock::new(Arc::new(initial)),
            main: Mutex::new(MainEnds {
                outgoing,
                retired: retired_rx,
            }),
            generation: AtomicU64::new(0),
            wake: Default::default(),
        });
        (
            slot,
            AudioEnds {
                incoming,
                retired: retired_tx,
            },
        )
    }

    /// The score the project holds now.
    pub fn current(&self) -> Arc<Score> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes `score` the project's score and sends it to the audio thread. Never blocks the audio
    /// thread: it only touches the producer end of a wait-free ring.
    pub fn publish(&self, score: Score) {
        let mut ends = lock(&self.main);
        self.publish_locked(&mut ends, score);
    }

    /// Publishes `score` only if nothing else was published since `generation` was read.
    pub fn publish_if_unchanged(&self, generation: u64, score: Score) -> bool {
        let mut ends = lock(&self.main);
        if self.generation() != generation {
            return false;
        }
        self.publish_locked(&mut ends, score);
        true
    }

    fn publish_locked(&self, ends: &mut MainEnds, score: Score) {
        let score = score.sanitized();
        // (The wave's table, built here if the score was read from a project: the audio thread
        // never builds one.)
        score.build_wave();
        let for_audio = Box::new(score.clone());
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(score);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Self::drain(ends);
        if ends.outgoing.push(for_audio).is_err() {
            nice_plug::nice_log!("Score queue full; the new score will be picked up on activation");
        }
        self.wake.wake();
    }

    /// Frees scores the audio thread has retired.
    pub fn collect_retired(&self) {
        Self::drain(&mut lock(&self.main));
    }

    fn drain(ends: &mut MainEnds) {
        while let Ok(old) = ends.retired.pop() {
            drop(old);
        }
    }

    /// Called from `activate` (never concurrently with processing): empties both rings so the
    /// audio thread starts from the newest score, returned here.
    pub fn resync(&self, audio: &mut AudioEnds) -> Box<Score> {
        while audio.incoming.pop().is_ok() {}
        self.collect_retired();
        Box::new((*self.current()).clone())
    }
}

impl PersistentField<'_, Score> for Arc<ScoreSlot> {
    fn set(&self, new_value: Score) {
        self.publish(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Score) -> R,
    {
        f(&self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    fn named(name: &str) -> Score {
        let mut s = Score::empty();
        s.source = String::from(name);
        s
    }

    /// One stopped block: a queued score takes over at once when nothing plays.
    fn idle_block(engine: &mut Engine) {
        let (mut l, mut r) = ([0.0f32; 16], [0.0f32; 16]);
        let p = crate::engine::EngineParams::default();
        engine.process(
            &crate::engine::TransportState::default(),
            &p,
            &mut l,
            &mut r,
        );
    }

    #[test]
    fn published_scores_reach_the_engine_and_come_back_to_be_freed() {
        let (slot, mut audio) = ScoreSlot::new(Score::empty());
        let mut engine = Engine::new(48_000.0);
        let first = slot.resync(&mut audio);
        engine.swap_score(first);
        slot.publish(named("second"));
        slot.publish(named("third"));
        // "second" never played: it comes straight back; "third" waits for its boundary.
        assert!(audio.install_newest(&mut engine));
        idle_block(&mut engine);
        assert_eq!(engine.score().unwrap().source, "third");
        // The replaced first score goes back at the next block.
        assert!(audio.install_newest(&mut engine));
        assert_eq!(audio.retired.slots(), QUEUE_SLOTS * 2 - 2);
        slot.collect_retired();
        assert_eq!(audio.retired.slots(), QUEUE_SLOTS * 2);
        assert_eq!(slot.current().source, "third");
    }

    /// A score read from a project reaches the audio thread with its wave's table built (the
    /// engine never builds one), shared with the copy kept for saving.
    #[test]
    fn a_score_read_from_a_project_is_published_with_its_wave_built() {
        let mut score = named("saved");
        score.wave = Some(crate::score::Wave::from_rows(2, 16, (0..32).collect()));
        let read: Score = serde_json::from_str(&serde_json::to_string(&score).unwrap()).unwrap();
        assert!(read.wave.as_ref().unwrap().built_table().is_none());
        let (slot, mut audio) = ScoreSlot::new(Score::empty());
        let mut engine = Engine::new(48_000.0);
        slot.publish(read);
        audio.install_newest(&mut engine);
        idle_block(&mut engine);
        let playing = engine.score().unwrap().wave.as_ref().unwrap().built_table();
        let kept = slot.current();
        let kept = kept.wave.as_ref().unwrap().built_table();
        assert_eq!(playing.unwrap().data(), score.wave.unwrap().table().data());
        assert!(std::ptr::eq(playing.unwrap().data(), kept.unwrap().data()));
    }

    #[test]
    fn a_full_retired_ring_keeps_the_old_score_instead_of_freeing_it() {
        let (slot, mut audio) = ScoreSlot::new(Score::empty());
        let mut engine = Engine::new(48_000.0);
        engine.swap_score(Box::new(named("first")));
        slot.publish(named("second"));
        audio.install_newest(&mut engine);
        idle_block(&mut engine);
        for _ in 0..QUEUE_SLOTS * 2 {
            let _ = audio.retired.push(Box::new(Score::empty()));
        }
        assert!(
            !audio.install_newest(&mut engine),
            "nothing could be sent back"
        );
        assert_eq!(engine.score().unwrap().source, "second");
        slot.collect_retired();
        assert!(
            audio.install_newest(&mut engine),
            "the first score goes back now"
        );
    }
}
