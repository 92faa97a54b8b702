// Nonlinear code maps ("codebooks"): a code is an index into a sorted table of float
// values in [-1, 1], applied to x / absmax of its block. Defined once here, used by the
// 8- and 4-bit optimizer states (optim/) and by any codebook quantizer.
//
//   map                   codes  values (ascending)                          source
//   dynamic_signed8       256    127 negatives, 0, 128 positives (last 1.0)  bitsandbytes
//   dynamic_unsigned8     256    0, 255 positives (last 1.0)                 create_dynamic_map
//   dynamic_signed4       16     7 negatives, 0, 8 positives (last 1.0)      torchao 4-bit Adam
//   linear_unsigned4      16     k/16 for k = 1..16 (no zero)                torchao 4-bit Adam
//
// The dynamic map (bitsandbytes functional.py create_dynamic_map(signed, max_exponent_bits
// = E, total_bits = T); REFERENCE.md section 4): with s = T - 1 non-sign bits, decade
// i = 0..E-1 contributes n_i - 1 midpoints of linspace(0.1, 1, n_i), n_i = 2^(i+s-E) + 1
// (2^(i+s-E+1) + 1 unsigned), times 10^(i-E+1), and their negatives when signed; then 0
// and 1.0, sorted. Each value here is the exact formula rounded once to float:
//   value(i, k) = (2(n-1) + 9(2k+1)) / (20 (n-1) 10^(E-1-i)),   k = 0 .. n-2
// bitsandbytes evaluates it in float32 PyTorch ops (linspace, mean, scale), which with
// PyTorch 1.13 puts 90 of the 256 signed entries 1 ulp and 99 unsigned ones up to 2 ulp
// away from these (it varies with the PyTorch version); tests/optim bounds the distance.
//
// Encoding is nearest entry; a tie goes to the entry of smaller magnitude; NaN encodes as
// the entry of smallest magnitude; +-Inf and |x| > 1 as the extreme entries. It is
// defined by thresholds: code(x) = #{k : x > threshold[k]}, where threshold[k] is the
// largest float that is still nearer values[k] than values[k+1] (ties included as above).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/detail/format.hpp"

namespace lowprec::quant {

// The values of bitsandbytes' dynamic map, 2^total_bits of them, ascending.
// Throws std::invalid_argument for parameters whose construction does not give exactly
// 2^total_bits values (bitsandbytes asserts the same).
inline std::vector<float> create_dynamic_map(bool is_signed, int max_exponent_bits = 7,
                                             int total_bits = 8) {
  if (total_bits < 2 || total_bits > 8) {
    throw std::invalid_argument(
        "lowprec::quant::create_dynamic_map: total_bits must be in "
        "[2, 8], got " +
        std::to_string(total_bits));
  }
  const int s = total_bits - 1;
  if (max_exponent_bits < 1 || max_exponent_bits > s) {
    throw std::invalid_argument(
        "lowprec::quant::create_dynamic_map: max_exponent_bits must be in [1, total_bits - 1 = " +
        std::to_string(s) + "], got " + std::to_string(max_exponent_bits));
  }
  const int E = max_exponent_bits;
  std::vector<float> v;
  // n - 1 midpoints of linspace(0.1, 1, n), times 10^-e, rounded once.
  auto add_decade = [&](long n, int e) {
    double pow10 = 1.0;
    for (int j = 0; j < e; ++j) pow10 *= 10.0;  // exact up to 10^22
    const double den = 20.0 * static_cast<double>(n - 1) * pow10;
    for (long k = 0; k + 1 < n; ++k) {
      const double num = 2.0 * static_cast<double>(n - 1) + 9.0 * static_cast<double>(2 * k + 1);
      const auto x = static_cast<float>(num / den);
      v.push_back(x);
      if (is_signed) v.push_back(-x);
    }
  };
  for (int i = 0; i < E; ++i) {
    add_decade((1L << (i + s - E + (is_signed ? 0 : 1))) + 1, E - 1 - i);
  }
  const long additional = (1L << (s - E)) - 1;  // bitsandbytes: at the last decade's scale
  if (additional > 0) add_decade(additional + 1, 0);
  v.push_back(0.0f);
  v.push_back(1.0f);
  if (v.size() != (std::size_t{1} << total_bits)) {
    throw std::invalid_argument(
        "lowprec::quant::create_dynamic_map: signed=" + std::string(is_signed ? "true" : "false") +
        ", max_exponent_bits=" + std::to_string(E) + ", total_bits=" + std::to_string(total_bits) +
        " gives " + std::to_string(v.size()) + " values, not 2^total_bits");
  }
  std::sort(v.begin(), v.end());
  return v;
}

namespace detail {

inline std::uint32_t float_bits(float x) noexcept {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, 4);
  return u;
}

// The largest float t with t <= m (or t < m when `strict`), for a double m.
inline float float_below(double m, bool strict) noexcept {
  float t = static_cast<float>(m);
  if (static_cast<double>(t) > m || (strict && static_cast<double>(t) == m)) {
    t = std::nextafter(t, -std::numeric_limits<float>::infinity());
  }
  return t;
}

// The threshold between neighbours a < b: x > t is nearer b, x <= t nearer a, and an
// exact tie goes to the one of smaller magnitude (to a when |a| == |b|).
inline float threshold_between(float a, float b) noexcept {
  const double m = (static_cast<double>(a) + static_cast<double>(b)) * 0.5;  // exact here
  const bool tie_to_b = std::fabs(b) < std::fabs(a);
  return float_below(m, tie_to_b);
}

}  // namespace detail

