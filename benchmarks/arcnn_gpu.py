#!/usr/bin/env python3
"""The AR-CNN edit loop in PyTorch on a GPU: what partita's 2-core edit is compared with.

One melody at a time, the loop is 100 batch-1 forwards of the compact U-Net, each followed
by a tempered softmax over the 16,384 cells, the masks and one multinomial draw whose result
decides the next input: every iteration waits for the GPU (two host syncs), so small kernels'
launch latency bounds it, not the GPU's FLOPs. Timed variants (median of --reps loops of
100 iterations, after warm-up):

* eager: the twin in eval mode under inference_mode, cudnn.benchmark on (cuDNN's default
  TF32 convolutions allowed, which only flatters the GPU);
* graph: the forward captured once as a CUDA graph and replayed (one launch per forward),
  softmax, masks and draw as in eager;
* forward only: the graph replay alone, no sampling (a lower bound for any loop).

    python benchmarks/arcnn_gpu.py [--roll roll.npy] [--reps 5] [--json out.json]
    time python benchmarks/arcnn_gpu.py --once     # a whole one-melody process, cold

--roll: the 128 x 128 input (data/melodies/ode_to_joy.mid as benchmarks/arcnn_torch.py
reads it); written with --write-roll where mido is installed, so the GPU machine needs only
torch and numpy. Random weights (seeded): the time does not depend on their values.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools", "torch_twins"))

from arcnn_torch import edit_loop  # noqa: E402  (the loop partita is compared with)


def timed(fn, reps, sync):
    fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--roll", default=os.path.join(HERE, "ode_to_joy_roll.npy"))
    ap.add_argument("--write-roll", action="store_true", help="write --roll from the MIDI file and exit")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--once", action="store_true",
                    help="one edit in a fresh process, no warm-up (time the whole process from outside)")
    ap.add_argument("--no-cudnn-benchmark", action="store_true",
                    help="leave cudnn.benchmark off (no autotuning on the first forward)")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    import numpy as np
    if a.write_roll:
        from arcnn_torch import melody_roll
        np.save(a.roll, melody_roll())
        print("wrote", a.roll)
        return 0
    import torch
    from arcnn_twin import ArcnnTwin
    from arcnn_torch import COMPACT
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = not a.no_cudnn_benchmark
    torch.manual_seed(0)
    m = ArcnnTwin(COMPACT).eval().to(dev)
    x0 = torch.from_numpy(np.load(a.roll)).reshape(1, 1, 128, 128).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    out = {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
           "torch": torch.__version__, "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32}
    if a.once:
        with torch.inference_mode():
            t0 = time.perf_counter()
            y = edit_loop(m, x0)
            sync()
            print(json.dumps({"device": out["device"], "first_edit_s": time.perf_counter() - t0,
                              "notes_out": int(y.sum())}))
        return 0
    with torch.inference_mode():
        out["eager_s"], out["eager_all"] = timed(lambda: edit_loop(m, x0), a.reps, sync)
        if dev.type == "cuda":
            static_x = x0.clone()
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    m(static_x)
            torch.cuda.current_stream().wait_stream(s)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_y = m(static_x)

            def graphed(x):
                static_x.copy_(x)
                graph.replay()
                return static_y

            out["graph_s"], out["graph_all"] = timed(lambda: edit_loop(graphed, x0), a.reps, sync)

            def forwards():
                for _ in range(100):
                    graph.replay()

            out["graph_forward_only_s"], _ = timed(forwards, a.reps, sync)
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
