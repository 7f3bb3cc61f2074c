#!/usr/bin/env python3
"""Export a varied set of real pieces from music21's bundled corpus to MIDI.

The MIDI reader's Python tests compare partita against pretty_midi and mido on
these files (tests/python/test_midi_compare.py), and benchmarks/midi_compare.py
times them. About 75 pieces: Bach chorales (4 voices), keyboard and chamber
music (Bach, C.P.E. Bach, Mozart, Joplin, a Beethoven quartet excerpt),
Renaissance and trecento polyphony, and folk tunes from ABC collections.

Usage: make_midi_corpus.py OUTDIR [--jobs N] [--chorales N]
Writes OUTDIR/<name>.mid and, last, OUTDIR/MANIFEST (one file name a line), so
a complete corpus is recognisable and can be cached. Takes about a minute of
CPU time (music21 is slow), split over --jobs processes.
"""
import argparse
import multiprocessing
import os
import sys
import warnings

VERSION = "2"

# (output name, corpus work, parse keyword arguments, measures to keep or None)
FIXED = [
    ("mozart_k545_exposition", "mozart/k545/movement1_exposition", {}, None),
    ("demos_two_parts", "demos/two-parts", {}, None),
    ("bach_bwv846", "bach/bwv846", {}, None),
    ("cpebach", "cpebach", {}, None),
    ("joplin_maple_leaf_rag", "joplin/maple_leaf_rag", {}, None),
    ("trecento_fava", "trecento/Fava_Dicant_nunc_iudei", {}, None),
    ("monteverdi_3_1", "monteverdi/madrigal.3.1", {}, None),
    ("josquin_deploration", "josquin/laDeplorationDeLaMorteDeJohannesOckeghem", {}, None),
    ("beethoven_op18no1_m1_bars1_48", "beethoven/opus18no1", {}, (1, 48)),
]
FOLK = [
    ("essenFolksong/altdeu10", range(1, 9)),
    ("essenFolksong/ballad10", range(1, 6)),
    ("essenFolksong/erk10", range(1, 5)),
    ("essenFolksong/kinder0", range(1, 4)),
    ("oneills1850/0001-0050", range(1, 9)),
]


def jobs(chorales):
    from music21 import corpus

    work = list(FIXED)
    bach = sorted(str(p) for p in corpus.getComposer("bach") if str(p).endswith(".mxl")
                  and "/bwv" in str(p) and "bwv846" not in str(p))
    for path in bach[:chorales]:
        name = "chorale_" + os.path.basename(path)[:-4].replace(".", "_")
        work.append((name, path, {}, None))
    for coll, numbers in FOLK:
        for n in numbers:
            work.append((f"folk_{coll.split('/')[-1].replace('-', '_')}_{n}", coll, {"number": n}, None))
    return work


def export(job):
    name, work, kwargs, bars = job
    outdir = export.outdir
    out = os.path.join(outdir, name + ".mid")
    if os.path.exists(out):
        return [name + ".mid"]
    warnings.simplefilter("ignore")
    from music21 import corpus

    try:
        s = corpus.parse(work, **kwargs)
        scores = list(s.scores) if hasattr(s, "scores") else [s]
        written = []
        for i, sc in enumerate(scores):
            if bars is not None:
                sc = sc.measures(*bars)
            fname = name + (f"_{i + 1}" if len(scores) > 1 else "") + ".mid"
            tmp = os.path.join(outdir, fname + ".tmp")
            sc.write("midi", fp=tmp)
            os.replace(tmp, os.path.join(outdir, fname))
            written.append(fname)
        return written
    except Exception as e:  # a piece music21 cannot export is skipped, not fatal
        print(f"make_midi_corpus: skipped {work}: {e!r:.120}", file=sys.stderr)
        return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--chorales", type=int, default=36)
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    manifest = os.path.join(args.outdir, "MANIFEST")
    if os.path.exists(manifest):
        with open(manifest) as f:
            if f.readline().strip() == f"version {VERSION} chorales {args.chorales}":
                print(f"make_midi_corpus: {args.outdir} is complete")
                return 0
    export.outdir = args.outdir
    work = jobs(args.chorales)
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(export, work, chunksize=1)
    else:
        results = [export(j) for j in work]
    names = sorted(n for r in results for n in r)
    with open(manifest + ".tmp", "w") as f:
        f.write(f"version {VERSION} chorales {args.chorales}\n")
        f.write("\n".join(names) + "\n")
    os.replace(manifest + ".tmp", manifest)
    print(f"make_midi_corpus: {len(names)} MIDI files in {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
