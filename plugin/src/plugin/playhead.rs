//! What the editor shows about the running plugin: where the playhead is (written by the audio
//! thread with plain atomic stores, only while an editor is open).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The audio thread's view of time, for the editor's playhead. Lock-free and wait-free on both
/// sides; each value is published on its own, which is all a drawn playhead needs.
#[derive(Debug, Default)]
pub struct Playhead {
    /// Set by the editor while it is open; the audio thread only publishes then.
    pub editor_open: AtomicBool,
    playing: AtomicBool,
    /// Position inside the loop in beats (f64 bits).
    beat: AtomicU64,
    /// The tempo the score plays at (f64 bits); also used for MIDI export.
    tempo: AtomicU64,
    /// The editor's repaint flag (an atomic the window polls), set once by the editor: the audio
    /// thread raises it when the transport starts or stops, so a resting editor starts drawing
    /// the playhead at once. Raising it is one atomic store.
    pub wake: std::sync::OnceLock<nice_plug_egui::RepaintNotifier>,
}

impl Playhead {
    /// Audio thread: publishes the state at the start of a block.
    pub fn publish(&self, playing: bool, loop_beat: f64, tempo_bpm: f64) {
        if !self.editor_open.load(Ordering::Relaxed) {
            return;
        }
        if self.playing.swap(playing, Ordering::Relaxed) != playing {
            if let Some(wake) = self.wake.get() {
                wake.request_repaint();
            }
        }
        self.beat.store(loop_beat.to_bits(), Ordering::Relaxed);
        self.tempo.store(tempo_bpm.to_bits(), Ordering::Relaxed);
    }

    pub fn playing(&self) -> bool {
        self.playing.load(Ordering::Relaxed)
    }

    pub fn beat(&self) -> f64 {
        f64::from_bits(self.beat.load(Ordering::Relaxed))
    }

    /// The last tempo the audio thread played at, if it has played while the editor was open.
    pub fn tempo(&self) -> Option<f64> {
        let t = f64::from_bits(self.tempo.load(Ordering::Relaxed));
        (t.is_finite() && t > 0.0).then_some(t)
    }
}
