"""Pixelody in a real DAW: Ardour 7 (Debian's `ardour`), headless through `ardour7-lua` with its
dummy audio backend. A session with Pixelody's VST3 on a MIDI track, exported to WAV, must sound
exactly as the command line renders the same picture and settings, at several tempi (Ardour sends
positions rounded to 1/1920 quarter: they must not read as jumps); an automation lane must change
the sound where it is drawn; a session saved with other settings and another picture must export
the same sound again after it is closed and reopened.

Ardour 7.3 sometimes aborts in its own teardown after a complete export: the script leaves
without the teardown and the test judges the exported file (retrying a run whose file is
incomplete), never the exit code alone.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VST3 = Path(os.environ.get("PIXELODY_VST3", TARGET / "bundled" / "Pixelody.vst3"))
CLI = Path(os.environ.get("PIXELODY_CLI", TARGET / "release" / "pixelody"))
EXAMPLE = ROOT / "plugin" / "assets" / "example.png"
SCRIPT = Path(__file__).resolve().parent / "session.lua"
HERE = Path(__file__).resolve().parent
FLOAT_PRESET = "8c1f0d52-3b7a-4e29-b6d4-5f2a9e7c1a08"
SR = 48000
ARDOUR_LIB = Path("/usr/lib/ardour7")

pytestmark = pytest.mark.skipif(
    shutil.which("ardour7-lua") is None and not os.environ.get("CI"),
    reason="Ardour 7 is not installed (apt-get install ardour; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def ardour(tmp_path_factory, ardour_log):
    """An Ardour configuration of the test's own (the user's is left alone) that knows Pixelody:
    the bundle scanned, and a 32-bit float WAV export preset without dither."""
    home = tmp_path_factory.mktemp("ardour-home")
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        NICE_LOG=str(ardour_log),
    )
    plugins = home / "vst3"
    plugins.mkdir()
    shutil.copytree(VST3, plugins / "Pixelody.vst3")
    export = home / "config" / "ardour7" / "export"
    export.mkdir(parents=True)
    for f in ["pixelody-float.format", "pixelody-float.preset"]:
        shutil.copy(HERE / f, export / f)
    scan = subprocess.run(
        [ARDOUR_LIB / "ardour-vst3-scanner", "-f", plugins / "Pixelody.vst3"],
        env={**env, "LD_LIBRARY_PATH": str(ARDOUR_LIB)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
    env["PIXELODY_VST3_DIR"] = str(plugins)
    return env


def read_wav(path):
    """A WAV file's samples as (frames, channels) float64 in -1..1: 16-bit PCM or 32-bit float."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", f"{path} is not a WAV file"
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunk = data[pos + 8 : pos + 8 + size]
        if tag == b"fmt ":
            fmt = chunk
        elif tag == b"data":
            body = chunk
        pos += 8 + size + (size & 1)
    code, channels = int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    if code == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the real code opens the sub-format GUID
        code = int.from_bytes(fmt[24:26], "little")
    if code == 3 and bits == 32:
        x = np.frombuffer(body, dtype="<f4").astype(np.float64)
    elif code == 1 and bits == 16:
        x = np.frombuffer(body, dtype="<i2") / 32768.0
    else:
        raise AssertionError(f"{path}: format {code}, {bits} bits")
    return x.reshape(-1, channels)


