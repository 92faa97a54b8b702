#!/usr/bin/python3
"""Writes the small files the lowprec tool's tests read (run with Debian's /usr/bin/python3,
which has NumPy; the files are committed, so the tests need no Python).

Valid inputs, written by NumPy itself or by hand from the safetensors specification, and
broken ones (truncated, corrupted, unsupported dtypes) for the error-path tests. LPQ files
are written here independently of the tool's C++ writer, from docs/cli.md's layout.
"""
import json
import os
import struct
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def data(shape, seed):
    # Deterministic "weights": no RNG, so any NumPy version writes the same bytes.
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    v = 0.05 * np.sin(0.37 * i + seed) + 0.01 * np.cos(1.7 * i * (seed + 1))
    return v.reshape(shape)


def safetensors(tensors):
    """tensors: list of (name, dtype string, shape, raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def bf16_bytes(a):
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    # round to nearest even (no NaN here)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return u.astype("<u2").tobytes()


def lpq(tensors):
    """tensors: list of (name, scheme, source dtype, shape, block, [(id, type, array)])."""
    out = b"LOWPRECQ" + struct.pack("<II", 1, len(tensors))
    for name, scheme, src, shape, block, sections in tensors:
        nb = name.encode()
        out += struct.pack("<I", len(nb)) + nb + struct.pack("<BBHI", scheme, src, 0, len(shape))
        out += b"".join(struct.pack("<Q", d) for d in shape)
        out += struct.pack("<QI", block, len(sections))
        for sid, stype, arr in sections:
            raw = np.asarray(arr, dtype="<u1" if stype == 1 else "<f4").tobytes()
            out += struct.pack("<BBHQ", sid, stype, 0, len(arr)) + raw
    return out + struct.pack("<I", zlib.crc32(out) & 0xFFFFFFFF)


def main():
    small = data((8, 16), 1).astype(np.float32)
    np.save(path("small_f32.npy"), small)
    np.save(path("small_f16.npy"), data((5, 7), 2).astype(np.float16))
    np.save(path("fortran_f32.npy"), np.asfortranarray(data((3, 4, 5), 3).astype(np.float32)))
    np.save(path("big_endian_f32.npy"), data((6,), 4).astype(">f4"))
    np.save(path("int32.npy"), np.arange(12, dtype=np.int32))
    raw = open(path("small_f32.npy"), "rb").read()
    open(path("truncated_header.npy"), "wb").write(raw[:30])
    open(path("truncated_data.npy"), "wb").write(raw[:-10])

    st = safetensors([
        ("w_bf16", "BF16", (2, 3, 16), bf16_bytes(data((2, 3, 16), 5))),
        ("w_f16", "F16", (64,), data((64,), 6).astype("<f2").tobytes()),
        ("w_f32", "F32", (4, 32), data((4, 32), 7).astype("<f4").tobytes()),
    ])
    open(path("small.safetensors"), "wb").write(st)
    open(path("truncated.safetensors"), "wb").write(st[:-40])
    open(path("with_int64.safetensors"), "wb").write(safetensors([
        ("position_ids", "I64", (8,), np.arange(8, dtype="<i8").tobytes()),
        ("weight", "F32", (4, 8), data((4, 8), 8).astype("<f4").tobytes()),
    ]))

    # int8 absmax, blocks of 4, over the flattened [2, 4] tensor: two blocks.
    x = np.array([0.5, -1.0, 0.25, 0.0, 2.0, 1.0, -2.0, 0.125], dtype=np.float32)
    scales = np.array([1.0 / 127, 2.0 / 127], dtype=np.float32)
    codes = np.rint(x / np.repeat(scales, 4)).astype(np.int8).view(np.uint8)
    good = lpq([("x", 0, 0, (2, 4), 4, [(1, 1, codes), (2, 2, scales)])])
    open(path("valid.lpq"), "wb").write(good)
    open(path("valid_multi.lpq"), "wb").write(lpq([
        ("a", 0, 0, (4,), 4, [(1, 1, codes[:4]), (2, 2, scales[:1])]),
        ("b", 0, 0, (4,), 4, [(1, 1, codes[4:]), (2, 2, scales[1:])]),
    ]))
    bad = bytearray(good)
    bad[70] ^= 0x55  # a code byte (header 69 bytes): the checksum no longer matches
    open(path("corrupted.lpq"), "wb").write(bytes(bad))


if __name__ == "__main__":
    main()
