#!/usr/bin/env python3
"""The five sample melodies accompanied by the shipped GAN styles with the defaults.

For each melody in data/melodies and each shipped style (chorale, quartet): the
accompaniment (seed 1) as MIDI and WAV in OUT (default out/gan-samples), a
multitrack piano-roll picture in docs/gan-samples/NAME-STYLE.png, and a Markdown
table of each generated part's metrics (partita.roll_metrics) with its consonance
with the melody (the share of the part's sounding 16th cells, at steps where the
melody sounds, a consonant interval from the melody's top note: interval classes
0, 3, 4, 5, 7, 8, 9 semitones).

    python scripts/make_gan_samples.py [--out out/gan-samples] [--no-wav] [--seed 1] [--styles chorale,quartet]
"""
from __future__ import annotations

import argparse
import glob
import os

import numpy as np

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSONANT = {0, 3, 4, 5, 7, 8, 9}


def consonance(melody: np.ndarray, part: np.ndarray) -> float:
    """melody, part: (steps, 128) arrays; share of the part's cells consonant with the melody's top note."""
    cells = cons = 0
    for t in range(min(len(melody), len(part))):
        m = np.flatnonzero(melody[t])
        if m.size == 0:
            continue
        top = int(m.max())
        for p in np.flatnonzero(part[t]):
            cells += 1
            cons += (int(p) - top) % 12 in CONSONANT
    return cons / cells if cells else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "gan-samples"))
    ap.add_argument("--pictures", default=os.path.join(ROOT, "docs", "gan-samples"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--styles", default="chorale,quartet")
    ap.add_argument("--no-wav", action="store_true", help="skip the audio (no SoundFont needed)")
    a = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.pictures, exist_ok=True)
    synth = None if a.no_wav else partita.Synth()
    print("| melody | style | part | notes | qualified-note rate | used pitch classes / bar | "
          "pitch range | consonance with melody |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for style in a.styles.split(","):
        try:
            model = partita.GAN.pretrained(style)
        except (OSError, IOError) as e:  # a style whose weights are not installed
            print(f"(style {style} skipped: {e})")
            continue
        for path in sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid"))):
            name = os.path.splitext(os.path.basename(path))[0]
            score = partita.read_midi(path)
            out = model.accompany(score, seed=a.seed)
            partita.write_midi(out, os.path.join(a.out, f"{name}-{style}.mid"))
            if synth is not None:
                partita.write_wav(os.path.join(a.out, f"{name}-{style}.wav"), synth.render(out), 44100)
            rolls = [out.to_pianoroll(resolution=4, binarize=True, track=k) for k in range(len(out.tracks))]
            steps = max(r.steps for r in rolls)
            rolls = [r.with_length(steps) for r in rolls]
            mel = np.asarray(rolls[0].array)  # (steps, 128)
            for k in range(1, len(rolls)):
                part = np.asarray(rolls[k].array)
                m = partita.roll_metrics(rolls[k])
                print(f"| {name} | {style} | {out.tracks[k].name} | {len(partita.roll_notes(rolls[k]))} | "
                      f"{m.qualified_note_rate:.2f} | {m.used_pitch_classes:.2f} | {m.pitch_range} | "
                      f"{consonance(mel, part):.2f} |")
            fig, axes = plt.subplots(len(rolls), 1, figsize=(10, 1.6 * len(rolls) + 0.8), sharex=True)
            on = np.concatenate([np.flatnonzero(np.asarray(r.array).any(0)) for r in rolls])
            lo, hi = (int(on.min()) - 2, int(on.max()) + 2) if on.size else (36, 84)
            for ax, roll, track in zip(axes, rolls, out.tracks):
                partita.plot_pianoroll(roll, ax=ax, pitch_range=(lo, hi), title=f"{name} ({style}): {track.name}",
                                       legend=False)
            fig.tight_layout()
            fig.savefig(os.path.join(a.pictures, f"{name}-{style}.png"), dpi=70)
            plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
