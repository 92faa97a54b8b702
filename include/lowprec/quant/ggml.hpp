// ggml's Q8_0, Q4_0 and Q4_1 blocks, byte for byte (ggml src/ggml-common.h for the
// layouts, src/ggml-quants.c quantize_row_*_ref / dequantize_row_* for the formulas;
// REFERENCE.md section 7). 32 elements per block, fp16 scales, little-endian:
//
//   block   bytes  layout                       encode (per block; id = 1/d in float)          decode
//   Q8_0    34     fp16 d | int8 qs[32]         d = amax/127; q = round(x*id), ties away         q*d
//   Q4_0    18     fp16 d | u8 qs[16]           d = m/-8, m = the x of largest |x| (the first   (q-8)*d
//                                               one); q = min(15, trunc(x*id + 8.5))
//   Q4_1    20     fp16 d | fp16 m | u8 qs[16]  d = (max-min)/15, m = min;                      q*d + m
//                                               q = min(15, trunc((x-min)*id + 0.5))
//   4-bit qs: byte j holds element j in its low nibble and element j+16 in its high nibble.
//
// d is computed in float and rounded to fp16 only for storage; codes use the float d, as
// ggml does. Every float operation rounds (a multiply feeding an add is never fused), as
// in ggml's scalar reference built without FMA; q*d + m is computed as two roundings too.
// Where ggml's reference is undefined, lowprec chooses: NaN and Inf do not count toward
// amax/min/max; NaN encodes as 0 would; +-Inf as the block's extreme code, except in a
// block with d = 0 (no finite non-zero value, or id would overflow float: d < 2^-128),
// whose codes are all the zero code (Q4_1: the code of m). The last block of a row
// whose length is not a multiple of 32 is quantized as if zero-padded, which for Q4_1
// makes 0 part of the block's range. Values beyond fp16's range (|d| or |m| > 65504) do
// not fit these formats: their fp16 scale is infinite, as in ggml.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lowprec/detail/format.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/quant/quantized_tensor.hpp"

