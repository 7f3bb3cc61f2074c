"""partita.read_midi against two independent readings of the same files:
pretty_midi's note list (per instrument: program, drum flag, pitch, velocity,
start/end seconds) and a decoding of note on/off pairs written here on top of
mido's messages. On the five sample melodies and ~75 real pieces exported from
music21's corpus (fixture midi_corpus), plus read/write/read round trips and
mido reading what we write."""
import collections
import warnings

import pytest

import partita

mido = pytest.importorskip("mido")
pretty_midi = pytest.importorskip("pretty_midi")

TOL = 1e-6  # seconds


def _our_instruments(score):
    """[(program, is_drum, sorted notes in seconds)] for tracks with notes."""
    out = []
    for t in score.tracks:
        if not t.notes:
            continue
        notes = sorted((n.pitch, n.velocity, score.seconds(n.start), score.seconds(n.end)) for n in t.notes)
        out.append((t.program, t.is_drum, notes))
    return out


def _pm_instruments(pm):
    return [(int(i.program), bool(i.is_drum), sorted((n.pitch, n.velocity, n.start, n.end) for n in i.notes))
            for i in pm.instruments]


def _same_notes(a, b):
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] == y[1] and abs(x[2] - y[2]) < TOL and abs(x[3] - y[3]) < TOL for x, y in zip(a, b))


def compare_with_pretty_midi(path):
    score = partita.read_midi(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(path))
    # pretty_midi drops notes still open at the end of their track; we close
    # them there. Take those (found by the mido decoding) out of our list.
    hanging = collections.Counter(mido_notes(path, hanging_only=True))
    ours = []
    for program, drum, notes in _our_instruments(score):
        kept = []
        for n in notes:
            key = (n[0], n[1], round(n[2], 9), round(n[3], 9))
            if hanging[key] > 0:
                hanging[key] -= 1
            else:
                kept.append(n)
        if kept:
            ours.append((program, drum, kept))
    ref = _pm_instruments(pm)
    assert score.ticks_per_quarter == pm.resolution
    assert [(p, d, len(n)) for p, d, n in ours] == [(p, d, len(n)) for p, d, n in ref], path
    for (p, d, a), (_, _, b) in zip(ours, ref):
        assert _same_notes(a, b), f"{path}: program {p} notes differ"
    return sum(len(n) for _, _, n in ours)


def mido_notes(path, hanging_only=False):
    """Independent decoding: absolute ticks per track, tempo map merged from all
    tracks, note-on velocity 0 = note-off, one note-off closes every open note
    of its (channel, pitch) started at an earlier tick (pretty_midi's rule),
    notes open at the end of a track end there."""
    mf = mido.MidiFile(str(path))
    tempo_events, notes, hanging = [], [], []
    for track in mf.tracks:
        tick, is_open = 0, collections.defaultdict(list)
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_events.append((tick, msg.tempo))
            elif msg.type == "note_on" and msg.velocity > 0:
                is_open[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif msg.type in ("note_on", "note_off"):
                key = (msg.channel, msg.note)
                close = [o for o in is_open[key] if o[0] != tick]
                keep = [o for o in is_open[key] if o[0] == tick]
                notes += [(msg.note, v, s, tick) for s, v in close]
                is_open[key] = keep if close and keep else []
        for (ch, pitch), opened in is_open.items():
            hanging += [(pitch, v, s, tick) for s, v in opened if s < tick]
    tempo_events.sort(key=lambda e: e[0])

    def seconds(t):
        sec, last, us = 0.0, 0, 500000
        for tt, tempo in tempo_events:
            if tt >= t:
                break
            sec += (tt - last) * us / 1e6 / mf.ticks_per_beat
            last, us = tt, tempo
        return sec + (t - last) * us / 1e6 / mf.ticks_per_beat

    if hanging_only:
        return [(p, v, round(seconds(s), 9), round(seconds(e), 9)) for p, v, s, e in hanging]
    return sorted((p, v, seconds(s), seconds(e)) for p, v, s, e in notes + hanging)


def compare_with_mido(path):
    score = partita.read_midi(path)
    ours = sorted((n.pitch, n.velocity, score.seconds(n.start), score.seconds(n.end))
                  for t in score.tracks for n in t.notes)
    assert _same_notes(ours, mido_notes(path)), path


def round_trip(path, tmp_path):
    s = partita.read_midi(path)
    out = tmp_path / "rt.mid"
    partita.write_midi(s, out)
    r = partita.read_midi(out)
    assert r.ticks_per_quarter == s.ticks_per_quarter
    assert [(t.name, t.program, t.is_drum, t.notes) for t in r.tracks] == \
        [(t.name, t.program, t.is_drum, t.notes) for t in s.tracks], path
    assert [(c.tick, c.microseconds_per_quarter) for c in r.tempos] == \
        [(c.tick, c.microseconds_per_quarter) for c in s.tempos]
    assert [(x.tick, x.numerator, x.denominator) for x in r.time_signatures] == \
        [(x.tick, x.numerator, x.denominator) for x in s.time_signatures]
    assert [(x.tick, x.sharps, x.minor) for x in r.key_signatures] == \
        [(x.tick, x.sharps, x.minor) for x in s.key_signatures]
    for a, b in zip(r.tracks, s.tracks):
        assert [(c.tick, c.number, c.value) for c in a.controls] == [(c.tick, c.number, c.value) for c in b.controls]
        assert [(c.tick, c.value) for c in a.pitch_bends] == [(c.tick, c.value) for c in b.pitch_bends]
    # mido reads what we wrote, and decodes the same notes.
    compare_with_mido(out)


def test_melodies_match_pretty_midi_and_mido(melody_paths, tmp_path):
    for path in melody_paths:
        assert compare_with_pretty_midi(path) > 20
        compare_with_mido(path)
        round_trip(path, tmp_path)


def test_corpus_matches_pretty_midi(midi_corpus):
    total = sum(compare_with_pretty_midi(p) for p in midi_corpus)
    assert total > 10000


def test_corpus_matches_mido(midi_corpus):
    for path in midi_corpus:
        compare_with_mido(path)


def test_corpus_round_trip_and_mido_reads_our_files(midi_corpus, tmp_path):
    for path in midi_corpus:
        round_trip(path, tmp_path)


def test_pretty_midi_reads_our_files(melody_paths, midi_corpus, tmp_path):
    for path in list(melody_paths) + list(midi_corpus)[::5]:
        out = tmp_path / "pm.mid"
        partita.write_midi(partita.read_midi(path), out)
        compare_with_pretty_midi(out)
