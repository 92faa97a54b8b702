// The Adam/AdamW update of a run of elements: the scalar definition that the SIMD kernels
// (simd/optim-inl.hpp) reproduce bit for bit on every target, and the argument block they
// share. Standard library only; optim/adam.hpp is the front.
//
// One element, in float, each line one IEEE operation rounded to float (no fused
// multiply-add anywhere, so that targets with and without FMA agree; the order is
// PyTorch 1.13's single-tensor path, torch/optim/adam.py and adamw.py, REFERENCE.md s5):
//
//   g = g * grad_scale            1/loss scale, negated for `maximize`
//   g = g + p * weight_decay      Adam (L2) only, when weight_decay != 0
//   p = p * (1 - lr * wd)         AdamW only, when weight_decay != 0 (before the moments)
//   m = m * b1;  m = m + g * (1 - b1)
//   v = v * b2;  v = v + ((1 - b2) * g) * g
//   vmax = max(vmax, v)           AMSGrad, on the uncorrected v (NaN wins)
//   d = sqrt(v or vmax) * (1 / sqrt(1 - b2^t)) + eps
//   p = p + ((-lr / (1 - b1^t)) * m) / d
//
// The per-step coefficients are computed in double from the double hyper-parameters
// and rounded to float once, as PyTorch passes Python floats to float32 kernels. The one
// deliberate difference from PyTorch: d multiplies by the rounded reciprocal of
// sqrt(1 - b2^t) where PyTorch divides by it (d may differ by an ulp), which leaves one
// division and one square root per element -- the divider is the bottleneck in cache.
//
// Storage of m, v (and vmax), widened to float before and rounded after the update:
//   fp32   as is
//   bf16   nearest-even, or stochastic with the bits random_bits(seed_x, offset + i)
//   q8/q4  blocks of `block` elements (256 / 128): value = map[code] * absmax[block].
//          The block's elements are updated in float, then absmax = max |x| (NaN wins,
//          compared as magnitude bits), inv = absmax > 0 ? 1 / absmax : 0, and each
//          code = the nearest entry to x * inv (quant/dynamic_map.hpp's bucket encoder,
//          code_map::encode but for NaN, whose block decodes to NaN). m uses the signed map, v
//          and vmax the unsigned one. The parameter update uses the float moments before
//          they are quantized (as bitsandbytes' and torchao's kernels do), so quantization
//          error enters only the next step. q4 codes sit two per byte, element 2k in the
//          low nibble (packed.hpp's native order).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowprec/bf16.hpp"
#include "lowprec/detail/random.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/quant/dynamic_map.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace lowprec::optim {

// How Adam's moments are stored (also the id written in checkpoints).
enum class state_format : std::uint8_t { fp32 = 0, bf16 = 1, q8 = 2, q4 = 3 };

constexpr const char* to_string(state_format f) noexcept {
  switch (f) {
    case state_format::fp32:
      return "fp32";
    case state_format::bf16:
      return "bf16";
    case state_format::q8:
      return "q8";
    case state_format::q4:
      return "q4";
  }
  return "unknown";
}

namespace detail {

// The per-step float coefficients of one tensor.
struct adam_coeffs {
  float grad_scale = 1.0f;    // 1/scale of the loss scaler, negated for maximize
  float weight_decay = 0.0f;  // Adam: added to the gradient times p
  float param_decay = 1.0f;   // AdamW: 1 - lr * weight_decay
  float beta1 = 0.9f, one_minus_beta1 = 0.1f, beta2 = 0.999f, one_minus_beta2 = 0.001f;
  float inv_bc2_sqrt = 1.0f;  // 1 / sqrt(1 - beta2^t)
  float eps = 1e-8f;
  float neg_step_size = -1e-3f;  // -lr / (1 - beta1^t)
  bool l2 = false;               // apply weight_decay (Adam, weight_decay != 0)
  bool decoupled = false;        // apply param_decay (AdamW, weight_decay != 0)
  bool amsgrad = false;
};

// Hyper-parameters as PyTorch holds them (Python floats) -> the coefficients of step t.
inline adam_coeffs make_coeffs(double lr, double beta1, double beta2, double eps,
                               double weight_decay, bool decoupled, bool amsgrad, bool maximize,
                               std::uint64_t t, float inv_loss_scale) noexcept {
  adam_coeffs c;
  const auto step = static_cast<double>(t);
  c.grad_scale = maximize ? -inv_loss_scale : inv_loss_scale;
  c.l2 = !decoupled && weight_decay != 0.0;
  c.decoupled = decoupled && weight_decay != 0.0;
  c.weight_decay = static_cast<float>(weight_decay);
  c.param_decay = static_cast<float>(1.0 - lr * weight_decay);
  c.beta1 = static_cast<float>(beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  c.beta2 = static_cast<float>(beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  c.inv_bc2_sqrt = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, step)));
  c.eps = static_cast<float>(eps);
  c.neg_step_size = static_cast<float>(-(lr / (1.0 - std::pow(beta1, step))));
  c.amsgrad = amsgrad;
  return c;
}

