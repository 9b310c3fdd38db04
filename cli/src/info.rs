//! `pixelody info`: what Pixelody reads in a picture and what it makes of it (the inputs of the
//! README's mapping table), so a musician can see why a picture sounds as it does.

use std::path::{Path, PathBuf};

use pixelody::analysis::{self, Features};
use pixelody::compose::{self, Settings};
use pixelody::content;
use pixelody::score::Patch;
use serde_json::{json, Value};

use crate::render::{display, read_picture};

/// An f32 as the f64 its shortest decimal form stands for (how the score's JSON writes it), so
/// 2841.135 reads 2841.135 and not 2841.135009765625.
fn d(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::NAN)
}

/// Everything `info` reports, as JSON (the text form is made from it).
fn reading(name: &str, whole: &analysis::Picture, settings: &Settings) -> Value {
    // (What it reads is the settings' region of the picture, as composing does.)
    let framed = compose::framed(whole, settings);
    let picture: &analysis::Picture = &framed;
    let features = compose::features(picture, settings);
    let tonality = compose::tonality(&features, settings);
    let (frames, width, rows) = compose::wave_rows::rows(picture);
    let patch = compose::proposed_patch(&features, (frames, width, &rows), settings);
    // The chords as they sound (Compose mode): the progression family and its bars.
    // (Read without Humanise, which moves notes off the beats the chords are read on.)
    let exact = Settings {
        humanise: 0.0,
        ..*settings
    };
    let score = compose::compose(whole, &exact, name.to_string());
    let style = compose::style(&features, settings);
    let swing_from = match settings.swing {
        Some(_) => "setting",
        None if compose::swing(&features, settings, style) != style.swing() => {
            "what it shows: boats sway"
        }
        None => "style",
    };
    json!({
        "picture": {
            "file": name,
            "width": picture.source_width,
            "height": picture.source_height,
            "working_copy": [whole.width, whole.height],
            "region": settings.clamped().region,
        },
        "features": features_json(&features),
        "music": {
            "key": compose::NOTE_NAMES[usize::from(tonality.tonic % 12)],
            "key_from": if settings.key.is_some() { "setting" } else { "the dominant hue" },
            "scale": tonality.scale.name(),
            "scale_from": if settings.scale.is_some() { "setting" } else { "mood" },
            "mood": d(compose::mood(&features)),
            "register_shift_semitones": compose::register_shift(&features),
            "style": compose::style(&features, settings).name(),
            "style_from": match (settings.style, features.cues.scene) {
                (Some(_), _) => String::from("setting"),
                (None, Some((scene, _))) => format!("what it shows: {}", scene.name()),
                (None, None) => String::from("energy, mood and repetition"),
            },
            "bars": settings.bars,
            "meter": score.meter.label(),
            "progression": score.progression,
            "swing": d(compose::swing(&features, settings, style)),
            "swing_from": swing_from,
            "humanise": d(settings.humanise),
            "chords": compose::measure::progression(&score),
        },
        "proposed_timbre": patch_json(&patch),
    })
}

fn features_json(f: &Features) -> Value {
    json!({
        "lightness": { "mean": d(f.lightness.mean), "std": d(f.lightness.std), "p05": d(f.lightness.p05), "p95": d(f.lightness.p95) },
        "chroma": { "mean": d(f.chroma.mean), "std": d(f.chroma.std) },
        "hue_degrees": d(f.hue),
        "hue_strength": d(f.hue_strength),
        "warmth": d(f.warmth),
        "edge_density": d(f.edge_density),
        "edge_orientation": d(f.edge_orientation),
        "entropy": d(f.entropy),
        "palette": f.palette.iter().map(|s| json!({
            "l": d(s.colour.l), "a": d(s.colour.a), "b": d(s.colour.b), "weight": d(s.weight),
        })).collect::<Vec<_>>(),
        "bars": f.regions.iter().map(|r| json!({
            "lightness": d(r.lightness), "chroma": d(r.chroma), "hue": d(r.hue), "warmth": d(r.warmth),
            "edges": d(r.edges), "low_edges": d(r.low_edges),
        })).collect::<Vec<_>>(),
    })
}

fn patch_json(p: &Patch) -> Value {
    json!({
        "attack_ms": d(p.attack_ms), "decay_ms": d(p.decay_ms), "sustain": d(p.sustain),
        "release_ms": d(p.release_ms), "brightness": d(p.brightness), "cutoff_hz": d(p.cutoff_hz),
        "resonance": d(p.resonance), "filter_env_oct": d(p.filter_env_oct), "noise": d(p.noise),
        "width": d(p.width), "detune_cents": d(p.detune_cents),
    })
}

