"""The editor, opened by DawDreamer (VST3) on a virtual X screen with a window manager.

What a musician would notice: the picture is on screen in its own colours; dropping a picture
file from a file manager (XDND) changes the music to that picture's, and its proposed timbre
reaches the timbre parameters; a dropped text file is refused with a visible message while the
music stays; dragging a slider with the mouse changes the host's parameter; Randomise picks
another Variation and the music follows; the Drag MIDI handles give GTK and Qt drop targets the
file Export MIDI writes; previous/next load whole presets and Save writes one; a fresh instance
says what to do and offers the bundled examples; pictures dropped together (or added) play as
one piece in sections, reload identically, and the filmstrip removes and reorders them; the
editor opens and closes 50 times without crashing or leaking.
"""

import ctypes
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dawdreamer as daw
import numpy as np
import pytest

import x11_helpers as xh
from wav_files import read_wav

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VST3 = Path(os.environ.get("PIXELODY_VST3", TARGET / "bundled" / "Pixelody.vst3"))
CLI = Path(os.environ.get("PIXELODY_CLI", TARGET / "release" / "pixelody"))
EXAMPLE = ROOT / "plugin" / "assets" / "example.png"
SCREENSHOT = ROOT / "docs" / "editor.png"
LOG = Path(os.environ["NICE_LOG"])
SR = 48000


@pytest.fixture(scope="module")
def screen():
    with xh.Screen() as s:
        yield s


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """A home and config folder of the test's own: no recent pictures, no user presets."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def new_synth():
    engine = daw.RenderEngine(SR, 512)
    engine.set_bpm(120)
    synth = engine.make_plugin_processor("pixelody", str(VST3))
    engine.load_graph([(synth, [])])
    return engine, synth


def plugin_state(synth, tmp_path):
    """The plugin's own state (nice-plug JSON) out of DawDreamer's JUCE state file."""
    path = tmp_path / "state.bin"
    synth.save_state(str(path))
    m = re.search(rb"<IComponent>(\d+)\.([^<]*)</IComponent>", path.read_bytes())
    size, text = int(m.group(1)), m.group(2).decode()
    # JUCE's MemoryBlock base64: its own alphabet, 6 bits per character, least significant first.
    alphabet = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
    bits = 0
    for i, ch in enumerate(text):
        bits |= alphabet.index(ch) << (6 * i)
    state = json.loads(bits.to_bytes(len(text) * 6 // 8 + 1, "little")[:size])
    state["score"] = json.loads(state["fields"]["score"])
    return state


def ppm_pixels(path):
    """A picture file's pixels through ImageMagick, as (h, w, 3) uint8."""
    ppm = subprocess.run(["convert", str(path), "-depth", "8", "ppm:-"], check=True, capture_output=True).stdout
    return xh.parse_ppm(ppm)


def window_pixels(d):
    x, y, w, h = xh.geometry(d, xh.plugin_window(d))
    return xh.screenshot()[y : y + h, x : x + w]


def share_near(pixels, colours, distance=14):
    """The share of `colours` that appear (within `distance` per channel) among `pixels`."""
    flat = pixels.reshape(-1, 3).astype(np.int16)
    found = 0
    for c in colours:
        if (np.abs(flat - c).max(axis=1) <= distance).any():
            found += 1
    return found / len(colours)


