#!/usr/bin/env python3
"""GAN: partita vs its PyTorch twin on the same work and threads, ratios printed.

One run times, for each config (reference: F = 64, latent 512; compact: F = 32,
latent 256), at batch 64 unless noted:

* critic step: partita's GAN::critic_loss_and_backward + Adam (bench_gan); the twin's
  critic_step (tools/torch_twins/gan_twin.py): fakes from the generator in eval mode
  under no_grad, D(real), D(fake), the gradient penalty by double backprop
  (autograd.grad with create_graph=True), backward, Adam;
* generator step: generator_loss_and_backward + Adam; the twin's generator_step;
* inference: the generator in eval mode on 1 window and on 16 windows (torch.no_grad).

Both sides get the same shapes, the same z and e handling (drawn once, outside the
timed calls), one untimed warm-up call, then --reps timed repetitions (each of as many
calls as bench_gan makes: 1, or 8 for one window); the median is reported. partita
runs bench_gan (Google Benchmark JSON) with OMP_NUM_THREADS=THREADS and
OMP_WAIT_POLICY=passive. PyTorch runs in a child process with torch.set_num_threads(THREADS)
in the tuned environment, which this script sets itself (for the child only):

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 \\
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736

With --torch-layout best (the default) every PyTorch measurement is taken with the
model in channels_last and with contiguous (NCHW) inputs and weights, and the faster
counts. The FLOP counts are bench_gan's (its header gives the per-layer formulas);
the peak is bench_peak's wall-clock figure on THREADS threads, passed to bench_gan as
PARTITA_PEAK_GFLOPS so both sides' fractions use the same peak.

--precision bfloat16 runs bench_gan with PARTITA_MATMUL_PRECISION=bfloat16 (partita's
products in bfloat16 with float32 sums, where the CPU has AVX512_BF16); --torch-autocast
also times the twin under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's own
bfloat16 mode, and prints partita's ratio to it beside the float32 one.

    python3 benchmarks/gan_torch.py --build build/ci --threads 2 --reps 5 [--config reference]
        [--precision float32|bfloat16] [--torch-autocast]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "torch_twins"))

CONFIGS = {"reference": {}, "compact": {"filters": 32, "latent_channels": 256}}
# (kind, batch) in table order, as bench_gan names them
WORK = (("critic_step", 64), ("generator_step", 64), ("generate", 1), ("generate", 16))
LABELS = {"critic_step": "critic step", "generator_step": "generator step", "generate": "generate"}

TUNED_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TUNED_SET = {"OPENBLAS_THREAD_TIMEOUT": "4",
             "GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"}
TUNED_TEXT = ("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 "
              "GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736")
GOAL = 0.5  # partita's critic and generator steps at most this fraction of PyTorch's time
GOAL_WINDOW = 0.25  # one window at batch 1 at most this fraction


def tuned_env():
    env = dict(os.environ)
    for k in TUNED_UNSET:
        env.pop(k, None)
    env.update(TUNED_SET)
    return env


def is_tuned():
    return all(os.environ.get(k) == v for k, v in TUNED_SET.items()) and \
        not any(k in os.environ for k in TUNED_UNSET)


# ---------------------------------------------------------------------------
# partita: bench_peak and bench_gan (Google Benchmark, JSON)
# ---------------------------------------------------------------------------

def google_bench(cmd, env):
    """Runs a Google Benchmark program; its medians (or, with one repetition, its runs)."""
    out = subprocess.run(cmd + ["--benchmark_format=json"], env=env, capture_output=True,
                         text=True, check=True).stdout
    entries = json.loads(out)["benchmarks"] if out.strip() else []
    medians = [b for b in entries if b.get("aggregate_name") == "median"]
    return medians or [b for b in entries if b.get("run_type", "iteration") == "iteration"]


def seconds(entry):
    return entry["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry["time_unit"]]


def measured_peak(build, threads, env):
    """bench_peak's median wall-clock GFLOP/s on `threads` threads; None if unavailable."""
    exe = os.path.join(build, "benchmarks", "bench_peak")
    if not os.path.exists(exe):
        return None
    try:
        runs = google_bench([exe, "--benchmark_repetitions=3",
                             "--benchmark_report_aggregates_only=true"], env)
    except (subprocess.CalledProcessError, ValueError):
        return None
    want = "BM_PeakFma_AllThreads" if threads > 1 else "BM_PeakFma_1Thread"
    for b in runs:
        if b["run_name"].startswith(want) and not b.get("error_occurred") and "GFLOPS" in b:
            return float(b["GFLOPS"])
    return None


NAME = re.compile(r"^gan/(?P<kind>[a-z_]+)/(?P<cfg>[a-z]+)/batch:(?P<batch>\d+)")


def run_partita(build, config, reps, env):
    """{(kind, batch): entry} of bench_gan for one config (medians of `reps`)."""
    exe = os.path.join(build, "benchmarks", "bench_gan")
    cmd = [exe, f"--benchmark_filter=^gan/[a-z_]+/{config}/", f"--benchmark_repetitions={reps}"]
    if reps > 1:
        cmd.append("--benchmark_report_aggregates_only=true")
    found = {}
    for b in google_bench(cmd, env):
        m = NAME.match(b["run_name"])
        if m and m["cfg"] == config:
            found[(m["kind"], int(m["batch"]))] = b
    return found


