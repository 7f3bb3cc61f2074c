"""The ``partita`` command line (also ``python -m partita``).

One command with subcommands that mirror the Python API::

    partita info SONG.mid                 # tracks, programs, tempo, meter, length
    partita render SONG.mid -o SONG.wav   # FluidSynth + a General MIDI SoundFont

Adding a subcommand takes one function that does the work and one function
that registers its arguments, then one line in ``SUBCOMMANDS``::

    def add_humanize(sub):
        p = sub.add_parser("humanize", help="...", description="...")
        p.add_argument("midi", help="input MIDI file")
        add_output_argument(p, ".humanized.mid")
        add_seed_argument(p)
        add_wav_arguments(p)
        return p

    def run_humanize(args):
        score = partita.read_midi(args.midi)
        ...
        partita.write_midi(out, output_path(args, ".humanized.mid"))
        maybe_render_wav(out, args)
        return 0

    SUBCOMMANDS.append((add_humanize, run_humanize))

A run function returns the exit status. It reports a problem the user can fix
by raising ``CommandError`` (or letting a ``partita.Error``, ``OSError`` or
``ValueError`` through): ``main`` prints ``partita <command>: error: <message>``
to stderr, without a traceback, and exits with status 1. Usage errors exit
with status 2 (argparse's convention); ``--debug`` shows tracebacks.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Callable, List, Optional, Sequence, Tuple

import partita

__all__ = [
    "main", "build_parser", "SUBCOMMANDS", "CommandError", "GM_PROGRAMS",
    "add_output_argument", "add_seed_argument", "add_soundfont_arguments", "add_wav_arguments",
    "output_path", "resolve_seed", "make_synth", "render_to_wav", "maybe_render_wav", "score_info",
]


class CommandError(Exception):
    """A problem with the user's input, reported as a one-line message."""


# General MIDI level 1 program names (0-based program numbers).
GM_PROGRAMS = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells",
    "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion",
    "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar",
    "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs",
    "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1",
    "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon",
    "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter",
    "Applause", "Gunshot",
)
assert len(GM_PROGRAMS) == 128

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_KEYS = ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")


# --------------------------------------------------------------------------------------
# Shared argument helpers (for every subcommand)

def add_output_argument(p: argparse.ArgumentParser, suffix: str, what: str = "output file") -> None:
    """-o/--output; when omitted the output is the input's name with `suffix`."""
    p.add_argument("-o", "--output", metavar="PATH",
                   help=f"{what} (default: the input's name with {suffix})")


def output_path(args: argparse.Namespace, suffix: str, source: Optional[str] = None) -> str:
    """args.output, or the input (args.midi, or `source`) with its suffix replaced."""
    if getattr(args, "output", None):
        return args.output
    src = source if source is not None else args.midi
    stem, _ = os.path.splitext(src)
    out = stem + suffix
    if os.path.abspath(out) == os.path.abspath(src):
        raise CommandError(f"the output would overwrite the input {src!r}; give -o")
    return out


def add_seed_argument(p: argparse.ArgumentParser) -> None:
    """--seed for stochastic subcommands (same seed + same thread count = same output)."""
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="random seed (default: a fresh one, printed so the run can be repeated)")


def resolve_seed(args: argparse.Namespace) -> int:
    """args.seed, or a fresh 32-bit seed that is printed to stderr."""
    if args.seed is not None:
        if args.seed < 0:
            raise CommandError("--seed must be >= 0")
        return args.seed
    seed = int.from_bytes(os.urandom(4), "little")
    print(f"partita: using --seed {seed}", file=sys.stderr)
    return seed


def add_soundfont_arguments(p: argparse.ArgumentParser) -> None:
    """--soundfont, --sample-rate, --gain, --tail, --reverb, --chorus."""
    g = p.add_argument_group("synthesis")
    g.add_argument("--soundfont", metavar="SF2",
                   help="SoundFont (.sf2/.sf3); default: $PARTITA_SOUNDFONT or a system General MIDI "
                        "SoundFont (Debian: apt-get install fluid-soundfont-gm)")
    g.add_argument("--sample-rate", type=int, default=44100, metavar="HZ",
                   help="sample rate in Hz, 8000..96000 (default: 44100)")
    g.add_argument("--gain", type=float, default=0.5, help="output gain, 0..10 (default: 0.5)")
    g.add_argument("--tail", type=float, default=1.0, metavar="SECONDS",
                   help="seconds rendered after the last note ends (default: 1.0)")
    g.add_argument("--reverb", action="store_true", help="turn FluidSynth's reverb on")
    g.add_argument("--chorus", action="store_true", help="turn FluidSynth's chorus on")
    g.add_argument("--float", action="store_true",
                   help="write 32-bit float WAV instead of 16-bit PCM (no clipping)")