def run_ardour(env, session, out, samples, tries=3, printed=None, **extra):
    """Runs session.lua; returns the exported samples. Retries a run whose export is missing or
    short, or that hangs (Ardour 7.3's teardown can abort or hang; see the module note). With
    `printed` (a list), the successful run's printed lines are added to it."""
    run_env = {
        **env,
        "PIXELODY_SESSION": str(session),
        "PIXELODY_EXPORT": str(out),
        "PIXELODY_SAMPLES": str(samples),
        "PIXELODY_PRESET": FLOAT_PRESET,
        **{f"PIXELODY_{k.upper()}": str(v) for k, v in extra.items()},
    }
    log = ""
    for attempt in range(tries):
        if out.exists():
            out.unlink()
        if run_env.get("PIXELODY_NEW") == "1" and session.exists():
            shutil.rmtree(session)
        try:
            p = subprocess.run(["ardour7-lua", str(SCRIPT)], env=run_env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired as e:
            # Ardour 7.3 once hung here in its export's teardown (glibc's heap lock, inside
            # libsndfile); a run takes seconds, so a stuck one is killed and tried again.
            log += f"--- attempt {attempt + 1} hung for {e.timeout} s and was killed\n"
            continue
        log += f"--- attempt {attempt + 1}, exit {p.returncode}\n{p.stdout}\n{p.stderr}\n"
        if "exported" in p.stdout and out.exists():
            audio = read_wav(out)
            if len(audio) == samples and np.isfinite(audio).all() and np.abs(audio).max() > 0:
                if printed is not None:
                    printed.extend(p.stdout.splitlines())
                return audio
            # A silent or non-finite export is tried again, saying what it was (a session saved
            # before Ardour connected its track exported silence; session.lua now waits for that).
            log += f"--- attempt {attempt + 1}: {len(audio)} samples, finite {np.isfinite(audio).all()}, peak {np.nanmax(np.abs(audio)) if len(audio) else 0}\n"
    raise AssertionError(f"Ardour did not export {out.name}:\n{log}")


def cli_render(tmp_path, picture, bpm, bars, loops, *flags):
    out = tmp_path / f"cli-{bpm}.wav"
    subprocess.run(
        [CLI, "render", picture, "-o", out, "--bpm", str(bpm), "--bars", str(bars), "--loops", str(loops), *flags],
        check=True,
        capture_output=True,
    )
    return read_wav(out)


def assert_same_sound(got, want, what):
    n = min(len(got), len(want))
    assert n > 0.9 * max(len(got), len(want)), f"{what}: {len(got)} vs {len(want)} samples"
    diff = np.abs(got[:n] - want[:n])
    worst = int(diff.max(axis=1).argmax())
    assert diff.max() <= 1e-6, (
        f"{what}: differs from sample {int(np.argmax(diff.max(axis=1) > 1e-6))} on "
        f"(largest difference {diff.max():.2e} at sample {worst}); RMS {np.sqrt((got**2).mean()):.4f} "
        f"against {np.sqrt((want**2).mean()):.4f}"
    )


def beats_to_samples(beats, bpm):
    return int(round(beats * 60.0 / bpm * SR))


@pytest.mark.parametrize("bpm", [100, 137])
def test_an_ardour_export_sounds_exactly_as_the_command_line_render(ardour, tmp_path, bpm):
    # A fresh instance plays the bundled example picture with the default sound, two bars long.
    samples = beats_to_samples(16, bpm)
    got = run_ardour(ardour, tmp_path / f"at{bpm}", tmp_path / "ardour.wav", samples, new=1, bpm=bpm)
    want = cli_render(tmp_path, EXAMPLE, bpm, 2, 2, "--timbre", "default")
    assert np.abs(got).max() > 0.01, "Ardour exported silence"
    assert_same_sound(got, want[:samples], f"Ardour at {bpm} BPM")


@pytest.mark.parametrize("meter", ["4/4", "3/4", "7/8"])
def test_a_session_in_another_meter_plays_in_its_bars(ardour, tmp_path, meter):
    # A session in 3/4 (or 7/8): the plug-in hears the meter, recomposes in it, and the export is
    # the command line's render in that meter, sample for sample: its chords and kicks on the
    # session's bar lines for 16 bars, across eight loop wraps.
    bpm = 120
    n, d = (int(x) for x in meter.split("/"))
    bar_beats = n * 4 / d
    samples = beats_to_samples(16 * bar_beats, bpm)
    name = meter.replace("/", "-")
    got = run_ardour(ardour, tmp_path / f"in{name}", tmp_path / "ardour.wav", samples, new=1, bpm=bpm, meter=meter, settle=1)
    want = cli_render(tmp_path, EXAMPLE, bpm, 2, 8, "--timbre", "default", "--meter", meter)
    assert np.abs(got).max() > 0.01, "Ardour exported silence"
    assert_same_sound(got, want[:samples], f"Ardour in {meter}")
    # (And the command line's score is in that meter: its bar lines are where Ardour's are.)
    info = subprocess.run([CLI, "info", EXAMPLE, "--meter", meter], check=True, capture_output=True, text=True).stdout
    assert f"Meter: {meter}" in info, info


def test_ardours_preset_menu_lists_the_factory_presets_and_loads_one_while_playing(ardour, tmp_path):
    """Ardour's preset menu lists a VST3 plug-in's program list. All the factory presets are there
    by name; one chosen while the engine runs (the plug-in hands the preset's values to Ardour as
    gestures, which it passes to the audio thread) plays exactly as DawDreamer plays the same
    program chosen in its host."""
    import dawdreamer as daw

    names = [json.loads(p.read_text())["name"] for p in sorted((ROOT / "plugin" / "presets").glob("*.json"))]
    bpm, chosen = 120, "8-bit Quest"
    samples = beats_to_samples(16, bpm)
    printed = []
    got = run_ardour(
        ardour, tmp_path / "preset", tmp_path / "ardour.wav", samples, printed=printed,
        new=1, bpm=bpm, list_presets=names[0], load_preset=chosen, settle=1,
    )
    listed = [line.split("\t")[1] for line in printed if line.startswith("preset\t")]
    assert [n for n in listed if n in names] == names, printed
    assert f"loaded\t{chosen}" in printed, printed

    engine = daw.RenderEngine(SR, 512)
    engine.set_bpm(bpm)
    synth = engine.make_plugin_processor("pixelody", str(VST3))
    program = next(p["index"] for p in synth.get_parameters_description() if p["name"] == "Program")
    synth.set_parameter(program, names.index(chosen) / (len(names) - 1))
    engine.load_graph([(synth, [])])
    # (The preset changes the composition: the first render hears it and recomposes, as Ardour's
    # engine does before its export; the second plays the new score from the start.)
    engine.render(1.0)
    time.sleep(1.0)
    engine.render(samples / SR)
    want = engine.get_audio().T
    plain = cli_render(tmp_path, EXAMPLE, bpm, 2, 2, "--timbre", "default")[:samples]
    assert np.abs(got - plain[: len(got)]).max() > 0.01, "the preset did not change the sound"
    assert_same_sound(got, want[:samples], f"Ardour with {chosen}")


def test_an_automation_lane_changes_the_sound_where_it_is_drawn(ardour, tmp_path):
    bpm = 100
    samples = beats_to_samples(16, bpm)
    at = beats_to_samples(8, bpm)  # bar 3
    plain = cli_render(tmp_path, EXAMPLE, bpm, 2, 2, "--timbre", "default")[:samples]
    # The Cutoff parameter drawn down to its lowest value from bar 3 on.
    got = run_ardour(ardour, tmp_path / "automated", tmp_path / "ardour.wav", samples, new=1, bpm=bpm, automate=f"Cutoff {at} 0.0")
    # The lane holds the parameter's value until 64 samples before the step (Ardour thins a point
    # closer to the next one): up to there, the export is the plain render, sample for sample.
    assert_same_sound(got[: at - 64], plain[: at - 64], "before the automation point")
    # The sound changes where the step is drawn (Ardour passes automation sample-accurately).
    changed = int(np.argmax(np.abs(got - plain).max(axis=1) > 1e-6))
    assert at - 64 <= changed <= at + 64, f"the automation took effect at sample {changed}, drawn at {at}"
    # After it (and the parameter smoothing, 10 ms) the sound is far darker and quieter.
    after = slice(at + SR // 20, samples)
    rms = lambda x: float(np.sqrt((x**2).mean()))
    assert rms(got[after]) < 0.3 * rms(plain[after]), (rms(got[after]), rms(plain[after]))


def make_picture_state(tmp_path, fixture_state, bpm):
    """A project state saved by Pixelody with other settings and another picture: the first
    format's fixture (Scan mode, key D, Variation 3, one bar) with a generated picture in place
    of the example, the notes the command line composes from that picture with those settings,
    and the timbre the picture proposes on the timbre parameters. Returns (state bytes, the
    command line's render of the same)."""
    w, h = 64, 48
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 4) % 256, 255 - yy * 5, ((xx + yy) * 3) % 256], axis=-1).astype(np.uint8)
    ppm = tmp_path / "other.ppm"
    ppm.write_bytes(f"P6\n{w} {h}\n255\n".encode() + rgb.tobytes())
    picture = tmp_path / "other.png"
    subprocess.run(["convert", str(ppm), str(picture)], check=True)
    state = json.loads(fixture_state[8:])
    composition = json.loads(state["fields"]["composition"])
    settings = composition["settings"]
    flags = ["--mode", "scan", "--key", "D", "--seed", "3"]
    score_json = tmp_path / "other.json"
    want = cli_render(tmp_path, picture, bpm, 1, 4, *flags, "--json", str(score_json))
    score = json.loads(score_json.read_text())
    composition.update(
        source=f"other.png ({w} x {h})", width=w, height=h, source_width=w, source_height=h,
        rgb_base64=base64.b64encode(rgb.tobytes()).decode(), settings=settings,
    )
    patch = score["patch"]
    params = state["params"]
    for field, param in [
        ("attack_ms", "attack"), ("release_ms", "release"), ("brightness", "bright"), ("decay_ms", "decay"),
        ("sustain", "sustain"), ("cutoff_hz", "cutoff"), ("resonance", "resonance"),
        ("filter_env_oct", "filter_env"), ("noise", "noise"), ("width", "width"), ("detune_cents", "detune"),
        ("reverb_mix", "reverb_mix"), ("reverb_size", "reverb_size"), ("reverb_damping", "reverb_damping"),
        ("delay_mix", "delay_mix"), ("delay_feedback", "delay_feedback"),
    ]:
        params[param] = {"f32": patch[field]}
    state["fields"]["composition"] = json.dumps(composition)
    state["fields"]["score"] = json.dumps(score)
    body = json.dumps(state).encode()
    return len(body).to_bytes(8, "little") + body, want


