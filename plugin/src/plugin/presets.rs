//! Presets: composition settings, style and sound saved together under a name. The factory set
//! ships inside the plugin (`plugin/presets/*.json`), user presets live in the user's config
//! folder in the same format. Loading a preset sets every parameter it covers, to its value or
//! to the default where it says nothing, so a preset sounds the same whatever was set before.
//! Read and written on the editor's thread; the audio thread sees only the parameter changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use super::params::PixelodyParams;

/// The version a preset file says it is written in; newer files are refused with a message.
pub const FORMAT: u32 = 1;
/// A preset file larger than this is not one (a few KB is plenty).
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// The factory presets, in the order the menu lists them.
const FACTORY: [&str; 14] = [
    include_str!("../../presets/01-picture-decides.json"),
    include_str!("../../presets/02-ambient-drift.json"),
    include_str!("../../presets/03-glass-arpeggios.json"),
    include_str!("../../presets/04-eight-bit-quest.json"),
    include_str!("../../presets/05-dusty-tape-beat.json"),
    include_str!("../../presets/06-night-drive.json"),
    include_str!("../../presets/07-felt-piano-ballad.json"),
    include_str!("../../presets/08-pop-hook.json"),
    include_str!("../../presets/09-scan-the-skyline.json"),
    include_str!("../../presets/10-spectral-shimmer.json"),
    include_str!("../../presets/11-chord-bed.json"),
    include_str!("../../presets/12-bass-and-drums.json"),
    include_str!("../../presets/13-picture-wave-pad.json"),
    include_str!("../../presets/14-music-box.json"),
];

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Preset {
    /// The file format's version ([`FORMAT`]); also what marks a JSON file as a preset.
    pub pixelody_preset: u32,
    pub name: String,
    /// One line on what it does, for the menu's tooltip.
    #[serde(default)]
    pub about: String,
    /// Parameter id to value; parameters it does not name take their defaults.
    pub values: BTreeMap<String, Value>,
}

/// A parameter's value as a preset stores it: numbers in the parameter's own unit (Hz, ms, dB,
/// bars), switches as true/false, choices by their stable id ("ambient", "1/8d").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Value {
    Switch(bool),
    Number(f64),
    Choice(String),
}

/// A parameter a preset covers, typed so it can be read and set without nice-plug's raw
/// parameter pointers.
#[derive(Clone, Copy)]
pub enum Knob<'a> {
    Float(&'a FloatParam),
    Int(&'a IntParam),
    Switch(&'a BoolParam),
    Choice(&'a dyn ChoiceParam),
}

/// The part of an enum parameter a preset needs, whatever its enum.
pub trait ChoiceParam {
    fn ids(&self) -> &'static [&'static str];
    fn index(&self) -> usize;
    fn default_index(&self) -> usize;
    /// The normalized value of the choice at `index`.
    fn normalized_of(&self, index: usize) -> f32;
    fn begin(&self, setter: &ParamSetter);
    fn set_normalized(&self, setter: &ParamSetter, normalized: f32);
    fn end(&self, setter: &ParamSetter);
    fn normalized(&self) -> f32;
    fn as_ptr(&self) -> ParamPtr;
}

impl<T: Enum + PartialEq + 'static> ChoiceParam for EnumParam<T> {
    fn ids(&self) -> &'static [&'static str] {
        T::ids().unwrap_or(T::variants())
    }
    fn index(&self) -> usize {
        self.value().to_index()
    }
    fn default_index(&self) -> usize {
        self.default_plain_value().to_index()
    }
    fn normalized_of(&self, index: usize) -> f32 {
        self.preview_normalized(T::from_index(index))
    }
    fn begin(&self, setter: &ParamSetter) {
        setter.begin_set_parameter(self);
    }
    fn set_normalized(&self, setter: &ParamSetter, normalized: f32) {
        setter.set_parameter_normalized(self, normalized);
    }
    fn end(&self, setter: &ParamSetter) {
        setter.end_set_parameter(self);
    }
    fn normalized(&self) -> f32 {
        self.unmodulated_normalized_value()
    }
    fn as_ptr(&self) -> ParamPtr {
        Param::as_ptr(self)
    }
}

/// Runs `$e` with `$p` bound to the knob's parameter, whatever its kind (they share the `Param`
/// trait's calls but not a type).
macro_rules! with_param {
    ($knob:expr, $p:ident => $e:expr, $choice:ident => $c:expr) => {
        match $knob {
            Knob::Float($p) => $e,
            Knob::Int($p) => $e,
            Knob::Switch($p) => $e,
            Knob::Choice($choice) => $c,
        }
    };
}

