#!/usr/bin/python3
"""Golden NF4 blocks in bitsandbytes' layout, made with PyTorch 1.13 (Debian python3-torch).

Run with Debian's interpreter (the first python3 on PATH may not see torch):
    /usr/bin/python3 tests/data/quant/make_nf4_golden.py > tests/data/quant/nf4_golden.txt

Independent of lowprec's code: the rule is re-stated from bitsandbytes' CUDA kernel
(csrc/kernels.cu, kQuantizeBlockwise with dQuantizeNF4, and kDequantizeBlockwise), in
float32 torch ops:
  absmax[b] = max |x| over block b (the last block may be short)
  t         = x * (1.0 / absmax[b])                      (float32 reciprocal, then multiply)
  code      = number of the 15 float32 decision-tree constants strictly below t; the constants
              are bitsandbytes' float literals (REFERENCE.md section 3) rounded from the
              decimal as a C compiler does, not derived from the table
  byte k    = code[2k] << 4 | code[2k+1]                 (bitsandbytes: first element high)
  deq       = NF4[code] * absmax[b]
Blocks whose t would be NaN (all-zero blocks, NaN input) are not generated: there lowprec
writes code 7 where bitsandbytes writes code 0 (documented in quant/codebook_blocks.hpp).

Format (floats as 8-hex-digit float32 bit patterns, bytes as 2 hex digits):
    case <name> <block> <n>
    x <floats>
    absmax <floats>
    bnb_bytes <bytes>
    deq <floats>
"""
import sys
from fractions import Fraction

import numpy as np
import torch

NF4 = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=torch.float32)
# bitsandbytes' decision-tree constants as written in kernels.cu: float literals, which a C
# or CUDA compiler rounds from the decimal straight to float32 (not through double; going
# through double gives a different float for 4 of them). f32_from_decimal does the same.
TREE_DECIMALS = [
    "-0.8480964004993439", "-0.6106329262256622", "-0.4599952697753906", "-0.33967943489551544",
    "-0.23460740596055984", "-0.13791173323988914", "-0.045525018125772476", "0.03979014977812767",
    "0.1202552504837513", "0.2035212516784668", "0.2920137718319893", "0.3893125355243683",
    "0.5016634166240692", "0.6427869200706482", "0.8614784181118011"]


def f32_from_decimal(text):
    exact = Fraction(text)
    f = np.float32(float(exact))
    cands = [np.nextafter(f, np.float32(-2)), f, np.nextafter(f, np.float32(2))]
    dist = [abs(Fraction(float(c)) - exact) for c in cands]
    best = min(dist)
    ties = [c for c, d in zip(cands, dist) if d == best]
    assert len(ties) == 1, text
    return ties[0]


TREE = torch.tensor([float(f32_from_decimal(t)) for t in TREE_DECIMALS], dtype=torch.float32)

rng = np.random.default_rng(20241124)
out = sys.stdout


def hexf(t):
    return " ".join("%08x" % u for u in t.contiguous().view(torch.int32).numpy().astype(np.uint32))


def emit(name, x, block):
    n = x.numel()
    codes = torch.empty(n, dtype=torch.int64)
    deq = torch.empty(n, dtype=torch.float32)
    absmax = []
    for start in range(0, n, block):
        xb = x[start:start + block]
        a = xb.abs().max()
        absmax.append(a)
        t = xb * (torch.tensor(1.0, dtype=torch.float32) / a)
        c = (t.unsqueeze(1) > TREE.unsqueeze(0)).sum(1)
        codes[start:start + block] = c
        deq[start:start + block] = NF4[c] * a
    padded = torch.cat([codes, torch.zeros(n % 2, dtype=torch.int64)])
    packed = (padded[0::2] << 4) | padded[1::2]
    out.write("case %s %d %d\n" % (name, block, n))
    out.write("x %s\n" % hexf(x))
    out.write("absmax %s\n" % hexf(torch.stack(absmax)))
    out.write("bnb_bytes %s\n" % " ".join("%02x" % int(b) for b in packed))
    out.write("deq %s\n" % hexf(deq))


def gaussian(n, scale=1.0):
    return torch.tensor(rng.standard_normal(n) * scale, dtype=torch.float32)


emit("gauss64", gaussian(64), 64)
emit("gauss_tail", gaussian(1000, 0.02), 64)
emit("gauss_block128", gaussian(4096, 3.0), 128)
emit("uniform_block32_odd", torch.tensor(rng.uniform(-5, 5, 301), dtype=torch.float32), 32)
emit("short_block4096", gaussian(130), 4096)
# Every decision-tree constant, and the floats either side, in a block of absmax 1 (t = x).
ties = [1.0]
for c in TREE:
    ties += [float(c), float(np.nextafter(np.float32(c), np.float32(-2))),
             float(np.nextafter(np.float32(c), np.float32(2)))]
emit("thresholds", torch.tensor(ties + [0.0] * (64 - len(ties)), dtype=torch.float32), 64)
