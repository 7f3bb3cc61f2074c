"""PianoRoll bindings: zero-copy numpy views, construction from numpy, errors,
Score <-> roll conversions, and agreement with pretty_midi's get_piano_roll.

pretty_midi's conventions, which the comparisons allow for:
* get_piano_roll(fs) fills columns int(start * fs) .. int(end * fs) - 1: it
  truncates, where partita rounds to the nearest step (halves up). With times in
  float seconds, a boundary exactly on a column (k / fs) can come out as
  k - 1e-12 and truncate to k - 1. So cells may differ only next to a note
  boundary: within the columns between floor and round of start*fs or end*fs.
* Overlapping notes of one pitch add their velocities there; partita keeps the
  larger one (the sample melodies have no such overlaps, so values agree).
* Drum tracks give empty rolls in both (partita merges drums only on request).
* Roll length: int(fs * end_time) columns there, the last quantized note end here.
"""
import glob
import math
import os

import numpy as np
import pytest

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MELODIES = sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid")))
needs_score = pytest.mark.skipif(not hasattr(partita, "Score"), reason="no Score bindings")


def make_score(notes, qpm=100.0, ts=(4, 4), program=0):
    track = partita.Track(name="melody", program=program,
                          notes=[partita.Note(pitch=p, velocity=v, start=s, end=e)
                                 for p, v, s, e in notes])
    return partita.Score(ticks_per_quarter=480, tempos=[partita.TempoChange(0, qpm)],
                         time_signatures=[partita.TimeSignature(0, *ts)], tracks=[track])


def test_array_is_a_view_of_the_roll_and_numpy_input_is_adopted():
    a = np.zeros((16, 128), np.uint8)
    roll = partita.PianoRoll(a, resolution=4)
    assert np.shares_memory(a, roll.array)
    assert roll.array.flags.c_contiguous and roll.array.shape == (16, 128)
    a[3, 60] = 90                      # numpy -> roll
    assert roll.array[3, 60] == 90
    roll.array[5, 62] = 80             # roll -> numpy
    assert a[5, 62] == 80
    assert np.shares_memory(np.asarray(roll), a)
    view = roll.array
    del roll, a                        # the view keeps the memory alive
    assert view[3, 60] == 90 and view.sum() == 170


def test_bool_arrays_are_binary_rolls_without_copy():
    a = np.zeros((8, 128), bool)
    roll = partita.PianoRoll(a)
    assert roll.binary and roll.array.dtype == np.bool_
    assert np.shares_memory(a, roll.array)
    a[0:4, 60] = True
    assert roll.active_cells() == 4


def test_layouts_that_need_a_copy_are_copied():
    fortran = np.asfortranarray(np.zeros((8, 128), np.uint8))
    assert not np.shares_memory(fortran, partita.PianoRoll(fortran).array)
    wide = np.zeros((8, 128), np.int64)
    wide[1, 2] = 127
    roll = partita.PianoRoll(wide)
    assert roll.array.dtype == np.uint8 and roll.array[1, 2] == 127
    readonly = np.zeros((8, 128), np.uint8)
    readonly.flags.writeable = False
    assert not np.shares_memory(readonly, partita.PianoRoll(readonly).array)


def test_wrong_shapes_and_dtypes_raise_typed_errors():
    with pytest.raises(partita.ShapeError, match=r"\(time, 128\).*\(8, 12\)"):
        partita.PianoRoll(np.zeros((8, 12), np.uint8))
    with pytest.raises(partita.ShapeError):
        partita.PianoRoll(np.zeros((2, 8, 128), np.uint8))
    with pytest.raises(partita.InvalidArgument, match="float64"):
        partita.PianoRoll(np.zeros((8, 128)))
    with pytest.raises(partita.InvalidArgument, match="0..255"):
        partita.PianoRoll(np.full((8, 128), 300, np.int32))
    with pytest.raises(partita.InvalidArgument):
        partita.PianoRoll(np.zeros((8, 128), np.uint8), resolution=0)
    with pytest.raises(partita.ShapeError, match="onsets"):
        partita.PianoRoll(np.zeros((8, 128), np.uint8), onsets=np.zeros((4, 128), np.uint8))
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError
        partita.PianoRoll(np.zeros((8, 128), np.uint8), time_signature=(3, 5))
    with pytest.raises(partita.ShapeError, match="programs"):
        partita.MultiTrackRoll(np.zeros((2, 8, 128), np.uint8), programs=[1])


