//! The nice-plug glue: the `Plugin` type the hosts load. It owns the engine on the audio thread,
//! maps the host transport and parameters onto plain engine calls, and exchanges scores with the
//! rest of the plugin through [`handover::ScoreSlot`].

pub mod composition;
pub mod examples;
pub mod handover;
pub mod loader;
pub mod params;
pub mod playhead;
pub mod presets;
pub mod randomise;
pub mod recovery;
pub mod sync;

use std::sync::Arc;

use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

use crate::engine::{Engine, TransportState};
use crate::score::{drum, Part, Score};
use composition::{Composition, CompositionSlot};
use handover::{AudioEnds, ScoreSlot};
use params::{MeterChoice, PixelodyParams, PlayChoice};
use playhead::Playhead;

/// The file name the bundled example is known by.
pub const EXAMPLE_NAME: &str = "example.png";
/// The picture a fresh instance plays until the musician brings their own.
pub const EXAMPLE_PICTURE: &[u8] = include_bytes!("../../assets/example.png");

pub struct Pixelody {
    params: Arc<PixelodyParams>,
    engine: Engine,
    audio: AudioEnds,
    keys: Keys,
    playhead: Arc<Playhead>,
    loader: Arc<loader::Loader>,
    /// The output's gain under the host's bypass: 1 playing, 0 bypassed, a ramp between.
    bypass_gain: f32,
    /// Samples until the audio thread may ask for a recomposition again.
    recompose_wait: usize,
}

/// How often, at most, the audio thread asks the background thread to recompose.
const RECOMPOSE_ASK_SECONDS: f32 = 0.05;

/// How long the host's bypass takes to fade the output out or back in.
const BYPASS_FADE_SECONDS: f32 = 0.02;

/// What incoming MIDI keys set: the held key (MIDI Trigger), the transposition, and the
/// position of a triggered phrase in beats since its key went down.
#[derive(Clone, Copy, Debug, Default)]
struct Keys {
    held: Option<u8>,
    transpose: i32,
    beat: f64,
}

impl Pixelody {
    fn key_in(&mut self, event: &PluginNoteEvent<Self>, root: i32, follow: bool, trigger: bool) {
        match *event {
            NoteEvent::NoteOn { key, velocity, .. } if velocity > 0.0 => {
                let Some(k) = key.number() else { return };
                if follow {
                    self.keys.transpose = i32::from(k) - root;
                }
                if trigger {
                    // A new key starts the phrase again from its beginning.
                    self.keys.held = Some(k);
                    self.keys.beat = 0.0;
                }
            }
            NoteEvent::NoteOn { key, .. } | NoteEvent::NoteOff { key, .. }
                if key.number().is_some() && self.keys.held == key.number() =>
            {
                self.keys.held = None;
            }
            _ => {}
        }
    }
}

/// Sends one of the engine's notes to the host, `shift` samples into the block.
fn send_note(context: &mut impl ProcessContext<Pixelody>, e: &crate::engine::NoteOut, shift: u32) {
    let (channel, key) = (Channel::Number(e.channel), Key::Number(e.pitch));
    let timing = e.offset + shift;
    let event = if e.on {
        NoteEvent::NoteOn {
            timing,
            voice_id: VoiceID::Wildcard,
            channel,
            key,
            velocity: e.velocity,
        }
    } else {
        NoteEvent::NoteOff {
            timing,
            voice_id: VoiceID::Wildcard,
            channel,
            key,
            velocity: 0.0,
        }
    };
    // A host without a note output port simply does not take them.
    let _ = context.try_send_event(event);
}

/// Applies the bypass gain to a stretch of output, moving it by `step` a sample towards 0 or 1.
/// The engine keeps playing underneath, so the music is in time when the bypass lifts.
fn bypass_fade(gain: &mut f32, step: f32, left: &mut [f32], right: &mut [f32]) {
    if step > 0.0 && *gain >= 1.0 {
        return;
    }
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        *gain = (*gain + step).clamp(0.0, 1.0);
        *l *= *gain;
        *r *= *gain;
    }
}

