"""Performance events (partita.encode_performance / decode_performance).

Round trips on the five sample melodies and on files of tests/data/midi keep
every in-range note within 10 ms and in its velocity bin; the token layout is
the AWS DeepComposer Transformer-XL vocabulary; bad tokens raise ValueError
naming their position; and, where the note-seq package imports, partita's
tokens equal note_seq's performance encoding mapped to the DeepComposer names.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

import partita

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "midi" / "seed"
SEED_FILES = ["format1_three_tracks.mid", "overlapping_notes.mid", "open_notes_at_end.mid",
              "all_events_format0.mid", "multi_channel_program.mid", "smpte_25fps.mid"]
STEP = 0.01
TOL = STEP + 1e-6


def source_notes(score: partita.Score, opt: partita.EventOptions):
    """(pitch, start s, end s, velocity) of the non-drum in-range notes, by onset."""
    out = []
    for t in score.tracks:
        if t.is_drum:
            continue
        for n in t.notes:
            if opt.min_pitch <= n.pitch <= opt.max_pitch:
                out.append((n.pitch, score.tick_to_seconds(n.start), score.tick_to_seconds(n.end), n.velocity))
    return sorted(out)


def check_round_trip(score: partita.Score):
    opt = partita.EventOptions(sustain=False)
    tokens, stats = partita.encode_performance_stats(score, -1, opt)
    assert tokens.dtype == np.int32 and tokens.ndim == 1
    assert ((tokens >= 2) & (tokens < opt.vocab_size)).all()
    back = partita.decode_performance(tokens, opt)
    got = [(n.pitch, back.tick_to_seconds(n.start), back.tick_to_seconds(n.end), n.velocity)
           for n in back.tracks[0].notes]
    src = source_notes(score, opt)
    assert stats.notes_encoded == len(got) == len(src) - stats.merged_duplicates
    by_pitch: dict[int, list] = {}
    for g in got:
        by_pitch.setdefault(g[0], []).append(g)
    for pitch, start, end, vel in src:
        cands = [g for g in by_pitch.get(pitch, []) if abs(g[1] - start) <= TOL]
        assert cands, f"pitch {pitch} at {start:.3f}s lost"
        g = cands[0]
        assert opt.velocity_bin(g[3]) == opt.velocity_bin(vel)
        # The end is kept unless a later onset of the pitch cut the note short or
        # the note rounded to zero length (then it has one step).
        later = [s for p, s, _, _ in src if p == pitch and start < s < end + TOL]
        if not later and end - start >= STEP / 2:
            assert abs(g[2] - end) <= TOL, f"pitch {pitch} at {start:.3f}s: end {g[2]:.4f} vs {end:.4f}"
    return stats


def test_vocabulary_layout():
    o = partita.EventOptions()
    assert o.vocab_size == 310
    assert [o.time_shift_token(1), o.time_shift_token(100)] == [2, 101]
    assert [o.note_on_token(21), o.note_off_token(21), o.note_on_token(108), o.note_off_token(108)] == [102, 103, 276, 277]
    assert [o.velocity_token(1), o.velocity_token(32)] == [278, 309]
    assert [o.velocity_bin(v) for v in (1, 4, 5, 64, 127)] == [1, 1, 2, 16, 32]
    assert "sustain=True" in repr(o)
    with pytest.raises(ValueError, match="velocity_bins"):
        partita.EventOptions(velocity_bins=0)


def test_round_trip_melodies(melody_paths):
    for p in melody_paths:
        stats = check_round_trip(partita.read_midi(p))
        assert stats.notes_encoded > 10, p.name


@pytest.mark.parametrize("name", SEED_FILES)
def test_round_trip_midi_files(name):
    check_round_trip(partita.read_midi(SEED / name))


@pytest.mark.parametrize("seed", range(3))
def test_round_trip_random_chords(seed):
    stats = check_round_trip(pedal_score(seed))
    assert stats.notes_encoded == 120


def test_decode_skips_markers_and_rejects_bad_tokens():
    o = partita.EventOptions()
    toks = [0, o.velocity_token(25), o.note_on_token(60), 1, o.time_shift_token(50), o.note_off_token(60)]
    s = partita.decode_performance(np.array(toks), o, 480, 120.0)
    (n,) = s.tracks[0].notes
    assert (n.pitch, n.start, n.end, n.velocity) == (60, 0, 480, 97)
    assert len(partita.decode_performance(toks).tracks[0].notes) == 1  # a list works too
    with pytest.raises(ValueError, match="position 3"):
        partita.decode_performance([0, 2, 3, 310])
    with pytest.raises(ValueError, match="integers"):
        partita.decode_performance(np.array([2.0, 3.0]))


def test_out_of_range_notes_are_counted():
    s = partita.read_midi(SEED / "format1_three_tracks.mid")
    t = s.tracks[0]
    t.notes.append(partita.Note(pitch=10, velocity=80, start=0, end=100))
    _, stats = partita.encode_performance_stats(s, 0)
    assert stats.dropped_out_of_range == 1


# --- note_seq's performance encoding (the reference) ------------------------

def note_seq_tokens(path: pathlib.Path) -> list[int]:
    note_seq = pytest.importorskip("note_seq")
    from note_seq import performance_lib, sequences_lib

    ns = note_seq.midi_file_to_note_sequence(str(path))
    keep = [n for n in ns.notes if not n.is_drum]  # partita's track=-1: non-drum tracks
    del ns.notes[:]
    ns.notes.extend(keep)
    ns = sequences_lib.apply_sustain_control_changes(ns)
    q = sequences_lib.quantize_note_sequence_absolute(ns, 100)
    perf = performance_lib.Performance(q, num_velocity_bins=32, max_shift_steps=100)
    E = performance_lib.PerformanceEvent
    o = partita.EventOptions()
    out = []
    for e in perf:
        if e.event_type == E.TIME_SHIFT:
            out.append(o.time_shift_token(e.event_value))
        elif e.event_type == E.NOTE_ON:
            out.append(o.note_on_token(e.event_value))
        elif e.event_type == E.NOTE_OFF:
            out.append(o.note_off_token(e.event_value))
        elif e.event_type == E.VELOCITY:
            out.append(o.velocity_token(e.event_value))
    return out


# Files note_seq reads as partita does: pretty_midi drops notes never closed
# (open_notes_at_end) and cannot read smpte_25fps; overlapping_notes holds
# same-pitch overlaps outside the pedal, which partita ends at the new onset and
# note_seq leaves overlapping.
NOTE_SEQ_FILES = ["format1_three_tracks.mid", "all_events_format0.mid", "multi_channel_program.mid"]


def pedal_score(seed: int) -> partita.Score:
    """Random chords, repeated pitches and a sustain pedal at 1 tick = 1 ms; no
    time falls on half a step and no two notes of a pitch overlap."""
    rng = np.random.default_rng(seed)
    notes: list[partita.Note] = []
    while len(notes) < 120:
        start = int(rng.integers(0, 8000))
        end = start + int(rng.integers(3, 1500))
        if start % 10 == 5 or end % 10 == 5:
            continue
        pitch = int(rng.integers(55, 68))
        if any(n.pitch == pitch and n.start <= end and start <= n.end for n in notes):
            continue
        notes.append(partita.Note(pitch=pitch, velocity=int(rng.integers(1, 128)), start=start, end=end))
    notes.sort(key=lambda n: (n.start, n.pitch))
    cc = []
    t = 0
    while t < 9000:
        t += int(rng.integers(100, 900))
        cc.append(partita.ControlChange(tick=t, number=64, value=int(rng.choice([0, 30, 64, 100, 127]))))
    track = partita.Track(name="piano", notes=notes, controls=cc)
    return partita.Score(ticks_per_quarter=1000, tempos=[partita.TempoChange(tick=0, qpm=60.0)], tracks=[track])


def test_matches_note_seq(melody_paths, tmp_path):
    pytest.importorskip("note_seq")
    paths = [*melody_paths, *(SEED / n for n in NOTE_SEQ_FILES)]
    for seed in range(3):
        paths.append(tmp_path / f"pedal{seed}.mid")
        partita.write_midi(pedal_score(seed), paths[-1])
    for p in paths:
        ours = partita.encode_performance(partita.read_midi(p)).tolist()
        assert ours == note_seq_tokens(p), p.name
    _, stats = partita.encode_performance_stats(partita.read_midi(paths[-1]))
    assert stats.sustained > 0  # the pedal mattered
