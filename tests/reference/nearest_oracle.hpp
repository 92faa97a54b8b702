// A round-to-nearest-even oracle by value, sharing no code with include/lowprec: the
// sorted table of a format's non-negative finite values, and a cursor that walks it.
// For an input x in [v[i], v[i+1]] the answer is the nearer of the two, the even code
// on a tie; past the largest finite the next "value" is where overflow starts.
// Fed inputs in increasing order it costs O(1) per input, which is what makes the
// sweep over all 2^32 floats cheap.
#pragma once

#include <cstdint>
#include <vector>

#include "reference/decode_oracle.hpp"

namespace lowprec_test {

class nearest_walker {
 public:
  explicit nearest_walker(format_desc f) : f_(f) {
    const std::uint32_t count = 1u << (f.exponent_bits + f.mantissa_bits);
    for (std::uint32_t c = 0; c < count; ++c) {
      const double v = oracle_decode(f, c);
      if (v != v || v == 1.0 / 0.0) break;  // codes grow with value up to inf/NaN
      values_.push_back(v);
    }
    values_.push_back(oracle_beyond_max(f));  // index size-1 stands for "overflow"
  }

  // Code (sign bit clear) of the nearest value to x >= 0; returns overflow_code() when
  // x rounds past the largest finite. Inputs must come in non-decreasing order.
  std::uint32_t next(double x) {
    while (i_ + 1 < values_.size() && x >= values_[i_ + 1]) ++i_;
    if (i_ + 1 == values_.size()) return overflow_code();  // x >= beyond-max
    const double lo = values_[i_], hi = values_[i_ + 1];
    const double mid = lo + (hi - lo) / 2;  // exact in double for these formats
    std::uint32_t code = static_cast<std::uint32_t>(i_);
    if (x > mid || (x == mid && (code & 1u) != 0)) ++code;
    return code + 1 == values_.size() ? overflow_code() : code;
  }
  void reset() { i_ = 0; }

  std::uint32_t overflow_code() const {
    const std::uint32_t e_all = ((1u << f_.exponent_bits) - 1) << f_.mantissa_bits;
    return f_.has_infinity ? e_all : e_all | ((1u << f_.mantissa_bits) - 1);  // inf or NaN
  }
  const std::vector<double>& values() const { return values_; }

 private:
  format_desc f_;
  std::vector<double> values_;
  std::size_t i_ = 0;
};

}  // namespace lowprec_test
