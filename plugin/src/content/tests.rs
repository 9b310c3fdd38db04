//! The networks on real photos (plugin/tests/content/, licences in its README): what a listener
//! would name in each picture is seen, surely; a landscape shows nothing the models know.

use super::*;

fn picture(name: &str) -> DynamicImage {
    let path = format!("{}/tests/content/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    crate::analysis::read_for(&bytes, VIEW_SIDE).unwrap().image
}

fn seen(name: &str) -> Content {
    let content = see(&picture(name)).unwrap();
    eprintln!("{name}: {:?}", content.seen);
    content
}

fn sure_names(content: &Content) -> Vec<String> {
    content.sure().map(Seen::name).collect()
}

#[test]
fn a_portrait_shows_a_happy_face_and_a_person() {
    let content = seen("astronaut.jpg");
    let faces: Vec<&Seen> = content.sure().filter(|s| s.kind() == Kind::Face).collect();
    assert_eq!(faces.len(), 1, "{}", content.summary());
    let face = faces[0];
    assert!(matches!(
        face.what,
        What::Face {
            expression: Expression::Happy,
            ..
        }
    ));
    // Her face is in the upper middle of the portrait.
    let [l, t, r, b] = face.place;
    let (cx, cy) = ((l + r) / 2.0, (t + b) / 2.0);
    assert!(
        (0.3..0.7).contains(&cx) && (0.1..0.5).contains(&cy),
        "{:?}",
        face.place
    );
    assert!(
        sure_names(&content).contains(&String::from("person")),
        "{}",
        content.summary()
    );
}

#[test]
fn a_cat_is_a_cat() {
    let content = seen("cat.jpg");
    let names = sure_names(&content);
    assert_eq!(
        names.first().map(String::as_str),
        Some("cat"),
        "{}",
        content.summary()
    );
    assert!(content.sure().all(|s| s.kind() != Kind::Face));
}

#[test]
fn a_coffee_cup_is_a_cup_on_the_table() {
    let content = seen("coffee.jpg");
    let cup = content.seen.iter().find(|s| s.name() == "cup");
    let cup = cup.unwrap_or_else(|| panic!("no cup: {:?}", content.seen));
    assert!(cup.confidence >= 0.5, "{:?}", cup);
    assert_eq!(cup.kind(), Kind::Table);
}

#[test]
fn rowing_boats_are_boats() {
    let content = seen("boats.jpg");
    let boats = content.sure().filter(|s| s.name() == "boat").count();
    assert!(boats >= 2, "{}", content.summary());
    assert!(
        content.sure().all(|s| s.kind() == Kind::Vehicle),
        "{}",
        content.summary()
    );
}

#[test]
fn the_summary_names_what_counts_once_with_how_many() {
    let at = |what, confidence| Seen {
        what,
        confidence,
        place: [0.0, 0.0, 1.0, 1.0],
    };
    let boat = What::Thing { class: 8 };
    let happy = What::Face {
        expression: Expression::Happy,
        expression_confidence: 0.9,
    };
    let content = Content {
        seen: vec![
            at(happy, 0.95),
            at(boat, 0.8),
            at(What::Thing { class: 0 }, 0.7),
            at(boat, 0.65),
            at(What::Thing { class: 0 }, 0.61),
            at(What::Thing { class: 41 }, 0.5),
        ],
    };
    // (The person at 0.61 is below what counts.)
    assert_eq!(
        content.summary(),
        "a face, happy (0.95); 2 boats (0.80); a person (0.70)"
    );
    assert_eq!(plural("face, happy"), "faces, happy");
    assert_eq!(plural("bus"), "buses");
    assert_eq!(article("orange"), "an");
}

#[test]
fn a_forest_path_shows_nothing_the_models_know() {
    let content = seen("forest.jpg");
    assert_eq!(content.sure().count(), 0, "{}", content.summary());
    assert_eq!(content.summary(), "nothing it knows");
}

#[test]
fn the_same_picture_is_seen_the_same_way() {
    let a = see(&picture("cat.jpg")).unwrap();
    let b = see(&picture("cat.jpg")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn an_empty_or_tiny_picture_shows_nothing_and_fails_nothing() {
    assert_eq!(
        see(&DynamicImage::new_rgb8(0, 0)).unwrap(),
        Content::default()
    );
    let tiny = see(&DynamicImage::new_rgb8(1, 1)).unwrap();
    assert_eq!(tiny.sure().count(), 0);
}

#[test]
fn the_models_are_the_ones_listed_in_models_md() {
    // (What convert.py makes from the pinned package and tools: MODELS.md's table.)
    let folder = format!("{}/models", env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(format!("{folder}/MODELS.md")).unwrap();
    for file in ["face.onnx", "emotion.onnx", "objects.onnx"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {file} |")))
            .unwrap_or_else(|| panic!("{file} is not in MODELS.md"));
        let listed = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        let sum = std::process::Command::new("sha256sum")
            .arg(format!("{folder}/{file}"))
            .output()
            .unwrap();
        let sum = String::from_utf8_lossy(&sum.stdout);
        assert_eq!(sum.split_whitespace().next(), Some(listed), "{file}");
    }
}

/// Prints what the models see in every picture of a folder (`PICTURES=...`), with the time.
#[test]
#[ignore]
fn print_shared_pictures() {
    let dir = std::env::var("PICTURES").unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for path in names {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(d) = crate::analysis::read_for(&bytes, VIEW_SIDE) else {
            continue;
        };
        let t = std::time::Instant::now();
        let c = see(&d.image).unwrap();
        let top: Vec<String> = c
            .seen
            .iter()
            .take(4)
            .map(|s| format!("{} {:.2}", s.name(), s.confidence))
            .collect();
        eprintln!(
            "{:?} {:.0} ms: {}",
            path.file_name().unwrap(),
            t.elapsed().as_secs_f64() * 1e3,
            top.join(", ")
        );
    }
}

/// A real photo as the pipeline makes it: the working copy, with what the models saw.
fn photo(name: &str) -> crate::analysis::Picture {
    let path = format!("{}/tests/content/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let mut picture = crate::analysis::decode(&bytes).unwrap();
    picture.content = crate::pipeline::content_of(&bytes);
    picture
}

fn off() -> crate::compose::Settings {
    crate::compose::Settings {
        content: false,
        ..Default::default()
    }
}

#[test]
fn with_content_off_or_nothing_seen_the_music_is_what_it_was() {
    use crate::compose::{compose, Settings};
    for name in ["astronaut.jpg", "cat.jpg", "forest.jpg"] {
        let seen = photo(name);
        let mut blind = seen.clone();
        blind.content = Content::default();
        // Off: as if nothing had been looked at.
        assert_eq!(
            compose(&seen, &off(), String::new()),
            compose(&blind, &Settings::default(), String::new()),
            "{name}"
        );
    }
    // Nothing the models know (the forest): Auto and Off compose the same.
    let forest = photo("forest.jpg");
    assert_eq!(
        compose(&forest, &Settings::default(), String::new()),
        compose(&forest, &off(), String::new())
    );
}

#[test]
fn a_smile_brightens_the_mode_and_a_sad_face_darkens_it() {
    use crate::compose::{features, mood, tonality, Scale, Settings};
    let happy = photo("astronaut.jpg");
    let mut sad = happy.clone();
    for s in &mut sad.content.seen {
        if let What::Face { expression, .. } = &mut s.what {
            *expression = Expression::Sad;
        }
    }
    let auto = Settings::default();
    let (m_happy, m_off, m_sad) = (
        mood(&features(&happy, &auto)),
        mood(&features(&happy, &off())),
        mood(&features(&sad, &auto)),
    );
    assert!(
        m_happy > m_off + 0.4 && m_sad < m_off - 0.4,
        "{m_happy} {m_off} {m_sad}"
    );
    // The same colours: a brighter mode for the smile, a darker one for the sad face.
    let rank = |s: Scale| Scale::BY_BRIGHTNESS.iter().position(|&x| x == s).unwrap();
    let scale = |p: &crate::analysis::Picture, s: &Settings| tonality(&features(p, s), s).scale;
    let (bright, plain, dark) = (
        rank(scale(&happy, &auto)),
        rank(scale(&happy, &off())),
        rank(scale(&sad, &auto)),
    );
    assert!(bright > plain && dark < plain, "{bright} {plain} {dark}");
}

#[test]
fn what_a_picture_shows_chooses_its_style_unless_the_musician_did() {
    use crate::compose::{features, style, Settings, Style};
    let auto = Settings::default();
    for (name, want) in [
        ("astronaut.jpg", Style::Ballad),
        ("cat.jpg", Style::Chiptune),
        ("boats.jpg", Style::Ambient),
    ] {
        let p = photo(name);
        assert_eq!(style(&features(&p, &auto), &auto), want, "{name}");
        let set = Settings {
            style: Some(Style::Pop),
            ..auto
        };
        assert_eq!(style(&features(&p, &set), &set), Style::Pop, "{name}");
    }
}

#[test]
fn a_project_keeps_what_was_seen_and_refuses_what_no_model_can_see() {
    use crate::plugin::composition::Composition;
    let (composition, score) =
        Composition::of_picture(photo("astronaut.jpg"), "astronaut.jpg", Default::default());
    assert!(composition.picture().content.sure().count() >= 2);
    let mut state = composition.to_state();
    let text = serde_json::to_string(&state).unwrap();
    let back = Composition::from_state(serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(back.picture().content, composition.picture().content);
    assert_eq!(back.score(&back.settings), score);
    // A hand-edited project: a class beyond COCO's, a confidence that is no fraction.
    state.content.seen[0].confidence = f32::NAN;
    state.content.seen[1].what = What::Thing { class: 200 };
    let back = Composition::from_state(state).unwrap();
    assert!(back.picture().content.seen.len() <= composition.picture().content.seen.len() - 2);
}
