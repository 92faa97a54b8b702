// Fused dequantize-and-multiply: y = W x and Y = W X for a weight matrix kept in int8, int4
// or a 4-bit codebook (NF4, FP4, ...) with blockwise scales, optionally double-quantized.
// The fp32 weights are never built: each code's value is decoded in registers and
// multiplied into float accumulators, a block's scale is applied to the block's partial
// sums. Highway kernels (simd/quant_lowbit-inl.hpp) chosen at run time, bit-identical on
// every target to detail::fused_matmat_reference (order of accumulation documented in
// quant/fused_reference.hpp).
//
//   format    codes                              scale of a block        value
//   int8      1 byte, -127..127                  absmax / 127            q * scale
//   int4      4 bits, -7..7, low nibble first    absmax / 7              q * scale
//   nf4 / cb  4 bits, table index, low first     absmax                  table[q] * scale
// Blocks: `block` consecutive elements of a row, a power of two in [32, 4096] that divides
// cols (so no block spans two rows). Quantization rules: quant/absmax.hpp (int8, int4) and
// quant/codebook.hpp (tables), including NaN/Inf weights (finite codes; Inf saturates).
// NaN or Inf in x propagate to y as IEEE arithmetic does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lowprec/detail/simd.hpp"
#include "lowprec/quant/absmax.hpp"
#include "lowprec/quant/codebook.hpp"
#include "lowprec/quant/codebook_blocks.hpp"
#include "lowprec/quant/double_quant.hpp"
#include "lowprec/quant/fused_reference.hpp"

namespace lowprec::quant {

namespace detail {
LOWPREC_SIMD_EXPORT(QuantFusedMatMat);
}  // namespace detail

enum class weight_format : std::uint8_t { int8, int4, nf4, codebook4 };

constexpr const char* to_string(weight_format f) noexcept {
  switch (f) {
    case weight_format::int8: return "int8";
    case weight_format::int4: return "int4";
    case weight_format::nf4: return "nf4";
    case weight_format::codebook4: return "codebook4";
  }
  return "unknown";
}

class blockwise_matrix {
 public:
  // Quantizes the row-major rows x cols matrix w. Throws std::invalid_argument (before
  // anything is allocated) for a block that is not a power of two in [32, 4096] or does not
  // divide cols, or a codebook of more than 16 entries.
  static blockwise_matrix quantize(const float* w, std::size_t rows, std::size_t cols,
                                   weight_format f, std::size_t block = 64,
                                   bool double_quantize_scales = false) {
    if (f == weight_format::codebook4) {
      throw std::invalid_argument("lowprec::quant::blockwise_matrix::quantize: format codebook4 "
                                  "needs the codebook: use the overload that takes one");
    }
    return quantize_impl(w, rows, cols, f, f == weight_format::nf4 ? &nf4_codebook() : nullptr,
                         block, double_quantize_scales);
  }
  // A 4-bit codebook (<= 16 entries; the codebook must outlive the matrix).
  static blockwise_matrix quantize(const float* w, std::size_t rows, std::size_t cols,
                                   const codebook& cb, std::size_t block = 64,
                                   bool double_quantize_scales = false) {
    if (cb.bits() != 4) {
      throw std::invalid_argument("lowprec::quant::blockwise_matrix::quantize: codebook '" +
                                  cb.name() + "' has " + std::to_string(cb.size()) +
                                  " entries; fused products take at most 16 (4-bit codes)");
    }
    return quantize_impl(w, rows, cols, &cb == &nf4_codebook() ? weight_format::nf4
                                                                : weight_format::codebook4,
                         &cb, block, double_quantize_scales);
  }

