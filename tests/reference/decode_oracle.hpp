// An independent decoder for sign/exponent/mantissa formats, written from the format
// definition with std::ldexp and sharing no code with include/lowprec. Tests hold the
// library's bit-level decoder to it for every code.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace lowprec_test {

// A format described only by its parameters (not lowprec's traits).
struct format_desc {
  int exponent_bits;
  int mantissa_bits;
  bool has_infinity;  // false: "fn" style, only all-ones is NaN
};

inline bool oracle_is_nan(format_desc f, std::uint32_t code) {
  const std::uint32_t mag = code & ((1u << (f.exponent_bits + f.mantissa_bits)) - 1);
  const std::uint32_t e = mag >> f.mantissa_bits;
  const std::uint32_t m = mag & ((1u << f.mantissa_bits) - 1);
  const std::uint32_t e_max = (1u << f.exponent_bits) - 1;
  if (f.has_infinity) return e == e_max && m != 0;
  return e == e_max && m == (1u << f.mantissa_bits) - 1;
}

// The value of `code`: (-1)^s * 2^(e - bias) * (1 + m / 2^M) for normals,
// (-1)^s * 2^(1 - bias) * (m / 2^M) for subnormals. NaN gives a NaN of the same sign.
inline double oracle_decode(format_desc f, std::uint32_t code) {
  const int total = 1 + f.exponent_bits + f.mantissa_bits;
  const bool negative = ((code >> (total - 1)) & 1u) != 0;
  const int e = static_cast<int>((code >> f.mantissa_bits) & ((1u << f.exponent_bits) - 1));
  const double m = static_cast<double>(code & ((1u << f.mantissa_bits) - 1));
  const int bias = (1 << (f.exponent_bits - 1)) - 1;
  const int e_max = (1 << f.exponent_bits) - 1;
  double v = 0;
  if (oracle_is_nan(f, code)) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (f.has_infinity && e == e_max) {
    v = std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(m, 1 - bias - f.mantissa_bits);
  } else {
    v = std::ldexp(1.0 + std::ldexp(m, -f.mantissa_bits), e - bias);
  }
  return negative ? -std::fabs(v) : std::fabs(v);
}

// The value the code after the largest finite would have if the exponent range went on:
// where overflow begins for round-to-nearest (the midpoint between it and max).
inline double oracle_beyond_max(format_desc f) {
  const int bias = (1 << (f.exponent_bits - 1)) - 1;
  if (f.has_infinity) return std::ldexp(1.0, (1 << f.exponent_bits) - 1 - bias);
  // fn: the NaN code S.1111.111 read as a number
  return std::ldexp(2.0 - std::ldexp(1.0, -f.mantissa_bits), (1 << f.exponent_bits) - 1 - bias);
}

inline constexpr format_desc fp16_desc{5, 10, true};
inline constexpr format_desc bf16_desc{8, 7, true};
inline constexpr format_desc e4m3fn_desc{4, 3, false};
inline constexpr format_desc e5m2_desc{5, 2, true};

}  // namespace lowprec_test
