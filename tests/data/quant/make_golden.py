#!/usr/bin/python3
"""Golden vectors for lowprec's quantizers, made by PyTorch 1.13 (Debian python3-torch).

Run with Debian's interpreter (the first python3 on PATH may not see torch):
    /usr/bin/python3 tests/data/quant/make_golden.py > tests/data/quant/golden.txt

Every number comes from a torch operator, not from a re-implementation of the formulas:
  observer   MinMaxObserver / PerChannelMinMaxObserver (affine qparams), then
             torch.quantize_per_tensor / quantize_per_channel and .dequantize()
  given      quantize_per_tensor / quantize_per_channel with fixed qparams, on values at
             and next to rounding ties
  absmax     scale = x.abs().max() / qmax in float32 torch arithmetic, codes from
             quantize_per_tensor/per_channel (qint8) or fake_quantize_* (int4, range -7..7)
  uint4      quantize_per_tensor(torch.quint4x2) (packed bytes, unpacked here) or
             fake_quantize_per_channel_affine(0, 15), whose output gives the codes exactly
Blocks have no torch operator; each block is quantized as its own tensor. Two rules are
lowprec's, not torch's, and are checked elsewhere: an all-zero absmax block has scale 0
(torch cannot quantize with scale 0), and |x / scale| >= 2^63 saturates (torch's int64
conversion overflows there; on x86 it yields qmin), so such values are not generated.

Format (text, one record per case; floats as their 8-hex-digit float32 bit patterns):
    case <name> <op> <format> <granularity> <axis> <block>
    shape <dims...>
    x <floats...>
    scales <floats...>
    zero_points <ints...>        (affine only)
    codes <ints...>              (the code values: int8 -127..127, uint4 0..15, ...)
    deq <floats...>
    end
"""
import sys

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

rng = np.random.default_rng(20241123)
out = sys.stdout


def hexf(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32)).reshape(-1)
    return " ".join("%08x" % v for v in a.view(np.uint32))


def ints(a):
    return " ".join(str(int(v)) for v in np.asarray(a).reshape(-1))


def emit(name, op, fmt, gran, axis, block, x, scales, zps, codes, deq):
    out.write("case %s %s %s %s %d %d\n" % (name, op, fmt, gran, axis, block))
    out.write("shape %s\n" % " ".join(str(d) for d in x.shape))
    out.write("x %s\n" % hexf(x))
    out.write("scales %s\n" % hexf(scales))
    if zps is not None:
        out.write("zero_points %s\n" % ints(zps))
    out.write("codes %s\n" % ints(codes))
    out.write("deq %s\n" % hexf(deq))
    out.write("end\n")


QRANGE = {"uint8": (0, 255), "uint4": (0, 15), "int8": (-127, 127), "int4": (-7, 7)}


# ---- torch quantizers on one tensor (or one block) ---------------------------------------

def affine_given(x, scale, zp, fmt, axis=None):
    """codes, deq of x under given qparams (per tensor when axis is None)."""
    t = torch.from_numpy(x)
    if fmt == "uint8":
        if axis is None:
            q = torch.quantize_per_tensor(t, float(scale), int(zp), torch.quint8)
        else:
            q = torch.quantize_per_channel(t, torch.tensor(scale, dtype=torch.float64),
                                           torch.tensor(zp, dtype=torch.int64), axis, torch.quint8)
        return q.int_repr().numpy().astype(np.int64), q.dequantize().numpy()
    # uint4
    if axis is None:
        q = torch.quantize_per_tensor(t, float(scale), int(zp), torch.quint4x2)
        b = q.int_repr().numpy().reshape(-1)
        codes = np.stack([b & 15, b >> 4], 1).reshape(-1)[: x.size].reshape(x.shape)
        return codes.astype(np.int64), q.dequantize().numpy()
    deq = torch.fake_quantize_per_channel_affine(
        t, torch.tensor(scale, dtype=torch.float32), torch.tensor(zp, dtype=torch.int32),
        axis, 0, 15).numpy()
    shp = [1] * x.ndim
    shp[axis] = -1
    s = np.asarray(scale, dtype=np.float32).reshape(shp)
    z = np.asarray(zp).reshape(shp)
    codes = np.rint(deq.astype(np.float64) / s) + z  # exact: deq = (q - zp) * s rounded once
    return codes.astype(np.int64), deq