def test_multitrack_tracks_are_views():
    cells = np.zeros((3, 8, 128), np.uint8)
    multi = partita.MultiTrackRoll(cells, resolution=2, programs=[0, 33, 0],
                                   is_drums=[False, False, True], names=["a", "b", "c"])
    assert np.shares_memory(cells, multi.array)
    bass = multi[1]
    assert (bass.program, bass.name, bass.resolution) == (33, "b", 2)
    assert multi[-1].is_drum
    bass.array[0, 40] = 7
    assert cells[1, 0, 40] == 7
    del multi, cells
    assert bass.array[0, 40] == 7
    with pytest.raises(IndexError):
        partita.MultiTrackRoll(np.zeros((1, 4, 128), np.uint8))[1]


@needs_score
def test_score_round_trip_and_edits_through_the_array():
    s = make_score([(60, 100, 0, 480), (64, 80, 480, 960), (67, 64, 480, 1920)], qpm=90,
                   ts=(3, 4), program=41)
    roll = s.to_pianoroll(resolution=4)
    assert roll.array.shape == (16, 128)
    assert (roll.tempo, roll.time_signature, roll.program) == (90.0, (3, 4), 41)
    assert roll.array[0, 60] == 100 and roll.array[4, 60] == 0 and roll.array[15, 67] == 64
    back = partita.Score.from_pianoroll(roll)
    assert back.tracks[0].notes == s.tracks[0].notes
    assert back.tempos[0].qpm == 90.0 and back.tracks[0].program == 41
    ts = back.time_signatures[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    roll.array[8:12, 72] = 50  # editing the numpy view edits the roll
    notes = roll.to_score().tracks[0].notes
    assert partita.Note(pitch=72, velocity=50, start=960, end=1440) in notes


@needs_score
def test_onsets_keep_repeated_notes_apart():
    repeated = make_score([(60, 100, 0, 480), (60, 100, 480, 960)])
    held = make_score([(60, 100, 0, 960)])
    assert np.array_equal(repeated.to_pianoroll().array, held.to_pianoroll().array)
    r = repeated.to_pianoroll(onsets=True)
    assert r.onsets is not None and r.onsets[4, 60] == 1
    assert np.shares_memory(r.onsets, r.onsets)
    assert len(partita.Score.from_pianoroll(r).tracks[0].notes) == 2
    assert len(partita.Score.from_pianoroll(held.to_pianoroll(onsets=True)).tracks[0].notes) == 1
    # Bare arrays: onsets= and resolution= on from_pianoroll.
    cells = r.array.copy()
    s = partita.Score.from_pianoroll(cells, resolution=4, onsets=r.onsets.copy(), tempo=72)
    assert s.tracks[0].notes == repeated.tracks[0].notes and s.tempos[0].qpm == 72


@needs_score
def test_length_bars_binarize_and_track_selection():
    s = make_score([(60, 30, 0, 480), (62, 90, 1440, 2400)])
    assert s.to_pianoroll().array.shape[0] == 20
    assert s.to_pianoroll(length=32).array.shape[0] == 32
    cut = s.to_pianoroll(length=14)
    assert cut.array.shape[0] == 14 and cut.array[13, 62] == 90
    assert s.to_pianoroll(whole_bars=True).array.shape[0] == 32
    assert s.to_pianoroll(bars=1).array.shape[0] == 16
    b = s.to_pianoroll(binarize=True)
    assert b.binary and b.array.dtype == np.bool_ and b.array[0, 60]
    assert all(n.velocity == 100 for n in partita.Score.from_pianoroll(b).tracks[0].notes)
    assert all(n.velocity == 64 for n in
               partita.Score.from_pianoroll(b, velocity=64).tracks[0].notes)
    with pytest.raises(partita.InvalidArgument, match="track"):
        s.to_pianoroll(track=5)
    with pytest.raises(partita.InvalidArgument, match="not both"):
        s.to_pianoroll(length=16, bars=1)
    multi = s.to_multitrack()
    assert multi.array.shape == (1, 20, 128) and multi.names == ("melody",)
    assert partita.to_pianoroll(s).array.shape == (20, 128)


def _pretty_midi_roll(pm, fs):
    """pretty_midi's merged roll as (time, 128)."""
    return pm.get_piano_roll(fs=fs).T


def _near_boundary(pm, fs, shape):
    """Cells where truncation (pretty_midi) and rounding (partita) may disagree."""
    mask = np.zeros(shape, bool)
    for inst in pm.instruments:
        for n in inst.notes:
            for x in (n.start * fs, n.end * fs):
                # pretty_midi: int(x), possibly of k - 1e-12 for k; partita: round(x).
                a, b = math.floor(x - 1e-6), math.floor(x + 0.5)
                mask[min(a, b):max(a, b), n.pitch] = True
    return mask


@needs_score
@pytest.mark.parametrize("path", MELODIES, ids=os.path.basename)
@pytest.mark.parametrize("resolution", [4, 12, 480])
def test_matches_pretty_midi_get_piano_roll(path, resolution):
    pretty_midi = pytest.importorskip("pretty_midi")
    pm = pretty_midi.PrettyMIDI(path)
    score = partita.read_midi(path)
    qpm = score.tempos[0].qpm
    fs = resolution * qpm / 60.0  # columns per second = steps per quarter * quarters per second
    ours = score.to_pianoroll(resolution=resolution).array
    ref = _pretty_midi_roll(pm, fs)
    assert abs(len(ours) - len(ref)) <= 1
    n = min(len(ours), len(ref))
    ours, ref = ours[:n].astype(np.int64), ref[:n]
    differ = (ours > 0) != (ref > 0)
    assert not (differ & ~_near_boundary(pm, fs, ours.shape)).any()
    both = (ours > 0) & (ref > 0)
    assert np.array_equal(ours[both], ref[both])  # velocities (no same-pitch overlaps here)
    assert both.sum() > 0.9 * (ref > 0).sum()
    if resolution == 480:
        # One step per tick: only float truncation can differ, at most one
        # column at a note end.
        assert differ.sum() <= sum(len(i.notes) for i in pm.instruments)


@needs_score
def test_melodies_round_trip_through_rolls_with_onsets():
    for path in MELODIES:
        score = partita.read_midi(path)
        roll = score.to_pianoroll(resolution=480, onsets=True)  # one step per tick
        back = partita.Score.from_pianoroll(roll)
        again = back.to_pianoroll(resolution=480, onsets=True)
        assert np.array_equal(again.array, roll.array)
        assert np.array_equal(again.onsets, roll.onsets)


@needs_score
def test_multitrack_from_score_and_from_bare_3d_arrays():
    s = make_score([(72, 100, 0, 960)], program=40)
    bass = partita.Track(name="bass", program=33, notes=[partita.Note(36, 80, 0, 1920)])
    kit = partita.Track(name="kit", is_drum=True, notes=[partita.Note(36, 110, 480, 600)])
    s.tracks = s.tracks + [bass, kit]
    multi = s.to_multitrack(onsets=True)
    assert multi.array.shape == (3, 16, 128)
    assert multi.programs == (40, 33, 0) and multi.is_drums == (False, False, True)
    assert multi.onsets[2, 4, 36] == 1
    back = partita.Score.from_pianoroll(multi)
    assert [t.notes for t in back.tracks] == [t.notes for t in s.tracks]
    assert [t.name for t in back.tracks] == ["melody", "bass", "kit"]
    merged = multi.merged()
    assert merged.array[4, 36] == 80  # the drum hit on 36 is left out, the bass note stays
    bare = partita.Score.from_pianoroll(multi.array.copy(), resolution=4, tempo=60)
    assert len(bare.tracks) == 3 and bare.tempos[0].qpm == 60
    assert bare.tracks[1].notes == s.tracks[1].notes


def test_multitrack_tracks_write_through_or_fail_loudly():
    cells = np.zeros((2, 8, 128), np.uint8)
    multi = partita.MultiTrackRoll(cells, programs=[0, 33], names=["a", "b"])
    track = multi[1]
    track.program = 40  # per-track metadata reaches the MultiTrackRoll
    multi.tracks[0].name = "lead"
    multi[0].is_drum = True
    assert multi.programs == (0, 40) and multi.names == ("lead", "b") and multi.is_drums == (True, False)
    track.array[0, 60] = 100  # cells are shared
    assert multi.array[1, 0, 60] == 100
    assert multi.to_score().tracks[1].program == 40
    for field, value in (("tempo", 90.0), ("resolution", 8), ("time_signature", (3, 4))):
        with pytest.raises(partita.InvalidArgument, match="track 1 of a MultiTrackRoll"):
            setattr(track, field, value)
    free = track.copy()
    free.tempo = 90.0  # a copy is free-standing
    free.program = 1
    assert free.tempo == 90.0 and multi.programs == (0, 40)
    with pytest.raises(TypeError):
        multi.programs[0] = 5  # a tuple: item assignment fails loudly
    multi.programs = [1, 2]
    multi.names = ("x", "y")
    assert multi.programs == (1, 2) and multi.names == ("x", "y")
    with pytest.raises(partita.ShapeError):
        multi.programs = [1]
    with pytest.raises(partita.InvalidArgument):
        multi.programs = [1, 200]
    # a PianoRoll that was never a track is unaffected by links of dead track objects
    del track, free
    import gc
    gc.collect()
    solo = partita.PianoRoll(np.zeros((4, 128), np.uint8))
    solo.tempo = 100.0
    assert solo.tempo == 100.0
