// Rounding and overflow policies shared by every lowprec format and conversion.
#pragma once

namespace lowprec {

// How a value that falls between two representable neighbours is rounded.
enum class rounding {
  nearest_even,     // to the nearer neighbour; a tie goes to the even code (IEEE default)
  toward_zero,      // truncate the magnitude
  toward_positive,  // ceiling
  toward_negative,  // floor
  stochastic,       // away from zero with probability (distance to the neighbour toward
                    // zero) / (gap between the neighbours), decided by 32 caller bits;
                    // beyond the largest finite the far neighbour is the value the next
                    // code would have with an unbounded exponent (65536 for fp16, 480 for
                    // e4m3fn), and reaching it is an overflow
};

// What happens to a finite value beyond the largest finite number of the format.
enum class overflow {
  ieee,      // IEEE 754: rounding away from zero gives infinity (NaN for formats with no
             // infinity, such as fp8_e4m3fn); rounding toward zero gives the largest finite.
             // Infinite inputs stay infinite (NaN where there is no infinity).
  saturate,  // clamp to +-largest finite; infinite inputs too. The result is finite unless
             // the input was NaN.
};

// Human-readable names, for messages and the command-line tool.
constexpr const char* to_string(rounding r) noexcept {
  switch (r) {
    case rounding::nearest_even: return "nearest_even";
    case rounding::toward_zero: return "toward_zero";
    case rounding::toward_positive: return "toward_positive";
    case rounding::toward_negative: return "toward_negative";
    case rounding::stochastic: return "stochastic";
  }
  return "unknown";
}
constexpr const char* to_string(overflow o) noexcept {
  switch (o) {
    case overflow::ieee: return "ieee";
    case overflow::saturate: return "saturate";
  }
  return "unknown";
}

}  // namespace lowprec
