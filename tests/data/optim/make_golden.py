#!/usr/bin/python3
"""Golden data for lowprec::optim, made by PyTorch 1.13 (Debian python3-torch).

Run with Debian's interpreter (the first python3 on PATH may not see torch):
    /usr/bin/python3 tests/data/optim/make_golden.py tests/data/optim

Writes two files beside this script:

adam.txt -- trajectories of torch.optim.Adam / AdamW (foreach=False, the single-tensor
path, float32 CPU tensors) over STEPS steps for several configurations, all fed the same
gradient sequence. Floats are float32 bit patterns in hex.
    tensor <t> <dims...>                 tensor t's shape
    init <t> <floats>                    its initial value
    grad <step> <t> <floats>             its gradient at step (1-based)
    case <name> <adam|adamw>             a configuration; then
    group <lr> <beta1> <beta2> <eps> <weight_decay> <amsgrad> <maximize> <first_step> <t...>
                                         a parameter group (added before step first_step)
    param <step> <t> <floats>            tensor t after `step` (every 5th step and the last)
    state <t> <step> exp_avg|exp_avg_sq|max_exp_avg_sq <floats>   final optimizer state
    end

maps.txt -- the quantization maps of bitsandbytes' create_dynamic_map and torchao's
4-bit optimizer, built here with the same float32 PyTorch operations, and the exact
formula rounded once to float32 (Python fractions), which lowprec defines them as:
    map <name> torch|exact <floats>
"""
import os
import sys
from fractions import Fraction

import numpy as np
import torch

STEPS = 240
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20241124)


def hexf(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32)).reshape(-1)
    return " ".join("%08x" % v for v in a.view(np.uint32))


# ---- adam.txt -------------------------------------------------------------------------
shapes = [(3, 5), (7,), (4,)]
inits = []
for s in shapes:
    mag = rng.uniform(0.5, 1.5, size=s)
    sign = np.where(rng.uniform(size=s) < 0.5, -1.0, 1.0)
    inits.append((mag * sign).astype(np.float32))
# Gradients: a per-element scale (log-uniform 1e-3 .. 10), a slowly drifting mean (so m
# keeps a sign for a while) plus noise; an element with an all-zero gradient and one that
# is zero every third step.
grads = []
for s in shapes:
    scale = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), size=s))
    drift = rng.normal(size=s)
    seq = []
    for k in range(STEPS):
        drift = 0.98 * drift + 0.2 * rng.normal(size=s)
        g = scale * (0.5 * drift + rng.normal(size=s))
        flat = g.reshape(-1)
        flat[0] = 0.0
        if k % 3 == 0 and flat.size > 1:
            flat[1] = 0.0
        seq.append(g.astype(np.float32))
    grads.append(seq)

cases = [
    # name, kind, groups: (lr, b1, b2, eps, wd, amsgrad, maximize, first_step, tensors)
    ("adam_default", "adam", [(1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, 1, [0, 1, 2])]),
    ("adam_l2_amsgrad", "adam", [(1e-3, 0.9, 0.999, 1e-8, 0.05, True, False, 1, [0, 1, 2])]),
    ("adam_maximize_l2", "adam", [(1.5e-3, 0.8, 0.95, 1e-6, 0.01, False, True, 1, [0, 1, 2])]),
    ("adamw_default", "adamw", [(1e-3, 0.9, 0.999, 1e-8, 0.01, False, False, 1, [0, 1, 2])]),
    ("adamw_amsgrad_maximize", "adamw", [(2e-3, 0.9, 0.99, 1e-7, 0.1, True, True, 1, [0, 1, 2])]),
    ("adam_groups", "adam", [(1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, 1, [0]),
                             (2e-3, 0.85, 0.995, 1e-6, 0.02, True, False, 1, [1]),
                             (5e-4, 0.9, 0.9, 1e-8, 0.0, False, True, 61, [2])]),
    ("adamw_groups", "adamw", [(1e-3, 0.9, 0.999, 1e-8, 0.01, False, False, 1, [0, 2]),
                               (3e-3, 0.5, 0.9, 1e-5, 0.0, False, False, 101, [1])]),
]

lines = ["# made by make_golden.py with torch %s; do not edit" % torch.__version__]
for t, s in enumerate(shapes):
    lines.append("tensor %d %s" % (t, " ".join(str(d) for d in s)))
    lines.append("init %d %s" % (t, hexf(inits[t])))
for k in range(STEPS):
    for t in range(len(shapes)):
        lines.append("grad %d %d %s" % (k + 1, t, hexf(grads[t][k])))