def observer_qparams(x, fmt, axis=None):
    qmin, qmax = QRANGE[fmt]
    t = torch.from_numpy(x)
    if axis is None:
        o = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                           quant_min=qmin, quant_max=qmax)
    else:
        o = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.quint8,
                                     qscheme=torch.per_channel_affine,
                                     quant_min=qmin, quant_max=qmax)
    o(t)
    s, z = o.calculate_qparams()
    s = s.numpy().astype(np.float32)
    z = z.numpy().astype(np.int64)
    return (s[0], z[0]) if axis is None else (s, z)


def absmax_one(x, fmt):
    """Symmetric absmax on one tensor: scale = amax / qmax in torch float32."""
    qmax = QRANGE[fmt][1]
    t = torch.from_numpy(x)
    scale = (t.abs().max() / qmax).item() if x.size else 0.0
    scale = np.float32(scale)
    if scale == 0:
        return scale, np.zeros(x.shape, np.int64), np.zeros(x.shape, np.float32)
    if fmt == "int8":
        q = torch.quantize_per_tensor(t, float(scale), 0, torch.qint8)
        return scale, q.int_repr().numpy().astype(np.int64), q.dequantize().numpy()
    deq = torch.fake_quantize_per_tensor_affine(t, float(scale), 0, -7, 7).numpy()
    codes = np.rint(deq.astype(np.float64) / np.float64(scale)).astype(np.int64)
    return scale, codes, deq


def absmax_channels(x, fmt, axis):
    qmax = QRANGE[fmt][1]
    t = torch.from_numpy(x)
    dims = [d for d in range(x.ndim) if d != axis]
    amax = t.abs().amax(dim=dims) if dims else t.abs()
    scales = (amax / qmax).numpy().astype(np.float32)
    if np.any(scales == 0):
        raise ValueError("golden absmax channels must not be all zero")
    if fmt == "int8":
        q = torch.quantize_per_channel(t, torch.from_numpy(scales.astype(np.float64)),
                                       torch.zeros(len(scales), dtype=torch.int64), axis,
                                       torch.qint8)
        return scales, q.int_repr().numpy().astype(np.int64), q.dequantize().numpy()
    deq = torch.fake_quantize_per_channel_affine(
        t, torch.from_numpy(scales), torch.zeros(len(scales), dtype=torch.int32), axis, -7, 7
    ).numpy()
    shp = [1] * x.ndim
    shp[axis] = -1
    codes = np.rint(deq.astype(np.float64) / scales.reshape(shp).astype(np.float64))
    return scales, codes.astype(np.int64), deq


# ---- blocks: each block is its own tensor ----------------------------------------------------

