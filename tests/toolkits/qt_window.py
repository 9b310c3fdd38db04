"""What the Qt 5 test windows share: place the window, say where it is ("ready X Y W H"), and
quit after 60 s at the latest."""

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication


def run(app, widget, x, y):
    """Shows `widget` at (x, y), prints "ready X Y W H" once it is on screen, runs Qt's loop."""
    widget.resize(160, 120)
    widget.move(x, y)
    widget.show()

    def report():
        g = widget.geometry()
        print(f"ready {g.x()} {g.y()} {g.width()} {g.height()}", flush=True)

    QTimer.singleShot(500, report)
    QTimer.singleShot(60_000, app.quit)
    app.exec_()


def quit_soon():
    """Quits half a second from now (after the drag or drop has been answered)."""
    QTimer.singleShot(500, QApplication.quit)
