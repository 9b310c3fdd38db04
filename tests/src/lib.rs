//! An in-process CLAP host (clack-host) for testing the built Pixelody plugin the way a DAW runs
//! it: loaded from its bundle, activated, driven block by block on an audio thread with a moving
//! transport, its state saved and loaded through the CLAP state extension.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window as GuiWindow,
};
use clack_extensions::note_name::{NoteName, NoteNameBuffer, PluginNoteName};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::preset_discovery::prelude::*;
use clack_extensions::state::PluginState;
use clack_extensions::tail::{PluginTail, TailLength};
pub use clack_host::events::event_types::{
    NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::EventFlags;
pub use clack_host::events::Match;
use clack_host::prelude::*;
pub use clack_host::prelude::{ClapId, EventBuffer, Pckn};
use clack_host::utils::{BeatTime, SecondsTime};
use pixelody::score::Score;

pub mod vst3_host;

pub const PLUGIN_ID: &str = "app.pixelody.pixelody";

/// The workspace's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// nice-plug's id for a parameter id in CLAP and VST3 alike (its `hash_param_id`: the string's
/// bytes, times 31, the top bit clear), to find the host's parameter for a preset's knob.
pub fn host_param_id(id: &str) -> u32 {
    let hash = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    hash & !(1 << 31)
}

/// What the editor's preset menu of a fresh instance (playing the bundled example) sets for
/// `preset`: each parameter it moves, by host id, with its string id, normalized value and
/// steps (1 for a continuous one: CLAP's plain value is the normalized one times this).
pub fn menu_targets(preset: &pixelody::plugin::presets::Preset) -> Vec<(u32, String, f32, f64)> {
    use nice_plug::prelude::{ParamPtr, Params};
    let (composition, score) = pixelody::plugin::example();
    let (slot, _audio) = pixelody::plugin::handover::ScoreSlot::new(score);
    let menu = pixelody::plugin::params::PixelodyParams::new(
        slot,
        pixelody::plugin::composition::CompositionSlot::new(composition),
    );
    let ids: Vec<(ParamPtr, String)> = menu
        .param_map()
        .into_iter()
        .map(|(id, ptr, _)| (ptr, id))
        .collect();
    pixelody::plugin::presets::targets(&menu, preset)
        .into_iter()
        .map(|(knob, normalized)| {
            let (_, id) = ids.iter().find(|(p, _)| *p == knob.as_ptr()).unwrap();
            // SAFETY: the pointer comes from `menu`'s parameters, alive here.
            let steps = unsafe { knob.as_ptr().step_count() }.unwrap_or(1) as f64;
            (host_param_id(id), id.clone(), normalized, steps)
        })
        .collect()
}

/// The CLAP bundle in target/bundled (`cargo xtask test` bundles it first).
pub fn release_bundle() -> PathBuf {
    let path = target_dir().join("bundled/Pixelody.clap");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (it bundles the plugin first)",
        path.display()
    );
    path
}

/// The `pixelody` command line the tests compare the plugin with: `PIXELODY_CLI` (what
/// `cargo xtask test` built), else the release build.
pub fn cli_binary() -> PathBuf {
    std::env::var_os("PIXELODY_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release/pixelody"))
}

/// The plugin library built with `--features assert_process_allocs` in the `ci` profile (which
/// gives nice-plug the debug assertions its guard needs), kept aside by `cargo xtask test`.
pub fn alloc_checked_library() -> PathBuf {
    let path = target_dir().join("alloc-check/libpixelody.so");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (it builds the allocation-checked plugin)",
        path.display()
    );
    path
}

pub struct TestHostShared {
    callback_requested: AtomicBool,
}

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>();
    }
}

/// The host side of the editor: the window is the host's, sized as the plugin asks (nice-plug
/// requires a host that implements this extension before it opens an editor, as every DAW does).
impl HostGuiImpl for TestHostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

