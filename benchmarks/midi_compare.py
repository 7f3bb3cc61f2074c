#!/usr/bin/env python3
"""Time partita.read_midi against mido.MidiFile and pretty_midi.PrettyMIDI.

Each reader loads the same files from disk (the OS cache keeps them in memory);
per file we report the median over --repeat runs (after one warm-up) and the
ratios mido/partita and pretty_midi/partita. Files: the five sample melodies and
the music21 corpus export (scripts/make_midi_corpus.py, default build/midi-corpus)
-- the largest --largest files plus every --every-th other one -- and any paths
given on the command line.

Usage: midi_compare.py [FILES...] [--corpus DIR] [--repeat N] [--markdown]
"""
import argparse
import glob
import os
import statistics
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_time(fn, path, repeat):
    fn(path)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "build", "midi-corpus"))
    ap.add_argument("--largest", type=int, default=4)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)

    import mido
    import pretty_midi

    import partita

    files = list(args.files)
    if not files:
        files = sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid")))
        corpus = sorted(glob.glob(os.path.join(args.corpus, "*.mid")))
        if not corpus:
            print(f"midi_compare: no corpus in {args.corpus} (run scripts/make_midi_corpus.py)", file=sys.stderr)
        by_size = sorted(corpus, key=os.path.getsize, reverse=True)
        chosen = by_size[:args.largest] + [p for p in corpus if p not in by_size[:args.largest]][::args.every]
        files += chosen

    def read_pretty(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pretty_midi.PrettyMIDI(path)

    readers = [("partita", partita.read_midi), ("mido", mido.MidiFile), ("pretty_midi", read_pretty)]
    rows = []
    for path in files:
        notes = partita.read_midi(path).note_count
        t = {name: median_time(fn, path, args.repeat) for name, fn in readers}
        rows.append((os.path.basename(path), os.path.getsize(path), notes, t))

    def fmt_ms(s):
        return f"{s * 1e3:.3f}"

    header = ["file", "bytes", "notes", "partita ms", "mido ms", "pretty_midi ms", "mido/partita",
              "pretty_midi/partita"]
    lines = []
    for name, size, notes, t in rows:
        lines.append([name, str(size), str(notes), fmt_ms(t["partita"]), fmt_ms(t["mido"]),
                      fmt_ms(t["pretty_midi"]), f"{t['mido'] / t['partita']:.0f}x",
                      f"{t['pretty_midi'] / t['partita']:.0f}x"])
    r_mido = [t["mido"] / t["partita"] for _, _, _, t in rows]
    r_pm = [t["pretty_midi"] / t["partita"] for _, _, _, t in rows]
    total = {k: sum(t[k] for _, _, _, t in rows) for k in ("partita", "mido", "pretty_midi")}
    lines.append(["all files (sum)", str(sum(r[1] for r in rows)), str(sum(r[2] for r in rows)),
                  fmt_ms(total["partita"]), fmt_ms(total["mido"]), fmt_ms(total["pretty_midi"]),
                  f"{total['mido'] / total['partita']:.0f}x", f"{total['pretty_midi'] / total['partita']:.0f}x"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for line in lines:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    print(f"\nmedian of {args.repeat} runs per file; speed-up over pretty_midi: min {min(r_pm):.0f}x, "
          f"median {statistics.median(r_pm):.0f}x; over mido: min {min(r_mido):.0f}x, "
          f"median {statistics.median(r_mido):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
