// Codebook quantization: a code is an index into a sorted table of floats, applied to
// x / absmax of its block (bitsandbytes quantize_blockwise with a `code` table).
//
//   table        2..256 finite floats, strictly ascending (checked; the error names the
//                entry); tables of <= 16 entries give 4-bit codes, two per byte in
//                packed.hpp's native order (element 2k in the low nibble); larger, a byte
//   thresholds   threshold[k] = the float nearest the exact midpoint of entries k and k+1
//                (a midpoint halfway between two floats: the side bitsandbytes' printed
//                constant lies on; nf4.hpp, detail::bnb_threshold)
//   encode       code(t) = #{k : t > threshold[k]}: nearest entry, a tie (t equal to a
//                threshold) on the lower entry; for NF4 this is lowprec::nf4::encode
//   decode       table[code] * absmax; a code past the table (corrupt data) gives NaN
//   NaN t        the code of the entry of smallest magnitude (0 when the table has it)
//   blocks       block = power of two in [32, 4096] (bitsandbytes' sizes); block b covers
//                [b * block, min(n, (b + 1) * block)), so the last block may be short
//   absmax[b]    largest finite |x| of the block (bitsandbytes keeps it as the scale:
//                value = table[code] * absmax); 0 when there is none
//   t            x * (1 / absmax[b]) in float, as bitsandbytes' kernel; an absmax of 0
//                (all-zero block) gives t = 0 * x, so finite elements encode as the
//                smallest-magnitude entry and decode to exactly 0 (bitsandbytes: NaN t)
// Tables shipped: nf4 (NF4, 16), fp4_bnb (bitsandbytes FP4 sorted: 15 distinct values,
// its -0 dropped; bitsandbytes numbers FP4 codes by bit pattern, not by value),
// dynamic_signed8 (the 8-bit dynamic map of quant/dynamic_map.hpp, 256).
// Standard library only: this file is the scalar definition; codebook_blocks.hpp runs it
// with SIMD kernels for 16-entry tables.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/detail/format.hpp"
#include "lowprec/packed.hpp"
#include "lowprec/quant/dynamic_map.hpp"
#include "lowprec/quant/nf4.hpp"

namespace lowprec::quant {

class codebook {
 public:
  static constexpr std::size_t max_entries = 256;

  // Throws std::invalid_argument naming the entry when the table is too short or long,
  // not finite, or not strictly ascending.
  explicit codebook(std::vector<float> ascending, std::string name = "user")
      : name_(std::move(name)), values_(std::move(ascending)) {
    const char* who = "lowprec::quant::codebook";
    if (values_.size() < 2 || values_.size() > max_entries) {
      throw std::invalid_argument(std::string(who) + ": table has " +
                                  std::to_string(values_.size()) +
                                  " entries; a codebook needs 2.." +
                                  std::to_string(max_entries));
    }
    for (std::size_t k = 0; k < values_.size(); ++k) {
      if (!std::isfinite(values_[k])) {
        throw std::invalid_argument(std::string(who) + ": table[" + std::to_string(k) +
                                    "] is " + ::lowprec::detail::shortest_decimal(values_[k]) +
                                    "; entries must be finite");
      }
      if (k > 0 && !(values_[k - 1] < values_[k])) {
        throw std::invalid_argument(std::string(who) + ": table[" + std::to_string(k) +
                                    "] = " + ::lowprec::detail::shortest_decimal(values_[k]) +
                                    " is not greater than table[" + std::to_string(k - 1) +
                                    "] = " + ::lowprec::detail::shortest_decimal(values_[k - 1]) +
                                    "; entries must be strictly ascending");
      }
    }
    thresholds_.resize(values_.size() - 1);
    std::size_t smallest = 0;
    for (std::size_t k = 0; k + 1 < values_.size(); ++k) {
      thresholds_[k] = ::lowprec::detail::bnb_threshold(values_[k], values_[k + 1]);
      if (std::fabs(values_[k + 1]) < std::fabs(values_[smallest])) smallest = k + 1;
    }
    nan_code_ = static_cast<std::uint8_t>(smallest);
    padded_ = values_;
    padded_.resize(bits() == 4 ? 16 : 256, std::numeric_limits<float>::quiet_NaN());
  }

  const std::string& name() const noexcept { return name_; }
  std::size_t size() const noexcept { return values_.size(); }
  int bits() const noexcept { return values_.size() <= 16 ? 4 : 8; }
  const std::vector<float>& values() const noexcept { return values_; }
  const std::vector<float>& thresholds() const noexcept { return thresholds_; }
  // The value of any code the storage can hold: codes past the table (a 15-entry table's
  // code 15, corrupt data) decode to NaN.
  float value(std::uint8_t code) const noexcept { return padded_[code]; }
  // 16 (4-bit) or 256 entries: the table padded with NaN.
  const std::vector<float>& padded_values() const noexcept { return padded_; }
  std::uint8_t nan_code() const noexcept { return nan_code_; }

