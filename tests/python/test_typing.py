"""mypy reads partita's stubs the way a user's code needs: a typical script
type-checks clean, and the mistakes the stubs exist to catch are reported.
Skipped when mypy is not installed (pip install mypy)."""
import pathlib
import re

import pytest

api = pytest.importorskip("mypy.api")

USAGE = '''
from __future__ import annotations

import pathlib

import numpy as np

import partita


def transpose_first_track(path: pathlib.Path, out: pathlib.Path) -> float:
    score = partita.read_midi(path)
    notes = score.tracks[0].notes
    for note in notes:
        note.pitch += 2
    notes.append(partita.Note(pitch=60, velocity=90, start=0, end=score.seconds_to_tick(0.5)))
    first: partita.Note = notes[0]
    seconds: float = first.start_seconds + first.duration_seconds
    ticks: np.ndarray = score.tick_to_seconds(np.array([0, 480]))
    partita.write_midi(score, out)
    wav = partita.read_wav(out.with_suffix(".wav"))
    rate: int = wav.sample_rate
    report = partita.ParameterSet().load_state_dict({}, strict=False)
    missing: list[str] = report.missing
    pm = score.to_pretty_midi()
    back: partita.Score = partita.Score.from_pretty_midi(pm)
    roll = score.to_pianoroll(resolution=4)
    steps, pitches = roll.shape
    return seconds + rate + len(missing) + steps + pitches + len(ticks) + back.note_count


def bad(score: partita.Score) -> None:
    score.tracks[0].notes.append((60, 100, 0, 480))  # E: not a Note
    x: str = score.tracks[0].notes[0].start  # E: int
    partita.read_midi(b"bytes.mid")  # E: bytes path


def edit(score: partita.Score) -> int:
    model = partita.ARCNN.pretrained()
    out = model.edit(score, iterations=10)
    out2, stats = model.edit(score, return_stats=True)
    return out.note_count + out2.note_count + len(stats)


def accompany(path: pathlib.Path) -> int:
    model = partita.GAN.pretrained("quartet").eval()
    out = model.accompany(path, seed=1)
    out2, report = model.accompany(out, return_report=True)
    parts: partita.MultiTrackRoll = model.accompany_roll(out.to_pianoroll(resolution=4))
    z: np.ndarray = model.sample_latent(2, seed=0)
    model.accompany(out, return_report=True).note_count  # E: a tuple
    return out.note_count + out2.note_count + sum(report.notes_per_part) + len(parts.names) + z.shape[0]
'''


def test_mypy_on_a_usage_example(tmp_path):
    src = tmp_path / "usage.py"
    src.write_text(USAGE)
    out, err, status = api.run([str(src), "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
                                "--hide-error-context", "--no-pretty"])
    lines = USAGE.splitlines()
    expected = {i + 1 for i, line in enumerate(lines) if "# E:" in line}
    reported = {int(m.group(1)) for m in re.finditer(r"usage\.py:(\d+): error", out)}
    assert reported == expected, out + err
