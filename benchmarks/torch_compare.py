#!/usr/bin/env python3
"""Side-by-side: partita's kernels against PyTorch on the same shapes and threads.

What it does, in order:
  1. runs bench_peak (an FMA loop) and takes the machine's measured float32 peak
     for 1 and for all threads: every "% peak" printed is of that figure;
  2. runs bench_gemm (partita::gemm on the models' shapes), one benchmark at a
     time, each followed at once by the same work in PyTorch, and the same products
     in PyTorch (torch.matmul / torch.bmm on tensors laid out like ours, so a
     transposed operand is a transposed view, as in our call);
  3. when they exist, runs bench_conv (3x3 convs of the AR-CNN, 4x4 stride-2
     convs of the GAN, forward and backward) and bench_attention (one
     Transformer-XL attention layer, forward + backward) and the same work in
     PyTorch;
and prints, per shape: our GFLOP/s, % of peak, PyTorch's GFLOP/s, % of peak, and
the ratio ours / torch of the median times (< 1: we are faster). Where both sides
report process CPU time (bench_gemm's cpu_s counter; time.process_time() for
PyTorch) it also prints GFLOP per CPU-second: on a shared machine wall time
depends on the other load, work per CPU-second much less.

Our side runs with OMP_NUM_THREADS=<threads> (default 2); PyTorch with
torch.set_num_threads(<threads>). Both run with the same OMP_WAIT_POLICY
(--wait-policy, default passive): on a shared 2-core machine a spinning idle
OpenMP thread burns the core its partner needs, and a layer that opens a few
hundred parallel regions ran 20-200x slower with spinning (measured: one AR-CNN
conv at batch 1, 3.4 ms passive vs 740 ms spinning, at load ~11). Each figure is the median of --reps runs
(Google Benchmark repetitions on our side, timed loops of >= --min-time s on
PyTorch's). The machine is shared: check `uptime` first and say what the load was.

Run PyTorch at its best only here, with this exact command (never in tests or CI):

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 \
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
    python3 benchmarks/torch_compare.py [--build build/gemm] [--reps 5] [--markdown]

--build is the CMake build folder holding benchmarks/bench_*; --only gemm|conv|attention
restricts the run; --markdown prints the table as Markdown for docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------
# Our side: Google Benchmark programs in JSON
# ---------------------------------------------------------------------------

def run_bench(exe: Path, threads: int, reps: int, bench_filter: str | None = None,
              min_time: float = 0.2) -> list[dict]:
    """Runs one benchmark program; returns its 'median' aggregate entries."""
    cmd = [str(exe), "--benchmark_format=json", f"--benchmark_repetitions={reps}",
           f"--benchmark_min_time={min_time}"]
    if reps > 1:
        cmd.append("--benchmark_report_aggregates_only=true")
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    if not out.strip():  # the filter matched nothing
        return []
    data = json.loads(out)
    medians = [b for b in data["benchmarks"] if b.get("aggregate_name") == "median"]
    # one repetition: Google Benchmark reports no aggregates, only the run
    return medians or [b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"]


def list_benches(exe: Path, bench_filter: str | None) -> list[str]:
    cmd = [str(exe), "--benchmark_list_tests=true"]
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def run_one(exe: Path, name: str, threads: int, reps: int, min_time: float) -> dict | None:
    """Runs one benchmark of a program by its exact name (just before PyTorch
    runs the same work, so both see about the same load on a shared machine)."""
    found = run_bench(exe, threads, reps, "^" + re.escape(name) + "$", min_time)
    return found[0] if found else None


def seconds(entry: dict) -> float:
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]
    return entry["real_time"] * scale


def gflops(entry: dict) -> float:
    """The GFLOPS counter (Google Benchmark reports rates per second)."""
    for key in ("GFLOPS", "GFLOP/s", "gflops"):
        if key in entry:
            return float(entry[key])
    return float("nan")


# ---------------------------------------------------------------------------
# PyTorch side
# ---------------------------------------------------------------------------

# process CPU seconds per call (all threads) of the last time_torch measurement
LAST_TORCH_CPU = [float("nan")]


def time_torch(fn, reps: int, min_time: float) -> float:
    """Median seconds per call of fn() over `reps` timed loops of >= min_time s;
    the median process CPU seconds per call goes to LAST_TORCH_CPU[0]."""
    fn()
    fn()  # warm up (allocator, MKL/oneDNN primitive caches)
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    iters = max(1, int(min_time / once))
    samples, cpu = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters)
        cpu.append((time.process_time() - c0) / iters)
    LAST_TORCH_CPU[0] = statistics.median(cpu)
    return statistics.median(samples)


GEMM_NAME = re.compile(r"^gemm/(?P<shape>[^/]+)/(?P<t>[NT]{2})/m=(?P<m>\d+)/n=(?P<n>\d+)/k=(?P<k>\d+)"
                       r"(?:/b=(?P<b>\d+))?")


def torch_gemm(torch, ta: bool, tb: bool, m: int, n: int, k: int, batch: int, reps: int,
               min_time: float) -> float:
    g = torch.Generator().manual_seed(0)
    # operands stored as in our benchmark; a transposed operand is a transposed view
    a = torch.rand((batch, k, m) if ta else (batch, m, k), generator=g) * 2 - 1
    b = torch.rand((batch, n, k) if tb else (batch, k, n), generator=g) * 2 - 1
    a_op = a.transpose(1, 2) if ta else a
    b_op = b.transpose(1, 2) if tb else b
    if batch == 1:
        a_op, b_op = a_op[0], b_op[0]
        out = torch.empty(m, n)
        return time_torch(lambda: torch.matmul(a_op, b_op, out=out), reps, min_time)
    out = torch.empty(batch, m, n)
    return time_torch(lambda: torch.bmm(a_op, b_op, out=out), reps, min_time)


def conv_params(entry: dict) -> dict | None:
    """Reads a conv shape out of a bench_conv entry: 'key=value' or 'key:value'
    parts of the name (n|batch, h, w, cin|ci, cout|co, k|kh, s|stride) or
    user counters of the same names. Returns None when incomplete."""
    found: dict[str, int] = {}
    aliases = {"n": "n", "batch": "n", "b": "n", "h": "h", "w": "w", "cin": "cin", "ci": "cin",
               "in": "cin", "cout": "cout", "co": "cout", "out": "cout", "k": "k", "kh": "k",
               "kernel": "k", "s": "s", "stride": "s"}
    for key, val in re.findall(r"([A-Za-z_]+)[=:](\d+)", entry["name"]):
        if key.lower() in aliases:
            found.setdefault(aliases[key.lower()], int(val))
    for key, alias in aliases.items():
        if key in entry and alias not in found:
            try:
                found[alias] = int(entry[key])
            except (TypeError, ValueError):
                pass
    if not all(x in found for x in ("n", "h", "w", "cin", "cout")):
        return None
    found.setdefault("k", 3)
    found.setdefault("s", 1)
    return found


def torch_conv(torch, p: dict, backward: bool, reps: int, min_time: float) -> float:
    """A Conv2d with TF-'same' padding (explicit F.pad), NCHW (PyTorch's fast
    layout on CPU), forward or forward + backward (dx, dW, db)."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    k, s = p["k"], p["s"]
    x = torch.rand(p["n"], p["cin"], p["h"], p["w"], generator=g).requires_grad_(backward)
    w = (torch.rand(p["cout"], p["cin"], k, k, generator=g) - 0.5).requires_grad_(backward)
    bias = torch.zeros(p["cout"]).requires_grad_(backward)
    # TF "same": total pad = max(k - s, 0) (for sizes divisible by s), less before than after
    total = max(k - s, 0)
    pad = (total // 2, total - total // 2, total // 2, total - total // 2)

    def fwd():
        return F.conv2d(F.pad(x, pad), w, bias, stride=s)

    if not backward:
        def run():
            with torch.no_grad():
                fwd()
        return time_torch(run, reps, min_time)
    y = fwd()
    dy = torch.rand_like(y)

    def run_bwd():
        x.grad = w.grad = bias.grad = None
        fwd().backward(dy)
    return time_torch(run_bwd, reps, min_time)


def conv_flops(p: dict, backward: bool) -> float:
    ho, wo = p["h"] // p["s"], p["w"] // p["s"]
    fwd = 2.0 * p["n"] * ho * wo * p["cout"] * p["cin"] * p["k"] * p["k"]
    return fwd * (3.0 if backward else 1.0)


def torch_rel_attention(torch, batch: int, seg: int, mem: int, d_model: int, heads: int,
                        reps: int, min_time: float) -> float:
    """One Transformer-XL relative-attention layer, forward + backward: q from the
    segment, k/v from [memory; segment] (memory gets no gradient), score
    (q+u).k + rel_shift((q+v).W_R R), causal mask, softmax, context, output
    projection, residual, post-LayerNorm."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    d_head = d_model // heads
    klen = seg + mem
    x = (torch.rand(seg, batch, d_model, generator=g) - 0.5).requires_grad_(True)
    memory = torch.rand(mem, batch, d_model, generator=g) - 0.5
    w_qkv = ((torch.rand(3 * d_model, d_model, generator=g) - 0.5) * 0.1).requires_grad_(True)
    w_r = ((torch.rand(d_model, d_model, generator=g) - 0.5) * 0.1).requires_grad_(True)
    w_o = ((torch.rand(d_model, d_model, generator=g) - 0.5) * 0.1).requires_grad_(True)
    u = torch.zeros(heads, d_head).requires_grad_(True)
    v = torch.zeros(heads, d_head).requires_grad_(True)
    pos = torch.arange(klen - 1, -1, -1.0)
    inv = 1.0 / (10000 ** (torch.arange(0, d_model, 2.0) / d_model))
    r = torch.cat([torch.sin(pos[:, None] * inv), torch.cos(pos[:, None] * inv)], dim=1)
    mask = torch.triu(torch.ones(seg, klen, dtype=torch.bool), diagonal=1 + mem)
    ln = torch.nn.LayerNorm(d_model)
    scale = 1.0 / d_head ** 0.5

    def rel_shift(t):  # t: (seg, klen, batch, heads)
        zp = torch.zeros((t.size(0), 1) + t.shape[2:], dtype=t.dtype)
        padded = torch.cat([zp, t], dim=1).view((t.size(1) + 1, t.size(0)) + t.shape[2:])
        return padded[1:].view_as(t)

    def layer():
        cat = torch.cat([memory, x], dim=0)
        heads_qkv = F.linear(cat, w_qkv)
        q, k_, v_ = heads_qkv.chunk(3, dim=-1)
        q = q[-seg:].view(seg, batch, heads, d_head)
        k_ = k_.view(klen, batch, heads, d_head)
        v_ = v_.view(klen, batch, heads, d_head)
        rk = F.linear(r, w_r).view(klen, heads, d_head)
        ac = torch.einsum("ibnd,jbnd->ijbn", q + u, k_)
        bd = rel_shift(torch.einsum("ibnd,jnd->ijbn", q + v, rk))
        score = (ac + bd) * scale
        score = score.masked_fill(mask[:, :, None, None], float("-inf"))
        prob = torch.softmax(score, dim=1)
        ctx = torch.einsum("ijbn,jbnd->ibnd", prob, v_).reshape(seg, batch, d_model)
        return ln(x + F.linear(ctx, w_o))

    out = layer()
    dy = torch.rand_like(out)

    def run():
        for t in (x, w_qkv, w_r, w_o, u, v):
            t.grad = None
        layer().backward(dy)
    return time_torch(run, reps, min_time)


def torch_attention(torch, backward: bool, dropatt: float, threads: int, reps: int) -> float:
    """The Transformer-XL attention layer of benchmarks/attention_torch.py (the
    attention layer's PyTorch twin, same shape as bench_attention), in both of
    its variants (Transformer-XL's einsum code and a head-major port): the faster
    median counts, as PyTorch at its best. Falls back to torch_rel_attention
    when that script is missing or has changed."""
    import importlib.util
    import types
    path = ROOT / "benchmarks" / "attention_torch.py"
    try:
        spec = importlib.util.spec_from_file_location("attention_torch", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        best, best_cpu = float("inf"), float("nan")
        for variant in sorted(mod.VARIANTS):
            if backward:
                ns = types.SimpleNamespace(threads=threads, variant=variant, dropatt=dropatt,
                                           warmup=1, runs=reps)
                result = mod.time_torch(ns)  # times, or (times, cpu seconds)
                times, cpu = result if isinstance(result, tuple) else (result, [float("nan")])
                if statistics.median(times) < best:
                    best = statistics.median(times)
                    LAST_TORCH_CPU[0] = statistics.median(cpu)
            else:
                t = attention_forward_only(torch, mod, variant, threads, reps)
                if t < best:
                    best, best_cpu = t, LAST_TORCH_CPU[0]
        if not backward:
            LAST_TORCH_CPU[0] = best_cpu
        return best
    except (OSError, AttributeError, TypeError, ImportError) as err:
        print(f"# attention_torch.py not usable ({err}); using torch_rel_attention", flush=True)
        return torch_rel_attention(torch, 64, 128, 512, 500, 10, reps, 1.0)


def attention_forward_only(torch, mod, variant: str, threads: int, reps: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    T, M, B, E, H, D = 128, 512, 64, 500, 10, 50
    layer = mod.VARIANTS[variant](H, E, D, 0.1, 0.0).train()
    u, v = torch.randn(H, D) * 0.02, torch.randn(H, D) * 0.02
    x, mem = torch.rand(T, B, E) * 2 - 1, torch.rand(M, B, E) * 2 - 1
    r = mod.positional(M + T, E)
    mask = torch.triu(torch.ones(T, M + T, dtype=torch.bool), diagonal=1 + M)

    def run():
        with torch.no_grad():
            layer(x, r, u, v, mask, mem)
    return time_torch(run, reps, 1.0)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def find_build(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    for cand in sorted((ROOT / "build").glob("*/benchmarks/bench_peak")) + \
            [ROOT / "build/benchmarks/bench_peak"]:
        if cand.exists():
            return cand.parent.parent
    sys.exit("torch_compare.py: no build folder with benchmarks/bench_peak; pass --build")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", help="CMake build folder (default: first build/*/ with benchmarks)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5, help="repetitions; medians are reported")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per timed loop")
    ap.add_argument("--only", choices=["gemm", "conv", "attention"], action="append")
    ap.add_argument("--filter", default=None, help="regex on our benchmark names")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--wait-policy", choices=["passive", "active", "default"], default="passive",
                    help="OMP_WAIT_POLICY for both sides (passive: idle threads sleep instead "
                         "of spinning; on a shared machine spinning costs time slices)")
    args = ap.parse_args()

    # OpenMP's wait policy is read once, when the runtime loads: set it before
    # torch is imported (for PyTorch's libgomp) and pass it to our programs.
    if args.wait_policy != "default":
        os.environ["OMP_WAIT_POLICY"] = args.wait_policy.upper()
    import torch
    torch.set_num_threads(args.threads)
    build = find_build(args.build)
    bench = build / "benchmarks"
    only = set(args.only or ["gemm", "conv", "attention"])
    tuned = "GLIBC_TUNABLES" in os.environ and "OPENBLAS_THREAD_TIMEOUT" in os.environ
    load = os.getloadavg()
    print(f"# build {build}; threads {args.threads}; torch {torch.__version__} "
          f"(threads {torch.get_num_threads()}); tuned env: {'yes' if tuned else 'NO'}; "
          f"OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}; "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)

    peak_runs = {b["name"].split("/")[0]: b for b in run_bench(bench / "bench_peak", args.threads, 3)}
    one, every = peak_runs["BM_PeakFma_1Thread"], peak_runs["BM_PeakFma_AllThreads"]
    peak = gflops(every) if args.threads > 1 else gflops(one)
    # per-core peak per CPU-second (load-independent); wall-clock figure if absent
    peak1 = float(one.get("GFLOPS_per_cpu_s", gflops(one)))
    print(f"# measured float32 peak: {gflops(one):.1f} GFLOP/s on 1 thread, {peak:.1f} on "
          f"{args.threads} (wall clock, under the current load); {peak1:.1f} per CPU-second "
          f"(one core)", flush=True)

    rows: list[tuple[str, float, float, float]] = []  # label, flops, ours_s, torch_s

    if "gemm" in only and (bench / "bench_gemm").exists():
        for name in list_benches(bench / "bench_gemm", args.filter or "^gemm/"):
            mt = GEMM_NAME.match(name)
            e = run_one(bench / "bench_gemm", name, args.threads, args.reps, args.min_time / 2) \
                if mt else None
            if e is None:
                continue
            if not mt:
                continue
            m, n, k = int(mt["m"]), int(mt["n"]), int(mt["k"])
            batch = int(mt["b"] or 1)
            ta, tb = mt["t"][0] == "T", mt["t"][1] == "T"
            ts = torch_gemm(torch, ta, tb, m, n, k, batch, args.reps, args.min_time)
            label = f"gemm {mt['shape']} {mt['t']} {m}x{n}x{k}" + (f" b{batch}" if batch > 1 else "")
            rows.append((label, 2.0 * m * n * k * batch, seconds(e), ts,
                         float(e.get("cpu_s", "nan")), LAST_TORCH_CPU[0]))
            print_row(rows[-1], peak, False, peak1)

    if "conv" in only and (bench / "bench_conv").exists():
        for name in list_benches(bench / "bench_conv", args.filter):
            e = run_one(bench / "bench_conv", name, args.threads, args.reps, args.min_time / 2)
            if e is None:
                continue
            p = conv_params(e)
            backward = bool(re.search(r"back|bwd|fwdbwd|train", name, re.I))
            if p is None:
                print(f"# {name}: shape not recognised; ours {seconds(e) * 1e3:.2f} ms, "
                      f"{gflops(e):.1f} GFLOP/s", flush=True)
                continue
            ts = torch_conv(torch, p, backward, args.reps, args.min_time)
            rows.append((f"conv {name}", conv_flops(p, backward), seconds(e), ts,
                         float(e.get("cpu_s", "nan")), LAST_TORCH_CPU[0]))
            print_row(rows[-1], peak, False, peak1)

    if "attention" in only and (bench / "bench_attention").exists():
        for name in list_benches(bench / "bench_attention", args.filter):
            e = run_one(bench / "bench_attention", name, args.threads, args.reps, args.min_time)
            if e is None:
                continue
            backward = "Backward" in name
            if not re.search(r"RelAttentionForward(Backward)?/", name):
                # no PyTorch twin here (e.g. one cached generation step)
                print(f"# {name}: ours {seconds(e) * 1e3:.2f} ms (no PyTorch counterpart here)",
                      flush=True)
                continue
            md = re.search(r"dropatt%?[:=](\d+)", name)
            dropatt = int(md.group(1)) / 100.0 if md else 0.0
            ts = torch_attention(torch, backward, dropatt, args.threads, args.reps)
            fl = gflops(e) * seconds(e) * 1e9  # nan unless the bench reports GFLOPS
            rows.append((f"attention {name}", fl, seconds(e), ts,
                         float(e.get("process_cpu_s", e.get("cpu_s", "nan"))), LAST_TORCH_CPU[0]))
            print_row(rows[-1], peak, False, peak1)

    if args.markdown:
        print()
        print("| work | ours ms | ours GFLOP/s | ours % peak | torch ms | torch GFLOP/s | "
              "torch % peak | time ours/torch | ours GFLOP per CPU-s (% 1-thread peak) | "
              "torch GFLOP per CPU-s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print_row(row, peak, True, peak1)
    ratios = [r[2] / r[3] for r in rows if r[3] > 0]
    if ratios:
        print(f"# geometric-mean time ratio ours/torch over {len(ratios)} rows: "
              f"{statistics.geometric_mean(ratios):.2f}")


def print_row(row, peak: float, markdown: bool, peak1: float = float("nan")) -> None:
    """One result: wall-clock GFLOP/s and % of the measured peak for both sides,
    the time ratio ours/torch, and (where both sides report process CPU time)
    GFLOP per CPU-second, which the other load on a shared machine barely moves,
    with its % of the 1-thread peak."""
    label, flops, ours, theirs, ours_cpu, theirs_cpu = row
    known = flops == flops and flops > 0  # attention: no flop count from the bench

    def gf(t):
        return f"{flops / t * 1e-9:.1f}" if known and t == t else "n/a"

    def pct(t, pk=peak):
        return f"{100 * flops / t * 1e-9 / pk:.0f} %" if known and t == t else "n/a"

    if markdown:
        print(f"| {label} | {ours * 1e3:.2f} | {gf(ours)} | {pct(ours)} | {theirs * 1e3:.2f} | "
              f"{gf(theirs)} | {pct(theirs)} | {ours / theirs:.2f} | {gf(ours_cpu)} "
              f"({pct(ours_cpu, peak1)}) | {gf(theirs_cpu)} ({pct(theirs_cpu, peak1)}) |")
    else:
        print(f"{label:58s} ours {ours * 1e3:9.2f} ms {gf(ours):>7s} GF/s {pct(ours):>5s}  torch "
              f"{theirs * 1e3:9.2f} ms {gf(theirs):>7s} GF/s {pct(theirs):>5s}  "
              f"ours/torch {ours / theirs:5.2f}  per CPU-s ours {gf(ours_cpu)} torch "
              f"{gf(theirs_cpu)}", flush=True)


if __name__ == "__main__":
    main()
