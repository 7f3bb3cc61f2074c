"""scripts/average_weights.py: checkpoint averaging of partita model files."""
import os
import subprocess
import sys

import numpy as np
import pytest

import partita

pytest.importorskip("safetensors")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "average_weights.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=120)


def small(**fields):
    config = partita.TransformerXLConfig.small()
    for k, v in fields.items():
        setattr(config, k, v)
    return config


def test_the_mean_of_three_models_loads_and_holds_the_mean(tmp_path):
    paths = []
    for seed in (1, 2, 3):
        paths.append(tmp_path / f"m{seed}.safetensors")
        partita.TransformerXL(small(), seed=seed).save(paths[-1])
    out = tmp_path / "mean.safetensors"
    r = run(out, *paths)
    assert r.returncode == 0, r.stderr
    mean = partita.TransformerXL.load(str(out))
    assert mean.config == small()
    states = [partita.TransformerXL.load(str(p)).parameters().state_dict() for p in paths]
    got = mean.parameters().state_dict()
    assert set(got) == set(states[0])
    for name, value in got.items():
        want = (states[0][name].astype(np.float64) + states[1][name] + states[2][name]) / 3
        np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-7, err_msg=name)
    # not simply one of the inputs
    assert not np.array_equal(got["word_emb.weight"], states[0]["word_emb.weight"])
    assert "m1.safetensors" in partita.load_safetensors(out).metadata["averaged_from"]


def test_mismatched_and_damaged_inputs_are_refused(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    partita.TransformerXL(small(), seed=1).save(a)
    partita.TransformerXL(small(d_inner=48), seed=1).save(b)
    out = tmp_path / "out.safetensors"
    r = run(out, a, b)
    assert r.returncode != 0 and "config" in r.stderr and str(b) in r.stderr
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(a.read_bytes()[:100])
    r = run(out, a, bad)
    assert r.returncode != 0 and str(bad) in r.stderr
    assert not out.exists()
    r = run(out, a)
    assert r.returncode != 0 and "two or more" in r.stderr
