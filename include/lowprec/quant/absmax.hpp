// Symmetric absmax quantization: scale = (largest finite |x| of the group) / (format max),
// codes = x / scale rounded (codes.hpp), value = code * scale. Zero is exact, x and -x
// get opposite codes, and for integer codes |x - value| <= scale / 2 on every finite x.
//
//   format       format max   codes      scale of a group with absmax a > 0
//   int8         127          -127..127  max(a / 127, FLT_MIN)
//   int4         7            -7..7      max(a / 7, FLT_MIN)
//   fp8_e4m3fn   448          fp8        max(a / 448, FLT_MIN)
//   fp8_e5m2     57344        fp8        max(a / 57344, FLT_MIN)
//
// Degenerate groups: a = 0 (all zeros, empty, or only NaN/Inf) gives scale 0; every code
// is 0 (Inf: +-qmax, NaN: 0 or fp8 NaN) and decodes to an exact zero; nothing divides by
// zero. a below qmax * FLT_MIN (about 1.5e-36 for int8) gives scale FLT_MIN instead of a
// subnormal scale whose reciprocal could overflow to infinity; the scale/2 bound still
// holds. NaN and Inf never influence the scale (see codes.hpp for their codes).
//
// This header has the 1-D block quantizers over raw buffers: int8, fp8 and int4 with an
// even block size run Highway kernels (simd/quant-inl.hpp) chosen at run time for the CPU,
// bit-identical to the scalar definition (quant/blocks.hpp); odd int4 blocks run the
// scalar definition. Including this header brings in lowprec's SIMD hub
// (detail/simd.hpp: one copy of lowprec's kernels per target per translation unit; see
// there for LOWPREC_STATIC_DISPATCH). The N-d front with every granularity is
// quantized_tensor.hpp.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lowprec/detail/simd.hpp"
#include "lowprec/quant/blocks.hpp"
#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

namespace detail {
LOWPREC_SIMD_EXPORT(QuantQuantizeInt8Blocks);
LOWPREC_SIMD_EXPORT(QuantDequantizeInt8Blocks);
LOWPREC_SIMD_EXPORT(QuantQuantizeInt4Blocks);
LOWPREC_SIMD_EXPORT(QuantDequantizeInt4Blocks);
LOWPREC_SIMD_EXPORT(QuantQuantizeFp8Blocks);
LOWPREC_SIMD_EXPORT(QuantDequantizeFp8Blocks);

// The formats and block sizes with a SIMD kernel.
inline bool has_kernel(code_format f, std::size_t block) noexcept {
  return f == code_format::int8 || f == code_format::fp8_e4m3fn ||
         f == code_format::fp8_e5m2 || (f == code_format::int4 && block % 2 == 0);
}
}  // namespace detail

// Quantizes x[0, n) in blocks of `block` consecutive elements (the last block shorter
// when block does not divide n; block = n gives one scale for everything). Writes
// code_bytes(f, n) bytes of codes and block_count(n, block) scales. Throws
// std::invalid_argument, before writing anything, for block 0 or an unsigned format.
inline void quantize_absmax_blocks(const float* x, std::size_t n, std::size_t block,
                                   code_format f, std::uint8_t* codes, float* scales) {
  detail::check_absmax_blocks("lowprec::quant::quantize_absmax_blocks", f, block);
  if (n == 0) return;
  if (detail::has_kernel(f, block)) {
    using namespace detail;  // the dispatch tables
    if (f == code_format::int8) {
      LOWPREC_SIMD_CALL(QuantQuantizeInt8Blocks)(x, n, block, codes, scales);
    } else if (f == code_format::int4) {
      LOWPREC_SIMD_CALL(QuantQuantizeInt4Blocks)(x, n, block, codes, scales);
    } else {
      LOWPREC_SIMD_CALL(QuantQuantizeFp8Blocks)(x, n, block, f, codes, scales);
    }
    return;
  }
  visit_format(f, [&](auto tag) {
    constexpr code_format F = decltype(tag)::value;
    if constexpr (F != code_format::uint8 && F != code_format::uint4) {
      detail::quantize_absmax_blocks_scalar<F>(x, n, block, codes, scales);
    }
  });
}

// The inverse: out[j] = value of code j under the scale of its block.
inline void dequantize_absmax_blocks(const std::uint8_t* codes, const float* scales,
                                     std::size_t n, std::size_t block, code_format f,
                                     float* out) {
  detail::check_absmax_blocks("lowprec::quant::dequantize_absmax_blocks", f, block);
  if (n == 0) return;
  if (detail::has_kernel(f, block)) {
    using namespace detail;  // the dispatch tables
    if (f == code_format::int8) {
      LOWPREC_SIMD_CALL(QuantDequantizeInt8Blocks)(codes, scales, n, block, out);
    } else if (f == code_format::int4) {
      LOWPREC_SIMD_CALL(QuantDequantizeInt4Blocks)(codes, scales, n, block, out);
    } else {
      LOWPREC_SIMD_CALL(QuantDequantizeFp8Blocks)(codes, scales, n, block, f, out);
    }
    return;
  }
  visit_format(f, [&](auto tag) {
    constexpr code_format F = decltype(tag)::value;
    if constexpr (F != code_format::uint8 && F != code_format::uint4) {
      detail::dequantize_absmax_blocks_scalar<F>(codes, scales, n, block, out);
    }
  });
}

}  // namespace lowprec::quant
