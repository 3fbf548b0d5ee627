#!/usr/bin/env python3
"""What reading a ticket with a small language model would cost on one core: a yardstick, not a test.

Usage: taskset -c 0 python3 scripts/classifier/encoder-cost.py [--tokens N]
       (needs: numpy)

Times this core's float32 matrix product (its peak), then one forward pass of the encoder shapes
of BERT-tiny, BERT-mini and MiniLM-L6 over N tokens (default 512: a 2 KB ticket in word pieces).
The weights are random: the cost does not depend on them. Prints each encoder's arithmetic per
ticket, the tickets per second it reaches here, and the most it could reach at the measured
peak (float32; an int8 runtime might be a few times faster), against the classifier's target of 50,000 tickets/s (docs/policy.md#accuracy).
"""
import argparse, os, time

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # one core: set before numpy loads its BLAS
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--tokens", type=int, default=512)
args = parser.parse_args()
rng = np.random.default_rng(0)
TARGET = 50_000


def timed(work, seconds=3.0):
    work()
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        runs += 1
    return (time.perf_counter() - start) / runs


a, b = (rng.random((1024, 1024), dtype=np.float32) for _ in range(2))
peak = 2 * 1024 ** 3 / timed(lambda: a @ b)
print(f"float32 matrix product on this core: {peak / 1e9:.0f} GFLOP/s")


def norm(x):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12)


def forward(x, layers, heads):
    n, h = x.shape
    d = h // heads
    for qkv, out, up, down in layers:
        q, k, v = (m.reshape(n, heads, d).transpose(1, 0, 2) for m in np.split(x @ qkv, 3, axis=1))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        x = norm(x + (p @ v).transpose(1, 0, 2).reshape(n, h) @ out)
        u = x @ up
        x = norm(x + (0.5 * u * (1 + np.tanh(0.7978845608 * (u + 0.044715 * u ** 3)))) @ down)
    return x


print(f"| encoder | layers × width | GFLOP a ticket ({args.tokens} tokens) | tickets/s here | at most, at the peak | short of {TARGET:,}/s |")
print("|---|---|---|---|---|---|")
n = args.tokens
for name, depth, h, heads in [("BERT-tiny", 2, 128, 2), ("BERT-mini", 4, 256, 4), ("MiniLM-L6", 6, 384, 12)]:
    layers = [[rng.standard_normal(shape, dtype=np.float32) * 0.02 for shape in ((h, 3 * h), (h, h), (h, 4 * h), (4 * h, h))]
              for _ in range(depth)]
    x = rng.standard_normal((n, h), dtype=np.float32)
    flops = depth * (2 * n * (3 * h * h + h * h + 8 * h * h) + 4 * n * n * h)
    seconds = timed(lambda: forward(x, layers, heads))
    print(f"| {name} | {depth} × {h} | {flops / 1e9:.2f} | {1 / seconds:,.0f} | {peak / flops:,.0f} | {TARGET * flops / peak:,.0f} times |")
