#!/usr/bin/python3
"""Golden masks for lowprec::prune, made by torch.nn.utils.prune (PyTorch 1.13, Debian).

Run with Debian's interpreter (the first python3 on PATH may not see torch):
    /usr/bin/python3 tests/data/prune/make_golden.py > tests/data/prune/golden.txt

Every mask comes from torch's own pruning functions applied to a module parameter
(l1_unstructured, ln_structured, global_unstructured, and their compositions through
PruningContainer); every count from prune._compute_nparams_toprune. Nothing here
re-implements the rules.

Inputs are tie-free, so that the masks do not depend on how torch.topk breaks ties:
  - every |w| is distinct across all the tensors of a case;
  - every value is a bf16 number in [2^-10, 16) (8 significant bits), hence exact in float,
    double, fp16 and bf16: one golden mask serves all four scalar types;
  - channel norms (n = 1, 2, inf along the pruned dim) differ by more than 1e-4
    relatively, far above float32 rounding, so torch's float32 norms rank like exact ones.

Format (text, one record per case; floats as 8-hex-digit float32 bit patterns):
    case <name> <op>
    param <key> <value>              op parameters (amount kinds: "f" fraction, "i" count)
    tensor <rank> <dims...> : <hex floats>      inputs, in order
    mask <rank> <dims...> : <0/1 string>         expected masks (row-major), in order
    end
    count <amount> <n> <expected>    round(amount * n) as torch computes it
"""
import sys

import numpy as np
import torch
import torch.nn.utils.prune as prune

torch.set_num_threads(1)
rng = np.random.default_rng(20241123)
out = sys.stdout

# Every bf16 magnitude in [2^-10, 16): 14 binades x 128 mantissas.
GRID = np.array([(1.0 + m / 128.0) * 2.0 ** e for e in range(-10, 4) for m in range(128)],
                dtype=np.float32)


def distinct_values(count):
    mags = rng.choice(GRID, size=count, replace=False)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=count)
    return (mags * signs).astype(np.float32)


def separated(values, rel=1e-4):
    v = np.sort(np.asarray(values, dtype=np.float64))
    return np.all(v[1:] - v[:-1] > rel * np.maximum(v[1:], 1e-30))


def norms(t, n, dim):
    dims = [d for d in range(t.dim()) if d != (dim % t.dim())]
    return torch.norm(t.double(), p=n, dim=dims).numpy()


def tensor_for_structured(shape, dims):
    """Distinct values whose channel norms are separated for every n and listed dim."""
    for _ in range(1000):
        t = torch.from_numpy(distinct_values(int(np.prod(shape))).reshape(shape))
        if all(separated(norms(t, n, d)) for n in (1, 2, float("inf")) for d in dims):
            return t
    raise RuntimeError("no separated tensor for %s" % (shape,))


def module(t):
    m = torch.nn.Module()
    m.register_parameter("weight", torch.nn.Parameter(t.clone()))
    return m


def hexf(t):
    a = np.ascontiguousarray(t.detach().numpy().astype(np.float32)).reshape(-1)
    return " ".join("%08x" % v for v in a.view(np.uint32))


def dims_of(t):
    return "%d %s" % (t.dim(), " ".join(str(d) for d in t.shape))


def emit(name, op, params, tensors, masks):
    out.write("case %s %s\n" % (name, op))
    for k, v in params:
        out.write("param %s %s\n" % (k, v))
    for t in tensors:
        out.write("tensor %s : %s\n" % (dims_of(t), hexf(t)))
    for m in masks:
        bits = "".join("1" if x else "0" for x in m.detach().reshape(-1).numpy() != 0)
        out.write("mask %s : %s\n" % (dims_of(m), bits))
    out.write("end\n")


def amount_params(prefix, amount):
    kind = "i" if isinstance(amount, int) else "f"
    return [(prefix + "kind", kind), (prefix, repr(amount))]


def ninf(n):
    return "inf" if n == float("inf") else repr(n)


# ---- l1_unstructured --------------------------------------------------------------------
L1_SHAPES = [(7,), (5,), (9,), (10,), (35,), (13, 9), (4, 6, 5), (2, 3, 4, 5), (40, 30)]
L1_AMOUNTS = [0.0, 0.1, 0.25, 0.3, 0.35, 0.5, 0.77, 1.0, 0, 1, 5]
for shape in L1_SHAPES:
    w = torch.from_numpy(distinct_values(int(np.prod(shape))).reshape(shape))
    for amount in L1_AMOUNTS:
        if isinstance(amount, int) and amount > w.numel():
            continue
        m = module(w)
        prune.l1_unstructured(m, "weight", amount=amount)
        emit("l1_%s_%s" % ("x".join(map(str, shape)), amount), "l1",
             amount_params("amount", amount), [w], [m.weight_mask])

# Importance scores: the mask ranks |score|, not |w|.
for shape in [(12, 8), (3, 5, 4)]:
    w = torch.from_numpy(distinct_values(int(np.prod(shape))).reshape(shape))
    s = torch.from_numpy(distinct_values(int(np.prod(shape))).reshape(shape))
    for amount in [0.4, 7]:
        m = module(w)
        prune.l1_unstructured(m, "weight", amount=amount, importance_scores=s)
        emit("l1_scores_%s_%s" % ("x".join(map(str, shape)), amount), "l1_scores",
             amount_params("amount", amount), [w, s], [m.weight_mask])

