"""Writes `reference.json`: what onnxruntime computes from the three models on a fixed input,
for the plug-in's test `the_engine_computes_what_onnxruntime_computes` (plugin/src/content/),
which runs Pixelody's own inference engine on the same input and compares. Run from this folder
with the pinned tools (see convert.py):

    /tmp/pixelody-models/bin/python reference.py           # compares with reference.json
    /tmp/pixelody-models/bin/python reference.py --write   # ... and replaces it

The input is the same in both languages, exactly: element i is ((i * 7919) % 1001) / 500 - 1 in
float32, in the model's input shape at the size the plug-in uses (NanoDet at 320 x 320, though its
graph names 416). For each output: its shape, its sum and the sum of its magnitudes, and 16 of its
values, evenly spaced (element k (n - 1) / 15 for k = 0..15).
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

MODELS = [
    ("face.onnx", [1, 128, 128, 3]),
    ("emotion.onnx", [1, 64, 64, 1]),
    ("objects.onnx", [1, 3, 320, 320]),
]
SAMPLES = 16


def pattern(shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919) % 1001).astype(np.float32) / np.float32(500) - np.float32(1)).reshape(shape)


def reference():
    out = {}
    for name, shape in MODELS:
        model = onnx.load(str(Path(__file__).with_name(name)))
        for dim, size in zip(model.graph.input[0].type.tensor_type.shape.dim, shape):
            dim.dim_value = size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(model.SerializeToString(), options)
        values = session.run(None, {model.graph.input[0].name: pattern(shape)})
        outputs = []
        for v in values:
            flat = v.astype(np.float64).ravel()
            at = [int(k * (flat.size - 1) // (SAMPLES - 1)) for k in range(SAMPLES)]
            outputs.append(
                {
                    "shape": list(v.shape),
                    "sum": float(flat.sum()),
                    "magnitude": float(np.abs(flat).sum()),
                    "values": [float(flat[k]) for k in at],
                }
            )
        out[name] = {"input": shape, "outputs": outputs}
    # One output to a line.
    lines = ["{"]
    for m, (name, entry) in enumerate(out.items()):
        lines.append(f' "{name}": {{"input": {json.dumps(entry["input"])}, "outputs": [')
        rows = [f"  {json.dumps(o)}" for o in entry["outputs"]]
        lines.append(",\n".join(rows))
        lines.append(" ]}" + ("," if m + 1 < len(out) else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    path = Path(__file__).with_name("reference.json")
    text = reference()
    if "--write" in sys.argv:
        path.write_text(text)
        print(f"wrote {path.name}")
    elif path.read_text() != text:
        sys.exit(f"{path.name} differs from what onnxruntime computes now (--write replaces it)")
    else:
        print(f"{path.name} is what onnxruntime computes")


if __name__ == "__main__":
    main()
