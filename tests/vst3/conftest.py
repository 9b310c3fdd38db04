"""Shared set-up for the VST3 tests: the plugin logs to a file the tests can read (nice-plug reads
NICE_LOG when the plugin library loads, so it is set before any test loads it)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TARGET.mkdir(exist_ok=True)
os.environ.setdefault("NICE_LOG", str(TARGET / "pixelody-vst3-tests.log"))
# The editor keeps a recent-files list in the user's config folder; the tests use their own.
os.environ["XDG_CONFIG_HOME"] = str(TARGET / "test-config")


import faulthandler  # noqa: E402

import pytest  # noqa: E402

# No test here takes a minute; a host blocked for good (seen once in ~40 runs: the first editor
# test never returned from DawDreamer's open_editor) would otherwise hold CI until its limit.
# After 5 minutes every thread's Python stack is printed and the run fails.
TEST_LIMIT_S = 300


@pytest.fixture(autouse=True)
def fail_a_test_that_hangs():
    faulthandler.dump_traceback_later(TEST_LIMIT_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
