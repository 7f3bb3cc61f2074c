"""PyTorch twin of partita's Transformer-XL (include/partita/models/transformer_xl.hpp).

The same network, parameter for parameter and name for name, so a model file written by
partita loads here with ``load_state_dict`` and back (linear weights out x in, as torch
keeps them; the embedding (vocab, d_model)). Written from the published math (Dai et al.
2019, section 3.3: relative positional encodings with the biases u and v shared by all
layers, segment-level recurrence with a memory that receives no gradient) and partita's
header; used for the committed test fixture (make_transformer_xl_fixture.py) and for
training on GPUs; not run by CI.

Layout: tokens are (batch, time) as in partita's API; inside, sequences are
(time, batch, d_model). For a segment of T tokens with memory of M positions:

  h_0    = dropout(sqrt(d_model) word_emb[tokens])
  r      = dropout(R)        R[i] = [sin(p w), cos(p w)], p = M+T-1-i, w_k = 10000^(-2k/d_model)
  layer l: q, k, v = [mem_l; h_l] qkv_net (q of the segment rows only), r_k = r r_net
           score_ij = ((q_i + u) . k_j + (q_i + v) . r_k[M+T-1-(M+i-j)]) / sqrt(d_head)
           masked where j > M + i (the future) or j < M - rows[b] (a row's cleared memory)
           a = LayerNorm(h_l + dropout(softmax_j(score) v o_net))
           h_{l+1} = LayerNorm(a + dropout(CoreNet.3(dropout(relu(CoreNet.0(a))))))
  logits = dropout(h_L) word_emb^T + out.bias
  loss   = cross-entropy of the next-token targets, <PAD> (1) ignored
  memory: mem_l <- the last `memory` positions of [mem_l; h_l], detached; rows[b] <-
          min(rows[b] + T, memory)

The relative term is computed with the pad / reshape / slice shift of the reference
implementation, as partita does.

    python3 tools/torch_twins/transformer_xl_twin.py count [--d-model 500 ...]
"""
import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD = 1
ARCHITECTURE = ["vocab", "layers", "heads", "d_model", "d_head", "d_inner", "segment", "memory"]


def reference_config():
    return {"vocab": 310, "layers": 4, "heads": 10, "d_model": 500, "d_head": 50, "d_inner": 1000,
            "segment": 128, "memory": 512, "dropout": 0.1, "dropout_attention": 0.0}


def positions(klen, d, dtype):
    inv = 1.0 / (10000 ** (torch.arange(0.0, d, 2.0, dtype=torch.float32) / d))
    pos = torch.arange(klen - 1, -1, -1.0, dtype=torch.float32)
    ang = torch.outer(pos, inv)
    return torch.cat([ang.sin(), ang.cos()], dim=-1).to(dtype)


def rel_shift(x):
    """(T, K, ...) -> (T, K, ...): pad a zero column, view as (K+1, T), drop the first row."""
    T, K = x.shape[0], x.shape[1]
    padded = torch.cat([x.new_zeros((T, 1) + tuple(x.shape[2:])), x], dim=1)
    return padded.view((K + 1, T) + tuple(x.shape[2:]))[1:].reshape(x.shape)


class RelAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.dh = c["heads"], c["d_head"]
        hd = self.h * self.dh
        self.qkv_net = nn.Linear(c["d_model"], 3 * hd, bias=False)
        self.r_net = nn.Linear(c["d_model"], hd, bias=False)
        self.o_net = nn.Linear(hd, c["d_model"], bias=False)
        self.layer_norm = nn.LayerNorm(c["d_model"])
        self.drop = nn.Dropout(c["dropout"])
        self.dropatt = nn.Dropout(c["dropout_attention"])

    def forward(self, x, mem, r, u, v, mask):
        T, B, _ = x.shape
        cat = x if mem is None else torch.cat([mem, x], 0)
        K = cat.shape[0]
        q, k, vals = self.qkv_net(cat).chunk(3, dim=-1)
        q = q[-T:].view(T, B, self.h, self.dh)
        k = k.view(K, B, self.h, self.dh)
        vals = vals.view(K, B, self.h, self.dh)
        rk = self.r_net(r).view(K, self.h, self.dh)
        ac = torch.einsum("ibnd,jbnd->ijbn", q + u, k)
        bd = rel_shift(torch.einsum("ibnd,jnd->ijbn", q + v, rk))
        score = (ac + bd) / math.sqrt(self.dh)
        score = score.masked_fill(mask[:, :, :, None], float("-inf"))
        prob = self.dropatt(F.softmax(score, dim=1))
        vec = torch.einsum("ijbn,jbnd->ibnd", prob, vals).reshape(T, B, self.h * self.dh)
        return self.layer_norm(x + self.drop(self.o_net(vec)))


