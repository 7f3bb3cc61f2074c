"""PyTorch twin of partita's AR-CNN U-Net (include/partita/models/arcnn.hpp).

The same network, layer for layer and name for name, so a weights file written by
partita loads here with ``load_state_dict`` and back. Used for three things, none of
them run in CI:

* ``python tools/torch_twins/arcnn_twin.py fixture``: writes the committed test
  fixtures tests/data/arcnn/{twin,twin16}_{weights,io}.safetensors (two small
  configurations, see FIXTURES; the C++ test checks our logits, loss, gradients and
  BatchNorm statistics against them);
* ``benchmarks/arcnn_torch.py`` times a training step and an edit loop with it;
* a fallback trainer (``train``) on the pairs partita's own data pipeline makes.

Architecture (AWS DeepComposer AR-CNN sample, MIT-0): encoder level i: 2 x [Conv 3x3 same, ReLU] -> skip
-> MaxPool 2 -> Dropout -> BatchNorm; bottleneck 2 x [Conv 3x3, ReLU]; decoder level
(deepest first): Upsample x2 (nearest) -> concat(up, skip) -> BatchNorm -> 2 x [Conv
3x3, ReLU] -> Dropout; Conv 1x1 to one channel of logits. BatchNorm as Keras
(eps 1e-3, Keras momentum m (config "bn_momentum", 0.99 by default) = torch momentum 1 - m); Glorot-uniform convs, zero bias.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def full_config(cfg):
    c = {"levels": 5, "base_filters": 32, "bottleneck_filters": 0, "dropout": 0.5, "bn_momentum": 0.99}
    c.update(cfg or {})
    if not c["bottleneck_filters"]:
        c["bottleneck_filters"] = c["base_filters"] << c["levels"]
    return c


def _conv(cin, cout, k=3):
    conv = nn.Conv2d(cin, cout, k, padding=k // 2)
    nn.init.xavier_uniform_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class Encoder(nn.Module):
    def __init__(self, cin, f, rate, keras_momentum=0.99):
        super().__init__()
        self.conv1, self.conv2 = _conv(cin, f), _conv(f, f)
        self.drop = nn.Dropout(rate)
        self.bn = nn.BatchNorm2d(f, eps=1e-3, momentum=1.0 - keras_momentum)

    def forward(self, x):
        skip = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.bn(self.drop(F.max_pool2d(skip, 2))), skip


class Decoder(nn.Module):
    def __init__(self, cin, f, rate, keras_momentum=0.99):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin + f, eps=1e-3, momentum=1.0 - keras_momentum)
        self.conv1, self.conv2 = _conv(cin + f, f), _conv(f, f)
        self.drop = nn.Dropout(rate)

    def forward(self, x, skip):
        x = torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), skip], 1)
        x = self.bn(x)
        return self.drop(F.relu(self.conv2(F.relu(self.conv1(x)))))


class Mid(nn.Module):
    def __init__(self, cin, f):
        super().__init__()
        self.conv1, self.conv2 = _conv(cin, f), _conv(f, f)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class ArcnnTwin(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        self.config = full_config(cfg)
        L, Fb, rate = self.config["levels"], self.config["base_filters"], self.config["dropout"]
        self.enc = nn.ModuleList()
        cin = 1
        for i in range(L):
            self.enc.append(Encoder(cin, Fb << i, 0.0 if i == 0 else rate, self.config["bn_momentum"]))
            cin = Fb << i
        self.mid = Mid(cin, self.config["bottleneck_filters"])
        cin = self.config["bottleneck_filters"]
        self.dec = nn.ModuleList()
        for j in range(L):
            i = L - 1 - j
            self.dec.append(Decoder(cin, Fb << i, 0.0 if i == 0 else rate, self.config["bn_momentum"]))
            cin = Fb << i
        self.out = _conv(cin, 1, 1)

    def forward(self, x):
        """x: (N, 1, H, W) -> logits (N, 1, H, W)."""
        skips = []
        for e in self.enc:
            x, s = e(x)
            skips.append(s)
        x = self.mid(x)
        for d, s in zip(self.dec, reversed(skips)):
            x = d(x, s)
        return self.out(x)


def kl_loss(logits, label):
    """Per-sample KL(label / sum(label) || softmax(logits over all cells)), batch mean."""
    z = logits.flatten(1)
    q = label.flatten(1)
    q = q / q.sum(1, keepdim=True).clamp_min(1e-30)
    return F.kl_div(F.log_softmax(z, 1), q, reduction="batchmean")


def state_dict_for_file(model):
    return {k: v.detach().contiguous() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def save(model, path, extra=None):
    from safetensors.torch import save_file
    md = {"model": "arcnn", "config": json.dumps(model.config, separators=(",", ":")),
          "partita.format": "1"}
    md.update(extra or {})
    save_file(state_dict_for_file(model), path, metadata=md)


def load(path):
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, "pt") as f:
        cfg = json.loads(f.metadata()["config"])
    m = ArcnnTwin(cfg)
    m.load_state_dict(load_file(path), strict=False)
    return m


# The committed fixtures: name -> (config, input size). "twin": tiny (4 filters: partita's
# im2col convolutions but the bottleneck's 16 -> 16); "twin16": 16 filters, the smallest
# width at which partita takes
# its Winograd paths (every 3x3 convolution but the first, and the decoders' fused
# upsample-concat-convolutions), on 32 x 32 rolls to keep the file small.
FIXTURES = {
    "twin": ({"levels": 2, "base_filters": 4, "dropout": 0.0}, 128),
    "twin16": ({"levels": 2, "base_filters": 16, "dropout": 0.0}, 32),
}


def make_fixture(out_dir, fixture="twin"):
    """A network with randomised BatchNorm state, its file, and its outputs and gradients
    on a fixed input (see FIXTURES)."""
    from safetensors.torch import save_file
    cfg, size = FIXTURES[fixture]
    torch.manual_seed(1234)
    m = ArcnnTwin(dict(cfg)).double()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.Conv2d):
                mod.bias.uniform_(-0.1, 0.1)
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(2, 1, size, size, generator=g, dtype=torch.float64) < 0.05).double()
    label = (torch.rand(2, 1, size, size, generator=g, dtype=torch.float64) < 0.02).double()
    os.makedirs(out_dir, exist_ok=True)
    save(m.float(), os.path.join(out_dir, fixture + "_weights.safetensors"))
    m = m.double()
    m.eval()
    with torch.no_grad():
        logits_eval = m(x)
        loss_eval = kl_loss(logits_eval, label)
    m.train()
    logits_train = m(x)
    loss_train = kl_loss(logits_train, label)
    loss_train.backward()
    io = {"input": x, "label": label, "logits_eval": logits_eval, "loss_eval": loss_eval.reshape(1),
          "logits_train": logits_train.detach(), "loss_train": loss_train.detach().reshape(1)}
    for name, p in m.named_parameters():
        io["grad." + name] = p.grad
    for name, b in m.named_buffers():
        if not name.endswith("num_batches_tracked"):
            io["after_train." + name] = b
    # NCHW with one channel has the memory order of our NHWC (N, H, W, 1).
    io = {k: (v.permute(0, 2, 3, 1) if v.dim() == 4 and k in
              ("input", "label", "logits_eval", "logits_train") else v).float().contiguous()
          for k, v in io.items()}
    save_file(io, os.path.join(out_dir, fixture + "_io.safetensors"))
    print(fixture, "written to", out_dir, "loss_eval", float(loss_eval), "loss_train", float(loss_train.detach()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                 "tests", "data", "arcnn"))
    f.add_argument("--name", choices=sorted(FIXTURES), action="append",
                   help="which fixture (default: all)")
    c = sub.add_parser("count")
    c.add_argument("--levels", type=int, default=5)
    c.add_argument("--base", type=int, default=32)
    a = ap.parse_args(argv)
    if a.cmd == "fixture":
        for name in a.name or sorted(FIXTURES):
            make_fixture(os.path.normpath(a.out), name)
    elif a.cmd == "count":
        m = ArcnnTwin({"levels": a.levels, "base_filters": a.base})
        print(sum(p.numel() for p in m.parameters()))


if __name__ == "__main__":
    sys.exit(main())
