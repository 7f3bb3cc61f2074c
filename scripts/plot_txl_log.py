#!/usr/bin/env python3
"""Loss curves of Transformer-XL training logs (what `partita-cli train transformer` prints).

Reads the "step N (epoch E, i/n) loss L lr R grad_norm G" lines and the "epoch E done:
N steps, train T valid_nll V" lines of each log and draws the training loss (a running
mean over 50 steps) and the validation NLL per token against the step, one colour per
log, with the DeepComposer sample's published JSB validation NLL (1.028) for reference.
A second run in the same log (`--init` from the first run's best epoch, "weights from"
line) is drawn after the first run's last step, with square markers.

    python scripts/plot_txl_log.py docs/transformer-jsb-train.log docs/transformer-corpus-train.log \\
        --labels JSB,corpus -o docs/transformer-losses.png
"""
from __future__ import annotations

import argparse
import re

STEP = re.compile(r"^step (\d+) \(epoch (\d+), \d+/\d+\) loss (\S+) lr (\S+)")
EPOCH = re.compile(r"^epoch (\d+) done: (\d+) steps, train \S+ valid_nll (\S+)")


def read(path):
    """[(steps, losses, [(step, valid NLL)]), ...]: one entry per run in the log."""
    runs = [([], [], [])]
    last = offset = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("train transformer: weights from") and runs[-1][0]:
                offset = last
                runs.append(([], [], []))
            m = STEP.match(line)
            if m:
                last = offset + int(m.group(1))
                runs[-1][0].append(last)
                runs[-1][1].append(float(m.group(3)))
                continue
            m = EPOCH.match(line)
            if m:
                runs[-1][2].append((last, float(m.group(3))))
    return runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--labels", default="")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = a.labels.split(",") if a.labels else a.logs
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for k, (path, label) in enumerate(zip(a.logs, labels)):
        colour = f"C{k}"
        for r, (steps, loss, valid) in enumerate(read(path)):
            name = label if r == 0 else f"{label}, low-rate phase"
            if loss:
                w = max(1, min(5, len(loss)))  # log lines every 10 steps: 5 lines = 50 steps
                smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
                ax.plot(steps[w - 1:], smooth, color=colour, alpha=0.5 if r == 0 else 0.8,
                        label=f"{name}: training loss")
            if valid:
                ax.plot([s for s, _ in valid], [v for _, v in valid], "o-" if r == 0 else "s-", color=colour,
                        label=f"{name}: validation NLL")
    ax.axhline(1.028, color="grey", linestyle="--", linewidth=1, label="DeepComposer sample, JSB validation (1.028)")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per token")
    ax.set_ylim(0.5, 4.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=80)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
