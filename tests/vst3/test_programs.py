"""The factory presets as a VST3 host's program list, in DawDreamer (built on JUCE, which reads
the program list and switches programs through the program change parameter).

The checks run in a Python process of their own, without an X display: switching a program makes
the plug-in tell the host of each change, and JUCE answers by starting its message manager, which
looks for an X display once per process. In the suite's process that either left JUCE sure there
is no display (before the editor tests' virtual screen, which then all failed: "no visual display
devices") or tied it to a screen the editor tests had already closed (after them: "XIO: fatal IO
error", the process gone).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dawdreamer as daw
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VST3 = Path(os.environ.get("PIXELODY_VST3", TARGET / "bundled" / "Pixelody.vst3"))
SR = 48000
BLOCK = 512

STYLE_NAMES = {"ambient": "Ambient", "ballad": "Ballad", "pop": "Pop", "pulse": "Pulse",
               "chiptune": "Chiptune", "lofi": "Lo-fi"}


def check(tmp_path):
    """VST3 hosts list a plug-in's presets as programs (JUCE, which DawDreamer is built on, reads
    the program list and sets the program change parameter). Each factory preset, chosen there,
    sets what it names and changes the sound, and is still named after the project is saved and
    reloaded."""
    presets = [json.loads(p.read_text()) for p in sorted((ROOT / "plugin" / "presets").glob("*.json"))]

    def fresh():
        engine = daw.RenderEngine(SR, BLOCK)
        engine.set_bpm(120)
        synth = engine.make_plugin_processor("pixelody", str(VST3))
        engine.load_graph([(synth, [])])
        return engine, synth

    engine, synth = fresh()
    described = {p["name"]: p for p in synth.get_parameters_description()}
    program = described["Program"]
    assert program["numSteps"] == len(presets)
    assert program["min"] == presets[0]["name"] and program["max"] == presets[-1]["name"]
    assert not program["isAutomatable"]
    index = {name: p["index"] for name, p in described.items()}
    engine.render(1.0)
    untouched = engine.get_audio()
    for k, preset in enumerate(presets):
        engine, synth = fresh()
        synth.set_parameter(index["Program"], k / (len(presets) - 1))
        engine.render(1.0)
        audio = engine.get_audio()
        assert synth.get_parameter_text(index["Program"]) == preset["name"]
        values = preset["values"]
        if "style" in values:
            assert synth.get_parameter_text(index["Style"]) == STYLE_NAMES[values["style"]], preset["name"]
        if "density" in values:
            assert synth.get_parameter_text(index["Density"]) == str(round(values["density"] * 100)), preset["name"]
        if "mode" in values:
            assert synth.get_parameter_text(index["Mode"]).lower() == values["mode"], preset["name"]
        assert np.abs(audio).max() > 0.01, preset["name"]
        assert not np.array_equal(audio, untouched), preset["name"]
    # The project reloads with the preset's name in the drop-down (and its settings).
    saved = tmp_path / "project.state"
    synth.save_state(str(saved))
    engine2, synth2 = fresh()
    synth2.load_state(str(saved))
    assert synth2.get_parameter_text(index["Program"]) == presets[-1]["name"]
    assert synth2.get_parameter_text(index["Style"]) == STYLE_NAMES[presets[-1]["values"]["style"]]


def test_the_hosts_program_list_switches_every_factory_preset(tmp_path):
    """VST3 hosts list a plug-in's presets as programs. Each factory preset, chosen there, sets
    what it names and changes the sound, and is still named after the project is saved and
    reloaded (see `check`, run in a process of its own)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    p = subprocess.run([sys.executable, __file__, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "checked" in p.stdout, p.stdout + p.stderr


if __name__ == "__main__":
    check(Path(sys.argv[1]))
    print("checked")