fn text(r: &Value) -> String {
    let f = &r["features"];
    let m = &r["music"];
    let t = &r["proposed_timbre"];
    let n = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let region = match r["picture"]["region"].as_array() {
        Some(v) if v.len() == 4 => format!(
            ", the part from {:.0}% across and {:.0}% down, {:.0}% wide and {:.0}% high",
            n(&v[0]) * 100.0,
            n(&v[1]) * 100.0,
            n(&v[2]) * 100.0,
            n(&v[3]) * 100.0
        ),
        _ => String::new(),
    };
    let mut out = format!(
        "{} ({} x {}, read as {} x {}{region})\n\n",
        r["picture"]["file"].as_str().unwrap_or(""),
        r["picture"]["width"],
        r["picture"]["height"],
        r["picture"]["working_copy"][0],
        r["picture"]["working_copy"][1],
    );
    out += &format!(
        "Key {} {} (key from {}, scale from {}); style {} (from {}); mood {:+.2} (-1 dark, grey, \
         cool .. +1 light, colourful, warm); melody range moved {:+} semitones by lightness\n{}",
        m["key"].as_str().unwrap_or(""),
        m["scale"].as_str().unwrap_or(""),
        m["key_from"].as_str().unwrap_or(""),
        m["scale_from"].as_str().unwrap_or(""),
        m["style"].as_str().unwrap_or(""),
        m["style_from"].as_str().unwrap_or(""),
        n(&m["mood"]),
        m["register_shift_semitones"],
        match m["progression"].as_str() {
            Some(family) if !family.is_empty() => format!(
                "Chords ({family}): {}\n",
                m["chords"]
                    .as_array()
                    .map(|bars| bars
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" | "))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        },
    );
    out += &format!("Meter: {}\n", m["meter"].as_str().unwrap_or("4/4"));
    match (
        r["content"]["summary"].as_str(),
        r["content"]["error"].as_str(),
    ) {
        (Some(summary), _) => out += &format!("Sees: {summary}\n"),
        (None, Some(why)) => out += &format!("Sees: nothing ({why})\n"),
        (None, None) => {}
    }
    if m["progression"].as_str().is_some_and(|p| !p.is_empty()) {
        out += &format!(
            "Feel: swing {:.0}% (from the {}), humanise {:.0}%\n",
            n(&m["swing"]) * 100.0,
            m["swing_from"].as_str().unwrap_or(""),
            n(&m["humanise"]) * 100.0,
        );
    }
    out += "\n";
    out += &format!("{:<26} {:>8}   {}\n", "What it reads", "value", "drives");
    let rows = [
        (
            "lightness (mean, 0..1)",
            n(&f["lightness"]["mean"]),
            "scale, register, release, sustain, cutoff",
        ),
        (
            "colourfulness (chroma)",
            n(&f["chroma"]["mean"]),
            "scale, chord loudness, brightness, resonance",
        ),
        (
            "dominant hue (degrees)",
            n(&f["hue_degrees"]),
            "key (hue circle on the circle of fifths)",
        ),
        (
            "hue strength (0..1)",
            n(&f["hue_strength"]),
            "key (a grey picture is in C)",
        ),
        ("warmth (-1 cool .. 1)", n(&f["warmth"]), "scale"),
        (
            "edges (density)",
            n(&f["edge_density"]),
            "melody notes, attack, decay, filter envelope",
        ),
        (
            "edge orientation",
            n(&f["edge_orientation"]),
            "(0 vertical .. 1 horizontal)",
        ),
        ("texture (entropy)", n(&f["entropy"]), "detune, noise"),
    ];
    for (what, v, drives) in rows {
        out += &format!("{what:<26} {v:>8.3}   {drives}\n");
    }
    out += "\nBar  lightness  chroma  edges  bottom edges   (chord from lightness rank, bass from bottom edges)\n";
    for (i, b) in f["bars"].as_array().into_iter().flatten().enumerate() {
        out += &format!(
            "{:>3}  {:>9.3}  {:>6.3}  {:>5.3}  {:>12.3}\n",
            i + 1,
            n(&b["lightness"]),
            n(&b["chroma"]),
            n(&b["edges"]),
            n(&b["low_edges"])
        );
    }
    out += &format!(
        "\nProposed timbre: attack {:.1} ms, decay {:.0} ms, sustain {:.0}%, release {:.0} ms, \
         brightness {:.0}%, cutoff {:.0} Hz, resonance {:.0}%, filter envelope {:.2} oct, \
         noise {:.0}%, width {:.0}%, detune {:.1} ct",
        n(&t["attack_ms"]),
        n(&t["decay_ms"]),
        100.0 * n(&t["sustain"]),
        n(&t["release_ms"]),
        100.0 * n(&t["brightness"]),
        n(&t["cutoff_hz"]),
        100.0 * n(&t["resonance"]),
        n(&t["filter_env_oct"]),
        100.0 * n(&t["noise"]),
        100.0 * n(&t["width"]),
        n(&t["detune_cents"]),
    );
    out
}

