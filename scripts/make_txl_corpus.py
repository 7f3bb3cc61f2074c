#!/usr/bin/env python3
"""Build the Transformer-XL training corpus: pieces of music21's bundled corpus
exported as MIDI files, split by piece into train / valid / test.

Collections (one subfolder each):
  essen       Essen folk songs (essenFolksong/*.abc, one piece per X: tune)
  oneill      O'Neill's Music of Ireland, 1850 (oneills1850/*.abc, per tune)
  ryans       Ryan's Mammoth Collection (ryansMammoth/*.abc, per tune)
  palestrina  Palestrina mass movements (palestrina/*.krn)
  bach        the Bach chorales of music21.corpus.chorales.Iterator
  quartets    string quartet movements: Beethoven op. 18, 59, 74, 132, 133,
              Mozart K. 80, 155, 156, 458, Haydn op. 1 no. 1, op. 74 no. 1

ABC collections are split into tunes on their X: lines and each tune is parsed
on its own (converter.parse(text, format="abc")): much faster than parsing a
whole opus, and a broken tune costs only itself.

Output: OUT/{train,valid,test}/<collection>/<name>.mid and OUT/manifest.json
(every piece: collection, source, split or skip reason, notes, seconds, tokens,
tempo; plus a summary per split and collection). Pieces left out of the corpus
(duplicates, or exported earlier but not selected by the current --limit) are
moved to OUT/unused/<collection>/ so that a later run can reuse them.

Tempo: each piece is written at its own tempo marking when music21 finds one
(a metronome mark, a MusicXML <sound tempo>, an ABC Q: field, or a tempo word
music21 maps to a number); otherwise at 120 quarter notes per minute. Repeats
are played out (music21's MIDI writer expands them); where music21 finds
them badly formed, the repeat marks are removed and the piece is written once
as notated (noted in the manifest). All
parts are kept (the tokenizer merges tracks); drum tracks are removed.

Split: per piece, from a hash of (seed, collection, source id) mapped to a
uniform value u in [0, 1): test if u < --test-share, valid if u < test + valid
share, else train. --limit N keeps N pieces per collection, chosen by another
hash of the same key (a spread-out, seed-stable sample, not the first N files).

Deduplication by melody key: the top voice (the first part; of a chord, its
highest note; grace notes left out) as a pitch sequence with repeated pitches
collapsed, turned into intervals (transposition-invariant), first 24
intervals. In order test, valid, train: a piece whose key equals the key of a
kept test piece (any collection) or of a JSB test/valid chorale is dropped as
"duplicate of test"; a train piece whose key equals a kept valid piece's key is
dropped as "duplicate of valid"; duplicates inside one split are kept once.

JSB chorales (data/jsb-chorales/Jsb16thSeparated.json, read by the C++ side):
their soprano key is computed the same way from the 16th-note steps (soprano =
highest pitch of each step, -1 = rest; the grid merges repeated notes, so
collapsing repeats on both sides makes keys comparable). A music21 chorale is
matched on several keys: each part's line and the highest note of all parts,
as written and with repeats expanded (JSB plays repeats out; a few chorales
have an instrumental part above the soprano). One equal to a JSB test or valid
chorale is dropped ("duplicate of JSB test/valid"), and so is one NEAR it (the
first 12 intervals equal, or difflib similarity of the keys >= 0.8: editions
differ by a passing note here and there) ("near-duplicate of JSB test/valid")
unless it equals a JSB train chorale (JSB's own train set holds such
near-matches of its test/valid chorales already, so keeping them leaks nothing
new). Every other music21 chorale goes to the bach TRAIN set, never
valid/test: those equal to a JSB train chorale are kept (the same chorale as
the C++ JSB train data, but with its real rhythms, fermatas and tempo), and so
are the few matching none (different harmonizations of the same tunes are the rule among
chorales, so a held-out music21 chorale would rarely be unseen). JSB's own
valid/test sets are the chorale valid/test sets.

Tokens: partita.encode_performance (default EventOptions, all tracks merged)
of the written file, +1 for the start token.

Cache: a piece whose manifest entry and .mid file exist is not exported again
(skipped pieces are remembered too; --retry-skipped retries them); the manifest
is saved every --save-every pieces, so an interrupted run loses little.

Usage:
  make_txl_corpus.py OUT [--collections essen,oneill,ryans,palestrina,bach,quartets]
      [--limit N | --limit 20,essen=3000,palestrina=400] [--jobs N] [--seed 0]
      [--valid-share 0.05] [--test-share 0.05] [--timeout 300]
"""
import argparse
import glob
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import time
import unicodedata
import warnings