def test_the_editor_shows_the_picture_in_its_colours(screen):
    _engine, synth = new_synth()

    def look(d):
        xh.plugin_window(d)
        # The pointer off the editor (no tooltip over what is looked at).
        xh.xdotool("mousemove", "1900", "1060")
        time.sleep(1.5)
        shot = window_pixels(d)
        if os.environ.get("PIXELODY_WRITE_SCREENSHOT"):
            x, y, w, h = xh.geometry(d, xh.host_window(d))
            subprocess.run(
                ["import", "-silent", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", "+repage", str(SCREENSHOT)],
                check=True,
            )
        return shot

    shot = xh.drive_editor(synth.open_editor, look)
    assert shot.std() > 20, "the editor is blank"
    # The example picture's saturated colours (sky, sun, hills) are on screen.
    picture = ppm_pixels(EXAMPLE).reshape(-1, 3).astype(np.int16)
    vivid = np.unique(picture[(picture.max(axis=1) - picture.min(axis=1)) > 60] // 8, axis=0) * 8 + 4
    rng = np.random.default_rng(7)
    sample = vivid[rng.choice(len(vivid), size=min(40, len(vivid)), replace=False)]
    assert share_near(shot, sample) >= 0.8
    # And a picture it does not show is not "found" the same way (the check can fail).
    others = np.array([[20, 220, 250], [250, 20, 220], [30, 250, 30], [250, 250, 250]])
    assert share_near(shot, others, distance=6) <= 0.25


# The score's patch fields and the timbre parameters' ids (the parameter table, score::TIMBRE).
TIMBRE_IDS = {"attack_ms": "attack", "release_ms": "release", "cutoff_hz": "cutoff", "brightness": "bright", "width": "width"}


def make_png(path, w=48, h=32):
    """A blue-to-red diagonal picture, written as PNG by ImageMagick from raw pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, 60 + yy * 4, 255 - xx * 255 // w], axis=-1).astype(np.uint8)
    ppm = path.with_suffix(".ppm")
    ppm.write_bytes(f"P6\n{w} {h}\n255\n".encode() + rgb.tobytes())
    subprocess.run(["convert", str(ppm), str(path)], check=True)
    return path


def test_dropping_a_picture_plays_it_and_proposes_its_timbre(screen, tmp_path):
    engine, synth = new_synth()
    engine.render(2.0)
    before = engine.get_audio()
    png = make_png(tmp_path / "dropped.png")

    def drop(d):
        target = xh.plugin_window(d)
        time.sleep(0.5)
        accepted = xh.xdnd_drop(d, target, [png])
        # Wait for the background load to publish.
        time.sleep(2.0)
        return accepted

    assert xh.drive_editor(synth.open_editor, drop) == (True, True)
    # Parameter changes from the editor reach a processing plugin through the host, with the
    # next block; render before reading the state.
    engine.render(2.0)
    after = engine.get_audio()
    assert np.abs(after - before).max() > 0.01, "the music did not change"
    state = plugin_state(synth, tmp_path)
    assert state["score"]["source"] == "dropped.png (48 x 32)"
    # The plugin plays exactly the score the CLI composes from the same file.
    ref = tmp_path / "ref.json"
    subprocess.run([CLI, "render", png, "-o", tmp_path / "ref.wav", "--json", ref], check=True, capture_output=True)
    expected = json.loads(ref.read_text())
    assert state["score"]["notes"] == expected["notes"]
    # Lock Timbre is off: the picture's timbre went to the timbre parameters.
    patch, params = expected["patch"], state["params"]
    for field, param in [("cutoff_hz", "cutoff"), ("attack_ms", "attack"), ("brightness", "bright"), ("width", "width")]:
        assert params[param]["f32"] == pytest.approx(patch[field], rel=1e-3, abs=1e-4), param
    # ... exactly: every timbre value the plug-in holds is the one the command line plays, and
    # what the plug-in plays from the top is the command line's render, sample for sample.
    for field, value in patch.items():
        param = TIMBRE_IDS.get(field)
        if param is not None:
            assert params[param]["f32"] == value, field
    subprocess.run([CLI, "render", png, "-o", tmp_path / "loop.wav", "--tail", "0"], check=True, capture_output=True)
    reference = read_wav(tmp_path / "loop.wav")
    n = reference.shape[1]
    engine.render(n / SR + 0.05)
    np.testing.assert_array_equal(engine.get_audio()[:, :n], reference)
    # So does the project saved and reopened in a fresh instance.
    saved = tmp_path / "dropped.state"
    synth.save_state(str(saved))
    engine2, synth2 = new_synth()
    synth2.load_state(str(saved))
    engine2.render(0.1)
    engine2.render(n / SR + 0.05)
    np.testing.assert_array_equal(engine2.get_audio()[:, :n], reference)


def test_a_dropped_portrait_is_seen_shown_where_and_shapes_the_music_as_the_cli(screen, tmp_path):
    """A smiling portrait dropped in: the editor names what it sees and outlines it on the picture
    under the pointer; the music is the command line's for that file (a portrait sings: Ballad, in
    a brighter mode than its colours alone give), and the project keeps what was seen. Content Off
    composes as the command line's `--content off`."""
    engine, synth = new_synth()
    photo = ROOT / "plugin" / "tests" / "content" / "astronaut.jpg"
    shot = tmp_path / "seen.png"

    at = {}

    def drop_and_hover(d):
        target = xh.plugin_window(d)
        time.sleep(0.5)
        accepted = xh.xdnd_drop(d, target, [photo])
        time.sleep(2.5)
        x, y, _w, _h = xh.geometry(d, target)
        at["window"] = (x, y)
        at["plain"] = xh.screenshot()
        xh.xdotool("mousemove", x + (PICTURE[0] + PICTURE[2]) // 2, y + PICTURE[3] - 20)
        time.sleep(1.0)
        at["hovered"] = xh.screenshot(shot)
        return accepted

    assert xh.drive_editor(synth.open_editor, drop_and_hover) == (True, True)
    state = plugin_state(synth, tmp_path)
    seen = json.loads(state["fields"]["composition"])["content"]["seen"]
    assert any(s["what"].get("Face", {}).get("expression") == "Happy" for s in seen), seen
    out = tmp_path / "cli.json"
    subprocess.run([CLI, "render", photo, "-o", tmp_path / "cli.wav", "--json", out], check=True, capture_output=True)
    cli = json.loads(out.read_text())
    assert state["score"]["style"] == cli["style"] == "Ballad"
    assert state["score"]["notes"] == cli["notes"]
    # Under the pointer, what was seen is outlined and named on the picture in the accent colour;
    # not before the pointer comes.
    x, y = at["window"]

    def accent(pixels):
        # (The picture area: the left panel, under the header lines, above the piano roll.)
        area = pixels[y + PICTURE[1] : y + PICTURE[3], x : x + 540].astype(int)
        return int((np.abs(area - np.array([255, 176, 72])).sum(axis=2) < 40).sum())

    assert accent(at["hovered"]) > 400, (accent(at["hovered"]), shot)
    assert accent(at["plain"]) < accent(at["hovered"]) // 4, (accent(at["plain"]), shot)
    # Content Off: the command line's --content off.
    content = next(p["index"] for p in synth.get_parameters_description() if p["name"] == "Content")
    synth.set_parameter(content, 1.0)
    deadline = time.time() + 10
    while plugin_state(synth, tmp_path)["score"]["style"] == "Ballad" and time.time() < deadline:
        engine.render(0.5)
    subprocess.run([CLI, "render", photo, "-o", tmp_path / "off.wav", "--json", out, "--content", "off"], check=True, capture_output=True)
    off = json.loads(out.read_text())
    state = plugin_state(synth, tmp_path)
    assert state["score"]["style"] == off["style"] != "Ballad"
    assert state["score"]["notes"] == off["notes"]


def test_a_dropped_text_file_is_refused_visibly_and_the_music_stays(screen, tmp_path):
    engine, synth = new_synth()
    text = tmp_path / "notes.txt"
    text.write_text("not a picture at all\n")
    log_start = LOG.stat().st_size if LOG.exists() else 0

    def drop(d):
        target = xh.plugin_window(d)
        time.sleep(0.5)
        calm = window_pixels(d)
        xh.xdnd_drop(d, target, [text])
        time.sleep(1.0)
        return calm, window_pixels(d)

    calm, refused = xh.drive_editor(synth.open_editor, drop)
    # The message is in the editor's top bar, in the error colour (light red).
    def reds(pixels):
        top = pixels[:40].astype(np.int16)
        return int(((top[..., 0] > 200) & (top[..., 1] < 170) & (top[..., 2] < 170)).sum())

    assert reds(refused) > 50 + reds(calm)
    assert "notes.txt: this is not a picture" in LOG.read_text(errors="replace")[log_start:]
    assert plugin_state(synth, tmp_path)["score"]["source"] == "example.png (96 x 64)"


AMBER = (255, 176, 72)  # the drop highlight for a picture
RED = (235, 87, 87)  # the refusal for anything else


def count_near(pixels, colour, tolerance=24):
    """How many pixels are within `tolerance` (per channel) of `colour`."""
    p = pixels.astype(np.int16)
    return int((np.abs(p - np.array(colour)).max(axis=-1) <= tolerance).sum())


def drag_onto_editor(d, toolkit, path):
    """Drags `path` from a real `toolkit` drag source to the editor's centre. Returns the editor
    before, the editor while the file hovers, and what the drag source printed."""
    target = xh.plugin_window(d)
    time.sleep(0.5)
    x, y, w, h = xh.geometry(d, target)
    calm = window_pixels(d)
    hover, lines = xh.toolkit_drag(toolkit, path, (x + w // 2, y + h // 2), lambda: window_pixels(d))
    return calm, hover, lines


@pytest.mark.parametrize("toolkit", ["gtk", "qt"])
def test_a_picture_dragged_from_a_real_toolkit_plays(screen, tmp_path, toolkit):
    """GTK (GNOME Files, Thunar, Nemo, Firefox) and Qt drag sources address only the host's
    top-level window, or the window its XdndProxy names: the editor must be that proxy."""
    engine, synth = new_synth()
    png = make_png(tmp_path / f"from-{toolkit}.png")

    def drag(d):
        dragged = drag_onto_editor(d, toolkit, png)
        time.sleep(2.0)  # the background load (the state is checked below, not the timing)
        return dragged

    calm, hover, lines = xh.drive_editor(synth.open_editor, drag)
    assert count_near(hover, AMBER) > count_near(calm, AMBER) + 500 and hover.mean() < 0.8 * calm.mean(), (
        f"no drop highlight while the file hovered ({toolkit}: {lines})"
    )
    assert "drag-failed" not in " ".join(lines) and "drag-end 0" not in lines, lines
    engine.render(1.0)
    state = plugin_state(synth, tmp_path)
    assert state["score"]["source"] == f"from-{toolkit}.png (48 x 32)", lines
    ref = tmp_path / "ref.json"
    subprocess.run([CLI, "render", png, "-o", tmp_path / "ref.wav", "--json", ref], check=True, capture_output=True)
    assert state["score"]["notes"] == json.loads(ref.read_text())["notes"]


def test_a_text_file_dragged_from_gtk_is_refused_and_the_music_stays(screen, tmp_path):
    _engine, synth = new_synth()
    text = tmp_path / "lyrics.txt"
    text.write_text("not a picture either\n")
    log_start = LOG.stat().st_size if LOG.exists() else 0

    calm, hover, _ = xh.drive_editor(synth.open_editor, lambda d: drag_onto_editor(d, "gtk", text))
    assert count_near(hover, RED) > count_near(calm, RED) + 500, (
        "the refusal's red highlight did not show while the text file hovered"
    )
    assert "lyrics.txt: this is not a picture" in LOG.read_text(errors="replace")[log_start:]
    assert plugin_state(synth, tmp_path)["score"]["source"] == "example.png (96 x 64)"


# Where the Density slider sits in the default-size editor (960 x 640), from its top-left.
DENSITY_SLIDER = (686, 245)


def drag_density(d):
    """Drags the Density slider from its middle to its right end."""
    x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))
    time.sleep(1.0)
    sx, sy = x + DENSITY_SLIDER[0], y + DENSITY_SLIDER[1]
    xh.xdotool("mousemove", sx, sy)
    xh.xdotool("mousedown", "1")
    for dx in range(0, 141, 20):
        xh.xdotool("mousemove", sx + dx, sy)
        time.sleep(0.05)
    xh.xdotool("mouseup", "1")
    time.sleep(0.5)


def test_dragging_a_slider_changes_the_host_parameter(screen):
    _engine, synth = new_synth()
    index = next(p["index"] for p in synth.get_parameters_description() if p["name"] == "Density")
    start = synth.get_parameter(index)

    xh.drive_editor(synth.open_editor, drag_density)
    assert start == pytest.approx(0.5)
    assert synth.get_parameter(index) > 0.9


# The piano roll's notes and drum lanes, from the editor's top-left (left of the controls).
ROLL = (44, 385, 540, 636)


def roll_changes_within(d, act, seconds=1.0):
    """Does `act` (the pointer then leaves the editor: no tooltip over the roll), then watches
    the piano roll: the seconds until it is drawn anew (more pixels changed than a note covers),
    or None if it stays as it was for `seconds`."""
    x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))

    def roll():
        return xh.screenshot()[y + ROLL[1] : y + ROLL[3], x + ROLL[0] : x + ROLL[2]].astype(np.int16)

    # (What the last action set going has settled: a drag recomposes as it moves and again
    # after it ends.)
    time.sleep(1.0)
    before = roll()
    act(x, y)
    start = time.time()
    # (Not at once: a resting editor may take the click and the leaving in one frame, and a
    # button the pointer has left by then was not clicked.)
    time.sleep(0.15)
    xh.xdotool("mousemove", "1900", "1060")
    while time.time() - start < seconds:
        if (np.abs(roll() - before).max(axis=2) > 40).sum() > 150:
            return time.time() - start
        time.sleep(0.05)
    return None


