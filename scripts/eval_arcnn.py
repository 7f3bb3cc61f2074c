#!/usr/bin/env python3
"""Evaluate an AR-CNN model (the shipped one by default); figures for docs/arcnn.md.

1. Repair on the JSB test split: each test window (128 x 128, hop 64) is corrupted by
   removing half of its note cells and switching on 1.5 % of its empty cells (seeded),
   then edited with the model (ARCNN.edit_roll: the product's sampler); precision,
   recall and F1 of the on-cells against the original window, before and after.
2. The five sample melodies edited with default controls: pitch-class entropy (bits,
   of the note-cell pitch-class histogram), in-scale rate (share of note cells in the
   best-fitting major/natural-minor diatonic scale), polyphony (mean sounding pitches
   per step with any note), beside the same figures for the inputs and the JSB test set.

    python scripts/eval_arcnn.py [--weights FILE] [--windows 40] [--iterations 300] [--json out.json]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

import partita

MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)


def prf(pred, truth):
    tp = np.logical_and(pred, truth).sum()
    p = tp / max(1, pred.sum())
    r = tp / max(1, truth.sum())
    f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return p, r, f


def corrupt(window, rng, remove=0.5, add=0.015):
    x = window.copy()
    on = np.flatnonzero(window)
    off = np.flatnonzero(window == 0)
    x.flat[rng.choice(on, int(remove * len(on)), replace=False)] = 0
    x.flat[rng.choice(off, int(round(add * len(off))), replace=False)] = 1
    return x


def music_stats(roll):
    """pitch-class entropy (bits), in-scale rate, polyphony of a (time, 128) roll."""
    roll = roll.astype(bool)
    pcs = np.zeros(12)
    for p in range(128):
        pcs[p % 12] += roll[:, p].sum()
    total = pcs.sum()
    if total == 0:
        return dict(pitch_class_entropy=0.0, in_scale_rate=0.0, polyphony=0.0)
    q = pcs / total
    entropy = -sum(v * math.log2(v) for v in q if v > 0)
    in_scale = max(pcs[np.roll(MAJOR, k)].sum() / total for k in range(12))
    active = roll.any(1)
    polyphony = roll[active].sum(1).mean()
    return dict(pitch_class_entropy=entropy, in_scale_rate=in_scale, polyphony=float(polyphony))


def mean_stats(rolls):
    s = [music_stats(r) for r in rolls]
    return {k: float(np.mean([x[k] for x in s])) for k in s[0]}


def score_roll(score):
    """The model's view of a score's first track with notes: a 16th-note (time, 128) roll."""
    tpq = score.ticks_per_quarter
    step = tpq // 4
    track = next(t for t in score.tracks if t.notes)
    end = max(n.end for n in track.notes)
    roll = np.zeros(((end + step - 1) // step + 1, 128), np.uint8)
    for n in track.notes:
        s = (n.start + step // 2) // step
        e = max(s + 1, (n.end + step // 2) // step)
        roll[s:e, n.pitch] = 1
    return roll


def _repair_worker(job):
    """Repair windows `idx` (a process of --processes); returns [(before, after), ...]."""
    weights, threads, items, iterations, risk, seed = job
    partita.set_num_threads(threads)
    model = partita.ARCNN.load(weights) if weights else partita.ARCNN.pretrained()
    out = []
    for i, window, corrupted in items:
        y = model.edit_roll(corrupted, iterations=iterations, creative_risk=risk, seed=seed + int(i))
        truth = window.astype(bool)
        out.append((prf(corrupted.astype(bool), truth), prf(np.asarray(y.array).astype(bool), truth)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", help="model file (default: the shipped model)")
    ap.add_argument("--split", choices=("test", "valid"), default="test",
                    help="JSB split whose windows are repaired (choose settings on valid, report test)")
    ap.add_argument("--windows", type=int, default=40, help="windows to repair (0: all; 194 in test)")
    ap.add_argument("--iterations", type=int, default=300, help="sampling iterations per window")
    ap.add_argument("--creative-risk", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--processes", type=int, default=1, help="repair windows in parallel processes")
    ap.add_argument("--json", help="write the figures here too")
    a = ap.parse_args(argv)
    partita.set_num_threads(a.threads)
    model = partita.ARCNN.load(a.weights) if a.weights else partita.ARCNN.pretrained()
    rng = np.random.default_rng(a.seed)
    test = partita.jsb_windows(a.split).array
    idx = np.arange(len(test)) if a.windows <= 0 else np.sort(
        rng.choice(len(test), min(a.windows, len(test)), replace=False))
    items = [(int(i), test[i], corrupt(test[i], rng)) for i in idx]  # corruption: one seeded stream
    t0 = time.time()
    n = max(1, a.processes)
    jobs = [(a.weights, a.threads, items[k::n], a.iterations, a.creative_risk, a.seed) for k in range(n)]
    if n == 1:
        results = [_repair_worker(jobs[0])]
    else:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(n) as pool:
            results = pool.map(_repair_worker, jobs)
    pairs = [p for r in results for p in r]
    before = [b for b, _ in pairs]
    after = [f for _, f in pairs]
    seconds = time.time() - t0
    b, f = np.mean(before, 0), np.mean(after, 0)
    repair = dict(split=a.split, windows=int(len(idx)), iterations=a.iterations, creative_risk=a.creative_risk,
                  before=dict(precision=b[0], recall=b[1], f1=b[2]),
                  after=dict(precision=f[0], recall=f[1], f1=f[2]), seconds=seconds)
    print(f"JSB {a.split} repair ({len(idx)} windows, half the notes removed + 1.5 % random cells, "
          f"{a.iterations} iterations, T={a.creative_risk}, {seconds:.0f} s):")
    print(f"  before: precision {b[0]:.3f} recall {b[1]:.3f} F1 {b[2]:.3f}")
    print(f"  after:  precision {f[0]:.3f} recall {f[1]:.3f} F1 {f[2]:.3f}")

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "melodies")
    names = sorted(n for n in os.listdir(root) if n.endswith(".mid"))
    ins, outs = [], []
    per = {}
    for n in names:
        score = partita.read_midi(os.path.join(root, n))
        edited = model.edit(score, seed=a.seed)  # default controls: 100 %, 500, 100, 1.0
        r_in, r_out = score_roll(score), score_roll(edited)
        ins.append(r_in)
        outs.append(r_out)
        per[n] = dict(input=music_stats(r_in), edited=music_stats(r_out),
                      notes_in=score.note_count, notes_out=edited.note_count)
    jsb = mean_stats(list(test))
    table = dict(inputs=mean_stats(ins), edited=mean_stats(outs), jsb_test=jsb)
    print("\nSample melodies, default controls (means over the five):")
    print(f"  {'':10s} {'PC entropy':>11s} {'in-scale':>9s} {'polyphony':>10s}")
    for k, v in table.items():
        print(f"  {k:10s} {v['pitch_class_entropy']:11.3f} {v['in_scale_rate']:9.3f} {v['polyphony']:10.2f}")
    for n, v in per.items():
        print(f"  {n}: {v['notes_in']} -> {v['notes_out']} notes, in-scale "
              f"{v['input']['in_scale_rate']:.3f} -> {v['edited']['in_scale_rate']:.3f}, polyphony "
              f"{v['input']['polyphony']:.2f} -> {v['edited']['polyphony']:.2f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(dict(repair=repair, melodies=table, per_melody=per), fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