FORMAT = 1
COLLECTIONS = ("essen", "oneill", "ryans", "palestrina", "bach", "quartets")
ABC_DIRS = {"essen": "essenFolksong", "oneill": "oneills1850", "ryans": "ryansMammoth"}
QUARTETS = re.compile(
    r"^(beethoven/opus(18no\d|59no\d|74|132|133)|mozart/k(80|155|156|458)|haydn/opus(1no1|74no1))"
    r"(/|\.)")
KEY_LEN = 24
DEFAULT_QPM = 120.0
SPLITS = ("train", "valid", "test")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------- candidates
def corpus_root():
    import music21.corpus

    return os.path.dirname(os.path.abspath(music21.corpus.__file__))


def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def slug(s, n=40):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_")[:n].strip("_")


def abc_candidates(coll, root):
    """One candidate per X: tune of each ABC file (no parsing)."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, ABC_DIRS[coll], "*.abc"))):
        rel = os.path.relpath(path, root)
        stem = os.path.splitext(os.path.basename(path))[0]
        text = read_text(path)
        for tune in re.split(r"(?m)^(?=X:)", text)[1:]:
            x = re.match(r"X:\s*(\S*)", tune).group(1)
            t = re.search(r"(?m)^T:\s*(.*?)\s*$", tune)
            title = t.group(1) if t else ""
            name = slug(stem, 48) + "_x" + slug(x, 8)
            if coll != "ryans":  # Ryan's files are named after their one tune
                name += "_" + slug(title, 32) if slug(title, 32) else ""
            out.append({"id": f"{rel}#{x}", "path": rel, "tune": x, "title": title,
                        "name": name, "abc": tune})
    return out


def resolve_work(work):
    """corpus.getWork matches by prefix: 'bach/bwv244.3' gives bwv244.3, bwv244.32
    and bwv244.37, 'bach/bwv281' both .krn and .mxl. Take the exact name, .mxl first."""
    from music21 import corpus

    found = corpus.getWork(work)
    if not isinstance(found, (list, tuple)):
        return str(found)
    stem = os.path.basename(work)
    exact = [str(p) for p in found if os.path.splitext(os.path.basename(str(p)))[0] == stem]
    order = {".mxl": 0, ".xml": 1, ".musicxml": 1, ".krn": 2}
    pool = exact or [str(p) for p in found]
    return sorted(pool, key=lambda p: (order.get(os.path.splitext(p)[1], 9), p))[0]


def file_candidates(coll, root):
    from music21 import corpus

    out = []
    if coll == "palestrina":
        paths = sorted(glob.glob(os.path.join(root, "palestrina", "*.krn")))
    elif coll == "bach":
        seen, paths = set(), []
        for w in corpus.chorales.Iterator(returnType="filename"):
            p = resolve_work(w)
            if p not in seen:
                seen.add(p)
                paths.append(p)
        paths.sort()
    elif coll == "quartets":
        paths = []
        for c in ("beethoven", "mozart", "haydn"):
            ps = sorted(str(p) for p in corpus.getComposer(c))
            mxl = {p[:-4] for p in ps if p.endswith(".mxl")}
            for p in ps:
                rel = os.path.relpath(p, root)
                if not QUARTETS.match(rel):
                    continue
                if p.endswith(".mxl") or (p.endswith(".krn") and p[:-4] not in mxl):
                    paths.append(p)
    else:
        raise ValueError(coll)
    for p in paths:
        rel = os.path.relpath(p, root)
        name = slug(os.path.splitext(rel)[0].replace(os.sep, "_").replace(".", "_"), 80)
        if coll in ("palestrina", "bach"):
            name = slug(os.path.splitext(os.path.basename(rel))[0].replace(".", "_"), 80)
        out.append({"id": rel, "path": rel, "tune": None, "title": "", "name": name})
    return out


def candidates(coll, root):
    return abc_candidates(coll, root) if coll in ABC_DIRS else file_candidates(coll, root)


# ----------------------------------------------------------------- keys, split
def uniform(*parts):
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


def key_of(pitches):
    """Intervals of a pitch sequence with repeats collapsed, first KEY_LEN."""
    seq = []
    for p in pitches:
        if not seq or seq[-1] != p:
            seq.append(p)
    return [b - a for a, b in zip(seq, seq[1:])][:KEY_LEN]


def jsb_keys(path):
    """{split: [(index, key), ...]} of the JSB chorales' sopranos (pitch -1 = rest)."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for split, chorales in data.items():
        out[split] = [(i, tuple(key_of([max(p for p in st if p >= 0) for st in ch
                                         if any(p >= 0 for p in st)])))
                      for i, ch in enumerate(chorales)]
    return out


