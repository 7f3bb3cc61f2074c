#!/usr/bin/env python3
"""One Transformer-XL attention layer, forward + backward, in tuned PyTorch vs partita.

Same layer and shape as benchmarks/bench_attention.cpp: segment 128, memory 512,
d_model 500, 10 heads x 50, batch 64, dropout 0.1 (dropatt 0 by default). The
PyTorch layer is Transformer-XL's RelPartialLearnableMultiHeadAttn written from
the published math (as in tools/torch_twins/make_attention_fixtures.py): qkv_net
over [mem; x], r_net, einsum scores, pad/reshape rel_shift, mask, softmax,
dropout, o_net, post-LayerNorm ("reference", einsum over (T, B, H, D) as the
original code), or the same math in head-major layout with plain matmuls
("head-major", the default: what a tuned port would do). Prints the median of several runs of each and the
ratio partita / torch (goal <= 0.5). Run it with the tuned environment:

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 \
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
    python3 benchmarks/attention_torch.py --bench build/<dir>/benchmarks/bench_attention
"""
import argparse
import json
import math
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RelPartialLearnableAttention(nn.Module):
    def __init__(self, n_head, d_model, d_head, dropout, dropatt):
        super().__init__()
        self.n_head, self.d_head = n_head, d_head
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head, bias=False)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model)
        self.r_net = nn.Linear(d_model, n_head * d_head, bias=False)
        self.scale = 1 / math.sqrt(d_head)

    @staticmethod
    def rel_shift(x):
        zero_pad = torch.zeros((x.size(0), 1, *x.size()[2:]), device=x.device, dtype=x.dtype)
        x_padded = torch.cat([zero_pad, x], dim=1)
        x_padded = x_padded.view(x.size(1) + 1, x.size(0), *x.size()[2:])
        return x_padded[1:].view_as(x)

    def forward(self, w, r, r_w_bias, r_r_bias, attn_mask, mems):
        qlen, rlen, bsz = w.size(0), r.size(0), w.size(1)
        cat = torch.cat([mems, w], 0)
        w_heads = self.qkv_net(cat)
        r_head_k = self.r_net(r)
        w_head_q, w_head_k, w_head_v = torch.chunk(w_heads, 3, dim=-1)
        w_head_q = w_head_q[-qlen:]
        klen = w_head_k.size(0)
        w_head_q = w_head_q.view(qlen, bsz, self.n_head, self.d_head)
        w_head_k = w_head_k.view(klen, bsz, self.n_head, self.d_head)
        w_head_v = w_head_v.view(klen, bsz, self.n_head, self.d_head)
        r_head_k = r_head_k.view(rlen, self.n_head, self.d_head)
        AC = torch.einsum("ibnd,jbnd->ijbn", (w_head_q + r_w_bias, w_head_k))
        BD = self.rel_shift(torch.einsum("ibnd,jnd->ijbn", (w_head_q + r_r_bias, r_head_k)))
        attn_score = (AC + BD) * self.scale
        attn_score = attn_score.masked_fill(attn_mask[:, :, None, None], -float("inf"))
        attn_prob = self.dropatt(F.softmax(attn_score, dim=1))
        attn_vec = torch.einsum("ijbn,jbnd->ibnd", (attn_prob, w_head_v))
        attn_vec = attn_vec.contiguous().view(qlen, bsz, self.n_head * self.d_head)
        attn_out = self.drop(self.o_net(attn_vec))
        return self.layer_norm(w + attn_out)


