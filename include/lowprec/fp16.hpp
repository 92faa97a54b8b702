// fp16: IEEE 754 binary16 ("half").
//   bits     S EEEEE MMMMMMMMMM (1/5/10), bias 15
//   range    max 65504 (0x7BFF), min normal 2^-14 (0x0400), min subnormal 2^-24 (0x0001)
//   specials +-inf 0x7C00/0xFC00; NaN = exponent 11111, mantissa != 0; quiet NaN 0x7E00
//   rounding one correct rounding from float/double/int; nearest-even by default
//            (65519 -> 65504, 65520 -> inf); pi -> 3.140625 (0x4248)
//   overflow overflow::ieee: inf (max finite when rounding toward zero); saturate: +-65504
//   NaN      quiet, sign and top 10 payload bits kept (as F16C's vcvtps2ph)
//   spec     IEEE 754-2019 section 3.6, binary16
#pragma once

#include "lowprec/small_float.hpp"

namespace lowprec {

struct fp16_format : float_format<5, 10, specials::ieee> {
  static constexpr const char* name = "fp16";
  static constexpr bool is_iec559 = true;
};
using fp16 = small_float<fp16_format>;

}  // namespace lowprec
