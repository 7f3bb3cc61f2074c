#!/usr/bin/env python3
"""AR-CNN: partita vs its PyTorch twin, side by side, ratios printed (docs/arcnn.md).

Runs partita's bench_arcnn (Google Benchmark, JSON) and the same work in PyTorch with
the twin (tools/torch_twins/arcnn_twin.py), "tuned": torch.set_num_threads(THREADS),
channels_last (or, with --both-layouts, the faster of channels_last and contiguous),
inference_mode for the edit loop.

* training step, batch 32 (zero grads, forward, KL loss, backward, Adam): reference
  config (5 levels, 32 filters) and the shipped compact one (4 levels, 16 filters);
* a 100-iteration edit of an 8-bar melody (ode_to_joy) with the compact model: batch-1
  forward, tempered softmax, masks, one toggle per iteration; the same loop in torch;
* peak resident memory of a whole edit process (partita-cli edit; a torch edit process).

    python benchmarks/arcnn_torch.py --build build/ci [--threads 2] [--skip-reference]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "torch_twins"))

COMPACT = {"levels": 4, "base_filters": 16, "dropout": 0.5, "bn_momentum": 0.9}
REFERENCE = {"levels": 5, "base_filters": 32, "dropout": 0.5, "bn_momentum": 0.99}
MELODY = os.path.join(ROOT, "data", "melodies", "ode_to_joy.mid")


def melody_roll():
    import mido
    import numpy as np
    mid = mido.MidiFile(MELODY)
    step = mid.ticks_per_beat // 4
    roll = np.zeros((128, 128), np.float32)
    for tr in mid.tracks:
        t, on = 0, {}
        for msg in tr:
            t += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                on[msg.note] = t
            elif msg.type in ("note_off", "note_on") and msg.note in on:
                s = (on.pop(msg.note) + step // 2) // step
                e = max(s + 1, (t + step // 2) // step)
                roll[s:min(e, 128), msg.note] = 1
    return roll


def torch_train_step(cfg, batch, iters, channels_last):
    import torch
    from arcnn_twin import ArcnnTwin, kl_loss
    torch.manual_seed(0)
    m = ArcnnTwin(cfg)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    m = m.to(memory_format=fmt)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    x = (torch.rand(batch, 1, 128, 128) < 0.03).float().to(memory_format=fmt)
    y = (torch.rand(batch, 1, 128, 128) < 0.02).float().to(memory_format=fmt)
    times = []
    for i in range(iters + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = kl_loss(m(x), y)
        loss.backward()
        opt.step()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def edit_loop(forward, x0, iterations=100, max_remove_pct=100.0, max_add=500, risk=1.0, seed=1):
    """The AR-CNN sampler (AWS DeepComposer sample) in torch, as partita's arcnn_sampler: `forward`
    maps the (1, 1, 128, 128) roll to logits; tensors stay on x0's device."""
    import torch
    g = torch.Generator(device=x0.device).manual_seed(seed)
    x = x0.clone()
    original = x.clone().flatten().bool()
    max_remove = int(max_remove_pct * int(original.sum()) / 100)
    removed = added = 0
    for _ in range(iterations):
        p = torch.softmax(forward(x).flatten().double() / risk, 0)
        cur = x.flatten().bool()
        if removed >= max_remove:
            p[cur & original] = 0
        if added > max_add:
            p[~cur & ~original] = 0
        if float(p.sum()) <= 0:
            break
        i = int(torch.multinomial(p, 1, generator=g))
        on, orig = bool(cur[i]), bool(original[i])
        if on:
            removed, added = removed + orig, added - (not orig)
        else:
            added, removed = added + (not orig), removed - orig
        x.view(-1)[i] = 0.0 if on else 1.0
    return x


def torch_edit(m, roll, **controls):
    """edit_loop on a numpy roll with model m, under inference_mode."""
    import torch
    with torch.inference_mode():
        return edit_loop(m, torch.from_numpy(roll).reshape(1, 1, 128, 128), **controls)