// The encoder the SIMD kernels use, derived from a code_map whose negative entries mirror
// its positive ones (every map above). Table entries are indexed by the top 16 bits of
// |x| as a float (sign, 8 exponent, 7 mantissa bits: one "bucket" per bf16 value), so a
// lookup is one shift, one clamp and one gather:
//
//   a = bits(|x|)                 idx = clamp((a >> 16) - first, 0, count - 1)
//   e = entries[idx]              e = t | below << 16
//   rank = below + ((a & 0xFFFF) > t)                (rank of |x| among the magnitudes)
//   code = signed: max(zero +- rank, 0) (- for x < 0);   unsigned: x < 0 ? 0 : rank
//   NaN: the rank of the largest magnitude (its bits clamp to the last bucket; a NaN
//   moment makes its block's scale NaN, so the codes of such a block do not matter)
//
// Magnitudes are the non-negative entries, ranked from 0; t is the low 16 bits of the one
// magnitude threshold inside the bucket (0xFFFF when there is none: the compare then
// never holds). Integer order of float bits is the order of non-negative floats, so the
// compare is exact. Valid because every bucket holds at most one threshold (checked when
// the table is built) and entry 0 / entry count-1 are threshold-free sentinels, so a
// clamped index gives the right rank. Thresholds of magnitudes go to the smaller
// magnitude on a tie, which matches the value thresholds above on both signs.
struct bucket_encoder {
  std::vector<std::uint32_t> entries;
  std::uint32_t first = 0;  // bucket (a >> 16) of entries[0]
  std::uint32_t count = 0;
  std::uint32_t zero_code = 0;  // signed maps: the code of 0
  bool is_signed = false;
};

// A sorted table of Size distinct finite values and its nearest-entry encoder.
template <std::size_t Size>
class code_map {
  static_assert(Size >= 2 && Size <= 256, "a code map has 2..256 entries (codes fit a byte)");

 public:
  static constexpr std::size_t size = Size;

  explicit code_map(const std::array<float, Size>& ascending) : values_(ascending) {
    for (std::size_t k = 0; k < Size; ++k) {
      if (!std::isfinite(values_[k]) || (k > 0 && !(values_[k - 1] < values_[k]))) {
        throw std::invalid_argument(
            "lowprec::quant::code_map: values must be finite and "
            "strictly ascending; entry " +
            std::to_string(k) + " is " + ::lowprec::detail::shortest_decimal(values_[k]));
      }
    }
    std::size_t smallest = 0;
    for (std::size_t k = 0; k + 1 < Size; ++k) {
      thresholds_[k] = detail::threshold_between(values_[k], values_[k + 1]);
      if (std::fabs(values_[k + 1]) < std::fabs(values_[smallest])) smallest = k + 1;
    }
    nearest_zero_ = static_cast<std::uint8_t>(smallest);
  }

  const std::array<float, Size>& values() const noexcept { return values_; }
  float value(std::size_t code) const noexcept { return values_[code]; }
  const std::array<float, Size - 1>& thresholds() const noexcept { return thresholds_; }
  // The code of the entry of smallest magnitude (what NaN encodes to).
  std::uint8_t nearest_zero_code() const noexcept { return nearest_zero_; }

  // The scalar definition of encoding (see the top of this file).
  std::uint8_t encode(float x) const noexcept {
    if (x != x) return nearest_zero_;
    const auto it = std::lower_bound(thresholds_.begin(), thresholds_.end(), x);
    return static_cast<std::uint8_t>(it - thresholds_.begin());
  }

