//! Standard MIDI files from a score: one track per part, so a DAW shows melody, chords, bass and
//! drums as separate clips. Used by the command-line renderer (and the editor's export).

use midly::num::{u15, u24, u28, u4, u7};
use midly::{
    Format, Header, MetaMessage, MidiMessage, Smf, Timing, Track, TrackEvent, TrackEventKind,
};

use crate::score::{Meter, Part, Score};

/// Ticks per quarter note: fine enough for the thirds and 32nds the composer writes.
pub const TICKS_PER_BEAT: u16 = 960;

const PARTS: [(Part, &str); 4] = [
    (Part::Melody, "Pixelody melody"),
    (Part::Harmony, "Pixelody chords"),
    (Part::Bass, "Pixelody bass"),
    (Part::Drums, "Pixelody drums"),
];

/// The score's meter as the file writes it: numerator, the denominator's power of two, and the
/// metronome's click (MIDI clocks, 24 a quarter note) on each beat: a dotted quarter (36) in 6/8
/// and 12/8, a quarter otherwise.
fn time_signature(meter: Meter) -> MetaMessage<'static> {
    let s = meter.signature;
    let click = if meter.is_compound() { 36 } else { 24 };
    MetaMessage::TimeSignature(s.numerator, s.denominator.trailing_zeros() as u8, click, 8)
}

fn ticks(beats: f64) -> u64 {
    (beats * f64::from(TICKS_PER_BEAT)).round().max(0.0) as u64
}

/// Encodes `score` at `bpm` as a type-1 standard MIDI file: a tempo track, then one track per
/// part that has notes (channel 1 melody, 2 chords, 3 bass, 10 drums in the General MIDI drum
/// map). Notes keep their beat positions.
pub fn midi_file(score: &Score, bpm: f64) -> Vec<u8> {
    midi_file_of(score, bpm, None)
}

/// [`midi_file`] with only `only`'s track when it names a part (the tempo track stays, so the
/// clip lands at the score's tempo).
pub fn midi_file_of(score: &Score, bpm: f64, only: Option<Part>) -> Vec<u8> {
    let mut tracks: Vec<Track> = Vec::new();
    let micros = (60_000_000.0 / bpm.clamp(1.0, 1000.0)).round() as u32;
    // The tempo track; a piece's sections as markers named after their pictures.
    let mut tempo = vec![
        meta(0, MetaMessage::TrackName(b"Pixelody")),
        meta(0, MetaMessage::Tempo(u24::new(micros))),
        meta(0, time_signature(score.meter)),
    ];
    let mut at = 0;
    for section in &score.sections {
        let t = ticks(section.start_beats);
        tempo.push(meta(
            (t - at) as u32,
            MetaMessage::Marker(section.source.as_bytes()),
        ));
        at = t;
    }
    tempo.push(meta(
        (ticks(score.length_beats) - at) as u32,
        MetaMessage::EndOfTrack,
    ));
    tracks.push(tempo);
    for (part, name) in PARTS {
        if only.is_some_and(|o| o != part) {
            continue;
        }
        let channel = part.channel();
        // (tick, is_on, pitch, velocity); offs sort before ons at the same tick.
        let mut events: Vec<(u64, bool, u8, u8)> = Vec::new();
        for n in score.notes.iter().filter(|n| n.part == part) {
            let vel = ((n.velocity * 127.0).round() as u8).clamp(1, 127);
            let on = ticks(n.start_beats);
            let off = ticks(n.start_beats + n.length_beats).max(on + 1);
            events.push((on, true, n.pitch, vel));
            events.push((off, false, n.pitch, 0));
        }
        if events.is_empty() {
            continue;
        }
        events.sort_by_key(|&(t, on, p, _)| (t, on, p));
        let mut track = vec![meta(0, MetaMessage::TrackName(name.as_bytes()))];
        let mut last = 0;
        for (t, on, pitch, vel) in events {
            let (key, vel) = (u7::new(pitch.min(127)), u7::new(vel));
            let message = if on {
                MidiMessage::NoteOn { key, vel }
            } else {
                MidiMessage::NoteOff { key, vel }
            };
            track.push(TrackEvent {
                delta: u28::new((t - last) as u32),
                kind: TrackEventKind::Midi {
                    channel: u4::new(channel),
                    message,
                },
            });
            last = t;
        }
        track.push(meta(0, MetaMessage::EndOfTrack));
        tracks.push(track);
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TICKS_PER_BEAT))),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out)
        .expect("writing to memory cannot fail");
    out
}