def add_wav_arguments(p: argparse.ArgumentParser) -> None:
    """--wav OUT.wav plus the synthesis options, for subcommands that write MIDI."""
    p.add_argument("--wav", metavar="PATH", help="also render the result to this WAV file")
    add_soundfont_arguments(p)


def make_synth(args: argparse.Namespace) -> "partita.Synth":
    return partita.Synth(soundfont=args.soundfont, sample_rate=args.sample_rate, gain=args.gain,
                         tail=args.tail, reverb=args.reverb, chorus=args.chorus)


def render_to_wav(score: "partita.Score", path: str, args: argparse.Namespace) -> dict:
    """Renders `score` with the synthesis options in `args` and writes `path`.
    Returns facts for the report: seconds, sample_rate, peak, clipped samples."""
    import numpy as np

    synth = make_synth(args)
    audio = synth.render(score)
    subtype = "FLOAT" if args.float else "PCM_16"
    partita.write_wav(path, audio, synth.sample_rate, subtype=subtype)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    clipped = 0 if args.float else int(np.count_nonzero(np.abs(audio) > 1.0))
    return {"path": path, "seconds": audio.shape[0] / synth.sample_rate,
            "sample_rate": synth.sample_rate, "channels": audio.shape[1], "subtype": subtype,
            "peak": peak, "clipped": clipped, "soundfont": synth.soundfont}


def _report_wav(facts: dict) -> None:
    peak_db = 20 * math.log10(facts["peak"]) if facts["peak"] > 0 else float("-inf")
    kind = "32-bit float" if facts["subtype"] == "FLOAT" else "16-bit PCM"
    print(f"wrote {facts['path']}: {facts['seconds']:.2f} s, {facts['sample_rate']} Hz, "
          f"{'stereo' if facts['channels'] == 2 else str(facts['channels']) + ' channels'}, "
          f"{kind}, peak {peak_db:.1f} dBFS")
    if facts["clipped"]:
        print(f"partita: warning: {facts['clipped']} samples above full scale were clipped; "
              f"use a lower --gain or --float", file=sys.stderr)


def maybe_render_wav(score: "partita.Score", args: argparse.Namespace) -> None:
    """Renders to args.wav when the user asked for it (see add_wav_arguments)."""
    if getattr(args, "wav", None):
        _report_wav(render_to_wav(score, args.wav, args))


# --------------------------------------------------------------------------------------
# info

def _pitch_name(p: int) -> str:
    return f"{_NOTE_NAMES[p % 12]}{p // 12 - 1}"


def _bars(score: "partita.Score", tick: int) -> float:
    """Bars (measures) from tick 0 to `tick`, following the time-signature changes."""
    tpq = score.ticks_per_quarter if score.ticks_per_quarter > 0 else 480
    sigs = [(ts.tick, ts.numerator, ts.denominator) for ts in score.time_signatures]
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0, 4, 4))
    bars = 0.0
    for i, (start, num, den) in enumerate(sigs):
        end = sigs[i + 1][0] if i + 1 < len(sigs) else None
        stop = tick if end is None else min(end, tick)
        if stop <= start:
            break
        bars += (stop - start) / (tpq * 4.0 * num / den)
    return bars


def score_info(score: "partita.Score") -> dict:
    """What `partita info` shows, as a dict (also printed by --json)."""
    end = score.end_tick
    tracks = []
    for i, t in enumerate(score.tracks):
        notes = t.notes
        pitches = [n.pitch for n in notes]
        tracks.append({
            "index": i, "name": t.name, "program": t.program,
            "instrument": "Drums" if t.is_drum else GM_PROGRAMS[t.program % 128],
            "is_drum": t.is_drum, "notes": len(notes),
            "lowest": min(pitches) if pitches else None, "highest": max(pitches) if pitches else None,
            "controls": len(t.controls), "pitch_bends": len(t.pitch_bends),
        })
    tempos = [{"tick": tc.tick, "seconds": score.seconds(tc.tick), "qpm": tc.qpm} for tc in score.tempos]
    meters = [{"tick": ts.tick, "bar": _bars(score, ts.tick) + 1, "numerator": ts.numerator,
               "denominator": ts.denominator} for ts in score.time_signatures]
    keys = [{"tick": ks.tick, "sharps": ks.sharps, "minor": ks.minor,
             "name": ((_MINOR_KEYS if ks.minor else _MAJOR_KEYS)[ks.sharps + 7] + (" minor" if ks.minor else " major"))
             if -7 <= ks.sharps <= 7 else f"{ks.sharps} sharps"} for ks in score.key_signatures]
    return {"ticks_per_quarter": score.ticks_per_quarter, "tempos": tempos, "time_signatures": meters,
            "key_signatures": keys, "seconds": score.duration_seconds, "bars": _bars(score, end),
            "end_tick": end, "notes": score.note_count, "tracks": tracks}


