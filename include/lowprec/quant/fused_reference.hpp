// The scalar definition of the fused dequantize-and-multiply products (quant/fused.hpp),
// which the Highway kernels (simd/quant_lowbit-inl.hpp) reproduce bit for bit.
//
// W is rows x cols, row-major, in blocks of `block` consecutive elements of a row (block a
// power of two >= 32 dividing cols). v(i, k) is the code's value without its scale: the
// int8 code as a float, or table16[code] for 4-bit codes (int4: its integer; NF4 and other
// codebooks: the table). s(g) is the scale of block g = i * (cols / block) + b: scales[g],
// or the double-quantized map[dq_codes[g]] * dq_absmax2[g / 256] + dq_offset.
//
// Order of accumulation (every target, and this reference):
//   q(b, r) = (((0 + v x) + v x) + ...)     over k = b*block + r, + 32, ... in the block
//   p[r]    = (((0 + s(0) q(0, r)) + s(1) q(1, r)) + ...)      r = 0..31, blocks in order
//   y[i]    = tree(p): p[j] += p[j + s] for s = 16, 8, 4, 2, 1; y = p[0]
// Every product and sum is rounded to float (no fused multiply-add; this header and the
// kernels are compiled without contraction). The scale multiplies a block's partial sum,
// not each weight, so y differs in rounding (not in meaning) from a product with the
// dequantized matrix.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace lowprec::quant::detail {

inline constexpr std::size_t kFusedPartials = 32;
inline constexpr float kZeroTable16[16] = {};

// What a fused kernel reads (validated by quant/fused.hpp before any call).
struct fused_args {
  const std::uint8_t* codes = nullptr;  // 8-bit: rows*cols bytes; 4-bit: rows*cols/2, element
                                        // 2k in the low nibble of byte k
  std::size_t rows = 0, cols = 0, block = 0;
  bool four_bit = false;
  const float* table16 = nullptr;  // 4-bit: the value of each code
  const float* scales = nullptr;   // plain scales, or null for double-quantized ones:
  const std::uint8_t* dq_codes = nullptr;
  const float* dq_table = nullptr;  // 256 entries
  const float* dq_absmax2 = nullptr;
  float dq_offset = 0.0f;
};

inline float fused_block_scale(const fused_args& a, std::size_t g) noexcept {
  if (a.scales != nullptr) return a.scales[g];
  const float v = a.dq_table[a.dq_codes[g]] * a.dq_absmax2[g / 256];
  return v + a.dq_offset;
}

inline float fused_weight_value(const fused_args& a, std::size_t i, std::size_t k) noexcept {
  const std::size_t e = i * a.cols + k;
  if (a.four_bit) return a.table16[(a.codes[e / 2] >> ((e % 2) * 4)) & 0x0F];
  return static_cast<float>(static_cast<std::int8_t>(a.codes[e]));
}

// The tree of the 32 partial sums.
inline float fused_tree(float* p) noexcept {
  for (std::size_t s = kFusedPartials / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

inline float fused_row_reference(const fused_args& a, std::size_t i, const float* x) noexcept {
  float p[kFusedPartials] = {};
  const std::size_t nb = a.cols / a.block;
  for (std::size_t b = 0; b < nb; ++b) {
    const float s = fused_block_scale(a, i * nb + b);
    for (std::size_t r = 0; r < kFusedPartials; ++r) {
      float q = 0.0f;
      for (std::size_t k = b * a.block + r; k < (b + 1) * a.block; k += kFusedPartials) {
        const float prod = fused_weight_value(a, i, k) * x[k];
        q = q + prod;
      }
      const float sq = s * q;
      p[r] = p[r] + sq;
    }
  }
  return fused_tree(p);
}

// y[c * rows + i] = row i of W times x[c * cols ...], for m inputs.
inline void fused_matmat_reference(const fused_args& a, const float* x, std::size_t m,
                                   float* y) noexcept {
  for (std::size_t c = 0; c < m; ++c) {
    for (std::size_t i = 0; i < a.rows; ++i) {
      y[c * a.rows + i] = fused_row_reference(a, i, x + c * a.cols);
    }
  }
}

}  // namespace lowprec::quant::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
