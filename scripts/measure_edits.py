#!/usr/bin/env python3
"""Music metrics of AR-CNN edits beside their inputs and the JSB chorales (for docs/metrics.md).

The five sample melodies (data/melodies) are edited with the shipped AR-CNN at the default
controls (partita.EditControls(): 100 % removable, 500 additions, 100 iterations, creative
risk 1.0) with seeds 1, 2 and 3. Every roll is binary at resolution 4 (16th notes): the
inputs with onsets (repeated notes stay apart), the edits as the model's output runs. The
table gives means over rolls of: the fragment share (notes one step long), the same share
among the notes an edit added (pitch and onset absent from its input), pitch-class entropy
(bits), scale consistency and polyphony (partita.roll_metrics). JSB: the 77 chorales of
the test split, voices merged.

    python scripts/measure_edits.py [--seeds 1 2 3] [--weights FILE]
"""
import argparse
import math
import os
import sys

import numpy as np

import partita

COLUMNS = [("fragment share", lambda m: m.fragments.share),
           ("added fragment share", lambda m: m.fragments.added_share),
           ("PC entropy", lambda m: m.pitch_class_entropy),
           ("scale consistency", lambda m: m.scale_consistency),
           ("polyphony", lambda m: m.polyphony)]


def mean(values):
    v = [x for x in values if not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def row(name, metrics, n):
    cells = [mean([f(m) for m in metrics]) for _, f in COLUMNS]
    return f"| {name} | {n} | " + " | ".join("-" if math.isnan(c) else f"{c:.3f}" for c in cells) + " |"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--weights", help="model file (default: the shipped model)")
    a = ap.parse_args(argv)
    model = partita.ARCNN.load(a.weights) if a.weights else partita.ARCNN.pretrained()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "melodies")
    names = sorted(n for n in os.listdir(root) if n.endswith(".mid"))
    inputs, edits, per = [], [], []
    for name in names:
        score = partita.read_midi(os.path.join(root, name))
        r_in = partita.to_pianoroll(score, resolution=4, binarize=True, onsets=True)
        inputs.append(partita.roll_metrics(r_in))
        for seed in a.seeds:
            edited = model.edit(score, seed=seed)
            r_out = partita.to_pianoroll(edited, resolution=4, binarize=True)
            m = partita.roll_metrics(r_out, original=r_in)
            edits.append(m)
            per.append((name, seed, m))
    jsb = [partita.roll_metrics(x, resolution=4) for x in partita.load_jsb_chorales().test]

    head = "| | rolls | " + " | ".join(c for c, _ in COLUMNS) + " |"
    print(head)
    print("|" + "---|" * (len(COLUMNS) + 2))
    print(row("inputs", inputs, len(inputs)))
    print(row(f"edited (seeds {', '.join(map(str, a.seeds))})", edits, len(edits)))
    print(row("JSB test", jsb, len(jsb)))
    print()
    print("| melody | seed | notes | added | one-step added |")
    print("|---|---|---|---|---|")
    for name, seed, m in per:
        f = m.fragments
        print(f"| {name} | {seed} | {f.notes} | {f.added} | {f.added_one_step} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
