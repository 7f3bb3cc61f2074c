"""AR-CNN from Python: data pipeline, edit (Score and roll), fit with callbacks and
checkpoints, the GIL released during fit, the shipped model, the CLI, errors."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import partita

TINY = dict(levels=2, base_filters=4)


pytestmark = pytest.mark.usefixtures("one_thread")


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
    assert isinstance(stats[0], partita.EditStats) and stats[0].iterations_run == 25
    assert "iterations_run=25" in repr(stats[0])
    again = m.edit(score, iterations=25, seed=2)
    assert [(n.pitch, n.start, n.end) for n in again.tracks[0].notes] == \
        [(n.pitch, n.start, n.end) for n in out.tracks[0].notes]


def _added_one_step_notes(out, before):
    """One-step notes of `out` (time, 128) that are not one-step notes of `before`."""
    o = np.pad(out.astype(bool), ((1, 1), (0, 0)))
    b = np.pad(before.astype(bool), ((1, 1), (0, 0)))
    one = lambda r: r[1:-1] & ~r[:-2] & ~r[2:]
    return int((one(o) & ~one(b)).sum())


def test_closing_pass_resolves_added_fragments(melody_paths, tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    score = partita.read_midi(melody_paths[0])
    plain, st0 = m.edit(score, iterations=60, seed=4, resolve_iterations=0, return_stats=True)
    closed, st1 = m.edit(score, iterations=60, seed=4, return_stats=True)
    assert [s.iterations_run for s in st0] == [s.iterations_run for s in st1] == [60] * len(st0)
    assert all(s.resolve_run == 0 for s in st0)
    assert all(s.resolve_run >= 0 for s in st1) and "resolve_run=" in repr(st1[0])
    roll = np.zeros((128, 128), np.uint8)
    roll[0:128:4, 60] = 1
    roll[1:128:4, 60] = 1
    a = np.asarray(m.edit_roll(roll, iterations=60, seed=2, resolve_iterations=0).array, np.uint8)
    b = np.asarray(m.edit_roll(roll, iterations=60, seed=2).array, np.uint8)
    assert _added_one_step_notes(a, roll) > 0
    assert _added_one_step_notes(b, roll) == 0


def _one_step_notes(r):
    o = np.pad(r.astype(bool), ((1, 1), (0, 0)))
    return int((o[1:-1] & ~o[:-2] & ~o[2:]).sum())


def test_closing_pass_and_the_inputs_own_fragments(tiny_weights):
    m = partita.ARCNN.load(tiny_weights)
    roll = np.zeros((128, 128), np.uint8)
    roll[0:128:4, 48] = 1  # staccato one-16th notes of the input
    roll[0:128:8, 60] = roll[1:128:8, 60] = roll[2:128:8, 60] = 1
    assert _one_step_notes(roll) == 32
    default = np.asarray(m.edit_roll(roll, iterations=30, seed=3).array, np.uint8)
    assert _one_step_notes(default) == 0
    # max_remove_pct=0: the pass can only lengthen them.
    held = np.asarray(m.edit_roll(roll, iterations=30, seed=3, max_remove_pct=0).array, np.uint8)
    assert _one_step_notes(held) == 0 and (held[roll == 1] == 1).all()
    kept = np.asarray(m.edit_roll(roll, iterations=30, seed=3, keep_input_fragments=True).array, np.uint8)
    assert _one_step_notes(kept) > 0 and _added_one_step_notes(kept, roll) == 0


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
    # Any ticks per quarter: the result keeps the input's (90 here, 22.5 ticks a 16th).
    s = partita.Score(ticks_per_quarter=90, tracks=[partita.Track(notes=[partita.Note(60, 90, 0, 90)])])
    out = m.edit(s, iterations=0)
    assert out.ticks_per_quarter == 90
    assert [(n.pitch, n.start, n.end) for n in out.tracks[0].notes] == [(60, 0, 90)]
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
    epochs = []
    r = m.fit(train, None, epochs=2, batch_size=4, variants=2, checkpoint_dir=tmp_path,
              callback=lambda info: seen.append(info), on_epoch=epochs.append, progress=False)
    assert len(seen) == 6 and len(r.history) == 2 and len(epochs) == 2
    assert isinstance(r, partita.FitResult) and isinstance(r.history[0], partita.EpochInfo)
    assert isinstance(seen[0], partita.StepInfo) and seen[0].losses == {"loss": seen[0].loss}
    assert [s.global_step for s in seen] == [1, 2, 3, 4, 5, 6]
    assert r.global_step == 6 and r.history[1].train_loss == pytest.approx(
        sum(s.loss for s in seen[3:]) / 3)
    assert seen[0]["loss"] == seen[0].loss and r["history"] == r.history  # mapping access still works
    assert repr(r).startswith("FitResult(epochs=2") and "train_loss=" in repr(r.history[0])
    assert (tmp_path / "best.safetensors").exists() and (tmp_path / "last.safetensors").exists()
    again = partita.ARCNN(seed=9, **TINY)
    r2 = again.fit(train, None, epochs=3, batch_size=4, variants=2, checkpoint_dir=tmp_path,
                   resume=True, progress=False)
    assert len(r2.history) == 3
    assert r2.history[0].train_loss == r.history[0].train_loss  # exact resume
    stop = partita.ARCNN(seed=3, **TINY).fit(train, None, epochs=5, batch_size=4,
                                             callback=lambda info: False, progress=False)
    assert stop.stopped and stop.history == []


def test_fit_releases_the_gil(ticks_during):
    arr = np.zeros((4, 16, 128), np.uint8)
    arr[:, :, 60] = 1
    train = partita.WindowSet(arr)
    fit = lambda: partita.ARCNN(seed=1, **TINY).fit(train, None, epochs=2, batch_size=4, progress=False)
    assert ticks_during(fit) > 5


def test_pretrained_model_loads_and_edits(melody_paths):
    path = partita.arcnn.DEFAULT_WEIGHTS
    if not os.path.exists(path):
        pytest.skip("shipped model not present")
    m = partita.ARCNN.pretrained()
    assert m.config.levels == 4 and m.config == partita.ArcnnConfig.compact()
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
    kept = tmp_path / "kept.mid"
    r = subprocess.run([sys.executable, "-m", "partita", "--threads", "1", "--matmul-precision", "bfloat16",
                        "edit", str(melody_paths[4]), "-o", str(kept), "--weights", str(tiny_weights),
                        "--iterations", "5", "--seed", "1", "--keep-input-fragments"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert partita.read_midi(kept).note_count > 0
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


def test_pretrained_is_in_eval_mode_and_fit_restores_the_mode():
    if not os.path.exists(partita.arcnn.DEFAULT_WEIGHTS):
        pytest.skip("shipped model not present")
    m = partita.ARCNN.pretrained()
    assert type(m) is partita.ARCNN and m.training is False
    x = np.zeros((1, 128, 128), np.float32)
    x[0, ::4, 60] = 1
    explicit = partita.ARCNN.load(partita.arcnn.default_weights_path())
    explicit.training = False
    assert np.array_equal(m.forward(x), explicit.forward(x))
    explicit.training = True
    assert not np.array_equal(m.forward(x), explicit.forward(x))  # dropout + batch statistics
    assert partita.ARCNN.pretrained("arcnn").training is False
    with pytest.raises(ValueError, match="no-such-model"):
        partita.ARCNN.pretrained("no-such-model")
    arr = np.zeros((2, 128, 128), np.uint8)
    arr[:, :, 62] = 1
    modes = []
    m.fit(partita.WindowSet(arr), None, epochs=1, batch_size=2, max_steps_per_epoch=1,
          bn_recalibration_batches=0, callback=lambda s: modes.append(m.training), progress=False)
    assert modes == [True] and m.training is False


def test_defaults_come_from_the_library():
    d = partita.EditControls()
    assert (d.max_remove_pct, d.max_add, d.iterations, d.creative_risk) == (100.0, 500, 100, 1.0)
    assert d.resolve_iterations == 500 and "resolve_iterations=500" in repr(d)
    assert d.keep_input_fragments is False and "keep_input_fragments=False" in repr(d)
    assert partita.EditControls(keep_input_fragments=True).keep_input_fragments is True
    assert "iterations=100" in repr(d)
    with pytest.raises(ValueError):
        partita.EditControls(resolve_iterations=-1)
    with pytest.raises(ValueError):
        partita.EditControls(creative_risk=0)
    f = partita.ArcnnFitOptions()
    assert (f.epochs, f.batch_size, f.variants, f.bn_recalibration_batches) == (10, 32, 8, 8)
    assert partita.ARCNN.DEFAULTS.lr == f.lr == pytest.approx(1e-3)
    assert partita.ArcnnConfig() == partita.ArcnnConfig.compact()
    from partita import cli
    parser = cli.build_parser()
    args = parser.parse_args(["edit", "x.mid"])
    assert (args.max_remove_pct, args.max_add, args.iterations, args.creative_risk) == \
        (d.max_remove_pct, d.max_add, d.iterations, d.creative_risk)
    args = parser.parse_args(["train", "arcnn", "--out", "o"])
    assert (args.epochs, args.batch_size, args.lr, args.variants, args.levels) == \
        (f.epochs, f.batch_size, f.lr, f.variants, partita.ArcnnConfig.compact().levels)


def test_registry_and_no_patched_classes():
    models = partita.models_available()
    names = [m.name for m in models]
    assert "arcnn-default" in names
    entry = models[names.index("arcnn-default")]
    assert entry.kind == "arcnn" and "arcnn" in entry.aliases
    assert entry.env_var == "PARTITA_ARCNN_WEIGHTS"
    if os.path.exists(partita.arcnn.DEFAULT_WEIGHTS):
        assert partita.shipped_model_path("arcnn") == partita.ARCNN.default_weights_path()
    # Every ARCNN method is the compiled one: nothing is assigned onto the class at import.
    import inspect
    for name in ("pretrained", "fit", "edit", "edit_roll", "load"):
        attr = partita.ARCNN.__dict__[name]
        assert not inspect.isfunction(getattr(attr, "__func__", attr)), name


def test_models_subcommand(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-m", "partita", "models"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "arcnn-default" in r.stdout and "arcnn" in r.stdout
