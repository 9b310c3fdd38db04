//! What each control's tooltip says: for the settings a picture proposes, the picture feature that
//! drives it (the README's mapping table, in a sentence); for the others, what they do. A test
//! checks that every parameter the host sees has one.

/// The tooltip for the parameter named `name` (its display name), if it has one.
pub fn tooltip(name: &str) -> Option<&'static str> {
    Some(match name {
        // Composition: read from the picture unless set.
        "Mode" => "How the picture is read: composed (melody, chords, bass, drums), scanned as a piano roll, or played as a spectrogram",
        "Key" => "Auto: the picture's dominant hue, laid on the circle of fifths (neighbouring hues, related keys)",
        "Scale" => "Auto: the picture's mood (lightness, saturation, warmth): darker, greyer, cooler pictures take darker modes",
        "Style" => "Auto: the picture's energy (edges, colour, contrast), mood and repetition choose the accompaniment, bass and drums",
        "Swing" => "Compose: off-beat eighths pushed late, straight at 0%, a triplet feel at 67%, a hard shuffle at 100%; at its lowest, By Style: the style's own (Lo-fi swings, the others play straight)",
        "Humanise" => "Compose: each part's timing (up to 25 ms at 120 BPM) and velocity spread a little, the same way for the same Variation",
        "Content" => "What the picture shows shapes the music (Auto): faces and their expression (a smile brightens the mode, a sad face darkens it) and, with Style on Auto, a portrait, a crowd, animals, traffic, boats or a table choose the style; a portrait's melody sings forward, a crowd fills the texture, boats sway, a surprised face leaps wider, animals play staccato. Off: only colour, light, edges and texture do",
        "Meter" => "The bars' time signature: Host follows the project's (4/4 where it names none); 3/4 waltzes, 6/8 and 12/8 rock in dotted quarters, 5/4 and 7/8 group as the picture leans (3+2 or 2+3, 2+2+3 or 3+2+2)",
        "Length" => "Loop length in bars; the picture is read left to right across it",
        "Density" => "More or fewer notes than the picture's edges suggest",
        "Low Note" | "High Note" => "The melody's range (and the scan rows' and partials'); the picture's lightness moves the melody up to six semitones within it",
        "Variation" => "Another seed: another score from the same picture",
        "Grid" => "Scan: one column of the picture per step of this length",
        "Threshold" => "Scan: how light a pixel must be to sound",
        "Invert" => "Scan: dark pixels sound instead of light ones",
        "Snap to Scale" => "Spectral: the picture's rows snapped to the scale's notes",
        // Parts.
        "Melody Level" | "Harmony Level" | "Bass Level" | "Drums Level" => "The part's level in the internal sound; its MIDI still goes out",
        "Melody On" | "Harmony On" | "Bass On" | "Drums On" => "Off: the part plays nothing, MIDI included",
        // Timbre: proposed by the picture (Lock Timbre keeps yours).
        "Lock Timbre" => "On: a new picture changes only the notes; off: it also proposes the whole sound",
        "Brightness" => "From the picture: edges and colourfulness (jagged, colourful pictures sound brighter)",
        "Attack" => "From the picture: edges (busy pictures pluck, smooth ones swell in)",
        "Decay" => "From the picture: edges (smooth pictures bloom longer, busy ones snap)",
        "Sustain" => "From the picture: lightness (lighter pictures hold higher)",
        "Release" => "From the picture: lightness (dark pictures ring longer)",
        "Cutoff" => "From the picture: lightness (600 Hz for black to 12 kHz for white)",
        "Resonance" => "From the picture: saturation (colourful pictures ring)",
        "Filter Envelope" => "From the picture: edges (busy pictures snap the filter open)",
        "Noise" => "From the picture: fine texture with many edges becomes breath",
        "Detune" => "From the picture: texture (lightness entropy) thickens the sound",
        "Width" => "From the picture: how far apart its palette's colours are",
        "Melody Tone" | "Harmony Tone" | "Bass Tone" => "From the picture: the melody a little brighter, the chords darker, the bass low (brighter with edges)",
        "Melody Envelope" | "Harmony Envelope" | "Bass Envelope" => "From the picture: edges and smoothness (busy pictures pluck, smooth ones swell); -100% a quarter as long, +100% four times",
        "Melody Picture" | "Harmony Picture" | "Bass Picture" => "From the picture: texture and colour; how much of the part plays the picture's own rows as its wave",
        "Drums Tune" => "From the picture: lightness (light pictures tune the kit up)",
        "Drums Decay" => "From the picture: smoothness (smooth pictures ring longer, busy ones shorter)",
        "Wave Position" => "From the picture: the row with the most detail; which row of the picture sounds as the wave",
        "Wave Scan" => "From the picture: how much its rows differ; how far the wave travels down the picture and back over the loop",
        "Reverb Mix" => "From the picture: dark, smooth pictures with a wide palette get more reverb, busy ones stay drier",
        "Reverb Size" => "From the picture: smooth, dark pictures ring longer",
        "Reverb Damping" => "From the picture: darker pictures, a darker tail",
        "Delay Mix" => "From the picture: smooth, colourful pictures get a few echoes",
        "Delay Feedback" => "How much of each echo comes back (not read from the picture)",
        "Delay Time" => "The echo's time as a note value of the host's tempo",
        // Output and playing.
        "Output Gain" => "Level of the internal synth (each picture is evened out to the same loudness first)",
        "Internal Synth" => "Off: only the MIDI notes go out, to drive another instrument",
        "Play Mode" => "Transport: follows the host's timeline; MIDI Trigger: a held key plays the score from its start",
        "Root Key" => "The key that plays the score untransposed",
        "MIDI Transpose" => "Transport mode: keys you play transpose the score",
        "Score Change" => "When a new score takes over from the one playing",
        "Free-run Tempo" => "The tempo kept when the host reports none",
        "Bypass" => "The host's bypass: the sound fades out and back in, and the music stays in time meanwhile",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use nice_plug::prelude::Params;

    use super::*;

    #[test]
    fn every_parameter_the_host_sees_has_a_tooltip() {
        let params = crate::test_support::example_params();
        let mut missing = Vec::new();
        assert_eq!(params.param_map().len(), 64, "the parameters the host sees");
        for (id, ptr, _) in params.param_map() {
            // SAFETY: the pointer comes from the parameters alive above.
            let name = unsafe { ptr.name() };
            if tooltip(name).is_none_or(str::is_empty) {
                missing.push(format!("{id} ({name})"));
            }
        }
        assert!(missing.is_empty(), "no tooltip: {missing:?}");
        // The picture-driven ones say so.
        for name in [
            "Brightness",
            "Cutoff",
            "Wave Position",
            "Drums Tune",
            "Melody Picture",
        ] {
            assert!(
                tooltip(name).unwrap().starts_with("From the picture"),
                "{name}"
            );
        }
    }
}
