// Blocks of consecutive elements: the scalar definition of 1-D block quantization that
// absmax.hpp's bulk functions and the SIMD kernels (simd/quant-inl.hpp) reproduce bit for
// bit. A buffer of n codes starts at element 0; 4-bit codes sit two per byte, element j in
// the low nibble of byte j/2 when j is even and the high nibble when odd (packed.hpp's
// native order). Blocks cover [b * block, min((b + 1) * block, n)). No SIMD here: this
// header is what the per-target kernel file includes.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lowprec/packed.hpp"
#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

// The scale of a group whose largest finite magnitude is `amax` (see the table above).
inline float absmax_scale(float amax, code_format f) noexcept {
  if (!(amax > 0.0f && amax <= FLT_MAX)) return 0.0f;
  const float s = amax / info(f).max_value;
  return s < FLT_MIN ? FLT_MIN : s;
}

// Largest finite |x[i]|, 0 when there is none.
inline float finite_absmax(const float* x, std::size_t n) noexcept {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a <= FLT_MAX && a > m) m = a;  // false for NaN and Inf
  }
  return m;
}

// Bytes that hold n codes: n, or two 4-bit codes per byte (packed.hpp's native order).
constexpr std::size_t code_bytes(code_format f, std::size_t n) noexcept {
  return info(f).bits == 4 ? packed_size(n) : n;
}
// Number of blocks of `block` elements that cover n elements (the last may be short).
constexpr std::size_t block_count(std::size_t n, std::size_t block) noexcept {
  return block == 0 ? 0 : n / block + (n % block != 0 ? 1 : 0);
}

namespace detail {

inline void check_absmax_blocks(const char* who, code_format f, std::size_t block) {
  if (f == code_format::uint8 || f == code_format::uint4) {
    throw std::invalid_argument(std::string(who) + ": format " + to_string(f) +
                                " is unsigned; absmax needs int8, int4, fp8_e4m3fn or fp8_e5m2");
  }
  if (block == 0) {
    throw std::invalid_argument(std::string(who) + ": block is 0; a block needs at least one "
                                "element");
  }
}

// Writes the code of element j (of a buffer starting at element 0) into `codes`.
// 4-bit codes: element j is the low nibble of byte j/2 when j is even, the high nibble
// when odd; elements are written in increasing order, so the even one clears the byte.
template <code_format F>
inline void put_code(std::uint8_t* codes, std::size_t j, std::uint8_t bits) noexcept {
  if constexpr (info(F).bits == 4) {
    std::uint8_t& b = codes[j / 2];
    b = (j % 2 == 0) ? bits : static_cast<std::uint8_t>(b | (bits << 4));
  } else {
    codes[j] = bits;
  }
}
template <code_format F>
inline std::uint8_t get_code(const std::uint8_t* codes, std::size_t j) noexcept {
  if constexpr (info(F).bits == 4) {
    return static_cast<std::uint8_t>((codes[j / 2] >> (j % 2 == 0 ? 0 : 4)) & 0x0F);
  } else {
    return codes[j];
  }
}

// The scalar definition of the 1-D block quantizer, for every absmax format.
template <code_format F>
void quantize_absmax_blocks_scalar(const float* x, std::size_t n, std::size_t block,
                                   std::uint8_t* codes, float* scales) noexcept {
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float scale = absmax_scale(finite_absmax(x + start, len), F);
    const float inv = inverse_scale(scale);
    scales[b] = scale;
    for (std::size_t j = start; j < start + len; ++j) {
      put_code<F>(codes, j, encode_absmax<F>(x[j], inv));
    }
  }
}

template <code_format F>
void dequantize_absmax_blocks_scalar(const std::uint8_t* codes, const float* scales,
                                     std::size_t n, std::size_t block, float* out) noexcept {
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = n - start < block ? n : start + block;
    const float scale = scales[b];
    for (std::size_t j = start; j < end; ++j) out[j] = decode_absmax<F>(get_code<F>(codes, j), scale);
  }
}

}  // namespace detail

}  // namespace lowprec::quant
