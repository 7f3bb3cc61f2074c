#!/usr/bin/env python3
"""The Transformer-XL twin's training step in PyTorch, the shape bench_transformer_xl times.

Reference config (4 layers, d_model 500, 10 heads of 50, d_inner 1000, vocab 310, dropout
0.1), batch 64, a segment of 128 tokens with a full memory of 512 positions: forward, loss
and backward (no optimizer step), float32, on the CPU with --threads threads (the same
count as partita's run for a fair comparison) or on a GPU with --device cuda.

    python3 benchmarks/transformer_xl_torch.py [--threads 2] [--iters 3] [--device cpu]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "torch_twins"))
import transformer_xl_twin as txl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    twin = txl.TransformerXLTwin({}).to(dev)
    twin.train()
    c = twin.config
    g = torch.Generator().manual_seed(2)
    x = torch.randint(2, c["vocab"], (a.batch, c["segment"]), generator=g).to(dev)
    y = torch.randint(2, c["vocab"], (a.batch, c["segment"]), generator=g).to(dev)
    memory = txl.Memory()
    with torch.no_grad():
        for _ in range(c["memory"] // c["segment"]):
            twin(x, memory)
    times = []
    for _ in range(a.iters):
        saved = (memory.layers, memory.rows)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        twin.zero_grad()
        loss, _ = twin.loss(x, y, memory)
        loss.backward()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        memory.layers, memory.rows = saved  # the same full memory every step
    print("torch %s (%s threads) batch %d: train step %.0f ms (min of %d; all %s)" %
          (a.device, a.threads, a.batch, 1e3 * min(times), a.iters, ["%.0f" % (1e3 * t) for t in times]))


if __name__ == "__main__":
    main()
