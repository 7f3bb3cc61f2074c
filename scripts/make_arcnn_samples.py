#!/usr/bin/env python3
"""The five sample melodies edited by the shipped AR-CNN at the default controls.

For each melody in data/melodies: the edit (seed 1) as MIDI and WAV in OUT
(default out/arcnn-samples), and a before/after piano-roll picture in
docs/arcnn-samples/NAME.png (input above, edit below, same pitch range), with
the note count and the share of one-16th notes of each (partita.fragment_stats).

    python scripts/make_arcnn_samples.py [--out out/arcnn-samples] [--no-wav] [--seed 1]
"""
from __future__ import annotations

import argparse
import glob
import os

import numpy as np

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "arcnn-samples"))
    ap.add_argument("--pictures", default=os.path.join(ROOT, "docs", "arcnn-samples"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-wav", action="store_true", help="skip the audio (no SoundFont needed)")
    a = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.pictures, exist_ok=True)
    model = partita.ARCNN.pretrained()
    synth = None if a.no_wav else partita.Synth()
    print("| melody | notes in -> out | one-16th notes in -> out | added notes that are one 16th |")
    print("|---|---|---|---|")
    for path in sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid"))):
        name = os.path.splitext(os.path.basename(path))[0]
        score = partita.read_midi(path)
        edited = model.edit(score, seed=a.seed)  # the library's default controls
        partita.write_midi(edited, os.path.join(a.out, f"{name}-edited.mid"))
        if synth is not None:
            partita.write_wav(os.path.join(a.out, f"{name}-edited.wav"), synth.render(edited), 44100)
        before = score.to_pianoroll(resolution=4, binarize=True)
        after = edited.to_pianoroll(resolution=4, binarize=True)
        steps = max(before.steps, after.steps)
        before, after = before.with_length(steps), after.with_length(steps)
        fb, fa = partita.fragment_stats(before), partita.fragment_stats(after, before)
        nb, na = len(partita.roll_notes(before)), len(partita.roll_notes(after))
        print(f"| {name} | {nb} -> {na} | {fb.share:.1%} -> {fa.share:.1%} | {fa.added_share:.1%} |")
        on = np.flatnonzero(np.asarray(before.array).any(0) | np.asarray(after.array).any(0))
        lo, hi = (int(on.min()) - 2, int(on.max()) + 2) if on.size else (48, 84)
        fig, axes = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
        for ax, roll, title in ((axes[0], before, f"{name}: input ({nb} notes)"),
                                (axes[1], after, f"edited, default controls, seed {a.seed} ({na} notes)")):
            partita.plot_pianoroll(roll, ax=ax, pitch_range=(lo, hi), title=title, legend=False)
        fig.tight_layout()
        fig.savefig(os.path.join(a.pictures, f"{name}.png"), dpi=80)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