impl Knob<'_> {
    /// The value as a preset stores it.
    pub fn value(self) -> Value {
        match self {
            Knob::Float(p) => Value::Number(f64::from(p.value())),
            Knob::Int(p) => Value::Number(f64::from(p.value())),
            Knob::Switch(p) => Value::Switch(p.value()),
            Knob::Choice(p) => Value::Choice(p.ids()[p.index()].to_owned()),
        }
    }

    /// The normalized value `value` means for this parameter (clamped into its range), or
    /// `None` when it cannot be this parameter's (a word for a number, an unknown choice).
    pub fn normalized_for(self, value: &Value) -> Option<f32> {
        match (self, value) {
            (Knob::Float(p), Value::Number(v)) if v.is_finite() => {
                Some(p.preview_normalized(*v as f32))
            }
            (Knob::Int(p), Value::Number(v)) if v.is_finite() => {
                let v = v.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
                Some(p.preview_normalized(v))
            }
            (Knob::Switch(p), Value::Switch(on)) => Some(p.preview_normalized(*on)),
            (Knob::Choice(p), Value::Choice(id)) => {
                let index = p.ids().iter().position(|i| i == id)?;
                Some(p.normalized_of(index))
            }
            _ => None,
        }
    }

    pub fn default_normalized(self) -> f32 {
        with_param!(self, p => p.default_normalized_value(), c => c.normalized_of(c.default_index()))
    }

    pub fn normalized(self) -> f32 {
        with_param!(self, p => p.unmodulated_normalized_value(), c => c.normalized())
    }

    pub fn begin(self, setter: &ParamSetter) {
        with_param!(self, p => setter.begin_set_parameter(p), c => c.begin(setter))
    }

    pub fn set_normalized(self, setter: &ParamSetter, normalized: f32) {
        with_param!(self, p => setter.set_parameter_normalized(p, normalized), c => c.set_normalized(setter, normalized))
    }

    pub fn end(self, setter: &ParamSetter) {
        with_param!(self, p => setter.end_set_parameter(p), c => c.end(setter))
    }

    /// The parameter as the host's list knows it.
    pub fn as_ptr(self) -> ParamPtr {
        with_param!(self, p => p.as_ptr(), c => c.as_ptr())
    }
}

/// Every parameter a preset covers, with its id: composition (not Variation: a preset works
/// with whichever variation of the picture is playing), style, Lock Timbre, the sound, the
/// parts. Not the host-facing ones (Output Gain, tempo, play mode, MIDI, Internal Synth).
pub fn knobs(p: &PixelodyParams) -> Vec<(&'static str, Knob<'_>)> {
    let c = &p.composing;
    let mut knobs: Vec<(&'static str, Knob<'_>)> = vec![
        ("mode", Knob::Choice(&c.mode)),
        ("key", Knob::Choice(&c.key)),
        ("scale", Knob::Choice(&c.scale)),
        ("style", Knob::Choice(&c.style)),
        ("bars", Knob::Int(&c.bars)),
        ("density", Knob::Float(&c.density)),
        ("low", Knob::Int(&c.low_note)),
        ("high", Knob::Int(&c.high_note)),
        ("grid", Knob::Choice(&c.grid)),
        ("threshold", Knob::Float(&c.threshold)),
        ("invert", Knob::Switch(&c.invert)),
        ("snap", Knob::Switch(&c.snap)),
        ("lock_timbre", Knob::Switch(&p.sound.lock_timbre)),
        ("delay_time", Knob::Choice(&p.space.delay_time)),
    ];
    knobs.extend(p.timbre().map(|(t, param)| (t.id, Knob::Float(param))));
    const PARTS: [(&str, &str); 4] = [
        ("melody_level", "melody_on"),
        ("harmony_level", "harmony_on"),
        ("bass_level", "bass_on"),
        ("drums_level", "drums_on"),
    ];
    for ((level_id, on_id), mix) in PARTS.iter().zip(p.mixes()) {
        knobs.push((level_id, Knob::Float(&mix.level)));
        knobs.push((on_id, Knob::Switch(&mix.on)));
    }
    knobs
}

