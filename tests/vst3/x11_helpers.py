"""X11 helpers for the editor tests: a virtual screen with a window manager, finding the plugin's
window, screenshots, an XDND drag source, closing DawDreamer's editor window, and xdotool input.

DawDreamer's `open_editor()` runs the window's event loop until the window closes (it releases
the GIL meanwhile), so each test drives the editor from a helper thread and closes the window at
the end; the main thread then checks what the plugin did.
"""

import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import sys
import subprocess
import threading
import time
import traceback
from pathlib import Path

import numpy as np
from Xlib import X, Xatom, display
from Xlib.protocol import event

# Each pytest-xdist worker (the suite runs on two) has its own two displays: the screen its
# tests share, and a spare one below it for a test that starts a server of its own.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
DISPLAY = f":{99 - 2 * WORKER}"
SPARE_DISPLAY = f":{98 - 2 * WORKER}"
# How long drive_editor asks a host to close its editor window before it gives up.
CLOSE_PATIENCE_S = 15.0


class _XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))
def _report_x_error(_display, error):
    e = error.contents
    sys.stderr.write(
        f"X error in the host, ignored: request {e.request_code}, error {e.error_code}, "
        f"resource {e.resourceid:#x}\n"
    )
    return 0


def tolerate_host_x_errors():
    """DawDreamer's window code (JUCE, release build) installs no Xlib error handler, so an X error
    ends the whole process. Closing its window races with the window manager: JUCE sometimes asks
    for the children of a frame openbox has just destroyed (XQueryTree, BadWindow; seen with gdb).
    Real hosts install a handler; so does this harness, one that reports and carries on. baseview
    only swaps Xlib's handler around its own calls and restores this one."""
    libx11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    libx11.XSetErrorHandler(_report_x_error)


# The atoms JUCE looks up, without creating them, when it opens its first window in a process
# (XWindowSystemUtilities::Atoms: XInternAtom with only_if_exists). On a fresh X server they
# exist only once some client has made them, normally the window manager at its start. If
# DawDreamer's first editor window comes first, JUCE holds None for WM_PROTOCOLS and
# WM_DELETE_WINDOW for the rest of the process and ignores every close request: open_editor()
# never returns. (Reproduced by starting openbox late or not at all: the first editor test hangs
# every time; with these atoms made first it closes every time, even with no window manager.)
JUCE_LOOKED_UP_ATOMS = [
    "WM_PROTOCOLS", "WM_TAKE_FOCUS", "WM_DELETE_WINDOW", "_NET_WM_PING", "WM_CHANGE_STATE",
    "WM_STATE", "_NET_WM_WINDOW_TYPE", "_NET_WM_STATE", "_NET_WM_STATE_HIDDEN",
]


def connect(name, timeout=10.0):
    """A connection to a server that may still be starting. python-xlib waits for the server's
    setup reply with no limit (a server too busy to answer once held a test until the suite's
    watchdog ended it), so each try's socket gives up after a few seconds; the connection made
    blocks as python-xlib expects."""
    deadline = time.time() + timeout
    while True:
        before = socket.getdefaulttimeout()
        socket.setdefaulttimeout(max(1.0, min(5.0, deadline - time.time())))
        try:
            d = display.Display(name)
            d.display.socket.settimeout(None)
            return d
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
        finally:
            socket.setdefaulttimeout(before)


