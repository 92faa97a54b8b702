// The one rounding step every lowprec format shares: divide an integer significand by
// a power of two and round the quotient under a policy.
//
//   sig = | kept n (high bits) | dropped d (low `shift` bits) |      half h = 1 << (shift-1)
//
//   policy            rounds n up when                       example, shift = 2, n even
//   nearest_even      d > h, or d == h and n is odd          d=01 down, 10 down, 11 up
//   toward_zero       never                                   d=11 down
//   toward_positive   d != 0 and the value is positive        d=01 up (positive)
//   toward_negative   d != 0 and the value is negative        d=01 up (negative)
//   stochastic        f + r >= 2^32, where f = d / 2^shift    P(up) = d / 2^shift
//                     as a 32-bit fixed-point fraction and     exactly when shift <= 32
//                     r = the caller's 32 random bits
//
// For stochastic rounding the top `shift` bits of r decide (all 32 when shift > 32),
// so rounding float -> bf16 (shift 16) adds r >> 16 to the dropped half-word and keeps
// the carry: the rule of torchao and llm.c, written once for every format.
#pragma once

#include <cstdint>

#include "lowprec/policy.hpp"

namespace lowprec::detail {

// Returns n + (1 if rounded up). `shift` may be any non-negative value; a shift of 64
// or more drops every bit of sig.
constexpr std::uint64_t round_shift_right(std::uint64_t sig, int shift, bool negative,
                                          rounding mode, std::uint32_t random_bits) noexcept {
  if (shift <= 0) return sig;
  const std::uint64_t kept = shift >= 64 ? 0 : sig >> shift;
  const std::uint64_t dropped = shift >= 64 ? sig : sig & ((std::uint64_t{1} << shift) - 1);
  if (dropped == 0) return kept;
  bool up = false;
  switch (mode) {
    case rounding::nearest_even:
      if (shift > 64) {
        up = false;  // sig < 2^64 <= half: strictly below the midpoint
      } else {
        const std::uint64_t half = std::uint64_t{1} << (shift - 1);
        up = dropped > half || (dropped == half && (kept & 1) != 0);
      }
      break;
    case rounding::toward_zero: up = false; break;
    case rounding::toward_positive: up = !negative; break;
    case rounding::toward_negative: up = negative; break;
    case rounding::stochastic: {
      // f = dropped / 2^shift in 32-bit fixed point (truncated when shift > 32).
      std::uint64_t f = 0;
      if (shift <= 32) {
        f = dropped << (32 - shift);
      } else if (shift - 32 < 64) {
        f = dropped >> (shift - 32);
      }
      up = ((f + random_bits) >> 32) != 0;
      break;
    }
  }
  return kept + (up ? 1 : 0);
}

// True when rounding a too-large magnitude under `mode` moves away from zero, i.e.
// toward infinity: the cases in which IEEE overflow produces an infinity.
constexpr bool rounds_away_from_zero(rounding mode, bool negative) noexcept {
  switch (mode) {
    case rounding::nearest_even:
    case rounding::stochastic: return true;
    case rounding::toward_zero: return false;
    case rounding::toward_positive: return !negative;
    case rounding::toward_negative: return negative;
  }
  return true;
}

}  // namespace lowprec::detail