namespace lowprec::quant::ggml {

inline constexpr std::size_t block_elems = 32;  // QK8_0 = QK4_0 = QK4_1

struct block_q8_0 {
  fp16 d;
  std::int8_t qs[32];
};
struct block_q4_0 {
  fp16 d;
  std::uint8_t qs[16];
};
struct block_q4_1 {
  fp16 d;
  fp16 m;
  std::uint8_t qs[16];
};
static_assert(sizeof(block_q8_0) == 34 && sizeof(block_q4_0) == 18 && sizeof(block_q4_1) == 20,
              "ggml blocks must have ggml's sizes (no padding)");

// Blocks needed for n elements.
constexpr std::size_t blocks_for(std::size_t n) noexcept {
  return n / block_elems + (n % block_elems != 0 ? 1 : 0);
}

namespace detail {

// x * id rounded to float, as a value no compiler can fuse into a following addition:
// the double product of two floats is exact, so rounding it to float is the float
// product, and the addition that follows takes a converted value, not a product.
inline float product(float x, float id) noexcept {
  return static_cast<float>(static_cast<double>(x) * static_cast<double>(id));
}
inline float reciprocal_or_zero(float d) noexcept {
  if (d == 0.0f) return 0.0f;
  const float id = 1.0f / d;
  return std::fabs(id) <= FLT_MAX ? id : 0.0f;
}
inline bool finite(float v) noexcept { return v >= -FLT_MAX && v <= FLT_MAX; }

// Block b of x[0, n): 32 values, zeros past n.
inline void load_block(const float* x, std::size_t n, std::size_t b, float (&v)[32]) noexcept {
  for (std::size_t j = 0; j < 32; ++j) {
    const std::size_t i = b * 32 + j;
    v[j] = i < n ? x[i] : 0.0f;
  }
}

inline std::uint8_t q4_0_code(float x, float id) noexcept {
  float t = x != x ? 0.0f : (id == 0.0f ? 0.0f : product(x, id));  // in [-8, 8] if finite
  t = t < -8.0f ? -8.0f : (t > 8.0f ? 8.0f : t);  // Inf; clamping changes no finite result
  const int q = static_cast<int>(t + 8.5f);        // t + 8.5 >= 0.5: truncation is floor
  return static_cast<std::uint8_t>(q > 15 ? 15 : q);
}
inline std::uint8_t q4_1_code(float x, float min, float id) noexcept {
  float t = x != x ? product(0.0f - min, id) : (id == 0.0f ? 0.0f : product(x - min, id));
  t = t < 0.0f ? 0.0f : (t > 15.0f ? 15.0f : t);
  const int q = static_cast<int>(t + 0.5f);
  return static_cast<std::uint8_t>(q > 15 ? 15 : q);
}

}  // namespace detail

// ---- quantize: n floats -> blocks_for(n) blocks ---------------------------------------------

inline void quantize_q8_0(const float* x, std::size_t n, block_q8_0* out) noexcept {
  for (std::size_t b = 0; b < blocks_for(n); ++b) {
    float v[32];
    detail::load_block(x, n, b, v);
    float amax = 0.0f;
    for (const float e : v) {
      if (detail::finite(e) && std::fabs(e) > amax) amax = std::fabs(e);
    }
    const float d = amax / 127.0f;
    const float id = detail::reciprocal_or_zero(d);
    out[b].d = fp16(d);
    for (std::size_t j = 0; j < 32; ++j) {
      const float e = v[j];
      int q = 0;
      if (e != e || id == 0.0f) {
        q = 0;
      } else if (!detail::finite(e)) {
        q = e > 0 ? 127 : -127;
      } else {
        q = static_cast<int>(std::round(detail::product(e, id)));  // ties away from zero
        q = q > 127 ? 127 : (q < -127 ? -127 : q);                // never needed for finite x
      }
      out[b].qs[j] = static_cast<std::int8_t>(q);
    }
  }
}

inline void quantize_q4_0(const float* x, std::size_t n, block_q4_0* out) noexcept {
  for (std::size_t b = 0; b < blocks_for(n); ++b) {
    float v[32];
    detail::load_block(x, n, b, v);
    float amax = 0.0f, m = 0.0f;
    for (const float e : v) {
      if (detail::finite(e) && amax < std::fabs(e)) {  // strict: the first largest wins
        amax = std::fabs(e);
        m = e;
      }
    }
    const float d = m / -8.0f;
    const float id = detail::reciprocal_or_zero(d);
    out[b].d = fp16(d);
    for (std::size_t j = 0; j < 16; ++j) {
      out[b].qs[j] = static_cast<std::uint8_t>(detail::q4_0_code(v[j], id) |
                                               (detail::q4_0_code(v[j + 16], id) << 4));
    }
  }
}

inline void quantize_q4_1(const float* x, std::size_t n, block_q4_1* out) noexcept {
  for (std::size_t b = 0; b < blocks_for(n); ++b) {
    float v[32];
    detail::load_block(x, n, b, v);
    float min = FLT_MAX, max = -FLT_MAX;
    for (const float e : v) {
      if (!detail::finite(e)) continue;
      min = e < min ? e : min;
      max = e > max ? e : max;
    }
    if (min > max) min = max = 0.0f;  // no finite value
    const float d = (max - min) / 15.0f;
    const float id = detail::reciprocal_or_zero(d);
    out[b].d = fp16(d);
    out[b].m = fp16(min);
    for (std::size_t j = 0; j < 16; ++j) {
      out[b].qs[j] = static_cast<std::uint8_t>(detail::q4_1_code(v[j], min, id) |
                                               (detail::q4_1_code(v[j + 16], min, id) << 4));
    }
  }
}

// ---- dequantize: blocks -> n floats (the padding of a last partial block is dropped) --------

inline void dequantize_q8_0(const block_q8_0* in, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(in[i / 32].qs[i % 32]) * static_cast<float>(in[i / 32].d);
  }
}

inline void dequantize_q4_0(const block_q4_0* in, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const block_q4_0& blk = in[i / 32];
    const std::size_t j = i % 32;
    const int q = j < 16 ? (blk.qs[j] & 0x0F) : (blk.qs[j - 16] >> 4);
    out[i] = static_cast<float>(q - 8) * static_cast<float>(blk.d);
  }
}

inline void dequantize_q4_1(const block_q4_1* in, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const block_q4_1& blk = in[i / 32];
    const std::size_t j = i % 32;
    const int q = j < 16 ? (blk.qs[j] & 0x0F) : (blk.qs[j - 16] >> 4);
    out[i] = detail::product(static_cast<float>(q), static_cast<float>(blk.d)) +
             static_cast<float>(blk.m);
  }
}

// ---- bytes: ggml's exact in-memory / file layout (fp16 little-endian) -------------------------

template <class Block>
struct block_info;
template <>
struct block_info<block_q8_0> {
  static constexpr std::size_t bytes = 34;
  static constexpr const char* name = "Q8_0";
};
template <>
struct block_info<block_q4_0> {
  static constexpr std::size_t bytes = 18;
  static constexpr const char* name = "Q4_0";
};
template <>
struct block_info<block_q4_1> {
  static constexpr std::size_t bytes = 20;
  static constexpr const char* name = "Q4_1";
};

