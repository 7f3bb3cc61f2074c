"""safetensors interchange: partita's files read by the `safetensors` package and by
plain numpy, files written by `safetensors` read by partita, ParameterSet views and
state dicts (PyTorch layouts), Adam/AdamW and schedules from Python."""
import json
import struct

import numpy as np
import pytest

import partita

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def parse_with_numpy(path):
    """A reader in ~10 lines: proves the format is plain (length, JSON, raw data)."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    dt = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "U8": "u1", "BOOL": "?", "F16": "<f2", "I32": "<i4"}
    out = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=dt[v["dtype"]])
              .reshape(v["shape"]) for k, v in header.items()}
    return out, meta, n


@pytest.fixture
def tensors():
    rng = np.random.default_rng(0)
    return {
        "enc.conv.weight": rng.standard_normal((4, 3, 2, 2)).astype(np.float32),
        "steps": np.arange(5, dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
        "pitch": np.array([60, 62, 255], dtype=np.uint8),
        "double": np.array(3.25, dtype=np.float64),
        "half": np.array([1.5, -2.0], dtype=np.float16),
        "strided": rng.standard_normal((6, 4)).astype(np.float32)[::2, ::-1],  # non-contiguous
    }


def test_our_file_reads_with_safetensors_and_numpy(tmp_path, tensors):
    path = str(tmp_path / "w.safetensors")
    config = json.dumps({"filters": [64, 128], "name": "critic"})
    partita.save_safetensors(path, tensors, {"config": config})
    loaded = safetensors_numpy.load_file(path)
    assert set(loaded) == set(tensors)
    for k, v in tensors.items():
        assert loaded[k].dtype == v.dtype, k
        np.testing.assert_array_equal(loaded[k], v)
    from safetensors import safe_open
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    assert meta["partita.format"] == "1"
    assert json.loads(meta["config"])["filters"] == [64, 128]
    ours, meta2, n = parse_with_numpy(path)
    assert (8 + n) % 8 == 0
    assert meta2 == meta
    for k, v in tensors.items():
        np.testing.assert_array_equal(ours[k], v)


def test_file_written_by_safetensors_loads(tmp_path, tensors):
    path = str(tmp_path / "theirs.safetensors")
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    safetensors_numpy.save_file(tensors, path, metadata={"origin": "safetensors"})
    got, meta = partita.load_safetensors(path)
    assert meta == {"origin": "safetensors"}
    for k, v in tensors.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape, k
        np.testing.assert_array_equal(got[k], v)


def test_errors(tmp_path):
    path = str(tmp_path / "bad.safetensors")
    partita.save_safetensors(path, {"w": np.ones((10, 10), np.float32)})
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:-7])
    with pytest.raises(partita.WeightsError, match="'w'.*out of range"):
        partita.load_safetensors(path)
    with pytest.raises(ValueError):  # WeightsError is a FormatError is a ValueError
        partita.load_safetensors(path)
    open(path, "wb").write(b"\x05\x00")
    with pytest.raises(partita.WeightsError, match="truncated"):
        partita.load_safetensors(path)
    with pytest.raises(OSError):
        partita.load_safetensors(str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match="unsupported numpy dtype"):
        partita.save_safetensors(path, {"c": np.zeros(2, np.complex64)})
    with pytest.raises(ValueError, match="metadata"):
        partita.save_safetensors(path, {"a": np.zeros(2, np.float32)}, {"k": 1})


def make_params():
    ps = partita.ParameterSet()
    ps.add("conv.weight", [4, 4, 2, 3], layout="conv_hwio")  # (kh, kw, in, out)
    ps.add("conv.bias", [3])
    ps.add("fc.weight", [5, 2], layout="linear_io")          # (in, out)
    ps.add("bn.running_var", [3], trainable=False)
    ps.allocate(0)
    return ps


def test_parameter_views_alias_cpp_memory():
    ps = make_params()
    w = ps["conv.weight"]
    assert w.shape == (4, 4, 2, 3) and w.dtype == np.float32 and w.flags.writeable
    w[1, 2, 0, 2] = 7.0
    assert ps["conv.weight"][1, 2, 0, 2] == 7.0            # same memory
    flat = ps.values()
    assert flat.size == ps.size and 7.0 in flat
    ps.grad("conv.bias")[:] = 2.0
    assert partita.grad_norm(ps) == pytest.approx(np.sqrt(12.0))
    ps.zero_grad()
    assert not ps.grad("conv.bias").any()
    del ps                                               # views keep the buffer alive
    assert w[1, 2, 0, 2] == 7.0
    with pytest.raises(KeyError):
        make_params()["nope"]


def test_state_dict_loads_into_torch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    ps = make_params()
    rng = np.random.default_rng(1)
    for name, arr in ps.arrays().items():
        arr[...] = rng.standard_normal(arr.shape)
    conv = torch.nn.Conv2d(2, 3, 4)
    fc = torch.nn.Linear(5, 2, bias=False)
    sd = ps.state_dict()
    assert sd["conv.weight"].shape == (3, 2, 4, 4) and sd["fc.weight"].shape == (2, 5)
    conv.load_state_dict({"weight": torch.from_numpy(sd["conv.weight"]), "bias": torch.from_numpy(sd["conv.bias"])})
    fc.load_state_dict({"weight": torch.from_numpy(sd["fc.weight"])})
    # Our (kh, kw, in, out) cell is torch's (out, in, kh, kw) cell.
    assert conv.weight[2, 1, 3, 0].item() == ps["conv.weight"][3, 0, 1, 2]
    x = rng.standard_normal((1, 5)).astype(np.float32)
    np.testing.assert_allclose(fc(torch.from_numpy(x)).detach().numpy(), x @ ps["fc.weight"], rtol=1e-5)

    # File written by us -> torch's load_file -> load_state_dict of a twin module.
    from safetensors.torch import load_file, save_file
    path = str(tmp_path / "model.safetensors")
    ps.save(path, {"config": "{}"})
    twin = torch.nn.ModuleDict({"conv": torch.nn.Conv2d(2, 3, 4), "fc": torch.nn.Linear(5, 2, bias=False)})
    sd_file = load_file(path)
    running = sd_file.pop("bn.running_var")
    twin.load_state_dict(sd_file)
    np.testing.assert_array_equal(running.numpy(), ps["bn.running_var"])
    # ... and back: the twin's file (torch layout) loads into a fresh set.
    with torch.no_grad():
        twin["fc"].weight.mul_(2.0)
    back = {k: v.contiguous() for k, v in twin.state_dict().items()}
    back["bn.running_var"] = running
    save_file(back, path)
    fresh = make_params()
    report = fresh.load(path)
    assert sorted(report["loaded"]) == sorted(ps.names()) and not report["missing"]
    np.testing.assert_array_equal(fresh["conv.weight"], ps["conv.weight"])
    np.testing.assert_array_equal(fresh["fc.weight"], 2.0 * ps["fc.weight"])


def test_load_state_dict_strictness():
    ps = make_params()
    sd = ps.state_dict()
    sd["conv.bias"][:] = 4.0
    del sd["fc.weight"]
    sd["extra"] = np.zeros(1, np.float32)
    with pytest.raises(partita.WeightsError, match="fc.weight"):
        ps.load_state_dict(sd)
    assert not ps["conv.bias"].any()                      # untouched after a failed strict load
    rep = ps.load_state_dict(sd, strict=False)
    assert rep["missing"] == ["fc.weight"] and rep["unexpected"] == ["extra"]
    assert (ps["conv.bias"] == 4.0).all()
    sd["conv.bias"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="shape"):
        ps.load_state_dict(sd, strict=False)


def test_adam_matches_torch_and_state_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    ps = partita.ParameterSet()
    ps.add("w", [3, 4])
    ps.allocate(0)
    init = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    ps["w"][...] = init
    tw = torch.nn.Parameter(torch.from_numpy(init.copy()))
    opt_t = torch.optim.AdamW([tw], lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)
    opt = partita.AdamW(ps, lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)
    sched = partita.InverseSqrtSchedule(0.05, 2, 0.0)
    for step in range(1, 5):
        g = np.random.default_rng(10 + step).standard_normal((3, 4)).astype(np.float32)
        ps.grad("w")[...] = g
        tw.grad = torch.from_numpy(g.copy())
        lr = sched(step)
        opt.lr = lr
        for group in opt_t.param_groups:
            group["lr"] = lr
        opt.step()
        opt_t.step()
    np.testing.assert_allclose(ps["w"], tw.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert opt.step_count == 4
    path = str(tmp_path / "adam.safetensors")
    opt.save_state(path)
    again = partita.Adam(ps)
    again.load_state(path)
    assert again.step_count == 4 and again.lr == pytest.approx(sched(4))
    with pytest.raises(partita.WeightsError, match="not an Adam state"):
        partita.Adam(ps).load_state(_write_plain(tmp_path))  # a weights file
    assert partita.clip_grad_norm(ps, 1e-3) > 1e-3
    assert partita.grad_norm(ps) == pytest.approx(1e-3, rel=1e-4)


def _write_plain(tmp_path):
    path = str(tmp_path / "plain.safetensors")
    partita.save_safetensors(path, {"w": np.zeros((3, 4), np.float32)})
    return path
