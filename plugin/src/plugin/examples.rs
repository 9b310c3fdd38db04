//! The example pictures a musician can pick in the editor's browser, built into the plugin: the
//! bundled sunset, and scenes from the generated gallery (`gallery`), chosen to
//! sound unlike each other. Each reaches the loader as PNG bytes, the way a file would.

/// Name shown in the browser, and the gallery picture it is (`None`: the bundled sunset).
pub const EXAMPLES: [(&str, Option<&str>); 7] = [
    ("Sunset over hills", None),
    ("Night city", Some("night city")),
    ("Meadow flowers", Some("meadow flowers")),
    ("Underwater", Some("underwater")),
    ("Autumn leaves", Some("autumn leaves")),
    ("Storm clouds", Some("storm clouds")),
    ("Mondrian", Some("mondrian")),
];

/// The file name an example is known by once loaded ("Night city.png").
pub fn file_name(name: &str) -> String {
    format!("{name}.png")
}

/// The example's picture as PNG bytes, or `None` for a name that is not an example.
pub fn png(name: &str) -> Option<Vec<u8>> {
    let (_, painted) = EXAMPLES.iter().find(|(n, _)| *n == name)?;
    let Some(painted) = painted else {
        return Some(super::EXAMPLE_PICTURE.to_vec());
    };
    let picture = crate::gallery::picture(painted)?;
    let flat: Vec<u8> = picture.rgb.iter().flatten().copied().collect();
    let image = image::RgbImage::from_raw(picture.width as u32, picture.height as u32, flat)?;
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::Settings;
    use crate::plugin::composition::Composition;

    #[test]
    fn every_example_is_a_picture_and_they_sound_unlike_each_other() {
        let mut styles = Vec::new();
        let mut keys = Vec::new();
        for (name, _) in EXAMPLES {
            let bytes = png(name).unwrap_or_else(|| panic!("{name} has no picture"));
            let picture = crate::analysis::decode(&bytes).expect("an example decodes");
            let (composition, score) =
                Composition::of_picture(picture, &file_name(name), Settings::default());
            assert!(composition.source.starts_with(&file_name(name)));
            assert!(!score.notes.is_empty(), "{name} is silent");
            styles.push(score.style.clone());
            keys.push(score.tonality.clone());
        }
        styles.sort();
        styles.dedup();
        keys.sort();
        keys.dedup();
        assert!(styles.len() >= 3, "examples in {styles:?} only");
        assert!(keys.len() >= 4, "examples in {keys:?} only");
        assert_eq!(png("no such"), None);
    }
}