/// What the simulated DAW's transport says at the start of a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostTransport {
    pub playing: bool,
    /// `None`: the host sends no tempo (flag cleared).
    pub tempo: Option<f64>,
    /// `None`: the host sends no beat timeline.
    pub pos_beats: Option<f64>,
    /// The time signature (numerator, denominator); `None`: the host names none.
    pub meter: Option<(u16, u16)>,
}

impl HostTransport {
    pub fn playing_at(tempo: f64, pos_beats: f64) -> Self {
        HostTransport {
            playing: true,
            tempo: Some(tempo),
            pos_beats: Some(pos_beats),
            meter: None,
        }
    }

    fn event(&self) -> TransportEvent {
        let mut flags = TransportFlags::empty();
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        if self.tempo.is_some() {
            flags |= TransportFlags::HAS_TEMPO;
        }
        if self.pos_beats.is_some() {
            flags |= TransportFlags::HAS_BEATS_TIMELINE | TransportFlags::HAS_SECONDS_TIMELINE;
        }
        if self.meter.is_some() {
            flags |= TransportFlags::HAS_TIME_SIGNATURE;
        }
        let (numerator, denominator) = self.meter.unwrap_or((4, 4));
        let tempo = self.tempo.unwrap_or(0.0);
        let beats = self.pos_beats.unwrap_or(0.0);
        let seconds = if tempo > 0.0 {
            beats * 60.0 / tempo
        } else {
            0.0
        };
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(seconds),
            tempo,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_int(0),
            loop_end_beats: BeatTime::from_int(0),
            loop_start_seconds: SecondsTime::from_int(0),
            loop_end_seconds: SecondsTime::from_int(0),
            bar_start: BeatTime::from_int(0),
            bar_number: 0,
            time_signature_numerator: numerator,
            time_signature_denominator: denominator,
        }
    }
}

/// A note event the plugin sent to the host, at its absolute sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteOut {
    pub sample: usize,
    pub on: bool,
    pub key: u8,
    pub channel: u8,
}

/// One block the host will process: its length, the transport at its first sample, and
/// optionally a parameter change (CLAP id, plain value) at that first sample.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub frames: usize,
    pub transport: HostTransport,
    pub param: Option<(ClapId, f64)>,
    /// A key going down (`true`) or up, with its number, at this sample of the block.
    pub key: Option<(bool, u8, u32)>,
}

/// Loads each plugin library once per test process and keeps it loaded: tests run in parallel,
/// and unloading a library while another thread creates an instance from it is a race no real
/// host exposes (hosts keep plugin libraries loaded for the session).
fn entry(path: &Path) -> PluginEntry {
    static LOADED: Mutex<Vec<(PathBuf, PluginEntry)>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, e)) = loaded.iter().find(|(p, _)| p == path) {
        return e.clone();
    }
    if loaded.is_empty() && std::env::var_os("NICE_LOG").is_none() {
        // nice-plug reads NICE_LOG as the library loads; the first load in this process happens
        // here, under the lock, so no other test thread loads the plugin meanwhile.
        let log = target_dir().join(format!("pixelody-tests-{}.log", test_binary_name()));
        let _ = std::fs::remove_file(&log);
        std::env::set_var("NICE_LOG", &log);
    }
    // SAFETY: the library is our own plugin, built from this workspace.
    let e = unsafe { PluginEntry::load(path) }
        .unwrap_or_else(|err| panic!("loading {}: {err:?}", path.display()));
    loaded.push((path.to_path_buf(), e.clone()));
    e
}

/// What the test host (or indexer) called `name` tells the plug-in about itself.
fn host_info(name: &str) -> HostInfo {
    HostInfo::new(name, "Pixelody", "https://pixelody.invalid", "1.0").unwrap()
}

fn test_binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| String::from("unknown"))
}

/// The file the plugin logs to in this test process (`NICE_LOG`).
pub fn plugin_log() -> Option<PathBuf> {
    std::env::var_os("NICE_LOG").map(PathBuf::from)
}

