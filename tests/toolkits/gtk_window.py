"""What the GTK 3 test windows share: place the window, say where it is once the window manager
has placed it ("ready X Y W H"), and quit after 60 s at the latest."""

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def run(win, x, y):
    """Shows `win` at (x, y), prints "ready X Y W H" once it is on screen, runs GTK's loop."""
    win.set_default_size(160, 120)
    win.move(x, y)

    def mapped(*_args):
        # Wait for the window manager to place the window, then say where it is.
        def report():
            ox, oy = win.get_window().get_origin()[1:]
            print(f"ready {ox} {oy} {win.get_allocated_width()} {win.get_allocated_height()}", flush=True)
            return False

        GLib.timeout_add(300, report)
        return False

    win.connect("map-event", mapped)
    win.connect("destroy", Gtk.main_quit)
    GLib.timeout_add_seconds(60, Gtk.main_quit)
    win.show_all()
    Gtk.main()


def quit_soon():
    """Quits half a second from now (after the drag or drop has been answered)."""
    GLib.timeout_add(500, Gtk.main_quit)