namespace detail {
inline void put_fp16(std::uint8_t*& p, fp16 v) noexcept {
  *p++ = static_cast<std::uint8_t>(v.bits() & 0xFF);
  *p++ = static_cast<std::uint8_t>(v.bits() >> 8);
}
inline fp16 get_fp16(const std::uint8_t*& p) noexcept {
  const auto bits = static_cast<std::uint16_t>(p[0] | (p[1] << 8));
  p += 2;
  return fp16::from_bits(bits);
}
}  // namespace detail

// count blocks -> count * block_info<Block>::bytes bytes.
template <class Block>
std::vector<std::uint8_t> to_bytes(const Block* blocks, std::size_t count) {
  std::vector<std::uint8_t> out(count * block_info<Block>::bytes);
  std::uint8_t* p = out.data();
  for (std::size_t b = 0; b < count; ++b) {
    detail::put_fp16(p, blocks[b].d);
    if constexpr (std::is_same_v<Block, block_q4_1>) detail::put_fp16(p, blocks[b].m);
    for (const auto q : blocks[b].qs) *p++ = static_cast<std::uint8_t>(q);
  }
  return out;
}

// Bytes -> blocks. Throws std::invalid_argument when size is not a whole number of blocks.
template <class Block>
std::vector<Block> from_bytes(const std::uint8_t* bytes, std::size_t size) {
  constexpr std::size_t bb = block_info<Block>::bytes;
  if (size % bb != 0) {
    throw std::invalid_argument(std::string("lowprec::quant::ggml::from_bytes<") +
                                block_info<Block>::name + ">: size " + std::to_string(size) +
                                " is not a multiple of the block size " + std::to_string(bb));
  }
  std::vector<Block> out(size / bb);
  const std::uint8_t* p = bytes;
  for (Block& blk : out) {
    blk.d = detail::get_fp16(p);
    if constexpr (std::is_same_v<Block, block_q4_1>) blk.m = detail::get_fp16(p);
    for (auto& q : blk.qs) q = static_cast<std::remove_reference_t<decltype(q)>>(*p++);
  }
  return out;
}

// ---- quantized_tensor <-> Q8_0 / Q4_0 ---------------------------------------------------------
// Q8_0 is int8 absmax per_block(32) along the last axis; Q4_0 is int4 with codes q - 8
// (-8..7) and the signed d as scale. Rows (lines along the last axis) are blocked
// separately, each padded to a multiple of 32, as ggml requires of its rows. Import keeps
// codes and scales exactly; export requires that form and fp16-exact scales.
// (Q4_1's value q*d + m has a float offset, not an integer zero point: it stays in blocks.)

namespace detail {

inline std::size_t rows_of(const std::vector<std::size_t>& shape, std::size_t n) {
  return shape.empty() || shape.back() == 0 ? 0 : n / shape.back();
}

template <class Block>
void check_import(const char* who, const std::vector<std::size_t>& shape, std::size_t count) {
  if (shape.empty()) {
    throw std::invalid_argument(std::string(who) + ": shape is empty (rank 0); ggml blocks "
                                "run along a last axis");
  }
  const std::size_t n = element_count(shape, who);
  const std::size_t want = rows_of(shape, n) * blocks_for(shape.back());
  if (count != want) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(count) + " " +
                                block_info<Block>::name + " blocks for shape " +
                                shape_string(shape) + ", which needs " + std::to_string(want));
  }
}

inline void check_export(const char* who, const quantized_tensor& q, code_format want) {
  const scheme& s = q.qscheme();
  const bool last_axis = q.rank() >= 1 && (s.groups.axis == -1 ||
                                           s.groups.axis == static_cast<int>(q.rank()) - 1);
  if (s.format != want || s.groups.kind != granularity::per_block || s.groups.block_size != 32 ||
      !last_axis) {
    throw std::invalid_argument(std::string(who) + ": needs " + to_string(want) +
                                " per_block(32) along the last axis; the tensor is " +
                                to_string(s.format) + " " + to_string(s.groups.kind) +
                                " (block " + std::to_string(s.groups.block_size) + ", axis " +
                                std::to_string(s.groups.axis) + ")");
  }
  for (std::size_t g = 0; g < q.scales().size(); ++g) {
    const float sc = q.scales()[g];
    if (static_cast<float>(fp16(sc)) != sc) {
      throw std::invalid_argument(std::string(who) + ": scale " + std::to_string(g) + " (" +
                                  ::lowprec::detail::shortest_decimal(sc) +
                                  ") is not an fp16 value (nearest fp16: " +
                                  ::lowprec::detail::shortest_decimal(
                                      static_cast<float>(fp16(sc))) +
                                  "); quantize with ggml::quantize_* for ggml's own fp16 scales");
    }
  }
}

}  // namespace detail