  weight_format format() const noexcept { return format_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t block() const noexcept { return block_; }
  bool double_quantized() const noexcept { return dq_.has_value(); }
  const std::vector<std::uint8_t>& codes() const noexcept { return codes_; }
  // Plain scales (empty when double-quantized).
  const std::vector<float>& scales() const noexcept { return scales_; }
  const std::optional<double_quant_scales>& double_quant() const noexcept { return dq_; }
  // The scale of block g (row i, block b: g = i * cols / block + b), as the kernels use it.
  float scale(std::size_t g) const noexcept { return dq_ ? dq_->scale(g) : scales_[g]; }

  std::size_t bytes() const noexcept {
    return codes_.size() + (dq_ ? dq_->bytes() : scales_.size() * sizeof(float));
  }
  double bits_per_parameter() const noexcept {
    const std::size_t n = rows_ * cols_;
    return n == 0 ? 0.0 : 8.0 * static_cast<double>(bytes()) / static_cast<double>(n);
  }

  // The weights as floats, row-major (what the products are compared against).
  std::vector<float> dequantize() const {
    std::vector<float> out(rows_ * cols_);
    const detail::fused_args a = args();
    for (std::size_t i = 0; i < rows_; ++i) {
      for (std::size_t k = 0; k < cols_; ++k) {
        out[i * cols_ + k] = detail::fused_weight_value(a, i, k) *
                             detail::fused_block_scale(a, (i * cols_ + k) / block_);
      }
    }
    return out;
  }

  // y[0, rows) = W x[0, cols). Throws std::invalid_argument naming the sizes when x_size !=
  // cols or y_size != rows (checked before anything is written).
  void matvec(const float* x, std::size_t x_size, float* y, std::size_t y_size) const {
    check_sizes("matvec", x_size, cols_, y_size, rows_, 1);
    run(x, 1, y);
  }
  std::vector<float> matvec(const std::vector<float>& x) const {
    std::vector<float> y(rows_);
    matvec(x.data(), x.size(), y.data(), y.size());
    return y;
  }
  // A batch of m inputs: x is m x cols row-major (input c at x + c * cols), y is m x rows
  // (output c at y + c * rows). Column c equals matvec of input c, bit for bit.
  void matmat(const float* x, std::size_t m, std::size_t x_size, float* y,
              std::size_t y_size) const {
    check_sizes("matmat", x_size, m * cols_, y_size, m * rows_, m);
    run(x, m, y);
  }

  // The kernel arguments (for the scalar reference in tests).
  detail::fused_args args() const noexcept {
    detail::fused_args a;
    a.codes = codes_.data();
    a.rows = rows_;
    a.cols = cols_;
    a.block = block_;
    a.four_bit = format_ != weight_format::int8;
    a.table16 = table16_.data();
    if (dq_) {
      a.scales = nullptr;
      a.dq_codes = dq_->codes.data();
      a.dq_table = dynamic_signed8_codebook().padded_values().data();
      a.dq_absmax2 = dq_->absmax2.data();
      a.dq_offset = dq_->offset;
    } else {
      a.scales = scales_.data();
    }
    return a;
  }

 private:
  static void check_block(std::size_t block, std::size_t cols) {
    detail::check_codebook_block("lowprec::quant::blockwise_matrix::quantize", block);
    if (cols % block != 0) {
      throw std::invalid_argument("lowprec::quant::blockwise_matrix::quantize: block " +
                                  std::to_string(block) + " does not divide cols " +
                                  std::to_string(cols) + "; a block must lie within one row");
    }
  }

  static blockwise_matrix quantize_impl(const float* w, std::size_t rows, std::size_t cols,
                                        weight_format f, const codebook* cb, std::size_t block,
                                        bool dq) {
    check_block(block, cols);
    blockwise_matrix m;
    m.format_ = f;
    m.rows_ = rows;
    m.cols_ = cols;
    m.block_ = block;
    const std::size_t n = rows * cols;
    const std::size_t nb = n / block;
    m.scales_.resize(nb);
    if (f == weight_format::int8) {
      m.codes_.resize(n);
      quantize_absmax_blocks(w, n, block, code_format::int8, m.codes_.data(), m.scales_.data());
    } else if (f == weight_format::int4) {
      m.codes_.resize(packed_size(n));
      quantize_absmax_blocks(w, n, block, code_format::int4, m.codes_.data(), m.scales_.data());
      for (int q = 0; q < 16; ++q) m.table16_[static_cast<std::size_t>(q)] = static_cast<float>(q < 8 ? q : q - 16);
    } else {
      m.codes_.resize(packed_size(n));
      quantize_codebook_blocks(w, n, block, *cb, m.codes_.data(), m.scales_.data());
      for (std::size_t q = 0; q < 16; ++q) m.table16_[q] = cb->padded_values()[q];
    }
    if (dq) {
      m.dq_ = double_quantize(m.scales_);
      m.scales_.clear();
      m.scales_.shrink_to_fit();
    }
    return m;
  }

  void check_sizes(const char* op, std::size_t x_size, std::size_t x_want, std::size_t y_size,
                   std::size_t y_want, std::size_t m) const {
    const std::string who = std::string("lowprec::quant::blockwise_matrix::") + op + ": ";
    const std::string shape = "the matrix is " + std::to_string(rows_) + " x " +
                              std::to_string(cols_) + (m != 1 ? " and m is " + std::to_string(m) : "");
    if (x_size != x_want) {
      throw std::invalid_argument(who + "x has " + std::to_string(x_size) + " elements; " +
                                  shape + ", so x needs " + std::to_string(x_want));
    }
    if (y_size != y_want) {
      throw std::invalid_argument(who + "y has " + std::to_string(y_size) + " elements; " +
                                  shape + ", so y needs " + std::to_string(y_want));
    }
  }

  void run(const float* x, std::size_t m, float* y) const {
    if (rows_ == 0 || m == 0) return;
    if (cols_ == 0) {
      for (std::size_t i = 0; i < rows_ * m; ++i) y[i] = 0.0f;
      return;
    }
    const detail::fused_args a = args();
    using namespace detail;  // the dispatch tables
    LOWPREC_SIMD_CALL(QuantFusedMatMat)(a, x, m, y);
  }

  weight_format format_ = weight_format::int8;
  std::size_t rows_ = 0, cols_ = 0, block_ = 64;
  std::vector<std::uint8_t> codes_;
  std::vector<float> scales_;
  std::optional<double_quant_scales> dq_;
  std::array<float, 16> table16_{};
};

}  // namespace lowprec::quant
