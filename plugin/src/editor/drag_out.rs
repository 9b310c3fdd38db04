//! Drag MIDI out: the editor's handles hand the score (or one part) to the DAW or a file manager
//! as a standard MIDI file, the way a file manager hands out a file.
//!
//! The file is written to a folder of our own in the temporary folder (named after the picture,
//! "coffee.mid", "coffee-bass.mid"); files there older than a day are removed at the next drag.
//! The drag itself is an XDND source on its own X connection and thread ([`xdnd`]): the editor's
//! window keeps the pointer (X gives the window the button went down in every motion until the
//! release), so the source follows the pointer by asking the server where it is, finds the
//! XDND-aware window under it, and talks to that window in client messages; the target fetches
//! the file's `text/uri-list` from the selection the source owns. X11 only: on Windows and macOS
//! the handles say so.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::score::Part;

/// How a drag ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A window took the file.
    Dropped,
    /// Released over a window that did not want it (or said so after the drop).
    Refused,
    /// Released where no window takes drops (the desktop, a Pixelody editor).
    Nowhere,
    /// The drag could not run (no X display, the server went away).
    Failed(String),
}

/// The folder the dragged files are written to.
pub fn folder() -> PathBuf {
    let user = std::env::var("USER").unwrap_or_default();
    let user: String = user.chars().filter(char::is_ascii_alphanumeric).collect();
    let name = if user.is_empty() {
        String::from("pixelody-drag")
    } else {
        format!("pixelody-drag-{user}")
    };
    std::env::temp_dir().join(name)
}

/// The file's name: the picture's name without its extension and size ("coffee.jpg (640 x
/// 480)" gives "coffee"), kept to letters, digits, '-' and '_', then the part's name.
pub fn file_name(source: &str, part: Option<Part>) -> String {
    let name = source.split(" (").next().unwrap_or(source);
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if clean.trim_matches('_').is_empty() {
        clean = String::from("pixelody");
    }
    match part {
        Some(part) => format!("{clean}-{}.mid", part.name().to_lowercase()),
        None => format!("{clean}.mid"),
    }
}

/// Writes `bytes` as `name` in `dir` (made if missing), first removing files there older than a
/// day (a DAW or file manager has long copied them by then).
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let day = Duration::from_secs(24 * 3600);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > day);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// A drag in progress on its own thread, and what it ended as.
#[derive(Default)]
pub struct DragOut {
    running: Option<(String, Arc<Mutex<Option<Outcome>>>)>,
}

impl DragOut {
    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// Starts dragging `file` (the mouse button is down and has moved past egui's threshold).
    pub fn start(&mut self, file: PathBuf) {
        if self.busy() {
            return;
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = Arc::new(Mutex::new(None));
        let out = result.clone();
        let spawned = std::thread::Builder::new()
            .name(String::from("pixelody-drag-out"))
            .spawn(move || {
                let outcome = drag(&file);
                *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            });
        match spawned {
            Ok(_) => self.running = Some((name, result)),
            Err(e) => {
                let failed = Some(Outcome::Failed(format!("no thread for the drag: {e}")));
                self.running = Some((name, Arc::new(Mutex::new(failed))));
            }
        }
    }

    /// The file's name and how its drag ended, once it has.
    pub fn poll(&mut self) -> Option<(String, Outcome)> {
        let (_, result) = self.running.as_ref()?;
        let outcome = result
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let (name, _) = self.running.take()?;
        Some((name, outcome))
    }
}

/// What the status line says about a finished drag.
pub fn message(name: &str, outcome: &Outcome) -> (String, bool) {
    match outcome {
        Outcome::Dropped => (format!("Dropped {name}"), false),
        Outcome::Refused => (format!("The window there did not take {name}"), true),
        Outcome::Nowhere => (
            format!("{name}: drop it on a track in your DAW or in a file manager"),
            false,
        ),
        Outcome::Failed(why) => (format!("Could not drag {name}: {why}"), true),
    }
}

#[cfg(target_os = "linux")]
fn drag(file: &Path) -> Outcome {
    match xdnd::drag(file) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

#[cfg(not(target_os = "linux"))]
fn drag(_file: &Path) -> Outcome {
    Outcome::Failed(String::from(
        "dragging out works on Linux (X11) only for now; use Export MIDI",
    ))
}

/// `file://` URI of an absolute path, bytes outside the unreserved set percent-encoded.
#[cfg(unix)]
pub fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(target_os = "linux")]
mod xdnd {
    //! An XDND (version 5) drag source: freedesktop.org's "Drag-and-Drop Protocol for the X
    //! Window System". Enter, Position (answered by Status), Leave or Drop (answered by
    //! Finished); the data travels as the `XdndSelection` selection, owned by our window.