/// What loading `preset` sets: each covered parameter's normalized value (its default where the
/// preset names none, or names one that cannot be this parameter's). A preset that leaves Lock
/// Timbre off hands the sound to the picture ("Picture Decides"): the sound it does not name is
/// the one the playing picture proposes, not the defaults.
pub fn targets<'a>(p: &'a PixelodyParams, preset: &Preset) -> Vec<(Knob<'a>, f32)> {
    let proposed = leaves_sound_to_picture(preset).then(|| proposal(p, preset));
    targets_with(p, preset, proposed)
}

/// The sound the playing pictures propose with the settings `preset` leaves: the playing score's
/// when the preset changes no composition setting, else computed for its settings (the score it
/// asks for will propose the same, in its style: the one sound the menu, the host's browser and
/// a host's program change all set at once).
fn proposal(p: &PixelodyParams, preset: &Preset) -> crate::score::Patch {
    let set = targets_with(p, preset, None);
    let settings = p.settings_with(&|ptr| {
        set.iter()
            .find(|(knob, _)| knob.as_ptr() == ptr)
            .map(|(_, n)| *n)
    });
    if settings == p.settings() {
        p.score.current().patch
    } else {
        p.composition.current().proposal(&settings)
    }
}

/// Whether `preset` leaves the sound it does not name to the picture (it does not lock the
/// timbre).
pub fn leaves_sound_to_picture(preset: &Preset) -> bool {
    !matches!(preset.values.get("lock_timbre"), Some(Value::Switch(true)))
}

/// [`targets`], with the sound a preset does not name from `proposed` where given.
fn targets_with<'a>(
    p: &'a PixelodyParams,
    preset: &Preset,
    proposed: Option<crate::score::Patch>,
) -> Vec<(Knob<'a>, f32)> {
    let picture = |id: &str| -> Option<f32> {
        let patch = proposed.as_ref()?;
        let (row, _) = p.timbre().find(|(t, _)| t.id == id)?;
        let value = (row.get)(patch);
        // Exactly the picture's value, as a drop sets it (see `TimbreParam::normalized_for`).
        value.is_finite().then(|| row.normalized_for(value))
    };
    knobs(p)
        .into_iter()
        .map(|(id, knob)| {
            let normalized = preset
                .values
                .get(id)
                .and_then(|v| knob.normalized_for(v))
                .or_else(|| picture(id))
                .unwrap_or_else(|| knob.default_normalized());
            (knob, normalized)
        })
        .collect()
}

/// Whether the parameters are what `preset` sets (the menu shows its name then). A preset that
/// hands the sound to the picture also matches with the sound at its defaults (a fresh instance
/// plays the example with the default sound: it is "Picture Decides").
pub fn matches(p: &PixelodyParams, preset: &Preset) -> bool {
    let all = |set: Vec<(Knob<'_>, f32)>| {
        set.iter()
            .all(|(knob, n)| (knob.normalized() - n).abs() < 1e-4)
    };
    // (Matching settings compose the playing score: its proposal is the one to compare, and
    // nothing is composed to ask, for every preset in every frame.)
    let playing = leaves_sound_to_picture(preset).then(|| p.score.current().patch);
    all(targets_with(p, preset, playing)) || all(targets_with(p, preset, None))
}

/// Loads `preset` as one change the host records: every parameter that moves is taken (begin),
/// set, then all are released (end) together.
pub fn apply(p: &PixelodyParams, setter: &ParamSetter, preset: &Preset) {
    let moving: Vec<(Knob<'_>, f32)> = targets(p, preset)
        .into_iter()
        .filter(|(knob, n)| (knob.normalized() - n).abs() >= 1e-6)
        .collect();
    for (knob, _) in &moving {
        knob.begin(setter);
    }
    for (knob, n) in &moving {
        knob.set_normalized(setter, *n);
    }
    for (knob, _) in &moving {
        knob.end(setter);
    }
}

/// The parameters now, as a preset named `name`.
pub fn capture(p: &PixelodyParams, name: &str) -> Preset {
    Preset {
        pixelody_preset: FORMAT,
        name: name.to_owned(),
        about: String::new(),
        values: knobs(p)
            .into_iter()
            .map(|(id, knob)| (id.to_owned(), knob.value()))
            .collect(),
    }
}

/// Reads a preset from JSON text; the error says what is wrong in a musician's words.
pub fn parse(text: &str) -> Result<Preset, String> {
    let preset: Preset =
        serde_json::from_str(text).map_err(|_| String::from("not a Pixelody preset"))?;
    if preset.pixelody_preset > FORMAT {
        return Err(String::from("saved by a newer Pixelody"));
    }
    if preset.name.trim().is_empty() {
        return Err(String::from("the preset has no name"));
    }
    Ok(preset)
}

/// The factory presets.
pub fn factory() -> Vec<Preset> {
    FACTORY
        .iter()
        .map(|text| parse(text).expect("a factory preset reads (tested)"))
        .collect()
}

/// The factory presets' names, in order (read once).
pub fn factory_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| factory().into_iter().map(|preset| preset.name).collect())
}