/// The lines of the plugin's log that say something panicked. The plugin is its own library with
/// its own panic hook (nice-plug's, which logs), so a panic on one of its threads (the shared
/// background worker, an editor thread) never reaches this process's test harness: a test that
/// passes while the plug-in froze for the user. Every host here therefore reads the log.
pub fn plugin_panics() -> Vec<String> {
    let Some(text) = plugin_log().and_then(|p| std::fs::read(p).ok()) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains("panicked") || l.contains("ERROR thread"))
        .map(String::from)
        .collect()
}

/// Fails the test if the plugin's log says anything panicked in this process.
pub fn assert_no_plugin_panics() {
    let panics = plugin_panics();
    assert!(panics.is_empty(), "the plugin panicked: {panics:#?}");
}

/// A loaded plugin instance.
pub struct ClapHost {
    instance: PluginInstance<TestHost>,
    processor: Option<StoppedPluginAudioProcessor<TestHost>>,
    pub sample_rate: f64,
    pub max_block: usize,
    /// The tail the plugin reported (CLAP `tail`, asked on the audio thread) after the last block
    /// processed.
    pub tail: Option<TailLength>,
    /// Whether the editor was created and not yet destroyed: a host destroys it before the
    /// instance (CLAP requires it), also when a test fails with the editor open.
    editor_open: bool,
    // Declared last: the library must outlive the instance.
    _entry: PluginEntry,
}

impl ClapHost {
    /// Loads the plugin from `path` and instantiates it.
    pub fn load(path: &Path) -> ClapHost {
        let entry = entry(path);
        let info = host_info("Pixelody test host");
        let id = CString::new(PLUGIN_ID).unwrap();
        let instance = PluginInstance::<TestHost>::new(
            |_| TestHostShared {
                callback_requested: AtomicBool::new(false),
            },
            |_| (),
            &entry,
            &id,
            &info,
        )
        .expect("instantiating Pixelody");
        ClapHost {
            instance,
            processor: None,
            sample_rate: 0.0,
            max_block: 0,
            tail: None,
            editor_open: false,
            _entry: entry,
        }
    }

