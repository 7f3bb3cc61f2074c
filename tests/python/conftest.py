"""Shared pytest fixtures for partita's Python tests.

- repo_root: the repository root (a pathlib.Path).
- melody_paths: the five sample melodies in data/melodies.
- midi_corpus: about 75 real MIDI files exported from music21's bundled corpus
  by scripts/make_midi_corpus.py, made once and cached in build/midi-corpus
  (or in $PARTITA_MIDI_CORPUS). The first run takes about a minute.
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root():
    return ROOT


@pytest.fixture(scope="session")
def melody_paths():
    paths = sorted((ROOT / "data" / "melodies").glob("*.mid"))
    assert len(paths) == 5, "data/melodies should hold five sample melodies"
    return paths


@pytest.fixture(scope="session")
def midi_corpus():
    pytest.importorskip("music21")
    out = pathlib.Path(os.environ.get("PARTITA_MIDI_CORPUS", ROOT / "build" / "midi-corpus"))
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_midi_corpus.py"), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    names = (out / "MANIFEST").read_text().split("\n")[1:]
    paths = [out / n for n in names if n]
    assert len(paths) >= 50, f"corpus export produced only {len(paths)} files"
    return paths