def test_a_host_that_is_not_processing_still_gets_the_change_and_its_music(screen, tmp_path):
    # A host that has played and stopped (as an offline render host does, and a stopped engine or
    # a bypassed track): a preset step, a slider drag, Randomise and a dropped picture each show
    # in the editor within a second (the score is recomposed for them without waiting for audio
    # to run again), and the slider keeps where it was dragged.
    engine, synth = new_synth()
    engine.render(0.5)
    before = plugin_state(synth, tmp_path)
    png = make_png(tmp_path / "dropped.png")

    def drag(x, y):
        sx, sy = x + DENSITY_SLIDER[0], y + DENSITY_SLIDER[1]
        xh.xdotool("mousemove", sx, sy)
        time.sleep(0.1)
        xh.xdotool("mousedown", "1")
        for dx in range(0, 141, 35):
            xh.xdotool("mousemove", sx + dx, sy)
            time.sleep(0.05)
        xh.xdotool("mouseup", "1")

    def click(button):
        def press(x, y):
            xh.xdotool("mousemove", x + button[0], y + button[1])
            time.sleep(0.1)
            xh.xdotool("click", "1")

        return press

    def drop(d):
        return lambda _x, _y: xh.xdnd_drop(d, xh.plugin_window(d), [png])

    def act(d):
        xh.xdotool("mousemove", "1900", "1060")
        time.sleep(1.5)
        took = {
            "preset": roll_changes_within(d, click(PRESET_NEXT)),
            "slider": roll_changes_within(d, drag),
            "randomise": roll_changes_within(d, click(RANDOMISE_BUTTON)),
            "picture": roll_changes_within(d, drop(d)),
        }
        time.sleep(0.5)
        return took

    took = xh.drive_editor(synth.open_editor, act)
    print("drawn after (s):", took)
    assert all(t is not None for t in took.values()), took
    after = plugin_state(synth, tmp_path)
    assert after["score"]["source"] == "dropped.png (48 x 32)", "the picture plays"
    assert after["score"]["notes"] != before["score"]["notes"]
    assert after["score"]["style"] == "Ambient", "the preset's style"
    assert json.loads(after["fields"]["preset"]) == "Ambient Drift"
    density = after["params"]["density"]
    assert next(iter(density.values())) > 0.9, density