def _top_line(streams):
    """Highest sounding pitch at each onset of the given streams (grace notes left out)."""
    top = {}
    for st in streams:
        for n in st.flatten().notes:
            if n.duration.isGrace:
                continue
            ps = [p.midi for p in n.pitches]
            if ps:
                o = float(n.offset)
                top[o] = max(top.get(o, -1), max(ps))
    return [top[o] for o in sorted(top)]


def _parts(score):
    return list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]


def melody_key(score):
    """The dedupe key: the first part's top line, as written."""
    return key_of(_top_line(_parts(score)[:1]))


def variant_keys(score):
    """Keys for matching a music21 chorale against JSB: each part's line and the
    highest note of all parts, as written and with repeats expanded (JSB plays
    repeats out; some chorales have an instrumental part above the soprano)."""
    keys = []
    for sc in (score, None):
        if sc is None:
            try:
                sc = score.expandRepeats()
            except Exception:
                break
        ps = _parts(sc)
        keys += [key_of(_top_line([p])) for p in ps] + [key_of(_top_line(ps))]
    out = []
    for k in keys:
        if k and k not in out:
            out.append(k)
    return out


def similar(a, b):
    import difflib

    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


NEAR = 0.8  # similarity of keys (difflib ratio) that counts as the same chorale


def classify_chorale(keys, jsb):
    """In this order: ('held', why) for a chorale equal to a JSB test/valid
    chorale; ('train', label) for one equal to a JSB train chorale (the C++ JSB
    train data holds that melody already, so its near-matches to held-out
    chorales are no new leak); ('held', why) for one near a JSB test/valid
    chorale; else ('none', None)."""
    keys = [tuple(k) for k in keys if k]
    for k in keys:
        if k in jsb["held"]:
            return "held", "duplicate of JSB test/valid (" + jsb["held"][k] + ")"
    for k in keys:
        if k in jsb["train"]:
            return "train", jsb["train"][k]
    for k in keys:
        for hk, label in jsb["held"].items():
            if hk[:12] == k[:12] or similar(k, hk) >= NEAR:
                return "held", "near-duplicate of JSB test/valid (" + label + ")"
    return "none", None


# ----------------------------------------------------------------- worker
class PieceTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise PieceTimeout()


G = {}


def init_worker(root, timeout):
    warnings.simplefilter("ignore")
    G["root"], G["timeout"] = root, timeout
    import music21  # noqa: F401  (import once per process)
    import partita  # noqa: F401


def unshare(score):
    """music21's ABC reader inserts one TimeSignature (or key, clef) object in
    several measures; its MIDI writer then fails ("already found in this
    Stream"). Give every repeated object its own copy."""
    import copy
    from music21 import clef, key, meter, tempo

    seen, copied = set(), 0
    for m in list(score.recurse(includeSelf=False).getElementsByClass("Measure")):
        for el in list(m.getElementsByClass((meter.TimeSignature, key.KeySignature, clef.Clef,
                                              tempo.TempoIndication))):
            if id(el) in seen:
                m.replace(el, copy.deepcopy(el))
                copied += 1
            else:
                seen.add(id(el))
    return "shared TimeSignature objects copied (music21 ABC quirk)" if copied else None