    /// Activates at `sample_rate` for blocks of up to `max_block` frames.
    pub fn activate(&mut self, sample_rate: f64, max_block: usize) {
        self.deactivate();
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_block as u32,
        };
        let processor = self
            .instance
            .activate(|_, _| (), config)
            .expect("activating Pixelody");
        self.processor = Some(processor);
        self.sample_rate = sample_rate;
        self.max_block = max_block;
    }

    pub fn deactivate(&mut self) {
        if let Some(p) = self.processor.take() {
            self.instance.deactivate(p);
        }
    }

    /// Runs the main-thread callbacks the plugin asked for (parameter rescans after a state load).
    pub fn pump_main_thread(&mut self) {
        let requested = self
            .instance
            .access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
        if requested {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Processes `blocks` on a separate audio thread, as a DAW does, and returns the stereo output.
    pub fn process(&mut self, blocks: &[Block]) -> (Vec<f32>, Vec<f32>) {
        let (left, right, _) = self.process_with_notes(blocks);
        (left, right)
    }

    /// Like [`ClapHost::process`], also returning the note events the plugin sent out.
    pub fn process_with_notes(&mut self, blocks: &[Block]) -> (Vec<f32>, Vec<f32>, Vec<NoteOut>) {
        self.process_with_events(blocks, &|_, _| {})
    }

    /// Like [`ClapHost::process_with_notes`]; `extra(i, events)` adds more input events to block
    /// `i` (after its `param` and `key`, in time order), built on the host's side before the call.
    pub fn process_with_events(
        &mut self,
        blocks: &[Block],
        extra: &(dyn Fn(usize, &mut EventBuffer) + Sync),
    ) -> (Vec<f32>, Vec<f32>, Vec<NoteOut>) {
        let stopped = self.processor.take().expect("activate before processing");
        let max_block = self.max_block;
        let (stopped, left, right, notes, tail) = std::thread::scope(|s| {
            s.spawn(move || {
                let total: usize = blocks.iter().map(|b| b.frames).sum();
                let mut left = vec![0.0f32; total];
                let mut right = vec![0.0f32; total];
                let mut bufs = vec![vec![0.0f32; max_block]; 2];
                let mut ports = AudioPorts::with_capacity(2, 1);
                let mut input_events_buf = EventBuffer::with_capacity(4);
                let mut output_events_buf = EventBuffer::with_capacity(64);
                let mut started = stopped.start_processing().expect("start_processing");
                let mut notes = Vec::new();
                let mut pos = 0;
                for (index, block) in blocks.iter().enumerate() {
                    let n = block.frames;
                    assert!(n >= 1 && n <= max_block, "block of {n} frames");
                    let transport = block.transport.event();
                    let input_audio = InputAudioBuffers::empty();
                    let mut output_audio = ports.with_output_buffers([AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_output_only(
                            bufs.iter_mut().map(|b| &mut b[..n]),
                        ),
                    }]);
                    output_events_buf.clear();
                    input_events_buf.clear();
                    if let Some((id, value)) = block.param {
                        input_events_buf.push(&ParamValueEvent::new(
                            0,
                            id,
                            Pckn::match_all(),
                            value,
                        ));
                    }
                    if let Some((down, key, time)) = block.key {
                        let pckn = Pckn::new(0u16, 0u16, u16::from(key), Match::All);
                        if down {
                            input_events_buf.push(&NoteOnEvent::new(time, pckn, 1.0));
                        } else {
                            input_events_buf.push(&NoteOffEvent::new(time, pckn, 0.0));
                        }
                    }
                    extra(index, &mut input_events_buf);
                    started
                        .process(
                            &input_audio,
                            &mut output_audio,
                            &InputEvents::from_buffer(&input_events_buf),
                            &mut OutputEvents::from_buffer(&mut output_events_buf),
                            Some(pos as u64),
                            Some(&transport),
                        )
                        .expect("process");
                    for e in output_events_buf.iter() {
                        let on = if let Some(on) = e.as_event::<NoteOnEvent>() {
                            Some((true, on.as_raw()))
                        } else {
                            e.as_event::<NoteOffEvent>()
                                .map(|off| (false, off.as_raw()))
                        };
                        if let Some((on, raw)) = on {
                            notes.push(NoteOut {
                                sample: pos + raw.header.time as usize,
                                on,
                                key: raw.key as u8,
                                channel: raw.channel as u8,
                            });
                        }
                    }
                    left[pos..pos + n].copy_from_slice(&bufs[0][..n]);
                    right[pos..pos + n].copy_from_slice(&bufs[1][..n]);
                    pos += n;
                }
                let tail = started
                    .shared_plugin_handle()
                    .get_extension::<PluginTail>()
                    .map(|ext| ext.get(&started.plugin_handle()));
                (started.stop_processing(), left, right, notes, tail)
            })
            .join()
            .expect("the audio thread panicked")
        });
        self.processor = Some(stopped);
        self.tail = tail;
        (left, right, notes)
    }

    /// Every parameter as the host lists it: id, name, minimum and maximum plain value.
    pub fn params(&mut self) -> Vec<(ClapId, String, f64, f64)> {
        let handle = self.instance.plugin_handle();
        let ext: PluginParams = handle.get_extension().expect("params extension");
        let mut buffer = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .filter_map(|i| {
                let info = ext.get_info(&handle, i, &mut buffer)?;
                let name = String::from_utf8_lossy(info.name).into_owned();
                Some((info.id, name, info.min_value, info.max_value))
            })
            .collect()
    }

    /// The keys the plug-in names (`clap.note-name`), as a host reads them: port, channel and key
    /// (-1: every one) and the name.
    pub fn note_names(&mut self) -> Vec<(i16, i16, i16, String)> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginNoteName>() else {
            return Vec::new();
        };
        let mut buffer = NoteNameBuffer::new();
        (0..ext.count(&handle) as u32)
            .filter_map(|i| {
                let raw = ext.get(&handle, i, &mut buffer)?.to_raw();
                let name = NoteName::from_raw(&raw).name;
                let name = String::from_utf8_lossy(name).into_owned();
                Some((raw.port, raw.channel, raw.key, name))
            })
            .collect()
    }

    /// Loads a preset as a host's browser does (`clap.preset-load`): one inside the plug-in by
    /// its key, or a user's preset file. Whether the plug-in took it.
    pub fn load_preset(&mut self, file: Option<&Path>, load_key: Option<&str>) -> bool {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginPresetLoad>() else {
            return false;
        };
        let path = file.map(|f| CString::new(f.to_string_lossy().as_bytes()).unwrap());
        let location = match &path {
            Some(path) => Location::File { path },
            None => Location::Plugin,
        };
        let key = load_key.map(|k| CString::new(k).unwrap());
        ext.load_from_location(&handle, location, key.as_deref())
            .is_ok()
    }

    /// Every parameter's value as the host reads it (CLAP's plain value: nice-plug's normalised
    /// value, times the steps of a stepped parameter), by its CLAP id.
    pub fn param_values_by_id(&mut self) -> std::collections::HashMap<u32, f64> {
        let params = self.params();
        let handle = self.instance.plugin_handle();
        let ext: PluginParams = handle.get_extension().expect("params extension");
        params
            .into_iter()
            .filter_map(|(id, ..)| Some((id.get(), ext.get_value(&handle, id)?)))
            .collect()
    }

    /// The CLAP id of the parameter the host shows as `name`.
    pub fn param_id(&mut self, name: &str) -> ClapId {
        self.params()
            .into_iter()
            .find(|p| p.1 == name)
            .map(|p| p.0)
            .unwrap_or_else(|| panic!("no parameter named {name}"))
    }

    /// The score the plugin would save now.
    pub fn saved_score(&mut self) -> Score {
        score_in_state(&self.save_state())
    }

    /// Waits until the background thread has published a score for which `done` holds (what a
    /// recomposition was asked to give), pumping the host's main thread; fails the test after
    /// 20 s, naming `what` it waited for.
    pub fn wait_for_score(&mut self, what: &str, done: impl Fn(&Score) -> bool) -> Score {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            self.pump_main_thread();
            let score = self.saved_score();
            if done(&score) {
                return score;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "waited 20 s for {what}; the plugin still plays {:?}",
                score.source
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Watches the saved score for `window` and fails the test if it changes: for what must not
    /// happen (a recomposition after loading a project, a refused state). Returns the score.
    pub fn score_stays(&mut self, window: std::time::Duration) -> Score {
        let first = self.saved_score();
        let end = std::time::Instant::now() + window;
        while std::time::Instant::now() < end {
            self.pump_main_thread();
            assert_eq!(self.saved_score(), first, "the score changed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        first
    }

    /// Saves the plugin state as the host would store it in a project.
    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let ext: PluginState = handle.get_extension().expect("state extension");
        let mut bytes = Vec::new();
        ext.save(&handle, &mut bytes).expect("saving state");
        bytes
    }

    /// Loads a state saved by [`ClapHost::save_state`] (or built by [`state_with_score`]).
    pub fn load_state(&mut self, bytes: &[u8]) -> bool {
        let handle = self.instance.plugin_handle();
        let ext: PluginState = handle.get_extension().expect("state extension");
        let ok = ext.load(&handle, &mut &bytes[..]).is_ok();
        self.pump_main_thread();
        ok
    }
}

/// The editor embedded in a host window (CLAP's non-floating X11 mode, as Bitwig and Reaper do).
const EMBEDDED_X11: GuiConfiguration<'static> = GuiConfiguration {
    api_type: GuiApiType::X11,
    is_floating: false,
};

impl ClapHost {
    fn gui(&mut self) -> (PluginGui, PluginMainThreadHandle<'_>) {
        let handle = self.instance.plugin_handle();
        let gui: PluginGui = handle.get_extension().expect("gui extension");
        (gui, handle)
    }

    /// Opens the editor inside the X11 window `parent` and shows it, the way a DAW does (create,
    /// get_size, set_parent, show). Returns the size the editor asked for, in pixels.
    ///
    /// # Safety
    /// `parent` must be a live X11 window until [`ClapHost::close_editor`].
    pub unsafe fn open_editor_x11(&mut self, parent: u32) -> (u32, u32) {
        let (gui, handle) = self.gui();
        assert!(
            gui.is_api_supported(&handle, EMBEDDED_X11),
            "embedded X11 editor"
        );
        gui.create(&handle, EMBEDDED_X11)
            .expect("creating the editor");
        self.editor_open = true;
        let (gui, handle) = self.gui();
        let size = gui.get_size(&handle).expect("editor size");
        // SAFETY: the caller keeps `parent` alive until `close_editor`.
        unsafe { gui.set_parent(&handle, GuiWindow::from_x11_handle(parent.into())) }
            .expect("embedding the editor");
        gui.show(&handle).expect("showing the editor");
        (size.width, size.height)
    }

    /// Opens the editor the way the CLAP specification orders it for a host with a known screen
    /// scale (`create`, `set_scale`, then `get_size`, `set_parent`, `show`), embedded in the host's
    /// X11 window `parent`. Returns the size the plugin asked for.
    ///
    /// # Safety
    /// `parent` must be a live X11 window on the display the plugin connects to.
    pub unsafe fn open_editor_x11_scaled(&mut self, parent: u32, scale: f64) -> (u32, u32) {
        let (gui, handle) = self.gui();
        gui.create(&handle, EMBEDDED_X11)
            .expect("creating the editor");
        self.editor_open = true;
        let (gui, handle) = self.gui();
        gui.set_scale(&handle, scale)
            .expect("the editor took the scale");
        let size = gui.get_size(&handle).expect("editor size");
        // SAFETY: the caller keeps `parent` alive until `close_editor`.
        unsafe { gui.set_parent(&handle, GuiWindow::from_x11_handle(parent.into())) }
            .expect("embedding the editor");
        gui.show(&handle).expect("showing the editor");
        (size.width, size.height)
    }

    /// The host's scale for the open editor (CLAP `set_scale`); whether the plugin took it.
    pub fn set_editor_scale(&mut self, scale: f64) -> bool {
        let (gui, handle) = self.gui();
        gui.set_scale(&handle, scale).is_ok()
    }

    /// The open editor's size as the plugin reports it, in pixels.
    pub fn editor_size(&mut self) -> Option<(u32, u32)> {
        let (gui, handle) = self.gui();
        gui.get_size(&handle).map(|s| (s.width, s.height))
    }

    /// Creates the editor and destroys it at once, before it has a parent window: hosts do this
    /// to probe a plugin's editor, and the CLAP specification allows it.
    pub fn create_and_destroy_editor(&mut self) {
        let (gui, handle) = self.gui();
        gui.create(&handle, EMBEDDED_X11)
            .expect("creating the editor");
        gui.destroy(&handle);
    }

    /// Hides and destroys the editor (the DAW closing the plugin window).
    pub fn close_editor(&mut self) {
        let (gui, handle) = self.gui();
        let _ = gui.hide(&handle);
        gui.destroy(&handle);
        self.editor_open = false;
    }
}

impl Drop for ClapHost {
    fn drop(&mut self) {
        if self.editor_open {
            self.close_editor();
        }
        self.deactivate();
        if !std::thread::panicking() {
            assert_no_plugin_panics();
        }
    }
}

/// Splits a CLAP state stream of nice-plug (8-byte little-endian length, then JSON).
pub fn state_json(bytes: &[u8]) -> serde_json::Value {
    assert!(bytes.len() >= 8, "state too short");
    serde_json::from_slice(&bytes[8..]).expect("state is JSON")
}

pub fn state_bytes(json: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(json).unwrap();
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// The score persisted in a saved state.
pub fn score_in_state(bytes: &[u8]) -> Score {
    let json = state_json(bytes);
    let field = json["fields"]["score"]
        .as_str()
        .expect("state has a score field");
    serde_json::from_str(field).expect("the score field is a Score")
}

/// A copy of `saved` (a real state from the plugin) with its score replaced.
pub fn state_with_score(saved: &[u8], score: &Score) -> Vec<u8> {
    let mut json = state_json(saved);
    json["fields"]["score"] = serde_json::Value::String(serde_json::to_string(score).unwrap());
    state_bytes(&json)
}

/// Blocks of `block` frames covering `total` frames of a transport playing from beat 0.
pub fn playing_blocks(total: usize, block: usize, tempo: f64, sample_rate: f64) -> Vec<Block> {
    playing_blocks_in(None, total, block, tempo, sample_rate)
}

/// [`playing_blocks`] in a host whose time signature is `meter` (`None`: it names none).
pub fn playing_blocks_in(
    meter: Option<(u16, u16)>,
    total: usize,
    block: usize,
    tempo: f64,
    sample_rate: f64,
) -> Vec<Block> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < total {
        let n = block.min(total - pos);
        out.push(Block {
            frames: n,
            transport: HostTransport {
                meter,
                ..HostTransport::playing_at(tempo, pos as f64 * tempo / 60.0 / sample_rate)
            },
            param: None,
            key: None,
        });
        pos += n;
    }
    out
}

/// A small deterministic random generator for fuzzing hosts (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Panics unless every sample is finite and none is subnormal (denormals stall real-time CPUs).
pub fn assert_clean(what: &str, left: &[f32], right: &[f32]) {
    for (i, s) in left.iter().chain(right).enumerate() {
        assert!(s.is_finite(), "{what}: sample {i} is {s}");
        assert!(!s.is_subnormal(), "{what}: sample {i} is denormal ({s:e})");
    }
}

/// First samples that sound after at least `gap` silent samples: the onsets of separated notes.
pub fn onsets(x: &[f32], gap: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut silent = gap;
    for (i, s) in x.iter().enumerate() {
        if *s != 0.0 {
            if silent >= gap {
                out.push(i);
            }
            silent = 0;
        } else {
            silent += 1;
        }
    }
    out
}

/// A preset as a host's browser indexed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub load_key: Option<String>,
    pub description: String,
    pub features: Vec<String>,
    pub plugin_ids: Vec<String>,
    pub user: bool,
    /// The file it came from (user presets).
    pub file: Option<PathBuf>,
}