def test_a_resting_editor_rests(screen):
    # The host stopped and nothing moving: the editor draws about once a second (parameters,
    # scores and loads wake it), so this process (the editor's thread and Mesa's software
    # renderer, which draws here under Xvfb) spends under 5% of one core over 10 s.
    _engine, synth = new_synth()
    shares = []

    def rest(d):
        xh.plugin_window(d)
        time.sleep(2.0)  # (its first frames: fonts, the picture's texture)
        cpu, wall = time.process_time(), time.monotonic()
        time.sleep(10.0)
        shares.append((time.process_time() - cpu) / (time.monotonic() - wall))

    xh.drive_editor(synth.open_editor, rest)
    print(f"resting editor: {shares[0]:.1%} of a core")
    assert shares[0] < 0.05, f"{shares[0]:.1%} of a core"


# In the default-size editor: where the example picture is drawn (left, top, right, bottom).
PICTURE = (70, 86, 480, 358)


def test_a_rectangle_drawn_on_the_picture_composes_from_that_part_and_one_click_clears_it(screen, tmp_path):
    engine, synth = new_synth()
    whole = plugin_state(synth, tmp_path)["score"]
    # A rectangle around the sun (from its top-left to its bottom-right corner).
    corner_a, corner_b = (300, 120), (390, 235)

    def draw(d):
        x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))
        time.sleep(1.0)
        xh.xdotool("mousemove", x + corner_a[0], y + corner_a[1])
        xh.xdotool("mousedown", "1")
        for k in range(1, 7):
            px = corner_a[0] + (corner_b[0] - corner_a[0]) * k // 6
            py = corner_a[1] + (corner_b[1] - corner_a[1]) * k // 6
            xh.xdotool("mousemove", x + px, y + py)
            time.sleep(0.05)
        xh.xdotool("mouseup", "1")
        time.sleep(1.5)

    xh.drive_editor(synth.open_editor, draw)
    state = plugin_state(synth, tmp_path)
    settings = json.loads(state["fields"]["composition"])["settings"]
    w, h = PICTURE[2] - PICTURE[0], PICTURE[3] - PICTURE[1]
    expected = [
        (corner_a[0] - PICTURE[0]) / w,
        (corner_a[1] - PICTURE[1]) / h,
        (corner_b[0] - corner_a[0]) / w,
        (corner_b[1] - corner_a[1]) / h,
    ]
    assert settings.get("region") == pytest.approx(expected, abs=0.02), settings.get("region")
    # The music is the command line's for that region (recomposed with no audio running).
    region = ",".join(f"{v:.6f}" for v in settings["region"])
    out = tmp_path / "region.json"
    subprocess.run([CLI, "render", EXAMPLE, "-o", tmp_path / "r.wav", "--json", out, "--region", region], check=True)
    assert state["score"]["notes"] == json.loads(out.read_text())["notes"]
    assert state["score"]["notes"] != whole["notes"]
    # The button at the region's top-right corner composes from the whole picture again.
    clear = (corner_b[0] - 134 + 65, corner_a[1] + 4 + 10)
    xh.drive_editor(synth.open_editor, clicking(clear, then=1.0))
    state = plugin_state(synth, tmp_path)
    assert "region" not in json.loads(state["fields"]["composition"])["settings"]
    assert state["score"]["notes"] == whole["notes"]


