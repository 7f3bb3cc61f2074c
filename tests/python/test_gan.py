"""The GAN from Python: config and option records, generate/critique on numpy arrays
(shapes and typed errors), model files with and without the critic, accompany (the
melody kept note for note in the written MIDI file, named parts with their programs,
seeds, reports), accompany_roll, fit with callbacks, samples, checkpoints and exact
resume, the GIL released during fit, the shipped models when installed, and the
`partita accompany` / `partita train gan` commands.

Everything except the shipped-model tests runs on tiny freshly initialised or
briefly trained networks saved to temporary files, so no shipped weights are needed."""
import os

import numpy as np
import pytest

import partita

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ODE = os.path.join(ROOT, "data", "melodies", "ode_to_joy.mid")


def tiny_config(**style):
    """A network small enough for tests (about 27k generator parameters)."""
    return partita.GanConfig(filters=4, latent_channels=8, **style)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A generator-only model file of a fresh tiny GAN (what accompany needs)."""
    path = tmp_path_factory.mktemp("gan") / "tiny.safetensors"
    partita.GAN(tiny_config(), seed=1).save(path, with_critic=False)
    return path


def tiny_windows(n=8, steps=32):
    """n four-track windows of a rising line with three held voices below it."""
    cells = np.zeros((4, n * steps, 128), np.uint8)
    for t in range(n * steps):
        cells[0, t, 60 + (t // 4) % 12] = 1
        cells[1, t, 55] = cells[2, t, 48] = cells[3, t, 40] = 1
    return partita.make_multitrack_windows([partita.MultiTrackRoll(cells)], window=steps, hop=steps)


def note_tuples(track):
    return [(n.pitch, n.start, n.end, n.velocity) for n in track.notes]


# ------------------------------------------------------------------ records


def test_config_presets_json_and_validation():
    ref = partita.GanConfig.reference()
    assert ref == partita.GanConfig() and (ref.filters, ref.latent_channels) == (64, 512)
    c = partita.GanConfig.compact()
    assert (c.filters, c.latent_channels, c.tracks, c.steps, c.pitches) == (32, 256, 4, 32, 128)
    assert c.style == "chorale" and c.part_names == ["Alto", "Tenor", "Bass"] and c.programs == [52, 52, 52]
    q = c.with_quartet_style()
    assert q.style == "quartet" and q.part_names == ["Violin II", "Viola", "Cello"] and q.programs == [40, 41, 42]
    assert q.same_architecture(c) and not q.same_architecture(ref) and q != c
    back = partita.GanConfig.from_json(q.to_json())
    assert back == q and back["part_names"] == q.part_names  # mapping access too
    assert "GanConfig(" in repr(q)
    with pytest.raises(partita.WeightsError):
        partita.GanConfig.from_json("{not json")
    for bad in (dict(filters=0), dict(steps=40), dict(tracks=1), dict(programs=[1, 2]),
                dict(programs=[0, 0, 200])):
        with pytest.raises(partita.InvalidArgument):
            partita.GanConfig(**bad)
    c.filters = 0
    with pytest.raises(partita.InvalidArgument, match="filters"):
        c.validate()


def test_option_records_hold_the_library_defaults():
    d = partita.GAN.DEFAULTS
    assert isinstance(d, partita.GanFitOptions)
    assert (d.batch_size, d.lr, d.critic_steps, d.gp_weight, d.beta1, d.beta2) == (64, 1e-3, 5, 10.0, 0.5, 0.9)
    assert d.pitch_range == (36, 81) and d.max_transpose == 5 and d.sample_every == 0
    d.pitch_range = (40, 80)
    assert d.pitch_range == (40, 80)
    a = partita.AccompanyOptions()
    assert (a.track, a.programs, a.seed, a.threshold, a.min_note_steps, a.velocity, a.monophonic) == (
        -1, [], 0, 0.0, 1, 80, True)
    assert a.leap_penalty == pytest.approx(0.02) and "leap_penalty=0.02" in repr(a)
    assert partita.AccompanyOptions(programs=[40, 41, 42]).programs == [40, 41, 42]
    assert "velocity=80" in repr(a) and a["velocity"] == 80


def test_construct_modes_and_parameter_sets():
    g = partita.GAN(tiny_config(), seed=3)
    assert g.training and g.has_critic
    assert g.config == tiny_config() and g.generator_parameter_count > g.critic_parameter_count > 0
    assert g.eval() is g and not g.training
    assert g.train() is g and g.training
    g.training = False
    assert not g.training
    names = list(g.generator_parameters().state_dict())
    assert names and all(n.startswith("generator.") for n in names)
    assert all(n.startswith("critic.") for n in g.critic_parameters().state_dict())
    assert "filters=4" in repr(g) and "eval" in repr(g)
    g.set_style(tiny_config().with_quartet_style())
    assert g.config.part_names == ["Violin II", "Viola", "Cello"]
    with pytest.raises(partita.InvalidArgument):
        g.set_style(partita.GanConfig.compact())


# ----------------------------------------------------- generate and critique


def test_generate_and_critique_shapes():
    g = partita.GAN(tiny_config(), seed=1).eval()
    z = g.sample_latent(3, seed=5)
    assert z.shape == (3, 2, 8, 8) and z.dtype == np.float32
    assert np.array_equal(z, g.sample_latent(3, seed=5)) and not np.array_equal(z, g.sample_latent(3, seed=6))
    assert np.abs(z).max() <= 2.0  # truncated normal
    melody = -np.ones((3, 32, 128, 1), np.float32)
    melody[:, :, 60] = 1.0
    y = g.generate(melody, z)
    assert y.shape == (3, 32, 128, 4) and y.dtype == np.float32
    assert np.abs(y).max() <= 1.0
    assert np.array_equal(y, g.generate(melody.astype(np.float64), z))  # any float dtype is cast
    scores = g.critique(y, melody)
    assert scores.shape == (3, 1) and np.isfinite(scores).all()


def test_one_window_follows_writes_through_numpy_views():
    # In eval mode generate() runs a packed copy of the generator's weights; it
    # must follow weights written from numpy, through a view held across calls
    # or one taken afresh, and agree with the layers.
    g = partita.GAN(tiny_config(), seed=1).eval()
    assert g.packed_inference
    z = g.sample_latent(2, seed=5)
    melody = -np.ones((2, 32, 128, 1), np.float32)
    melody[:, np.arange(32), 60 + np.arange(32) % 7] = 1.0

    def both():
        packed = g.generate(melody, z)
        np.testing.assert_allclose(packed[:1], g.generate(melody[:1], z[:1]), atol=2e-5)  # each window alone
        g.packed_inference = False
        np.testing.assert_allclose(packed, g.generate(melody, z), atol=2e-5)
        g.packed_inference = True
        return packed

    before = both()
    held = g.generator_parameters()["generator.dec.0.conv.weight"]
    held += 0.1
    after = both()
    assert np.abs(after - before).max() > 1e-3
    held -= 0.3  # the view is still alive: no stale packing
    assert np.abs(both() - after).max() > 1e-3
    del held
    g.generator_parameters()["generator.out.bias"][:] = 0.5  # a temporary view
    moved = both()
    assert np.abs(moved - after).max() > 1e-3
    sd = g.generator_parameters().state_dict()
    sd["generator.out.bias"][:] = -0.5
    g.generator_parameters().load_state_dict(sd)
    assert np.abs(both() - moved).max() > 1e-3


def test_wrong_shapes_raise_errors_naming_the_shape():
    g = partita.GAN(tiny_config(), seed=1)
    z = g.sample_latent(2, seed=0)
    melody = -np.ones((2, 32, 128, 1), np.float32)
    with pytest.raises(partita.ShapeError, match=r"\(n, 32, 128, 1\).*got shape \(32, 128, 1\)"):
        g.generate(melody[0], z)
    with pytest.raises(ValueError, match=r"\(2, 32, 64, 1\)"):  # ShapeError is a ValueError
        g.generate(melody[:, :, :64], z)
    with pytest.raises(partita.ShapeError, match=r"z.*\(2, 2, 8, 8\).*\(1, 2, 8, 8\)"):
        g.generate(melody, z[:1])
    with pytest.raises(partita.ShapeError, match=r"\(n, 32, 128, 4\).*got shape \(2, 32, 128\)"):
        g.critique(np.zeros((2, 32, 128)), melody)
    with pytest.raises(partita.ShapeError, match=r"\(2, 32, 128, 3\)"):
        g.critique(np.zeros((2, 32, 128, 3)), melody)
    with pytest.raises(TypeError):
        g.generate("not an array", z)
    with pytest.raises(partita.InvalidArgument, match="n must be >= 1"):
        g.sample_latent(0)


# ------------------------------------------------------------- model files


def test_save_and_load_with_and_without_the_critic(tmp_path):
    g = partita.GAN(tiny_config().with_quartet_style(), seed=2)
    full, small = tmp_path / "full.safetensors", str(tmp_path / "gen.safetensors")
    g.save(full, extra={"note": "test"})
    g.save(small, with_critic=False)
    assert os.path.getsize(small) < os.path.getsize(full)
    assert partita.load_safetensors(full).metadata["note"] == "test"
    a, b = partita.GAN.load(full), partita.GAN.load(small)
    assert a.has_critic and not b.has_critic
    assert not a.training and not b.training
    assert a.config == b.config == g.config and b.config.style == "quartet"
    melody = -np.ones((1, 32, 128, 1), np.float32)
    melody[0, :, 64] = 1
    z = g.sample_latent(1, seed=4)
    g.eval()
    assert np.array_equal(a.generate(melody, z), g.generate(melody, z))
    assert np.array_equal(b.generate(melody, z), g.generate(melody, z))
    with pytest.raises(partita.InvalidArgument, match="no critic"):
        b.critique(np.zeros((1, 32, 128, 4)), melody)
    with pytest.raises(partita.InvalidArgument, match="with_critic=False"):
        b.save(tmp_path / "again.safetensors")
    arcnn = tmp_path / "arcnn.safetensors"
    partita.ARCNN(levels=2, base_filters=4).save(arcnn)
    with pytest.raises(partita.WeightsError):
        partita.GAN.load(arcnn)
    with pytest.raises(partita.IoError):
        partita.GAN.load(tmp_path / "missing.safetensors")


def test_pretrained_names_and_a_missing_file(monkeypatch, tmp_path):
    with pytest.raises(partita.InvalidArgument, match="no-such-model"):
        partita.GAN.pretrained("no-such-model")
    with pytest.raises(partita.InvalidArgument, match="not a GAN"):
        partita.GAN.pretrained("arcnn-default")
    monkeypatch.setenv("PARTITA_GAN_CHORALE_WEIGHTS", str(tmp_path / "absent.safetensors"))
    with pytest.raises(partita.IoError, match="absent.safetensors"):
        partita.GAN.pretrained("chorale")
    assert not partita.gan.pretrained_available("chorale")


@pytest.mark.parametrize("style", partita.gan.STYLES)
def test_shipped_model_accompanies(style):
    if not partita.gan.pretrained_available(style):
        pytest.skip(f"the shipped {style} GAN (gan-{style}.safetensors) is not installed")
    g = partita.GAN.pretrained(style)
    assert not g.training and g.config.style == style
    shipped = partita.GanConfig.compact()
    shipped.melody_chroma = style == "chorale"  # the chorale style also hears the melody's pitch classes
    assert g.config.same_architecture(shipped)
    melody = partita.read_midi(ODE)
    out, report = g.accompany(melody, seed=1, return_report=True)
    assert note_tuples(out.tracks[0]) == note_tuples(melody.tracks[0])
    assert [t.name for t in out.tracks[1:]] == g.config.part_names
    assert sum(report.notes_per_part) > 0


# ---------------------------------------------------------------- accompany


def test_accompany_keeps_the_melody_in_the_written_file(tmp_path, tiny_weights, mido_notes):
    mido = pytest.importorskip("mido")
    g = partita.GAN.load(tiny_weights)
    out = g.accompany(ODE, seed=3)
    path = tmp_path / "out.mid"
    partita.write_midi(out, path)
    src = [mido_notes(t) for t in mido.MidiFile(ODE).tracks]
    dst = mido.MidiFile(path)
    src_melody = next(n for n in src if n)
    voiced = [t for t in dst.tracks if mido_notes(t)]
    assert mido_notes(voiced[0]) == src_melody  # pitch, start, end and velocity of every note
    assert dst.ticks_per_beat == mido.MidiFile(ODE).ticks_per_beat
    names = [t.name for t in dst.tracks if t.name]
    assert names[-3:] == ["Alto", "Tenor", "Bass"]
    programs = [[m.program for m in t if m.type == "program_change"] for t in dst.tracks if t.name in names[-3:]]
    assert programs == [[52], [52], [52]]


def test_accompany_parts_named_with_their_programs(tiny_weights):
    g = partita.GAN.load(tiny_weights)
    melody = partita.read_midi(ODE)
    out = g.accompany(melody, seed=0)
    assert len(out.tracks) == 4
    assert note_tuples(out.tracks[0]) == note_tuples(melody.tracks[0])
    assert out.ticks_per_quarter == melody.ticks_per_quarter
    assert [t.qpm for t in out.tempos] == [t.qpm for t in melody.tempos]
    assert [(t.name, t.program, t.is_drum) for t in out.tracks[1:]] == [
        ("Alto", 52, False), ("Tenor", 52, False), ("Bass", 52, False)]
    assert all(n.velocity == 80 for t in out.tracks[1:] for n in t.notes)
    custom = g.accompany(melody, programs=[40, 41, 42], velocity=64)
    assert [t.program for t in custom.tracks[1:]] == [40, 41, 42]
    assert {n.velocity for t in custom.tracks[1:] for n in t.notes} <= {64}
    g.set_style(tiny_config().with_quartet_style())
    quartet = g.accompany(melody)
    assert [(t.name, t.program) for t in quartet.tracks[1:]] == [("Violin II", 40), ("Viola", 41), ("Cello", 42)]


def test_accompany_seeds_reports_and_options(tiny_weights):
    g = partita.GAN.load(tiny_weights)
    melody = partita.read_midi(ODE)

    def parts(score):
        return [note_tuples(t) for t in score.tracks[1:]]

    a, rep = g.accompany(melody, seed=7, return_report=True)
    assert parts(a) == parts(g.accompany(melody, seed=7))
    assert parts(a) != parts(g.accompany(melody, seed=8))
    assert isinstance(rep, partita.AccompanyReport) and rep.melody_track == 0
    assert rep.windows == -(-rep.steps // 32) and rep.octave_shift % 12 == 0
    assert rep.notes_per_part == [len(t.notes) for t in a.tracks[1:]]
    assert "notes_per_part=" in repr(rep) and rep["windows"] == rep.windows
    # One note at a time per part by default; every cell above the threshold when polyphonic.
    cells = np.asarray(partita.to_multitrack(a, resolution=4, binarize=True).array)[1:]
    assert cells.sum(axis=2).max() == 1
    chords = g.accompany(melody, seed=7, monophonic=False)
    assert np.asarray(partita.to_multitrack(chords, resolution=4, binarize=True).array)[1:].sum(axis=2).max() > 1
    fewer = g.accompany(melody, seed=7, threshold=0.5, min_note_steps=2)
    assert sum(len(t.notes) for t in fewer.tracks[1:]) < sum(len(t.notes) for t in a.tracks[1:])
    assert all(n.end - n.start >= 2 * 120 for t in fewer.tracks[1:] for n in t.notes)  # 2 16ths at 480 tpq
    for bad in (dict(threshold=1.5), dict(programs=[1, 2]), dict(min_note_steps=0), dict(velocity=0),
                dict(track=5)):
        with pytest.raises(partita.InvalidArgument):
            g.accompany(melody, **bad)
    with pytest.raises(partita.InvalidArgument, match="no tracks"):
        g.accompany(partita.Score())


def test_leap_penalty_smooths_the_lines(tiny_weights):
    g = partita.GAN.load(tiny_weights)
    roll = partita.read_midi(ODE).to_pianoroll(resolution=4, binarize=True)

    def leaps(penalty):
        # Semitones moved from each sounding pitch to the next one (across rests), all parts.
        parts = np.asarray(g.accompany_roll(roll, seed=5, leap_penalty=penalty).array)
        total = 0
        for part in parts:
            line = [int(np.argmax(row)) for row in part if row.any()]
            assert all(row.sum() <= 1 for row in part)
            total += int(np.abs(np.diff(line)).sum())
        return total

    free, light, heavy = leaps(0.0), leaps(0.02), leaps(0.5)
    assert free > light > heavy  # a larger penalty never moves more
    score = partita.read_midi(ODE)
    a = g.accompany(score, seed=5, leap_penalty=0.0)
    b = g.accompany(score, seed=5, leap_penalty=0.0, threshold=0.0)
    assert [note_tuples(t) for t in a.tracks] == [note_tuples(t) for t in b.tracks]
    for bad in (-0.1, float("nan"), 1000.0):
        with pytest.raises(partita.InvalidArgument, match="leap_penalty"):
            g.accompany(score, leap_penalty=bad)


def test_accompany_roll_from_a_pianoroll_or_an_array(tiny_weights):
    g = partita.GAN.load(tiny_weights)
    roll = partita.read_midi(ODE).to_pianoroll(resolution=4, binarize=True)
    parts, rep = g.accompany_roll(roll, seed=2, return_report=True)
    assert isinstance(parts, partita.MultiTrackRoll)
    assert parts.array.shape == (3, roll.shape[0], 128) and parts.binary and parts.resolution == 4
    assert parts.names == ("Alto", "Tenor", "Bass") and parts.programs == (52, 52, 52)
    assert rep.steps == roll.shape[0] and rep.windows == -(-roll.shape[0] // 32)
    same = g.accompany_roll(np.asarray(roll.array), seed=2, programs=[0, 1, 2])
    assert np.array_equal(np.asarray(same.array), np.asarray(parts.array)) and same.programs == (0, 1, 2)
    assert np.asarray(parts.array).sum(axis=2).max() == 1  # monophonic parts
    poly = g.accompany_roll(roll, seed=2, monophonic=False)
    assert np.asarray(poly.array).sum() > np.asarray(parts.array).sum()
    long = np.zeros((100, 128), np.uint8)
    long[:, 72] = 1
    assert g.accompany_roll(long).array.shape == (3, 100, 128)
    with pytest.raises(partita.InvalidArgument, match="resolution"):
        g.accompany_roll(partita.PianoRoll.zeros(64, resolution=24))
    with pytest.raises(partita.InvalidArgument, match="no notes"):
        g.accompany_roll(np.zeros((32, 128), np.uint8))


# ---------------------------------------------------------------------- fit


def test_fit_callbacks_samples_checkpoints_and_exact_resume(tmp_path):
    train = tiny_windows(8)
    assert len(train) == 8
    g = partita.GAN(tiny_config(), seed=3).eval()
    steps, epochs, samples = [], [], []
    kw = dict(batch_size=2, critic_steps=1, max_transpose=2, progress=False)  # 4 windows a step: 2 steps an epoch
    r = g.fit(train, None, epochs=1, seed=5, checkpoint_dir=tmp_path, sample_every=1, sample_count=2,
              on_step=steps.append, on_epoch=epochs.append, on_sample=samples.append, **kw)
    assert not g.training  # the caller's mode is restored
    assert isinstance(r, partita.FitResult) and r.global_step == 2 and len(r.history) == 1
    assert [s.global_step for s in steps] == [1, 2] and len(epochs) == 1
    assert set(steps[0].losses) == {"critic", "generator", "wasserstein", "penalty"}
    assert steps[0].loss == steps[0].losses["critic"]
    assert all(np.isfinite(list(s.losses.values())).all() for s in steps)
    assert [s.global_step for s in samples] == [1, 2]
    assert isinstance(samples[0], partita.GanSample)
    assert samples[0].melody.shape == (2, 32, 128, 1) and samples[0].generated.shape == (2, 32, 128, 4)
    assert samples[0].generated.dtype == np.float32 and np.abs(samples[1].generated).max() <= 1.0
    assert "global_step=1" in repr(samples[0])
    assert (tmp_path / "last.safetensors").exists() and (tmp_path / "best.safetensors").exists()
    assert partita.GAN.load(tmp_path / "best.safetensors").has_critic
    # Resume for a second epoch: the same as two epochs in one go.
    resumed = partita.GAN(tiny_config(), seed=99)
    r2 = resumed.fit(train, None, epochs=2, seed=5, checkpoint_dir=str(tmp_path), resume=True, **kw)
    straight = partita.GAN(tiny_config(), seed=3)
    r3 = straight.fit(train, None, epochs=2, seed=5, **kw)
    assert r2.global_step == r3.global_step == 4 and len(r2.history) == 2
    assert r2.history[0].train_loss == r.history[0].train_loss
    assert r2.history[1].train_losses == r3.history[1].train_losses
    with pytest.raises(partita.InvalidArgument, match="sample_count"):
        g.fit(train, sample_every=1, sample_count=3, **kw)
    stop = partita.GAN(tiny_config(), seed=3).fit(train, epochs=3, on_step=lambda s: False, **kw)
    assert stop.stopped and stop.global_step == 1


def test_fit_validation_progress_and_errors(capsys):
    train, valid = tiny_windows(8), tiny_windows(4)
    g = partita.GAN(tiny_config(), seed=1)
    r = g.fit(train, valid, epochs=1, batch_size=2, critic_steps=1, max_valid_batches=1, progress=True)
    assert np.isfinite(r.history[0].valid_loss)
    assert "epoch 0" in capsys.readouterr().err  # the tqdm bar's epoch line
    with pytest.raises(partita.InvalidArgument, match="critic_steps"):
        g.fit(train, critic_steps=0, progress=False)
    with pytest.raises(partita.InvalidArgument, match="tracks"):
        partita.GAN(tiny_config(tracks=3, part_names=["A", "B"], programs=[0, 0])).fit(train, progress=False)

    def boom(info):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        g.fit(train, epochs=1, batch_size=2, critic_steps=1, on_step=boom, progress=False)


def test_fit_releases_the_gil(ticks_during):
    train = tiny_windows(8)
    fit = lambda: partita.GAN(tiny_config(), seed=1).fit(train, epochs=3, batch_size=2, critic_steps=1,
                                                         progress=False)
    assert ticks_during(fit, 0.002) > 5


# ------------------------------------------------------------- helpers, CLI


def test_style_config_and_training_windows():
    c = partita.gan.style_config("quartet", filters=8, latent_channels=16)
    assert (c.filters, c.latent_channels, c.style) == (8, 16, "quartet")
    with pytest.raises(partita.InvalidArgument, match="style"):
        partita.gan.style_config("jazz")
    assert set(partita.gan.DEFAULT_WEIGHTS) == set(partita.gan.STYLES)
    train, valid = partita.gan.training_windows("jsb")
    assert (train.tracks, train.steps, valid.tracks) == (4, 32, 4) and len(train) > len(valid) > 0


def test_cli_accompany(tmp_path, tiny_weights, run_cli):
    r = run_cli("accompany", "--help")
    assert r.returncode == 0
    for opt in ("--style", "--weights", "--programs", "--track", "--seed", "--threshold", "--min-note-steps",
                "--polyphonic", "--wav"):
        assert opt in r.stdout
    out = tmp_path / "ode.mid"
    r = run_cli("accompany", ODE, "-o", str(out), "--weights", str(tiny_weights), "--programs", "40,41,42",
                "--seed", "2", "--min-note-steps", "2")
    assert r.returncode == 0, r.stderr
    assert "melody track 0" in r.stdout and "Alto" in r.stdout
    score = partita.read_midi(out)
    assert note_tuples(score.tracks[0]) == note_tuples(partita.read_midi(ODE).tracks[0])
    assert [(t.name, t.program) for t in score.tracks[1:]] == [("Alto", 40), ("Tenor", 41), ("Bass", 42)]
    again = tmp_path / "again.mid"
    run_cli("accompany", ODE, "-o", str(again), "--weights", str(tiny_weights), "--programs", "40,41,42",
            "--seed", "2", "--min-note-steps", "2")
    assert again.read_bytes() == out.read_bytes()
    chords = tmp_path / "chords.mid"
    r = run_cli("accompany", ODE, "-o", str(chords), "--weights", str(tiny_weights), "--seed", "2", "--polyphonic")
    assert r.returncode == 0, r.stderr
    assert partita.read_midi(chords).note_count > partita.read_midi(out).note_count
    r = run_cli("accompany", ODE, "-o", str(out), env={"PARTITA_GAN_CHORALE_WEIGHTS": str(tmp_path / "x.st")})
    assert r.returncode == 1 and r.stderr.startswith("partita accompany: error:") and "x.st" in r.stderr
    r = run_cli("accompany", ODE, "-o", str(out), "--weights", str(tiny_weights), "--programs", "1,2")
    assert r.returncode == 1 and "programs" in r.stderr
    r = run_cli("accompany", ODE, "--style", "jazz")
    assert r.returncode == 2


def test_cli_train_gan_on_a_midi_folder_and_resume(tmp_path, run_cli):
    r = run_cli("train", "gan", "--help")
    assert r.returncode == 0 and "--midi-dir" in r.stdout and "--critic-steps" in r.stdout
    folder = tmp_path / "midis"
    folder.mkdir()
    for i, roll in enumerate(partita.load_jsb_multitrack().valid[:10]):
        partita.write_midi(roll.to_score(), folder / f"chorale{i:02d}.mid")
    def train(epochs, *more):
        return run_cli("train", "gan", "--out", str(tmp_path / "ck"), "--midi-dir", str(folder), "--style",
                       "quartet", "--filters", "4", "--latent", "8", "--batch-size", "2", "--critic-steps", "1",
                       "--epochs", str(epochs), "--max-steps-per-epoch", "2", "--max-valid-batches", "1",
                       "--no-progress", *more)

    r = train(1)
    assert r.returncode == 0, r.stderr
    assert "epoch 0: critic" in r.stdout and "done: 2 steps" in r.stdout
    gen = partita.GAN.load(tmp_path / "ck" / "generator.safetensors")
    assert not gen.has_critic and gen.config.style == "quartet" and gen.config.filters == 4
    r = train(2, "--resume")
    assert r.returncode == 0, r.stderr
    assert "done: 4 steps" in r.stdout


def test_melody_chroma_matches_the_torch_twin():
    # GanConfig.melody_chroma: the twin (tools/torch_twins/gan_twin.py) builds the
    # same second melody channel; partita's weights loaded there give the same
    # generator output and critic scores.
    torch = pytest.importorskip("torch")
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools", "torch_twins"))
    import gan_twin

    cfg = partita.GanConfig(filters=4, latent_channels=8, melody_chroma=True)
    assert cfg.melody_chroma and "melody_chroma" in repr(cfg)
    g = partita.GAN(cfg, seed=2).eval()
    twin = gan_twin.GanTwin({"filters": 4, "latent_channels": 8, "melody_chroma": True}).eval()
    sd = {k: torch.from_numpy(v) for k, v in g.generator_parameters().state_dict().items()}
    sd.update({k: torch.from_numpy(v) for k, v in g.critic_parameters().state_dict().items()})
    twin.load_state_dict(sd)
    melody = -np.ones((2, 32, 128, 1), np.float32)
    melody[0, np.arange(32), 60 + np.arange(32) % 5] = 1.0
    melody[1, np.arange(0, 32, 2), 72] = 1.0  # rests on odd steps
    z = g.sample_latent(2, seed=3)
    with torch.no_grad():
        want = twin.generator(torch.from_numpy(melody), torch.from_numpy(z)).numpy()
        scores = twin.critic(torch.from_numpy(want), torch.from_numpy(melody)).numpy()
    got = g.generate(melody, z)
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(g.critique(want, melody), scores, rtol=1e-4, atol=1e-4)
    # The channel is what the twin sees: pitch class 0 (rows 0, 12, ..) at step 0 of window 0.
    inp = gan_twin.melody_input(torch.from_numpy(melody), True).numpy()
    assert inp.shape == (2, 32, 128, 2)
    assert set(np.nonzero(inp[0, 0, :, 1] > 0)[0] % 12) == {0}
    assert (inp[1, 1, :, 1] == -1).all()