# ---------------------------------------------------------------------------
# PyTorch (child process, tuned environment)
# ---------------------------------------------------------------------------

def time_calls(fn, reps, iters):
    """One untimed call, then the median over `reps` of the mean time of `iters` calls."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        times.append((time.perf_counter() - t0) / iters)
    return statistics.median(times)


def torch_times(config, layout, reps, iters, autocast=False):
    """{(kind, batch): seconds} of the twin in one layout: "channels_last" (model in
    channels_last; NHWC inputs, which the twin's permute turns into channels_last
    views) or "contiguous" (NCHW weights; inputs NHWC views of NCHW storage, so the
    twin's permute gives contiguous NCHW tensors)."""
    import torch
    import gan_twin as gt

    torch.manual_seed(0)
    twin = gt.GanTwin(CONFIGS[config])
    cfg = twin.config
    if layout == "channels_last":
        twin = twin.to(memory_format=torch.channels_last)
    opt_g, opt_c = gt.make_optimizers(twin)
    g = torch.Generator().manual_seed(1)

    def laid_out(x):
        return x.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1) if layout == "contiguous" else x

    def rolls(n, channels):
        x = torch.rand(n, cfg["steps"], cfg["pitches"], channels, generator=g)
        return laid_out(torch.where(x < 0.03, 1.0, -1.0))

    out = {}
    for kind, batch in WORK:
        z = laid_out(gt.sample_latent(cfg, batch, generator=g))
        if kind == "critic_step":
            real, e = rolls(batch, cfg["tracks"]), torch.rand(batch, generator=g)
            twin.train()
            fn = lambda: gt.critic_step(twin, opt_c, real, z, e)  # noqa: E731
        elif kind == "generator_step":
            real = rolls(batch, cfg["tracks"])
            twin.train()
            fn = lambda: gt.generator_step(twin, opt_g, real, z)  # noqa: E731
        else:
            melody = rolls(batch, 1)
            twin.eval()

            def fn(melody=melody, z=z):
                with torch.no_grad():
                    twin.generator(melody, z)
        if autocast:
            def fn(inner=fn):
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    inner()
        out[(kind, batch)] = time_calls(fn, reps, iters.get((kind, batch), 1))
        print(f"#   torch {layout:13s}{' autocast bf16' if autocast else ''} {kind} batch {batch}: "
              f"{out[(kind, batch)]:.4f} s", file=sys.stderr, flush=True)
    return out


def torch_child(a):
    """--torch-child: time the twin, print JSON on stdout."""
    import warnings
    import torch
    # the twin's critic_step reads its loss parts with float() (a documented no-op here)
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")
    torch.set_num_threads(a.threads)
    iters = {}
    for item in filter(None, a.iters.split(",")):
        key, n = item.split("=")
        kind, batch = key.split("/")
        iters[(kind, int(batch))] = int(n)
    layouts = ("channels_last", "contiguous") if a.torch_layout == "best" else (a.torch_layout,)
    best = {}
    for layout in layouts:
        for key, s in torch_times(a.config, layout, a.reps, iters, autocast=a.torch_autocast).items():
            if key not in best or s < best[key][0]:
                best[key] = (s, layout)
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "tuned": is_tuned(),
               "rows": [{"kind": k, "batch": b, "s": s, "layout": lay}
                        for (k, b), (s, lay) in best.items()]}, sys.stdout)
    return 0