def add_info(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("info", help="show what a MIDI file holds",
                       description="Show a MIDI file's tracks (name, program, drums, notes, range), "
                                   "tempo map, time and key signatures, length and note count.")
    p.add_argument("midi", help="MIDI file (.mid)")
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    return p


def run_info(args: argparse.Namespace) -> int:
    score = partita.read_midi(args.midi)
    info = score_info(score)
    if args.json:
        print(json.dumps({"file": args.midi, **info}, indent=2))
        return 0
    bars = info["bars"]
    bars_text = f"{bars:.0f}" if abs(bars - round(bars)) < 1e-6 else f"{bars:.2f}"
    if not info["tempos"]:
        tempo_text = "120 qpm (default)"
    elif len(info["tempos"]) == 1:
        tempo_text = f"{info['tempos'][0]['qpm']:g} qpm"
    else:
        tempo_text = ", ".join(f"{t['qpm']:g} qpm at {t['seconds']:.2f} s" for t in info["tempos"][:6])
        if len(info["tempos"]) > 6:
            tempo_text += f", ... ({len(info['tempos'])} changes)"
    meter_text = ", ".join(f"{m['numerator']}/{m['denominator']}" + (f" at bar {m['bar']:g}" if m["tick"] else "")
                           for m in info["time_signatures"][:6]) or "4/4 (default)"
    print(f"file:            {args.midi}")
    print(f"length:          {info['seconds']:.2f} s, {bars_text} bars")
    print(f"notes:           {info['notes']}")
    print(f"tempo:           {tempo_text}")
    print(f"time signature:  {meter_text}")
    if info["key_signatures"]:
        print(f"key signature:   {', '.join(k['name'] for k in info['key_signatures'][:6])}")
    print(f"resolution:      {info['ticks_per_quarter']} ticks per quarter")
    print(f"tracks:          {len(info['tracks'])}")
    if info["tracks"]:
        rows = [("#", "name", "program", "drum", "notes", "range")]
        for t in info["tracks"]:
            rng = f"{_pitch_name(t['lowest'])}-{_pitch_name(t['highest'])}" if t["notes"] else "-"
            prog = f"{t['program']} {t['instrument']}" if not t["is_drum"] else f"{t['program']} (kit)"
            rows.append((str(t["index"]), t["name"] or "-", prog, "yes" if t["is_drum"] else "no",
                         str(t["notes"]), rng))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        for r in rows:
            print("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


# --------------------------------------------------------------------------------------
# render

def add_render(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("render", help="render a MIDI file to WAV with FluidSynth",
                       description="Render a MIDI file to a WAV file with FluidSynth and a General "
                                   "MIDI SoundFont (drums on channel 10). Reverb and chorus are off "
                                   "unless asked for.")
    p.add_argument("midi", help="MIDI file (.mid)")
    add_output_argument(p, ".wav", "WAV file to write")
    add_soundfont_arguments(p)
    return p


def run_render(args: argparse.Namespace) -> int:
    out = output_path(args, ".wav")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CommandError(f"cannot write {out!r}: folder {folder!r} does not exist")
    score = partita.read_midi(args.midi)
    _report_wav(render_to_wav(score, out, args))
    return 0


# --------------------------------------------------------------------------------------
# Registry and entry point

#: (register arguments, run) per subcommand, in the order --help lists them.
SUBCOMMANDS: List[Tuple[Callable, Callable[[argparse.Namespace], int]]] = [
    (add_info, run_info),
    (add_render, run_render),
]


# --------------------------------------------------------------------------------------
# edit (AR-CNN) and train

def add_edit(sub) -> argparse.ArgumentParser:
    d = partita.EditControls()  # the library's defaults
    p = sub.add_parser("edit", help="rewrite a melody note by note with the AR-CNN (\"more like Bach\")",
                       description="Edit a melody with the AR-CNN as the Music Studio does: each "
                                   "iteration toggles one cell of the 16th-note piano roll, sampled "
                                   "from the model. Melodies longer than 8 bars are edited 8 bars at "
                                   "a time. Tempo, meter, program and timing are kept; velocity 100.")
    p.add_argument("midi", help="input MIDI file (.mid)")
    add_output_argument(p, ".edited.mid", "MIDI file to write")
    p.add_argument("--max-remove-pct", type=float, default=d.max_remove_pct, metavar="PCT",
                   help="maximum input notes to remove, percent (default: %(default)g)")
    p.add_argument("--max-add", type=int, default=d.max_add, metavar="N",
                   help="maximum notes to add (default: %(default)s)")
    p.add_argument("--iterations", type=int, default=d.iterations, metavar="N",
                   help="sampling iterations, one toggle each (default: %(default)s)")
    p.add_argument("--creative-risk", type=float, default=d.creative_risk, metavar="T",
                   help="sampling temperature, typically 0.5-6 (default: %(default)g)")
    p.add_argument("--resolve-iterations", type=int, default=d.resolve_iterations, metavar="N",
                   help="closing pass after the sampled toggles: at most N toggles that remove or extend "
                        "the one-16th notes left in the output; 0 turns it off (default: %(default)s)")
    p.add_argument("--keep-input-fragments", action="store_true",
                   help="the closing pass leaves the input's own one-16th notes alone and resolves only "
                        "the ones the edit made")
    p.add_argument("--track", type=int, default=-1, metavar="I",
                   help="track to edit (default: the first track with notes)")
    p.add_argument("--weights", metavar="FILE",
                   help="AR-CNN model file (.safetensors; default: the shipped model)")
    p.add_argument("--model", default="arcnn-default", metavar="NAME",
                   help="shipped model to use when --weights is not given (`partita models` lists "
                        "them; default: %(default)s)")
    add_seed_argument(p)
    add_wav_arguments(p)
    return p


def run_edit(args: argparse.Namespace) -> int:
    out_path = output_path(args, ".edited.mid")
    model = partita.ARCNN.load(args.weights) if args.weights else partita.ARCNN.pretrained(args.model)
    score = partita.read_midi(args.midi)
    edited, stats = model.edit(score, max_remove_pct=args.max_remove_pct, max_add=args.max_add,
                               iterations=args.iterations, creative_risk=args.creative_risk,
                               resolve_iterations=args.resolve_iterations,
                               keep_input_fragments=args.keep_input_fragments,
                               seed=resolve_seed(args), track=args.track, return_stats=True)
    partita.write_midi(edited, out_path)
    removed = sum(s.removed for s in stats)
    added = sum(s.added for s in stats)
    print(f"wrote {out_path}: {edited.note_count} notes ({score.note_count} in), "
          f"{len(stats)} window(s), {removed} cells removed, {added} added")
    maybe_render_wav(edited, args)
    return 0


def add_models(sub) -> argparse.ArgumentParser:
    return sub.add_parser("models", help="list the pretrained models partita ships",
                          description="List the shipped models (name, kind, file) and where each "
                                      "file is found; use a name with `partita edit --model NAME` "
                                      "(AR-CNN), `partita accompany --style NAME` (GAN) or "
                                      "`partita extend --model NAME` (Transformer-XL).")


def run_models(args: argparse.Namespace) -> int:
    for m in partita.models_available():
        try:
            where = partita.shipped_model_path(m.name)
        except partita.IoError:
            where = "(not found: set " + m.env_var + ")" if m.env_var else "(not found)"
        names = ", ".join([m.name] + list(m.aliases))
        print(f"{names}\t{m.kind}\t{where}\n    {m.description}")
    return 0


def add_train_arcnn(p: argparse.ArgumentParser) -> None:
    d = partita.ArcnnFitOptions()  # the library's defaults
    c = partita.ArcnnConfig.compact()
    p.add_argument("--data", default="jsb", metavar="jsb|FOLDER",
                   help="the JSB chorales' training split (default) or a folder of MIDI files")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="checkpoint folder (last.safetensors, best.safetensors, optimizer state)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--levels", type=int, default=c.levels)
    p.add_argument("--base-filters", type=int, default=c.base_filters)
    p.add_argument("--dropout", type=float, default=c.dropout)
    p.add_argument("--bn-momentum", type=float, default=c.bn_momentum)
    p.add_argument("--variants", type=int, default=d.variants, help="corrupted pairs per window and epoch")
    p.add_argument("--transpose", type=int, default=d.transpose, help="random transposition, +- semitones")
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--max-steps-per-epoch", type=int, default=d.max_steps_per_epoch, help="0: whole epochs")
    p.add_argument("--max-steps", type=int, default=d.max_steps, help="total step budget (0: none)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/last.safetensors")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_seed_argument(p)


def run_train_arcnn(args: argparse.Namespace) -> int:
    seed = resolve_seed(args)
    train, valid = partita.arcnn.training_windows(args.data, args.valid_fraction, seed)
    model = partita.ARCNN(levels=args.levels, base_filters=args.base_filters, dropout=args.dropout,
                          bn_momentum=args.bn_momentum, seed=seed)
    print(f"training {model!r} on {len(train)} windows, validating on {len(valid)}")
    result = model.fit(train, valid, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       seed=seed, variants=args.variants, transpose=args.transpose,
                       checkpoint_dir=args.out, resume=args.resume,
                       max_steps_per_epoch=args.max_steps_per_epoch, max_steps=args.max_steps,
                       progress=not args.no_progress)
    for e in result.history:
        print(f"epoch {e.epoch}: train_loss {e.train_loss:.4f} valid_loss {e.valid_loss:.4f}"
              f"{' (best)' if e.best else ''}")
    print(f"best valid_loss {result.best_valid_loss:.4f} at epoch {result.best_epoch}: "
          f"{os.path.join(args.out, 'best.safetensors')}")
    return 0


# --------------------------------------------------------------------------------------
# accompany (GAN) and train gan

def _int_list(text: str) -> List[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_accompany(sub) -> argparse.ArgumentParser:
    d = partita.AccompanyOptions()  # the library's defaults
    p = sub.add_parser("accompany", help="add generated parts to a melody with the GAN (chorale, quartet)",
                       description="Accompany a melody with the GAN as the DeepComposer samples do: the "
                                   "melody is read on 16th notes, moved by octaves into the model's "
                                   "register and accompanied 2 bars at a time. The output holds the "
                                   "melody track unchanged plus one named track per generated part; "
                                   "tempo, meter and key signatures are kept.")
    p.add_argument("midi", help="input MIDI file (.mid) holding the melody")
    add_output_argument(p, ".accompanied.mid", "MIDI file to write")
    p.add_argument("--style", choices=partita.gan.STYLES, default="chorale",
                   help="shipped model to use when --weights is not given: chorale (Alto, Tenor, Bass) "
                        "or quartet (Violin II, Viola, Cello) (default: %(default)s)")
    p.add_argument("--weights", metavar="FILE",
                   help="GAN model file (.safetensors) to use instead of a shipped style")
    p.add_argument("--programs", type=_int_list, default=None, metavar="P1,P2,P3",
                   help="General MIDI program (0-based) of each part (default: the model's style)")
    p.add_argument("--track", type=int, default=d.track, metavar="I",
                   help="melody track (default: the first non-drum track with notes)")
    p.add_argument("--seed", type=int, default=d.seed, metavar="N",
                   help="random seed of the generator's noise (default: %(default)s)")
    p.add_argument("--threshold", type=float, default=d.threshold, metavar="T",
                   help="a generated cell sounds when its value (-1..1) is above T (default: %(default)g)")
    p.add_argument("--min-note-steps", type=int, default=d.min_note_steps, metavar="N",
                   help="drop generated notes shorter than N 16ths (default: %(default)s, keeps all)")
    p.add_argument("--velocity", type=int, default=d.velocity, metavar="V",
                   help="velocity of the generated notes, 1..127 (default: %(default)s)")
    p.add_argument("--polyphonic", action="store_true",
                   help="let a part sound every pitch above the threshold at once (chords, clusters); "
                        "by default each part sounds one note at a time")
    p.add_argument("--leap-penalty", type=float, default=d.leap_penalty, metavar="L",
                   help="one note at a time: each part is the best line through the generated values, "
                        "each move to the next pitch costing L per semitone (0: the highest value "
                        "above the threshold at each step; default: %(default)g)")
    add_wav_arguments(p)
    return p


def run_accompany(args: argparse.Namespace) -> int:
    out_path = output_path(args, ".accompanied.mid")
    if args.seed < 0:
        raise CommandError("--seed must be >= 0")
    model = partita.GAN.load(args.weights) if args.weights else partita.GAN.pretrained(args.style)
    score = partita.read_midi(args.midi)
    out, report = model.accompany(score, track=args.track, programs=args.programs, seed=args.seed,
                                  threshold=args.threshold, min_note_steps=args.min_note_steps,
                                  velocity=args.velocity, monophonic=not args.polyphonic,
                                  leap_penalty=args.leap_penalty, return_report=True)
    partita.write_midi(out, out_path)
    parts = ", ".join(f"{t.name} {n} notes" for t, n in zip(out.tracks[1:], report.notes_per_part))
    shift = f", melody moved {report.octave_shift:+d} semitones for the model" if report.octave_shift else ""
    print(f"wrote {out_path}: melody track {report.melody_track} ({len(out.tracks[0].notes)} notes), "
          f"{report.windows} window(s){shift}; {parts}")
    maybe_render_wav(out, args)
    return 0


def add_train_gan(p: argparse.ArgumentParser) -> None:
    d = partita.GanFitOptions()  # the library's defaults
    c = partita.GanConfig.compact()
    p.add_argument("--out", required=True, metavar="DIR",
                   help="checkpoint folder (last.safetensors, best.safetensors, optimizer states; "
                        "generator.safetensors at the end)")
    p.add_argument("--style", choices=partita.gan.STYLES, default="chorale",
                   help="part names and programs the model carries (default: %(default)s)")
    p.add_argument("--midi-dir", metavar="DIR",
                   help="train on a folder of MIDI files instead of the JSB chorales")
    p.add_argument("--melody-track", default="0", metavar="I|NAME",
                   help="with --midi-dir: the melody track, an index among the non-drum tracks or a "
                        "name (default: %(default)s)")
    p.add_argument("--filters", type=int, default=c.filters, help="encoder filters F (default: %(default)s)")
    p.add_argument("--latent", type=int, default=c.latent_channels,
                   help="latent channels of z (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--max-steps", type=int, default=d.max_steps, help="total step budget (0: none)")
    p.add_argument("--max-steps-per-epoch", type=int, default=d.max_steps_per_epoch, help="0: whole epochs")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--critic-steps", type=int, default=d.critic_steps,
                   help="critic updates per generator update")
    p.add_argument("--transpose", type=int, default=d.max_transpose,
                   help="random transposition, +- semitones, keeping every voice in range")
    p.add_argument("--max-valid-batches", type=int, default=d.max_valid_batches, help="0: all")
    p.add_argument("--seed", type=int, default=d.seed, metavar="N", help="random seed (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/last.safetensors")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_train_gan(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise CommandError("--seed must be >= 0")
    config = partita.gan.style_config(args.style, filters=args.filters, latent_channels=args.latent)
    if args.midi_dir:
        melody = int(args.melody_track) if args.melody_track.isdigit() else args.melody_track
        train, valid = partita.gan.training_windows(args.midi_dir, melody, config.tracks, config.steps)
    else:
        train, valid = partita.gan.training_windows("jsb", window=config.steps)
    model = partita.GAN(config, seed=args.seed)
    print(f"training {model!r} on {len(train)} windows, validating on {len(valid)}")
    result = model.fit(train, valid if len(valid) else None, epochs=args.epochs, max_steps=args.max_steps,
                       max_steps_per_epoch=args.max_steps_per_epoch, batch_size=args.batch_size, lr=args.lr,
                       critic_steps=args.critic_steps, max_transpose=args.transpose,
                       max_valid_batches=args.max_valid_batches, seed=args.seed, checkpoint_dir=args.out,
                       resume=args.resume, progress=not args.no_progress)
    for e in result.history:
        losses = " ".join(f"{k} {v:.4f}" for k, v in e.train_losses.items())
        valid_text = "" if math.isnan(e.valid_loss) else f" valid_wasserstein {e.valid_loss:.4f}"
        print(f"epoch {e.epoch}: {losses}{valid_text}{' (best)' if e.best else ''}")
    generator = os.path.join(args.out, "generator.safetensors")
    model.save(generator, with_critic=False)  # what accompany needs (the checkpoints keep the critic)
    print(f"done: {result.global_step} steps; generator at {generator}")
    return 0


# --------------------------------------------------------------------------------------
# extend (Transformer-XL) and train transformer

def add_extend(sub) -> argparse.ArgumentParser:
    d = partita.ExtendOptions()  # the library's defaults
    p = sub.add_parser("extend", help="continue a track with the Transformer-XL",
                       description="Extend a track as the Music Studio's Transformer-XL does: the model "
                                   "reads the whole track as performance events and writes about SECONDS "
                                   "more, one event at a time (nucleus sampling). The continuation is "
                                   "appended to that track after its last event; the input's notes, its "
                                   "other tracks and its tempo map are kept.")
    p.add_argument("midi", help="input MIDI file (.mid)")
    add_output_argument(p, ".extended.mid", "MIDI file to write")
    p.add_argument("--seconds", type=float, default=d.seconds, metavar="S",
                   help="length of the continuation in seconds (default: %(default)g)")
    p.add_argument("--temperature", type=float, default=d.temperature, metavar="T",
                   help="sampling temperature, > 0; lower is safer, higher more surprising "
                        "(default: %(default)g)")
    p.add_argument("--top-p", type=float, default=d.top_p, metavar="P",
                   help="nucleus sampling: draw from the likeliest events holding probability P, "
                        "0 < P <= 1 (default: %(default)g)")
    p.add_argument("--top-k", type=int, default=None, metavar="K",
                   help="also draw from at most the K likeliest events (default: no limit)")
    p.add_argument("--track", type=int, default=d.track, metavar="I",
                   help="track to continue (default: the first non-drum track with notes)")
    p.add_argument("--seed", type=int, default=d.seed, metavar="N",
                   help="random seed of the sampling (default: %(default)s)")
    p.add_argument("--max-tokens", type=int, default=d.max_tokens, metavar="N",
                   help="stop after N generated events whatever the length (default: 0, 400 per second)")
    p.add_argument("--weights", metavar="FILE",
                   help="Transformer-XL model file (.safetensors) to use instead of a shipped model")
    p.add_argument("--model", default="transformer", metavar="NAME",
                   help="shipped model to use when --weights is not given (`partita models` lists "
                        "them; default: %(default)s)")
    add_wav_arguments(p)
    return p


def run_extend(args: argparse.Namespace) -> int:
    out_path = output_path(args, ".extended.mid")
    if args.seed < 0:
        raise CommandError("--seed must be >= 0")
    if args.top_k is not None and args.top_k < 1:
        raise CommandError("--top-k must be >= 1")
    model = (partita.TransformerXL.load(args.weights) if args.weights
             else partita.TransformerXL.pretrained(args.model))
    score = partita.read_midi(args.midi)
    out, report = model.extend(score, seconds=args.seconds, temperature=args.temperature, top_p=args.top_p,
                               top_k=args.top_k, track=args.track, seed=args.seed, max_tokens=args.max_tokens,
                               return_report=True)
    partita.write_midi(out, out_path)
    rate = 1000.0 * report.generated_tokens / report.generate_ms if report.generate_ms > 0 else 0.0
    limit = " (stopped at --max-tokens)" if report.hit_max_tokens else ""
    print(f"wrote {out_path}: primed with {report.prime_tokens} tokens ({report.prime_ms:.0f} ms), "
          f"generated {report.generated_tokens} tokens = {report.generated_seconds:.1f} s, "
          f"{report.notes_added} notes ({report.generate_ms:.0f} ms, {rate:.0f} tokens/s){limit}; "
          f"{out.note_count} notes in all ({score.note_count} in)")
    maybe_render_wav(out, args)
    return 0


def add_train_transformer(p: argparse.ArgumentParser) -> None:
    d = partita.TransformerXLFitOptions()  # the library's defaults
    p.add_argument("--out", required=True, metavar="DIR",
                   help="checkpoint folder (last.safetensors, best.safetensors, optimizer state)")
    p.add_argument("--data", default="jsb", metavar="jsb[,DIR...]",
                   help="corpus: 'jsb' (the JSB chorales' standard split) and/or MIDI folders (their "
                        "train/valid/test subfolders, or every 10th file valid / test), comma-separated "
                        "(default: %(default)s)")
    p.add_argument("--config", choices=partita.transformer.CONFIGS, default=None,
                   help="network preset; the options below change single fields (default: reference)")
    g = p.add_argument_group("network fields (default: the preset's)")
    for name, kind in (("layers", int), ("heads", int), ("d-model", int), ("d-head", int), ("d-inner", int),
                       ("segment", int), ("memory", int), ("dropout", float)):
        g.add_argument(f"--{name}", type=kind, default=None)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--max-steps", type=int, default=d.max_steps, help="total step budget (0: none)")
    p.add_argument("--max-steps-per-epoch", type=int, default=d.max_steps_per_epoch, help="0: whole epochs")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate, after the warm-up")
    p.add_argument("--warmup", type=int, default=d.warmup_steps, metavar="STEPS",
                   help="warm-up steps (then inverse square root decay)")
    p.add_argument("--lr-floor", type=float, default=d.lr_floor)
    p.add_argument("--clip-norm", type=float, default=d.clip_norm, help="gradient norm clip (0: none)")
    p.add_argument("--max-valid-batches", type=int, default=d.max_valid_batches, help="0: all")
    p.add_argument("--augment", type=int, default=1, metavar="N",
                   help="stretched and transposed variants of each training piece (default: %(default)s)")
    p.add_argument("--transpose", type=int, default=3, metavar="SEMITONES",
                   help="largest transposition of an augmented variant (default: %(default)s)")
    p.add_argument("--jsb-qpm", type=float, default=100.0,
                   help="tempo the JSB chorales' 16th-note grid is played at (default: %(default)g)")
    p.add_argument("--seed", type=int, default=d.seed, metavar="N", help="random seed (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/last.safetensors")
    p.add_argument("--init", metavar="FILE", default=None,
                   help="start from this model file's weights (its network, dropout included) with a fresh "
                        "optimizer and schedule, e.g. a low-rate phase after a run")
    p.add_argument("--keep-epochs", action="store_true",
                   help="also keep every epoch's weights as DIR/epoch-NN.safetensors (for checkpoint averaging)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _split_line(name: str, split: "partita.PerformanceSplit") -> str:
    tokens = split.streams.total_tokens
    rate = tokens / split.seconds if split.seconds > 0 else 0.0
    return f"  {name:<5} {len(split):6d} pieces {tokens:10d} tokens {split.seconds:9.0f} s ({rate:.1f} tokens/s)"


def run_train_transformer(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise CommandError("--seed must be >= 0")
    fields = {name: getattr(args, name) for name in ("layers", "heads", "d_model", "d_head", "d_inner",
                                                     "segment", "memory", "dropout")
              if getattr(args, name) is not None}
    if args.init is not None:
        if args.config is not None or fields:
            raise CommandError("--init takes the network from its file; drop --config and the network fields")
        if args.resume:
            raise CommandError("--init starts a new run and --resume continues one; give only one of them")
        model = partita.TransformerXL.load(args.init)
    else:
        model = partita.TransformerXL(partita.transformer.named_config(args.config or "reference", **fields),
                                      seed=args.seed)
    corpus = partita.transformer.load_corpus(args.data, jsb_qpm=args.jsb_qpm)
    for skipped in corpus.skipped:
        print(f"partita: skipped {skipped}", file=sys.stderr)
    train, valid = partita.transformer.training_splits(corpus, augment=args.augment,
                                                       max_transpose=args.transpose, seed=args.seed)
    on_epoch = None
    if args.keep_epochs:
        def on_epoch(e: "partita.EpochInfo") -> None:
            model.save(os.path.join(args.out, f"epoch-{e.epoch:02d}.safetensors"),
                       extra={"epoch": str(e.epoch), "valid_loss": repr(e.valid_loss)})
    if args.init is not None:
        print(f"weights from {args.init}")
    print(f"training {model!r} on {args.data}:")
    print(_split_line("train", corpus.train))
    print(f"  with {args.augment} augmented copies (+-{args.transpose} semitones):")
    print(_split_line("train", train))
    print(_split_line("valid", valid))
    result = model.fit(train, valid if len(valid) else None, epochs=args.epochs, max_steps=args.max_steps,
                       max_steps_per_epoch=args.max_steps_per_epoch, batch_size=args.batch_size, lr=args.lr,
                       warmup_steps=args.warmup, lr_floor=args.lr_floor, clip_norm=args.clip_norm,
                       max_valid_batches=args.max_valid_batches, seed=args.seed, checkpoint_dir=args.out,
                       resume=args.resume, on_epoch=on_epoch, progress=not args.no_progress)
    for e in result.history:
        valid_text = "" if math.isnan(e.valid_loss) else f" valid_nll {e.valid_loss:.4f}"
        print(f"epoch {e.epoch}: {e.steps} steps, train {e.train_loss:.4f}{valid_text}"
              f"{' (best)' if e.best else ''}")
    print(f"done: {result.global_step} steps; best {'valid NLL' if len(valid) else 'train loss'} "
          f"{result.best_valid_loss:.4f} at epoch {result.best_epoch}; model at "
          f"{os.path.join(args.out, 'best.safetensors')}")
    return 0


#: Models `partita train MODEL` knows: name -> (register arguments, run).
TRAIN_MODELS = {"arcnn": (add_train_arcnn, run_train_arcnn), "gan": (add_train_gan, run_train_gan),
                "transformer": (add_train_transformer, run_train_transformer)}


def add_train(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train a model (arcnn, gan, transformer)",
                       description="Train a model; checkpoints are written atomically each epoch.")
    models = p.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    for name, (add, run) in TRAIN_MODELS.items():
        m = models.add_parser(name, help=f"train the {name} model")
        add(m)
        m.set_defaults(train_func=run)
    return p


def run_train(args: argparse.Namespace) -> int:
    return args.train_func(args)


SUBCOMMANDS += [(add_edit, run_edit), (add_accompany, run_accompany), (add_extend, run_extend),
                (add_models, run_models), (add_train, run_train)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partita",
        description="Compose music with AI: AR-CNN melody editing, GAN accompaniment, "
                    "Transformer-XL continuation; MIDI in, MIDI and WAV out.")
    parser.add_argument("--version", action="version", version=f"partita {partita.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="threads for partita's kernels and rendering (default: all cores)")
    parser.add_argument("--matmul-precision", choices=("float32", "bfloat16"), default=None,
                        help="precision of the matrix products under every layer: bfloat16 operands with "
                             "float32 sums run twice as fast where the CPU has AVX512_BF16 (default: float32, "
                             "or PARTITA_MATMUL_PRECISION)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add, run in SUBCOMMANDS:
        p = add(sub)
        p.set_defaults(func=run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.threads is not None:
            partita.set_num_threads(args.threads)
        if args.matmul_precision is not None:
            partita.set_matmul_precision(args.matmul_precision)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("partita: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `partita info x.mid | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except (CommandError, partita.Error, OSError, ValueError) as e:
        if args.debug:
            raise
        message = str(e) or type(e).__name__
        if isinstance(e, OSError) and not isinstance(e, partita.Error) and e.filename:
            message = f"{e.strerror or message}: {e.filename}"
        print(f"partita {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