def strip_repeats(score):
    """music21's MIDI writer plays repeats out; when they are badly formed
    (ExpanderException) remove the repeat marks so the piece is written once,
    as notated."""
    from music21 import bar, repeat

    for b in list(score.recurse().getElementsByClass(bar.Repeat)):
        site = b.activeSite
        if site is not None and getattr(site, "leftBarline", None) is b:
            site.leftBarline = None
        elif site is not None and getattr(site, "rightBarline", None) is b:
            site.rightBarline = None
    for r in list(score.recurse().getElementsByClass(repeat.RepeatExpression)):
        if r.activeSite is not None:
            r.activeSite.remove(r)
    for sp in list(score.recurse().getElementsByClass("RepeatBracket")):
        for site in list(sp.sites.get()):
            if hasattr(site, "remove") and sp in site:
                site.remove(sp)
    return "badly formed repeats: repeat marks removed, written once as notated"


def export(job):
    """Parse, write job['dst'] (via tmp + os.replace), return stats or skip reason."""
    warnings.simplefilter("ignore")
    t0 = time.time()
    res = {"id": job["id"], "collection": job["collection"]}
    if G.get("timeout"):
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(G["timeout"]))
    try:
        import partita
        from music21 import converter, midi, tempo

        try:
            if "abc" in job:
                s = converter.parse(job["abc"], format="abc")
            else:
                s = converter.parse(os.path.join(G["root"], job["path"]))
        except Exception as e:
            return dict(res, skipped=f"music21 cannot parse it ({type(e).__name__}: {str(e)[:160]})")
        if hasattr(s, "scores") and not hasattr(s, "parts"):  # an Opus: first score
            s = s.scores[0]
        if not job.get("title") and s.metadata is not None and s.metadata.title:
            res["title"] = s.metadata.title
        res["key"] = melody_key(s)
        if job["collection"] == "bach":
            res["match_keys"] = variant_keys(s)
        marks = [m for m in s.recurse().getElementsByClass(tempo.MetronomeMark)
                 if m.getQuarterBPM() is not None]  # printed or playback-only number
        if not marks:
            s.insert(0, tempo.MetronomeMark(number=DEFAULT_QPM))
        res["tempo_source"] = "marking" if marks else "default"
        data, notes_ = None, []
        for fix in (None, unshare, strip_repeats):  # cumulative fixes, as needed
            try:
                if fix is not None:
                    notes_.append(fix(s))
                data = midi.translate.streamToMidiFile(s).writestr()
                break
            except Exception as e:
                err = e
        if data is None:
            return dict(res, skipped=f"music21 cannot write it as MIDI ({type(err).__name__}: {str(err)[:160]})")
        if any(notes_):
            res["note"] = "; ".join(n for n in notes_ if n)
        try:
            sc = partita.read_midi_bytes(data, job["name"])
        except Exception as e:
            return dict(res, skipped=f"partita cannot read music21's MIDI ({type(e).__name__}: {str(e)[:160]})")
        drums = [i for i, tr in enumerate(sc.tracks) if tr.is_drum]
        if drums:
            for i in reversed(drums):
                del sc.tracks[i]
            data = partita.write_midi_bytes(sc)
            res["note"] = f"{len(drums)} drum track(s) removed"
        notes = sc.note_count() if callable(sc.note_count) else sc.note_count
        if notes == 0:
            return dict(res, skipped="no notes")
        res["notes"] = int(notes)
        res["seconds"] = round(float(sc.duration_seconds() if callable(sc.duration_seconds)
                                     else sc.duration_seconds), 3)
        res["tracks"] = sum(1 for tr in sc.tracks if len(tr.notes))
        res["qpm"] = round(float(sc.tempos[0].qpm), 3) if len(sc.tempos) else DEFAULT_QPM
        try:
            res["tokens"] = int(len(partita.encode_performance(sc))) + 1
        except Exception as e:
            res["tokens_error"] = f"{type(e).__name__}: {str(e)[:120]}"
        dst = job["dst"]
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = f"{dst}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)
        res["file"] = job["rel"]
        return res
    except PieceTimeout:
        return dict(res, skipped=f"timed out after {G['timeout']} s")
    except Exception as e:
        return dict(res, skipped=f"failed ({type(e).__name__}: {str(e)[:160]})")
    finally:
        if G.get("timeout"):
            signal.alarm(0)
        res["export_seconds"] = round(time.time() - t0, 3)


