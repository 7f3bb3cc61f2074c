#!/usr/bin/env python3
"""Loss curves of a GAN training log (what `partita-cli train gan` prints).

Reads the "step N (epoch E) critic C generator G wasserstein W penalty P" lines and
the "epoch E done: ... valid_wasserstein V" lines of one or more logs (a resumed run's
logs in order) and draws the critic loss, its Wasserstein and penalty parts, the
generator loss and the validation Wasserstein estimate against the generator step.

    python scripts/plot_gan_log.py docs/gan-chorale-train.log -o docs/gan-chorale-losses.png
"""
from __future__ import annotations

import argparse
import re

STEP = re.compile(r"^step (\d+) \(epoch (\d+)\) critic (\S+) generator (\S+) wasserstein (\S+) penalty (\S+)")
EPOCH = re.compile(r"^epoch (\d+) done: .* valid_wasserstein (\S+)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--title", default="")
    a = ap.parse_args(argv)
    steps, critic, gen, wass, pen = [], [], [], [], []
    epochs = {}
    last_step_of_epoch = {}
    for path in a.logs:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = STEP.match(line)
                if m:
                    s = int(m.group(1))
                    steps.append(s)
                    critic.append(float(m.group(3)))
                    gen.append(float(m.group(4)))
                    wass.append(float(m.group(5)))
                    pen.append(float(m.group(6)))
                    last_step_of_epoch[int(m.group(2))] = s
                    continue
                m = EPOCH.match(line)
                if m:
                    epochs[int(m.group(1))] = float(m.group(2))
    if not steps:
        raise SystemExit(f"no step lines in {a.logs}")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    ax1.plot(steps, critic, label="critic (Wasserstein + penalty)")
    ax1.plot(steps, wass, label="critic: Wasserstein part", alpha=0.7)
    ax1.plot(steps, pen, label="critic: penalty", alpha=0.7)
    ax1.set_ylabel("critic loss")
    ax1.legend(fontsize=8)
    ax2.plot(steps, gen, label="generator", color="C3")
    # Validation points at the last logged step of each epoch.
    vx = [last_step_of_epoch[e] for e in sorted(epochs) if e in last_step_of_epoch]
    vy = [epochs[e] for e in sorted(epochs) if e in last_step_of_epoch]
    ax2.plot(vx, vy, "k.", label="validation: mean D(real) - mean D(fake)")
    ax2.set_xlabel("generator step")
    ax2.set_ylabel("loss")
    ax2.legend(fontsize=8)
    if a.title:
        ax1.set_title(a.title)
    fig.tight_layout()
    fig.savefig(a.output, dpi=80)
    print(f"{a.output}: {len(steps)} logged steps, {len(epochs)} epochs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
