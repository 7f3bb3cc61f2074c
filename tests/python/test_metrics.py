"""Music metrics from Python: hand-made rolls with known values, numpy arrays
and PianoRoll / MultiTrackRoll objects alike, typed errors for bad input, an
independent numpy tonal-distance check, and agreement with muspy's metrics on
real files (skipped when muspy is not installed).

muspy is fed the notes partita reads off the roll (from_pianoroll at one tick per
step), so the comparison is of the metrics, not of two quantizers. Known
difference: muspy's empty-beat rate counts end // resolution + 1 beats and marks
the beat where a note ends as sounding, so partita's rate (on a roll one step
longer, to get the same beat count) is never below muspy's.
"""
import glob
import math
import os

import numpy as np
import pytest

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REAL_FILES = sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid"))) + [
    os.path.join(ROOT, "tests", "data", "midi", "seed", n)
    for n in ("format1_three_tracks.mid", "overlapping_notes.mid", "multi_channel_program.mid",
              "all_events_format0.mid")
]


def c_major_scale():
    """C4..C5 a quarter each at resolution 4 (two bars), then an empty bar."""
    r = np.zeros((48, 128), bool)
    for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72]):
        r[4 * i:4 * i + 4, p] = True
    return r


def test_c_major_scale_values():
    r = c_major_scale()
    assert partita.empty_bar_rate(r) == pytest.approx(1 / 3)
    assert partita.used_pitch_classes(r) == 4.0
    assert partita.qualified_note_rate(r) == 1.0
    assert partita.qualified_note_rate(r, min_steps=5) == 0.0
    s = partita.in_scale_rate(r)
    assert (s.rate, s.root) == (1.0, 0)
    assert partita.in_scale_rate(r, root=7).rate == pytest.approx(28 / 32)  # F is out of G major
    assert partita.pitch_class_entropy(r) == pytest.approx(2.75)
    assert partita.scale_consistency(r) == 1.0
    assert partita.polyphony(r) == 1.0
    assert partita.polyphony_rate(r) == 0.0
    assert partita.pitch_range(r) == 12
    assert partita.empty_beat_rate(r) == pytest.approx(4 / 12)
    assert partita.groove_consistency(r) == pytest.approx(1 - 4 / 32)
    m = partita.roll_metrics(r)
    assert m.pitch_class_entropy == pytest.approx(2.75) and m["pitch_range"] == 12
    assert "RollMetrics(empty_bar_rate=0.3333" in repr(m)


def test_chord_and_fragments():
    orig = np.zeros((8, 128), np.uint8)
    orig[0:4, [60, 64, 67]] = 100
    edited = orig.copy()
    edited[5, 61] = 100  # added one-step note
    edited[6:8, 72] = 100  # added two-step note
    assert partita.polyphony(edited) == pytest.approx(15 / 7)  # 12 + 1 + 2 cells over 7 steps
    assert partita.polyphony_rate(edited) == pytest.approx(4 / 8)
    f = partita.fragment_stats(edited, original=orig)
    assert (f.notes, f.one_step, f.added, f.added_one_step) == (5, 1, 2, 1)
    assert f.share == pytest.approx(0.2) and f.added_share == pytest.approx(0.5)
    assert "added_share=0.5" in repr(f)
    assert math.isnan(partita.fragment_stats(orig).added_share)


def test_onsets_split_notes():
    cells = np.zeros((6, 128), np.uint8)
    cells[:, 60] = 1
    onsets = np.zeros_like(cells)
    onsets[[0, 3], 60] = 1
    roll = partita.PianoRoll(cells, onsets=onsets)
    assert partita.roll_notes(roll) == [(60, 0, 3), (60, 3, 3)]
    assert partita.roll_notes(cells) == [(60, 0, 6)]


def tonal_centroid_np(chroma):
    l = np.arange(12)
    phi = np.stack([f(l * a) * r for r, a in ((1, 7 * np.pi / 6), (1, 3 * np.pi / 2), (0.5, 2 * np.pi / 3))
                    for f in (np.sin, np.cos)])
    return phi @ (chroma / chroma.sum())


def test_tonal_distance_fifth_and_triads():
    a = np.zeros((8, 128), bool)
    b = np.zeros((8, 128), bool)
    a[:, 60] = True  # C
    b[:, 67] = True  # G, a fifth above
    ca, cb = np.eye(12)[0], np.eye(12)[7]
    want = np.linalg.norm(tonal_centroid_np(ca) - tonal_centroid_np(cb))
    assert partita.tonal_distance(a, b) == pytest.approx(want, abs=1e-12)
    # C major against A minor triads, beat by beat, one beat of each silent in b.
    a[:] = False
    b[:] = False
    a[:, [60, 64, 67]] = True
    b[:4, [57, 60, 64]] = True
    ca = np.zeros(12); ca[[0, 4, 7]] = 4
    cb = np.zeros(12); cb[[9, 0, 4]] = 4
    want = np.linalg.norm(tonal_centroid_np(ca) - tonal_centroid_np(cb))
    assert partita.tonal_distance(a, b) == pytest.approx(want, abs=1e-12)
    multi = partita.MultiTrackRoll(np.stack([a, b, a]))
    d = partita.tonal_distance(multi)
    assert set(d) == {(0, 1), (0, 2), (1, 2)}
    assert d[(0, 2)] == pytest.approx(0.0, abs=1e-12) and d[(1, 2)] == pytest.approx(want)
    with pytest.raises(partita.ShapeError):
        partita.tonal_distance(a, a[:5])
    with pytest.raises(ValueError):
        partita.tonal_distance(a)


