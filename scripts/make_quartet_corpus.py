#!/usr/bin/env python3
"""Export the string quartet movements of music21's bundled corpus (Beethoven,
Mozart, Haydn) as 4-track MIDI files, then load them as partita's GAN training
data (partita.load_multitrack_folder) and print how many files, bars and 2-bar
windows they give.

Candidates are the composers' MusicXML movements in the corpus (a Humdrum .krn
twin of an .mxl file is not counted twice); a movement is kept when it has
exactly four parts (first violin, second violin, viola, cello, in score order),
so piano works and excerpts of other scorings are left out and listed. Meter:
windows are 32 16th-note steps (2 bars of 4/4) whatever the movement's meter, so
a 3/4 movement gives windows of 2 2/3 bars; bars are counted in each movement's
first time signature. music21 parses slowly (seconds to a minute a movement):
--limit N exports the first N candidates (sorted by path) and the full candidate
count is printed too.

Usage: make_quartet_corpus.py [OUTDIR] [--limit N]   (OUTDIR default build/quartets)
"""
import argparse
import os
import pathlib
import sys
import time
import warnings

COMPOSERS = ("beethoven", "mozart", "haydn")


def candidates():
    from music21 import corpus

    out = []
    for c in COMPOSERS:
        paths = sorted(str(p) for p in corpus.getComposer(c))
        mxl = {p[: -len(".mxl")] for p in paths if p.endswith(".mxl")}
        for p in paths:
            if p.endswith(".mxl") or (p.endswith(".krn") and p[: -len(".krn")] not in mxl):
                out.append(p)
    return out


def export(path, outdir):
    """Writes OUTDIR/<name>.mid; returns (name, None) or (name, reason)."""
    from music21 import converter

    rel = path.split("corpus" + os.sep)[-1]
    name = rel.rsplit(".", 1)[0].replace(os.sep, "_")
    dst = outdir / (name + ".mid")
    if dst.exists():
        return name, None
    s = converter.parse(path)
    if len(s.parts) != 4:
        return name, f"{len(s.parts)} parts, not a quartet"
    tmp = dst.with_suffix(".part")
    try:
        s.write("midi", fp=str(tmp))
    except Exception as e:  # music21 refuses some scores (e.g. badly formed repeats)
        tmp.unlink(missing_ok=True)
        return name, f"music21 cannot write it as MIDI ({type(e).__name__}: {e})"
    tmp.rename(dst)
    return name, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?", default="build/quartets")
    ap.add_argument("--limit", type=int, default=10, help="export at most N candidates (0 = all)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    outdir = pathlib.Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cands = candidates()
    todo = cands[: args.limit] if args.limit > 0 else cands
    print(f"candidate movements: {len(cands)} ({', '.join(COMPOSERS)}); exporting {len(todo)}")
    t0 = time.time()
    for p in todo:
        name, why = export(p, outdir)
        if why:
            print(f"  left out {name}: {why}")
    print(f"export: {time.time() - t0:.0f} s")

    import partita

    f = partita.load_multitrack_folder(outdir, melody_track=0, tracks=4)
    bars = 0.0
    meters = {}
    for r in f.rolls:
        num, den = r.time_signature
        bar = r.resolution * 4 * num // den
        bars += r.steps / bar
        meters[f"{num}/{den}"] = meters.get(f"{num}/{den}", 0) + 1
    w = partita.make_multitrack_windows(list(f.rolls), window=32, hop=16)
    print(f"files: {len(f.rolls)} used, {len(f.skipped)} skipped")
    for s in f.skipped:
        print("  skipped", s)
    print(f"meters (first time signature): {meters}")
    print(f"bars: {bars:.0f}; 2-bar windows (32 16ths, hop 16, melody not silent): {len(w)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