def vst3_component_state(chunk):
    """The component ("Comp") state inside a VST3 preset container, as Ardour stores it: "VST3",
    version, class id (32 ASCII hex digits), the chunk list's offset, the data, then "List" with
    (id, offset, size) entries."""
    offset = int.from_bytes(chunk[40:48], "little")
    assert chunk[:4] == b"VST3" and chunk[offset : offset + 4] == b"List", "not a VST3 container"
    for i in range(int.from_bytes(chunk[offset + 4 : offset + 8], "little")):
        entry = chunk[offset + 8 + 20 * i : offset + 28 + 20 * i]
        if entry[:4] == b"Comp":
            start, size = int.from_bytes(entry[4:12], "little"), int.from_bytes(entry[12:20], "little")
            return chunk[start : start + size]
    raise AssertionError("no component state in the VST3 container")


def vst3_chunk(old, component):
    """`old`'s VST3 container with `component` as the component state (the controller's empty)."""
    data_end = 48 + len(component)
    listing = b"List" + (2).to_bytes(4, "little")
    listing += b"Comp" + (48).to_bytes(8, "little") + len(component).to_bytes(8, "little")
    listing += b"Cont" + data_end.to_bytes(8, "little") + (0).to_bytes(8, "little")
    return old[:40] + data_end.to_bytes(8, "little") + component + listing


