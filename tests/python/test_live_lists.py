"""Score, Track and their lists edit like a pretty_midi.PrettyMIDI: lists reached
through a Score are live views of its data, items are views of one element, and
notes reached through a Score read and write seconds from its tempo map."""
import gc
import pickle

import numpy as np
import pytest

import partita
from partita import ControlChange, KeySignature, Note, PitchBend, Score, TempoChange, TimeSignature, Track


def _score():
    return Score(
        ticks_per_quarter=96,
        tempos=[TempoChange(0, 120.0), TempoChange(192, 60.0)],
        time_signatures=[TimeSignature(0, 3, 4)],
        key_signatures=[KeySignature(0, -1, True)],
        tracks=[Track(name="Lead", program=73, notes=[Note(72, 90, 0, 96), Note(74, 80, 96, 384)],
                      controls=[ControlChange(0, 7, 100)], pitch_bends=[PitchBend(48, -4096)]),
                Track(name="Kit", is_drum=True, notes=[Note(36, 100, 0, 24)])])


def test_append_to_notes_through_the_score():
    s = _score()
    s.tracks[0].notes.append(Note(76, 70, 384, 480))
    assert s.note_count == 4 and s.tracks[0].notes[-1] == Note(76, 70, 384, 480)
    assert s.end_tick == 480


def test_setting_fields_of_items_changes_the_score():
    s = _score()
    s.tracks[0].notes[1].pitch = 60
    s.tracks[0].notes[1].end = 200
    s.tracks[1].name = "Drums"
    s.tracks[0].program = 0
    s.tempos[1].qpm = 30.0
    s.time_signatures[0].numerator = 6
    s.key_signatures[0].sharps = 2
    s.tracks[0].controls[0].value = 64
    s.tracks[0].pitch_bends[0].value = 100
    assert s.tracks[0].notes[1] == Note(60, 80, 96, 200)
    assert [t.name for t in s.tracks] == ["Lead", "Drums"] and s.tracks[0].program == 0
    assert s.tempos[1].qpm == 30.0 and s.time_signatures[0].numerator == 6
    assert s.key_signatures[0].sharps == 2
    assert (s.tracks[0].controls[0].value, s.tracks[0].pitch_bends[0].value) == (64, 100)
    # the edits reach the C++ side: a MIDI round trip keeps them
    r = partita.read_midi_bytes(partita.write_midi_bytes(s))
    assert r.tracks[0].notes[1].pitch == 60 and r.tracks[1].name == "Drums"


def test_track_list_append_insert_delete_pop():
    s = _score()
    s.tracks.append(Track(name="Bass", program=33, notes=[Note(36, 80, 0, 96)]))
    s.tracks.insert(0, Track(name="Pad"))
    assert [t.name for t in s.tracks] == ["Pad", "Lead", "Kit", "Bass"]
    del s.tracks[0]
    popped = s.tracks.pop()
    assert popped.name == "Bass" and not popped.is_view
    assert [t.name for t in s.tracks] == ["Lead", "Kit"] and s.note_count == 3
    s.tracks.extend([Track(name="A"), Track(name="B")])
    del s.tracks[2:]
    assert len(s.tracks) == 2
    s.tracks[1:] = [Track(name="X"), Track(name="Y")]
    assert [t.name for t in s.tracks] == ["Lead", "X", "Y"]
    s.tracks.clear()
    assert len(s.tracks) == 0 and s.note_count == 0


def test_list_protocol_on_notes():
    s = _score()
    notes = s.tracks[0].notes
    assert len(notes) == 2 and Note(72, 90, 0, 96) in notes and Note(1, 1, 1, 1) not in notes
    assert notes.index(Note(74, 80, 96, 384)) == 1 and notes.count(Note(72, 90, 0, 96)) == 1
    assert notes == [Note(72, 90, 0, 96), Note(74, 80, 96, 384)]
    assert [n.pitch for n in notes] == [72, 74] and [n.pitch for n in notes[::-1]] == [74, 72]
    notes[1:][0].velocity = 81  # a slice is a list of views
    assert s.tracks[0].notes[1].velocity == 81 and [n.pitch for n in reversed(notes)] == [74, 72]
    notes[1].velocity = 80
    notes.extend(notes)  # the values are collected before appending
    assert len(s.tracks[0].notes) == 4
    notes.sort(key=lambda n: (-n.pitch, n.start))
    assert [n.pitch for n in notes] == [74, 74, 72, 72]
    notes.remove(Note(74, 80, 96, 384))
    assert len(notes) == 3
    notes += [Note(50, 50, 0, 10)]
    assert len(s.tracks[0].notes) == 4
    plain = notes.copy()
    assert isinstance(plain, list) and not plain[0].is_view
    plain[0].pitch = 0
    assert notes[0].pitch != 0
    with pytest.raises(IndexError):
        notes[10]
    with pytest.raises(ValueError):
        notes.remove(Note(1, 1, 1, 1))
    assert "NoteList([Note(" in repr(notes)