    use std::path::Path;
    use std::time::{Duration, Instant};

    use x11rb::connection::Connection;
    use x11rb::errors::ReplyOrIdError;
    use x11rb::protocol::xproto::{
        AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, KeyButMask,
        PropMode, SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass,
        SELECTION_NOTIFY_EVENT,
    };
    use x11rb::protocol::Event;
    use x11rb::rust_connection::RustConnection;
    use x11rb::wrapper::ConnectionExt as _;
    use x11rb::NONE;

    use super::Outcome;

    x11rb::atom_manager! {
        Atoms: AtomsCookie {
            XdndAware,
            XdndProxy,
            XdndEnter,
            XdndPosition,
            XdndStatus,
            XdndLeave,
            XdndDrop,
            XdndFinished,
            XdndSelection,
            XdndActionCopy,
            TARGETS,
            PIXELODY_DRAG_TIME,
            URI_LIST: b"text/uri-list",
        }
    }

    /// The newest protocol version this source speaks.
    const VERSION: u32 = 5;
    /// How often the pointer is asked where it is.
    const POLL: Duration = Duration::from_millis(8);
    /// How long a target may take to answer a Position, and to take the data after the drop.
    const ANSWER: Duration = Duration::from_secs(2);
    const FINISH: Duration = Duration::from_secs(15);
    /// A drag longer than this is given up (the button is surely not held any more).
    const LONGEST: Duration = Duration::from_secs(300);

    /// The window the pointer is over that takes drops.
    struct Target {
        window: Window,
        /// Where the messages go: the window itself, or the proxy it names.
        send_to: Window,
        version: u32,
        accepted: bool,
        /// A Position was sent and its Status has not come back.
        waiting: bool,
        /// Where the last Position said the pointer is.
        sent_at: Option<(i16, i16)>,
    }

    struct Source<'a> {
        conn: &'a RustConnection,
        atoms: Atoms,
        window: Window,
        root: Window,
        time: u32,
        uri: Vec<u8>,
    }

    pub fn drag(file: &Path) -> Result<Outcome, Box<dyn std::error::Error>> {
        let (conn, screen) = x11rb::connect(None)?;
        let root = conn.setup().roots[screen].root;
        let atoms = Atoms::new(&conn)?.reply()?;
        let window = conn.generate_id()?;
        conn.create_window(
            0,
            window,
            root,
            -10,
            -10,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )?;
        let mut source = Source {
            conn: &conn,
            atoms,
            window,
            root,
            time: 0,
            uri: format!("{}\r\n", super::file_uri(file)).into_bytes(),
        };
        source.time = source.server_time()?;
        conn.set_selection_owner(window, atoms.XdndSelection, source.time)?;
        let outcome = source.run();
        let _ = conn.destroy_window(window);
        let _ = conn.flush();
        outcome
    }

