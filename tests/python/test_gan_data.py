"""The GAN's multitrack data from Python: JSB SATB rolls, 2-bar windows as numpy
arrays (shapes, dtypes, shared memory), the model's {-1, +1} layout, transposition
that keeps every voice in range, the folder loader, and typed errors."""
import numpy as np
import pytest

import partita


def test_jsb_multitrack_splits_and_voices():
    j = partita.load_jsb_multitrack()
    assert (len(j.train), len(j.valid), len(j.test)) == (229, 76, 77)
    r = j.train[0]
    assert isinstance(r, partita.MultiTrackRoll)
    a = r.array
    assert a.shape[0] == 4 and a.shape[2] == 128
    assert r.names == ("soprano", "alto", "tenor", "bass")
    assert r.onsets is not None and r.binary and r.resolution == 4
    means = [np.nonzero(a[k])[1].mean() for k in range(4)]
    assert means == sorted(means, reverse=True)  # soprano highest, bass lowest


def test_windows_shapes_view_and_model_layout():
    w = partita.jsb_multitrack_windows("valid")
    assert isinstance(w, partita.MultiTrackWindows)
    a = w.array
    assert a.shape == (len(w), 4, 32, 128) and a.dtype == np.uint8
    assert not a.flags.writeable and not a.flags.owndata  # a view of the windows' memory
    assert set(np.unique(a)) <= {0, 1}
    assert a[:, 0].reshape(len(w), -1).any(axis=1).all()  # every window has a melody
    m = w.model_layout()
    assert m.shape == (len(w), 32, 128, 4) and m.dtype == np.float32
    assert set(np.unique(m)) == {-1.0, 1.0}
    np.testing.assert_array_equal(m, np.where(a.transpose(0, 2, 3, 1) > 0, 1.0, -1.0))
    np.testing.assert_array_equal(partita.to_model_layout(a), m)


def test_make_windows_counts_hand_made_roll():
    cells = np.zeros((4, 80, 128), np.uint8)
    cells[0, 0:32, 60] = 1
    cells[0, 64:80, 62] = 1
    cells[3, :, 40] = 1
    w = partita.make_multitrack_windows([cells])
    assert len(w) == 3  # [32, 64) has no melody
    assert len(partita.make_multitrack_windows([cells], hop=32)) == 1


def test_transposition_keeps_range_and_is_seeded():
    cells = np.zeros((4, 32, 128), np.uint8)
    cells[0, :8, 79] = 1
    cells[3, :8, 40] = 1
    assert partita.allowed_transpositions(cells, 6) == [-4, -3, -2, -1, 0, 1, 2]
    up = partita.transpose_window(cells, 2)
    assert up.array[0, 0, 81] == 1 and up.array[3, 0, 42] == 1
    with pytest.raises(partita.InvalidArgument, match="transpose_window"):
        partita.transpose_window(cells, 3)
    s1, s2 = partita.TranspositionSampler(seed=5), partita.TranspositionSampler(seed=5)
    shifts = [s1(cells)[1] for _ in range(200)]
    assert shifts == [s2(cells)[1] for _ in range(200)]
    assert set(shifts) == {-4, -3, -2, -1, 0, 1, 2}


def test_errors_are_typed(tmp_path):
    with pytest.raises(partita.ShapeError):
        partita.to_model_layout(np.zeros((2, 4, 32), np.uint8))
    with pytest.raises(partita.InvalidArgument):
        partita.jsb_multitrack_windows("nope")
    with pytest.raises(partita.IoError):
        partita.load_jsb_multitrack(tmp_path / "missing.json")
    with pytest.raises(partita.IoError):
        partita.load_multitrack_folder(tmp_path / "none")
    (tmp_path / "bad.mid").write_bytes(b"MThd garbage")
    with pytest.raises(partita.InvalidArgument, match="no usable MIDI file"):
        partita.load_multitrack_folder(tmp_path)


def test_folder_loader_melody_first(tmp_path):
    s = partita.Score()
    for name, pitch in [("bass", 40), ("lead", 72), ("pad", 60), ("alto", 65)]:
        t = partita.Track()
        t.name = name
        for i in range(8):
            t.notes.append(partita.Note(pitch=pitch, velocity=100, start=i * 480, end=i * 480 + 480))
        s.tracks.append(t)
    partita.write_midi(s, tmp_path / "a.mid")
    (tmp_path / "b.mid").write_bytes(b"junk")
    f = partita.load_multitrack_folder(tmp_path, melody_track="lead")
    assert len(f.rolls) == 1 and len(f.skipped) == 1 and f.skipped[0].startswith(str(tmp_path / "b.mid") + ": ")
    r = f.rolls[0]
    assert r.names == ("lead", "bass", "pad", "alto")
    a = r.array
    assert a[0, 0, 72] == 1 and a[1, 0, 40] == 1