def test_appended_object_stays_live_like_pretty_midi():
    s = _score()
    n = Note(80, 100, 0, 48)
    assert not n.is_view
    s.tracks[1].notes.append(n)
    assert n.is_view
    n.pitch = 81  # as with pretty_midi: the object appended is the one in the list
    assert s.tracks[1].notes[-1].pitch == 81
    t = Track(name="New")
    t.notes.append(Note(40, 100, 0, 96))
    s.tracks.append(t)
    t.notes[0].velocity = 1  # t now shows the track inside the score
    assert s.tracks[-1].notes[0].velocity == 1
    # a view given to another list is copied; it stays a view of where it was
    s.tracks[0].notes.append(s.tracks[1].notes[0])
    s.tracks[0].notes[-1].pitch = 0
    assert s.tracks[1].notes[0].pitch == 36


def test_views_keep_the_score_alive_and_detect_removed_elements():
    notes = _score().tracks[0].notes  # the Score has no other reference
    first = notes[0]
    gc.collect()
    assert first.pitch == 72 and len(notes) == 2
    notes.clear()
    with pytest.raises(IndexError, match=r"Note.pitch: .*position 0 .* now has 0 items"):
        first.pitch


def test_items_are_views_of_positions():
    s = _score()
    second = s.tracks[0].notes[1]
    s.tracks[0].notes.insert(0, Note(10, 10, 0, 1))
    assert second.pitch == 72  # position 1 now holds the old first note


def test_constructors_and_pickles_copy():
    n = Note(60, 100, 0, 96)
    t = Track(notes=[n])
    n.pitch = 61
    assert t.notes[0].pitch == 60
    s = _score()
    view = s.tracks[0].notes[0]
    copy = pickle.loads(pickle.dumps(view))
    assert copy == view and not copy.is_view
    r = pickle.loads(pickle.dumps(s))
    r.tracks[0].notes[0].pitch = 1
    assert s.tracks[0].notes[0].pitch == 72
    d = s.copy()
    d.tracks.clear()
    assert len(s.tracks) == 2


def test_wrong_item_types_fail_loudly():
    s = _score()
    with pytest.raises(TypeError):
        s.tracks[0].notes.append((60, 100, 0, 96))
    with pytest.raises(TypeError):
        s.tracks.append(Note())
    with pytest.raises(TypeError):
        s.tracks[0].notes[0].pitch = "C4"
    with pytest.raises(TypeError, match="expected Track items, got Note"):
        s.tracks = [Note()]
    with pytest.raises(TypeError, match="expected Note items, got tuple"):
        s.tracks[0].notes.extend([(60, 100, 0, 96)])
    with pytest.raises(TypeError):
        Track(notes="abc")
    assert len(s.tracks) == 2 and len(s.tracks[0].notes) == 2  # nothing changed


def test_note_seconds_follow_the_tempo_map():
    s = _score()  # 120 qpm to tick 192 (1 s), then 60 qpm
    n = s.tracks[0].notes[1]  # ticks 96..384
    assert n.start_seconds == pytest.approx(0.5) and n.end_seconds == pytest.approx(3.0)
    assert n.duration_seconds == pytest.approx(2.5)
    n.end_seconds = 2.0
    assert n.end == 288
    n.start_seconds = 0.25
    assert n.start == 48
    n.duration_seconds = 1.75  # end at 2.0 s
    assert n.end == 288
    n.start_seconds = 0.2501  # nearest tick
    assert n.start == 48
    with pytest.raises(partita.InvalidArgument, match="not in a Score"):
        Note(60, 100, 0, 96).start_seconds
    with pytest.raises(partita.InvalidArgument, match="not in a Score"):
        Track(notes=[Note()]).notes[0].end_seconds
    with pytest.raises(partita.InvalidArgument):
        n.start_seconds = -1.0