def torch_edit_time(cfg, reps, channels_last):
    import torch
    from arcnn_twin import ArcnnTwin
    torch.manual_seed(0)
    m = ArcnnTwin(cfg).eval()
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
    roll = melody_roll()
    torch_edit(m, roll, iterations=3)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch_edit(m, roll)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def vm_hwm_mb():
    """This process's peak resident set (Linux VmHWM), MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


def child_peak_rss_mb(cmd, env=None):
    """Peak RSS the child reports itself ("peak RSS <x> MB"): getrusage of a child
    counts the forked parent's pages before exec, so it is not used."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {r.stderr}")
    return float(r.stdout.split("peak RSS ")[1].split()[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "ci"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--both-layouts", action="store_true",
                    help="time torch with channels_last and contiguous, keep the faster "
                         "(default: channels_last only)")
    ap.add_argument("--torch-edit-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=3,
                    help="partita: repetitions of each benchmark (median reported); PyTorch: "
                         "timed training steps = reps + 2 (reference) or + 3 (compact)")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    if a.torch_edit_only:  # child process for the torch peak-RSS figure
        torch_edit_time(COMPACT, 1, True)
        print(f"peak RSS {vm_hwm_mb():.1f} MB")
        return 0

    # Passive OpenMP waiting: with the default (spinning) policy a 2-thread partita run
    # collapses (20x slower measured) whenever another process holds one of the 2 cores.
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    env.setdefault("OMP_WAIT_POLICY", "passive")
    bench = os.path.join(a.build, "benchmarks", "bench_arcnn")
    filt = "arcnn/(train_step/compact|edit100)" if a.skip_reference else "arcnn/"
    out = subprocess.run([bench, f"--benchmark_filter={filt}", "--benchmark_format=json",
                          f"--benchmark_repetitions={a.reps}", "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, env=env, check=True)
    ours = {b["run_name"].split("/iterations")[0]: b for b in json.loads(out.stdout)["benchmarks"]
            if b.get("aggregate_name") == "median"}

    def ours_s(prefix):
        b = next(v for k, v in ours.items() if k.startswith(prefix))
        return b["real_time"] / {"ms": 1e3, "s": 1.0, "us": 1e6}[b["time_unit"]]

    print("partita:", {k: f"{ours_s(k):.3f}s" for k in ours}, flush=True)
    layouts = (True, False) if a.both_layouts else (True,)
    rows = []
    for name, cfg in (("compact", COMPACT), ("reference", REFERENCE)):
        if name == "reference" and a.skip_reference:
            continue
        t_torch = min(torch_train_step(cfg, 32, a.reps + (2 if name == "reference" else 3), cl)
                      for cl in layouts)
        rows.append((f"train step batch 32, {name}", ours_s(f"arcnn/train_step/{name}"), t_torch))
        print(rows[-1], flush=True)
    t_torch = min(torch_edit_time(COMPACT, max(2, a.reps), cl) for cl in layouts)
    rows.append(("edit, 100 iterations, compact", ours_s("arcnn/edit100/compact"), t_torch))
    print(rows[-1], flush=True)

    cli = os.path.join(a.build, "partita-cli")
    weights = os.path.join(ROOT, "python", "partita", "models", "arcnn-default.safetensors")
    rss_ours = child_peak_rss_mb([cli, "edit", MELODY, "-o", os.path.join(a.build, "bench-edit.mid"),
                                  "--weights", weights,
                                  "--seed", "1", "--threads", str(a.threads)], env) \
        if os.path.exists(cli) and os.path.exists(weights) else float("nan")
    rss_torch = child_peak_rss_mb([sys.executable, __file__, "--torch-edit-only",
                                   "--threads", str(a.threads)])

    print(f"AR-CNN, partita vs PyTorch {torch.__version__} twin, {a.threads} threads (median wall time)")
    print(f"{'':34s} {'partita':>10s} {'pytorch':>10s} {'ratio':>7s}")
    result = {"threads": a.threads, "rows": [], "peak_rss_mb": {"partita_edit": rss_ours,
                                                                  "torch_edit": rss_torch}}
    for label, ours_t, torch_t in rows:
        print(f"{label:34s} {ours_t:9.3f}s {torch_t:9.3f}s {ours_t / torch_t:7.2f}")
        result["rows"].append({"what": label, "partita_s": ours_t, "torch_s": torch_t,
                               "ratio": ours_t / torch_t})
    print(f"peak RSS of an edit process: partita-cli {rss_ours:.0f} MB, torch {rss_torch:.0f} MB")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