  // The bucket table of the SIMD encoder. Throws std::logic_error if the map is not
  // mirror-symmetric or too dense for 7-bit-mantissa buckets.
  bucket_encoder make_bucket_encoder() const {
    bucket_encoder be;
    std::vector<float> mags;  // non-negative entries
    for (const float x : values_) {
      if (x >= 0.0f) mags.push_back(x);
    }
    const std::size_t negatives = Size - mags.size();
    be.is_signed = negatives > 0;
    if (be.is_signed) {
      // Negatives must be the mirror of the positives (all but possibly the largest).
      if (mags.empty() || mags[0] != 0.0f || negatives + 1 > mags.size()) {
        throw std::logic_error("lowprec::quant::code_map: not a mirror-symmetric signed map");
      }
      for (std::size_t k = 0; k < negatives; ++k) {
        if (values_[negatives - 1 - k] != -mags[k + 1]) {
          throw std::logic_error("lowprec::quant::code_map: not a mirror-symmetric signed map");
        }
      }
      be.zero_code = static_cast<std::uint32_t>(negatives);
    }
    std::vector<std::uint32_t> t;  // magnitude thresholds as bits, ascending
    for (std::size_t k = 0; k + 1 < mags.size(); ++k) {
      t.push_back(detail::float_bits(detail::threshold_between(mags[k], mags[k + 1])));
    }
    if (t.empty() || (t.front() >> 16) == 0) {
      throw std::logic_error("lowprec::quant::code_map: no bucket table for this map");
    }
    be.first = (t.front() >> 16) - 1;                 // a threshold-free sentinel below
    const std::uint32_t last = (t.back() >> 16) + 1;  // and above
    be.count = last - be.first + 1;
    be.entries.resize(be.count);
    std::size_t below = 0;  // thresholds with bits < bucket start
    for (std::uint32_t b = 0; b < be.count; ++b) {
      const std::uint32_t start = (be.first + b) << 16;
      while (below < t.size() && t[below] < start) ++below;
      std::size_t inside = 0;
      std::uint32_t low = 0xFFFFu;
      for (std::size_t j = below; j < t.size() && t[j] <= (start | 0xFFFEu); ++j) {
        ++inside;
        low = t[j] & 0xFFFFu;
      }
      if (inside > 1) {
        throw std::logic_error("lowprec::quant::code_map: two thresholds in one bucket");
      }
      be.entries[b] = low | static_cast<std::uint32_t>(below) << 16;
    }
    return be;
  }

 private:
  std::array<float, Size> values_;
  std::array<float, Size - 1> thresholds_{};
  std::uint8_t nearest_zero_ = 0;
};

// The bucket encoder's result for one float (the scalar twin of the SIMD kernels; equal
// to code_map::encode for every float but NaN, which the tests check at every bucket edge
// and threshold).
inline std::uint8_t encode_with_buckets(const std::uint32_t* entries, std::uint32_t first,
                                        std::uint32_t count, std::uint32_t zero_code,
                                        bool is_signed, float x) noexcept {
  const std::uint32_t bits = detail::float_bits(x);
  const std::uint32_t a = bits & 0x7FFFFFFFu;
  const std::int64_t idx = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(a >> 16) - static_cast<std::int64_t>(first), 0,
      static_cast<std::int64_t>(count) - 1);
  const std::uint32_t e = entries[static_cast<std::size_t>(idx)];
  const std::uint32_t rank = (e >> 16) + ((a & 0xFFFFu) > (e & 0xFFFFu) ? 1u : 0u);
  const bool negative = (bits >> 31) != 0;
  if (!is_signed) return static_cast<std::uint8_t>(negative ? 0u : rank);
  return static_cast<std::uint8_t>(negative ? zero_code - std::min(rank, zero_code)
                                            : zero_code + rank);
}
inline std::uint8_t encode_with_buckets(const bucket_encoder& be, float x) noexcept {
  return encode_with_buckets(be.entries.data(), be.first, be.count, be.zero_code, be.is_signed, x);
}

namespace detail {

template <std::size_t Size>
std::array<float, Size> to_array(const std::vector<float>& v) {
  std::array<float, Size> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

inline std::array<float, 16> linear_unsigned4_values() noexcept {
  std::array<float, 16> a{};
  for (std::size_t k = 0; k < 16; ++k) a[k] = static_cast<float>(k + 1) / 16.0f;  // exact
  return a;
}

}  // namespace detail

// The four maps, built once per process (thread-safe static initialisation).
inline const code_map<256>& dynamic_signed8() {
  static const code_map<256> m(detail::to_array<256>(create_dynamic_map(true, 7, 8)));
  return m;
}
inline const code_map<256>& dynamic_unsigned8() {
  static const code_map<256> m(detail::to_array<256>(create_dynamic_map(false, 7, 8)));
  return m;
}
inline const code_map<16>& dynamic_signed4() {
  static const code_map<16> m(detail::to_array<16>(create_dynamic_map(true, 3, 4)));
  return m;
}
inline const code_map<16>& linear_unsigned4() {
  static const code_map<16> m(detail::linear_unsigned4_values());
  return m;
}

}  // namespace lowprec::quant
