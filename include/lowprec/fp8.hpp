// fp8: the two 8-bit formats of the OCP OFP8 specification (v1.0, 2023).
//
// fp8_e4m3fn   S EEEE MMM, bias 7; "fn" = finite + NaN: no infinities
//   range      max 448 (0x7E), min normal 2^-6 (0x08), min subnormal 2^-9 (0x01)
//   specials   NaN only at S.1111.111 (0x7F/0xFF); S.1111.000-110 are finite (256..448)
//   overflow   overflow::ieee: NaN (max when rounding toward zero) -- e4m3fn(465) is NaN,
//              as in ml_dtypes; saturate: +-448, infinities included (e4m3fn(1000) = 448)
// fp8_e5m2     S EEEEE MM, bias 15: fp16's exponent range with 2 mantissa bits
//   range      max 57344 (0x7B), min normal 2^-14 (0x04), min subnormal 2^-16 (0x01)
//   specials   +-inf 0x7C/0xFC; NaN 0x7D-0x7F (quiet 0x7E) and negatives
//   overflow   overflow::ieee: inf (e5m2(61440) = inf); saturate: +-57344
// Both: one correct rounding from float/double/int, nearest-even by default; NaN in
// gives a quiet NaN with the sign kept. Which overflow to use is the caller's choice:
// training recipes usually saturate; the default follows IEEE and ml_dtypes.
#pragma once

#include "lowprec/small_float.hpp"

namespace lowprec {

struct fp8_e4m3fn_format : float_format<4, 3, specials::fn> {
  static constexpr const char* name = "fp8_e4m3fn";
};
using fp8_e4m3fn = small_float<fp8_e4m3fn_format>;

struct fp8_e5m2_format : float_format<5, 2, specials::ieee> {
  static constexpr const char* name = "fp8_e5m2";
};
using fp8_e5m2 = small_float<fp8_e5m2_format>;

}  // namespace lowprec
