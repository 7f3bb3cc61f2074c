"""The Transformer-XL from Python: config and option records, model files (typed errors for
missing, foreign and truncated files), extend (the input track kept note for note in the
written MIDI file, the continuation after it and about as long as asked, seeds, reports),
the generation primitives on numpy arrays, sample_token, token streams and performance
corpora, evaluate_nll, fit with callbacks, checkpoints and exact resume, the GIL released
during fit, the shipped model when installed, and the `partita extend` /
`partita train transformer` commands.

Everything except the shipped-model test runs on tiny freshly initialised or briefly
trained networks (TransformerXLConfig.small(), 16k parameters) saved to temporary files,
so no shipped weights are needed."""
import os

import numpy as np
import pytest

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TWINKLE = os.path.join(ROOT, "data", "melodies", "twinkle_twinkle.mid")

pytestmark = pytest.mark.usefixtures("one_thread")


def small(**fields):
    config = partita.TransformerXLConfig.small()
    for k, v in fields.items():
        setattr(config, k, v)
    return config


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A model file of a fresh small Transformer-XL."""
    path = tmp_path_factory.mktemp("txl") / "tiny.safetensors"
    partita.TransformerXL(small(), seed=1).save(path)
    return path


def ramps(n=6, length=40):
    """n pieces <S> then a rising pattern of ids 2..17: easy to learn."""
    return [[0] + [2 + (i + k) % 16 for i in range(length - 1)] for k in range(n)]


def note_tuples(track):
    return [(n.pitch, n.start, n.end, n.velocity) for n in track.notes]


# ------------------------------------------------------------------ records


def test_config_presets_json_and_validation():
    ref = partita.TransformerXLConfig.reference()
    assert ref == partita.TransformerXLConfig()
    assert (ref.layers, ref.heads, ref.d_model, ref.d_head, ref.d_inner, ref.vocab) == (4, 10, 500, 50, 1000, 310)
    med = partita.TransformerXLConfig.medium()
    assert (med.heads, med.d_model, med.d_head, med.d_inner, med.segment, med.memory) == (8, 256, 32, 1024, 128, 512)
    s = partita.TransformerXLConfig.small()
    assert (s.layers, s.heads, s.d_model, s.segment, s.memory) == (2, 3, 24, 8, 16)
    back = partita.TransformerXLConfig.from_json(med.to_json())
    assert back == med and back != s and back["d_model"] == 256  # mapping access too
    assert "TransformerXLConfig(" in repr(s) and '"memory":16' in repr(s)
    with pytest.raises(partita.WeightsError):
        partita.TransformerXLConfig.from_json("{not json")
    for bad in (dict(layers=0), dict(vocab=1), dict(segment=0), dict(dropout=1.5)):
        with pytest.raises(partita.InvalidArgument):
            partita.TransformerXLConfig(**bad)
    s.heads = 0
    with pytest.raises(partita.InvalidArgument, match="heads"):
        s.validate()
    assert partita.TransformerXL(small(), seed=0).parameter_count == 16266


def test_option_records_hold_the_library_defaults():
    d = partita.TransformerXL.DEFAULTS
    assert isinstance(d, partita.TransformerXLFitOptions)
    assert (d.batch_size, d.lr, d.warmup_steps, d.lr_floor, d.clip_norm, d.epochs) == (64, 5e-4, 4000, 2.5e-5, 1.0, 10)
    e = partita.ExtendOptions()
    assert (e.seconds, e.temperature, e.top_p, e.top_k, e.track, e.seed, e.max_tokens) == (
        30.0, 0.95, 0.95, 0, -1, 0, 0)
    assert partita.ExtendOptions(top_k=5).top_k == 5 and e["top_p"] == 0.95
    assert "temperature=0.95" in repr(e)


def test_helpers_presets_and_token_names():
    c = partita.transformer.named_config("small", layers=3, memory=32)
    assert (c.layers, c.memory, c.d_model) == (3, 32, 24)
    with pytest.raises(partita.InvalidArgument, match="config must be"):
        partita.transformer.named_config("huge")
    with pytest.raises(partita.InvalidArgument, match="no field"):
        partita.transformer.named_config("small", depth=3)
    o = partita.EventOptions()
    names = partita.transformer.token_names(
        [0, 1, o.time_shift_token(25), o.note_on_token(60), o.note_off_token(60), o.velocity_token(20)])
    assert names == ["<S>", "<PAD>", "SHIFT 250ms", "ON C4", "OFF C4", "VELOCITY 20"]
    with pytest.raises(partita.InvalidArgument, match="vocabulary"):
        partita.transformer.token_name(310)
    assert set(partita.transformer.MODELS) == {"transformer", "transformer-jsb"}


# ------------------------------------------------------------- model files


def test_construct_modes_save_and_load(tmp_path):
    m = partita.TransformerXL(small(), seed=3)
    assert m.training and m.config == small()
    assert m.eval() is m and not m.training
    assert m.train() is m and m.training
    m.training = False
    assert "16266 parameters" in repr(m) and "eval" in repr(m)
    assert "word_emb.weight" in m.parameters().state_dict()
    path = tmp_path / "m.safetensors"
    m.save(path, extra={"note": "test"})
    assert partita.load_safetensors(path).metadata["note"] == "test"
    back = partita.TransformerXL.load(str(path))
    assert not back.training and back.config == m.config
    tokens = [0, 50, 120, 121, 60]
    m.begin_generation()
    back.begin_generation()
    assert np.array_equal(m.prime(tokens), back.prime(tokens))
    other = partita.TransformerXL(small(), seed=4)
    other.begin_generation()
    m.begin_generation()
    assert not np.array_equal(m.prime(tokens), other.prime(tokens))


def test_model_file_errors_are_typed(tmp_path, tiny_weights):
    with pytest.raises(partita.IoError):
        partita.TransformerXL.load(tmp_path / "missing.safetensors")
    truncated = tmp_path / "truncated.safetensors"
    data = open(tiny_weights, "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(partita.WeightsError, match="truncated"):
        partita.TransformerXL.load(truncated)
    arcnn = tmp_path / "arcnn.safetensors"
    partita.ARCNN(levels=2, base_filters=4).save(arcnn)
    with pytest.raises(partita.WeightsError):
        partita.TransformerXL.load(arcnn)


def test_pretrained_names_and_a_missing_file(monkeypatch, tmp_path):
    with pytest.raises(partita.InvalidArgument, match="no-such-model"):
        partita.TransformerXL.pretrained("no-such-model")
    with pytest.raises(partita.InvalidArgument):
        partita.TransformerXL.pretrained("arcnn-default")
    monkeypatch.setenv("PARTITA_TRANSFORMER_WEIGHTS", str(tmp_path / "absent.safetensors"))
    with pytest.raises(partita.IoError, match="absent.safetensors"):
        partita.TransformerXL.pretrained("transformer")
    assert not partita.transformer.pretrained_available("transformer")


def test_shipped_model_extends():
    if not partita.transformer.pretrained_available("transformer"):
        pytest.skip("the shipped Transformer-XL (transformer-corpus.safetensors) is not installed")
    m = partita.TransformerXL.pretrained("transformer")
    assert not m.training and m.config.vocab == 310
    melody = partita.read_midi(TWINKLE)
    out, report = m.extend(melody, seconds=5, seed=1, return_report=True)
    n = len(melody.tracks[0].notes)
    assert note_tuples(out.tracks[0])[:n] == note_tuples(melody.tracks[0])
    assert report.notes_added > 0 and report.generated_seconds == pytest.approx(5, abs=1.0)


# ------------------------------------------------------------------ extend


def test_extend_keeps_the_input_and_continues_after_it(tmp_path, tiny_weights, mido_notes):
    mido = pytest.importorskip("mido")
    m = partita.TransformerXL.load(tiny_weights)
    melody = partita.read_midi(TWINKLE)
    n = len(melody.tracks[0].notes)
    out, rep = m.extend(melody, seconds=8, seed=3, return_report=True)
    assert isinstance(rep, partita.ExtendReport) and rep["notes_added"] == rep.notes_added
    assert rep.prime_tokens == len(partita.performance_tokens(melody, 0))
    assert rep.generated_seconds == pytest.approx(8, abs=1.0) and not rep.hit_max_tokens
    assert len(out.tracks) == len(melody.tracks) and out.tracks[0].program == melody.tracks[0].program
    assert note_tuples(out.tracks[0])[:n] == note_tuples(melody.tracks[0])
    added = out.tracks[0].notes[n:]
    assert len(added) == rep.notes_added > 0
    last = max(x.end for x in melody.tracks[0].notes)
    assert min(x.start for x in added) >= last
    assert out.duration_seconds == pytest.approx(melody.duration_seconds + 8, abs=1.0)
    assert [t.qpm for t in out.tempos] == [t.qpm for t in melody.tempos]
    assert "generated_tokens=" in repr(rep)
    # The written file: the melody's notes exactly, then the continuation.
    path = tmp_path / "out.mid"
    partita.write_midi(out, path)
    src = next(mido_notes(t) for t in mido.MidiFile(TWINKLE).tracks if mido_notes(t))
    dst = next(mido_notes(t) for t in mido.MidiFile(path).tracks if mido_notes(t))
    end = max(x[2] for x in src)  # the input's last event: the continuation starts there or later
    assert sorted(x for x in dst if x[1] < end) == src and len(dst) == len(src) + rep.notes_added


def test_extend_seeds_controls_and_paths(tiny_weights):
    m = partita.TransformerXL.load(tiny_weights)
    melody = partita.read_midi(TWINKLE)
    a = m.extend(melody, seconds=5, seed=7)
    assert note_tuples(a.tracks[0]) == note_tuples(m.extend(TWINKLE, seconds=5, seed=7).tracks[0])
    assert note_tuples(a.tracks[0]) != note_tuples(m.extend(melody, seconds=5, seed=8).tracks[0])
    greedy = m.extend(melody, seconds=3, top_k=1)
    assert note_tuples(greedy.tracks[0]) == note_tuples(m.extend(melody, seconds=3, top_k=1, seed=9).tracks[0])
    _, capped = m.extend(melody, seconds=60, max_tokens=5, return_report=True)
    assert capped.hit_max_tokens and capped.generated_tokens == 5
    empty, rep = m.extend(melody, seconds=0, return_report=True)
    assert note_tuples(empty.tracks[0]) == note_tuples(melody.tracks[0]) and rep.generated_tokens == 0


def test_extend_errors_are_typed(tiny_weights):
    m = partita.TransformerXL.load(tiny_weights)
    melody = partita.read_midi(TWINKLE)
    for bad, match in ((dict(track=5), "track 5"), (dict(temperature=0), "temperature"),
                       (dict(top_p=1.5), "top_p"), (dict(top_k=-1), "top_k"), (dict(seconds=-1), "seconds")):
        with pytest.raises(partita.InvalidArgument, match=match):
            m.extend(melody, **bad)
    with pytest.raises(partita.InvalidArgument):
        m.extend(partita.Score())
    with pytest.raises(partita.IoError, match="missing.mid"):
        m.extend(os.path.join(ROOT, "missing.mid"))
    with pytest.raises(TypeError):
        m.extend(melody, seed=-1)


# ------------------------------------------------- generation primitives


def test_prime_next_logits_and_sample_token():
    m = partita.TransformerXL(small(), seed=2).eval()
    m.begin_generation(batch=2)
    one = m.prime([0, 120, 60, 121])
    assert one.shape == (2, 310) and one.dtype == np.float32 and np.array_equal(one[0], one[1])
    assert m.generated_length == 4
    nxt = m.next_logits(np.array([5, 6], np.int64))
    assert nxt.shape == (2, 310) and not np.array_equal(nxt[0], nxt[1])
    m.begin_generation(batch=2)
    rows = m.prime(np.array([[0, 120, 60, 121], [0, 120, 60, 121]]))
    assert np.allclose(rows, one)
    with pytest.raises(partita.ShapeError, match=r"\(2, n >= 1\)"):
        m.prime([[0, 1, 2]])
    with pytest.raises(partita.ShapeError, match="one token per sequence"):
        m.next_logits([1])
    with pytest.raises(partita.InvalidArgument, match="310"):
        m.next_logits([400, 2])
    with pytest.raises(partita.InvalidArgument, match="integers"):
        m.prime([0.5, 1.5])
    with pytest.raises(partita.InvalidArgument, match="begin_generation"):
        partita.TransformerXL(small()).next_logits([0])

    logits = one[0]
    first = partita.sample_token(logits, seed=1)
    assert 0 <= first < 310 and first == partita.sample_token(logits, seed=1)
    assert partita.sample_token(logits, top_k=1) == int(np.argmax(logits))
    best = int(np.argmax(logits))
    assert partita.sample_token(logits, top_k=1, banned=[best]) != best
    with pytest.raises(partita.InvalidArgument, match="temperature"):
        partita.sample_token(logits, temperature=0)
    with pytest.raises(partita.ShapeError):
        partita.sample_token(np.zeros((2, 3), np.float32))


# ------------------------------------------------------- data and corpora


def test_token_streams_and_jsb_performances():
    ts = partita.TokenStreams([[0, 5, 6], np.array([0, 7], np.int16)])
    assert len(ts) == 2 and ts.total_tokens == 5 and ts.total_targets == 3
    assert ts[1].dtype == np.int32 and list(ts[-1]) == [0, 7]
    ts.append(range(4))
    assert len(ts) == 3 and "3 pieces" in repr(ts)
    with pytest.raises(IndexError):
        ts[3]
    with pytest.raises(partita.InvalidArgument, match="integers"):
        partita.TokenStreams([[0.5]])
    with pytest.raises(partita.ShapeError):
        partita.TokenStreams([[[0, 1]]])
    jsb = partita.jsb_performances()
    assert (len(jsb.train), len(jsb.valid), len(jsb.test)) == (229, 76, 77)
    assert jsb.train.names[0].startswith("jsb/train") and jsb.train.seconds > 0
    assert jsb.train.streams[0][0] == 0 and jsb["valid"].streams.total_tokens > 0
    slow = partita.jsb_performances(qpm=50)  # half the default 100 qpm
    assert slow.valid.seconds == pytest.approx(2 * jsb.valid.seconds, rel=0.05)
    aug = partita.augment_performances(jsb.valid, copies=1, seed=3)
    assert len(aug) == 2 * len(jsb.valid) and "pieces" in repr(aug)


def test_performance_tokens_augmentation_and_folders(tmp_path):
    melody = partita.read_midi(TWINKLE)
    tokens = partita.performance_tokens(melody)
    assert tokens.dtype == np.int32 and tokens[0] == 0
    assert np.array_equal(partita.stretch_and_transpose(tokens, 1.0, 0), tokens)
    up = partita.stretch_and_transpose(tokens, 1.0, 2)
    o = partita.EventOptions()
    assert o.note_on_token(62) in up and len(up) == len(tokens)
    for i, name in enumerate(("twinkle_twinkle", "ode_to_joy", "new_world")):
        partita.write_midi(partita.read_midi(os.path.join(ROOT, "data", "melodies", f"{name}.mid")),
                           tmp_path / f"{i}.mid")
    (tmp_path / "junk.mid").write_bytes(b"not a midi file")
    corpus = partita.load_performance_folder(tmp_path)
    assert len(corpus.train) == 3 and len(corpus.valid) == 0 and len(corpus.skipped) == 1
    both = partita.transformer.load_corpus(f"jsb,{tmp_path}")
    assert len(both.train) == 229 + len(corpus.train) and len(both.skipped) == 1
    train, valid = partita.transformer.training_splits(both, augment=2, seed=1)
    assert len(train) == 3 * len(both.train) and len(valid) == 76
    with pytest.raises(partita.IoError):
        partita.load_performance_folder(tmp_path / "absent")


# --------------------------------------------------------------- evaluate, fit


def test_evaluate_nll_falls_after_a_few_fit_steps():
    pieces = ramps(6, 40)
    m = partita.TransformerXL(small(dropout=0.0), seed=1)
    before = m.evaluate_nll(pieces, batch_size=3)
    assert before == pytest.approx(np.log(310), abs=0.5)
    assert m.evaluate_nll(partita.TokenStreams(pieces), batch_size=3) == before
    r = m.fit(pieces, pieces, epochs=8, batch_size=3, lr=1e-2, warmup_steps=1, progress=False)
    after = m.evaluate_nll(pieces, batch_size=3)
    assert after < before - 1.0
    assert r.history[-1].valid_loss == pytest.approx(after, rel=1e-5)
    assert m.evaluate_nll([[0]]) == 0.0  # no targets
    with pytest.raises(partita.InvalidArgument, match="piece 1 holds token 400"):
        m.evaluate_nll([[0, 2, 3], [0, 400]])
    with pytest.raises(partita.InvalidArgument, match="batch_size"):
        m.evaluate_nll(pieces, batch_size=0)
    with pytest.raises(TypeError):
        m.evaluate_nll(5)


def test_fit_callbacks_checkpoints_and_exact_resume(tmp_path):
    train, valid = ramps(6, 30), ramps(2, 20)
    m = partita.TransformerXL(small(), seed=3).eval()
    steps, epochs = [], []
    kw = dict(batch_size=3, lr=5e-3, warmup_steps=2, progress=False)  # 8 steps an epoch
    r = m.fit(train, valid, epochs=1, seed=5, checkpoint_dir=tmp_path, on_step=steps.append,
              on_epoch=epochs.append, **kw)
    assert not m.training  # the caller's mode is restored
    assert isinstance(r, partita.FitResult) and r.global_step == len(steps) == 8 and len(epochs) == 1
    assert set(steps[0].losses) == {"loss", "lr", "grad_norm"} and steps[0].loss == steps[0].losses["loss"]
    assert np.isfinite(r.history[0].valid_loss)
    assert (tmp_path / "last.safetensors").exists() and (tmp_path / "best.safetensors").exists()
    assert partita.TransformerXL.load(tmp_path / "best.safetensors").config == small()
    resumed = partita.TransformerXL(small(), seed=99)
    r2 = resumed.fit(train, valid, epochs=2, seed=5, checkpoint_dir=str(tmp_path), resume=True, **kw)
    straight = partita.TransformerXL(small(), seed=3)
    r3 = straight.fit(train, valid, epochs=2, seed=5, **kw)
    assert r2.global_step == r3.global_step == 16 and len(r2.history) == 2
    assert r2.history[0].train_loss == r.history[0].train_loss
    assert r2.history[1].train_losses == r3.history[1].train_losses
    assert r2.history[1].valid_loss == r3.history[1].valid_loss
    stop = partita.TransformerXL(small(), seed=3).fit(train, epochs=3, on_step=lambda s: False, **kw)
    assert stop.stopped and stop.global_step == 1
    split = partita.jsb_performances().valid
    assert partita.TransformerXL(small()).fit(split, max_steps=1, batch_size=2, progress=False).global_step == 1


def test_fit_progress_and_errors(capsys):
    m = partita.TransformerXL(small(), seed=1)
    m.fit(ramps(4, 20), ramps(2, 20), epochs=1, batch_size=2, progress=True)
    assert "epoch 0" in capsys.readouterr().err  # the tqdm bar's epoch line
    with pytest.raises(partita.InvalidArgument, match="training piece 0 holds token 310"):
        m.fit([[0, 310]], progress=False)
    with pytest.raises(partita.InvalidArgument, match="warmup_steps"):
        m.fit(ramps(2), warmup_steps=0, progress=False)
    with pytest.raises(partita.InvalidArgument, match="two or more tokens"):
        m.fit([[0]], progress=False)

    def boom(info):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        m.fit(ramps(2), epochs=1, batch_size=2, on_step=boom, progress=False)


def test_fit_releases_the_gil(ticks_during):
    pieces = partita.TokenStreams(ramps(8, 60))
    fit = lambda: partita.TransformerXL(small(), seed=1).fit(pieces, epochs=20, batch_size=2, progress=False)
    assert ticks_during(fit, 0.002) > 5


# ------------------------------------------------------------------- CLI


def test_cli_extend(tmp_path, tiny_weights, run_cli):
    r = run_cli("extend", "--help")
    assert r.returncode == 0
    for opt in ("--seconds", "--temperature", "--top-p", "--top-k", "--track", "--seed", "--model", "--weights",
                "--wav"):
        assert opt in r.stdout
    out = tmp_path / "twinkle.mid"
    wav = tmp_path / "twinkle.wav"
    try:
        partita.find_soundfont()
        with_wav = ["--wav", str(wav)]
    except (AttributeError, partita.Error):  # no renderer or no SoundFont: the MIDI alone
        with_wav = []
    r = run_cli("extend", TWINKLE, "-o", str(out), "--weights", str(tiny_weights), "--seconds", "6",
                "--seed", "4", "--top-k", "40", *with_wav)
    assert r.returncode == 0, r.stderr
    assert "generated" in r.stdout and "tokens" in r.stdout and "notes" in r.stdout
    melody = partita.read_midi(TWINKLE)
    score = partita.read_midi(out)
    n = len(melody.tracks[0].notes)
    assert note_tuples(score.tracks[0])[:n] == note_tuples(melody.tracks[0]) and len(score.tracks[0].notes) > n
    api = partita.TransformerXL.load(tiny_weights).extend(melody, seconds=6, seed=4, top_k=40)
    assert note_tuples(score.tracks[0]) == note_tuples(api.tracks[0])
    if with_wav:
        assert wav.exists() and wav.stat().st_size > 1000 and "wrote" in r.stdout
    r = run_cli("extend", TWINKLE, "-o", str(out), "--weights", str(tiny_weights), "--temperature", "0")
    assert r.returncode == 1 and r.stderr.startswith("partita extend: error:") and "temperature" in r.stderr
    r = run_cli("extend", str(tmp_path / "missing.mid"), "-o", str(out), "--weights", str(tiny_weights))
    assert r.returncode == 1 and "missing.mid" in r.stderr
    r = run_cli("extend", TWINKLE, "-o", str(out), "--weights", str(tiny_weights), "--track", "3")
    assert r.returncode == 1 and "track" in r.stderr
    r = run_cli("extend", TWINKLE, "-o", str(out), env={"PARTITA_TRANSFORMER_WEIGHTS": str(tmp_path / "x.st")})
    assert r.returncode == 1 and "x.st" in r.stderr


def test_cli_train_transformer_on_a_midi_folder_and_resume(tmp_path, run_cli):
    r = run_cli("train", "transformer", "--help")
    assert r.returncode == 0 and "--config" in r.stdout and "--warmup" in r.stdout and "--augment" in r.stdout
    folder = tmp_path / "midis"
    folder.mkdir()
    for name in ("twinkle_twinkle", "ode_to_joy"):
        partita.write_midi(partita.read_midi(os.path.join(ROOT, "data", "melodies", f"{name}.mid")),
                           folder / f"{name}.mid")

    def train(epochs, *more):
        return run_cli("train", "transformer", "--out", str(tmp_path / "ck"), "--data", str(folder), "--config",
                       "small", "--layers", "1", "--batch-size", "2", "--epochs", str(epochs),
                       "--max-steps-per-epoch", "2", "--warmup", "2", "--no-progress", *more)

    r = train(1)
    assert r.returncode == 0, r.stderr
    assert "epoch 0: 2 steps" in r.stdout and "done: 2 steps" in r.stdout and "4 pieces" in r.stdout
    best = partita.TransformerXL.load(tmp_path / "ck" / "best.safetensors")
    assert best.config.layers == 1 and best.config.d_model == 24
    r = train(2, "--resume")
    assert r.returncode == 0, r.stderr
    assert "done: 4 steps" in r.stdout
    r = run_cli("train", "transformer", "--out", str(tmp_path / "x"), "--config", "huge")
    assert r.returncode == 2


def test_cli_train_transformer_init_and_keep_epochs(tmp_path, run_cli, tiny_weights):
    folder = tmp_path / "midis"
    folder.mkdir()
    for name in ("twinkle_twinkle", "ode_to_joy"):
        partita.write_midi(partita.read_midi(os.path.join(ROOT, "data", "melodies", f"{name}.mid")),
                           folder / f"{name}.mid")
    common = ("--data", str(folder), "--batch-size", "2", "--max-steps-per-epoch", "2", "--warmup", "1",
              "--lr", "1e-3", "--lr-floor", "1e-3", "--no-progress")
    r = run_cli("train", "transformer", "--out", str(tmp_path / "a"), "--init", str(tiny_weights),
                "--epochs", "2", "--keep-epochs", *common)
    assert r.returncode == 0, r.stderr
    assert f"weights from {tiny_weights}" in r.stdout and "done: 4 steps" in r.stdout
    start = partita.TransformerXL.load(str(tiny_weights)).parameters().state_dict()
    kept = [partita.TransformerXL.load(str(tmp_path / "a" / f"epoch-0{e}.safetensors")) for e in (0, 1)]
    assert all(m.config == small() for m in kept)  # the file's network, not the reference preset
    w0, w1 = (m.parameters().state_dict()["word_emb.weight"] for m in kept)
    # trained from the file's weights: a few small Adam steps away from them, and on between epochs
    assert 0 < np.abs(w0 - start["word_emb.weight"]).max() < 0.05
    assert not np.array_equal(w0, w1)
    meta = partita.load_safetensors(tmp_path / "a" / "epoch-01.safetensors").metadata
    assert meta["epoch"] == "1" and meta["valid_loss"] == "nan"  # two pieces: none held out for validation
    # the network comes from the file: size options and --resume are refused
    r = run_cli("train", "transformer", "--out", str(tmp_path / "b"), "--init", str(tiny_weights), "--layers", "2",
                *common)
    assert r.returncode != 0 and "--init" in r.stderr
    r = run_cli("train", "transformer", "--out", str(tmp_path / "a"), "--init", str(tiny_weights), "--resume",
                *common)
    assert r.returncode != 0 and "--resume" in r.stderr
    r = run_cli("train", "transformer", "--out", str(tmp_path / "c"), "--init", str(tmp_path / "missing.safetensors"),
                *common)
    assert r.returncode != 0 and "missing.safetensors" in r.stderr