def clicking(*buttons, then=0.0):
    """An editor action for `xh.drive_editor`: clicks `buttons` (points from the editor's
    top-left) in turn, giving each 0.7 s, then waits `then` seconds more."""

    def act(d):
        x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))
        time.sleep(1.0)
        for bx, by in buttons:
            xh.xdotool("mousemove", x + bx, y + by, "click", "1")
            time.sleep(0.7)
        time.sleep(then)

    return act


# The top bar's "Export MIDI..." button, and the Save button of the browser it opens.
EXPORT_BUTTON, SAVE_BUTTON = (252, 12), (228, 396)


def test_export_midi_from_the_editor_writes_the_score(screen, tmp_path, own_home):
    # With no recent pictures, the browser starts in the home folder.
    _engine, synth = new_synth()

    xh.drive_editor(synth.open_editor, clicking(EXPORT_BUTTON, SAVE_BUTTON))
    written = tmp_path / "pixelody.mid"
    assert written.exists(), "no MIDI file was written"
    # Byte for byte the file the CLI writes for the same picture at the same tempo (the host is
    # stopped, so the editor uses Free-run Tempo, 120 BPM).
    ref = tmp_path / "ref.mid"
    subprocess.run([CLI, "render", EXAMPLE, "-o", tmp_path / "ref.wav", "--bpm", "120", "--midi", ref], check=True, capture_output=True)
    assert written.read_bytes() == ref.read_bytes()


# The Drag MIDI handles above the picture, from the editor's top-left.
DRAG_HANDLES = {"all": (92, 44), "melody": (146, 44), "harmony": (212, 44), "bass": (268, 44), "drums": (325, 44)}


@pytest.mark.parametrize(
    "toolkit, part", [("gtk", "all"), ("gtk", "bass"), ("qt", "all"), ("qt", "melody")]
)
def test_dragging_midi_out_gives_a_real_toolkit_the_export(screen, tmp_path, toolkit, part):
    """A musician drags a handle onto a DAW track or a file manager (GTK 3 and Qt drop targets):
    the file they receive is the one Export MIDI writes (and the CLI), for the whole score or the
    one part; it is named after the picture."""
    _engine, synth = new_synth()
    received = tmp_path / "received.mid"

    def drag(d):
        x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))
        time.sleep(1.0)
        hx, hy = DRAG_HANDLES[part]
        return xh.drag_to_toolkit(toolkit, (x + hx, y + hy), received)

    lines = xh.drive_editor(synth.open_editor, drag)
    name = "example.mid" if part == "all" else f"example-{part}.mid"
    assert any(l.startswith("received file://") and l.endswith(f"/{name}") for l in lines), lines
    ref = tmp_path / "ref.mid"
    only = [] if part == "all" else ["--midi-part", part]
    # The host is stopped: the editor uses Free-run Tempo, 120 BPM.
    subprocess.run([CLI, "render", EXAMPLE, "-o", tmp_path / "ref.wav", "--bpm", "120", "--midi", ref, *only], check=True, capture_output=True)
    assert received.read_bytes() == ref.read_bytes()


# The top bar's "Randomise" button, from the editor's top-left.
RANDOMISE_BUTTON = (346, 12)


