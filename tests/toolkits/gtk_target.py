"""A GTK 3 drop target taking files as text/uri-list (GTK's own XDND code), as GNOME Files,
Thunar, Nemo and GTK-based DAWs take a dragged file. Run with Debian's Python (python3-gi,
gir1.2-gtk-3.0):

    /usr/bin/python3 gtk_target.py OUT X Y

It opens a window at (X, Y) and prints "ready X Y W H" once it is on screen. When a file is
dropped, it copies the file's bytes to OUT (the dragged file may be cleaned up later, as a DAW or
file manager would copy it at once) and prints "received URI". It quits shortly after a drop, or
after 60 s.
"""

import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402

import gtk_window  # noqa: E402


def main():
    out, x, y = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    win = Gtk.Window(title="GTK drop target")
    box = Gtk.EventBox()
    box.add(Gtk.Label(label="drop here"))
    win.add(box)
    box.drag_dest_set(Gtk.DestDefaults.ALL, [], Gdk.DragAction.COPY)
    box.drag_dest_add_uri_targets()

    def received(_widget, _context, _x, _y, data, _info, _time):
        uris = data.get_uris() or []
        if uris:
            shutil.copyfile(unquote(urlparse(uris[0]).path), out)
        print(f"received {' '.join(uris)}", flush=True)
        gtk_window.quit_soon()

    box.connect("drag-data-received", received)
    gtk_window.run(win, x, y)


if __name__ == "__main__":
    main()
