"""Shared by the VST3 (DawDreamer) and Ardour tests: a test fails when the plug-in's log says
something panicked while it ran. The plug-in's threads (the shared background worker, the editor's)
are not Python's: a panic there passed every test while the plug-in froze for the user."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
# (One for each pytest-xdist worker: the suites run on two.)
ARDOUR_LOG = TARGET / f"pixelody-ardour-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}.log"


@pytest.fixture(scope="session")
def ardour_log():
    """The file the plug-in logs to inside Ardour (checked for panics after each test)."""
    return ARDOUR_LOG


def _logs():
    logs = [ARDOUR_LOG]
    if os.environ.get("NICE_LOG"):
        logs.append(Path(os.environ["NICE_LOG"]))
    return logs


def _size(path):
    return path.stat().st_size if path.exists() else 0


@pytest.fixture(autouse=True)
def no_panic_in_the_plugin():
    starts = {p: _size(p) for p in _logs()}
    yield
    panics = []
    for path in _logs():
        if not path.exists():
            continue
        text = path.read_bytes()[starts.get(path, 0):].decode(errors="replace")
        panics += [l for l in text.splitlines() if "panicked" in l or "ERROR thread" in l]
    assert not panics, "the plug-in panicked:\n" + "\n".join(panics)
