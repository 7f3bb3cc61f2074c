"""partita.simd_level / set_simd_level / cpu_info: the run-time kernel choice seen from Python."""
import numpy as np
import pytest

import partita

LEVELS = ["generic", "avx2", "avx512"]


def _available():
    detected = partita.cpu_info().detected
    return LEVELS[: LEVELS.index(detected) + 1]


def test_cpu_info_names_the_levels():
    info = partita.cpu_info()
    assert isinstance(info, partita.CpuInfo)
    assert info.simd_level in LEVELS and info.detected in LEVELS
    assert LEVELS.index(info.simd_level) <= LEVELS.index(info.detected)
    assert info["detected"] == info.detected  # also readable by key
    if info.detected == "avx512":
        assert "avx512f" in info.features.split()


def test_every_level_gives_the_same_network_output():
    # an AR-CNN forward pass (convolutions through gemm) at each level the CPU has
    model = partita.ARCNN(levels=2, base_filters=8, seed=3)
    model.training = False  # no dropout: the same function at every level
    x = (np.random.default_rng(0).random((1, 32, 128)) < 0.1).astype(np.float32)
    outputs = {}
    try:
        for level in _available():
            partita.set_simd_level(level)
            assert partita.simd_level() == level
            outputs[level] = model.forward(x)
    finally:
        partita.set_simd_level("auto")
    assert partita.simd_level() == partita.cpu_info().simd_level
    for level, out in outputs.items():
        np.testing.assert_allclose(out, outputs["generic"], rtol=1e-4, atol=1e-4, err_msg=level)


def test_bad_level_is_a_value_error():
    with pytest.raises(ValueError, match="parse_simd_level"):
        partita.set_simd_level("sse9")


def test_matmul_precision_bfloat16_is_close_and_faster_products_only_where_available():
    # the same AR-CNN forward pass with bfloat16 products: close to float32 (8 significant
    # bits per operand, float32 sums), and active only where the CPU has AVX512_BF16
    model = partita.ARCNN(levels=2, base_filters=8, seed=3)
    model.training = False
    x = (np.random.default_rng(1).random((2, 128, 128)) < 0.1).astype(np.float32)
    assert partita.matmul_precision() == "float32"
    exact = model.forward(x)
    has_bf16 = partita.cpu_info().simd_level == "avx512" and "avx512bf16" in partita.cpu_info().features.split()
    try:
        partita.set_matmul_precision("bf16")
        assert partita.matmul_precision() == "bfloat16"
        assert partita.bf16_matmul_active() == has_bf16
        rounded = model.forward(x)
    finally:
        partita.set_matmul_precision("float32")
    assert not partita.bf16_matmul_active()
    np.testing.assert_allclose(rounded, exact, rtol=0.05, atol=0.05)
    if has_bf16:
        assert not np.array_equal(rounded, exact)  # the bfloat16 kernel did run
    else:
        np.testing.assert_array_equal(rounded, exact)
    with pytest.raises(ValueError, match="parse_matmul_precision"):
        partita.set_matmul_precision("fp16")


def test_matmul_precision_from_the_environment():
    import os
    import subprocess
    import sys
    code = "import partita; print(partita.matmul_precision())"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for value, want, warns in (("bfloat16", "bfloat16", False), ("BF16", "bfloat16", False),
                               ("fp32", "float32", False), ("fp17", "float32", True)):
        r = subprocess.run([sys.executable, "-c", code], env=dict(env, PARTITA_MATMUL_PRECISION=value),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == want, value
        assert ("PARTITA_MATMUL_PRECISION='fp17'" in r.stderr) == warns, r.stderr
