#!/usr/bin/env python3
"""Fixture for partita's Transformer-XL test against its PyTorch twin (transformer_xl_twin.py).

A small network (CONFIG: 2 layers, 3 heads of 5, d_model 12, so heads x d_head = 15 differs
from d_model; d_inner 20; segment 5, memory 8; no dropout) with seeded weights larger than
the default init (uniform +-0.3, LayerNorm weights 1 +- 0.2 and biases +-0.2, u and v +-0.5,
the output bias +-0.2), so that the attention is far from uniform and every gradient is
well above rounding. Three consecutive segments of a batch of 2, all float32 inputs and
float64 arithmetic, stored as float32:

  segment 1  empty memory
  segment 2  the memory of segment 1 (5 positions); row 0's last two targets are <PAD>
  segment 3  the memory after segment 2 (the last 8 of 10 positions), with row 1's memory
             cleared (clear_row(1): it starts a new piece and attends to its own segment only)

tests/data/txl/twin_weights.safetensors: the twin's state_dict (torch layouts), metadata
"model": "transformer_xl", "model.version": "1", "config": a model file TransformerXL::load reads.

tests/data/txl/twin_io.safetensors:
  tokens.s<k>, targets.s<k>   (2, 5) ids as float32
  logits.s<k>                 (2, 5, 310) (batch, time, vocab), the segment given its memory
  loss.s<k>                   (1,) mean cross-entropy, <PAD> targets ignored
  memory.s1.layer<l>          (5, 2, 12) the memory after segment 1 (layer l's inputs)
  memory.s2.layer<l>          (8, 2, 12) the memory after segment 2
  grad.s2.<name>, grad.s3.<name>   every parameter's gradient of that segment's loss, its
                              memory held fixed (torch layout)

Not run by CI; the outputs are committed (about 0.2 MB).
Run from anywhere: python3 tools/torch_twins/make_transformer_xl_fixture.py [--out DIR]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_xl_twin as txl  # noqa: E402

CONFIG = {"vocab": 310, "layers": 2, "heads": 3, "d_model": 12, "d_head": 5, "d_inner": 20,
          "segment": 5, "memory": 8, "dropout": 0.0, "dropout_attention": 0.0}
BATCH = 2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "txl")


def make_fixture(out_dir):
    from safetensors.torch import save_file
    torch.manual_seed(20190109)
    twin = txl.TransformerXLTwin(CONFIG)
    with torch.no_grad():
        for name, p in twin.named_parameters():
            if "layer_norm.weight" in name:
                p.uniform_(0.8, 1.2)
            elif name.endswith(".bias") or name == "out.bias":
                p.uniform_(-0.2, 0.2)
            elif name in ("r_w_bias", "r_r_bias"):
                p.uniform_(-0.5, 0.5)
            else:
                p.uniform_(-0.3, 0.3)
    twin = twin.float()
    os.makedirs(out_dir, exist_ok=True)
    txl.save(twin, os.path.join(out_dir, "twin_weights.safetensors"))
    twin = twin.double()
    twin.train()  # dropout 0: training mode computes what eval mode does

    gen = torch.Generator().manual_seed(3)
    T = CONFIG["segment"]
    stream = torch.randint(2, CONFIG["vocab"], (BATCH, 3 * T + 1), generator=gen)
    io = {}
    memory = txl.Memory()
    names = [n for n, _ in twin.named_parameters()]
    for k in range(3):
        tokens = stream[:, k * T:(k + 1) * T]
        targets = stream[:, k * T + 1:(k + 1) * T + 1].clone()
        if k == 1:
            targets[0, -2:] = txl.PAD
        if k == 2:
            memory.clear_row(1)
        twin.zero_grad()
        loss, logits = twin.loss(tokens, targets, memory)
        s = "s%d" % (k + 1)
        io["tokens." + s] = tokens
        io["targets." + s] = targets
        io["logits." + s] = logits.transpose(0, 1)
        io["loss." + s] = loss.reshape(1)
        if k > 0:
            grads = torch.autograd.grad(loss, list(twin.parameters()))
            for n, g in zip(names, grads):
                io["grad.%s.%s" % (s, n)] = g
        if k < 2:
            for l, m in enumerate(memory.layers):
                io["memory.%s.layer%d" % (s, l)] = m

    io = {k: v.detach().to(torch.float32).contiguous() for k, v in io.items()}
    save_file(io, os.path.join(out_dir, "twin_io.safetensors"),
              metadata={"source": "tools/torch_twins/make_transformer_xl_fixture.py",
                        "torch": torch.__version__, "arithmetic": "float64"})
    print("wrote", out_dir, "losses", [float(io["loss.s%d" % (k + 1)]) for k in range(3)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    make_fixture(os.path.normpath(a.out))


if __name__ == "__main__":
    sys.exit(main())