def test_score_tick_second_helpers():
    s = _score()
    assert s.tick_to_seconds(192) == pytest.approx(1.0)
    np.testing.assert_allclose(s.tick_to_seconds(np.array([0, 96, 192, 288])), [0, 0.5, 1.0, 2.0])
    assert s.seconds_to_tick(2.0) == 288 and s.seconds_to_tick(0.2501) == 48
    np.testing.assert_array_equal(s.seconds_to_tick(np.array([0.0, 0.5, 2.0])), [0, 96, 288])
    for tick in range(0, 1000, 7):
        assert s.seconds_to_tick(s.tick_to_seconds(tick)) == tick


def _tempo_change_score():
    """Three tempo changes, notes across them, 220 ticks per quarter."""
    tempos = [TempoChange(0, 100.0), TempoChange(700, 137.5), TempoChange(1500, 72.0), TempoChange(2300, 180.0)]
    notes = [Note(60 + k % 12, 90, 130 * k, 130 * k + 200 + 17 * (k % 5)) for k in range(30)]
    return Score(ticks_per_quarter=220, tempos=tempos, tracks=[Track(name="p", notes=notes)])


def test_note_seconds_match_pretty_midi(tmp_path):
    pretty_midi = pytest.importorskip("pretty_midi")
    path = tmp_path / "tempos.mid"
    partita.write_midi(_tempo_change_score(), path)
    s = partita.read_midi(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert len(pm.get_tempo_changes()[0]) == 4
    ours = sorted((n.pitch, n.start_seconds, n.end_seconds, n.duration_seconds) for n in s.tracks[0].notes)
    theirs = sorted((n.pitch, n.start, n.end, n.get_duration()) for n in pm.instruments[0].notes)
    assert len(ours) == len(theirs) == 30
    for a, b in zip(ours, theirs):
        assert a[0] == b[0]
        np.testing.assert_allclose(a[1:], b[1:], rtol=0, atol=1e-6)
    for t in (0.0, 1.3, 4.2, 7.77):
        assert s.seconds_to_tick(t) == pm.time_to_tick(t)
    for tick in (0, 699, 700, 1501, 4000):
        assert s.tick_to_seconds(tick) == pytest.approx(pm.tick_to_time(tick), abs=1e-6)
    # writing seconds lands on the tick pretty_midi's time_to_tick gives
    n = s.tracks[0].notes[5]
    n.start_seconds = 2.345
    assert n.start == pm.time_to_tick(2.345)


def test_note_seconds_match_pretty_midi_on_a_file_written_by_mido(tmp_path):
    """The same check on a file partita did not write (mido, tempo changes on a
    separate conductor track, between notes and mid-note)."""
    mido = pytest.importorskip("mido")
    pretty_midi = pytest.importorskip("pretty_midi")
    f = mido.MidiFile(type=1, ticks_per_beat=384)
    conductor = mido.MidiTrack()
    for delta, bpm in ((0, 96), (1000, 150), (1333, 60), (2000, 123.4)):
        conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=delta))
    piano = mido.MidiTrack()
    for k in range(40):
        piano.append(mido.Message("note_on", note=50 + k % 30, velocity=80, time=0 if k == 0 else 50))
        piano.append(mido.Message("note_off", note=50 + k % 30, velocity=0, time=190 + 7 * (k % 4)))
    f.tracks += [conductor, piano]
    path = tmp_path / "mido.mid"
    f.save(path)
    s = partita.read_midi(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    notes = [n for t in s.tracks for n in t.notes]
    theirs = [n for i in pm.instruments for n in i.notes]
    assert len(notes) == len(theirs) == 40 and len(s.tempos) == 4
    for a, b in zip(sorted(notes, key=lambda n: (n.start, n.pitch)), sorted(theirs, key=lambda n: (n.start, n.pitch))):
        assert a.pitch == b.pitch
        np.testing.assert_allclose([a.start_seconds, a.end_seconds, a.duration_seconds],
                                   [b.start, b.end, b.get_duration()], rtol=0, atol=1e-6)


def test_to_and_from_pretty_midi_are_methods():
    assert "to_pretty_midi" in Score.__dict__ and "from_pretty_midi" in Score.__dict__
    assert Score.to_pretty_midi.__module__ != "partita.pretty_midi_io"  # not patched in
    pytest.importorskip("pretty_midi")
    s = _tempo_change_score()
    pm = s.to_pretty_midi()
    back = Score.from_pretty_midi(pm)
    assert back.tracks[0].notes == s.tracks[0].notes