/// What a host's preset indexer learnt from a plug-in library.
#[derive(Debug, Default)]
pub struct Crawl {
    /// (name, extension) of each file type declared.
    pub filetypes: Vec<(String, String)>,
    /// (name, flags, folder or `None` for inside the plug-in) of each location declared.
    pub locations: Vec<(String, u32, Option<PathBuf>)>,
    pub presets: Vec<Listed>,
    /// Errors the provider reported, one line each.
    pub errors: Vec<String>,
}

impl IndexerImpl for Crawl {
    fn declare_filetype(&mut self, file_type: FileType) -> Result<(), HostError> {
        let ext = file_type
            .file_extension
            .map(|e| e.to_string_lossy().into_owned());
        let name = file_type.name.to_string_lossy().into_owned();
        self.filetypes.push((name, ext.unwrap_or_default()));
        Ok(())
    }

    fn declare_location(&mut self, location: LocationInfo) -> Result<(), HostError> {
        let place = match location.location {
            Location::Plugin => None,
            Location::File { path } => Some(PathBuf::from(path.to_string_lossy().into_owned())),
        };
        let name = location.name.to_string_lossy().into_owned();
        self.locations.push((name, location.flags.bits(), place));
        Ok(())
    }

    fn declare_soundpack(&mut self, _soundpack: Soundpack) -> Result<(), HostError> {
        Ok(())
    }
}

