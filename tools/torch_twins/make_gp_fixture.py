#!/usr/bin/env python3
"""Fixture for partita's WGAN-GP gradient penalty test, by PyTorch double backprop.

Two small critics with fixed weights, each fed a batch of interpolates xhat:
  mlp : xhat (4, 3, 5, 2) -> flatten -> Linear(30, 16) -> LeakyReLU(0.2)
        -> Linear(16, 8) -> LeakyReLU(0.2) -> Linear(8, 1)
  conv: xhat (3, 8, 8, 2) NHWC -> Conv 4x4 s2 (2->4, pad 1) -> LeakyReLU(0.2)
        -> Conv 4x4 s2 (4->6, pad 1) -> LeakyReLU(0.2) -> flatten in NHWC order
        -> Linear(24, 1)          (the GAN critic's structure, scaled down)
Penalty P = 10 * mean_i (sqrt(1e-8 + |grad_x D(xhat_i)|^2) - 1)^2, and grad_theta P
from torch.autograd.grad(create_graph=True), all in float64 from float32 weights.

Written to tests/data/gp/gp_fixture.txt, one tensor a line ("name d0,d1,.. values"),
in partita's in-memory layouts: conv weights (kh, kw, in, out), linear weights
(in, out), activations NHWC. Names: "<critic>.xhat", "<critic>.<param>",
"<critic>.grad.<param>", "<critic>.penalty", "<critic>.norms".
Run from anywhere: python3 tools/torch_twins/make_gp_fixture.py
"""
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "gp")


def penalty_and_grads(critic_fn, params, xhat):
    xhat = xhat.clone().requires_grad_(True)
    d = critic_fn(xhat)
    (g,) = torch.autograd.grad(d.sum(), xhat, create_graph=True)
    norms = torch.sqrt(1e-8 + g.flatten(1).pow(2).sum(1))
    p = 10.0 * ((norms - 1.0) ** 2).mean()
    # Biases that g does not depend on (the last layer's) get no gradient: zero.
    grads = torch.autograd.grad(p, params, allow_unused=True)
    grads = [torch.zeros_like(v) if gr is None else gr.detach() for v, gr in zip(params, grads)]
    return p.detach(), norms.detach(), grads


def f32(shape, gen, scale):
    return (torch.randn(shape, generator=gen) * scale).float().double()


def mlp_case(gen):
    w1, b1 = f32((16, 30), gen, 0.4), f32((16,), gen, 0.1)
    w2, b2 = f32((8, 16), gen, 0.4), f32((8,), gen, 0.1)
    w3, b3 = f32((1, 8), gen, 0.6), f32((1,), gen, 0.1)
    params = [w1, b1, w2, b2, w3, b3]
    for p in params:
        p.requires_grad_(True)

    def critic(x):
        h = F.leaky_relu(F.linear(x.flatten(1), w1, b1), 0.2)
        h = F.leaky_relu(F.linear(h, w2, b2), 0.2)
        return F.linear(h, w3, b3)

    xhat = (torch.rand((4, 3, 5, 2), generator=gen) * 2 - 1).float().double()
    p, norms, grads = penalty_and_grads(critic, params, xhat)
    names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    ours = lambda n, t: t.t() if n.endswith("weight") else t  # linear: (out, in) -> (in, out)
    out = {"mlp.xhat": xhat, "mlp.penalty": p.reshape(1), "mlp.norms": norms}
    for n, v, g in zip(names, params, grads):
        out[f"mlp.{n}"] = ours(n, v.detach())
        out[f"mlp.grad.{n}"] = ours(n, g)
    return out


def conv_case(gen):
    c1w, c1b = f32((4, 2, 4, 4), gen, 0.3), f32((4,), gen, 0.1)
    c2w, c2b = f32((6, 4, 4, 4), gen, 0.2), f32((6,), gen, 0.1)
    fw, fb = f32((1, 24), gen, 0.3), f32((1,), gen, 0.1)
    params = [c1w, c1b, c2w, c2b, fw, fb]
    for p in params:
        p.requires_grad_(True)

    def critic(x_nhwc):
        x = x_nhwc.permute(0, 3, 1, 2)
        h = F.leaky_relu(F.conv2d(x, c1w, c1b, stride=2, padding=1), 0.2)
        h = F.leaky_relu(F.conv2d(h, c2w, c2b, stride=2, padding=1), 0.2)
        h = h.permute(0, 2, 3, 1).flatten(1)  # NHWC flatten, as partita's tensors
        return F.linear(h, fw, fb)

    xhat = (torch.rand((3, 8, 8, 2), generator=gen) * 2 - 1).float().double()
    p, norms, grads = penalty_and_grads(critic, params, xhat)
    names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]

    def ours(n, t):
        if n.startswith("conv") and n.endswith("weight"):
            return t.permute(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)
        if n == "fc.weight":
            return t.t()
        return t

    out = {"conv.xhat": xhat, "conv.penalty": p.reshape(1), "conv.norms": norms}
    for n, v, g in zip(names, params, grads):
        out[f"conv.{n}"] = ours(n, v.detach())
        out[f"conv.grad.{n}"] = ours(n, g)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(2024)
    tensors = {**mlp_case(gen), **conv_case(gen)}
    path = os.path.join(OUT, "gp_fixture.txt")
    with open(path, "w") as f:
        f.write(f"# tools/torch_twins/make_gp_fixture.py, torch {torch.__version__}, float64\n")
        for name, v in tensors.items():
            v = v.detach().contiguous()
            shape = ",".join(str(d) for d in v.shape)
            f.write(f"{name} {shape} " + " ".join("%.17g" % x for x in v.flatten().tolist()) + "\n")
    print("wrote", path, "penalties", float(tensors["mlp.penalty"]), float(tensors["conv.penalty"]))


if __name__ == "__main__":
    main()
