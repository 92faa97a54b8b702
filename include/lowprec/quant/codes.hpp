// One element in and out of a code, for every quant code format: the scalar definition
// that the bulk quantizers, the container and the SIMD kernels all reproduce bit for bit.
//
//   encode (t = x * inv_scale, one float multiply; inv_scale = 1 / scale in float)
//   format       finite x                              NaN            +-Inf
//   int8/int4    clamp(nearbyint(t), -qmax, qmax)      0              +-qmax
//   fp8_*        fp8(t), nearest-even, saturating      quiet NaN      +-max finite
//   uint8/uint4  clamp(zp + nearbyint(t), qmin, qmax)  zp (value 0)   qmax / qmin
//   decode       int: q * scale; fp8: float(q) * scale; affine: (q - zp) * scale
//
// nearbyint rounds half to even (the default floating-point environment, as PyTorch's
// quantize_val assumes). The affine row is PyTorch's (aten quantize_val, REFERENCE.md
// section 6): the zero point is added after rounding, so a tie rounds to the even
// integer of t, not of zp + t. Codes are passed around as their raw bits in a byte
// (4-bit formats in the low nibble: int4 is two's complement, as lowprec::int4).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "lowprec/fp8.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

namespace detail {

// Nearest integer, ties to even, of |t| <= 2^22: t + 1.5 * 2^23 lands in [2^23, 2^24),
// where the float spacing is 1, so the addition itself rounds (in the default mode) and
// the subtraction is exact. Callers clamp t first, which also keeps a compiler from
// fusing the t = x * inv multiply into the addition (that would round once, not twice).
inline float round_half_even(float t) noexcept {
  constexpr float magic = 12582912.0f;  // 1.5 * 2^23
  return (t + magic) - magic;
}

inline float clamp_float(float t, float lo, float hi) noexcept {
  return t < lo ? lo : (t > hi ? hi : t);
}

// x is +-Inf or NaN.
inline bool is_nonfinite(float x) noexcept { return !(std::fabs(x) <= FLT_MAX); }

template <class Fp8>
inline std::uint8_t encode_fp8(float x, float inv_scale) noexcept {
  if (x != x) return Fp8::from(x).bits();  // quiet NaN, sign kept
  if (std::fabs(x) > FLT_MAX) {            // infinity saturates, whatever the scale
    return Fp8::from(x, rounding::nearest_even, overflow::saturate).bits();
  }
  return Fp8::from(x * inv_scale, rounding::nearest_even, overflow::saturate).bits();
}

}  // namespace detail

// 1 / scale in float, and 0 for a zero scale (an all-zero group: every code is 0).
inline float inverse_scale(float scale) noexcept { return scale == 0.0f ? 0.0f : 1.0f / scale; }

// ---- absmax (int8, int4, fp8_e4m3fn, fp8_e5m2) --------------------------------------------

// Integer absmax code of x as an int in [-qmax, qmax].
inline int encode_symmetric_int(float x, float inv_scale, int qmax) noexcept {
  if (x != x) return 0;
  const float q = static_cast<float>(qmax);
  if (std::fabs(x) > FLT_MAX) return x > 0 ? qmax : -qmax;
  return static_cast<int>(detail::round_half_even(detail::clamp_float(x * inv_scale, -q, q)));
}

template <code_format F>
inline std::uint8_t encode_absmax(float x, float inv_scale) noexcept {
  static_assert(F != code_format::uint8 && F != code_format::uint4,
                "absmax codes are signed: int8, int4, fp8_e4m3fn or fp8_e5m2");
  if constexpr (F == code_format::fp8_e4m3fn) {
    return detail::encode_fp8<fp8_e4m3fn>(x, inv_scale);
  } else if constexpr (F == code_format::fp8_e5m2) {
    return detail::encode_fp8<fp8_e5m2>(x, inv_scale);
  } else {
    constexpr int bits = info(F).bits;
    const int q = encode_symmetric_int(x, inv_scale, info(F).qmax);
    return static_cast<std::uint8_t>(static_cast<unsigned>(q) & ((1u << bits) - 1u));
  }
}