/// Receives one location's presets, as a host's indexer does.
struct Receiver<'a> {
    crawl: &'a mut Crawl,
    file: Option<PathBuf>,
}

impl Receiver<'_> {
    fn current(&mut self) -> Option<&mut Listed> {
        self.crawl.presets.last_mut()
    }
}

impl MetadataReceiverImpl for Receiver<'_> {
    fn on_error(&mut self, _error_code: i32, error_message: Option<&CStr>) {
        let message = error_message.map(|m| m.to_string_lossy().into_owned());
        self.crawl.errors.push(message.unwrap_or_default());
    }

    fn begin_preset(
        &mut self,
        name: Option<&CStr>,
        load_key: Option<&CStr>,
    ) -> Result<(), HostError> {
        let text = |s: Option<&CStr>| s.map(|s| s.to_string_lossy().into_owned());
        let file = self.file.clone();
        self.crawl.presets.push(Listed {
            name: text(name).unwrap_or_default(),
            load_key: text(load_key),
            description: String::new(),
            features: Vec::new(),
            plugin_ids: Vec::new(),
            user: false,
            file,
        });
        Ok(())
    }

    fn add_plugin_id(&mut self, plugin_id: UniversalPluginId) {
        let id = plugin_id.id.to_string_lossy().into_owned();
        if let Some(p) = self.current() {
            p.plugin_ids.push(id);
        }
    }

    fn set_soundpack_id(&mut self, _soundpack_id: &CStr) {}

    fn set_flags(&mut self, flags: Flags) {
        if let Some(p) = self.current() {
            p.user = flags.contains(Flags::IS_USER_CONTENT);
        }
    }

    fn add_creator(&mut self, _creator: &CStr) {}

    fn set_description(&mut self, description: &CStr) {
        if let Some(p) = self.current() {
            p.description = description.to_string_lossy().into_owned();
        }
    }

    fn set_timestamps(&mut self, _creation: Option<Timestamp>, _modification: Option<Timestamp>) {}

    fn add_feature(&mut self, feature: &CStr) {
        if let Some(p) = self.current() {
            p.features.push(feature.to_string_lossy().into_owned());
        }
    }

    fn add_extra_info(&mut self, _key: &CStr, _value: &CStr) {}
}

