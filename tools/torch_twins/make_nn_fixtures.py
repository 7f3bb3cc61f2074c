#!/usr/bin/env python3
"""PyTorch twins of partita's convolutional layers, and the fixtures that pin them.

Each case builds one layer with torch.nn.functional (Conv2d 3x3 "same", 4x4
stride 2 and 4x4 stride 1 with TensorFlow "same" padding written out with
F.pad, 1x1, MaxPool 2x2, nearest upsampling x2, BatchNorm in training mode
(PyTorch and Keras momentum conventions) and eval mode, ReLU, LeakyReLU(0.2),
Tanh, Sigmoid, Softmax), feeds it fixed seeded float32 inputs, weights and an
upstream gradient dy, runs forward and backward in float64, and writes
tests/data/nn/conv/<case>/<tensor>.npy (float32, C order):

    x, dy, y, dx              activations in partita's NHWC layout
    w, dw                     conv weights in partita's HWIO layout (torch: OIHW)
    b, db                     conv bias
    gamma, beta, dgamma, dbeta, running_mean, running_var (before),
    running_mean_after, running_var_after                    (BatchNorm)

Not run by CI; the outputs are committed (a few tens of kB).

    python3 tools/torch_twins/make_nn_fixtures.py [--out tests/data/nn/conv]
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

DT = torch.float64


def nhwc(t):
    """torch NCHW -> numpy NHWC float32"""
    return t.detach().permute(0, 2, 3, 1).contiguous().to(torch.float32).numpy()


def hwio(w):
    """torch OIHW -> numpy HWIO float32"""
    return w.detach().permute(2, 3, 1, 0).contiguous().to(torch.float32).numpy()


def flat(t):
    return t.detach().contiguous().to(torch.float32).numpy()


def rand(gen, *shape, lo=-1.0, hi=1.0):
    """float32-representable values, held in float64"""
    t = torch.rand(*shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo
    return t.to(DT)


def save(out, case, arrays):
    d = os.path.join(out, case)
    os.makedirs(d, exist_ok=True)
    for name, a in arrays.items():
        np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a, dtype=np.float32))


def tf_same(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv_case(out, case, gen, n, h, w, cin, cout, k, s):
    x = rand(gen, n, cin, h, w).requires_grad_()
    wt = rand(gen, cout, cin, k, k, lo=-0.5, hi=0.5).requires_grad_()
    b = rand(gen, cout, lo=-0.5, hi=0.5).requires_grad_()
    pt, pb = tf_same(h, k, s)
    pl, pr = tf_same(w, k, s)
    y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), wt, b, stride=s)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    save(out, case, dict(x=nhwc(x), w=hwio(wt), b=flat(b), y=nhwc(y), dy=nhwc(dy),
                         dx=nhwc(x.grad), dw=hwio(wt.grad), db=flat(b.grad)))


def elementwise_case(out, case, gen, fn, shape=(2, 3, 5, 4), nchw=True):
    x = rand(gen, *shape, lo=-2.0, hi=2.0).requires_grad_()
    y = fn(x)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    conv = nhwc if nchw else flat
    save(out, case, dict(x=conv(x), y=conv(y), dy=conv(dy), dx=conv(x.grad)))


def batchnorm_case(out, case, gen, training, momentum, eps):
    n, c, h, w = 3, 4, 5, 6
    x = (rand(gen, n, c, h, w) * 2.0 + 0.5).requires_grad_()
    gamma = rand(gen, c, lo=0.5, hi=1.5).requires_grad_()
    beta = rand(gen, c, lo=-0.5, hi=0.5).requires_grad_()
    rm = rand(gen, c, lo=-0.2, hi=0.2)
    rv = rand(gen, c, lo=0.5, hi=1.5)
    rm_after, rv_after = rm.clone(), rv.clone()
    # torch's momentum is the weight of the batch statistic
    y = F.batch_norm(x, rm_after, rv_after, gamma, beta, training=training,
                     momentum=momentum, eps=eps)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    save(out, case, dict(x=nhwc(x), y=nhwc(y), dy=nhwc(dy), dx=nhwc(x.grad),
                         gamma=flat(gamma), beta=flat(beta), dgamma=flat(gamma.grad),
                         dbeta=flat(beta.grad), running_mean=flat(rm), running_var=flat(rv),
                         running_mean_after=flat(rm_after), running_var_after=flat(rv_after)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "tests", "data", "nn", "conv"))
    out = os.path.normpath(ap.parse_args().out)
    gen = torch.Generator().manual_seed(20261126)

    conv_case(out, "conv3x3", gen, n=2, h=6, w=7, cin=3, cout=4, k=3, s=1)
    conv_case(out, "conv4x4_s2", gen, n=2, h=8, w=12, cin=2, cout=5, k=4, s=2)
    conv_case(out, "conv4x4_s1", gen, n=2, h=4, w=8, cin=3, cout=2, k=4, s=1)
    conv_case(out, "conv1x1", gen, n=2, h=3, w=5, cin=6, cout=3, k=1, s=1)

    x = rand(gen, 2, 3, 6, 8).requires_grad_()
    y = F.max_pool2d(x, 2, 2)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    save(out, "maxpool", dict(x=nhwc(x), y=nhwc(y), dy=nhwc(dy), dx=nhwc(x.grad)))

    x = rand(gen, 2, 2, 3, 4).requires_grad_()
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    dy = rand(gen, *y.shape)
    y.backward(dy)
    save(out, "upsample", dict(x=nhwc(x), y=nhwc(y), dy=nhwc(dy), dx=nhwc(x.grad)))

    batchnorm_case(out, "batchnorm_torch_train", gen, True, momentum=0.1, eps=1e-5)
    # Keras momentum 0.8, eps 1e-3: moving = 0.8 moving + 0.2 batch = torch momentum 0.2
    batchnorm_case(out, "batchnorm_keras_train", gen, True, momentum=0.2, eps=1e-3)
    batchnorm_case(out, "batchnorm_eval", gen, False, momentum=0.1, eps=1e-3)

    elementwise_case(out, "relu", gen, F.relu)
    elementwise_case(out, "leaky_relu", gen, lambda t: F.leaky_relu(t, 0.2))
    elementwise_case(out, "tanh", gen, torch.tanh)
    elementwise_case(out, "sigmoid", gen, torch.sigmoid)
    elementwise_case(out, "softmax", gen, lambda t: torch.softmax(t, dim=-1), shape=(4, 11),
                     nchw=False)
    print("wrote fixtures to", out)


if __name__ == "__main__":
    main()
