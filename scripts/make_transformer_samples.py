#!/usr/bin/env python3
"""The five sample melodies extended by the shipped Transformer-XL with the defaults.

For each melody in data/melodies: the melody followed by 30 s of continuation
(temperature 0.95, top-p 0.95, seed 1) as MIDI and WAV in OUT (default
out/transformer-samples), a piano-roll picture in docs/transformer-samples/NAME.png
with a line where the input ends, and a Markdown table of what was added (notes,
seconds, pitch range and pitch classes of the input and of the continuation, the
share of the continuation's notes in the input's pitch classes).

    python scripts/make_transformer_samples.py [--out out/transformer-samples] [--no-wav] [--seed 1]
        [--seconds 30] [--model transformer]
"""
from __future__ import annotations

import argparse
import glob
import os

import numpy as np

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def describe(notes):
    if not notes:
        return 0, "-", set()
    pitches = [n.pitch for n in notes]
    return len(notes), f"{min(pitches)}-{max(pitches)}", {p % 12 for p in pitches}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "transformer-samples"))
    ap.add_argument("--pictures", default=os.path.join(ROOT, "docs", "transformer-samples"))
    ap.add_argument("--model", default="transformer")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--no-wav", action="store_true", help="skip the audio (no SoundFont needed)")
    a = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.pictures, exist_ok=True)
    synth = None if a.no_wav else partita.Synth()
    model = partita.TransformerXL.pretrained(a.model)
    print("| melody | input notes | input pitches | added notes | added seconds | added pitches | "
          "added notes in the input's pitch classes |")
    print("|---|---:|---|---:|---:|---|---:|")
    for path in sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid"))):
        name = os.path.splitext(os.path.basename(path))[0]
        score = partita.read_midi(path)
        out = model.extend(score, seconds=a.seconds, seed=a.seed)
        partita.write_midi(out, os.path.join(a.out, f"{name}-extended.mid"))
        if synth is not None:
            partita.write_wav(os.path.join(a.out, f"{name}-extended.wav"), synth.render(out), 44100)
        track = next(i for i, t in enumerate(score.tracks) if t.notes and not t.is_drum)
        before = list(score.tracks[track].notes)
        after = list(out.tracks[track].notes)[len(before):]
        n_in, r_in, pcs = describe(before)
        n_add, r_add, _ = describe(after)
        end_tick = max(n.end for n in before)
        added_s = (out.seconds(max(n.end for n in after)) - score.seconds(end_tick)) if after else 0.0
        in_key = sum(n.pitch % 12 in pcs for n in after) / n_add if n_add else float("nan")
        print(f"| {name} | {n_in} | {r_in} | {n_add} | {added_s:.1f} | {r_add} | {in_key:.2f} |")
        roll = out.to_pianoroll(resolution=4, binarize=True, track=track)
        fig, ax = plt.subplots(figsize=(12, 2.8))
        on = np.flatnonzero(np.asarray(roll.array).any(0))
        lo, hi = (int(on.min()) - 2, int(on.max()) + 2) if on.size else (48, 84)
        partita.plot_pianoroll(roll, ax=ax, pitch_range=(lo, hi), legend=False,
                               title=f"{name}: input, then {a.seconds:g} s of continuation")
        q = out.ticks_per_quarter
        ax.axvline(end_tick / q, color="red", linewidth=1)  # the x axis is in beats
        fig.tight_layout()
        fig.savefig(os.path.join(a.pictures, f"{name}.png"), dpi=70)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