/// Crawls the presets of the plug-in library at `path` as a host's indexer does: every provider
/// of its preset discovery factory, every location it declares, and in a folder every file of a
/// declared type (in name order).
pub fn crawl_presets(path: &Path) -> Crawl {
    let entry = entry(path);
    let info = host_info("Pixelody test indexer");
    let factory: PresetDiscoveryFactory = entry.get_factory().expect("a preset discovery factory");
    let ids: Vec<CString> = factory
        .provider_descriptors()
        .filter_map(|d| d.id().map(CStr::to_owned))
        .collect();
    let mut all = Crawl::default();
    for id in ids {
        let mut provider =
            Provider::instantiate(Crawl::default(), &entry, &id, &info).expect("a provider");
        let declared = std::mem::take(provider.indexer_mut());
        for (_, _, place) in &declared.locations {
            let mut found = Crawl::default();
            match place {
                None => provider.get_metadata(
                    Location::Plugin,
                    &mut Receiver {
                        crawl: &mut found,
                        file: None,
                    },
                ),
                Some(folder) => {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
                        .map(|d| d.flatten().map(|e| e.path()).collect())
                        .unwrap_or_default();
                    files.sort();
                    for file in files {
                        let typed = declared.filetypes.iter().any(|(_, ext)| {
                            file.extension()
                                .is_some_and(|e| e.to_string_lossy() == *ext)
                        });
                        if !typed {
                            continue;
                        }
                        let c = CString::new(file.to_string_lossy().as_bytes()).unwrap();
                        provider.get_metadata(
                            Location::File { path: &c },
                            &mut Receiver {
                                crawl: &mut found,
                                file: Some(file.clone()),
                            },
                        );
                    }
                }
            }
            all.presets.extend(found.presets);
            all.errors.extend(found.errors);
        }
        all.filetypes.extend(declared.filetypes);
        all.locations.extend(declared.locations);
    }
    all
}
