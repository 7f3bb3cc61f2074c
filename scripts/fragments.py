#!/usr/bin/env python3
"""One-16th fragments in AR-CNN edits of the five sample melodies (figures for docs/arcnn.md).

A note here is a maximal run of on-cells of one pitch on the 16th grid (the model's view);
a fragment is a note one step long. For each melody x seed the melody is edited with the
default controls (or the ones given) and the script reports the fragment share of all output
notes and of the added notes (output runs that are not runs of the input), the note counts
in and out, and the pitch-class entropy and in-scale share of input and output (so that a
change that merely deletes notes shows up).

    python scripts/fragments.py [--weights FILE] [--seeds 5] [--iterations N] [--resolve-iterations N]
                                [--keep-input-fragments] [--json out.json]
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

import partita

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_arcnn import music_stats, score_roll  # noqa: E402


def runs(roll):
    """The set of (pitch, start, length) runs of on-cells of a (time, 128) roll."""
    out = set()
    r = roll.astype(bool)
    for p in np.flatnonzero(r.any(0)):
        col = np.concatenate([[False], r[:, p], [False]]).astype(np.int8)
        d = np.diff(col)
        for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            out.add((int(p), int(s), int(e - s)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", help="model file (default: the shipped model)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..N")
    ap.add_argument("--iterations", type=int)
    ap.add_argument("--creative-risk", type=float)
    ap.add_argument("--resolve-iterations", type=int)
    ap.add_argument("--keep-input-fragments", action="store_true",
                    help="the closing pass leaves the input's own one-16th notes alone")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    kw = {}
    if a.iterations is not None:
        kw["iterations"] = a.iterations
    if a.creative_risk is not None:
        kw["creative_risk"] = a.creative_risk
    if a.resolve_iterations is not None:
        kw["resolve_iterations"] = a.resolve_iterations
    if a.keep_input_fragments:
        kw["keep_input_fragments"] = True
    model = partita.ARCNN.load(a.weights) if a.weights else partita.ARCNN.pretrained()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "melodies")
    rows, worst = [], 0.0
    for path in sorted(glob.glob(os.path.join(root, "*.mid"))):
        name = os.path.basename(path)[:-4]
        score = partita.read_midi(path)
        r_in = score_roll(score)
        runs_in = runs(r_in)
        acc = dict(notes_in=0, notes_out=0, frag=0, added=0, added_frag=0, toggles=0)
        st_in = music_stats(r_in)
        ent, scale = [], []
        for seed in range(1, a.seeds + 1):
            out, stats = model.edit(score, seed=seed, return_stats=True, **kw)
            r_out = score_roll(out)
            ro = runs(r_out)
            new = ro - runs_in
            acc["notes_in"] += len(runs_in)
            acc["notes_out"] += len(ro)
            acc["frag"] += sum(1 for x in ro if x[2] == 1)
            acc["added"] += len(new)
            acc["added_frag"] += sum(1 for x in new if x[2] == 1)
            acc["toggles"] += sum(s.iterations_run + getattr(s, "resolve_run", 0) for s in stats)
            m = music_stats(r_out)
            ent.append(m["pitch_class_entropy"])
            scale.append(m["in_scale_rate"])
        row = dict(melody=name, input_frag_share=sum(1 for x in runs_in if x[2] == 1) / max(1, len(runs_in)),
                   frag_share=acc["frag"] / max(1, acc["notes_out"]),
                   added_frag_share=acc["added_frag"] / max(1, acc["added"]),
                   notes_in=acc["notes_in"] / a.seeds, notes_out=acc["notes_out"] / a.seeds,
                   toggles=acc["toggles"] / a.seeds,
                   entropy_in=st_in["pitch_class_entropy"], entropy_out=float(np.mean(ent)),
                   in_scale_in=st_in["in_scale_rate"], in_scale_out=float(np.mean(scale)))
        worst = max(worst, row["frag_share"])
        rows.append(row)
        print(f"{name:16s} fragments {100 * row['frag_share']:5.1f} % (added {100 * row['added_frag_share']:5.1f} %,"
              f" input {100 * row['input_frag_share']:4.1f} %)"
              f"  notes {row['notes_in']:.0f} -> {row['notes_out']:.1f}  toggles {row['toggles']:.0f}"
              f"  pc-entropy {row['entropy_in']:.2f} -> {row['entropy_out']:.2f}"
              f"  in-scale {row['in_scale_in']:.3f} -> {row['in_scale_out']:.3f}", flush=True)
    print(f"worst melody: {100 * worst:.1f} % fragments")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(controls=kw, seeds=a.seeds, rows=rows, worst=worst), f, indent=1)


if __name__ == "__main__":
    main()