  // The scalar definition of the code of t (see the top of this file).
  std::uint8_t encode(float t) const noexcept {
    if (t != t) return nan_code_;
    // First threshold >= t: the number of thresholds strictly below t.
    const auto it = std::lower_bound(thresholds_.begin(), thresholds_.end(), t);
    return static_cast<std::uint8_t>(it - thresholds_.begin());
  }

  // Bytes that hold n codes.
  std::size_t code_bytes(std::size_t n) const noexcept { return bits() == 4 ? packed_size(n) : n; }

 private:
  std::string name_;
  std::vector<float> values_;
  std::vector<float> thresholds_;
  std::vector<float> padded_;
  std::uint8_t nan_code_ = 0;
};

// The shipped tables, built once per process.
inline const codebook& nf4_codebook() {
  static const codebook c(std::vector<float>(nf4::values.begin(), nf4::values.end()), "nf4");
  return c;
}
// bitsandbytes get_4bit_type("fp4"): {0, 0.0625, 8, 12, 4, 6, 2, 3} and negatives, divided
// by 12; sorted, the duplicate zero dropped. Each entry is k / 12 rounded once to float, as
// torch's float32 division gives.
inline const codebook& fp4_bnb_codebook() {
  static const codebook c(
      [] {
        const float raw[] = {-12.0f, -8.0f, -6.0f, -4.0f, -3.0f, -2.0f, -0.0625f, 0.0f,
                             0.0625f, 2.0f,  3.0f,  4.0f,  6.0f,  8.0f,  12.0f};
        std::vector<float> v;
        for (const float r : raw) v.push_back(r / 12.0f);
        return v;
      }(),
      "fp4_bnb");
  return c;
}
inline const codebook& dynamic_signed8_codebook() {
  static const codebook c(
      std::vector<float>(dynamic_signed8().values().begin(), dynamic_signed8().values().end()),
      "dynamic_signed8");
  return c;
}

namespace detail {

// Block sizes bitsandbytes accepts: powers of two from 32 to 4096.
inline void check_codebook_block(const char* who, std::size_t block) {
  if (block < 32 || block > 4096 || (block & (block - 1)) != 0) {
    throw std::invalid_argument(std::string(who) + ": block is " + std::to_string(block) +
                                "; it must be a power of two in [32, 4096]");
  }
}

// 1 / absmax in float, 0 for an absmax of 0.
inline float codebook_inverse(float absmax) noexcept {
  return absmax == 0.0f ? 0.0f : 1.0f / absmax;
}

// The element encode of a block: t = x * inv, then the table's code. inv = 0 (a zero
// block) maps finite x to the smallest-magnitude entry and +-Inf (NaN t) likewise.
inline std::uint8_t codebook_code(const codebook& cb, float x, float inv) noexcept {
  return cb.encode(x * inv);
}

// The scalar definition of blockwise codebook quantization (see the top of the file).
inline void quantize_codebook_blocks_scalar(const float* x, std::size_t n, std::size_t block,
                                            const codebook& cb, std::uint8_t* codes,
                                            float* absmax) noexcept {
  const bool four = cb.bits() == 4;
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = n - start < block ? n : start + block;
    float m = 0.0f;
    for (std::size_t j = start; j < end; ++j) {
      const float a = std::fabs(x[j]);
      if (a <= FLT_MAX && a > m) m = a;
    }
    absmax[b] = m;
    const float inv = codebook_inverse(m);
    for (std::size_t j = start; j < end; ++j) {
      const std::uint8_t c = codebook_code(cb, x[j], inv);
      if (!four) {
        codes[j] = c;
      } else if (j % 2 == 0) {
        codes[j / 2] = c;
      } else {
        codes[j / 2] = static_cast<std::uint8_t>(codes[j / 2] | (c << 4));
      }
    }
  }
}

inline void dequantize_codebook_blocks_scalar(const std::uint8_t* codes, const float* absmax,
                                              std::size_t n, std::size_t block,
                                              const codebook& cb, float* out) noexcept {
  const bool four = cb.bits() == 4;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint8_t c =
        four ? static_cast<std::uint8_t>((codes[j / 2] >> (j % 2 == 0 ? 0 : 4)) & 0x0F) : codes[j];
    out[j] = cb.value(c) * absmax[j / block];
  }
}

}  // namespace detail

}  // namespace lowprec::quant
