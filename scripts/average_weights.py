#!/usr/bin/env python3
"""Average the weights of several partita model files of one model (checkpoint averaging).

    python3 scripts/average_weights.py OUT.safetensors IN1.safetensors IN2.safetensors ...

Every input must be a partita model file of the same kind and configuration, with the
same tensor names, shapes and dtypes (e.g. the epoch-NN.safetensors files of
`partita-cli train transformer --keep-epochs`). The output holds the element-wise mean
(computed in float64, stored in each tensor's dtype), the first file's model metadata
(kind, config, format) and the list of files it averages; it is written atomically.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

# Metadata that describes the model (kept); the rest describes a training run.
MODEL_KEYS = ("model", "model.version", "config", "partita.format")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args(argv)
    if len(a.inputs) < 2:
        ap.error("give two or more model files to average")
    sums, dtypes, meta0 = {}, {}, None
    for path in a.inputs:
        try:
            f = safe_open(path, "np")
        except Exception as e:  # safetensors raises several types for damaged files
            sys.exit(f"average_weights: {path}: not a readable safetensors file ({e})")
        meta = f.metadata() or {}
        if "model" not in meta or "config" not in meta:
            sys.exit(f"average_weights: {path}: not a partita model file (no model/config metadata)")
        keys = set(f.keys())
        if meta0 is None:
            meta0 = meta
            for k in sorted(keys):
                t = f.get_tensor(k)
                dtypes[k] = t.dtype
                sums[k] = t.astype(np.float64)
            continue
        for k in MODEL_KEYS:
            if meta.get(k) != meta0.get(k):
                sys.exit(f"average_weights: {path}: metadata {k!r} differs from {a.inputs[0]}'s")
        if keys != set(sums):
            sys.exit(f"average_weights: {path}: tensor names differ from {a.inputs[0]}'s "
                     f"(missing {sorted(set(sums) - keys)[:3]}, extra {sorted(keys - set(sums))[:3]})")
        for k in sums:
            t = f.get_tensor(k)
            if t.shape != sums[k].shape or t.dtype != dtypes[k]:
                sys.exit(f"average_weights: {path}: tensor {k!r} is {t.dtype}{list(t.shape)}, "
                         f"{a.inputs[0]} has {dtypes[k]}{list(sums[k].shape)}")
            sums[k] += t
    n = len(a.inputs)
    out = {k: (v / n).astype(dtypes[k]) for k, v in sums.items()}
    meta = {k: meta0[k] for k in MODEL_KEYS if k in meta0}
    meta["averaged_from"] = json.dumps([os.path.basename(p) for p in a.inputs])
    d = os.path.dirname(os.path.abspath(a.output))
    fd, tmp = tempfile.mkstemp(prefix=".average-", suffix=".safetensors", dir=d)
    os.close(fd)
    try:
        save_file(out, tmp, metadata=meta)
        os.replace(tmp, a.output)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"{a.output}: mean of {n} files, {sum(v.size for v in out.values())} values")


if __name__ == "__main__":
    main()