def run_torch(a, config, iters, autocast=False):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-child", "--config", config,
           "--threads", str(a.threads), "--reps", str(a.reps), "--torch-layout", a.torch_layout,
           "--iters", ",".join(f"{k}/{b}={n}" for (k, b), n in iters.items())]
    if autocast:
        cmd.append("--torch-autocast")
    out = subprocess.run(cmd, env=tuned_env(), stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def fmt(x, spec):
    return format(x, spec) if x == x else "n/a"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "ci"),
                    help="CMake build folder holding benchmarks/bench_gan (and bench_peak)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions per measurement (median)")
    ap.add_argument("--config", choices=("reference", "compact", "both"), default="both")
    ap.add_argument("--torch-layout", choices=("best", "channels_last", "contiguous"), default="best",
                    help="PyTorch memory layout (best: time both, keep the faster per row)")
    ap.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                    help="partita's matrix-product precision (PARTITA_MATMUL_PRECISION for bench_gan)")
    ap.add_argument("--torch-autocast", action="store_true",
                    help="also time PyTorch under torch.autocast('cpu', dtype=torch.bfloat16)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--iters", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.torch_child:
        return torch_child(a)
    if a.reps < 1:
        ap.error("--reps must be at least 1")

    configs = ("reference", "compact") if a.config == "both" else (a.config,)
    # Passive OpenMP waiting for partita: with spinning, a 2-thread run collapses whenever
    # another process holds one of the cores (benchmarks/torch_compare.py).
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env["PARTITA_MATMUL_PRECISION"] = a.precision
    load0 = os.getloadavg()
    peak = measured_peak(a.build, a.threads, env)
    if peak:
        env["PARTITA_PEAK_GFLOPS"] = f"{peak:.3f}"
    print(f"# build {a.build}; {a.threads} threads; {a.reps} timed reps after 1 warm-up call, "
          f"medians; load {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    print(f"# partita: bench_gan with OMP_NUM_THREADS={a.threads} "
          f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} PARTITA_MATMUL_PRECISION={a.precision}", flush=True)
    print(f"# PyTorch: tuned environment set by this script for its PyTorch process: {TUNED_TEXT}; "
          f"torch.set_num_threads({a.threads}); layout {a.torch_layout}", flush=True)

    rows = []
    torch_version = "?"
    for config in configs:
        ours = run_partita(a.build, config, a.reps, env)
        if not ours:
            sys.exit(f"gan_torch.py: bench_gan in {a.build} reported nothing for {config}")
        for key in WORK:
            if key in ours:
                print(f"#   partita {key[0]} {config} batch {key[1]}: {seconds(ours[key]):.4f} s", flush=True)
        if peak is None:  # no bench_peak: bench_gan's own measurement
            peak = next((float(b["peak_GFLOPS"]) for b in ours.values() if "peak_GFLOPS" in b), None)
        iters = {k: int(b.get("iterations", 1)) for k, b in ours.items()}
        theirs = run_torch(a, config, iters)
        torch_version = theirs["torch"]
        if not theirs["tuned"]:
            print("# WARNING: the PyTorch process did not see the tuned environment", flush=True)
        tt = {(r["kind"], r["batch"]): r for r in theirs["rows"]}
        ta = {}
        if a.torch_autocast:
            ta = {(r["kind"], r["batch"]): r for r in run_torch(a, config, iters, autocast=True)["rows"]}
        for kind, batch in WORK:
            b, t = ours.get((kind, batch)), tt.get((kind, batch))
            if b is None or t is None:
                continue
            gflop = float(b.get("GFLOP", "nan"))
            ps, ts = seconds(b), t["s"]
            frac = (lambda s: gflop / s / peak if peak else float("nan"))
            rows.append({"config": config, "kind": kind, "batch": batch, "gflop": gflop,
                         "partita_s": ps, "torch_s": ts, "ratio": ps / ts,
                         "partita_peak_fraction": frac(ps), "torch_peak_fraction": frac(ts),
                         "torch_layout": t["layout"],
                         "torch_autocast_s": ta[(kind, batch)]["s"] if (kind, batch) in ta else None})

    load1 = os.getloadavg()
    print()
    print(f"GAN, partita ({a.precision} products) vs PyTorch {torch_version} twin, {a.threads} threads, "
          f"median of {a.reps} "
          f"(load {load0[0]:.2f} at start, {load1[0]:.2f} at end)")
    print(f"peak: {fmt(peak or float('nan'), '.1f')} GFLOP/s on {a.threads} threads "
          f"({'bench_peak, wall clock' if 'PARTITA_PEAK_GFLOPS' in env else 'bench_gan FMA loop'})")
    print()
    print("| work | config | batch | GFLOP | partita s | PyTorch s | ratio partita/PyTorch "
          "| partita fraction of peak | PyTorch fraction of peak | PyTorch layout |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {LABELS[r['kind']]} | {r['config']} | {r['batch']} | {fmt(r['gflop'], '.2f')} "
              f"| {r['partita_s']:.4f} | {r['torch_s']:.4f} | {r['ratio']:.2f} "
              f"| {fmt(r['partita_peak_fraction'], '.3f')} | {fmt(r['torch_peak_fraction'], '.3f')} "
              f"| {r['torch_layout']} |")
    if a.torch_autocast:
        print()
        print("| work | config | batch | partita s | PyTorch autocast bf16 s | ratio partita/PyTorch bf16 |")
        print("|---|---|---:|---:|---:|---:|")
        for r in rows:
            t = r["torch_autocast_s"]
            print(f"| {LABELS[r['kind']]} | {r['config']} | {r['batch']} | {r['partita_s']:.4f} "
                  f"| {fmt(t if t else float('nan'), '.4f')} "
                  f"| {fmt(r['partita_s'] / t if t else float('nan'), '.2f')} |")
    print()
    for r in rows:
        goal = GOAL if r["kind"] in ("critic_step", "generator_step") else \
            GOAL_WINDOW if (r["kind"], r["batch"]) == ("generate", 1) else None
        if goal is not None:
            verdict = "met" if r["ratio"] <= goal else "not met"
            print(f"goal {LABELS[r['kind']]} batch {r['batch']} ({r['config']}) <= {goal} x PyTorch: {verdict} "
                  f"({r['ratio']:.2f})")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"threads": a.threads, "reps": a.reps, "precision": a.precision,
                       "torch": torch_version, "peak_gflops": peak,
                       "load": [load0[0], load1[0]], "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