def test_randomise_picks_another_variation_in_one_change_and_the_music_follows(screen, tmp_path):
    engine, synth = new_synth()
    names = {p["name"]: p["index"] for p in synth.get_parameters_description()}
    before = synth.get_parameter(names["Variation"])
    notes_before = plugin_state(synth, tmp_path)["score"]["notes"]

    xh.drive_editor(synth.open_editor, clicking(RANDOMISE_BUTTON, then=0.8))
    # Parameter changes from the editor reach a processing plugin through the host, with the
    # next block: render before reading.
    engine.render(1.0)
    after = synth.get_parameter(names["Variation"])
    assert after != before, "Variation did not move"
    # The style stays Auto without Shift; the score is composed again with the new Variation.
    assert synth.get_parameter(names["Style"]) == pytest.approx(0.0)
    deadline = time.time() + 10
    while plugin_state(synth, tmp_path)["score"]["notes"] == notes_before and time.time() < deadline:
        engine.render(0.5)
    assert plugin_state(synth, tmp_path)["score"]["notes"] != notes_before


# The preset bar at the top of the controls, from the editor's top-left, and the Save button of
# the window Save... opens (centred on the editor).
PRESET_PREVIOUS, PRESET_NEXT, PRESET_SAVE, SAVE_WINDOW_SAVE = (615, 38), (834, 38), (880, 38), (337, 361)


def test_next_and_previous_presets_load_whole_presets_and_the_music_follows(screen, tmp_path, own_home):
    engine, synth = new_synth()
    names = {p["name"]: p["index"] for p in synth.get_parameters_description()}
    ambient = json.loads((ROOT / "plugin" / "presets" / "02-ambient-drift.json").read_text())["values"]

    # Next from the fresh instance (the first preset, every default): the second, Ambient Drift.
    xh.drive_editor(synth.open_editor, clicking(PRESET_NEXT))
    engine.render(0.5)
    assert synth.get_parameter_text(names["Style"]) == "Ambient"
    assert synth.get_parameter_text(names["Length"]).startswith(str(ambient["bars"]))
    assert synth.get_parameter_text(names["Lock Timbre"]).lower() in ("on", "true", "1")
    assert synth.get_parameter(names["Drums On"]) == pytest.approx(0.0)
    assert synth.get_parameter_text(names["Attack"]).startswith("600")
    deadline = time.time() + 10
    while plugin_state(synth, tmp_path)["score"]["style"] != "Ambient" and time.time() < deadline:
        engine.render(0.5)
    state = plugin_state(synth, tmp_path)
    score = state["score"]
    assert score["style"] == "Ambient" and score["length_beats"] == 32.0
    # The project remembers which preset it came from (the menu says "Ambient Drift (edited)"
    # once a control moves, also after the editor or the project reopens).
    assert json.loads(state["fields"]["preset"]) == "Ambient Drift"
    # Previous: back to every default, Lock Timbre off, and the sound the picture proposes.
    xh.drive_editor(synth.open_editor, clicking(PRESET_PREVIOUS))
    engine.render(0.5)
    assert synth.get_parameter_text(names["Style"]) == "Auto"
    assert synth.get_parameter(names["Drums On"]) == pytest.approx(1.0)
    assert synth.get_parameter(names["Lock Timbre"]) == pytest.approx(0.0)
    # (The attack the picture proposes for the score this preset asks for, set with the preset,
    # not the default 10 ms nor Ambient Drift's 600, nor what the picture proposed in Ambient.)
    deadline = time.time() + 10
    while plugin_state(synth, tmp_path)["score"]["length_beats"] == 32.0 and time.time() < deadline:
        engine.render(0.5)
    state = plugin_state(synth, tmp_path)
    assert json.loads(state["fields"]["preset"]) == "Picture Decides"
    assert state["score"]["length_beats"] != 32.0
    proposed = state["score"]["patch"]["attack_ms"]
    attack = next(iter(state["params"]["attack"].values()))
    assert attack == pytest.approx(proposed, rel=1e-3), (attack, proposed)


def test_save_writes_the_settings_as_a_user_preset(screen, tmp_path, own_home):
    engine, synth = new_synth()

    # Load Ambient Drift; the host applies the editor's changes with the next block.
    xh.drive_editor(synth.open_editor, clicking(PRESET_NEXT))
    engine.render(0.5)
    # Save..., then Save under the name it proposes.
    xh.drive_editor(synth.open_editor, clicking(PRESET_SAVE, SAVE_WINDOW_SAVE))
    saved = tmp_path / "config" / "pixelody" / "presets" / "My preset.json"
    assert saved.exists(), list((tmp_path / "config").rglob("*"))
    preset = json.loads(saved.read_text())
    ambient = json.loads((ROOT / "plugin" / "presets" / "02-ambient-drift.json").read_text())["values"]
    assert preset["name"] == "My preset" and preset["pixelody_preset"] == 1
    # Every setting the preset covers, as the parameters were: Ambient Drift's where it names them.
    assert len(preset["values"]) == 51
    for key, value in ambient.items():
        if isinstance(value, (str, bool)):
            assert preset["values"][key] == value, key
        else:
            assert preset["values"][key] == pytest.approx(value, rel=1e-4), key


# The first-minute card's link over the picture, and the browser's "Night city" example.
FIRST_MINUTE_LINK, NIGHT_CITY_EXAMPLE = (354, 313), (511, 330)