class HeadMajorAttention(RelPartialLearnableAttention):
    """The same math with head-major (B, H, T, D) tensors and plain matmuls, the
    layout a tuned PyTorch port would pick (no einsum over trailing batch axes)."""

    @staticmethod
    def rel_shift_last(x):  # (..., qlen, klen): the same pad / reshape / slice trick
        *lead, q, k = x.shape
        x_padded = F.pad(x, (1, 0)).view(*lead, k + 1, q)
        return x_padded[..., 1:, :].reshape(*lead, q, k)

    def forward(self, w, r, r_w_bias, r_r_bias, attn_mask, mems):
        qlen, bsz = w.size(0), w.size(1)
        H, D = self.n_head, self.d_head
        cat = torch.cat([mems, w], 0)
        klen = cat.size(0)
        w_heads = self.qkv_net(cat)
        q, k, v = torch.chunk(w_heads, 3, dim=-1)
        q = q[-qlen:].reshape(qlen, bsz, H, D).permute(1, 2, 0, 3)      # (B, H, T, D)
        k = k.reshape(klen, bsz, H, D).permute(1, 2, 3, 0)              # (B, H, D, K)
        v = v.reshape(klen, bsz, H, D).permute(1, 2, 0, 3)              # (B, H, K, D)
        rk = self.r_net(r).reshape(klen, H, D).permute(1, 2, 0)         # (H, D, K)
        AC = torch.matmul(q + r_w_bias[:, None, :], k)
        BD = self.rel_shift_last(torch.matmul(q + r_r_bias[:, None, :], rk))
        score = (AC + BD) * self.scale
        score = score.masked_fill(attn_mask, -float("inf"))
        prob = self.dropatt(F.softmax(score, dim=-1))
        vec = torch.matmul(prob, v).permute(2, 0, 1, 3).reshape(qlen, bsz, H * D)
        return self.layer_norm(w + self.drop(self.o_net(vec)))


VARIANTS = {"reference": RelPartialLearnableAttention, "head-major": HeadMajorAttention}


def positional(klen, d):
    inv_freq = 1.0 / (10000 ** (torch.arange(0.0, d, 2.0) / d))
    sinusoid = torch.outer(torch.arange(klen - 1, -1, -1.0), inv_freq)
    return torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)


def time_torch(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    T, M, B, E, H, D = 128, 512, 64, 500, 10, 50
    layer = VARIANTS[args.variant](H, E, D, 0.1, args.dropatt).train()
    u = nn.Parameter(torch.randn(H, D) * 0.02)
    v = nn.Parameter(torch.randn(H, D) * 0.02)
    x = torch.rand(T, B, E) * 2 - 1
    x.requires_grad_()
    mem = torch.rand(M, B, E) * 2 - 1
    r = positional(M + T, E)
    mask = torch.triu(torch.ones(T, M + T, dtype=torch.bool), diagonal=1 + M)
    dy = torch.rand(T, B, E) * 2 - 1
    times, cpu = [], []
    for it in range(args.warmup + args.runs):
        c0, t0 = time.process_time(), time.perf_counter()
        y = layer(x, r, u, v, mask, mem)
        y.backward(dy)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if it >= args.warmup:
            times.append(dt)
            cpu.append(dc)
        layer.zero_grad(set_to_none=True)
        x.grad = None
    return times, cpu


def time_partita(args):
    if not args.bench:
        return [], []
    out = subprocess.run(
        [args.bench, "--benchmark_filter=ForwardBackward/dropatt%%:%d/" % round(args.dropatt * 100),
         "--benchmark_repetitions=%d" % args.runs, "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    return [b["real_time"] / 1000.0 for b in runs], [b["process_cpu_s"] for b in runs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="path to bench_attention (omit to time torch only)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dropatt", type=float, default=0.0)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="head-major",
                    help="torch layer: Transformer-XL's einsum code or a head-major port")
    ap.add_argument("--order", choices=["torch-first", "partita-first"], default="torch-first")
    args = ap.parse_args()
    if args.order == "torch-first":
        t_torch, t_ours = time_torch(args), time_partita(args)
    else:
        t_ours, t_torch = time_partita(args), time_torch(args)
    (w_t, c_t), (w_o, c_o) = t_torch, t_ours
    med = statistics.median
    print("torch (%s) fwd+bwd: median %.3f s wall, %.3f s process CPU; wall runs %s"
          % (args.variant, med(w_t), med(c_t), " ".join("%.3f" % t for t in w_t)))
    if w_o:
        print("partita fwd+bwd: median %.3f s wall, %.3f s process CPU; wall runs %s"
              % (med(w_o), med(c_o), " ".join("%.3f" % t for t in w_o)))
        print("ratio partita/torch: %.3f wall, %.3f CPU (goal <= 0.5)"
              % (med(w_o) / med(w_t), med(c_o) / med(c_t)))


if __name__ == "__main__":
    main()
