//! MIDI out: the notes the engine starts and ends, each at the sample the internal synth starts
//! or releases it, collected per block without allocating (the plug-in sends them to the host).

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