/// Work the audio thread hands to the background thread. Holds no heap data.
pub enum Task {
    /// Free the scores the audio thread has retired.
    CollectRetired,
    /// A composition parameter changed: compose the picture again with the new settings.
    Recompose,
}

impl Task {
    fn name(&self) -> &'static str {
        match self {
            Task::CollectRetired => "free retired scores",
            Task::Recompose => "recompose",
        }
    }
}

/// The bundled example picture at the default settings, and its score.
pub fn example() -> (Composition, Score) {
    let picture = crate::analysis::decode(EXAMPLE_PICTURE).expect("the example picture decodes");
    Composition::of_picture(picture, EXAMPLE_NAME, crate::compose::Settings::default())
}

/// The score of the bundled example picture, at the default settings.
pub fn example_score() -> Score {
    example().1
}

impl Default for Pixelody {
    fn default() -> Self {
        let (composition, score) = example();
        let (slot, audio) = ScoreSlot::new(score);
        Pixelody {
            params: Arc::new(PixelodyParams::new(slot, CompositionSlot::new(composition))),
            engine: Engine::new(48_000.0),
            audio,
            keys: Keys::default(),
            playhead: Arc::default(),
            loader: Arc::default(),
            bypass_gain: 1.0,
            recompose_wait: 0,
        }
    }
}