// The signed value of an integer code's bits (int8 or int4), or the unsigned value.
template <code_format F>
constexpr int code_value(std::uint8_t bits) noexcept {
  if constexpr (F == code_format::int8) {
    return bits >= 128 ? static_cast<int>(bits) - 256 : static_cast<int>(bits);
  } else if constexpr (F == code_format::int4) {
    const int b = bits & 0x0F;
    return b >= 8 ? b - 16 : b;
  } else {
    static_assert(F == code_format::uint8 || F == code_format::uint4,
                  "code_value is for integer formats; fp8 codes decode with decode_absmax");
    return bits & (F == code_format::uint4 ? 0x0F : 0xFF);
  }
}

template <code_format F>
inline float decode_absmax(std::uint8_t bits, float scale) noexcept {
  if constexpr (F == code_format::fp8_e4m3fn) {
    return static_cast<float>(fp8_e4m3fn::from_bits(bits)) * scale;
  } else if constexpr (F == code_format::fp8_e5m2) {
    return static_cast<float>(fp8_e5m2::from_bits(bits)) * scale;
  } else {
    return static_cast<float>(code_value<F>(bits)) * scale;
  }
}

// ---- affine (uint8, uint4) -------------------------------------------------------------

template <code_format F>
inline std::uint8_t encode_affine(float x, float inv_scale, int zero_point) noexcept {
  static_assert(F == code_format::uint8 || F == code_format::uint4,
                "affine codes are unsigned: uint8 or uint4");
  constexpr int qmin = info(F).qmin;
  constexpr int qmax = info(F).qmax;
  if (x != x) return static_cast<std::uint8_t>(zero_point);
  if (std::fabs(x) > FLT_MAX) return static_cast<std::uint8_t>(x > 0 ? qmax : qmin);
  // Clamping t to [qmin - zp - 1, qmax - zp + 1] first changes no result (anything
  // beyond still clamps to qmin or qmax below) and keeps t in round_half_even's range.
  // x * inv_scale is NaN only for x = 0 under an infinite inv_scale (a user scale below
  // 2^-128): that 0 is code zero_point like every other 0.
  float t = x * inv_scale;
  if (t != t) t = 0.0f;
  t = detail::clamp_float(t, static_cast<float>(qmin - zero_point - 1),
                          static_cast<float>(qmax - zero_point + 1));
  const int q = zero_point + static_cast<int>(detail::round_half_even(t));
  return static_cast<std::uint8_t>(q < qmin ? qmin : (q > qmax ? qmax : q));
}

inline float decode_affine(std::uint8_t bits, float scale, int zero_point) noexcept {
  return static_cast<float>(static_cast<int>(bits) - zero_point) * scale;
}

// ---- runtime dispatch on the format ----------------------------------------------------

// Calls fn(std::integral_constant<code_format, F>{}) for the runtime format f, so loops
// are compiled once per format with the format's constants folded in.
template <class Fn>
decltype(auto) visit_format(code_format f, Fn&& fn) {
  switch (f) {
    case code_format::int8: return fn(std::integral_constant<code_format, code_format::int8>{});
    case code_format::uint8: return fn(std::integral_constant<code_format, code_format::uint8>{});
    case code_format::int4: return fn(std::integral_constant<code_format, code_format::int4>{});
    case code_format::uint4: return fn(std::integral_constant<code_format, code_format::uint4>{});
    case code_format::fp8_e4m3fn:
      return fn(std::integral_constant<code_format, code_format::fp8_e4m3fn>{});
    case code_format::fp8_e5m2:
      return fn(std::integral_constant<code_format, code_format::fp8_e5m2>{});
  }
  return fn(std::integral_constant<code_format, code_format::int8>{});
}

// The value of one code of any format under its group's parameters.
inline float decode(std::uint8_t bits, code_format f, float scale, int zero_point) noexcept {
  return visit_format(f, [&](auto tag) -> float {
    constexpr code_format F = decltype(tag)::value;
    if constexpr (F == code_format::uint8 || F == code_format::uint4) {
      return decode_affine(bits, scale, zero_point);
    } else {
      (void)zero_point;
      return decode_absmax<F>(bits, scale);
    }
  });
}

}  // namespace lowprec::quant
