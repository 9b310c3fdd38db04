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

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events from the `from`th on put in time order, events at the same sample keeping
    /// their order (an insertion sort: nearly sorted and few, and it does not allocate).
    pub fn sort_from(&mut self, from: usize) {
        let tail = match self.events.get_mut(from..) {
            Some(t) => t,
            None => return,
        };
        for i in 1..tail.len() {
            let mut k = i;
            while k > 0 && tail[k - 1].offset > tail[k].offset {
                tail.swap(k - 1, k);
                k -= 1;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn off(offset: u32, pitch: u8) -> NoteOut {
        NoteOut {
            offset,
            on: false,
            pitch,
            velocity: 0.0,
            channel: 0,
        }
    }

    #[test]
    fn sorting_puts_a_chunk_s_events_in_time_order_and_keeps_ties_in_order() {
        let mut sink = NoteSink::with_capacity(16);
        // Before the mark: left as they are.
        for e in [off(9, 1), off(3, 2)] {
            sink.push(e);
        }
        // Voice groups one after the other (their note-offs at 5 and 2, then 5 and 1), then the
        // drums' (at 2).
        for e in [off(5, 10), off(2, 11), off(5, 12), off(1, 13), off(2, 14)] {
            sink.push(e);
        }
        sink.sort_from(2);
        let got: Vec<(u32, u8)> = sink.events().iter().map(|e| (e.offset, e.pitch)).collect();
        assert_eq!(
            got,
            [(9, 1), (3, 2), (1, 13), (2, 11), (2, 14), (5, 10), (5, 12)]
        );
        sink.sort_from(99);
        assert_eq!(sink.len(), 7);
    }
}
