"""A GTK 3 drag source offering one file as text/uri-list, as GNOME Files, Thunar, Nemo and
Firefox do (GTK's own XDND code). Run with Debian's Python (python3-gi, gir1.2-gtk-3.0):

    /usr/bin/python3 gtk_source.py FILE X Y

It opens a small window at (X, Y) and prints "ready X Y W H" once it is on screen; a test then
drags from its centre with xdotool. It prints "data-get" when the drop target asks for the data,
"drag-failed N" if GTK reports the drop failed, and "drag-end" when the drag is over; it quits
shortly after the drag ends, or after 60 s.
"""

import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402

import gtk_window  # noqa: E402


def main():
    path, x, y = Path(sys.argv[1]).resolve(), int(sys.argv[2]), int(sys.argv[3])
    uri = path.as_uri()
    win = Gtk.Window(title="GTK drag source")
    box = Gtk.EventBox()
    box.add(Gtk.Label(label=path.name))
    win.add(box)
    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    box.drag_source_add_uri_targets()

    def data_get(_widget, _context, data, _info, _time):
        data.set_uris([uri])
        print("data-get", flush=True)

    def failed(_widget, _context, result):
        print(f"drag-failed {int(result)}", flush=True)
        return False

    def ended(*_args):
        print("drag-end", flush=True)
        gtk_window.quit_soon()

    box.connect("drag-data-get", data_get)
    box.connect("drag-failed", failed)
    box.connect("drag-end", ended)
    gtk_window.run(win, x, y)


if __name__ == "__main__":
    main()
