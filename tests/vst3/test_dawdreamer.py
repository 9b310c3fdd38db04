"""The release VST3 bundle in DawDreamer (a JUCE-based offline host).

A fresh Pixelody instance plays the bundled example picture. The CLI renders the same picture with
the same engine, so the VST3 render must match it sample for sample, and every note must start on
the sample its beat falls on, at any tempo.
"""

import json
import math
import os
import subprocess
from pathlib import Path

import dawdreamer as daw
import numpy as np
import pytest
from wav_files import read_wav

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VST3 = Path(os.environ.get("PIXELODY_VST3", TARGET / "bundled" / "Pixelody.vst3"))
CLI = Path(os.environ.get("PIXELODY_CLI", TARGET / "release" / "pixelody"))
EXAMPLE = ROOT / "plugin" / "assets" / "example.png"
SR = 48000
BLOCK = 512


def cli_render(tmp_path, bpm):
    wav, score = tmp_path / f"ref{bpm}.wav", tmp_path / f"score{bpm}.json"
    subprocess.run(
        # A fresh plugin plays its default parameter values (the picture's proposed timbre
        # reaches the parameters only through the editor), so the CLI renders with those.
        # (One loop and no tail: the host keeps playing past it.)
        [CLI, "render", EXAMPLE, "-o", wav, "--bpm", str(bpm), "--json", score, "--timbre", "default", "--tail", "0"],
        check=True,
        capture_output=True,
    )
    return read_wav(wav), json.loads(score.read_text())


def vst3_render(bpm, seconds):
    engine = daw.RenderEngine(SR, BLOCK)
    engine.set_bpm(bpm)
    synth = engine.make_plugin_processor("pixelody", str(VST3))
    engine.load_graph([(synth, [])])
    engine.render(seconds)
    # The engine owns the plugin: keep it alive as long as the caller uses `synth`.
    return engine.get_audio(), synth, engine


def onset_sample(beat, bpm):
    """The first sample at or after `beat` (the engine's rule, with its 1e-3 sample tolerance)."""
    return math.ceil(beat * 60.0 / bpm * SR - 1e-3)


def onsets(x, gap):
    """First non-zero samples after at least `gap` exact zeros."""
    out, silent = [], gap
    for i, s in enumerate(x):
        if s != 0.0:
            if silent >= gap:
                out.append(i)
            silent = 0
        else:
            silent += 1
    return out


def test_parameters_have_names_units_and_defaults():
    _, synth, _engine = vst3_render(120, 0.1)
    params = {p["name"]: p for p in synth.get_parameters_description()}
    expected = {
        "Output Gain": (" dB", "-6.0"),
        "Attack": (" ms", "5.0"),
        "Release": (" ms", "120"),
        "Brightness": ("%", "40"),
        "Free-run Tempo": (" BPM", "120.0"),
        "Score Change": ("", "Next Bar"),
        "Internal Synth": ("", "On"),
        "Mode": ("", "Compose"),
        "Key": ("", "Auto"),
        "Scale": ("", "Auto"),
        "Length": (" bars", "2"),
        "Density": ("%", "50"),
        "Low Note": ("", "C4"),
        "High Note": ("", "C6"),
        "Variation": ("", "0"),
        "Grid": ("", "1/16"),
        "Threshold": ("%", "50"),
        "Invert": ("", "Off"),
        "Snap to Scale": ("", "Off"),
    }
    for name, (unit, default) in expected.items():
        assert name in params, f"{name} missing from {list(params)}"
        assert params[name]["label"] == unit
        assert params[name]["defaultValueText"] == default, name
        assert params[name]["isAutomatable"]


@pytest.mark.parametrize("bpm", [120, 97])
def test_notes_land_on_their_samples_and_match_the_cli(tmp_path, bpm):
    reference, score = cli_render(tmp_path, bpm)
    n = reference.shape[1]
    audio, _, _ = vst3_render(bpm, n / SR + 0.05)
    audio = audio[:, :n]
    assert audio.shape == reference.shape

    starts = sorted({onset_sample(note["start_beats"], bpm) for note in score["notes"]})
    assert starts[0] == 0
    # The loop starts with notes: sound on the very first sample.
    assert np.all(audio[:, 0] != 0)
    # Every note that starts out of silence starts on a computed sample, in both channels.
    for channel in audio:
        found = onsets(channel, 64)
        assert found, "the render is silent"
        assert set(found) <= set(starts), f"onsets {found} not on note samples {starts}"
    # The VST3 render is the CLI's offline render, sample for sample.
    np.testing.assert_array_equal(audio, reference)


def param_index(synth, name):
    return next(p["index"] for p in synth.get_parameters_description() if p["name"] == name)


def bounce_with_brightness_automation():
    """Two seconds at 120 BPM; Brightness automated from 0% to 100% at exactly 1.0 s."""
    engine = daw.RenderEngine(SR, BLOCK)
    engine.set_bpm(120)
    synth = engine.make_plugin_processor("pixelody", str(VST3))
    curve = np.zeros(2 * SR + BLOCK, dtype=np.float32)
    curve[SR:] = 1.0
    synth.set_automation(param_index(synth, "Brightness"), curve)
    engine.load_graph([(synth, [])])
    engine.render(2.0)
    return engine.get_audio()


def high_share(x):
    """Share of the signal's energy above 2 kHz."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / SR)
    return spectrum[freqs > 2000].sum() / spectrum.sum()


def test_automating_a_timbre_parameter_changes_the_sound_at_that_time():
    audio = bounce_with_brightness_automation()[0]
    # Pure sines before the change (the highest notes are below 1 kHz), saw harmonics after.
    before = high_share(audio[SR - 12000 : SR])
    after = high_share(audio[SR + 2400 : SR + 14400])
    assert before < 1e-4, before
    assert after > 100 * before and after > 0.005, (before, after)
    # Nothing changes before the automated time. DawDreamer hands VST3 automation over at block
    # starts, so the change begins on the first block boundary at or after 1.0 s.
    unautomated = vst3_render_brightness(0.0)[0]
    first_change = np.nonzero(audio != unautomated)[0][0]
    assert SR <= first_change < SR + BLOCK, first_change


def vst3_render_brightness(value):
    engine = daw.RenderEngine(SR, BLOCK)
    engine.set_bpm(120)
    synth = engine.make_plugin_processor("pixelody", str(VST3))
    synth.set_parameter(param_index(synth, "Brightness"), value)
    engine.load_graph([(synth, [])])
    engine.render(2.0)
    return engine.get_audio()


def test_two_bounces_of_one_project_are_bit_identical():
    np.testing.assert_array_equal(bounce_with_brightness_automation(), bounce_with_brightness_automation())
