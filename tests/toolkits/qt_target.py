"""A Qt 5 drop target taking files as URLs (text/uri-list through Qt's XDND code), as Qt file
managers (Dolphin, PCManFM-Qt) and Qt-based DAWs take a dragged file. Run with Debian's Python
(python3-pyqt5):

    /usr/bin/python3 qt_target.py OUT X Y

Prints "ready X Y W H" once on screen; when a file is dropped, copies its bytes to OUT and prints
"received URL"; quits shortly after a drop, or after 60 s.
"""

import shutil
import sys
from pathlib import Path

from PyQt5.QtWidgets import QApplication, QLabel

import qt_window


class Target(QLabel):
    def __init__(self, out):
        super().__init__("drop here")
        self.out = out
        self.setAcceptDrops(True)
        self.setWindowTitle("Qt drop target")

    def dragEnterEvent(self, e):
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dragMoveEvent(self, e):
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e):
        urls = e.mimeData().urls()
        if urls:
            shutil.copyfile(urls[0].toLocalFile(), self.out)
        e.acceptProposedAction()
        print(f"received {' '.join(u.toString() for u in urls)}", flush=True)
        qt_window.quit_soon()


def main():
    app = QApplication(sys.argv[:1])
    out, x, y = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    qt_window.run(app, Target(out), x, y)


if __name__ == "__main__":
    main()
