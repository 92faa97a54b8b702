// lowprec::round_to_int8, the scalar definition of float -> int8 that lowprec::convert
// applies to every element (documented with it in convert.hpp and docs/convert.md).
// Here rather than in convert.hpp because the SIMD kernel file needs it too.
#pragma once

#include <cstdint>

#include "lowprec/detail/bits.hpp"
#include "lowprec/detail/rounding.hpp"
#include "lowprec/policy.hpp"

namespace lowprec {

// x rounded to an integer under `mode` (one rounding of the exact value with the shared
// rule of detail/rounding.hpp, so `stochastic` reads random_bits as every format does),
// then saturated to [-128, 127]; infinities saturate; NaN gives 0.
constexpr std::int8_t round_to_int8(float x, rounding mode = rounding::nearest_even,
                                    std::uint32_t random_bits = 0) noexcept {
  const std::uint32_t bits = detail::bit_cast<std::uint32_t>(x);
  const bool negative = (bits >> 31) != 0;
  const std::uint32_t a = bits & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return 0;  // NaN
  std::uint64_t n = 128;          // |x| >= 128 saturates whatever the rounding
  if (a < 0x43000000u) {
    const int e = static_cast<int>(a >> 23);
    const std::uint64_t sig = e != 0 ? (a & 0x7FFFFFu) | 0x800000u : a;
    n = detail::round_shift_right(sig, 150 - (e != 0 ? e : 1), negative, mode, random_bits);
  }
  return negative ? static_cast<std::int8_t>(-static_cast<int>(n))
                  : static_cast<std::int8_t>(n > 127 ? 127 : n);
}

}  // namespace lowprec
