//! Loading a project that is damaged or from a newer Pixelody: keep what can be kept, rebuild
//! what can be rebuilt, and tell the musician (editor and log) what happened.
//!
//! nice-plug calls [`filter_state`] before it restores the persisted fields. It has no access to
//! the instance, so it writes its findings into the state's `load-notice` field, which the
//! instance's [`Notices`] receives like any other persisted field.

use std::sync::{Arc, Mutex};

use nice_plug::params::persist::PersistentField;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::PluginState;

use super::composition::{Composition, CompositionState};
use super::sync::lock;
use crate::score::{Score, SCORE_FORMAT_VERSION};

/// Messages for the musician about the project itself (a state that could only partly be
/// restored). Also written to the log. Never touched by the audio thread.
#[derive(Debug, Default)]
pub struct Notices {
    list: Mutex<Vec<String>>,
}

impl Notices {
    pub fn push(&self, message: impl Into<String>) {
        let message = message.into();
        nice_plug::nice_warn!("{message}");
        let mut list = lock(&self.list);
        if !list.contains(&message) {
            list.push(message);
        }
    }

    pub fn all(&self) -> Vec<String> {
        lock(&self.list).clone()
    }

    pub fn clear(&self) {
        lock(&self.list).clear();
    }
}

pub const NOTICE_FIELD: &str = "load-notice";

/// Checks the persisted score and picture of a state about to be loaded. A score that cannot be
/// read is composed again from the saved picture; if neither can be read both are left out, so
/// the instance keeps what it plays. Every finding becomes a notice.
pub fn filter_state(state: &mut PluginState) {
    // A project from before the Meter parameter was composed in 4/4 whatever the host said: it
    // keeps 4/4 (the parameter's default, Host, would recompose it in the host's meter).
    if !state.params.contains_key("meter") && state.fields.contains_key("composition") {
        state.params.insert(
            String::from("meter"),
            ParamValue::String(String::from("4/4")),
        );
    }
    let mut notices = Vec::new();
    let composition = state.fields.get("composition").map(|json| {
        serde_json::from_str::<CompositionState>(json)
            .ok()
            .and_then(Composition::from_state)
    });
    if let Some(None) = composition {
        state.fields.remove("composition");
        notices.push(String::from(
            "The project's picture could not be read; the current picture is kept.",
        ));
    }
    if let Some(json) = state.fields.get("score") {
        match serde_json::from_str::<Score>(json) {
            Ok(score) if score.version > SCORE_FORMAT_VERSION => notices.push(format!(
                "This project was saved by a newer Pixelody (score format {}); \
                 parts of it may sound different here. Update Pixelody to hear it as saved.",
                score.version
            )),
            Ok(_) => {}
            Err(_) => match composition {
                Some(Some(c)) => {
                    let score = c.score(&c.settings);
                    match serde_json::to_string(&score) {
                        Ok(json) => {
                            state.fields.insert(String::from("score"), json);
                            notices.push(String::from(
                                "The project's notes could not be read, so Pixelody composed \
                                 them again from the saved picture.",
                            ));
                        }
                        Err(_) => {
                            state.fields.remove("score");
                        }
                    }
                }
                _ => {
                    state.fields.remove("score");
                    notices.push(String::from(
                        "The project's notes could not be read; the current notes keep playing.",
                    ));
                }
            },
        }
    }
    if let Ok(json) = serde_json::to_string(&notices) {
        state.fields.insert(String::from(NOTICE_FIELD), json);
    }
}

/// The notices of one state load, as saved in its `load-notice` field.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(transparent)]
pub struct NoticeList(pub Vec<String>);

/// The notices of the last state load. Saved as an empty list: they are about one load, not part
/// of the project.
impl PersistentField<'_, NoticeList> for Arc<Notices> {
    fn set(&self, new_value: NoticeList) {
        self.clear();
        for message in new_value.0 {
            self.push(message);
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&NoticeList) -> R,
    {
        f(&NoticeList::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn state_of_example() -> PluginState {
        let (composition, score) = crate::plugin::example();
        let c = serde_json::to_string(&composition.to_state()).unwrap();
        let mut fields = BTreeMap::new();
        fields.insert(String::from("composition"), c);
        fields.insert(
            String::from("score"),
            serde_json::to_string(&score).unwrap(),
        );
        PluginState {
            version: String::from("0.1.0"),
            params: BTreeMap::new(),
            fields,
        }
    }

    fn notices(state: &PluginState) -> Vec<String> {
        serde_json::from_str(&state.fields[NOTICE_FIELD]).unwrap()
    }

    #[test]
    fn a_project_from_before_meters_stays_in_four_four() {
        let mut old = state_of_example();
        filter_state(&mut old);
        assert!(matches!(&old.params["meter"], ParamValue::String(m) if m == "4/4"));
        // A project that has the parameter keeps its value (Host, say).
        let mut new = state_of_example();
        new.params.insert(
            String::from("meter"),
            ParamValue::String(String::from("host")),
        );
        filter_state(&mut new);
        assert!(matches!(&new.params["meter"], ParamValue::String(m) if m == "host"));
    }

    #[test]
    fn a_sound_state_passes_unchanged_with_no_notice() {
        let mut state = state_of_example();
        let before = state.fields.clone();
        filter_state(&mut state);
        assert!(notices(&state).is_empty());
        assert_eq!(state.fields["score"], before["score"]);
        assert_eq!(state.fields["composition"], before["composition"]);
    }

    #[test]
    fn unreadable_notes_are_composed_again_from_the_saved_picture() {
        let mut state = state_of_example();
        let expected: Score = serde_json::from_str(&state.fields["score"]).unwrap();
        state
            .fields
            .insert(String::from("score"), String::from("{\"notes\": 7}"));
        filter_state(&mut state);
        let back: Score = serde_json::from_str(&state.fields["score"]).unwrap();
        assert_eq!(back, expected);
        assert!(notices(&state)[0].contains("composed them again"));
    }

    #[test]
    fn nothing_readable_leaves_the_instance_as_it_is_and_says_so() {
        let mut state = state_of_example();
        state
            .fields
            .insert(String::from("score"), String::from("[]"));
        state
            .fields
            .insert(String::from("composition"), String::from("{\"width\": -1}"));
        filter_state(&mut state);
        assert!(!state.fields.contains_key("score"));
        assert!(!state.fields.contains_key("composition"));
        let n = notices(&state);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[0].contains("picture could not be read"));
        assert!(n[1].contains("notes could not be read"));
    }

    #[test]
    fn a_newer_format_is_named() {
        let mut state = state_of_example();
        let mut score: serde_json::Value = serde_json::from_str(&state.fields["score"]).unwrap();
        score["version"] = serde_json::json!(SCORE_FORMAT_VERSION + 1);
        state
            .fields
            .insert(String::from("score"), score.to_string());
        filter_state(&mut state);
        assert!(notices(&state)[0].contains("newer Pixelody"));
    }

    #[test]
    fn notices_are_replaced_on_each_load_and_never_saved() {
        let n = Arc::new(Notices::default());
        n.set(NoticeList(vec![String::from("a")]));
        n.set(NoticeList(vec![String::from("b")]));
        assert_eq!(n.all(), vec![String::from("b")]);
        assert!(n.map(|v| v.0.is_empty()));
    }
}
