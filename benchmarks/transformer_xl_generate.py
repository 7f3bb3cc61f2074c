#!/usr/bin/env python3
"""Generation speed of partita's Transformer-XL against its PyTorch twin, side by side.

One sequence (batch 1), the same model file for both, tokens drawn by nucleus sampling
(temperature 0.95, top-p 0.95) after a prime:

- partita: `partita-cli extend` on a sample melody (the key/value cache of the last
  `memory` positions: one new row per layer and token); its own report of the
  generation time, and the wall time of the whole process (start to MIDI written);
- twin, memory: the Transformer-XL way, one-token segments with the memory of the last
  `memory` layer inputs (keys and values of the whole memory recomputed per token);
- twin, window: the way public ports generate, the last `window` tokens recomputed
  from scratch per token, no memory.

    python3 benchmarks/transformer_xl_generate.py --weights MODEL.safetensors \
        [--build build/dev] [--threads 2] [--tokens 400] [--reps 3] [--device cpu]

Run PyTorch at its best on the CPU (docs/performance.md): unset OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, OPENBLAS_THREAD_TIMEOUT=4 and
GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "torch_twins"))
import transformer_xl_twin as txl  # noqa: E402


def nucleus(logits, g, temperature=0.95, top_p=0.95):
    p = torch.softmax(logits.float() / temperature, -1)
    p[0] = 0.0  # <S>
    p[1] = 0.0  # <PAD>
    sp, idx = torch.sort(p, descending=True)
    c = torch.cumsum(sp, 0)
    keep = int((c < top_p * c[-1]).sum().item()) + 1
    sp = sp[:keep]
    return int(idx[torch.multinomial(sp / sp.sum(), 1, generator=g)].item())


def twin_memory(twin, prime, n, dev):
    g = torch.Generator().manual_seed(0)
    mem = txl.Memory()
    seg = twin.config["segment"]
    with torch.no_grad():
        for k in range(0, len(prime), seg):
            logits = twin(torch.tensor([prime[k:k + seg]], device=dev), mem)
        t0 = time.perf_counter()
        for _ in range(n):
            tok = nucleus(logits[-1, 0].cpu(), g)
            logits = twin(torch.tensor([[tok]], device=dev), mem)
        if dev.type == "cuda":
            torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def twin_window(twin, prime, n, dev, window):
    g = torch.Generator().manual_seed(0)
    seq = list(prime)
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(n):
            logits = twin(torch.tensor([seq[-window:]], device=dev))
            seq.append(nucleus(logits[-1, 0].cpu(), g))
        if dev.type == "cuda":
            torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def partita(build, weights, melody, seconds, threads):
    out = os.path.join(tempfile.mkdtemp(), "out.mid")
    cmd = [os.path.join(build, "partita-cli"), "extend", melody, "-o", out, "--weights", weights,
           "--seconds", str(seconds), "--threads", str(threads)]
    t0 = time.perf_counter()
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    m = re.search(r"primed with (\d+) tokens .*generated (\d+) tokens .*\((\d+) ms, (\d+) tokens/s\)", text)
    return int(m.group(1)), int(m.group(2)), float(m.group(4)), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--build", default="build/dev")
    ap.add_argument("--melody", default=os.path.join(ROOT, "data", "melodies", "twinkle_twinkle.mid"))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=300, help="tokens the twin generates per run")
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    ours = [partita(a.build, a.weights, a.melody, a.seconds, a.threads) for _ in range(a.reps)]
    prime_len = ours[0][0]
    ours_tps = statistics.median(o[2] for o in ours)
    ours_wall = statistics.median(o[3] for o in ours)
    twin = txl.load(a.weights).to(dev).eval()
    g = torch.Generator().manual_seed(1)
    prime = [0] + torch.randint(2, twin.config["vocab"], (prime_len - 1,), generator=g).tolist()
    mem = statistics.median(twin_memory(twin, prime, a.tokens, dev) for _ in range(a.reps))
    win = statistics.median(twin_window(twin, prime, a.tokens, dev, a.window) for _ in range(a.reps))
    cfg = twin.config
    print(f"model: {a.weights} ({cfg['layers']} layers, d_model {cfg['d_model']}, memory {cfg['memory']}), "
          f"{a.threads} threads on {a.device}, prime {prime_len} tokens, medians of {a.reps}")
    print("| generator | tokens/s | partita's speed-up |")
    print("|---|---:|---:|")
    print(f"| partita, key/value cache (float32) | {ours_tps:.0f} | 1.00x |")
    print(f"| PyTorch twin, Transformer-XL memory | {mem:.0f} | {ours_tps / mem:.1f}x |")
    print(f"| PyTorch twin, {a.window}-token window recomputed | {win:.0f} | {ours_tps / win:.1f}x |")
    print(f"partita-cli extend {os.path.basename(a.melody)} by {a.seconds:g} s: {ours[0][1]} tokens, "
          f"process start to MIDI written {ours_wall:.2f} s (median)")


if __name__ == "__main__":
    main()
