"""Reading the command line's WAV files in the VST3 tests."""

from pathlib import Path

import numpy as np


def read_wav(path):
    """Reads the CLI's stereo 32-bit float WAV as a (2, n) array."""
    data = Path(path).read_bytes()
    i = 12
    while i < len(data):
        chunk, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
        if chunk == b"data":
            return np.frombuffer(data[i + 8 : i + 8 + size], dtype="<f4").reshape(-1, 2).T
        i += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")
