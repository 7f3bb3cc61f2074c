#!/usr/bin/env python3
"""Fixtures for partita's optimizer and loss tests, computed by PyTorch.

Writes small safetensors files under tests/data/optim/ (float32, torch layouts):
  adam.safetensors   for each config c in {adam, adam_l2, adamw}: "c.p<i>.init",
                     "c.p<i>.grad.<step>" and "c.p<i>.after.<step>" for steps 1..5,
                     plus the config as JSON in the metadata
  clip.safetensors   "p<i>.grad", "p<i>.clipped", "norm" for max_norm in the metadata
  losses.txt         KL: "kl.logits", "kl.label", "kl.loss", "kl.grad";
                     BCE: "bce.logits", "bce.target", "bce.loss", "bce.grad"
                     (plain text, one tensor a line: `name d0,d1,.. v0 v1 ...`, because the
                     nn tests link only partita_nn, which has no safetensors reader)
Run from the repository root: python3 tools/torch_twins/make_optim_fixtures.py
"""
import json
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "optim")
SHAPES = [(3, 5), (7,), (2, 3, 2, 2)]
CONFIGS = {
    "adam": dict(cls="Adam", lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    "adam_l2": dict(cls="Adam", lr=1e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.1),
    "adamw": dict(cls="AdamW", lr=3e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.05),
}
STEPS = 5


def adam_fixture():
    tensors, meta = {}, {}
    for name, cfg in CONFIGS.items():
        g = torch.Generator().manual_seed(1234)
        params = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in SHAPES]
        cls = getattr(torch.optim, cfg["cls"])
        opt = cls(params, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"],
                  weight_decay=cfg["weight_decay"], foreach=False)
        for i, p in enumerate(params):
            tensors[f"{name}.p{i}.init"] = p.detach().clone()
        for step in range(1, STEPS + 1):
            for i, p in enumerate(params):
                # Gradients of mixed scale, including exact zeros.
                gr = torch.randn(p.shape, generator=g) * (10.0 ** (i - 1))
                gr[..., 0] = 0.0
                p.grad = gr
                tensors[f"{name}.p{i}.grad.{step}"] = gr.clone()
            opt.step()
            for i, p in enumerate(params):
                tensors[f"{name}.p{i}.after.{step}"] = p.detach().clone()
        meta[name] = json.dumps(cfg)
    meta["shapes"] = json.dumps(SHAPES)
    meta["steps"] = str(STEPS)
    save_file(tensors, os.path.join(OUT, "adam.safetensors"), metadata=meta)


def clip_fixture():
    g = torch.Generator().manual_seed(99)
    params = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES]
    tensors = {}
    for i, p in enumerate(params):
        p.grad = torch.randn(p.shape, generator=g) * 3.0
        tensors[f"p{i}.grad"] = p.grad.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm=2.5)
    for i, p in enumerate(params):
        tensors[f"p{i}.clipped"] = p.grad.clone()
    tensors["norm"] = norm.reshape(1).float()
    save_file(tensors, os.path.join(OUT, "clip.safetensors"), metadata={"max_norm": "2.5"})


def loss_fixture():
    g = torch.Generator().manual_seed(7)
    t = {}
    # KL over whole samples (N=3, time 4, pitch 6, channels 1); sample 1 has an empty label.
    logits = (torch.randn(3, 4, 6, 1, generator=g) * 2.0).requires_grad_(True)
    label = (torch.rand(3, 4, 6, 1, generator=g) < 0.2).float()
    label[0, 0, 0, 0] = 1.0
    label[2, 1, 2, 0] = 1.0
    label[1] = 0.0
    q = label.flatten(1)
    q = q / q.sum(1, keepdim=True).clamp_min(1e-30)
    loss = torch.nn.functional.kl_div(torch.log_softmax(logits.flatten(1), 1), q,
                                      reduction="batchmean")
    loss.backward()
    t["kl.logits"], t["kl.label"] = logits.detach().clone(), label
    t["kl.loss"], t["kl.grad"] = loss.detach().reshape(1), logits.grad.clone()
    # BCE with logits, mean reduction; include large |z| to exercise stability.
    z = (torch.randn(4, 5, generator=g) * 4.0)
    z[0, 0], z[0, 1] = 60.0, -60.0
    z.requires_grad_(True)
    y = (torch.rand(4, 5, generator=g) < 0.5).float()
    bl = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    bl.backward()
    t["bce.logits"], t["bce.target"] = z.detach().clone(), y
    t["bce.loss"], t["bce.grad"] = bl.detach().reshape(1), z.grad.clone()
    write_text(os.path.join(OUT, "losses.txt"), t)


def write_text(path, tensors):
    """One tensor a line: name, comma-separated shape, values (float32 written as %.9g)."""
    with open(path, "w") as f:
        f.write(f"# written by tools/torch_twins/make_*_fixture(s).py with torch {torch.__version__}\n")
        for name, v in tensors.items():
            v = v.detach().float().contiguous()
            shape = ",".join(str(d) for d in v.shape)
            vals = " ".join("%.9g" % x for x in v.flatten().tolist())
            f.write(f"{name} {shape} {vals}\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    adam_fixture()
    clip_fixture()
    loss_fixture()
    print("wrote", sorted(os.listdir(OUT)))
