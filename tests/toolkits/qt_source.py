"""A Qt 5 drag source offering one file as text/uri-list (QDrag with a file URL), as Qt file
managers (Dolphin, PCManFM-Qt) do. Run with Debian's Python (python3-pyqt5):

    /usr/bin/python3 qt_source.py FILE X Y

Prints "ready X Y W H" once on screen, "drag-end ACTION" when the drag is over (ACTION 0 = the
drop was refused or missed, 1 = copied); quits shortly after, or after 60 s.
"""

import sys
from pathlib import Path

from PyQt5.QtCore import QMimeData, Qt, QUrl
from PyQt5.QtGui import QDrag
from PyQt5.QtWidgets import QApplication, QLabel

import qt_window


class Source(QLabel):
    def __init__(self, path):
        super().__init__(path.name)
        self.path = path
        self.dragging = False
        self.setWindowTitle("Qt drag source")

    def mouseMoveEvent(self, e):
        if not (e.buttons() & Qt.LeftButton) or self.dragging:
            return
        self.dragging = True
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(self.path))])
        drag = QDrag(self)
        drag.setMimeData(mime)
        action = drag.exec_(Qt.CopyAction)
        print(f"drag-end {int(action)}", flush=True)
        qt_window.quit_soon()


def main():
    app = QApplication(sys.argv[:1])
    path, x, y = Path(sys.argv[1]).resolve(), int(sys.argv[2]), int(sys.argv[3])
    qt_window.run(app, Source(path), x, y)


if __name__ == "__main__":
    main()
