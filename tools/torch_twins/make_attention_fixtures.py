#!/usr/bin/env python3
"""PyTorch twins of partita's Transformer-XL layers, and the fixtures that pin them.

Builds Linear, LayerNorm, Embedding with a tied output projection, softmax
cross-entropy with ignore_index, the sinusoidal relative position table,
Transformer-XL's rel_shift, and one RelPartialLearnable attention layer (written
here from the published math: Dai et al. 2019, eqs. in section 3.3, with the
reference implementation's pad / reshape / slice shift, causal mask with memory,
post-LayerNorm residual) and the position-wise FFN block. Every case runs in float64 from float32 inputs, with
fixed weights, inputs and upstream gradients, and writes tests/data/nn/attn/<case>.bin:

    b"PTFX", uint32 version (1), uint32 count, then per tensor:
    uint32 name length, name (utf-8), uint32 rank, int64 dims[rank], float32 data.

Weights are written in torch's layout (Linear (out, in)); integer tensors (token
ids, targets) are written as float32. Sequences are (time, batch, d).

    python3 tools/torch_twins/make_attention_fixtures.py [--out tests/data/nn/attn]
"""
import argparse
import math
import os
import struct

import torch
import torch.nn.functional as F

DT = torch.float64


def write_fixture(path, tensors):
    with open(path, "wb") as f:
        f.write(b"PTFX")
        f.write(struct.pack("<II", 1, len(tensors)))
        for name, t in tensors.items():
            t = t.detach().to(torch.float32).contiguous()
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%dq" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())


def rand(g, *shape, scale=1.0):
    # float32 values (what the C++ side reads back), promoted to float64 for the math.
    return (torch.rand(*shape, generator=g, dtype=torch.float32) * 2 - 1).mul(scale).to(DT)


def grads_of(loss, tensors):
    return torch.autograd.grad(loss, tensors)


def positional(klen, d):
    """Transformer-XL PositionalEmbedding: positions klen-1 .. 0, [sin, cos]."""
    inv_freq = 1.0 / (10000 ** (torch.arange(0.0, d, 2.0, dtype=torch.float32) / d))
    pos_seq = torch.arange(klen - 1, -1, -1.0, dtype=torch.float32)
    sinusoid = torch.outer(pos_seq, inv_freq)
    return torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)


def rel_shift(x):
    """The reference trick on (qlen, klen, ...): pad a zero column, reshape, drop row 0."""
    zero_pad = torch.zeros((x.size(0), 1) + tuple(x.size()[2:]), dtype=x.dtype)
    x_padded = torch.cat([zero_pad, x], dim=1)
    x_padded = x_padded.view((x.size(1) + 1, x.size(0)) + tuple(x.size()[2:]))
    return x_padded[1:].reshape(x.size())


def rel_attention(x, mem, r, w_qkv, w_r, w_o, ln_w, ln_b, u, v, n_head, d_head, eps=1e-5):
    """One RelPartialLearnable layer, no dropout. x (T, B, E), mem (M, B, E), r (K, E)."""
    T, B, E = x.shape
    M = mem.shape[0]
    K = M + T
    cat = torch.cat([mem, x], 0)
    heads = cat @ w_qkv.t()                          # (K, B, 3 H D)
    q, k, vv = torch.chunk(heads, 3, dim=-1)
    q = q[-T:].reshape(T, B, n_head, d_head)
    k = k.reshape(K, B, n_head, d_head)
    vv = vv.reshape(K, B, n_head, d_head)
    rk = (r @ w_r.t()).reshape(K, n_head, d_head)
    ac = torch.einsum("ibnd,jbnd->ijbn", q + u, k)
    bd = rel_shift(torch.einsum("ibnd,jnd->ijbn", q + v, rk))
    score = (ac + bd) * (1.0 / math.sqrt(d_head))
    mask = torch.triu(torch.ones(T, K, dtype=torch.bool), diagonal=1 + M)
    score = score.masked_fill(mask[:, :, None, None], -float("inf"))
    prob = F.softmax(score, dim=1)                    # over keys j
    vec = torch.einsum("ijbn,jbnd->ibnd", prob, vv).reshape(T, B, n_head * d_head)
    out = vec @ w_o.t()
    y = F.layer_norm(x + out, (E,), ln_w, ln_b, eps)
    return y, prob.permute(2, 3, 0, 1)               # probs as (B, H, T, K)


def case_linear(g):
    x = rand(g, 2, 3, 5).requires_grad_()
    w = rand(g, 4, 5, scale=0.5).requires_grad_()
    b = rand(g, 4, scale=0.5).requires_grad_()
    y = F.linear(x, w, b)
    dy = rand(g, *y.shape)
    dx, dw, db = grads_of((y * dy).sum(), [x, w, b])
    return dict(x=x, weight=w, bias=b, y=y, dy=dy, dx=dx, dweight=dw, dbias=db)


def case_layernorm(g):
    x = (rand(g, 4, 6, scale=2.0) + 0.5).requires_grad_()
    w = (1 + rand(g, 6, scale=0.3)).requires_grad_()
    b = rand(g, 6, scale=0.3).requires_grad_()
    y = F.layer_norm(x, (6,), w, b, 1e-5)
    dy = rand(g, *y.shape)
    dx, dw, db = grads_of((y * dy).sum(), [x, w, b])
    return dict(x=x, weight=w, bias=b, y=y, dy=dy, dx=dx, dweight=dw, dbias=db)