impl Plugin for Pixelody {
    const NAME: &'static str = "Pixelody";
    const VENDOR: &'static str = "Pixelody";
    const URL: &'static str = "https://pixelody.invalid";
    const EMAIL: &'static str = "hello@pixelody.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[],
        aux_output_ports: &[],
        names: PortNames::const_default(),
    }];
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;
    /// The sequenced notes go out too, on the samples the internal synth plays them.
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    /// Keys trigger or transpose the score (Play Mode, MIDI Transpose).
    const MIDI_INPUT: MidiConfig = MidiConfig::Basic;
    /// Room for every parameter moving at 64 points of a block plus keys; a host that sends more
    /// in one block has the excess dropped (automation thinned, each block's final values kept),
    /// never an allocation on the audio thread (see vendor/nice-plug/PIXELODY.md).
    const INPUT_EVENT_CAPACITY: usize = 4096;

    type Editor = crate::editor::PixelodyEditor;
    type SysExMessage = ();
    type BackgroundTask = Task;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        Some(crate::editor::PixelodyEditor::new(crate::editor::Link {
            params: self.params.clone(),
            playhead: self.playhead.clone(),
            loader: self.loader.clone(),
        }))
    }

    fn filter_state(state: &mut PluginState) {
        recovery::filter_state(state);
    }

    fn task_executor(&mut self) -> TaskExecutor<Self> {
        let params = self.params.clone();
        Box::new(move |task| {
            let name = task.name();
            let run = std::panic::AssertUnwindSafe(|| match task {
                Task::CollectRetired => params.score.collect_retired(),
                Task::Recompose => recompose_if_dirty(&params),
            });
            // The worker thread is shared by every instance in the host; a panic must end
            // neither it nor the sound (the score playing stays). The panic hook has logged
            // where it happened; this says which task it was.
            if std::panic::catch_unwind(run).is_err() {
                nice_error!("The background task '{name}' panicked; Pixelody carries on");
            }
        })
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.engine = Engine::new(config.sample_rate);
        let score = self.params.score.resync(&mut self.audio);
        self.engine.swap_score(score);
        true
    }

    fn reset(&mut self) {
        self.keys = Keys::default();
        self.bypass_gain = if self.params.output.bypass.value() {
            0.0
        } else {
            1.0
        };
        self.engine.reset(&self.params.engine_params());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        if self.audio.install_newest(&mut self.engine) {
            context.execute_background(Task::CollectRetired);
        }
        let t = context.transport();
        // The host's meter changed: recompose in it where the Meter parameter follows the host.
        // Noted before a recomposition is asked for, so that one composes in the host's meter.
        let composition = &self.params.composition;
        if composition.note_host_meter(t.time_sig_numerator, t.time_sig_denominator)
            && self.params.composing.meter.value() == MeterChoice::Host
        {
            composition
                .dirty
                .store(true, std::sync::atomic::Ordering::Release);
        }
        // A composition parameter changed: ask the background thread to recompose. The flag is
        // taken there, so a request lost to a full task queue (a host automating faster than
        // anything can compose) is simply made again, at most every RECOMPOSE_ASK_SECONDS.
        self.recompose_wait = self.recompose_wait.saturating_sub(buffer.samples());
        if self.recompose_wait == 0 && self.params.composition.is_dirty() {
            context.execute_background(Task::Recompose);
            self.recompose_wait = (RECOMPOSE_ASK_SECONDS * self.engine.sample_rate()) as usize;
        }
        let host = TransportState {
            playing: t.playing,
            tempo_bpm: t.tempo,
            pos_beats: t.pos_beats(),
            beats_per_bar: match (t.time_sig_numerator, t.time_sig_denominator) {
                (Some(n), Some(d)) if n > 0 && d > 0 => Some(f64::from(n) * 4.0 / f64::from(d)),
                _ => None,
            },
        };
        let mut params = self.params.engine_params();
        let trigger_mode = self.params.output.play_mode.value() == PlayChoice::Trigger;
        let root = self.params.output.root_key.value();
        let follow = trigger_mode || self.params.output.midi_transpose.value();
        let synth_on = self.params.output.internal_synth.value();
        // The wrapper cuts the block where the host moves Bypass, so this is sample-accurate.
        let bypass_step = if self.params.output.bypass.value() {
            -1.0
        } else {
            1.0
        } / (BYPASS_FADE_SECONDS * self.engine.sample_rate());
        let tempo = crate::engine::tempo_bpm(host.tempo_bpm, params.fallback_bpm);
        let beats_per_sample = tempo / 60.0 / f64::from(self.engine.sample_rate());
        let loop_beats = self.engine.score().map_or(0.0, |s| s.length_beats);
        let (shown_playing, shown_beat) = if trigger_mode {
            (self.keys.held.is_some(), self.keys.beat)
        } else {
            (host.playing, host.pos_beats.unwrap_or(0.0))
        };
        if loop_beats > 0.0 {
            self.playhead
                .publish(shown_playing, shown_beat.rem_euclid(loop_beats), tempo);
        }
        // The only layout we declare is stereo.
        let [left, right, ..] = buffer.as_slice() else {
            return ProcessStatus::KeepAlive;
        };
        let n = left.len().min(right.len());
        // The block is cut at every incoming note, so a key acts on its exact sample.
        let mut next = context.next_event();
        let mut pos = 0;
        while pos < n {
            while let Some(event) = next {
                if event.timing() as usize > pos {
                    break;
                }
                self.key_in(&event, root, follow, trigger_mode);
                next = context.next_event();
            }
            let end = next.map_or(n, |e| (e.timing() as usize).clamp(pos + 1, n));
            params.transpose = self.keys.transpose;
            let transport = if trigger_mode {
                TransportState {
                    playing: self.keys.held.is_some(),
                    tempo_bpm: Some(tempo),
                    pos_beats: Some(self.keys.beat),
                    beats_per_bar: host.beats_per_bar,
                }
            } else {
                TransportState {
                    pos_beats: host.pos_beats.map(|p| p + pos as f64 * beats_per_sample),
                    ..host
                }
            };
            let (l, r) = (&mut left[pos..end], &mut right[pos..end]);
            self.engine.process(&transport, &params, l, r);
            if !synth_on {
                l.fill(0.0);
                r.fill(0.0);
            }
            bypass_fade(&mut self.bypass_gain, bypass_step, l, r);
            self.keys.beat += (end - pos) as f64 * beats_per_sample;
            for e in self.engine.note_events() {
                send_note(context, e, pos as u32);
            }
            pos = end;
        }
        // Keys after the last sample (hosts should not send them) still count.
        while let Some(event) = next {
            self.key_in(&event, root, follow, trigger_mode);
            next = context.next_event();
        }
        // While the music plays it is made here, without input: keep processing. Once stopped,
        // what sounds rings out (releases, delay, reverb) for a tail the host is told.
        if shown_playing {
            ProcessStatus::KeepAlive
        } else {
            ProcessStatus::Tail(self.engine.tail_samples(&params))
        }
    }
}