inline std::uint32_t bits_of(float x) noexcept {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float float_of(std::uint32_t u) noexcept {
  float x = 0;
  std::memcpy(&x, &u, 4);
  return x;
}

// One element (see the top of this file). vmax is read and written only for AMSGrad.
inline void adam_element(float& p, float g_in, float& m, float& v, float& vmax,
                         const adam_coeffs& c) noexcept {
  float g = g_in * c.grad_scale;
  if (c.l2) {
    const float t = p * c.weight_decay;
    g = g + t;
  }
  if (c.decoupled) p = p * c.param_decay;
  m = m * c.beta1;
  const float mt = g * c.one_minus_beta1;
  m = m + mt;
  v = v * c.beta2;
  float vt = c.one_minus_beta2 * g;
  vt = vt * g;
  v = v + vt;
  float s = v;
  if (c.amsgrad) {
    if (bits_of(v) > bits_of(vmax)) vmax = v;  // v >= +0: bit order is value order, NaN wins
    s = vmax;
  }
  float d = std::sqrt(s);
  d = d * c.inv_bc2_sqrt;
  d = d + c.eps;
  float u = c.neg_step_size * m;
  u = u / d;
  p = p + u;
}

// A code map as the kernels see it: values to decode, the bucket encoder to encode
// (quant/dynamic_map.hpp).
struct map_ref {
  const float* values = nullptr;
  std::size_t size = 0;
  const std::uint32_t* entries = nullptr;
  std::uint32_t first = 0, count = 0, zero_code = 0;
  bool is_signed = false;
};

template <std::size_t Size>
map_ref make_map_ref(const quant::code_map<Size>& map, const quant::bucket_encoder& be) noexcept {
  map_ref r;
  r.values = map.values().data();
  r.size = Size;
  r.entries = be.entries.data();
  r.first = be.first;
  r.count = be.count;
  r.zero_code = be.zero_code;
  r.is_signed = be.is_signed;
  return r;
}

// The encoding of the kernels: nearest entry (code_map::encode) for every float but NaN.
inline std::uint8_t encode_reference(const map_ref& map, float x) noexcept {
  return quant::encode_with_buckets(map.entries, map.first, map.count, map.zero_code, map.is_signed,
                                    x);
}

// Everything one kernel call needs: a run of n elements of one tensor, starting at its
// element `offset` (a multiple of `block` for quantized states; a run never crosses a
// multiple of 2^32, so one random key serves it). Pointers are at the run's start.
struct adam_args {
  adam_coeffs c;
  std::size_t n = 0;
  float* p = nullptr;
  const float* g = nullptr;
  state_format format = state_format::fp32;
  void* m = nullptr;  // float*, std::uint16_t* (bf16 bits), or codes (q4: packed)
  void* v = nullptr;
  void* vmax = nullptr;       // AMSGrad only
  float* absmax_m = nullptr;  // q8/q4: one per block
  float* absmax_v = nullptr;
  float* absmax_vmax = nullptr;
  std::size_t block = 0;
  map_ref signed_map, unsigned_map;
  bool stochastic = false;  // bf16 states
  std::uint64_t seed_m = 0, seed_v = 0, seed_vmax = 0;
  std::uint64_t offset = 0;
};

inline std::uint16_t bf16_store(float x, bool stochastic, std::uint64_t seed,
                                std::uint64_t index) noexcept {
  if (!stochastic) return bf16::from(x).bits();
  return bf16::from(x, rounding::stochastic, overflow::ieee,
                    lowprec::detail::random_bits(seed, index))
      .bits();
}

inline std::uint8_t load_code(const void* codes, std::size_t i, bool packed) noexcept {
  const auto* c = static_cast<const std::uint8_t*>(codes);
  if (!packed) return c[i];
  return static_cast<std::uint8_t>((i % 2 == 0) ? c[i / 2] & 0x0F : c[i / 2] >> 4);
}
inline void store_code(void* codes, std::size_t i, std::uint8_t code, bool packed) noexcept {
  auto* c = static_cast<std::uint8_t*>(codes);
  if (!packed) {
    c[i] = code;
  } else if (i % 2 == 0) {
    c[i / 2] = static_cast<std::uint8_t>((c[i / 2] & 0xF0) | code);
  } else {
    c[i / 2] = static_cast<std::uint8_t>((c[i / 2] & 0x0F) | (code << 4));
  }
}

// Largest magnitude of x[0, n) as a float (NaN wins: compared as bits).
inline float absmax_bits(const float* x, std::size_t n) noexcept {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, bits_of(x[i]) & 0x7FFFFFFFu);
  return float_of(m);
}