def test_a_fresh_instance_says_what_to_do_and_offers_examples(screen, tmp_path, own_home):
    engine, synth = new_synth()

    xh.drive_editor(synth.open_editor, clicking(FIRST_MINUTE_LINK, NIGHT_CITY_EXAMPLE, then=1.3))
    engine.render(0.5)
    state = plugin_state(synth, tmp_path)
    assert state["score"]["source"] == "Night city.png (96 x 64)"


# "+ Add pictures" beside the Drag MIDI handles, from the editor's top-left.
ADD_PICTURES = (415, 44)


def test_add_pictures_turns_the_picture_into_a_piece(screen, tmp_path, own_home):
    engine, synth = new_synth()

    xh.drive_editor(synth.open_editor, clicking(ADD_PICTURES, NIGHT_CITY_EXAMPLE, then=1.3))
    engine.render(0.5)
    score = plugin_state(synth, tmp_path)["score"]
    assert [s["source"] for s in score["sections"]] == ["example.png (96 x 64)", "Night city.png (96 x 64)"]
    assert score["source"] == "example.png (96 x 64) + 1 more"
    assert score["length_beats"] == 16.0


def solid_png(path, rgb, w=48, h=32):
    """A picture of one colour with a lighter band, written by ImageMagick."""
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:] = rgb
    pixels[h // 3 : h // 2] = np.minimum(np.array(rgb) + 90, 255)
    ppm = path.with_suffix(".ppm")
    ppm.write_bytes(f"P6\n{w} {h}\n255\n".encode() + pixels.tobytes())
    subprocess.run(["convert", str(ppm), str(path)], check=True)
    return path


# In the filmstrip under the picture, from the editor's top-left: the first section's remove
# corner, and the middles of the first and second sections.
FIRST_SECTION_REMOVE, FIRST_SECTION, SECOND_SECTION = (62, 327), (40, 339), (108, 339)


def test_pictures_dropped_together_play_as_one_piece_and_reload_identically(screen, tmp_path):
    engine, synth = new_synth()
    walk = [
        solid_png(tmp_path / "walk-1.png", (200, 60, 40)),
        tmp_path / "walk-notes.txt",
        solid_png(tmp_path / "walk-2.png", (40, 90, 200)),
        solid_png(tmp_path / "walk-3.png", (40, 160, 60)),
    ]
    walk[1].write_text("not a picture")

    def drop(d):
        target = xh.plugin_window(d)
        time.sleep(0.5)
        accepted = xh.xdnd_drop(d, target, walk)
        time.sleep(2.5)
        return accepted

    assert xh.drive_editor(synth.open_editor, drop) == (True, True)
    engine.render(0.5)
    state = plugin_state(synth, tmp_path)
    score = state["score"]
    assert [s["source"] for s in score["sections"]] == [
        "walk-1.png (48 x 32)",
        "walk-2.png (48 x 32)",
        "walk-3.png (48 x 32)",
    ]
    assert "walk-notes.txt: this is not a picture" in LOG.read_text(errors="replace")
    # The piece is what the command line composes from the same pictures.
    ref = tmp_path / "ref.json"
    good = [walk[0], walk[2], walk[3]]
    subprocess.run([CLI, "render", *good, "-o", tmp_path / "ref.wav", "--json", ref], check=True, capture_output=True)
    assert score["notes"] == json.loads(ref.read_text())["notes"]
    assert score["length_beats"] == 3 * 8.0
    # Saved and loaded into a new instance, it sounds the same.
    saved = tmp_path / "piece.state"
    synth.save_state(str(saved))
    engine2, synth2 = new_synth()
    synth2.load_state(str(saved))
    engine.render(0.1)
    engine2.render(0.1)
    engine.set_bpm(120)
    engine.render(6.0)
    engine2.render(6.0)
    assert np.array_equal(engine.get_audio(), engine2.get_audio())
    assert plugin_state(synth2, tmp_path)["fields"]["composition"] == state["fields"]["composition"]

    def sources():
        return [s["source"].split(" ")[0] for s in plugin_state(synth, tmp_path)["score"].get("sections", [])]

    def edit(d):
        x, y, _w, _h = xh.geometry(d, xh.plugin_window(d))
        time.sleep(1.0)
        # Remove the first section: its corner x.
        xh.xdotool("mousemove", x + FIRST_SECTION_REMOVE[0] - 4, y + FIRST_SECTION_REMOVE[1] + 4)
        time.sleep(0.3)
        xh.xdotool("mousemove", x + FIRST_SECTION_REMOVE[0], y + FIRST_SECTION_REMOVE[1], "click", "1")
        time.sleep(2.0)
        # Then drag the (new) second section onto the first's place.
        sx, sy = x + SECOND_SECTION[0], y + SECOND_SECTION[1]
        xh.xdotool("mousemove", sx, sy)
        xh.xdotool("mousedown", "1")
        for i in range(1, 11):
            xh.xdotool("mousemove", sx + (FIRST_SECTION[0] - SECOND_SECTION[0]) * i // 10, sy)
            time.sleep(0.05)
        time.sleep(0.3)
        xh.xdotool("mouseup", "1")
        time.sleep(2.0)

    xh.drive_editor(synth.open_editor, edit)
    engine.render(0.5)
    assert sources() == ["walk-3.png", "walk-2.png"]


def test_host_automation_with_the_editor_open_leaves_the_plugin_working(screen, tmp_path):
    """A host automates every parameter from its own thread while the editor opens, stays open
    and closes (what the validators' "Editor Automation" test does, and a musician automating
    with the window open). The editor's notifications used to reach its window from the shared
    background thread, which panicked there (or on the window being opened or closed meanwhile)
    and died: nothing recomposed again. Now the notifications that cannot reach the window are
    dropped, the window shows the values anyway, and the worker lives on (the log check in
    tests/conftest.py fails this test on any panic)."""
    import threading

    engine, synth = new_synth()
    # Every parameter a host automates (not the program change parameter, which is not
    # automatable: hosts set it from their preset drop-down, on their own thread).
    params = [p for p in synth.get_parameters_description() if p["isAutomatable"]]
    assert len(params) >= 60
    rng = np.random.default_rng(3)
    done = {"changes": 0, "error": None}

    def automate():
        try:
            start = time.time()
            for round_ in range(2000):
                for p in params:
                    synth.set_parameter(p["index"], float(rng.random()))
                    done["changes"] += 1
                # A block with these values: the changes reach the plug-in in its process call.
                engine.render(0.011)
                # Spread over about 10 s, as a host's automation would be.
                ahead = start + 10.0 * (round_ + 1) / 2000 - time.time()
                if ahead > 0:
                    time.sleep(ahead)
        except BaseException as e:  # reported on the main thread
            done["error"] = e

    host = threading.Thread(target=automate)
    host.start()
    openings = 0
    while host.is_alive():
        xh.drive_editor(synth.open_editor, lambda d: time.sleep(0.4), timeout=60)
        openings += 1
    host.join()
    assert done["error"] is None, done["error"]
    assert done["changes"] == 2000 * len(params)
    assert openings >= 3
    # Back to the defaults, then one composition change: the background thread still composes
    # (the project's composition says which Variation its score was made with).
    for p in params:
        synth.set_parameter(p["index"], float(p["defaultValue"]))
    variation = {p["name"]: p["index"] for p in params}["Variation"]
    synth.set_parameter(variation, 123 / 999)

    def composed_seed():
        return json.loads(plugin_state(synth, tmp_path)["fields"]["composition"])["settings"]["seed"]

    deadline = time.time() + 30
    while composed_seed() != 123 and time.time() < deadline:
        engine.render(0.25)
    assert composed_seed() == 123, "nothing recomposes any more"


def rss_kb():
    """Resident memory after glibc returns its free pages (malloc_trim): with an arena per
    thread, free but unreturned memory wanders by megabytes and would hide what is held."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def test_fifty_open_close_cycles_neither_crash_nor_leak(screen):
    _engine, synth = new_synth()
    log_start = LOG.stat().st_size if LOG.exists() else 0
    rss, fds = [], []
    for i in range(50):
        xh.drive_editor(synth.open_editor, lambda d: time.sleep(0.2))
        time.sleep(0.1)
        if i in (9, 49):
            rss.append(rss_kb())
            fds.append(len(os.listdir("/proc/self/fd")))
    closes = re.findall(r"Editor closed \((\d+) editors open", LOG.read_text(errors="replace")[log_start:])
    assert len(closes) == 50
    assert closes[-1] == "0", "an editor was not freed"
    # Each opening used to leak nice-plug's run-loop socket pair (vendor/nice-plug/PIXELODY.md):
    # 80 descriptors over these 40 cycles. Now the count does not grow.
    assert fds[1] - fds[0] <= 1, fds
    # Memory after 50 openings stays within 20 MB of memory after 10.
    assert rss[1] - rss[0] < 20_000, rss


# Opens the editor once in a fresh process on a fresh X server with no window manager, and says
# whether DawDreamer closed it when asked.
ONE_OPENING = """
import sys
import dawdreamer as daw
import x11_helpers as xh

# (Not its worker's screen: the spare display. Asked to close for 4 s, not 15: the editor that
# closes does at the first request, and the one that does not is the point of the test.)
xh.DISPLAY = sys.argv[3]
xh.CLOSE_PATIENCE_S = 4.0
with xh.Screen(window_manager=False, atoms=sys.argv[2] == "atoms"):
    engine = daw.RenderEngine(48000, 512)
    synth = engine.make_plugin_processor("pixelody", sys.argv[1])
    try:
        xh.drive_editor(synth.open_editor, lambda d: None)
        print("closed")
    except AssertionError as e:
        print("not closed:", str(e).splitlines()[-1])
"""


def test_the_editor_closes_when_the_window_manager_is_late():
    """The harness's own hazard, which hung this suite 4 times in ~60 runs: JUCE looks its
    WM_PROTOCOLS atoms up once, at its first window in a process, and only finds them if some
    client made them; openbox does at its start. If the editor opened first, DawDreamer ignored
    every close request. The screen now makes the atoms itself, so the editor closes even with no
    window manager at all; without them it does not (the first half shows the check can fail,
    and why the screen makes them)."""

    def one_opening(atoms):
        run = subprocess.run(
            [sys.executable, "-c", ONE_OPENING, str(VST3), atoms, xh.SPARE_DISPLAY],
            cwd=Path(__file__).parent, capture_output=True, text=True, timeout=120,
        )
        return run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]

    assert one_opening("no-atoms").startswith("not closed: the host ignored every request")
    assert one_opening("atoms") == "closed"
