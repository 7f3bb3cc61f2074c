"""PyTorch twin of partita's GAN (include/partita/models/gan.hpp).

The same networks, layer for layer and name for name, so a weights file written by
partita loads here with ``load_state_dict`` and back (conv weights out x in x kh x kw,
linear weights out x in, as torch keeps them). Inputs and outputs are in partita's
model layout, NHWC: a multitrack window is (N, steps, pitches, tracks), the melody
(N, steps, pitches, 1), the noise z (N, steps / 16, pitches / 16, latent); the twin
permutes to torch's NCHW inside. Used for the committed test fixture
(tools/torch_twins/make_gan_fixture.py) and for timing a training step against
partita; not run by CI.

Architecture (AWS DeepComposer GAN sample, MIT-0), F = filters:

  generator  enc.0  Conv 4x4 s2 "same" (1 -> F), LeakyReLU 0.2
             enc.i  Conv 4x4 s2 "same" (-> F 2^i), LeakyReLU 0.2, BatchNorm       i = 1..3
             concat(enc.3, z) on channels
             dec.j  Upsample x2 (nearest), Conv 4x4 s1 "same", BatchNorm, ReLU,
                    concat(., enc.(2-j))                          j = 0..2: 4F, 2F, F
             out    Upsample x2, Conv 4x4 s1 "same" (-> tracks), tanh
  critic     concat(x, c) (tracks + 1 channels); conv.k: Conv 4x4 s2 "same" (-> F 2^k),
             LeakyReLU 0.2, k = 0..3; flatten in NHWC order; fc: Linear(.., 1)

With melody_chroma (partita's GanConfig option) the melody input c of both networks
gains a second channel: its pitch classes in every octave (melody_input below).

"same" is TensorFlow's: a 4x4 kernel pads 1/1 at stride 2 and 1 before / 2 after at
stride 1 (written out with F.pad). BatchNorm is Keras' (momentum 0.8: torch momentum
0.2; eps 1e-3); torch's running variance is the unbiased batch variance, as partita's.
Conv and linear weights keep torch's default initialisation (partita draws the same
distributions).

Losses (WGAN-GP), c = x[..., 0:1] (the melody is track 0 of the real window):
  critic     mean D(G(z|c)|c) - mean D(x|c) + 10 mean_i (sqrt(1e-8 + |g_i|^2) - 1)^2,
             g_i = grad_xhat D(xhat_i|c_i), xhat = e x + (1 - e) G(z|c), e per sample;
             the fakes come from the generator in eval mode (running statistics),
             detached; the penalty's parameter gradient by double backprop.
  generator  -mean D(G(z|c)|c), the generator in training mode (batch statistics).
Adam (lr 1e-3, betas (0.5, 0.9)) for each network.

    python3 tools/torch_twins/gan_twin.py count [--filters 64 --latent 512 ...]
"""
import argparse
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

GP_WEIGHT = 10.0
NORM_EPS = 1e-8


ARCHITECTURE = ("filters", "tracks", "latent_channels", "steps", "pitches", "bn_momentum", "leak")


def full_config(cfg=None):
    """A GanConfig as partita's model files hold it (GanConfig::to_json): the
    architecture, then the style fields, which travel with the weights but do not
    change the networks."""
    c = {"filters": 64, "tracks": 4, "latent_channels": 512, "steps": 32, "pitches": 128,
         "bn_momentum": 0.8, "leak": 0.2,
         "style": "chorale", "part_names": ["Alto", "Tenor", "Bass"], "programs": [52, 52, 52],
         "melody_mean_pitch": 67.0}
    c.update(cfg or {})
    if c["steps"] % 16 or c["pitches"] % 16:
        raise ValueError("steps and pitches must be multiples of 16")
    return c


def _same_s2(x):
    """TF "same" for a 4x4 kernel at stride 2 on an even size: 1 before, 1 after."""
    return F.pad(x, (1, 1, 1, 1))


def _same_s1(x):
    """TF "same" for a 4x4 kernel at stride 1: 1 before, 2 after (width, then height)."""
    return F.pad(x, (1, 2, 1, 2))


def _bn(channels, keras_momentum):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=1.0 - keras_momentum)