def stop_stale_server(lock):
    """Stops the Xvfb an earlier, aborted run left on this display (its lock file names it), so
    that this run's server can start; anything else holding the display is left alone."""
    try:
        pid = int(lock.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if not cmdline or Path(cmdline[0].decode(errors="replace")).name != "Xvfb" or DISPLAY.encode() not in cmdline:
        return
    sys.stderr.write(f"stopping the Xvfb an earlier run left on {DISPLAY} (pid {pid})\n")
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 5
    while Path(f"/proc/{pid}").exists() and time.time() < deadline:
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def make_window_manager_atoms(d):
    for name in JUCE_LOOKED_UP_ATOMS:
        d.intern_atom(name)
    d.sync()


def wait_for_window_manager(d, proc, timeout=20.0):
    """Waits until the window manager manages the screen (it has set _NET_SUPPORTING_WM_CHECK
    on the root window, the last step of openbox's start-up)."""
    check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
    deadline = time.time() + timeout
    while d.screen().root.get_full_property(check, X.AnyPropertyType) is None:
        if proc.poll() is not None:
            raise RuntimeError(f"openbox exited at start-up (status {proc.returncode})")
        if time.time() > deadline:
            raise RuntimeError(f"openbox did not manage the screen within {timeout:.0f} s")
        time.sleep(0.02)


class Screen:
    """Xvfb plus openbox (DawDreamer's editor window needs a window manager). `window_manager`
    and `atoms` exist for the test that shows why the atoms are made first."""

    def __init__(self, window_manager=True, atoms=True):
        self.procs = []
        self.window_manager = window_manager
        self.atoms = atoms

    def __enter__(self):
        if not shutil.which("Xvfb"):
            raise RuntimeError("Xvfb is missing: apt-get install xvfb openbox xdotool imagemagick")
        lock = Path(f"/tmp/.X{DISPLAY[1:]}-lock")
        if lock.exists():
            stop_stale_server(lock)
            lock.unlink(missing_ok=True)
        self.procs.append(
            subprocess.Popen(
                # -noreset: otherwise the server resets when its last client leaves (the readiness
                # probe), dropping clients that connect meanwhile and forgetting every atom.
                ["Xvfb", DISPLAY, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        os.environ["DISPLAY"] = DISPLAY
        tolerate_host_x_errors()
        try:
            probe = connect(DISPLAY)
            try:
                if self.procs[0].poll() is not None:
                    raise RuntimeError(f"another X server holds {DISPLAY}; stop it first")
                if self.atoms:
                    make_window_manager_atoms(probe)
                if self.window_manager:
                    self.procs.append(
                        subprocess.Popen(["openbox"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    )
                    wait_for_window_manager(probe, self.procs[-1])
            finally:
                probe.close()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


def _walk(d, win):
    yield win
    try:
        children = win.query_tree().children
    except Exception:
        return
    for c in children:
        yield from _walk(d, c)


def find_window(d, predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for w in _walk(d, d.screen().root):
            try:
                if predicate(w):
                    return w
            except Exception:
                pass
        time.sleep(0.1)
    raise TimeoutError("window not found")


def window_name(d, w):
    for atom in (d.intern_atom("_NET_WM_NAME"), Xatom.WM_NAME):
        p = w.get_full_property(atom, X.AnyPropertyType)
        if p is not None:
            return p.value.decode("utf-8", "replace") if isinstance(p.value, bytes) else str(p.value)
    return ""


def plugin_window(d, timeout=20.0):
    """The editor's own window: baseview's, named "Pixelody" and marked as a drop target. The
    host's windows around it are drop targets too; ours is the innermost."""
    aware = d.intern_atom("XdndAware")

    return find_window(d, lambda w: is_editor(d, w, aware), timeout)


def is_editor(d, w, aware):
    try:
        if window_name(d, w) != "Pixelody" or w.get_full_property(aware, X.AnyPropertyType) is None:
            return False
        return not any(is_editor(d, c, aware) for c in w.query_tree().children)
    except Exception:  # the window went away meanwhile
        return False


def host_window(d, timeout=20.0):
    """DawDreamer's top-level window around the editor."""
    return find_window(d, lambda w: window_name(d, w).startswith("DawDreamer"), timeout)


def geometry(d, win):
    """(x, y, width, height) of `win` on the screen."""
    g = win.get_geometry()
    t = win.translate_coords(d.screen().root, 0, 0)
    return (-t.x, -t.y, g.width, g.height)


def screenshot(path=None):
    """The whole screen as an (h, w, 3) uint8 array; also saved as PNG if `path` is given."""
    ppm = subprocess.run(
        ["import", "-silent", "-window", "root", "-depth", "8", "ppm:-"], check=True, capture_output=True
    ).stdout
    pixels = parse_ppm(ppm)
    if path is not None:
        subprocess.run(["import", "-silent", "-window", "root", str(path)], check=True)
    return pixels


def parse_ppm(ppm):
    """Binary 8-bit PPM ("P6", one whitespace byte after the header) as (h, w, 3) uint8."""
    header = ppm.split(maxsplit=3)
    w, h = int(header[1]), int(header[2])
    assert header[3].startswith(b"255"), "8-bit PPM expected"
    body = ppm[len(ppm) - w * h * 3 :]
    return np.frombuffer(body, dtype=np.uint8).reshape(h, w, 3)


def close_window(d, win):
    """Asks the window to close, as its close button would."""
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    ev = event.ClientMessage(window=win, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
    win.send_event(ev, event_mask=0)
    d.flush()


def xdnd_drop(d, target, files, at=None, timeout=10.0):
    """Drags `files` (paths) onto `target` the way a file manager does (XDND) and drops them.
    Returns (accepted_on_hover, accepted_on_drop) as the target answered."""
    atoms = {n: d.intern_atom(n) for n in [
        "XdndAware", "XdndSelection", "XdndEnter", "XdndPosition", "XdndStatus", "XdndDrop",
        "XdndFinished", "XdndLeave", "XdndActionCopy", "text/uri-list"]}
    version = target.get_full_property(atoms["XdndAware"], X.AnyPropertyType).value[0]
    version = min(int(version), 5)
    source = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, X.InputOnly)
    source.set_selection_owner(atoms["XdndSelection"], X.CurrentTime)
    uris = "".join("file://" + str(Path(f).resolve()) + "\r\n" for f in files).encode()
    x, y, w, h = geometry(d, target)
    px, py = at if at is not None else (x + w // 2, y + h // 2)

    def send(kind, data):
        ev = event.ClientMessage(window=target, client_type=atoms[kind], data=(32, data + [0] * (5 - len(data))))
        target.send_event(ev, event_mask=0)
        d.flush()

    def pump(until_kind):
        """Serves selection requests until a client message `until_kind` arrives."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            while d.pending_events():
                e = d.next_event()
                if e.type == X.SelectionRequest:
                    e.requestor.change_property(e.property, atoms["text/uri-list"], 8, uris)
                    reply = event.SelectionNotify(
                        time=0, requestor=e.requestor, selection=e.selection,
                        target=e.target, property=e.property)
                    e.requestor.send_event(reply, event_mask=0)
                    d.flush()
                elif e.type == X.ClientMessage and e.client_type == atoms[until_kind]:
                    return e.data[1][1]  # data32[1]: bit 0 = accepted
            time.sleep(0.01)
        raise TimeoutError(f"no {until_kind} from the drop target")

    send("XdndEnter", [source.id, version << 24, atoms["text/uri-list"], 0, 0])
    send("XdndPosition", [source.id, 0, (px << 16) | py, 0, atoms["XdndActionCopy"]])
    hover = pump("XdndStatus")
    # A second position lets the target show its hover highlight with the data in hand.
    send("XdndPosition", [source.id, 0, (px << 16) | (py + 1), 0, atoms["XdndActionCopy"]])
    pump("XdndStatus")
    time.sleep(0.3)
    send("XdndDrop", [source.id, 0, 0])
    dropped = pump("XdndFinished")
    source.destroy()
    d.flush()
    return bool(hover & 1), bool(dropped & 1)


def xdotool(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def host_of(d, win):
    """The DawDreamer window that holds `win`."""
    w = win
    while w is not None and w.id != d.screen().root.id:
        if window_name(d, w).startswith("DawDreamer"):
            return w
        w = w.query_tree().parent
    raise LookupError("the editor window has no DawDreamer window around it")


class EditorWouldNotClose(Exception):
    """Raised on the main thread, by a signal, when the host ignored every close request."""


def drive_editor(open_editor, actions, timeout=60.0):
    """Runs `open_editor()` (blocking until its window closes) while `actions(d)` runs on a helper
    thread with its own X connection; the helper closes the editor window when done. Returns what
    `actions` returned; re-raises its exception. If the host ignores the close requests for
    `CLOSE_PATIENCE_S`, the helper ends `open_editor()` with a signal (DawDreamer checks for
    Python signals between turns of its event loop and closes its window on one) and the test
    fails saying so, instead of waiting for good."""
    result = {}

    def helper():
        # A helper that cannot connect cannot close the editor: it ends open_editor() instead.
        try:
            d = connect(DISPLAY, timeout=5)
        except Exception as e:
            result["error"] = e
            result["trace"] = traceback.format_exc()
            os.kill(os.getpid(), signal.SIGUSR1)
            return
        host = None
        try:
            # This opening's editor window, not one still being torn down from the last.
            host = host_of(d, plugin_window(d))
            result["value"] = actions(d)
        except BaseException as e:  # reported on the main thread
            result["error"] = e
            result["trace"] = traceback.format_exc()
        finally:
            # A close request that arrives while the host is still settling can be ignored:
            # repeat it until the editor window is gone.
            # (Asked every quarter second, looked for every 20 ms: most close at the first.)
            aware = d.intern_atom("XdndAware")
            deadline = time.time() + CLOSE_PATIENCE_S
            closed = False
            asked = 0.0
            while not closed and time.time() < deadline:
                if time.time() - asked >= 0.25:
                    asked = time.time()
                    try:
                        close_window(d, host if host is not None else host_window(d, timeout=5))
                    except Exception:
                        pass
                time.sleep(0.02)
                closed = not any(is_editor(d, w, aware) for w in _walk(d, d.screen().root))
            d.close()
            if not closed:
                result["ignored_close"] = True
                os.kill(os.getpid(), signal.SIGUSR1)

    def give_up(_signum, _frame):
        raise EditorWouldNotClose()

    previous = signal.signal(signal.SIGUSR1, give_up)
    t = threading.Thread(target=helper, daemon=True)
    try:
        t.start()
        try:
            open_editor()
        except Exception as e:
            # DawDreamer (nanobind) wraps the handler's exception in a SystemError.
            if not isinstance(e, EditorWouldNotClose) and not isinstance(e.__cause__, EditorWouldNotClose):
                raise
        # The helper returns once the window is gone, so the next opening cannot be confused
        # with this one.
        t.join(timeout)
    except EditorWouldNotClose:  # the signal came after open_editor() had returned
        t.join(timeout)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    if result.get("ignored_close"):
        raise AssertionError(
            f"the host ignored every request to close the editor window for {CLOSE_PATIENCE_S:.0f} s "
            "(the test closed it through a signal)"
        )
    if "error" in result:
        raise AssertionError(result["trace"]) from result["error"]
    return result.get("value")


TOOLKIT_SCRIPTS = Path(__file__).resolve().parents[1] / "toolkits"
# The toolkits' Python bindings come from Debian (python3-gi with gir1.2-gtk-3.0, python3-pyqt5),
# so the drag sources and drop targets run on the system's Python, not the test venv's.
SYSTEM_PYTHON = "/usr/bin/python3"


class ToolkitWindow:
    """A real toolkit's window (a script in tests/toolkits) on the
    system's Python, with what it prints collected as it comes."""

    def __init__(self, script, *args, timeout=15.0):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.name = script.name
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(script), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, prefix):
        """The first line starting with `prefix`; fails with everything printed if none comes."""
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            hit = next((l for l in self.lines if l.startswith(prefix)), None)
            if hit is not None:
                return hit
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"{self.name} never said '{prefix}': {self.lines} {self.proc.stderr.read()}")

    def centre(self):
        """Where its window's centre is on screen, once it is there."""
        _, x, y, w, h = self.wait_for("ready").split()
        return int(x) + int(w) // 2, int(y) + int(h) // 2

    def close(self):
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def hand_drag(frm, to):
    """Drags with the mouse from `frm` to `to` as a hand does: press, past the toolkits' drag
    threshold, across the screen in steps, a little wiggle over the target."""
    sx, sy = frm
    tx, ty = to
    xdotool("mousemove", sx, sy)
    time.sleep(0.2)
    xdotool("mousedown", 1)
    for i in range(1, 31):
        xdotool("mousemove", sx + (tx - sx) * i // 30, sy + (ty - sy) * i // 30)
        time.sleep(0.03)
    for dx in (3, -3, 0):
        time.sleep(0.2)
        xdotool("mousemove", tx + dx, ty)
    time.sleep(0.8)


def toolkit_drag(toolkit, path, to, while_hovering=None, place=(1100, 640), timeout=15.0):
    """Drags `path` from a real `toolkit` ("gtk" or "qt") drag source window to the screen point
    `to` with the mouse (xdotool: press, motion, release), as a musician drags a file from a file
    manager. Calls `while_hovering()` while the file hovers at `to` and returns (its result, the
    lines the source printed)."""
    source = ToolkitWindow(TOOLKIT_SCRIPTS / f"{toolkit}_source.py", path, *place, timeout=timeout)
    try:
        hand_drag(source.centre(), to)
        hovered = while_hovering() if while_hovering is not None else None
        xdotool("mouseup", 1)
        source.wait_for("drag-end")
        return hovered, list(source.lines)
    finally:
        source.close()


def drag_to_toolkit(toolkit, frm, out, place=(1100, 640), timeout=15.0):
    """Drags with the mouse from the screen point `frm` (a drag handle) onto a real `toolkit`
    ("gtk" or "qt") drop target window, which copies the file it receives to `out`. Returns the
    lines the target printed; fails if it received nothing."""
    target = ToolkitWindow(TOOLKIT_SCRIPTS / f"{toolkit}_target.py", out, *place, timeout=timeout)
    try:
        hand_drag(frm, target.centre())
        xdotool("mouseup", 1)
        target.wait_for("received")
        return list(target.lines)
    finally:
        target.close()