    impl Source<'_> {
        /// A server timestamp (selection owners need one): the time of a property change.
        fn server_time(&self) -> Result<u32, Box<dyn std::error::Error>> {
            let a = self.atoms.PIXELODY_DRAG_TIME;
            self.conn
                .change_property8(PropMode::APPEND, self.window, a, AtomEnum::STRING, &[])?;
            self.conn.flush()?;
            let deadline = Instant::now() + ANSWER;
            while Instant::now() < deadline {
                if let Some(Event::PropertyNotify(e)) = self.conn.poll_for_event()? {
                    if e.atom == a {
                        return Ok(e.time);
                    }
                } else {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Ok(x11rb::CURRENT_TIME)
        }

        fn run(&mut self) -> Result<Outcome, Box<dyn std::error::Error>> {
            let started = Instant::now();
            let mut target: Option<Target> = None;
            let mut finished = None;
            let released_at = loop {
                self.events(&mut target, &mut finished)?;
                let p = self.conn.query_pointer(self.root)?.reply()?;
                let held = p.mask.contains(KeyButMask::BUTTON1);
                if !held || started.elapsed() > LONGEST {
                    break (p.root_x, p.root_y);
                }
                self.follow(&mut target, p.root_x, p.root_y)?;
                std::thread::sleep(POLL);
            };
            let Some(mut t) = target else {
                return Ok(Outcome::Nowhere);
            };
            // The last Position must be where the button came up, and answered.
            let deadline = Instant::now() + ANSWER;
            while (t.waiting || t.sent_at != Some(released_at)) && Instant::now() < deadline {
                if !t.waiting {
                    self.position(&mut t, released_at)?;
                }
                let mut some = Some(t);
                self.events(&mut some, &mut finished)?;
                t = some.expect("events keeps the target");
                std::thread::sleep(Duration::from_millis(2));
            }
            if !t.accepted {
                self.send(&t, self.atoms.XdndLeave, [self.window, 0, 0, 0, 0])?;
                return Ok(Outcome::Refused);
            }
            self.send(&t, self.atoms.XdndDrop, [self.window, 0, self.time, 0, 0])?;
            let deadline = Instant::now() + FINISH;
            let mut some = Some(t);
            while finished.is_none() && Instant::now() < deadline {
                self.events(&mut some, &mut finished)?;
                std::thread::sleep(Duration::from_millis(2));
            }
            // Targets older than version 5 say nothing about success: finishing is enough.
            Ok(match finished {
                Some(true) => Outcome::Dropped,
                Some(false) => Outcome::Refused,
                None => Outcome::Failed(String::from("the drop target stopped answering")),
            })
        }

        /// Keeps the target the window under the pointer, and tells it where the pointer is.
        fn follow(
            &self,
            target: &mut Option<Target>,
            x: i16,
            y: i16,
        ) -> Result<(), Box<dyn std::error::Error>> {
            let under = self.aware_window_at(x, y)?;
            if under.map(|(w, _, _)| w) != target.as_ref().map(|t| t.window) {
                if let Some(old) = target.take() {
                    self.send(&old, self.atoms.XdndLeave, [self.window, 0, 0, 0, 0])?;
                }
                if let Some((window, send_to, version)) = under {
                    let t = Target {
                        window,
                        send_to,
                        version,
                        accepted: false,
                        waiting: false,
                        sent_at: None,
                    };
                    let types = [self.atoms.URI_LIST, 0, 0];
                    let data = [self.window, version << 24, types[0], types[1], types[2]];
                    self.send(&t, self.atoms.XdndEnter, data)?;
                    *target = Some(t);
                }
            }
            if let Some(t) = target {
                if !t.waiting && t.sent_at != Some((x, y)) {
                    self.position(t, (x, y))?;
                }
            }
            Ok(())
        }

        fn position(
            &self,
            t: &mut Target,
            (x, y): (i16, i16),
        ) -> Result<(), Box<dyn std::error::Error>> {
            let at = (u32::from(x as u16) << 16) | u32::from(y as u16);
            let data = [self.window, 0, at, self.time, self.atoms.XdndActionCopy];
            self.send(t, self.atoms.XdndPosition, data)?;
            t.waiting = true;
            t.sent_at = Some((x, y));
            Ok(())
        }

        fn send(
            &self,
            t: &Target,
            kind: u32,
            data: [u32; 5],
        ) -> Result<(), Box<dyn std::error::Error>> {
            let event = ClientMessageEvent::new(32, t.window, kind, data);
            self.conn
                .send_event(false, t.send_to, EventMask::NO_EVENT, event)?;
            self.conn.flush()?;
            Ok(())
        }

        /// Answers what came in: Status from the target, Finished after the drop, and the
        /// target's requests for the data (some ask while the file only hovers).
        fn events(
            &self,
            target: &mut Option<Target>,
            finished: &mut Option<bool>,
        ) -> Result<(), Box<dyn std::error::Error>> {
            while let Some(event) = self.conn.poll_for_event()? {
                match event {
                    Event::ClientMessage(e) => {
                        let data = e.data.as_data32();
                        let from_target = target.as_ref().is_some_and(|t| t.window == data[0]);
                        if e.type_ == self.atoms.XdndStatus && from_target {
                            if let Some(t) = target.as_mut() {
                                t.waiting = false;
                                t.accepted = data[1] & 1 == 1;
                            }
                        } else if e.type_ == self.atoms.XdndFinished && from_target {
                            let version = target.as_ref().map_or(VERSION, |t| t.version);
                            *finished = Some(version < 5 || data[1] & 1 == 1);
                        }
                    }
                    Event::SelectionRequest(e) => self.give(&e)?,
                    _ => {}
                }
            }
            Ok(())
        }

        /// Puts the file's URI (or the list of what we offer) on the requestor's property.
        fn give(&self, e: &SelectionRequestEvent) -> Result<(), Box<dyn std::error::Error>> {
            let property = if e.property == NONE {
                e.target
            } else {
                e.property
            };
            let given = if e.selection != self.atoms.XdndSelection {
                false
            } else if e.target == self.atoms.URI_LIST {
                self.conn.change_property8(
                    PropMode::REPLACE,
                    e.requestor,
                    property,
                    self.atoms.URI_LIST,
                    &self.uri,
                )?;
                true
            } else if e.target == self.atoms.TARGETS {
                self.conn.change_property32(
                    PropMode::REPLACE,
                    e.requestor,
                    property,
                    AtomEnum::ATOM,
                    &[self.atoms.TARGETS, self.atoms.URI_LIST],
                )?;
                true
            } else {
                false
            };
            let notify = SelectionNotifyEvent {
                response_type: SELECTION_NOTIFY_EVENT,
                sequence: 0,
                time: e.time,
                requestor: e.requestor,
                selection: e.selection,
                target: e.target,
                property: if given { property } else { NONE },
            };
            self.conn
                .send_event(false, e.requestor, EventMask::NO_EVENT, notify)?;
            self.conn.flush()?;
            Ok(())
        }

        /// The innermost window at (x, y) with `XdndAware` (version 3 or newer), searched from
        /// the top-level window down, as (window, where to send, version).
        fn aware_window_at(
            &self,
            x: i16,
            y: i16,
        ) -> Result<Option<(Window, Window, u32)>, ReplyOrIdError> {
            let mut window = self.root;
            for _ in 0..32 {
                let child = self
                    .conn
                    .translate_coordinates(self.root, window, x, y)?
                    .reply()?
                    .child;
                if child == NONE || child == self.window {
                    return Ok(None);
                }
                if let Some(version) = self.card32(child, self.atoms.XdndAware)? {
                    if version < 3 {
                        return Ok(None);
                    }
                    // A proxy counts only if it names itself, as the protocol asks.
                    let proxy = self
                        .card32(child, self.atoms.XdndProxy)?
                        .filter(|&p| p != 0)
                        .filter(|&p| {
                            self.card32(p, self.atoms.XdndProxy)
                                .ok()
                                .flatten()
                                .is_some_and(|q| q == p)
                        });
                    let send_to = proxy.unwrap_or(child);
                    // A Pixelody editor (this one, where the drag starts) takes pictures, not
                    // MIDI files: not a target.
                    if self.is_pixelody(send_to)? {
                        return Ok(None);
                    }
                    return Ok(Some((child, send_to, version.min(VERSION))));
                }
                window = child;
            }
            Ok(None)
        }

        /// Whether the window is a Pixelody editor (baseview names it by the editor's title).
        fn is_pixelody(&self, window: Window) -> Result<bool, ReplyOrIdError> {
            let reply = self
                .conn
                .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 16)?
                .reply();
            Ok(reply.is_ok_and(|r| r.value == b"Pixelody"))
        }

        /// The first 32-bit value of a window's property, if it has one.
        fn card32(&self, window: Window, property: u32) -> Result<Option<u32>, ReplyOrIdError> {
            let reply = self
                .conn
                .get_property(false, window, property, AtomEnum::ANY, 0, 1)?
                .reply();
            // The window may be gone by now: no property then.
            Ok(reply
                .ok()
                .and_then(|r| r.value32().and_then(|mut v| v.next())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_after_the_picture_and_the_part() {
        assert_eq!(file_name("coffee.jpg (640 x 480)", None), "coffee.mid");
        assert_eq!(
            file_name("coffee.jpg (640 x 480)", Some(Part::Harmony)),
            "coffee-harmony.mid"
        );
        assert_eq!(file_name("my walk/../x.png (1 x 1)", None), "x.mid");
        assert_eq!(
            file_name("été à Paris.webp (8 x 8)", None),
            "été_à_Paris.mid"
        );
        assert_eq!(file_name("", Some(Part::Drums)), "pixelody-drums.mid");
        assert_eq!(file_name("...png", None), "pixelody.mid");
    }

    #[cfg(unix)]
    #[test]
    fn uris_escape_what_a_uri_list_cannot_carry() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/été.mid")),
            "file:///tmp/a%20b/%C3%A9t%C3%A9.mid"
        );
    }

    #[test]
    fn writing_replaces_the_file_and_clears_day_old_ones() {
        let dir = std::env::temp_dir().join(format!("pixelody-drag-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let stale = dir.join("old.mid");
        std::fs::write(&stale, b"x").unwrap();
        let two_days = SystemTime::now() - Duration::from_secs(48 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(two_days)
            .unwrap();
        let fresh = dir.join("recent.mid");
        std::fs::write(&fresh, b"y").unwrap();
        let path = write(&dir, "a.mid", b"one").unwrap();
        let path2 = write(&dir, "a.mid", b"two").unwrap();
        assert_eq!(path, path2);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!stale.exists(), "a two-day-old file stays");
        assert!(fresh.exists(), "a recent file was removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