/// Where user presets are kept: `$XDG_CONFIG_HOME/pixelody/presets` (or `~/.config/...`).
pub fn user_folder() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("pixelody").join("presets"))
}

/// The user's presets in `folder`, by name, and one line per file that could not be read.
pub fn load_user(folder: &Path) -> (Vec<Preset>, Vec<String>) {
    let mut presets = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return (presets, problems);
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read_file(&path) {
            Ok(preset) => presets.push(preset),
            Err(why) => problems.push(format!("{name}: {why}")),
        }
    }
    presets.sort_by_key(|p| p.name.to_lowercase());
    (presets, problems)
}

/// The file a user preset called `name` is saved in.
pub fn file_for(folder: &Path, name: &str) -> PathBuf {
    let clean: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    folder.join(format!("{}.json", clean.trim()))
}

/// Saves `preset` in `folder` (made if missing), replacing one of the same name.
pub fn save_user(folder: &Path, preset: &Preset) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    let path = file_for(folder, &preset.name);
    let text = serde_json::to_string_pretty(preset).map_err(std::io::Error::other)?;
    // Written aside, then renamed: a crash mid-write leaves the old file, not half a preset.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// A preset as a host's browser lists it (CLAP preset discovery): its name (also the key that
/// loads a factory preset), what it does, and tags: its mode and style, and "picture sound" when
/// the sound it does not name is the picture's.
pub fn host_listing(preset: &Preset) -> ClapPresetInfo {
    let mut features = Vec::new();
    for id in ["mode", "style"] {
        if let Some(Value::Choice(choice)) = preset.values.get(id) {
            features.push(choice.clone());
        }
    }
    if leaves_sound_to_picture(preset) {
        features.push(String::from("picture sound"));
    }
    ClapPresetInfo {
        name: preset.name.clone(),
        load_key: preset.name.clone(),
        description: preset.about.clone(),
        features,
    }
}

/// The preset in the file at `path`, or why it is not one (too large, unreadable, not a
/// preset).
pub fn read_file(path: &Path) -> Result<Preset, String> {
    let text = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => Err(String::from("too large to be a preset")),
        Ok(_) => std::fs::read_to_string(path).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }?;
    parse(&text)
}

/// [`read_file`] for a host, whose message names the file.
pub fn read_file_for_host(path: &Path) -> Result<Preset, String> {
    read_file(path).map_err(|why| format!("{}: {why}", path.display()))
}

/// Loads presets for a host (`clap.preset-load`): the parameters as the editor's menu sets them.
pub struct HostLoader(pub std::sync::Arc<PixelodyParams>);

impl ClapPresetLoader for HostLoader {
    fn load(
        &self,
        file: Option<&Path>,
        load_key: Option<&str>,
    ) -> Result<Vec<(ParamPtr, f32)>, String> {
        let preset = match (file, load_key) {
            (Some(path), _) => read_file_for_host(path)?,
            (None, Some(key)) => factory()
                .into_iter()
                .find(|preset| preset.name == key)
                .ok_or_else(|| format!("Pixelody has no preset named {key}"))?,
            (None, None) => return Err(String::from("no preset named")),
        };
        Ok(self.load_preset(preset))
    }
}

impl HostLoader {
    /// Every parameter `preset` moves with its value, as the editor's menu sets them; the menu
    /// then names `preset`.
    fn load_preset(&self, preset: Preset) -> Vec<(ParamPtr, f32)> {
        let p = &self.0;
        let values = targets(p, &preset)
            .into_iter()
            .map(|(knob, n)| (knob.as_ptr(), n))
            .collect();
        *p.preset_name
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = preset.name;
        values
    }
}

/// The factory presets as a VST3 host's program list, loaded as the editor's menu loads them.
impl Vst3Programs for HostLoader {
    fn names(&self) -> Vec<String> {
        factory_names().to_vec()
    }