// The scalar definition of one kernel call (see the top of this file).
inline void adam_run_reference(const adam_args& a) noexcept {
  const adam_coeffs& c = a.c;
  float unused = 0.0f;
  switch (a.format) {
    case state_format::fp32: {
      auto* m = static_cast<float*>(a.m);
      auto* v = static_cast<float*>(a.v);
      auto* x = static_cast<float*>(a.vmax);
      for (std::size_t i = 0; i < a.n; ++i) {
        adam_element(a.p[i], a.g[i], m[i], v[i], c.amsgrad ? x[i] : unused, c);
      }
      return;
    }
    case state_format::bf16: {
      auto* m = static_cast<std::uint16_t*>(a.m);
      auto* v = static_cast<std::uint16_t*>(a.v);
      auto* x = static_cast<std::uint16_t*>(a.vmax);
      for (std::size_t i = 0; i < a.n; ++i) {
        float mf = bf16::from_bits(m[i]), vf = bf16::from_bits(v[i]);
        float xf = c.amsgrad ? static_cast<float>(bf16::from_bits(x[i])) : 0.0f;
        adam_element(a.p[i], a.g[i], mf, vf, xf, c);
        m[i] = bf16_store(mf, a.stochastic, a.seed_m, a.offset + i);
        v[i] = bf16_store(vf, a.stochastic, a.seed_v, a.offset + i);
        if (c.amsgrad) x[i] = bf16_store(xf, a.stochastic, a.seed_vmax, a.offset + i);
      }
      return;
    }
    case state_format::q8:
    case state_format::q4: {
      const bool packed = a.format == state_format::q4;
      float mf[256], vf[256], xf[256];
      for (std::size_t start = 0, b = 0; start < a.n; start += a.block, ++b) {
        const std::size_t len = std::min(a.block, a.n - start);
        for (std::size_t j = 0; j < len; ++j) {
          mf[j] = a.signed_map.values[load_code(a.m, start + j, packed)] * a.absmax_m[b];
          vf[j] = a.unsigned_map.values[load_code(a.v, start + j, packed)] * a.absmax_v[b];
          xf[j] = c.amsgrad ? a.unsigned_map.values[load_code(a.vmax, start + j, packed)] *
                                  a.absmax_vmax[b]
                            : 0.0f;
          adam_element(a.p[start + j], a.g[start + j], mf[j], vf[j], xf[j], c);
        }
        auto requantize = [&](const float* xs, void* codes, float* absmax, const map_ref& map) {
          const float amax = absmax_bits(xs, len);
          const float inv = amax > 0.0f ? 1.0f / amax : 0.0f;
          for (std::size_t j = 0; j < len; ++j) {
            store_code(codes, start + j, encode_reference(map, xs[j] * inv), packed);
          }
          absmax[b] = amax;
        };
        requantize(mf, a.m, a.absmax_m, a.signed_map);
        requantize(vf, a.v, a.absmax_v, a.unsigned_map);
        if (c.amsgrad) requantize(xf, a.vmax, a.absmax_vmax, a.unsigned_map);
      }
      return;
    }
  }
}

}  // namespace detail
}  // namespace lowprec::optim

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