/// Reads the picture and describes it, as text or JSON.
pub fn info(paths: &[PathBuf], settings: &Settings, as_json: bool) -> Result<String, String> {
    let (pictures, gathered) = crate::render::gather(paths)?;
    // One still picture: what it reads and makes (a file that cannot be read says why).
    if let ([path], [_]) = (pictures.as_slice(), gathered.sections.as_slice()) {
        return one(path, settings, as_json);
    }
    for why in &gathered.refused {
        eprintln!("pixelody: skipped {why}");
    }
    // (A section is named with its size, "kite.jpg (960 x 600)": the reading names the file.)
    let file_of = |name: &str| -> String {
        match name.rsplit_once(" (") {
            Some((file, size)) if size.ends_with(')') && size.contains(" x ") => file.to_string(),
            _ => name.to_string(),
        }
    };
    if let [(picture, name)] = gathered.sections.as_slice() {
        let r = reading(&file_of(name), picture, settings);
        return Ok(if as_json {
            serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
        } else {
            text(&r)
        });
    }
    if gathered.sections.is_empty() {
        return match pictures.as_slice() {
            [path] => one(path, settings, as_json),
            _ => Err(gathered.refusals().unwrap_or_default()),
        };
    }
    let score = gathered
        .score(settings)
        .ok_or_else(|| gathered.refusals().unwrap_or_default())?;
    let (first, first_name) = &gathered.sections[0];
    let r = json!({
        "piece": {
            "source": score.source,
            "bars": score.bars().round() as u64,
            "meter": score.meter.label(),
            "sections": score.sections.iter().map(|s| json!({
                "source": s.source,
                "start_bar": (s.start_beats / score.meter.bar_beats()).round() as u64 + 1,
                "tonality": s.tonality,
                "style": s.style,
            })).collect::<Vec<_>>(),
        },
        "first_section": reading(&file_of(first_name), first, settings),
    });
    Ok(if as_json {
        serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
    } else {
        piece_text(&r)
    })
}

/// What the picture shows (the content models, on the whole picture), as JSON: each thing seen
/// with its confidence and place, or why nothing could be seen.
fn content_json(seen: &Result<content::Content, String>) -> Value {
    match seen {
        Ok(c) => json!({
            "summary": c.summary(),
            "seen": c.seen.iter().map(|s| {
                let mut one = json!({
                    "name": s.name(),
                    "confidence": d(s.confidence),
                    "place": s.place.map(d),
                    "counts": s.confidence >= content::HINT,
                });
                if let content::What::Face { expression_confidence, .. } = s.what {
                    one["expression_confidence"] = json!(d(expression_confidence));
                }
                one
            }).collect::<Vec<_>>(),
        }),
        Err(why) => json!({ "error": why }),
    }
}

/// One picture's reading, or why it cannot be read.
fn one(path: &Path, settings: &Settings, as_json: bool) -> Result<String, String> {
    let (bytes, name) = read_picture(path)?;
    // (Decoded once for the working copy and the models where one decode serves both.)
    let (mut picture, view) = analysis::decode_viewed(&bytes, content::VIEW_SIDE)
        .map_err(|e| format!("{}: {}", display(path), e.message))?;
    let seen = content::see(&view.image);
    picture.content = seen.clone().unwrap_or_default();
    let mut r = reading(&name, &picture, settings);
    r["content"] = content_json(&seen);
    r["content"]["shapes_the_music"] = json!(settings.content);
    Ok(if as_json {
        serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
    } else {
        text(&r)
    })
}

/// A piece's sections as they play (each in its key and style), then its first picture's
/// reading.
fn piece_text(r: &Value) -> String {
    let p = &r["piece"];
    let sections = p["sections"].as_array().cloned().unwrap_or_default();
    let mut out = format!(
        "{}: a piece of {} sections, {} bars of {}\n",
        p["source"].as_str().unwrap_or(""),
        sections.len(),
        p["bars"],
        p["meter"].as_str().unwrap_or("4/4"),
    );
    for (k, s) in sections.iter().enumerate() {
        let style = s["style"].as_str().unwrap_or("");
        out += &format!(
            "  {:>2}. bar {:<3} {} - {}{}\n",
            k + 1,
            s["start_bar"],
            s["source"].as_str().unwrap_or(""),
            s["tonality"].as_str().unwrap_or(""),
            if style.is_empty() {
                String::new()
            } else {
                format!(", {style}")
            },
        );
    }
    out += "\nThe first section, read alone:\n";
    out + &text(&r["first_section"])
}
