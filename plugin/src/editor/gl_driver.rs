//! Keeps the system's OpenGL driver loaded from an editor's first opening until the last Pixelody
//! instance that opened one is gone (X11; elsewhere this is nothing). Main thread.
//!
//! Every editor window opens its own X connection and EGL (or GLX) display (baseview). When the
//! last of them closed, Mesa unloaded its driver, and the next opening loaded it again; LLVM,
//! which Mesa's drivers link and which is never unloaded, kept ~35 KB of every reload (several
//! times that in a host with many threads, through malloc's per-thread arenas), so the host grew
//! at each opening (`memory_stays_flat_over_many_editor_openings` in
//! tests/tests/editor.rs). One idle connection with an initialised display of the same kind keeps
//! the driver loaded, and later openings skip the reload.

#[cfg(all(unix, not(target_os = "macos")))]
pub use x11::{hold, DriverHold};

/// Nothing to hold where the editor does not draw through EGL or GLX.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub struct DriverHold;

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn hold() -> Option<std::sync::Arc<DriverHold>> {
    None
}

#[cfg(all(unix, not(target_os = "macos")))]
mod x11 {
    use std::ffi::{c_int, c_void};
    use std::sync::{Arc, Mutex, PoisonError, Weak};

    use libloading::Library;
    use x11_dl::glx::Glx;
    use x11_dl::xlib::{Display, Xlib};

    type EglGetDisplay = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
    type EglInitialize = unsafe extern "C" fn(*mut c_void, *mut i32, *mut i32) -> u32;
    type EglTerminate = unsafe extern "C" fn(*mut c_void) -> u32;

    /// An X connection on which EGL or GLX has loaded the driver. Dropping it releases the
    /// display and closes the connection; the driver unloads if no editor is open.
    pub struct DriverHold {
        xlib: Xlib,
        display: *mut Display,
        api: Api,
    }

    /// What holds the driver: baseview tries EGL first and falls back to GLX, so do we.
    enum Api {
        Egl {
            /// Keeps `terminate` valid.
            _library: Library,
            terminate: EglTerminate,
            display: *mut c_void,
        },
        /// libGL stays loaded with the connection; the display's GLX data lives until it closes.
        Glx { _library: Box<Glx> },
    }

    impl Api {
        fn name(&self) -> &'static str {
            match self {
                Api::Egl { .. } => "EGL",
                Api::Glx { .. } => "GLX",
            }
        }
    }

    // SAFETY: the connection and displays are used only when opened and when closed, never by two
    // threads at once (they are closed by whichever thread drops the last `Arc`).
    unsafe impl Send for DriverHold {}
    // SAFETY: as above; `&DriverHold` gives no access to them.
    unsafe impl Sync for DriverHold {}

    /// The process's hold, shared by every instance whose editor has opened.
    static SHARED: Mutex<Weak<DriverHold>> = Mutex::new(Weak::new());

    /// The shared hold, made at the first call. `None` without an X server or a driver (the
    /// editor then reports its own failure).
    pub fn hold() -> Option<Arc<DriverHold>> {
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hold) = shared.upgrade() {
            return Some(hold);
        }
        let started = std::time::Instant::now();
        let hold = Arc::new(DriverHold::open()?);
        *shared = Arc::downgrade(&hold);
        nice_plug::nice_log!(
            "OpenGL driver held loaded through {} ({} ms)",
            hold.api.name(),
            started.elapsed().as_millis()
        );
        Some(hold)
    }

    impl DriverHold {
        fn open() -> Option<Self> {
            let xlib = Xlib::open().ok()?;
            // SAFETY: a null name means $DISPLAY, the display baseview opens its windows on.
            let display = unsafe { (xlib.XOpenDisplay)(std::ptr::null()) };
            if display.is_null() {
                return None;
            }
            // SAFETY: `display` is open until the end of this function or `Drop`.
            let api = unsafe { egl(display).or_else(|| glx(display)) };
            match api {
                Some(api) => Some(DriverHold { xlib, display, api }),
                None => {
                    // SAFETY: opened above, used by nothing else.
                    unsafe { (xlib.XCloseDisplay)(display) };
                    None
                }
            }
        }
    }

    /// An initialised EGL display on the connection, as baseview makes for each window.
    unsafe fn egl(x: *mut Display) -> Option<Api> {
        let library = Library::new("libEGL.so.1")
            .or_else(|_| Library::new("libEGL.so"))
            .ok()?;
        let get_display = *library.get::<EglGetDisplay>(b"eglGetDisplay\0").ok()?;
        let initialize = *library.get::<EglInitialize>(b"eglInitialize\0").ok()?;
        let terminate = *library.get::<EglTerminate>(b"eglTerminate\0").ok()?;
        let display = get_display(x.cast());
        let (mut major, mut minor) = (0, 0);
        if display.is_null() || initialize(display, &mut major, &mut minor) == 0 {
            return None;
        }
        Some(Api::Egl {
            _library: library,
            terminate,
            display,
        })
    }

    /// GLX initialised on the connection. Asking for the extension makes no request that can
    /// fail; the version query then loads the driver for the display's screens.
    unsafe fn glx(x: *mut Display) -> Option<Api> {
        let glx = Glx::open().ok()?;
        let (mut a, mut b): (c_int, c_int) = (0, 0);
        ((glx.glXQueryExtension)(x, &mut a, &mut b) != 0
            && (glx.glXQueryVersion)(x, &mut a, &mut b) != 0)
            .then(|| Api::Glx {
                _library: Box::new(glx),
            })
    }

    impl Drop for DriverHold {
        fn drop(&mut self) {
            if let Api::Egl {
                terminate, display, ..
            } = &self.api
            {
                // SAFETY: the library is still loaded; the display was initialised in `egl`.
                unsafe { terminate(*display) };
            }
            // SAFETY: opened in `open`, closed once, here, after the EGL display it carried.
            unsafe { (self.xlib.XCloseDisplay)(self.display) };
        }
    }
}