    fn load(&self, index: usize) -> Result<Vec<(ParamPtr, f32)>, String> {
        let preset = factory()
            .into_iter()
            .nth(index)
            .ok_or_else(|| format!("Pixelody has no preset number {}", index + 1))?;
        Ok(self.load_preset(preset))
    }

    fn current(&self) -> Option<usize> {
        let name = self
            .0
            .preset_name
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        factory_names().iter().position(|known| *known == *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::Style;
    use crate::test_support::example_params as params;

    #[test]
    fn picture_decides_hands_the_sound_to_the_playing_picture() {
        let p = params();
        let proposed = p.score.current().patch;
        let decides = &factory()[0];
        assert_eq!(decides.name, "Picture Decides");
        let set = targets(&p, decides);
        let mut differs_from_default = 0;
        for (row, param) in p.timbre() {
            let (_, n) = set
                .iter()
                .find(|(k, _)| k.as_ptr() == param.as_ptr())
                .unwrap();
            let want = param.preview_normalized((row.get)(&proposed));
            assert!((n - want).abs() < 1e-6, "{}: {n} against {want}", row.id);
            if (want - param.default_normalized_value()).abs() > 1e-3 {
                differs_from_default += 1;
            }
        }
        assert!(
            differs_from_default > 0,
            "the example proposes a sound of its own"
        );
        // A preset that locks the timbre keeps its own sound (its defaults where it names none).
        let locked = factory()
            .into_iter()
            .find(|x| matches!(x.values.get("lock_timbre"), Some(Value::Switch(true))));
        let locked = locked.expect("a factory preset that locks the timbre");
        for (knob, n) in targets(&p, &locked) {
            let named = knobs(&p)
                .into_iter()
                .find(|(_, k)| k.as_ptr() == knob.as_ptr())
                .map(|(id, _)| locked.values.contains_key(id))
                .unwrap();
            if !named {
                assert!((n - knob.default_normalized()).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn a_preset_that_restyles_the_picture_sets_the_sound_its_score_will_propose() {
        // A preset leaving the sound to the picture that also changes the composition (its style,
        // density) sets, at once, the sound of the score it asks for: not the playing score's.
        let p = params();
        let playing = p.score.current().patch;
        let mut differ = 0;
        for (id, style) in [
            ("ambient", Style::Ambient),
            ("ballad", Style::Ballad),
            ("pulse", Style::Pulse),
            ("chiptune", Style::Chiptune),
        ] {
            let mut values = BTreeMap::new();
            values.insert(String::from("style"), Value::Choice(String::from(id)));
            values.insert(String::from("density"), Value::Number(0.4));
            let preset = Preset {
                pixelody_preset: FORMAT,
                name: format!("My {id}"),
                about: String::new(),
                values,
            };
            assert!(leaves_sound_to_picture(&preset));
            let mut settings = p.settings();
            settings.style = Some(style);
            settings.density = 0.4;
            let composed = p.composition.current().score(&settings).patch;
            let set = targets(&p, &preset);
            for (row, param) in p.timbre() {
                let (_, n) = set
                    .iter()
                    .find(|(k, _)| k.as_ptr() == param.as_ptr())
                    .unwrap();
                let want = row.normalized_for((row.get)(&composed));
                assert!(
                    (n - want).abs() < 1e-6,
                    "{id}, {}: {n} against {want}",
                    row.id
                );
            }
            differ += usize::from(composed != playing);
        }
        // (The example's own score is not every one of these styles: the test tells them apart.)
        assert!(differ >= 3, "{differ}");
    }

    #[test]
    fn the_knobs_are_the_parameters_the_host_knows_by_those_ids() {
        let p = params();
        let map = p.param_map();
        let knobs = knobs(&p);
        for (id, knob) in &knobs {
            let (found, _, _) = map
                .iter()
                .find(|(_, q, _)| *q == knob.as_ptr())
                .expect("a parameter the host sees");
            assert_eq!(found, id);
        }
        let mut ids: Vec<&str> = knobs.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), knobs.len(), "an id twice");
        assert_eq!(knobs.len(), 51);
    }

    #[test]
    fn twelve_or_more_factory_presets_read_and_name_only_real_parameters_in_range() {
        let p = params();
        let presets = factory();
        assert!(presets.len() >= 12);
        let mut names: Vec<&str> = presets.iter().map(|x| x.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), presets.len(), "two presets with one name");
        for preset in &presets {
            assert!(
                !preset.about.is_empty(),
                "{} says nothing about itself",
                preset.name
            );
            for (id, value) in &preset.values {
                let (_, knob) = knobs(&p)
                    .into_iter()
                    .find(|(i, _)| i == id)
                    .unwrap_or_else(|| panic!("{}: no parameter '{id}'", preset.name));
                let n = knob
                    .normalized_for(value)
                    .unwrap_or_else(|| panic!("{}: {id} cannot be {value:?}", preset.name));
                // In range: the value survives the trip to normalized and back.
                if let (Knob::Float(f), Value::Number(v)) = (knob, value) {
                    let back = f.preview_plain(n);
                    assert!(
                        (f64::from(back) - v).abs() <= 1e-3 * v.abs().max(1.0),
                        "{}: {id} {v} is outside {}..{}",
                        preset.name,
                        f.preview_plain(0.0),
                        f.preview_plain(1.0)
                    );
                }
            }
            let low = preset.values.get("low").map_or(60.0, number);
            let high = preset.values.get("high").map_or(84.0, number);
            assert!(high >= low + 7.0, "{}: range too narrow", preset.name);
        }
        // Every preset sets something another does not: no two sound alike.
        for (i, a) in presets.iter().enumerate() {
            for b in &presets[i + 1..] {
                assert_ne!(a.values, b.values, "{} and {}", a.name, b.name);
            }
        }
    }

    fn number(v: &Value) -> f64 {
        match v {
            Value::Number(n) => *n,
            _ => f64::NAN,
        }
    }

    #[test]
    fn the_first_factory_preset_is_every_default() {
        let p = params();
        let first = &factory()[0];
        assert!(
            matches(&p, first),
            "fresh parameters are not '{}'",
            first.name
        );
        for preset in &factory()[1..] {
            assert!(!matches(&p, preset), "{} is the defaults", preset.name);
        }
    }

    #[test]
    fn a_captured_preset_reads_back_as_the_same_settings() {
        let p = params();
        let preset = capture(&p, "Mine");
        let text = serde_json::to_string_pretty(&preset).unwrap();
        let back = parse(&text).unwrap();
        assert_eq!(back, preset);
        assert!(matches(&p, &back));
        // Choices are saved by their ids, which never change.
        assert_eq!(back.values["style"], Value::Choice(String::from("auto")));
        assert_eq!(
            back.values["delay_time"],
            Value::Choice(String::from("1/8d"))
        );
    }

    #[test]
    fn values_a_preset_cannot_mean_fall_back_to_the_default() {
        let p = params();
        let mut values = BTreeMap::new();
        values.insert(String::from("style"), Value::Choice(String::from("polka")));
        values.insert(String::from("density"), Value::Choice(String::from("lots")));
        values.insert(String::from("bars"), Value::Number(1e12));
        values.insert(String::from("cutoff"), Value::Number(-5.0));
        values.insert(String::from("no_such"), Value::Number(1.0));
        let preset = Preset {
            pixelody_preset: FORMAT,
            name: String::from("odd"),
            about: String::new(),
            values,
        };
        let targets = targets(&p, &preset);
        let at = |id: &str| {
            let i = knobs(&p).iter().position(|(k, _)| *k == id).unwrap();
            targets[i].1
        };
        assert_eq!(at("style"), p.composing.style.default_normalized_value());
        assert_eq!(
            at("density"),
            p.composing.density.default_normalized_value()
        );
        assert_eq!(at("bars"), 1.0, "clamped to the longest");
        assert_eq!(at("cutoff"), 0.0, "clamped to the lowest");
    }

    #[test]
    fn user_presets_save_load_and_report_bad_files() {
        let dir = std::env::temp_dir().join(format!("pixelody-presets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = params();
        let mine = capture(&p, "My / Sound");
        let path = save_user(&dir, &mine).unwrap();
        assert_eq!(path, dir.join("My _ Sound.json"));
        // Saving again under the same name replaces it.
        save_user(&dir, &mine).unwrap();
        std::fs::write(dir.join("junk.json"), b"\x00\x01 not json").unwrap();
        std::fs::write(
            dir.join("future.json"),
            br#"{"pixelody_preset": 99, "name": "x", "values": {}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        let (presets, problems) = load_user(&dir);
        assert_eq!(presets, vec![mine]);
        assert_eq!(
            problems,
            vec![
                String::from("future.json: saved by a newer Pixelody"),
                String::from("junk.json: not a Pixelody preset"),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            load_user(&dir),
            (Vec::new(), Vec::new()),
            "no folder, no presets"
        );
    }
}