class PositionwiseFF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.CoreNet = nn.Sequential(nn.Linear(c["d_model"], c["d_inner"]), nn.ReLU(inplace=True),
                                     nn.Dropout(c["dropout"]), nn.Linear(c["d_inner"], c["d_model"]),
                                     nn.Dropout(c["dropout"]))
        self.layer_norm = nn.LayerNorm(c["d_model"])

    def forward(self, x):
        return self.layer_norm(x + self.CoreNet(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dec_attn = RelAttention(c)
        self.pos_ff = PositionwiseFF(c)

    def forward(self, x, mem, r, u, v, mask):
        return self.pos_ff(self.dec_attn(x, mem, r, u, v, mask))


class TiedOutput(nn.Module):
    """The output projection's own parameter: a bias; its weight is the embedding's."""

    def __init__(self, vocab):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab))


class Memory:
    """Per layer (M, B, d_model) layer inputs and per-row counts of attended positions."""

    def __init__(self):
        self.layers, self.rows = None, None

    def length(self):
        return 0 if self.layers is None else self.layers[0].shape[0]

    def clear_row(self, b):
        self.rows[b] = 0


class TransformerXLTwin(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = dict(reference_config(), **config)
        self.config = c
        self.word_emb = nn.Embedding(c["vocab"], c["d_model"])
        self.r_w_bias = nn.Parameter(torch.zeros(c["heads"], c["d_head"]))
        self.r_r_bias = nn.Parameter(torch.zeros(c["heads"], c["d_head"]))
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.out = TiedOutput(c["vocab"])
        self.drop = nn.Dropout(c["dropout"])
        with torch.no_grad():  # partita's initialisation: N(0, 0.02), LayerNorm 1 / 0, biases 0
            for name, p in self.named_parameters():
                if "layer_norm" in name or name.endswith(".bias"):
                    continue
                p.normal_(0.0, 0.02)

    def forward(self, tokens, memory=None):
        """tokens (B, T) long -> logits (T, B, vocab); `memory` (a Memory) is read, then
        extended by the segment."""
        c = self.config
        x = tokens.t()
        T, B = x.shape
        M = 0 if memory is None else memory.length()
        rows = [0] * B if memory is None or memory.rows is None else list(memory.rows)
        dtype = self.word_emb.weight.dtype
        h = self.drop(self.word_emb(x) * math.sqrt(c["d_model"]))
        r = self.drop(positions(M + T, c["d_model"], dtype))
        i = torch.arange(T)[:, None, None]
        j = torch.arange(M + T)[None, :, None]
        start = torch.tensor([M - n for n in rows])[None, None, :]
        mask = (j > i + M) | (j < start)                  # (T, K, B)
        hids = []
        for l, layer in enumerate(self.layers):
            hids.append(h)
            h = layer(h, memory.layers[l] if M else None, r, self.r_w_bias, self.r_r_bias, mask)
        logits = self.drop(h) @ self.word_emb.weight.t() + self.out.bias
        if memory is not None:
            keep = c["memory"]
            if keep == 0:
                memory.layers, memory.rows = None, [0] * B
            else:
                memory.layers = [(hid if not M else torch.cat([memory.layers[l], hid], 0))[-keep:].detach()
                                 for l, hid in enumerate(hids)]
                memory.rows = [min(n + T, keep) for n in rows]
        return logits

    def loss(self, tokens, targets, memory=None):
        logits = self.forward(tokens, memory)
        V = logits.shape[-1]
        return F.cross_entropy(logits.reshape(-1, V), targets.t().reshape(-1), ignore_index=PAD), logits


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


def save(twin, path, extra=None):
    """A partita "transformer_xl" model file (TransformerXL::load reads it)."""
    from safetensors.torch import save_file
    cfg = {k: twin.config[k] for k in ARCHITECTURE + ["dropout", "dropout_attention"]}
    md = {"model": "transformer_xl", "model.version": "1",
          "config": json.dumps(cfg, separators=(",", ":")), "partita.format": "1"}
    md.update(extra or {})
    save_file({k: v.detach().float().contiguous() for k, v in twin.state_dict().items()}, path, metadata=md)


def load(path):
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, "pt") as f:
        cfg = json.loads(f.metadata()["config"])
    twin = TransformerXLTwin(cfg)
    twin.load_state_dict(load_file(path))
    return twin


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("count", help="parameter count of a configuration")
    for name in ARCHITECTURE:
        c.add_argument("--" + name.replace("_", "-"), type=int, default=reference_config()[name])
    a = ap.parse_args(argv)
    if a.cmd == "count":
        print(count_parameters(TransformerXLTwin({k: getattr(a, k) for k in ARCHITECTURE})))


if __name__ == "__main__":
    main()