/// Recomposes with the parameters' settings if a composition parameter changed since the last
/// recomposition began (see `CompositionSlot::recompose_if_dirty`: one composer at a time, and
/// no change lost). Off the audio thread: the background task the audio thread asks for, or the
/// editor when no audio runs.
pub fn recompose_if_dirty(params: &PixelodyParams) {
    params
        .composition
        .recompose_if_dirty(|| params.settings(), &params.score)
}

impl ClapPlugin for Pixelody {
    const CLAP_ID: &'static str = "app.pixelody.pixelody";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Turns a picture into music, in time with your DAW");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
    ];
    /// The drums' keys on channel 10, named as the kit plays them (hosts show the names in their
    /// drum editors; the MIDI the plug-in sends and exports uses the same keys).
    const CLAP_NOTE_NAMES: &'static [ClapNoteName] = &DRUM_NOTE_NAMES;

    /// The factory presets and the user's preset folder, for the host's preset browser.
    fn clap_preset_index() -> Option<ClapPresetIndex> {
        Some(ClapPresetIndex {
            file_extension: "json",
            file_type_name: "Pixelody preset",
            factory: presets::factory()
                .iter()
                .map(presets::host_listing)
                .collect(),
            user_folder: presets::user_folder(),
        })
    }

    fn clap_preset_file(path: &std::path::Path) -> Result<ClapPresetInfo, String> {
        presets::read_file_for_host(path).map(|preset| presets::host_listing(&preset))
    }

    fn clap_preset_loader(&self) -> Option<Arc<dyn ClapPresetLoader>> {
        Some(Arc::new(presets::HostLoader(self.params.clone())))
    }
}

/// [`Pixelody::CLAP_NOTE_NAMES`]: every drum of the kit, on every port.
const DRUM_NOTE_NAMES: [ClapNoteName; drum::ALL.len()] = {
    let mut names = [const {
        ClapNoteName {
            port: -1,
            channel: Part::Drums.channel() as i16,
            key: 0,
            name: "",
        }
    }; drum::ALL.len()];
    let mut i = 0;
    while i < drum::ALL.len() {
        names[i].key = drum::ALL[i] as i16;
        names[i].name = match drum::name(drum::ALL[i]) {
            Some(name) => name,
            None => "",
        };
        i += 1;
    }
    names
};

impl Vst3Plugin for Pixelody {
    const VST3_CLASS_ID: [u8; 16] = *b"PixelodyImgMusic";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
    /// The drums' keys, named for the host's drum editor (VST3 names keys per program, not per
    /// channel: the melodic parts' keys are not named, so only the kit's show).
    const VST3_PITCH_NAMES: &'static [(i16, &'static str)] = &DRUM_PITCH_NAMES;

    /// The factory presets as the host's program list.
    fn vst3_programs(&self) -> Option<Arc<dyn Vst3Programs>> {
        Some(Arc::new(presets::HostLoader(self.params.clone())))
    }
}

/// [`Pixelody::VST3_PITCH_NAMES`]: [`DRUM_NOTE_NAMES`] without port and channel.
const DRUM_PITCH_NAMES: [(i16, &str); drum::ALL.len()] = {
    let mut names = [(0, ""); drum::ALL.len()];
    let mut i = 0;
    while i < drum::ALL.len() {
        names[i] = (DRUM_NOTE_NAMES[i].key, DRUM_NOTE_NAMES[i].name);
        i += 1;
    }
    names
};
