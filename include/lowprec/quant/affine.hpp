// Asymmetric (zero-point) quantization with PyTorch's formulas, so that codes, scales and
// zero points equal torch.quantize_per_tensor / quantize_per_channel and the MinMax
// observers of PyTorch 1.13 bit for bit (REFERENCE.md section 6; torch/ao/quantization/
// observer.py _calculate_qparams; aten quantize_val):
//
//   qparams of a group with finite min m and max M, codes qmin..qmax (uint8 0..255,
//   uint4 0..15), all in float:
//     m- = min(m, 0), M+ = max(M, 0)
//     scale = max((M+ - m-) / (qmax - qmin), eps)          eps = 2^-23 (float32 eps)
//     zp    = clamp(qmin - nearbyint(m- / scale), qmin, qmax)
//   code  = clamp(zp + nearbyint(x * (1 / scale)), qmin, qmax)      (codes.hpp)
//   value = (code - zp) * scale
//
// Zero is always exact (code zp). All-zero and empty groups get scale eps and decode to
// exact zeros (PyTorch's rule, not scale 0). NaN and Inf are left out of m and M (PyTorch's
// observer fails an assertion on NaN); NaN encodes as zp, +-Inf as qmax/qmin. One
// deliberate deviation: when M+ - m- overflows float (a range wider than FLT_MAX), the
// scale is M+/(qmax-qmin) - m-/(qmax-qmin), finite, where PyTorch's would be infinite.
//
// The buffer functions run Highway kernels (simd/quant-inl.hpp) chosen at run time for the
// CPU, bit-identical to the scalar definitions below (detail::quantize_affine_blocks_scalar,
// detail::dequantize_affine_blocks_scalar, quantize_affine_run): the block min/max, the
// qparams (affine_qparams' own float operations, N blocks at a time; affine_qparams.hpp)
// and the encode / decode are vector code.
// uint4 with an odd block size (blocks that start mid-byte) runs the scalar definition.
// Including this header brings in lowprec's SIMD hub (detail/simd.hpp).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lowprec/detail/format.hpp"
#include "lowprec/detail/simd.hpp"
#include "lowprec/quant/affine_qparams.hpp"
#include "lowprec/quant/blocks.hpp"
#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

// Finite minimum and maximum of x[0, n); both 0 when there is no finite element.
struct finite_range {
  float min = 0.0f;
  float max = 0.0f;
};
inline finite_range finite_minmax(const float* x, std::size_t n) noexcept {
  float lo = FLT_MAX, hi = -FLT_MAX;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v >= -FLT_MAX && v <= FLT_MAX) {  // false for NaN and Inf
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      any = true;
    }
  }
  return any ? finite_range{lo, hi} : finite_range{};
}

namespace detail {

inline void check_affine_format(const char* who, code_format f) {
  if (f != code_format::uint8 && f != code_format::uint4) {
    throw std::invalid_argument(std::string(who) + ": format " + to_string(f) +
                                " is not unsigned; affine needs uint8 or uint4");
  }
}

// Given qparams must be usable as PyTorch requires: a finite positive scale and a zero
// point inside the code range.
inline void check_qparams(const char* who, const qparams& p, code_format f, std::size_t index,
                          bool indexed) {
  const std::string where = indexed ? " (channel " + std::to_string(index) + ")" : "";
  if (!(p.scale > 0.0f && p.scale <= FLT_MAX)) {
    throw std::invalid_argument(std::string(who) + ": scale" + where + " is " +
                                ::lowprec::detail::shortest_decimal(p.scale) +
                                "; it must be finite and > 0");
  }
  if (p.zero_point < info(f).qmin || p.zero_point > info(f).qmax) {
    throw std::invalid_argument(std::string(who) + ": zero_point" + where + " is " +
                                std::to_string(p.zero_point) + "; " + to_string(f) +
                                " needs " + std::to_string(info(f).qmin) + ".." +
                                std::to_string(info(f).qmax));
  }
}

template <code_format F>
void quantize_affine_run(const float* x, std::size_t first, std::size_t count, qparams p,
                         std::uint8_t* codes) noexcept {
  const float inv = 1.0f / p.scale;
  for (std::size_t j = first; j < first + count; ++j) {
    put_code<F>(codes, j, encode_affine<F>(x[j], inv, p.zero_point));
  }
}

// The scalar definition of quantize_affine_blocks / dequantize_affine_blocks (F uint8 or
// uint4), which the kernels reproduce bit for bit.
template <code_format F>
void quantize_affine_blocks_scalar(const float* x, std::size_t n, std::size_t block,
                                   std::uint8_t* codes, float* scales,
                                   std::uint8_t* zero_points) {
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const finite_range r = finite_minmax(x + start, len);
    const qparams p = affine_qparams(r.min, r.max, F);
    scales[b] = p.scale;
    zero_points[b] = static_cast<std::uint8_t>(p.zero_point);
    quantize_affine_run<F>(x, start, len, p, codes);
  }
}