def case_embedding(g):
    vocab, d = 7, 6
    tokens = torch.tensor([[0, 3], [6, 3], [1, 2]])
    e = rand(g, vocab, d, scale=0.5).requires_grad_()
    b = rand(g, vocab, scale=0.2).requires_grad_()
    emb = F.embedding(tokens, e) * math.sqrt(d)        # (3, 2, d)
    h = rand(g, 3, 2, d).requires_grad_()
    logits = h @ e.t() + b
    demb = rand(g, *emb.shape)
    dlogits = rand(g, *logits.shape)
    de, db, dh = grads_of((emb * demb).sum() + (logits * dlogits).sum(), [e, b, h])
    return dict(tokens=tokens.to(DT), weight=e, bias=b, emb=emb, h=h, logits=logits,
                demb=demb, dlogits=dlogits, dweight=de, dbias=db, dh=dh)


def case_cross_entropy(g):
    logits = rand(g, 6, 7, scale=3.0).requires_grad_()
    targets = torch.tensor([2, 1, 0, 6, 1, 4])         # 1 = <PAD>, ignored
    loss = F.cross_entropy(logits, targets, ignore_index=1)
    (dl,) = grads_of(loss * 0.5, [logits])             # upstream dloss = 0.5
    return dict(logits=logits, targets=targets.to(DT), loss=loss.reshape(1), dlogits=dl)


def case_positional(g):
    return dict(r=positional(9, 8))


def case_rel_shift(g):
    x = rand(g, 3, 5).requires_grad_()
    y = rel_shift(x)
    dy = rand(g, 3, 5)
    (dx,) = grads_of((y * dy).sum(), [x])
    return dict(x=x, y=y, dy=dy, dx=dx)


def case_attention(g, mlen):
    T, B, E, H, D = 4, 2, 12, 3, 4
    x = rand(g, T, B, E).requires_grad_()
    mem = rand(g, mlen, B, E)
    r = positional(mlen + T, E).to(DT)
    w_qkv = rand(g, 3 * H * D, E, scale=0.4).requires_grad_()
    w_r = rand(g, H * D, E, scale=0.4).requires_grad_()
    w_o = rand(g, E, H * D, scale=0.4).requires_grad_()
    ln_w = (1 + rand(g, E, scale=0.2)).requires_grad_()
    ln_b = rand(g, E, scale=0.2).requires_grad_()
    u = rand(g, H, D, scale=0.5).requires_grad_()
    v = rand(g, H, D, scale=0.5).requires_grad_()
    y, prob = rel_attention(x, mem, r, w_qkv, w_r, w_o, ln_w, ln_b, u, v, H, D)
    dy = rand(g, *y.shape)
    grads = grads_of((y * dy).sum(), [x, w_qkv, w_r, w_o, ln_w, ln_b, u, v])
    names = ["dx", "dqkv", "dr_net", "do_net", "dln_w", "dln_b", "du", "dv"]
    out = dict(x=x, mem=mem, r=r, qkv=w_qkv, r_net=w_r, o_net=w_o, ln_w=ln_w, ln_b=ln_b,
               u=u, v=v, y=y, probs=prob, dy=dy)
    out.update(zip(names, grads))
    out["dims"] = torch.tensor([T, B, E, H, D, mlen], dtype=DT)
    return out


def case_ffn(g):
    x = rand(g, 3, 2, 6).requires_grad_()
    w1 = rand(g, 10, 6, scale=0.5).requires_grad_()
    b1 = rand(g, 10, scale=0.3).requires_grad_()
    w2 = rand(g, 6, 10, scale=0.5).requires_grad_()
    b2 = rand(g, 6, scale=0.3).requires_grad_()
    ln_w = (1 + rand(g, 6, scale=0.2)).requires_grad_()
    ln_b = rand(g, 6, scale=0.2).requires_grad_()
    core = F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)
    y = F.layer_norm(x + core, (6,), ln_w, ln_b, 1e-5)
    dy = rand(g, *y.shape)
    grads = grads_of((y * dy).sum(), [x, w1, b1, w2, b2, ln_w, ln_b])
    out = dict(x=x, w1=w1, b1=b1, w2=w2, b2=b2, ln_w=ln_w, ln_b=ln_b, y=y, dy=dy)
    out.update(zip(["dx", "dw1", "db1", "dw2", "db2", "dln_w", "dln_b"], grads))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "data", "nn", "attn"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    g = torch.Generator().manual_seed(20191)
    cases = {
        "linear": case_linear(g),
        "layernorm": case_layernorm(g),
        "embedding": case_embedding(g),
        "cross_entropy": case_cross_entropy(g),
        "positional": case_positional(g),
        "rel_shift": case_rel_shift(g),
        "attention_mem": case_attention(g, 3),
        "attention_nomem": case_attention(g, 0),
        "ffn": case_ffn(g),
    }
    for name, tensors in cases.items():
        path = os.path.join(args.out, name + ".bin")
        write_fixture(path, tensors)
        print(f"{path}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
