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