template <code_format F>
void dequantize_affine_blocks_scalar(const std::uint8_t* codes, const float* scales,
                                     const std::uint8_t* zero_points, std::size_t n,
                                     std::size_t block, float* out) noexcept {
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = n - start < block ? n : start + block;
    for (std::size_t j = start; j < end; ++j) {
      out[j] = decode_affine(get_code<F>(codes, j), scales[b], zero_points[b]);
    }
  }
}

LOWPREC_SIMD_EXPORT(QuantAffineMinMaxBlocks);
LOWPREC_SIMD_EXPORT(QuantAffineQparamsBlocks);
LOWPREC_SIMD_EXPORT(QuantEncodeAffineBlocks);
LOWPREC_SIMD_EXPORT(QuantDequantizeAffineBlocks);

// uint4 blocks must start on a byte for the kernels: an even block size, or one block.
inline bool has_affine_kernel(code_format f, std::size_t n, std::size_t block) noexcept {
  return f == code_format::uint8 || block % 2 == 0 || n <= block;
}

}  // namespace detail

// PyTorch's quantize_per_tensor on a buffer: codes of x[0, n) under given qparams
// (code_bytes(f, n) bytes; uint4 packed two per byte, first element in the low nibble,
// exactly torch.quint4x2's int_repr()). Throws, before writing, for a bad format, a
// scale that is not finite and positive, or a zero point outside the code range.
inline void quantize_affine(const float* x, std::size_t n, qparams p, code_format f,
                            std::uint8_t* codes) {
  detail::check_affine_format("lowprec::quant::quantize_affine", f);
  detail::check_qparams("lowprec::quant::quantize_affine", p, f, 0, false);
  if (n == 0) return;
  using namespace detail;  // the dispatch tables
  const float scale = p.scale;
  const auto zp = static_cast<std::uint8_t>(p.zero_point);
  LOWPREC_SIMD_CALL(QuantEncodeAffineBlocks)(x, n, n, f, &scale, &zp, codes);  // one block
}

// Observer + quantizer on blocks of `block` consecutive elements of x[0, n) (the last
// block shorter; block = n for one group). Writes code_bytes(f, n) bytes of codes and
// block_count(n, block) scales and zero points.
inline void quantize_affine_blocks(const float* x, std::size_t n, std::size_t block,
                                   code_format f, std::uint8_t* codes, float* scales,
                                   std::uint8_t* zero_points) {
  detail::check_affine_format("lowprec::quant::quantize_affine_blocks", f);
  if (block == 0) {
    throw std::invalid_argument("lowprec::quant::quantize_affine_blocks: block is 0; a block "
                                "needs at least one element");
  }
  if (n == 0) return;
  if (!detail::has_affine_kernel(f, n, block)) {
    visit_format(f, [&](auto tag) {
      constexpr code_format F = decltype(tag)::value;
      if constexpr (F == code_format::uint4) {
        detail::quantize_affine_blocks_scalar<F>(x, n, block, codes, scales, zero_points);
      }
    });
    return;
  }
  // Chunks of blocks: min/max kernel, qparams kernel (affine_qparams), encode kernel.
  using namespace detail;  // the dispatch tables
  constexpr std::size_t kChunk = 64;
  float lo[kChunk], hi[kChunk];
  const std::size_t total = block_count(n, block);
  for (std::size_t b0 = 0; b0 < total; b0 += kChunk) {
    const std::size_t count = total - b0 < kChunk ? total - b0 : kChunk;
    const std::size_t start = b0 * block;
    const std::size_t len = n - start < count * block ? n - start : count * block;
    LOWPREC_SIMD_CALL(QuantAffineMinMaxBlocks)(x + start, len, block, lo, hi);
    // = affine_qparams of each block's finite_minmax range
    LOWPREC_SIMD_CALL(QuantAffineQparamsBlocks)(lo, hi, count, f, scales + b0, zero_points + b0);
    LOWPREC_SIMD_CALL(QuantEncodeAffineBlocks)(x + start, len, block, f, scales + b0,
                                               zero_points + b0, codes + code_bytes(f, start));
  }
}

// The inverse of either: out[j] = (code_j - zp) * scale of its block.
inline void dequantize_affine_blocks(const std::uint8_t* codes, const float* scales,
                                     const std::uint8_t* zero_points, std::size_t n,
                                     std::size_t block, code_format f, float* out) {
  detail::check_affine_format("lowprec::quant::dequantize_affine_blocks", f);
  if (block == 0) {
    throw std::invalid_argument("lowprec::quant::dequantize_affine_blocks: block is 0; a "
                                "block needs at least one element");
  }
  if (n == 0) return;
  if (!detail::has_affine_kernel(f, n, block)) {
    visit_format(f, [&](auto tag) {
      constexpr code_format F = decltype(tag)::value;
      if constexpr (F == code_format::uint4) {
        detail::dequantize_affine_blocks_scalar<F>(codes, scales, zero_points, n, block, out);
      }
    });
    return;
  }
  using namespace detail;  // the dispatch tables
  LOWPREC_SIMD_CALL(QuantDequantizeAffineBlocks)(codes, scales, zero_points, n, block, f, out);
}

}  // namespace lowprec::quant