def test_a_saved_session_with_another_picture_exports_the_same_after_reopening(ardour, tmp_path):
    bpm = 137
    samples = beats_to_samples(16, bpm)
    session = tmp_path / "recall"
    run_ardour(ardour, session, tmp_path / "first.wav", samples, new=1, bpm=bpm, save=1)
    fixture = (ROOT / "tests" / "states" / "v0.1.0-scan.state").read_bytes()
    state, want = make_picture_state(tmp_path, fixture, bpm)
    # Put the state where Ardour keeps the plug-in's: the session file's VST3 chunk.
    session_file = session / "recall.ardour"
    xml = session_file.read_text()
    chunk = re.search(r"<chunk>([^<]*)</chunk>", xml)
    assert chunk, "no VST3 state in the session file"
    assert vst3_component_state(base64.b64decode(chunk.group(1)))[:1] == b"{", "Pixelody's state is JSON"
    new_chunk = vst3_chunk(base64.b64decode(chunk.group(1)), state[8:])
    xml = xml[: chunk.start(1)] + base64.b64encode(new_chunk).decode() + xml[chunk.end(1) :]
    # Ardour also keeps each parameter's value beside the chunk and sets them after loading it;
    # the state's own values are the ones meant here (Ardour writes both again when it saves).
    xml, ports = re.subn(r"\s*<Port id=\"\d+\" value=\"[^\"]*\"/>", "", xml)
    assert ports > 20, "no parameter values beside the VST3 chunk"
    session_file.write_text(xml)
    first = run_ardour(ardour, session, tmp_path / "reopened.wav", samples, save=1)
    # The other picture's notes with its timbre: the command line's render of the same, but for
    # the timbre parameters' steps (Detune 0.1 ct, Filter Envelope 0.01 oct), to which the plug-in
    # rounds the picture's proposal and the command line does not.
    n = min(len(first), len(want)) // 480 * 480
    envelope = lambda x: np.sqrt((x[:n, 0].reshape(-1, 480) ** 2).mean(axis=1))  # 10 ms RMS
    corr = np.corrcoef(envelope(first), envelope(want))[0, 1]
    assert corr > 0.99, f"the session does not play the other picture (envelope correlation {corr:.3f})"
    default = run_ardour(ardour, tmp_path / "plain", tmp_path / "plain.wav", samples, new=1, bpm=bpm)
    assert np.abs(first - default).max() > 0.05, "the session still plays the default picture"
    saved = json.loads(vst3_component_state(base64.b64decode(re.search(r"<chunk>([^<]*)</chunk>", session_file.read_text()).group(1))))
    assert json.loads(saved["fields"]["score"])["source"] == "other.png (64 x 48)"
    assert saved["params"]["mode"] == {"string": "scan"} and saved["params"]["variation"] == {"i32": 3}
    # Ardour saved it again (the instance's state and its parameter values): closed and reopened
    # once more, it exports the same sound, sample for sample.
    again = run_ardour(ardour, session, tmp_path / "again.wav", samples)
    assert_same_sound(again, first, "the reopened session")
