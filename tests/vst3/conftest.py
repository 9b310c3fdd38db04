"""Shared set-up for the VST3 tests: the plugin logs to a file the tests can read (nice-plug reads
NICE_LOG when the plugin library loads, so it is set before any test loads it)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TARGET.mkdir(exist_ok=True)
# The suite runs on two pytest-xdist workers, each with a log of its own (the tests count and
# look for lines in theirs; a worker inherits the controlling process's environment, so a
# worker always sets its own).
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER is not None or "NICE_LOG" not in os.environ:
    os.environ["NICE_LOG"] = str(TARGET / f"pixelody-vst3-tests-{WORKER or 'gw0'}.log")
# The editor keeps a recent-files list in the user's config folder; the tests use their own.
os.environ["XDG_CONFIG_HOME"] = str(TARGET / f"test-config-{WORKER or 'gw0'}")


# No test here takes a minute. A host blocked for good would otherwise hold CI until its limit
# (seen 4 times in ~60 runs before the cause was found: DawDreamer's first editor window came
# before openbox had made the WM_PROTOCOLS atoms, so JUCE ignored every close request; the screen
# now makes them first, see x11_helpers.JUCE_LOOKED_UP_ATOMS, and drive_editor fails a test whose
# window will not close). As a last resort, after 5 minutes a watchdog prints every thread's
# native stack (gdb, where installed) and aborts the run with SIGABRT, on which pytest's
# faulthandler prints the Python stacks. It writes to the stderr of pytest's parent (cargo xtask
# test, or the shell): pytest's own is captured, and lost with the aborted process.
TEST_LIMIT_S = int(os.environ.get("PIXELODY_TEST_LIMIT_S", "300"))


@pytest.fixture(autouse=True)
def fail_a_test_that_hangs():
    pid, parent_err = os.getpid(), f"/proc/{os.getppid()}/fd/2"
    watchdog = subprocess.Popen(
        [
            "sh",
            "-c",
            f"sleep {TEST_LIMIT_S}; [ -w {parent_err} ] && exec >>{parent_err} 2>&1; "
            f"echo 'test still running after {TEST_LIMIT_S} s; native stacks:'; "
            f"command -v gdb >/dev/null && gdb -p {pid} -batch -ex 'thread apply all bt'; "
            f"kill -ABRT {pid}",
        ],
        start_new_session=True,
    )
    yield
    os.killpg(watchdog.pid, signal.SIGKILL)
    watchdog.wait()
