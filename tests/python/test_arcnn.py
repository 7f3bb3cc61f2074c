"""AR-CNN from Python: data pipeline, edit (Score and roll), fit with callbacks and
checkpoints, the GIL released during fit, the shipped model, the CLI, errors."""
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import partita

TINY = dict(levels=2, base_filters=4)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    n = partita.num_threads()
    partita.set_num_threads(1)
    yield
    partita.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("arcnn") / "tiny.safetensors"
    partita.ARCNN(seed=1, **TINY).save(path)
    return path


def test_jsb_windows_and_split():
    j = partita.load_jsb_chorales()
    assert [len(j[k]) for k in ("train", "valid", "test")] == [229, 76, 77]
    assert j["train"][0].shape[1] == 128 and j["train"][0].dtype == np.uint8
    w = partita.jsb_windows("train")
    assert len(w) == 559 and w.steps == 128
    tr, va = partita.split_windows(w, 0.1, 0)
    assert len(tr) + len(va) == len(w) and len(va) == 56
    with pytest.raises(partita.InvalidArgument):
        partita.jsb_windows("nope")


def test_pairs_label_is_xor_of_input_and_target():
    arr = np.zeros((2, 128, 128), np.uint8)
    arr[0, ::2, 60] = 1
    arr[1, :, 64] = 1
    w = partita.WindowSet(arr)
    b = partita.PairBatcher(w, variants=3, seed=5, shuffle=False)
    assert b.pairs_per_epoch == 6
    x, y = b.batch(0, 6)
    assert x.shape == (6, 128, 128) and x.dtype == np.float32
    for i in range(6):
        target = arr[i // 3].astype(bool)
        assert np.array_equal(x[i].astype(bool) ^ y[i].astype(bool), target)


def test_edit_score_keeps_timing_and_program(melody_paths, tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    score = partita.read_midi(melody_paths[0])
    out, stats = m.edit(score, iterations=25, seed=2, return_stats=True)
    assert out.ticks_per_quarter == score.ticks_per_quarter
    assert [t.qpm for t in out.tempos] == [t.qpm for t in score.tempos]
    assert len(out.tracks) == 1 and out.tracks[0].program == score.tracks[0].program
    assert {n.velocity for n in out.tracks[0].notes} == {100}
    assert stats[0]["iterations_run"] == 25
    again = m.edit(score, iterations=25, seed=2)
    assert [(n.pitch, n.start, n.end) for n in again.tracks[0].notes] == \
        [(n.pitch, n.start, n.end) for n in out.tracks[0].notes]


def test_edit_roll_long_input_window_by_window(tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    roll = np.zeros((300, 128), np.uint8)
    roll[:, 60] = 1
    out = m.edit_roll(roll, iterations=10, max_remove_pct=0, seed=1)
    assert isinstance(out, partita.PianoRoll)
    assert out.shape == (300, 128) and out.resolution == 4
    cells = np.asarray(out.array, np.uint8)
    assert cells[:, 60].all()  # removal not allowed: every original note kept
    assert (cells != roll).sum() > 0
    with pytest.raises(partita.ShapeError):
        m.edit_roll(np.zeros((10, 64)))


def test_edit_errors(tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    with pytest.raises(partita.InvalidArgument, match="no tracks"):
        m.edit(partita.Score())
    s = partita.Score(tracks=[partita.Track()])
    with pytest.raises(partita.InvalidArgument, match="notes"):
        m.edit(s)
    s = partita.Score(ticks_per_quarter=90, tracks=[partita.Track(notes=[partita.Note(60, 90, 0, 90)])])
    with pytest.raises(partita.InvalidArgument, match="multiple of 4"):
        m.edit(s)
    good = partita.Score(tracks=[partita.Track(notes=[partita.Note(60, 90, 0, 480)])])
    for bad in (dict(max_remove_pct=-1), dict(max_add=-3), dict(iterations=-1),
                dict(creative_risk=0.0)):
        with pytest.raises(ValueError):
            m.edit(good, **bad)


def test_fit_callback_checkpoints_resume(tmp_path):
    arr = np.zeros((6, 16, 128), np.uint8)
    for i in range(6):
        arr[i, :, 60 + i] = 1
    train = partita.WindowSet(arr)
    m = partita.ARCNN(seed=3, **TINY)
    seen = []
    r = m.fit(train, None, epochs=2, batch_size=4, variants=2, checkpoint_dir=tmp_path,
              callback=lambda info: seen.append(info["loss"]), progress=False)
    assert len(seen) == 6 and len(r["history"]) == 2
    assert (tmp_path / "best.safetensors").exists() and (tmp_path / "last.safetensors").exists()
    again = partita.ARCNN(seed=9, **TINY)
    r2 = again.fit(train, None, epochs=3, batch_size=4, variants=2, checkpoint_dir=tmp_path,
                   resume=True, progress=False)
    assert len(r2["history"]) == 3
    assert r2["history"][0]["train_loss"] == pytest.approx(r["history"][0]["train_loss"])
    stop = partita.ARCNN(seed=3, **TINY).fit(train, None, epochs=5, batch_size=4,
                                             callback=lambda info: False, progress=False)
    assert stop["stopped"] and stop["history"] == []


def test_fit_releases_the_gil():
    arr = np.zeros((4, 16, 128), np.uint8)
    arr[:, :, 60] = 1
    train = partita.WindowSet(arr)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.005)

    t = threading.Thread(target=ticker)
    t.start()
    partita.ARCNN(seed=1, **TINY).fit(train, None, epochs=2, batch_size=4, progress=False)
    done.set()
    t.join()
    assert len(ticks) > 5


def test_pretrained_model_loads_and_edits(melody_paths):
    path = partita.arcnn.DEFAULT_WEIGHTS
    if not os.path.exists(path):
        pytest.skip("shipped model not present")
    m = partita.ARCNN.pretrained()
    assert m.config["levels"] == 4
    score = partita.read_midi(melody_paths[3])
    out = m.edit(score, iterations=20, seed=1)
    before = {(n.pitch, n.start) for n in score.tracks[0].notes}
    after = {(n.pitch, n.start) for n in out.tracks[0].notes}
    assert before != after and len(after) > 0


def test_cli_edit_and_train(tmp_path, melody_paths, tiny_weights):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = tmp_path / "out.mid"
    r = subprocess.run([sys.executable, "-m", "partita", "--threads", "1", "edit", str(melody_paths[4]),
                        "-o", str(out), "--weights", str(tiny_weights), "--iterations", "5",
                        "--seed", "1"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert partita.read_midi(out).note_count > 0
    r = subprocess.run([sys.executable, "-m", "partita", "edit", str(melody_paths[4]), "-o", str(out),
                        "--weights", str(tiny_weights), "--creative-risk", "-1"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "creative_risk" in r.stderr
    folder = tmp_path / "midis"
    folder.mkdir()
    for p in melody_paths:
        (folder / p.name).write_bytes(p.read_bytes())
    r = subprocess.run([sys.executable, "-m", "partita", "--threads", "1", "train", "arcnn",
                        "--data", str(folder), "--out", str(tmp_path / "ck"), "--epochs", "1",
                        "--levels", "2", "--base-filters", "4", "--batch-size", "4",
                        "--max-steps-per-epoch", "2", "--valid-fraction", "0.2", "--seed", "0",
                        "--no-progress"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ck" / "best.safetensors").exists()
    assert math.isfinite(float(r.stdout.split("best valid_loss ")[1].split()[0]))


def test_edit_roll_accepts_pianoroll_at_16ths_only(tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    r = partita.PianoRoll.zeros(64, resolution=4, binary=True)
    r.array[:, 60] = 1
    out = m.edit_roll(r, iterations=3, seed=0)
    assert isinstance(out, partita.PianoRoll)
    assert out.shape == (64, 128) and out.array[:, 60].sum() >= 61
    assert out.resolution == 4
    assert r.array[:, 60].all()  # the input roll is not changed
    # The same edit from the roll's array.
    same = m.edit_roll(np.asarray(r.array, np.uint8), iterations=3, seed=0)
    assert np.array_equal(np.asarray(same.array), np.asarray(out.array))
    with pytest.raises(partita.InvalidArgument, match="resolution"):
        m.edit_roll(partita.PianoRoll.zeros(64, resolution=24), iterations=3)