fn meta(delta: u32, m: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Meta(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Note;

    #[test]
    fn the_file_writes_the_scores_meter() {
        use crate::score::Signature;
        for (sig, expected) in [
            ((4, 4), (4, 2, 24)),
            ((6, 8), (6, 3, 36)),
            ((7, 8), (7, 3, 24)),
        ] {
            let mut score = Score::new(8.0, Vec::new(), String::new());
            score.meter = Meter::plain(Signature::new(sig.0, sig.1));
            let bytes = midi_file(&score, 120.0);
            let smf = Smf::parse(&bytes).unwrap();
            let written = smf.tracks[0].iter().find_map(|e| match e.kind {
                TrackEventKind::Meta(MetaMessage::TimeSignature(n, d, c, _)) => Some((n, d, c)),
                _ => None,
            });
            assert_eq!(written, Some(expected), "{sig:?}");
        }
    }

    #[test]
    fn a_midi_file_reads_back_as_the_score() {
        let notes = vec![
            Note {
                start_beats: 0.0,
                length_beats: 0.5,
                pitch: 60,
                velocity: 1.0,
                part: Part::Melody,
            },
            Note {
                start_beats: 1.0 / 3.0,
                length_beats: 1.0,
                pitch: 64,
                velocity: 0.5,
                part: Part::Melody,
            },
            Note {
                start_beats: 0.0,
                length_beats: 4.0,
                pitch: 52,
                velocity: 0.4,
                part: Part::Harmony,
            },
            Note {
                start_beats: 2.0,
                length_beats: 2.0,
                pitch: 36,
                velocity: 0.8,
                part: Part::Bass,
            },
            Note {
                start_beats: 1.0,
                length_beats: 0.125,
                pitch: 38,
                velocity: 0.9,
                part: Part::Drums,
            },
        ];
        let score = Score::new(4.0, notes, String::from("t"));
        let bytes = midi_file(&score, 97.0);
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(smf.tracks.len(), 5);
        assert!(smf.tracks[0].iter().any(|e| matches!(e.kind,
            TrackEventKind::Meta(MetaMessage::Tempo(t)) if t.as_int() == 618_557)));
        let mut read = Vec::new();
        for (ti, track) in smf.tracks.iter().enumerate().skip(1) {
            let mut t = 0u64;
            let mut open: Vec<(u8, u64, u8)> = Vec::new();
            for e in track {
                t += u64::from(e.delta.as_int());
                if let TrackEventKind::Midi { message, channel } = e.kind {
                    // Melody, chords, bass on channels 1-3, drums on 10.
                    assert_eq!(channel.as_int(), [0, 1, 2, 9][ti - 1]);
                    match message {
                        MidiMessage::NoteOn { key, vel } => {
                            open.push((key.as_int(), t, vel.as_int()))
                        }
                        MidiMessage::NoteOff { key, .. } => {
                            let i = open.iter().position(|o| o.0 == key.as_int()).unwrap();
                            let (k, start, vel) = open.remove(i);
                            read.push((ti, k, start, t - start, vel));
                        }
                        _ => {}
                    }
                }
            }
        }
        read.sort();
        assert_eq!(
            read,
            vec![
                (1, 60, 0, 480, 127),
                (1, 64, 320, 960, 64),
                (2, 52, 0, 3840, 51),
                (3, 36, 1920, 1920, 102),
                (4, 38, 960, 120, 114)
            ]
        );
    }

    #[test]
    fn a_pieces_sections_are_markers_at_their_starts() {
        let mut score = crate::test_support::example_score();
        score.length_beats = 16.0;
        score.sections = [(0.0, "a.png (4 x 4)"), (8.0, "b.png (4 x 4)")]
            .into_iter()
            .map(|(start_beats, source)| crate::score::Section {
                start_beats,
                source: source.to_string(),
                tonality: String::new(),
                style: String::new(),
                sound: Default::default(),
            })
            .collect();
        let bytes = midi_file(&score, 120.0);
        let smf = Smf::parse(&bytes).unwrap();
        let mut t = 0;
        let mut markers = Vec::new();
        for e in &smf.tracks[0] {
            t += e.delta.as_int();
            if let TrackEventKind::Meta(MetaMessage::Marker(m)) = e.kind {
                markers.push((t, String::from_utf8_lossy(m).into_owned()));
            }
            if let TrackEventKind::Meta(MetaMessage::EndOfTrack) = e.kind {
                assert_eq!(t, 16 * 960, "the track lasts the piece");
            }
        }
        assert_eq!(
            markers,
            [
                (0, String::from("a.png (4 x 4)")),
                (7680, String::from("b.png (4 x 4)"))
            ]
        );
    }

    #[test]
    fn one_part_is_the_tempo_track_and_that_parts_track_of_the_whole_file() {
        let score = crate::test_support::example_score();
        let whole_bytes = midi_file(&score, 120.0);
        let whole = Smf::parse(&whole_bytes).unwrap().tracks;
        for (i, part) in Part::ALL.into_iter().enumerate() {
            let bytes = midi_file_of(&score, 120.0, Some(part));
            let tracks = Smf::parse(&bytes).unwrap().tracks;
            assert_eq!(tracks.len(), 2, "{part:?}");
            assert_eq!(tracks[0], whole[0]);
            assert_eq!(tracks[1], whole[i + 1], "{part:?}");
        }
    }
}