inline quantized_tensor import_q8_0(const block_q8_0* blocks, std::size_t count,
                                    const std::vector<std::size_t>& shape) {
  detail::check_import<block_q8_0>("lowprec::quant::ggml::import_q8_0", shape, count);
  const std::size_t n = element_count(shape, "lowprec::quant::ggml::import_q8_0");
  const std::size_t len = shape.back(), per_row = blocks_for(len);
  std::vector<std::uint8_t> codes(n);
  std::vector<float> scales(count);
  for (std::size_t b = 0; b < count; ++b) scales[b] = static_cast<float>(blocks[b].d);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = i / len, k = i % len;
    codes[i] = static_cast<std::uint8_t>(blocks[r * per_row + k / 32].qs[k % 32]);
  }
  return quantized_tensor(absmax(code_format::int8, per_block(32)), shape, std::move(codes),
                          std::move(scales));
}

inline quantized_tensor import_q4_0(const block_q4_0* blocks, std::size_t count,
                                    const std::vector<std::size_t>& shape) {
  detail::check_import<block_q4_0>("lowprec::quant::ggml::import_q4_0", shape, count);
  const std::size_t n = element_count(shape, "lowprec::quant::ggml::import_q4_0");
  const std::size_t len = shape.back(), per_row = blocks_for(len);
  std::vector<std::uint8_t> codes(packed_size(n), 0);
  std::vector<float> scales(count);
  for (std::size_t b = 0; b < count; ++b) scales[b] = static_cast<float>(blocks[b].d);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = i / len, k = i % len, j = k % 32;
    const block_q4_0& blk = blocks[r * per_row + k / 32];
    const int q = j < 16 ? (blk.qs[j] & 0x0F) : (blk.qs[j - 16] >> 4);
    const auto nib = static_cast<std::uint8_t>((q - 8) & 0x0F);  // int4 two's complement
    codes[i / 2] = static_cast<std::uint8_t>(codes[i / 2] | (nib << (i % 2 == 0 ? 0 : 4)));
  }
  return quantized_tensor(absmax(code_format::int4, per_block(32)), shape, std::move(codes),
                          std::move(scales));
}

inline std::vector<block_q8_0> export_q8_0(const quantized_tensor& q) {
  detail::check_export("lowprec::quant::ggml::export_q8_0", q, code_format::int8);
  const std::size_t len = q.shape().back(), per_row = blocks_for(len);
  std::vector<block_q8_0> out(detail::rows_of(q.shape(), q.size()) * per_row);
  for (std::size_t b = 0; b < out.size(); ++b) {
    out[b].d = fp16(q.scales()[b]);
    for (auto& c : out[b].qs) c = 0;  // padding
  }
  for (std::size_t i = 0; i < q.size(); ++i) {
    const std::size_t r = i / len, k = i % len;
    out[r * per_row + k / 32].qs[k % 32] = q.code<std::int8_t>(i);
  }
  return out;
}

inline std::vector<block_q4_0> export_q4_0(const quantized_tensor& q) {
  detail::check_export("lowprec::quant::ggml::export_q4_0", q, code_format::int4);
  const std::size_t len = q.shape().back(), per_row = blocks_for(len);
  std::vector<block_q4_0> out(detail::rows_of(q.shape(), q.size()) * per_row);
  for (std::size_t b = 0; b < out.size(); ++b) {
    out[b].d = fp16(q.scales()[b]);
    for (auto& c : out[b].qs) c = 0x88;  // padding: code 8 is the value 0
  }
  for (std::size_t i = 0; i < q.size(); ++i) {
    const std::size_t r = i / len, k = i % len, j = k % 32;
    const auto nib = static_cast<std::uint8_t>(static_cast<int>(q.code<int4>(i)) + 8);
    std::uint8_t& byte = out[r * per_row + k / 32].qs[j % 16];
    byte = j < 16 ? static_cast<std::uint8_t>((byte & 0xF0) | nib)
                  : static_cast<std::uint8_t>((byte & 0x0F) | (nib << 4));
  }
  return out;
}

}  // namespace lowprec::quant::ggml
