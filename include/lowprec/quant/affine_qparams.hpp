// The scale and zero point of one affine (zero-point) group: PyTorch 1.13's MinMax
// observer (torch/ao/quantization/observer.py _calculate_qparams; REFERENCE.md section 6),
// in float, for uint8 and uint4. The formulas and the one deliberate deviation are
// spelled out in affine.hpp, whose quantizers (and their Highway kernels, which compute
// these N groups at a time) use this definition.
#pragma once

#include <cfloat>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

// Scale and zero point of one group.
struct qparams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

// PyTorch's float32 eps (torch.finfo(torch.float32).eps = 2^-23), the observers' floor.
inline constexpr float affine_eps = 1.1920928955078125e-07f;

// The MinMax observer's qparams for a group with finite minimum `min` and maximum `max`
// (per_tensor_affine / per_channel_affine), for uint8 or uint4.
inline qparams affine_qparams(float min, float max, code_format f) {
  if (f != code_format::uint8 && f != code_format::uint4) {
    throw std::invalid_argument(std::string("lowprec::quant::affine_qparams: format ") +
                                to_string(f) + " is not unsigned; affine needs uint8 or uint4");
  }
  const int qmin = info(f).qmin;
  const int qmax = info(f).qmax;
  const float levels = static_cast<float>(qmax - qmin);
  const float min_neg = min < 0.0f ? min : 0.0f;
  const float max_pos = max > 0.0f ? max : 0.0f;
  float scale = (max_pos - min_neg) / levels;
  if (!(scale <= FLT_MAX)) scale = max_pos / levels - min_neg / levels;  // overflowed range
  if (!(scale >= affine_eps)) scale = affine_eps;  // torch.max(scale, eps)
  // min_neg / scale is in [-(qmax - qmin), 0] (scale >= the range over the levels), so
  // round_half_even's |t| <= 2^22 holds.
  const int zp = qmin - static_cast<int>(detail::round_half_even(min_neg / scale));
  return {scale, zp < qmin ? qmin : (zp > qmax ? qmax : zp)};
}

}  // namespace lowprec::quant
