"""Shared pytest fixtures for partita's Python tests.

- repo_root: the repository root (a pathlib.Path).
- melody_paths: the five sample melodies in data/melodies.
- one_thread: partita on one thread for a module's tests (model tests stay quick and
  repeatable beside other work); a module opts in with
  `pytestmark = pytest.mark.usefixtures("one_thread")`.
- mido_notes: mido_notes(track) reads a mido track's notes as sorted
  (pitch, start tick, end tick, velocity) tuples, independently of partita's reader.
- run_cli: run_cli(*args, env=None) runs `python -m partita --threads 1 ARGS` in a
  subprocess with this interpreter and import path (env: extra variables) and
  returns the CompletedProcess (text stdout and stderr).
- ticks_during: ticks_during(fn, period) runs fn() while a Python thread counts ticks
  every `period` seconds and returns the count; a call that keeps the GIL lets it
  tick at most once or twice.
- midi_corpus: about 75 real MIDI files exported from music21's bundled corpus
  by scripts/make_midi_corpus.py, made once and cached in build/midi-corpus
  (or in $PARTITA_MIDI_CORPUS). The first run takes about a minute.
"""
import os
import pathlib
import subprocess
import sys
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_root():
    return ROOT


@pytest.fixture
def melody_paths():
    paths = sorted((ROOT / "data" / "melodies").glob("*.mid"))
    assert len(paths) == 5, "data/melodies should hold five sample melodies"
    return paths


@pytest.fixture(scope="module")
def one_thread():
    import partita
    n = partita.num_threads()
    partita.set_num_threads(1)
    yield
    partita.set_num_threads(n)


@pytest.fixture
def mido_notes():
    def notes(track):
        now, held, out = 0, {}, []
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                held.setdefault(msg.note, []).append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                start, velocity = held[msg.note].pop(0)
                out.append((msg.note, start, now, velocity))
        return sorted(out)

    return notes


@pytest.fixture
def run_cli():
    def run(*args, env=None):
        e = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **(env or {}))
        return subprocess.run([sys.executable, "-m", "partita", "--threads", "1", *args], capture_output=True,
                              text=True, env=e, timeout=300)

    return run


@pytest.fixture
def ticks_during():
    def run(fn, period=0.005):
        ticks = []
        done = threading.Event()

        def ticker():
            while not done.is_set():
                ticks.append(1)
                done.wait(period)

        t = threading.Thread(target=ticker)
        t.start()
        try:
            fn()
        finally:
            done.set()
            t.join()
        return len(ticks)

    return run


@pytest.fixture
def midi_corpus():
    pytest.importorskip("music21")
    out = pathlib.Path(os.environ.get("PARTITA_MIDI_CORPUS", ROOT / "build" / "midi-corpus"))
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_midi_corpus.py"), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    names = (out / "MANIFEST").read_text().split("\n")[1:]
    paths = [out / n for n in names if n]
    assert len(paths) >= 50, f"corpus export produced only {len(paths)} files"
    return paths
