"""partita's MIDI Python API: constructors, properties, pickling, errors,
paths, bytes, and read/write/read round trips on the sample melodies."""
import os
import pathlib
import pickle

import numpy as np
import pytest

import partita


def _score():
    return partita.Score(
        ticks_per_quarter=96,
        tempos=[partita.TempoChange(tick=0, qpm=120.0), partita.TempoChange(tick=192, qpm=60.0)],
        time_signatures=[partita.TimeSignature(tick=0, numerator=3, denominator=4)],
        key_signatures=[partita.KeySignature(tick=0, sharps=-1, minor=True)],
        tracks=[
            partita.Track(name="Lead", program=73, notes=[partita.Note(pitch=72, velocity=90, start=0, end=96),
                                                          partita.Note(pitch=74, velocity=80, start=96, end=384)],
                          controls=[partita.ControlChange(tick=0, number=7, value=100)],
                          pitch_bends=[partita.PitchBend(tick=48, value=-4096)]),
            partita.Track(name="Kit", is_drum=True, notes=[partita.Note(pitch=36, start=0, end=24)]),
        ])


def test_constructors_and_properties():
    s = _score()
    assert s.note_count == 3
    assert s.end_tick == 384
    assert s.seconds(192) == pytest.approx(1.0)
    assert s.seconds(384) == pytest.approx(3.0)
    assert s.duration_seconds == pytest.approx(3.0)
    assert s.ticks(3.0) == pytest.approx(384)
    np.testing.assert_allclose(s.seconds(np.array([0, 96, 192, 288])), [0, 0.5, 1.0, 2.0])
    n = s.tracks[0].notes[1]
    assert (n.pitch, n.velocity, n.start, n.end, n.duration) == (74, 80, 96, 384, 288)
    assert "Score(ticks_per_quarter=96, tracks=2, notes=3" in repr(s)
    assert repr(n) == "Note(pitch=74, velocity=80, start=96, end=384)"
    assert "Lead" in repr(s.tracks[0])
    t = partita.Track()
    assert (t.name, t.program, t.is_drum, t.channel, t.notes) == ("", 0, False, -1, [])


def test_whole_list_assignment_still_works():
    # Lists are live views (tests/python/test_live_lists.py); assigning a whole
    # list, the only way to edit in earlier releases, keeps working.
    s = _score()
    t = s.tracks[1]
    t.notes = t.notes + [partita.Note(pitch=38, start=24, end=48)]
    assert s.note_count == 4
    s.tracks = [s.tracks[1], s.tracks[0]]
    assert [x.name for x in s.tracks] == ["Kit", "Lead"]
    s.tracks = s.tracks  # self-assignment copies first
    assert [x.name for x in s.tracks] == ["Kit", "Lead"] and s.note_count == 4


def test_pickle_round_trip():
    s = _score()
    r = pickle.loads(pickle.dumps(s))
    assert r.ticks_per_quarter == 96
    assert [t.name for t in r.tracks] == ["Lead", "Kit"]
    assert r.tracks[0].notes == s.tracks[0].notes
    assert r.tracks[0].pitch_bends[0].value == -4096
    assert r.key_signatures[0].minor and r.key_signatures[0].sharps == -1
    assert pickle.loads(pickle.dumps(partita.Note(pitch=1, velocity=2, start=3, end=4))) == \
        partita.Note(pitch=1, velocity=2, start=3, end=4)


def test_write_read_round_trip_paths_and_bytes(tmp_path):
    s = _score()
    for path in (tmp_path / "a.mid", str(tmp_path / "b.mid")):
        partita.write_midi(s, path)
        r = partita.read_midi(path)
        assert [(t.name, t.program, t.is_drum) for t in r.tracks] == [("Lead", 73, False), ("Kit", 0, True)]
        assert [t.notes for t in r.tracks] == [t.notes for t in s.tracks]
        assert [(c.tick, c.qpm) for c in r.tempos] == [(0, 120.0), (192, 60.0)]
        assert [(t.numerator, t.denominator) for t in r.time_signatures] == [(3, 4)]
        assert r.tracks[0].controls[0].value == 100
        assert r.tracks[0].pitch_bends[0].value == -4096
    data = partita.write_midi_bytes(s)
    assert isinstance(data, bytes) and data[:4] == b"MThd"
    assert partita.read_midi_bytes(data).note_count == 3
    assert partita.read_midi_bytes(bytearray(data)).note_count == 3
    assert partita.read_midi_bytes(memoryview(data)).note_count == 3
    assert sorted(os.listdir(tmp_path)) == ["a.mid", "b.mid"]  # no temporary files left


def test_errors_are_typed():
    with pytest.raises(partita.MidiError, match=r"read_midi\(<bytes>\): byte 0: not a Standard MIDI File"):
        partita.read_midi_bytes(b"RIFF1234")
    with pytest.raises(partita.MidiError, match="byte 8: unsupported SMF format 7"):
        partita.read_midi_bytes(b"MThd\x00\x00\x00\x06\x00\x07\x00\x01\x00\x60")
    with pytest.raises(ValueError):  # MidiError is a FormatError is a ValueError
        partita.read_midi_bytes(b"")
    with pytest.raises(partita.IoError):
        partita.read_midi("/nonexistent/file.mid")
    with pytest.raises(OSError):
        partita.read_midi(pathlib.Path("/nonexistent/file.mid"))
    bad = _score()
    tracks = bad.tracks
    tracks[0].notes = [partita.Note(pitch=130, start=0, end=1)]
    bad.tracks = tracks
    with pytest.raises(partita.InvalidArgument, match="pitch 130"):
        partita.write_midi_bytes(bad)
    with pytest.raises(TypeError):
        partita.read_midi(42)


def test_melodies_round_trip(melody_paths, tmp_path):
    for path in melody_paths:
        s = partita.read_midi(path)
        out = tmp_path / path.name
        partita.write_midi(s, out)
        r = partita.read_midi(out)
        assert [t.notes for t in r.tracks] == [t.notes for t in s.tracks]
        assert [(c.tick, c.microseconds_per_quarter) for c in r.tempos] == \
            [(c.tick, c.microseconds_per_quarter) for c in s.tempos]
        assert r.ticks_per_quarter == s.ticks_per_quarter
