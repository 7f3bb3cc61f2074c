#!/usr/bin/env python3
"""Fixture for partita's GAN test against its PyTorch twin (tools/torch_twins/gan_twin.py).

A small GAN (CONFIG: 5 filters, so every layer's channel count, 5..40, is odd or not a
multiple of 8; 4 tracks; latent 16; 32 steps x 64 pitches, so the bottleneck is a
non-square 2 x 4) with seeded weights: torch's default conv/linear initialisation (the critic's
weights then scaled by 2.5, so that |grad D| is near 1 and the penalty depends on
the weights), every BatchNorm's gamma, beta, running mean and running variance moved away from
1 / 0 / 0 / 1 so that eval mode differs from training mode. A batch of 3 real
windows in {-1, +1} (a monophonic melody in track 0, sparser parts in tracks 1-3),
a noise z and interpolation weights e, all float32; every result is computed in
float64 from those float32 values and stored as float32.

tests/data/gan/twin_weights.safetensors: the twin's state_dict (both networks,
torch layouts: conv weights (out, in, kh, kw), fc weight (out, in); no
num_batches_tracked), metadata "model": "gan", "model.version": "1", "config" (the
whole GanConfig, style fields included): a model file GAN::load reads.

tests/data/gan/twin_io.safetensors (model layout NHWC for activations):
  real              (3, 32, 64, 4)  the windows; the melody c is real[..., 0:1]
  z                 (3, 2, 4, 16)
  e                 (3,)            xhat_i = e_i real_i + (1 - e_i) fake_i
  generated_eval    (3, 32, 64, 4)  G(z|c), generator in eval mode (running statistics):
                                    also the fakes of the critic step
  generated_train   (3, 32, 64, 4)  G(z|c), generator in training mode (batch statistics)
  critic_real       (3, 1)          D(real|c)
  critic_fake       (3, 1)          D(generated_eval|c)
  critic_xhat       (3, 1)          D(xhat|c)
  critic_norms      (3,)            sqrt(1e-8 + |grad_xhat D(xhat|c)|^2) per sample
  critic_wasserstein (1,)           mean D(fake|c) - mean D(real|c)
  critic_penalty    (1,)            10 mean (norms - 1)^2
  generator_loss    (1,)            -mean D(generated_train|c)
  grad.critic.<p>   every critic parameter's gradient of wasserstein + penalty
                    (torch layout; fc.bias gets exactly 0)
  grad.generator.<p> every generator parameter's gradient of generator_loss
                    (torch layout)
  after_train.generator.<i>.bn.running_{mean,var}
                    the running statistics after one training-mode forward
                    (Keras momentum 0.8: 0.8 old + 0.2 batch, unbiased batch variance)

Not run by CI; the outputs are committed (about 0.8 MB).
Run from anywhere: python3 tools/torch_twins/make_gan_fixture.py [--out DIR]
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gan_twin  # noqa: E402

CONFIG = {"filters": 5, "tracks": 4, "latent_channels": 16, "steps": 32, "pitches": 64,
          "bn_momentum": 0.8, "leak": 0.2}
BATCH = 3
CRITIC_GAIN = 2.5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "gan")


def random_windows(gen, n, steps, pitches, tracks):
    """{-1, +1} windows: track 0 a monophonic line of 1-4 step notes with rests, tracks
    1.. sparser lines of 2-8 step notes, each in its own pitch band."""
    x = -torch.ones(n, steps, pitches, tracks, dtype=torch.float64)
    for i in range(n):
        for t in range(tracks):
            lo = max(0, pitches - 24 - 10 * t)
            t0 = 0
            while t0 < steps:
                length = int(torch.randint(1, 5 if t == 0 else 9, (1,), generator=gen))
                rest = float(torch.rand(1, generator=gen)) < (0.2 if t == 0 else 0.4)
                if not rest:
                    p = lo + int(torch.randint(0, 20, (1,), generator=gen))
                    x[i, t0:t0 + length, min(p, pitches - 1), t] = 1.0
                t0 += length
    return x


def make_fixture(out_dir):
    from safetensors.torch import save_file
    torch.manual_seed(20261207)
    twin = gan_twin.GanTwin(CONFIG)
    with torch.no_grad():
        for mod in twin.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.3, 2.0)
        # torch's default init makes a critic of gain ~0.01 (|grad D| ~ 0.01, a penalty
        # of ~10 (1 - 0.01)^2 that hardly depends on the weights); 2.5x its weights
        # (2.5^5 ~ 100x the gain, LeakyReLU being homogeneous) brings |grad D| near 1.
        for name, p in twin.critic.named_parameters():
            if name.endswith("weight"):
                p.mul_(CRITIC_GAIN)
    twin = twin.float()  # the weights are float32 values ...
    os.makedirs(out_dir, exist_ok=True)
    gan_twin.save(twin, os.path.join(out_dir, "twin_weights.safetensors"))
    twin = twin.double()  # ... the arithmetic is float64

    gen = torch.Generator().manual_seed(7)
    real = random_windows(gen, BATCH, CONFIG["steps"], CONFIG["pitches"], CONFIG["tracks"])
    z = gan_twin.sample_latent(CONFIG, BATCH, gen).double()
    e = torch.rand(BATCH, generator=gen).float().double()
    c = gan_twin.melody_of(real)

    io = {"real": real, "z": z, "e": e}
    twin.eval()
    with torch.no_grad():
        io["generated_eval"] = twin.generator(c, z)
        io["critic_real"] = twin.critic(real, c)

    # Critic step: the Wasserstein part plus the penalty, double backprop.
    tc = copy.deepcopy(twin)
    wasserstein, penalty, d = gan_twin.critic_loss(tc, real, z, e)
    params = [(n, p) for n, p in tc.named_parameters() if n.startswith("critic.")]
    grads = torch.autograd.grad(wasserstein + penalty, [p for _, p in params], allow_unused=True)
    for (name, p), g in zip(params, grads):
        io["grad." + name] = torch.zeros_like(p) if g is None else g
    assert torch.equal(d["fake"], io["generated_eval"])
    io.update({"critic_fake": d["d_fake"], "critic_xhat": d["d_xhat"], "critic_norms": d["norms"],
               "critic_wasserstein": wasserstein.reshape(1), "critic_penalty": penalty.reshape(1)})

    # Generator step: training mode, batch statistics, running statistics move once.
    tg = copy.deepcopy(twin)
    loss, fake = gan_twin.generator_loss(tg, real, z)
    params = [(n, p) for n, p in tg.named_parameters() if n.startswith("generator.")]
    grads = torch.autograd.grad(loss, [p for _, p in params])
    for (name, p), g in zip(params, grads):
        io["grad." + name] = g
    io["generated_train"] = fake
    io["generator_loss"] = loss.reshape(1)
    for name, b in tg.named_buffers():
        if not name.endswith("num_batches_tracked"):
            io["after_train." + name] = b

    io = {k: v.detach().float().contiguous() for k, v in io.items()}
    save_file(io, os.path.join(out_dir, "twin_io.safetensors"),
              metadata={"source": "tools/torch_twins/make_gan_fixture.py",
                        "torch": torch.__version__, "arithmetic": "float64"})
    print("wrote", out_dir, "wasserstein", float(io["critic_wasserstein"]), "penalty",
          float(io["critic_penalty"]), "generator_loss", float(io["generator_loss"]),
          "norms", io["critic_norms"].tolist())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    make_fixture(os.path.normpath(a.out))


if __name__ == "__main__":
    sys.exit(main())