# ----------------------------------------------------------------- main
def parse_limits(spec, colls):
    limits = {c: 0 for c in colls}
    for item in str(spec).split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            c, n = item.split("=", 1)
            if c not in COLLECTIONS:
                raise SystemExit(f"--limit: unknown collection {c!r}")
            limits[c] = int(n)
        else:
            for c in colls:
                limits[c] = int(item)
    return limits


def save_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def move(out, rel_from, rel_to):
    if rel_from == rel_to:
        return
    src, dst = os.path.join(out, rel_from), os.path.join(out, rel_to)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.replace(src, dst)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--collections", default=",".join(COLLECTIONS))
    ap.add_argument("--limit", default="0",
                    help="max pieces per collection: N, or N,coll=M,... (0 = all)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--valid-share", type=float, default=0.05)
    ap.add_argument("--test-share", type=float, default=0.05)
    ap.add_argument("--jsb", default=os.path.join(REPO, "data", "jsb-chorales", "Jsb16thSeparated.json"))
    ap.add_argument("--timeout", type=int, default=300, help="seconds per piece (0 = none)")
    ap.add_argument("--retry-skipped", action="store_true")
    ap.add_argument("--progress-every", type=int, default=50)
    ap.add_argument("--save-every", type=int, default=200)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    colls = [c.strip() for c in args.collections.split(",") if c.strip()]
    for c in colls:
        if c not in COLLECTIONS:
            raise SystemExit(f"unknown collection {c!r} (known: {', '.join(COLLECTIONS)})")
    limits = parse_limits(args.limit, colls)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    mpath = os.path.join(out, "manifest.json")
    t_start = time.time()

    # --- JSB keys
    jsb = jsb_keys(args.jsb)
    jsb_held = {}   # key -> "JSB test #i"
    jsb_train = {}
    for split in ("test", "valid"):
        for i, k in jsb[split]:
            if k:
                jsb_held.setdefault(k, f"JSB {split} #{i}")
    for i, k in jsb["train"]:
        if k:
            jsb_train.setdefault(k, f"JSB train #{i}")
    jsbk = {"held": jsb_held, "train": jsb_train}

    # --- cache
    cache = {}
    if os.path.exists(mpath):
        try:
            with open(mpath) as f:
                old = json.load(f)
            if old.get("format") == FORMAT:
                for p in old.get("pieces", []) + old.get("cache", []):
                    cache[(p["collection"], p["id"])] = p
        except (OSError, ValueError) as e:
            print(f"manifest unreadable, starting afresh: {e}", flush=True)

    # --- candidates and selection
    root = corpus_root()
    selected = []
    n_cand = {}
    for c in colls:
        t = time.time()
        cands = candidates(c, root)
        n_cand[c] = len(cands)
        cands.sort(key=lambda p: uniform("select", args.seed, c, p["id"]))
        if limits[c] > 0:
            cands = cands[: limits[c]]
        cands.sort(key=lambda p: p["id"])
        names = set()
        for p in cands:
            p["collection"] = c
            base, i = p["name"] or "piece", 2
            while p["name"] in names or not p["name"]:
                p["name"], i = f"{base}_{i}", i + 1
            names.add(p["name"])
            p["u"] = uniform("split", args.seed, c, p["id"])
            p["split"] = ("test" if p["u"] < args.test_share else
                          "valid" if p["u"] < args.test_share + args.valid_share else "train")
            if c == "bach":  # JSB's valid/test chorales play that role (see the docstring)
                p["split"] = "train"
        selected += cands
        print(f"{c}: {len(cands)} of {n_cand[c]} candidates selected ({time.time() - t:.1f} s)", flush=True)

    # --- export (or reuse)
    entries = {}
    todo = []
    for p in selected:
        ck = (p["collection"], p["id"])
        old = cache.get(ck)
        if old is not None:
            if old.get("file") and os.path.exists(os.path.join(out, old["file"])):
                entries[ck] = old
                continue
            if old.get("skipped") and not old.get("dropped") and not args.retry_skipped:
                entries[ck] = old
                continue
        rel = os.path.join(p["split"], p["collection"], p["name"] + ".mid")
        job = {k: p[k] for k in ("id", "collection", "path", "name", "title") if k in p}
        if "abc" in p:
            job["abc"] = p["abc"]
        job["rel"], job["dst"] = rel, os.path.join(out, rel)
        todo.append(job)
    print(f"reusing {len(entries)} cached pieces, exporting {len(todo)} with {args.jobs} job(s)",
          flush=True)

    meta = {p["id"]: p for p in selected}

    def record(r):
        p = meta[r["id"]]
        e = {"collection": p["collection"], "id": p["id"], "name": p["name"],
             "source": {"corpus_path": p["path"], "tune": p["tune"],
                        "title": r.get("title") or p["title"]}}
        for k in ("notes", "seconds", "tokens", "tracks", "qpm", "tempo_source", "key", "match_keys",
                  "file", "skipped", "note", "tokens_error", "export_seconds"):
            if k in r:
                e[k] = r[k]
        if p["collection"] == "bach" and e.get("file"):  # JSB rule now, so a partial corpus is clean
            if classify_chorale(e.get("match_keys") or [], jsbk)[0] == "held":
                to = os.path.join("unused", "bach", p["name"] + ".mid")
                move(out, e["file"], to)
                e["file"] = to
        entries[(p["collection"], p["id"])] = e

    def snapshot(final=False):
        pieces = sorted(entries.values(), key=lambda e: (e["collection"], e["id"]))
        keep = [c for k, c in cache.items() if k not in entries]
        save_json(mpath, {"format": FORMAT, "complete": final, "pieces": pieces, "cache": keep})

    t_exp = time.time()
    per_coll = {}
    total = {}
    for j in todo:
        total[j["collection"]] = total.get(j["collection"], 0) + 1
    if todo:
        if args.jobs > 1:
            pool = multiprocessing.Pool(args.jobs, init_worker, (root, args.timeout))
            it = pool.imap_unordered(export, todo, chunksize=1)
        else:
            pool = None
            init_worker(root, args.timeout)
            it = map(export, todo)
        try:
            for n, r in enumerate(it, 1):
                record(r)
                pc = per_coll.setdefault(r["collection"], [0, 0.0, 0])
                pc[0] += 1
                pc[1] += r.get("export_seconds", 0.0)
                pc[2] += 1 if r.get("skipped") else 0
                if n % args.progress_every == 0 or n == len(todo):
                    el = time.time() - t_exp
                    eta = sum((total[c] - v[0]) * v[1] / max(v[0], 1) for c, v in per_coll.items())
                    eta += sum(n_left for c, n_left in total.items() if c not in per_coll) * el / n
                    parts = ", ".join(f"{c} {v[0]} ({v[1] / max(v[0], 1):.2f} s/piece, {v[2]} skipped)"
                                      for c, v in per_coll.items())
                    print(f"[{el:7.0f} s] {n}/{len(todo)} exported, ~{eta / 60:.0f} min left; {parts}",
                          flush=True)
                if n % args.save_every == 0:
                    snapshot()
        finally:
            if pool is not None:
                pool.terminate()
            snapshot()

    # --- split, JSB rules, dedupe, placement
    jsb_report = {"dropped_exact_test_valid": 0, "dropped_near_test_valid": 0,
                  "train_matches": 0, "no_match": 0}
    for p in selected:
        e = entries[(p["collection"], p["id"])]
        e["name"] = p["name"]  # this run's (unique) file name
        e.pop("dropped", None)
        e.pop("jsb_match", None)
        e["split"] = p["split"]
        if e.get("skipped"):
            e.pop("split", None)
            continue
        if p["collection"] == "bach":
            kind, label = classify_chorale(e.get("match_keys") or [], jsbk)
            if kind == "held":
                e["dropped"] = label
                jsb_report["dropped_near_test_valid" if label.startswith("near") else
                           "dropped_exact_test_valid"] += 1
            elif kind == "train":
                e["jsb_match"] = label
                jsb_report["train_matches"] += 1
            else:
                jsb_report["no_match"] += 1
    kept = {s: {} for s in SPLITS}
    ordered = sorted((entries[(p["collection"], p["id"])] for p in selected),
                     key=lambda e: (e["collection"], e["id"]))
    for split in ("test", "valid", "train"):
        for e in ordered:
            if e.get("skipped") or e.get("dropped") or e["split"] != split:
                continue
            k = tuple(e.get("key") or ())
            if not k:
                continue
            if split != "test" and k in kept["test"]:
                e["dropped"] = f"duplicate of test ({kept['test'][k]})"
            elif split != "test" and k in jsb_held:
                e["dropped"] = f"duplicate of test ({jsb_held[k]})"
            elif split == "train" and k in kept["valid"]:
                e["dropped"] = f"duplicate of valid ({kept['valid'][k]})"
            elif k in kept[split]:
                e["dropped"] = f"duplicate within {split} ({kept[split][k]})"
            else:
                kept[split][k] = f"{e['collection']}:{e['id']}"
    # place files
    sel_keys = {(p["collection"], p["id"]) for p in selected}
    for e in ordered:
        if not e.get("file"):
            continue
        if e.get("dropped"):
            e.pop("split", None)
            to = os.path.join("unused", e["collection"], e["name"] + ".mid")
        else:
            to = os.path.join(e["split"], e["collection"], e["name"] + ".mid")
        move(out, e["file"], to)
        e["file"] = to
    for ck, c in cache.items():  # exported earlier, not selected now
        if ck not in sel_keys and c.get("file") and os.path.exists(os.path.join(out, c["file"])):
            to = os.path.join("unused", c["collection"], c["name"] + ".mid")
            move(out, c["file"], to)
            c["file"] = to
            c.pop("split", None)
    # stray files (not in the manifest) under the split folders
    known = {e["file"] for e in ordered if e.get("file")}
    for split in SPLITS:
        for f in glob.glob(os.path.join(out, split, "*", "*.mid")):
            rel = os.path.relpath(f, out)
            if rel not in known:
                move(out, rel, os.path.join("unused", "stray", os.path.basename(f)))

    # --- summary
    summary = {}
    for e in ordered:
        if e.get("skipped") or e.get("dropped"):
            continue
        for sk in (e["split"], "all"):
            for ck in (e["collection"], "all"):
                d = summary.setdefault(sk, {}).setdefault(ck, {"pieces": 0, "notes": 0, "seconds": 0.0, "tokens": 0})
                d["pieces"] += 1
                d["notes"] += e["notes"]
                d["seconds"] = round(d["seconds"] + e["seconds"], 3)
                if "tokens" in e:
                    d["tokens"] += e["tokens"]
    skipped = {}
    for e in ordered:
        if e.get("skipped"):
            skipped.setdefault(e["collection"], {}).setdefault(e["skipped"][:60], 0)
            skipped[e["collection"]][e["skipped"][:60]] += 1
    dropped = {}
    for e in ordered:
        if e.get("dropped"):
            kind = e["dropped"].split(" (")[0]
            dropped.setdefault(e["collection"], {}).setdefault(kind, 0)
            dropped[e["collection"]][kind] += 1
    pieces = ordered
    keep = [c for k, c in cache.items() if k not in sel_keys]
    manifest = {
        "format": FORMAT, "complete": True,
        "options": {"collections": colls, "limits": limits, "seed": args.seed,
                    "valid_share": args.valid_share, "test_share": args.test_share,
                    "default_qpm": DEFAULT_QPM, "key_intervals": KEY_LEN,
                    "tokens": "len(partita.encode_performance(score, -1, EventOptions())) + 1"},
        "candidates": n_cand, "summary": summary, "skipped": skipped, "dropped": dropped,
        "jsb_bach_matches": jsb_report, "pieces": pieces, "cache": keep,
    }
    save_json(mpath, manifest)

    print(f"done in {time.time() - t_start:.0f} s; JSB matches of the bach collection: {jsb_report}")
    print(f"dropped: {dropped}")
    print(f"skipped: {skipped}")
    for sk in ("train", "valid", "test", "all"):
        for ck, d in sorted(summary.get(sk, {}).items()):
            print(f"  {sk:5s} {ck:10s} {d['pieces']:6d} pieces {d['notes']:9d} notes "
                  f"{d['seconds'] / 3600:7.2f} h {d['tokens']:10d} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