def test_multitrack_per_track_and_merged():
    x = np.zeros((2, 32, 128), np.uint8)
    x[0, :16, 60] = 90
    x[1, :, 36] = 90
    multi = partita.MultiTrackRoll(x, is_drums=[False, True])
    assert partita.empty_bar_rate(multi) == [0.5, 0.0]
    assert partita.empty_bar_rate(x) == [0.5, 0.0]
    # single-roll metrics see the merged roll without the drum track
    assert partita.pitch_range(multi) == 0 and partita.polyphony(multi) == 1.0
    assert partita.pitch_range(x) == 24  # a bare array has no drum flags
    assert partita.polyphony(multi.tracks[0]) == 1.0


def test_resolution_and_bar_rules():
    r = np.zeros((13, 128), bool)
    r[12, 60] = True
    # 3/4 at resolution 2: 6 steps a bar, 3 bars (the last partial)
    assert partita.empty_bar_rate(r, resolution=2, time_signature=(3, 4)) == pytest.approx(2 / 3)
    assert partita.empty_bar_rate(r, bar_steps=13) == 0.0
    assert partita.empty_beat_rate(r, resolution=2) == pytest.approx(6 / 7)
    roll = partita.PianoRoll(r, resolution=2, time_signature=(3, 4))
    assert partita.empty_bar_rate(roll) == pytest.approx(2 / 3)
    assert partita.empty_bar_rate(roll, resolution=4) == pytest.approx(1 / 2)  # 12-step bars


def test_empty_and_one_step_rolls():
    empty = np.zeros((0, 128), bool)
    for f in (partita.empty_bar_rate, partita.used_pitch_classes, partita.qualified_note_rate,
              partita.pitch_class_entropy, partita.scale_consistency, partita.polyphony,
              partita.polyphony_rate, partita.empty_beat_rate, partita.groove_consistency):
        assert math.isnan(f(empty)), f.__name__
    assert partita.pitch_range(empty) == 0
    one = np.zeros((1, 128), bool)
    one[0, 69] = True
    assert partita.fragment_stats(one).share == 1.0
    assert partita.empty_bar_rate(one) == 0.0
    assert math.isnan(partita.groove_consistency(one))


def test_bad_input_raises_typed_errors():
    with pytest.raises(partita.ShapeError):
        partita.polyphony(np.zeros(128))
    with pytest.raises(partita.ShapeError):
        partita.polyphony(np.zeros((4, 64), bool))
    with pytest.raises(partita.ShapeError):
        partita.polyphony(np.zeros((1, 2, 3, 128), bool))
    with pytest.raises(partita.InvalidArgument):
        partita.polyphony(np.zeros((4, 128), np.float32))
    with pytest.raises(partita.InvalidArgument):
        partita.empty_bar_rate(np.zeros((4, 128), bool), bar_steps=0)
    with pytest.raises(partita.InvalidArgument):
        partita.in_scale_rate(np.zeros((4, 128), bool), root=12)
    with pytest.raises(partita.InvalidArgument):
        partita.groove_consistency(np.zeros((4, 128), bool), resolution=1, time_signature=(7, 8))
    with pytest.raises(partita.InvalidArgument):
        partita.qualified_note_rate(np.zeros((4, 128), bool), min_steps=0)


def muspy_music(roll, muspy):
    """A muspy.Music of the roll's notes at one tick per step."""
    score = partita.from_pianoroll(roll, ticks_per_quarter=roll.resolution)
    notes = [muspy.Note(time=n.start, pitch=n.pitch, duration=n.end - n.start, velocity=64)
             for t in score.tracks for n in t.notes]
    return muspy.Music(resolution=roll.resolution, tracks=[muspy.Track(notes=notes)])


@pytest.mark.parametrize("path", REAL_FILES, ids=os.path.basename)
@pytest.mark.parametrize("resolution", [4, 12])
def test_agrees_with_muspy(path, resolution):
    muspy = pytest.importorskip("muspy")
    score = partita.read_midi(path)
    roll = partita.to_pianoroll(score, resolution=resolution, binarize=True, onsets=True)
    if roll.active_cells() == 0:
        pytest.skip("no pitched notes")
    music = muspy_music(roll, muspy)
    assert len(partita.roll_notes(roll)) == sum(len(t.notes) for t in music.tracks)
    close = dict(rel=1e-12, abs=1e-12)
    assert partita.pitch_class_entropy(roll) == pytest.approx(muspy.pitch_class_entropy(music), **close)
    assert partita.scale_consistency(roll) == pytest.approx(muspy.scale_consistency(music), **close)
    assert partita.polyphony(roll) == pytest.approx(muspy.polyphony(music), **close)
    assert partita.polyphony_rate(roll) == pytest.approx(muspy.polyphony_rate(music), **close)
    assert partita.pitch_range(roll) == muspy.pitch_range(music)
    # muspy counts end // bar + 1 bars: a roll one (silent) step longer has as many.
    longer = roll.with_length(roll.steps + 1)
    bar = roll.bar_steps
    g = muspy.groove_consistency(music, bar)
    mine = partita.groove_consistency(longer)
    assert (math.isnan(g) and math.isnan(mine)) or mine == pytest.approx(g, **close)
    assert partita.empty_beat_rate(longer) >= muspy.empty_beat_rate(music) - 1e-12
