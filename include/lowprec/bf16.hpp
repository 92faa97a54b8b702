// bf16: bfloat16, the top half of an IEEE binary32.
//   bits     S EEEEEEEE MMMMMMM (1/8/7), bias 127: float's exponent range, 8-bit precision
//   range    max 3.3895314e38 (0x7F7F), min normal 2^-126 (0x0080), min subnormal 2^-133
//   specials +-inf 0x7F80/0xFF80; NaN = exponent all ones, mantissa != 0; quiet NaN 0x7FC0
//   rounding one correct rounding from float/double/int; nearest-even by default (not
//            the truncation of Highway 1.0.3 or old TensorFlow); subnormals kept, not
//            flushed (unlike AVX512-BF16's vcvtneps2bf16); pi -> 3.140625 (0x4049)
//   overflow overflow::ieee: inf (max finite when rounding toward zero); saturate: +-max
//   NaN      quiet, sign and top 7 payload bits kept: (float bits >> 16) | 0x0040
//   spec     Google Brain bfloat16; layout as Eigen::bfloat16 / torch.bfloat16
#pragma once

#include "lowprec/small_float.hpp"

namespace lowprec {

struct bf16_format : float_format<8, 7, specials::ieee> {
  static constexpr const char* name = "bf16";
};
using bf16 = small_float<bf16_format>;

}  // namespace lowprec