def blocks(x, block, axis):
    """Yields (scale index, index tuple of the block's elements) in scale order: the scales
    form x's shape with axis replaced by ceil(len / block), row-major."""
    shp = list(x.shape)
    nb = -(-shp[axis] // block)
    sshape = shp.copy()
    sshape[axis] = nb
    for sidx, pos in enumerate(np.ndindex(*sshape)):
        b = pos[axis]
        idx = list(pos)
        idx[axis] = slice(b * block, min((b + 1) * block, shp[axis]))
        yield sidx, tuple(idx), sshape


def blockwise(x, fmt, block, axis, affine):
    codes = np.zeros(x.shape, np.int64)
    deq = np.zeros(x.shape, np.float32)
    scales, zps = [], []
    for _, idx, _ in blocks(x, block, axis):
        part = np.ascontiguousarray(x[idx])
        if affine:
            s, z = observer_qparams(part, fmt)
            c, d = affine_given(part, s, z, fmt)
            zps.append(z)
        else:
            s, c, d = absmax_one(part, fmt)
        scales.append(s)
        codes[idx] = c
        deq[idx] = d
    return np.array(scales, np.float32), (np.array(zps) if affine else None), codes, deq


# ---- inputs ---------------------------------------------------------------------------------

def data(shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def with_ties(shape, step, count):
    """Random data in [-128 step, 127.5 step] whose extremes pin the scale to `step` (for
    absmax: 127 * step; affine uint8: range 255 * step), plus values at exact ties
    (k + 1/2) * step and one float either side of them."""
    x = rng.uniform(-120, 120, size=int(np.prod(shape))) * step
    k = rng.integers(-100, 100, size=count)
    ties = ((k + 0.5) * step).astype(np.float32)
    near = np.nextafter(ties, np.where(rng.random(count) < 0.5, -np.inf, np.inf).astype(np.float32))
    vals = np.concatenate([ties, near])
    pos = rng.choice(x.size, size=min(len(vals), x.size - 2), replace=False)
    x[pos] = vals[: len(pos)]
    return x.astype(np.float32).reshape(shape)


# ---- cases ----------------------------------------------------------------------------------

def main():
    out.write("# Generated by make_golden.py with torch %s; do not edit by hand.\n" % torch.__version__)

    # Affine with observer qparams: per tensor and per channel, uint8 and uint4.
    shapes = [((17,), None), ((4, 7), None), ((4, 7), 0), ((4, 7), 1), ((3, 5, 6), 0),
              ((3, 5, 6), 1), ((3, 5, 6), 2), ((2, 3, 4, 5), 2), ((1, 33), 1), ((8, 1), 0), ((64,), None)]
    for fmt in ("uint8", "uint4"):
        for i, (shape, axis) in enumerate(shapes):
            x = data(shape, scale=float(rng.choice([0.01, 1.0, 30.0])))
            if i % 3 == 1:
                x = np.abs(x)  # all positive: zero point at qmin
            if i % 5 == 2:
                x = -np.abs(x)  # all negative: zero point at qmax
            s, z = observer_qparams(x, fmt, axis)
            if axis is None:
                c, d = affine_given(x, s, z, fmt)
                emit("observer_%s_%d" % (fmt, i), "observer", fmt, "tensor", 0, 0, x, [s], [z], c, d)
            else:
                c, d = affine_given(x, s, z, fmt, axis)
                emit("observer_%s_%d" % (fmt, i), "observer", fmt, "channel", axis, 0, x, s, z, c, d)

    # Observer on data whose range makes the scale exact (1/16): x*inv lands on ties.
    for fmt, step, lo in (("uint8", 0.0625, -8.0), ("uint4", 1.0, -7.0)):
        levels = QRANGE[fmt][1]
        x = with_ties((8, 40), step, 120) if fmt == "uint8" else \
            np.clip(np.round(rng.uniform(-7, 8, (8, 40)) * 2) / 2, -7, 8).astype(np.float32)
        x.reshape(-1)[0], x.reshape(-1)[1] = lo, lo + levels * step  # pin min and max
        s, z = observer_qparams(x, fmt)
        c, d = affine_given(x, s, z, fmt)
        emit("observer_ties_%s" % fmt, "observer", fmt, "tensor", 0, 0, x, [s], [z], c, d)
        s, z = observer_qparams(x, fmt, 0)
        c, d = affine_given(x, s, z, fmt, 0)
        emit("observer_ties_rows_%s" % fmt, "observer", fmt, "channel", 0, 0, x, s, z, c, d)

    # Given qparams at ties: a power-of-two scale (x * inv exact) and 0.1 (inexact inv),
    # odd and even zero points (a tie must round to the even t, not the even zp + t).
    for fmt in ("uint8", "uint4"):
        qmax = QRANGE[fmt][1]
        for j, (scale, zp) in enumerate([(0.0625, 7), (0.0625, 8), (0.1, 3), (0.1, 4)]):
            if fmt == "uint8":
                zp = zp * 16 + 1 if j % 2 == 0 else zp * 16
            k = rng.integers(-zp - 3, qmax - zp + 3, size=150)
            ties = ((k + 0.5) * scale).astype(np.float32)
            x = np.concatenate([ties, np.nextafter(ties, np.float32(np.inf)),
                                np.nextafter(ties, np.float32(-np.inf)),
                                np.float32([1e6, -1e6, 0.0, -0.0])]).astype(np.float32)
            c, d = affine_given(x, np.float32(scale), zp, fmt)
            emit("given_%s_%d" % (fmt, j), "given", fmt, "tensor", 0, 0, x, [np.float32(scale)], [zp], c, d)
        # per channel, given
        x = data((6, 10), 0.5)
        s = np.float32([0.01, 0.0625, 0.1, 0.003, 0.25, 0.07])
        z = np.array([0, 3, qmax, qmax // 2, 1, qmax - 1])
        c, d = affine_given(x, s, z, fmt, 0)
        emit("given_channels_%s" % fmt, "given", fmt, "channel", 0, 0, x, s, z, c, d)
        x = data((3, 4, 5), 0.5)
        s = np.float32([0.01, 0.0625, 0.1, 0.03])
        z = np.array([0, 3, qmax, qmax // 2])
        c, d = affine_given(x, s, z, fmt, 1)
        emit("given_channels3d_%s" % fmt, "given", fmt, "channel", 1, 0, x, s, z, c, d)

    # Symmetric absmax, int8 and int4: per tensor, per channel, with ties.
    for fmt in ("int8", "int4"):
        qmax = QRANGE[fmt][1]
        for i, (shape, axis) in enumerate(shapes):
            x = data(shape, scale=float(rng.choice([0.01, 1.0, 30.0])))
            if axis is None:
                s, c, d = absmax_one(x, fmt)
                emit("absmax_%s_%d" % (fmt, i), "absmax", fmt, "tensor", 0, 0, x, [s], None, c, d)
            else:
                s, c, d = absmax_channels(x, fmt, axis)
                emit("absmax_%s_%d" % (fmt, i), "absmax", fmt, "channel", axis, 0, x, s, None, c, d)
        step = 0.0625
        x = with_ties((6, 50), step, 150) if fmt == "int8" else \
            (np.round(rng.uniform(-7, 7, (6, 50)) * 2) / 2 * step).astype(np.float32)
        x[:, 0] = qmax * step  # every row's absmax: scale exactly `step`
        s, c, d = absmax_one(x, fmt)
        emit("absmax_ties_%s" % fmt, "absmax", fmt, "tensor", 0, 0, x, [s], None, c, d)
        s, c, d = absmax_channels(x, fmt, 0)
        emit("absmax_ties_rows_%s" % fmt, "absmax", fmt, "channel", 0, 0, x, s, None, c, d)

    # Blocks: absmax int8/int4 and affine uint8/uint4, along the last axis and another one,
    # block sizes that divide and that leave a short last block, an all-zero block.
    block_cases = [((4, 64), 32, 1), ((3, 37), 8, 1), ((100,), 32, 0), ((10, 3), 4, 0),
                   ((2, 5, 9), 4, 2), ((2, 6, 3), 5, 1), ((5, 16), 64, 1)]
    for fmt in ("int8", "int4", "uint8", "uint4"):
        affine = fmt.startswith("u")
        for i, (shape, block, axis) in enumerate(block_cases):
            x = data(shape, float(rng.choice([0.05, 2.0])))
            if i == 1:
                x[1, 8:16] = 0.0  # an all-zero block
            if i == 3:
                x = with_ties(shape, 0.0625, 8)
            s, z, c, d = blockwise(x, fmt, block, axis, affine)
            emit("blocks_%s_%d" % (fmt, i), "observer" if affine else "absmax", fmt, "block",
                 axis, block, x, s, z, c, d)


if __name__ == "__main__":
    main()
