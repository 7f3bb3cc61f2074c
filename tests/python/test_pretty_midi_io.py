"""Score <-> pretty_midi.PrettyMIDI: agreement with pretty_midi's own reading of
the sample melodies, and exact round trips of ticks, tempo map, meters, keys,
programs, drum flags, names, control changes and pitch bends."""
import glob
import os

import numpy as np
import pytest

import partita

pretty_midi = pytest.importorskip("pretty_midi")
pytestmark = pytest.mark.skipif(not hasattr(partita, "Score"), reason="no Score bindings")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MELODIES = sorted(glob.glob(os.path.join(ROOT, "data", "melodies", "*.mid")))


def _notes(pm):
    return sorted((i.program, i.is_drum, n.pitch, n.velocity, n.start, n.end)
                  for i in pm.instruments for n in i.notes)


@pytest.mark.parametrize("path", MELODIES, ids=os.path.basename)
def test_to_pretty_midi_matches_pretty_midi_reading_the_file(path):
    ours = partita.read_midi(path).to_pretty_midi()
    ref = pretty_midi.PrettyMIDI(path)
    assert ours.resolution == ref.resolution
    a, b = _notes(ours), _notes(ref)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        assert x[:4] == y[:4]
        assert x[4] == pytest.approx(y[4], abs=1e-9) and x[5] == pytest.approx(y[5], abs=1e-9)
    np.testing.assert_allclose(ours.get_tempo_changes()[1], ref.get_tempo_changes()[1])


@pytest.mark.parametrize("path", MELODIES, ids=os.path.basename)
def test_from_pretty_midi_matches_read_midi(path):
    score = partita.from_pretty_midi(pretty_midi.PrettyMIDI(path))
    direct = partita.read_midi(path)
    tracks = [t for t in direct.tracks if t.notes]  # pretty_midi drops empty instruments
    assert len(score.tracks) == len(tracks)
    for t, u in zip(score.tracks, tracks):
        assert t.notes == u.notes and t.program == u.program and t.is_drum == u.is_drum
    assert [t.qpm for t in score.tempos] == pytest.approx([t.qpm for t in direct.tempos])
    assert score.ticks_per_quarter == direct.ticks_per_quarter


def _rich_score():
    N = partita.Note
    lead = partita.Track(name="lead", program=73, notes=[N(72, 90, 0, 240), N(74, 80, 240, 960),
                                                         N(76, 70, 1000, 1333)],
                         controls=[partita.ControlChange(0, 7, 100), partita.ControlChange(480, 64, 127)],
                         pitch_bends=[partita.PitchBend(120, -4096), partita.PitchBend(600, 8191)])
    drums = partita.Track(name="kit", is_drum=True, notes=[N(36, 120, 0, 60), N(42, 100, 1920, 1980)])
    return partita.Score(
        ticks_per_quarter=96 * 5,
        tempos=[partita.TempoChange(0, 100.0), partita.TempoChange(960, 75.0),
                partita.TempoChange(1920, 150.0)],
        time_signatures=[partita.TimeSignature(0, 4, 4), partita.TimeSignature(1920, 6, 8)],
        key_signatures=[partita.KeySignature(0, -3, True), partita.KeySignature(960, 2, False)],
        tracks=[lead, drums])


def test_round_trip_keeps_everything_with_a_tempo_map():
    score = _rich_score()
    pm = score.to_pretty_midi()
    times, qpms = pm.get_tempo_changes()
    np.testing.assert_allclose(qpms, [100.0, 75.0, 150.0])
    np.testing.assert_allclose(times, [0.0, 1.2, 2.8])  # 2 quarters at 100 qpm, 2 at 75
    assert [(ts.numerator, ts.denominator) for ts in pm.time_signature_changes] == [(4, 4), (6, 8)]
    assert pretty_midi.key_number_to_key_name(pm.key_signature_changes[0].key_number) == "C minor"
    assert pm.instruments[1].is_drum and pm.instruments[0].program == 73
    assert pm.instruments[0].notes[1].end == pytest.approx(score.seconds(960))

    back = partita.Score.from_pretty_midi(pm)
    assert back.ticks_per_quarter == score.ticks_per_quarter
    assert [(t.tick, t.qpm) for t in back.tempos] == [(0, 100.0), (960, 75.0), (1920, 150.0)]
    assert [(t.tick, t.numerator, t.denominator) for t in back.time_signatures] == \
        [(0, 4, 4), (1920, 6, 8)]
    assert [(k.tick, k.sharps, k.minor) for k in back.key_signatures] == [(0, -3, True), (960, 2, False)]
    for t, u in zip(back.tracks, score.tracks):
        assert (t.name, t.program, t.is_drum) == (u.name, u.program, u.is_drum)
        assert t.notes == u.notes
        assert [(c.tick, c.number, c.value) for c in t.controls] == \
            [(c.tick, c.number, c.value) for c in u.controls]
        assert [(b.tick, b.value) for b in t.pitch_bends] == [(b.tick, b.value) for b in u.pitch_bends]


def test_pretty_midi_written_file_reads_back(tmp_path):
    path = tmp_path / "rich.mid"
    _rich_score().to_pretty_midi().write(str(path))
    again = partita.read_midi(str(path))
    assert [t.notes for t in again.tracks if t.notes] == [t.notes for t in _rich_score().tracks]