# ---- ln_structured ----------------------------------------------------------------------
LN_CASES = [((8, 6), [0, 1, -1]), ((6, 4, 3, 3), [0, 1, 3, -2]), ((5, 7, 3), [0, 1, 2])]
for shape, dims in LN_CASES:
    w = tensor_for_structured(shape, dims)
    for n in (1, 2, float("inf")):
        for dim in dims:
            for amount in [0.5, 0.34, 2, 0.0]:
                m = module(w)
                prune.ln_structured(m, "weight", amount=amount, n=n, dim=dim)
                emit("ln_%s_n%s_d%d_%s" % ("x".join(map(str, shape)), ninf(n), dim, amount), "ln",
                     amount_params("amount", amount) + [("n", ninf(n)), ("dim", dim)], [w],
                     [m.weight_mask])

# ---- global_unstructured ----------------------------------------------------------------
for amount in [0.4, 0.5, 17, 0.0]:
    vals = distinct_values(6 * 5 + 4 * 7 + 9)
    ws = [torch.from_numpy(vals[:30].reshape(6, 5)), torch.from_numpy(vals[30:58].reshape(4, 7)),
          torch.from_numpy(vals[58:].reshape(9))]
    ms = [module(w) for w in ws]
    prune.global_unstructured([(m, "weight") for m in ms], pruning_method=prune.L1Unstructured,
                              amount=amount)
    emit("global_%s" % amount, "global", amount_params("amount", amount), ws,
         [m.weight_mask for m in ms])

# ---- compositions (PruningContainer) ------------------------------------------------------
w = tensor_for_structured((8, 6), [0, 1])
for a1, a2 in [(0.3, 0.5), (0.5, 0.25), (5, 0.4), (0.2, 3)]:
    m = module(w)
    prune.l1_unstructured(m, "weight", amount=a1)
    first = m.weight_mask.clone()
    prune.l1_unstructured(m, "weight", amount=a2)
    emit("l1_then_l1_%s_%s" % (a1, a2), "l1_l1",
         amount_params("amount", a1) + amount_params("amount2", a2), [w], [first, m.weight_mask])

for n, dim, a1, a2 in [(2, 0, 0.3, 0.5), (1, 1, 0.25, 0.34), (float("inf"), 0, 0.5, 2)]:
    m = module(w)
    prune.l1_unstructured(m, "weight", amount=a1)
    first = m.weight_mask.clone()
    prune.ln_structured(m, "weight", amount=a2, n=n, dim=dim)
    emit("l1_then_ln_n%s_d%d" % (ninf(n), dim), "l1_ln",
         amount_params("amount", a1) + amount_params("amount2", a2) + [("n", ninf(n)), ("dim", dim)],
         [w], [first, m.weight_mask])

    m = module(w)
    prune.ln_structured(m, "weight", amount=a2, n=n, dim=dim)
    first = m.weight_mask.clone()
    prune.l1_unstructured(m, "weight", amount=a1)
    emit("ln_then_l1_n%s_d%d" % (ninf(n), dim), "ln_l1",
         amount_params("amount", a2) + amount_params("amount2", a1) + [("n", ninf(n)), ("dim", dim)],
         [w], [first, m.weight_mask])

for n in (1, 2, float("inf")):
    m = module(w)
    prune.ln_structured(m, "weight", amount=0.5, n=n, dim=0)
    first = m.weight_mask.clone()
    prune.ln_structured(m, "weight", amount=0.5, n=n, dim=1)
    emit("ln_then_ln_n%s" % ninf(n), "ln_ln",
         amount_params("amount", 0.5) + amount_params("amount2", 0.5) + [("n", ninf(n))],
         [w], [first, m.weight_mask])
    # The same dim twice: already-pruned channels are not candidates again.
    m = module(w)
    prune.ln_structured(m, "weight", amount=2, n=n, dim=0)
    first = m.weight_mask.clone()
    prune.ln_structured(m, "weight", amount=0.5, n=n, dim=0)
    emit("ln_then_ln_same_n%s" % ninf(n), "ln_ln_same",
         amount_params("amount", 2) + amount_params("amount2", 0.5) + [("n", ninf(n))],
         [w], [first, m.weight_mask])

vals = distinct_values(6 * 5 + 4 * 7)
ws = [torch.from_numpy(vals[:30].reshape(6, 5)), torch.from_numpy(vals[30:].reshape(4, 7))]
ms = [module(x) for x in ws]
prune.global_unstructured([(m, "weight") for m in ms], pruning_method=prune.L1Unstructured,
                          amount=0.3)
firsts = [m.weight_mask.clone() for m in ms]
prune.global_unstructured([(m, "weight") for m in ms], pruning_method=prune.L1Unstructured,
                          amount=0.5)
emit("global_then_global", "global_global",
     amount_params("amount", 0.3) + amount_params("amount2", 0.5), ws,
     firsts + [m.weight_mask for m in ms])

# ---- counts: round(amount * n), half to even ---------------------------------------------
cases = set()
for n in [1, 2, 3, 5, 7, 9, 10, 11, 35, 100, 1000, 4096, 12345, 16777216]:
    for amount in [0.0, 0.05, 0.1, 0.125, 0.2, 0.25, 0.3, 0.35, 0.375, 0.45, 0.5, 0.55, 0.7,
                   0.75, 0.9, 0.95, 1.0, 1.0 / 3.0, 2.0 / 3.0]:
        cases.add((amount, n))
for _ in range(300):
    n = int(rng.integers(1, 100000))
    k = int(rng.integers(0, 2 * n + 1))
    cases.add(((k / 2.0) / n, n))  # exact halves: the ties that half-to-even decides
    cases.add((float(rng.random()), n))
for amount, n in sorted(cases):
    out.write("count %r %d %d\n" % (amount, n, prune._compute_nparams_toprune(amount, n)))