for name, kind, groups in cases:
    lines.append("case %s %s" % (name, kind))
    params = [torch.tensor(x.copy(), requires_grad=True) for x in inits]
    opt_cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    opt = None
    for (lr, b1, b2, eps, wd, ams, maxi, first, ts) in groups:
        lines.append("group %r %r %r %r %r %d %d %d %s" % (lr, b1, b2, eps, wd, ams, maxi, first,
                                                           " ".join(map(str, ts))))
    smallest = float("inf")
    for k in range(1, STEPS + 1):
        for (lr, b1, b2, eps, wd, ams, maxi, first, ts) in groups:
            if first == k:
                g = dict(params=[params[t] for t in ts], lr=lr, betas=(b1, b2), eps=eps,
                         weight_decay=wd, amsgrad=ams, maximize=maxi, foreach=False)
                if opt is None:
                    opt = opt_cls([g])
                else:
                    opt.add_param_group(g)
        active = [t for grp in groups if grp[7] <= k for t in grp[8]]
        for t, p in enumerate(params):
            p.grad = torch.tensor(grads[t][k - 1].copy()) if t in active else None
        opt.step()
        for t in active:
            smallest = min(smallest, float(params[t].detach().abs().min()))
        if k % 5 == 0 or k == STEPS:
            for t in active:
                lines.append("param %d %d %s" % (k, t, hexf(params[t].detach().numpy())))
    assert smallest > 0.05, (name, smallest)  # relative comparisons stay meaningful
    for t, p in enumerate(params):
        st = opt.state[p]
        lines.append("state %d %d exp_avg %s" % (t, int(st["step"]), hexf(st["exp_avg"].numpy())))
        lines.append("state %d %d exp_avg_sq %s" % (t, int(st["step"]), hexf(st["exp_avg_sq"].numpy())))
        if "max_exp_avg_sq" in st:
            lines.append("state %d %d max_exp_avg_sq %s" % (t, int(st["step"]),
                                                            hexf(st["max_exp_avg_sq"].numpy())))
    lines.append("end")

with open(os.path.join(out_dir, "adam.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")


# ---- maps.txt ---------------------------------------------------------------------------
def dynamic_map_torch(signed, e, total):
    """bitsandbytes create_dynamic_map, as its float32 PyTorch operations compute it
    (written from the formula in REFERENCE.md section 4, not copied)."""
    s = total - 1
    vals = []
    def decade(n, scale):
        b = torch.linspace(0.1, 1, n)
        mids = (b[:-1] + b[1:]) / 2.0
        vals.extend((scale * mids).tolist())
        if signed:
            vals.extend((-scale * mids).tolist())
    for i in range(e):
        decade(2 ** (i + s - e + (0 if signed else 1)) + 1, 10 ** (-(e - 1) + i))
    extra = 2 ** (s - e) - 1
    if extra > 0:
        decade(extra + 1, 10 ** 0)
    vals += [0.0, 1.0]
    assert len(vals) == 2 ** total
    return np.array(sorted(vals), dtype=np.float32)


def to_f32_exact(q):
    """The float32 nearest to the rational q (ties to even)."""
    d = np.float32(float(q))
    best = None
    for c in (np.nextafter(d, np.float32(-np.inf)), d, np.nextafter(d, np.float32(np.inf))):
        err = abs(Fraction(float(c)) - q)
        key = (err, int(np.array([c], dtype=np.float32).view(np.uint32)[0]) & 1)
        if best is None or key < best[0]:
            best = (key, c)
    return best[1]


def dynamic_map_exact(signed, e, total):
    s = total - 1
    vals = []
    def decade(n, p10):
        for k in range(n - 1):
            mean = Fraction(1, 10) + Fraction(9, 10) * Fraction(2 * k + 1, 2 * (n - 1))
            v = to_f32_exact(mean * p10)
            vals.append(v)
            if signed:
                vals.append(-v)
    for i in range(e):
        decade(2 ** (i + s - e + (0 if signed else 1)) + 1, Fraction(10) ** (-(e - 1) + i))
    extra = 2 ** (s - e) - 1
    if extra > 0:
        decade(extra + 1, Fraction(1))
    vals += [np.float32(0.0), np.float32(1.0)]
    return np.array(sorted(vals), dtype=np.float32)


maps = [("dynamic_signed8", True, 7, 8), ("dynamic_unsigned8", False, 7, 8),
        ("dynamic_signed4", True, 3, 4)]
lines = ["# made by make_golden.py with torch %s; do not edit" % torch.__version__]
for name, signed, e, total in maps:
    lines.append("map %s torch %s" % (name, hexf(dynamic_map_torch(signed, e, total))))
    lines.append("map %s exact %s" % (name, hexf(dynamic_map_exact(signed, e, total))))
lin = torch.linspace(0, 1, 17)[1:].numpy()  # torchao's unsigned 4-bit map, no zero
lines.append("map linear_unsigned4 torch %s" % hexf(lin))
lines.append("map linear_unsigned4 exact %s" % hexf(np.arange(1, 17, dtype=np.float32) / 16))
with open(os.path.join(out_dir, "maps.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