class EncoderBlock(nn.Module):
    """Conv 4x4 s2 same, LeakyReLU, BatchNorm (none on the first block)."""

    def __init__(self, cin, cout, with_bn, leak, keras_momentum):
        super().__init__()
        self.leak = leak
        self.conv = nn.Conv2d(cin, cout, 4, stride=2)
        if with_bn:
            self.bn = _bn(cout, keras_momentum)

    def forward(self, x):
        x = F.leaky_relu(self.conv(_same_s2(x)), self.leak)
        return self.bn(x) if hasattr(self, "bn") else x


class DecoderBlock(nn.Module):
    """Upsample x2, Conv 4x4 s1 same, BatchNorm, ReLU, then concat(., skip)."""

    def __init__(self, cin, cout, keras_momentum):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 4, stride=1)
        self.bn = _bn(cout, keras_momentum)

    def forward(self, x, skip):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = F.relu(self.bn(self.conv(_same_s1(x))))
        return torch.cat([x, skip], 1)


def melody_input(melody, chroma):
    """The networks' melody input: the melody (N, steps, pitches, 1), and with
    `chroma` (partita's GanConfig.melody_chroma) a second channel, +1 at every
    pitch row whose pitch class (row mod 12) the melody sounds (> 0) at that step,
    -1 elsewhere."""
    if not chroma:
        return melody
    n, s, p, _ = melody.shape
    pad = (-p) % 12
    on = F.pad(melody[..., 0] > 0, (0, pad)).reshape(n, s, (p + pad) // 12, 12).any(2)  # (N, steps, 12)
    classes = torch.arange(p, device=melody.device) % 12
    pc = torch.where(on[:, :, classes], 1.0, -1.0).to(melody.dtype)
    return torch.cat([melody, pc.unsqueeze(3)], 3)


class Generator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        f, m, leak = cfg["filters"], cfg["bn_momentum"], cfg["leak"]
        self.chroma = bool(cfg.get("melody_chroma", False))
        self.enc = nn.ModuleList()
        cin = 2 if self.chroma else 1
        for i in range(4):
            self.enc.append(EncoderBlock(cin, f << i, i > 0, leak, m))
            cin = f << i
        cin += cfg["latent_channels"]
        self.dec = nn.ModuleList()
        for j in range(3):
            cout = f << (2 - j)
            self.dec.append(DecoderBlock(cin, cout, m))
            cin = 2 * cout  # the decoder's output, then the skip of the same width
        self.out = nn.Conv2d(cin, cfg["tracks"], 4, stride=1)

    def forward(self, melody, z):
        """melody (N, steps, pitches, 1), z (N, steps/16, pitches/16, latent), NHWC
        -> (N, steps, pitches, tracks) in [-1, 1]."""
        x = melody_input(melody, self.chroma).permute(0, 3, 1, 2)
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
        x = torch.cat([x, z.permute(0, 3, 1, 2)], 1)
        for j, block in enumerate(self.dec):
            x = block(x, skips[2 - j])
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = torch.tanh(self.out(_same_s1(x)))
        return x.permute(0, 2, 3, 1)


class Critic(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        f, self.leak = cfg["filters"], cfg["leak"]
        self.chroma = bool(cfg.get("melody_chroma", False))
        self.conv = nn.ModuleList()
        cin = cfg["tracks"] + (2 if self.chroma else 1)
        for k in range(4):
            self.conv.append(nn.Conv2d(cin, f << k, 4, stride=2))
            cin = f << k
        self.fc = nn.Linear((cfg["steps"] // 16) * (cfg["pitches"] // 16) * cin, 1)

    def forward(self, x, melody):
        """x (N, steps, pitches, tracks), melody (N, steps, pitches, 1) -> scores (N, 1)."""
        h = torch.cat([x, melody_input(melody, self.chroma)], 3).permute(0, 3, 1, 2)
        for conv in self.conv:
            h = F.leaky_relu(conv(_same_s2(h)), self.leak)
        # Flatten in NHWC order, as partita's tensors lie in memory.
        return self.fc(h.permute(0, 2, 3, 1).flatten(1))


class GanTwin(nn.Module):
    """Both networks under one state_dict: "generator.*" and "critic.*"."""

    def __init__(self, cfg=None):
        super().__init__()
        self.config = full_config(cfg)
        self.generator = Generator(self.config)
        self.critic = Critic(self.config)


def melody_of(real):
    """The condition of a real window: its track 0, (N, steps, pitches, 1)."""
    return real[..., 0:1]


def count_parameters(module):
    """Trainable parameters (BatchNorm running statistics excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def critic_loss(twin, real, z, e):
    """(wasserstein, penalty, details): wasserstein = mean D(fake) - mean D(real),
    penalty = 10 mean (|grad D(xhat)| - 1)^2 with a graph for double backprop; the
    generator runs in eval mode (its mode is restored) and its output is detached."""
    c = melody_of(real)
    was_training = twin.generator.training
    twin.generator.eval()
    with torch.no_grad():
        fake = twin.generator(c, z)
    twin.generator.train(was_training)
    d_real = twin.critic(real, c)
    d_fake = twin.critic(fake, c)
    wasserstein = d_fake.mean() - d_real.mean()
    ew = e.reshape(-1, 1, 1, 1).to(real.dtype)
    xhat = (ew * real + (1 - ew) * fake).detach().requires_grad_(True)
    d_xhat = twin.critic(xhat, c)
    (g,) = torch.autograd.grad(d_xhat.sum(), xhat, create_graph=True)
    norms = torch.sqrt(NORM_EPS + g.flatten(1).pow(2).sum(1))
    penalty = GP_WEIGHT * ((norms - 1.0) ** 2).mean()
    details = {"fake": fake, "d_real": d_real, "d_fake": d_fake, "d_xhat": d_xhat, "norms": norms}
    return wasserstein, penalty, details


def generator_loss(twin, real, z):
    """(-mean D(G(z|c)|c), fake) with the generator in training mode (left so)."""
    c = melody_of(real)
    twin.generator.train()
    fake = twin.generator(c, z)
    return -twin.critic(fake, c).mean(), fake


def make_optimizers(twin, lr=1e-3, betas=(0.5, 0.9)):
    return (torch.optim.Adam(twin.generator.parameters(), lr=lr, betas=betas),
            torch.optim.Adam(twin.critic.parameters(), lr=lr, betas=betas))


def critic_step(twin, opt_critic, real, z, e):
    """One critic update; returns (wasserstein, penalty) as floats."""
    opt_critic.zero_grad(set_to_none=True)
    wasserstein, penalty, _ = critic_loss(twin, real, z, e)
    (wasserstein + penalty).backward()
    opt_critic.step()
    return float(wasserstein), float(penalty)


def generator_step(twin, opt_generator, real, z):
    """One generator update (the critic's gradients are cleared, not applied)."""
    opt_generator.zero_grad(set_to_none=True)
    loss, _ = generator_loss(twin, real, z)
    loss.backward()
    opt_generator.step()
    twin.critic.zero_grad(set_to_none=True)
    return float(loss)


def sample_latent(cfg, n, generator=None, dtype=torch.float32):
    """z (n, steps/16, pitches/16, latent) from the normal truncated to [-2, 2]."""
    z = torch.empty(n, cfg["steps"] // 16, cfg["pitches"] // 16, cfg["latent_channels"], dtype=dtype)
    return nn.init.trunc_normal_(z, 0.0, 1.0, -2.0, 2.0, generator=generator)


def state_dict_for_file(twin, with_critic=True):
    return {k: v.detach().contiguous() for k, v in twin.state_dict().items()
            if not k.endswith("num_batches_tracked") and (with_critic or k.startswith("generator."))}


def save(twin, path, extra=None, with_critic=True):
    """A partita "gan" model file (GAN::load reads it); with_critic=False writes the
    generator alone, as partita's shipped models."""
    from safetensors.torch import save_file
    md = {"model": "gan", "model.version": "1",
          "config": json.dumps(twin.config, separators=(",", ":")), "partita.format": "1"}
    md.update(extra or {})
    save_file({k: v.float() for k, v in state_dict_for_file(twin, with_critic).items()}, path, metadata=md)


def load(path):
    """A twin from a partita "gan" model file (a generator-only file leaves the critic
    fresh); its config, style fields included, is kept in twin.config."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, "pt") as f:
        cfg = json.loads(f.metadata()["config"])
    twin = GanTwin(cfg)
    twin.load_state_dict(load_file(path), strict=False)
    return twin


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("count", help="parameter counts of a configuration")
    for name in ARCHITECTURE:
        default = full_config()[name]
        c.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    a = ap.parse_args(argv)
    if a.cmd == "count":
        twin = GanTwin({k: getattr(a, k) for k in ARCHITECTURE})
        print("generator", count_parameters(twin.generator))
        print("critic", count_parameters(twin.critic))


if __name__ == "__main__":
    sys.exit(main())
