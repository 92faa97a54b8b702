// lowprec::small_float<Format>: the one generic definition behind fp16, bf16 and the
// fp8 formats. A format is a short struct (exponent bits, mantissa bits, how it spells
// infinity and NaN); everything else -- encoding under every rounding and overflow
// policy, decoding, limits, hashing, printing -- is derived here once.
//
// Conversion rules shared by every format (each format card repeats what is specific):
//   - Rounding is correct in one step from float, double, integers and other formats:
//     the exact source value is rounded once (a double never rounds twice via float).
//   - NaN in gives a quiet NaN with the sign kept and the top payload bits kept
//     (truncated), as x86 F16C and AVX512-BF16 do; a signalling NaN is quieted. This
//     holds for widening to float too, so every NaN lowprec produces is quiet.
//   - Overflow follows the `overflow` policy (policy.hpp); subnormals are exact.
//   - Arithmetic is done in float and rounded back with nearest-even. float carries at
//     least 2p+2 significant bits for every format here, so +, -, *, / and sqrt are
//     correctly rounded, as if computed exactly (Figueroa, "When is double rounding
//     innocuous?", 1995).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <type_traits>

#include "lowprec/detail/bits.hpp"
#include "lowprec/detail/rounding.hpp"
#include "lowprec/policy.hpp"

namespace lowprec {

// How a format spells its special values.
enum class specials {
  ieee,  // exponent all ones: infinity (mantissa 0) or NaN (mantissa != 0)
  fn,    // "finite + NaN" (OCP OFP8 E4M3): no infinity; only S.1111.111 is NaN, the other
         // all-ones-exponent codes are ordinary finite numbers
  none,  // finite only (OCP MX FP6 E2M3 / E3M2, FP4 E2M1): every code is a number. Overflow
         // saturates whatever the policy (there is nothing else to overflow to), infinity
         // becomes +-max finite and NaN becomes +-0 (sign kept), both documented choices
         // for a format that cannot say "not a number"
};

// The parameters of a binary floating-point format with a sign bit, an exponent of
// ExponentBits biased by 2^(ExponentBits-1) - 1, and MantissaBits stored fraction bits.
// Formats derive from this and add a name (see fp16.hpp).
template <int ExponentBits, int MantissaBits, specials Specials>
struct float_format {
  static_assert(ExponentBits >= 2 && ExponentBits <= 8, "exponent must have 2..8 bits");
  static_assert(MantissaBits >= 1 && MantissaBits <= 10, "mantissa must have 1..10 bits");
  static_assert(1 + ExponentBits + MantissaBits <= 16, "small_float holds at most 16 bits");

  static constexpr int exponent_bits = ExponentBits;
  static constexpr int mantissa_bits = MantissaBits;
  static constexpr int total_bits = 1 + ExponentBits + MantissaBits;
  static constexpr specials special_values = Specials;
  static constexpr bool has_infinity = Specials == specials::ieee;
  static constexpr bool has_nan = Specials != specials::none;
  static constexpr bool is_iec559 = false;  // a format that is IEEE 754 says so
  using storage_type = std::conditional_t<(total_bits <= 8), std::uint8_t, std::uint16_t>;

  static constexpr int bias = (1 << (ExponentBits - 1)) - 1;
  static constexpr int min_exponent = 1 - bias;  // of the smallest normal, 2^min_exponent
  static constexpr int max_exponent =            // of the largest finite
      (Specials == specials::ieee ? (1 << ExponentBits) - 2 : (1 << ExponentBits) - 1) - bias;

  // Codes (sign bit clear unless named).
  static constexpr std::uint32_t sign_mask = 1u << (total_bits - 1);
  static constexpr std::uint32_t magnitude_mask = sign_mask - 1;
  static constexpr std::uint32_t mantissa_mask = (1u << MantissaBits) - 1;
  static constexpr std::uint32_t exponent_field = ((1u << ExponentBits) - 1) << MantissaBits;
  static constexpr std::uint32_t max_finite =
      Specials == specials::ieee ? exponent_field - 1
      : Specials == specials::fn ? magnitude_mask - 1
                                 : magnitude_mask;
  static constexpr std::uint32_t min_normal = 1u << MantissaBits;
  static constexpr std::uint32_t infinity = exponent_field;  // ieee formats only
  // Formats without NaN (specials::none) encode NaN as zero: quiet_nan is then +0.
  static constexpr std::uint32_t quiet_nan =
      Specials == specials::ieee ? exponent_field | (1u << (MantissaBits - 1))
      : Specials == specials::fn ? magnitude_mask
                                 : 0u;
  // The signalling NaN with the smallest payload; formats without one use quiet_nan.
  static constexpr std::uint32_t signaling_nan =
      Specials == specials::ieee && MantissaBits >= 2 ? exponent_field | 1u : quiet_nan;
  static constexpr bool has_signaling_nan = signaling_nan != quiet_nan;

  static constexpr bool is_nan_code(std::uint32_t code) noexcept {
    const std::uint32_t m = code & magnitude_mask;
    return Specials == specials::ieee ? m > exponent_field
           : Specials == specials::fn ? m == magnitude_mask
                                      : false;
  }
  static constexpr bool is_inf_code(std::uint32_t code) noexcept {
    return Specials == specials::ieee && (code & magnitude_mask) == exponent_field;
  }
};

namespace detail {

// The arithmetic types a small_float is built from: every standard floating-point and
// integer type. Extended integers wider than 64 bits (__int128 under -std=gnu++17, where
// std::is_arithmetic accepts it) are rejected at compile time rather than truncated.
template <class T>
inline constexpr bool is_encodable_v =
    std::is_arithmetic_v<T> && (!std::is_integral_v<T> || sizeof(T) <= 8);

// Encodes (-1)^negative * sig * 2^exp2 (sig != 0, exact) into Format's code.
//
// 1. Find the exponent E of the value's leading bit. Above the largest finite
//    binade everything overflows.
// 2. The quantum (weight of the last stored bit) is 2^(max(E, min_exponent) - M):
//    normal numbers keep M bits after the leading one, subnormals a fixed quantum.
// 3. Round sig down to that quantum (shared rounding step, detail/rounding.hpp).
// 4. code = ((max(E, min_exponent) + bias - 1) << M) + n. For normals n carries the
//    implicit bit, which lands in the exponent field; a rounding carry into the next
//    binade (n = 2^(M+1)) and a subnormal rounding up to the smallest normal
//    (n = 2^M, exponent base 0) both come out right with no special case.
// 5. A code above the largest finite is an overflow, handled by policy.
template <class Format>
constexpr std::uint32_t overflow_code(bool negative, rounding mode, overflow policy) noexcept {
  const std::uint32_t sign = negative ? Format::sign_mask : 0u;
  if (policy == overflow::saturate || !rounds_away_from_zero(mode, negative) ||
      !Format::has_nan) {  // a finite-only format has nothing but max to overflow to
    return sign | Format::max_finite;
  }
  return sign | (Format::has_infinity ? Format::infinity : Format::quiet_nan);
}

template <class Format>
constexpr std::uint32_t encode_finite(bool negative, std::uint64_t sig, int exp2, rounding mode,
                                      overflow policy, std::uint32_t random_bits) noexcept {
  constexpr int M = Format::mantissa_bits;
  const std::uint32_t sign = negative ? Format::sign_mask : 0u;
  if (sig == 0) return sign;  // signed zero
  const int e = exp2 + highest_bit(sig);                                          // 1.
  if (e > Format::max_exponent) return overflow_code<Format>(negative, mode, policy);
  const int binade = e > Format::min_exponent ? e : Format::min_exponent;        // 2.
  const int shift = binade - M - exp2;
  const std::uint64_t n = shift >= 0
      ? round_shift_right(sig, shift, negative, mode, random_bits)                // 3.
      : sig << -shift;  // exact: n < 2^(M+1) because e <= max_exponent
  const std::uint64_t code =                                                       // 4.
      (static_cast<std::uint64_t>(binade + Format::bias - 1) << M) + n;
  if (code > Format::max_finite) return overflow_code<Format>(negative, mode, policy);  // 5.
  return sign | static_cast<std::uint32_t>(code);
}

// Encodes the value of an IEEE-754-style binary source (SrcE exponent bits, SrcM
// fraction bits, infinities and NaNs at exponent all-ones) given as raw bits.
template <class Format, int SrcE, int SrcM>
constexpr std::uint32_t encode_ieee(std::uint64_t bits, rounding mode, overflow policy,
                                    std::uint32_t random_bits) noexcept {
  constexpr std::uint64_t frac_mask = (std::uint64_t{1} << SrcM) - 1;
  constexpr std::uint64_t exp_max = (std::uint64_t{1} << SrcE) - 1;
  constexpr int src_bias = (1 << (SrcE - 1)) - 1;
  const bool negative = ((bits >> (SrcE + SrcM)) & 1) != 0;
  const std::uint64_t exp_field = (bits >> SrcM) & exp_max;
  const std::uint64_t frac = bits & frac_mask;
  const std::uint32_t sign = negative ? Format::sign_mask : 0u;
  if (exp_field == exp_max) {
    if (frac != 0) {  // NaN: quiet, sign and top payload bits kept
      if constexpr (Format::special_values == specials::ieee) {
        constexpr int M = Format::mantissa_bits;
        const std::uint64_t payload =
            SrcM >= M ? frac >> (SrcM - M) : frac << (M - SrcM);
        return sign | Format::quiet_nan | static_cast<std::uint32_t>(payload);
      } else {
        return sign | Format::quiet_nan;
      }
    }
    // Infinity: exact where the format has it, else an overflow.
    if (Format::has_infinity && policy == overflow::ieee) return sign | Format::infinity;
    return overflow_code<Format>(negative, rounding::nearest_even, policy);
  }
  if (exp_field == 0) {
    return encode_finite<Format>(negative, frac, 1 - src_bias - SrcM, mode, policy,
                                 random_bits);
  }
  return encode_finite<Format>(negative, frac | (frac_mask + 1),
                               static_cast<int>(exp_field) - src_bias - SrcM, mode, policy,
                               random_bits);
}

// Decodes a code to float, exactly (every format here is a subset of float).
template <class Format>
LOWPREC_BIT_CAST_CONSTEXPR float decode_to_float(std::uint32_t code) noexcept {
  constexpr int M = Format::mantissa_bits;
  const std::uint32_t sign = (code & Format::sign_mask) != 0 ? 0x80000000u : 0u;
  const std::uint32_t mag = code & Format::magnitude_mask;
  const std::uint32_t e = mag >> M;
  const std::uint32_t m = mag & Format::mantissa_mask;
  if (Format::is_nan_code(mag)) {
    return bit_cast<float>(sign | 0x7FC00000u | (m << (23 - M)));  // quiet, payload kept
  }
  if (Format::is_inf_code(mag)) return bit_cast<float>(sign | 0x7F800000u);
  if (e == 0) {
    // Subnormal or zero: m * 2^(min_exponent - M), assembled from integers (no float
    // multiply, so DAZ/FTZ and the rounding mode cannot change it; bf16 subnormals are
    // float subnormals). With p the index of m's leading one, the value is
    // 1.f * 2^(min_exponent - M + p): a normal float if that exponent is >= -126,
    // otherwise a float subnormal whose 23-bit fraction is m shifted to weight 2^-149.
    if (m == 0) return bit_cast<float>(sign);
    int p = 0;
    while ((m >> (p + 1)) != 0) ++p;
    const int exponent = Format::min_exponent - M + p;
    static_assert(Format::min_exponent - M + 149 >= 0, "subnormals below float's range");
    if constexpr (Format::min_exponent - M < -126) {  // some subnormals are float's
      if (exponent < -126) return bit_cast<float>(sign | (m << (Format::min_exponent - M + 149)));
    }
    const std::uint32_t fraction = (m ^ (std::uint32_t{1} << p)) << (23 - p);
    return bit_cast<float>(sign | (static_cast<std::uint32_t>(exponent + 127) << 23) | fraction);
  }
  return bit_cast<float>(sign | ((e - Format::bias + 127) << 23) | (m << (23 - M)));
}

}  // namespace detail

template <class Format>
class small_float {
 public:
  using format = Format;
  using storage_type = typename Format::storage_type;

  // Trivial: `bf16 x;` is uninitialised like `float x;`, `bf16 x{};` is +0.
  small_float() = default;

  // Explicit, correctly rounded construction from any arithmetic type (nearest-even,
  // IEEE overflow). `bf16 b = 1.0;` does not compile: narrowing is never implicit.
  template <class T, std::enable_if_t<detail::is_encodable_v<T>, int> = 0>
  LOWPREC_BIT_CAST_CONSTEXPR explicit small_float(T value) noexcept
      : bits_(from(value).bits_) {}

  // The same under explicit policies: `fp16(x, rounding::toward_zero)`, or
  // `bf16(x, rounding::stochastic, overflow::saturate, random_bits)`.
  template <class T, std::enable_if_t<detail::is_encodable_v<T>, int> = 0>
  LOWPREC_BIT_CAST_CONSTEXPR explicit small_float(T value, rounding mode,
                                         overflow policy = overflow::ieee,
                                         std::uint32_t random_bits = 0) noexcept
      : bits_(from(value, mode, policy, random_bits).bits_) {}

  // Explicit conversion from another lowprec format (one rounding, nearest-even).
  template <class OtherFormat, std::enable_if_t<!std::is_same_v<OtherFormat, Format>, int> = 0>
  LOWPREC_BIT_CAST_CONSTEXPR explicit small_float(small_float<OtherFormat> other) noexcept
      : bits_(from(static_cast<float>(other)).bits_) {}

  static constexpr small_float from_bits(storage_type bits) noexcept {
    return small_float(bits, raw_tag{});
  }
  constexpr storage_type bits() const noexcept { return bits_; }

  // Rounds `value` once under the given policies. `random_bits` (32 uniform random bits)
  // is read only by rounding::stochastic; see detail/rounding.hpp for how it is used.
  template <class T, std::enable_if_t<detail::is_encodable_v<T>, int> = 0>
  static LOWPREC_BIT_CAST_CONSTEXPR small_float from(T value,
                                                    rounding mode = rounding::nearest_even,
                                                    overflow policy = overflow::ieee,
                                                    std::uint32_t random_bits = 0) noexcept {
    return from_bits(static_cast<storage_type>(encode(value, mode, policy, random_bits)));
  }
  // Stochastic rounding with IEEE overflow: `from(x, rounding::stochastic, random_bits)`.
  template <class T, std::enable_if_t<detail::is_encodable_v<T>, int> = 0>
  static LOWPREC_BIT_CAST_CONSTEXPR small_float from(T value, rounding mode,
                                                    std::uint32_t random_bits) noexcept {
    return from(value, mode, overflow::ieee, random_bits);
  }
  template <class OtherFormat>
  static LOWPREC_BIT_CAST_CONSTEXPR small_float from(small_float<OtherFormat> value,
                                                    rounding mode = rounding::nearest_even,
                                                    overflow policy = overflow::ieee,
                                                    std::uint32_t random_bits = 0) noexcept {
    return from(static_cast<float>(value), mode, policy, random_bits);
  }

  // Widening is exact, so it is implicit (as for Eigen::bfloat16). To double and other
  // arithmetic types goes through float with the usual standard conversions.
  LOWPREC_BIT_CAST_CONSTEXPR operator float() const noexcept {
    return detail::decode_to_float<Format>(bits_);
  }

  // Arithmetic in float, rounded back once (correctly rounded; see the file comment).
  // Mixed with float or double, the small_float widens and the result is float/double.
  friend LOWPREC_BIT_CAST_CONSTEXPR small_float operator+(small_float a, small_float b) noexcept {
    return small_float(static_cast<float>(a) + static_cast<float>(b));
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR small_float operator-(small_float a, small_float b) noexcept {
    return small_float(static_cast<float>(a) - static_cast<float>(b));
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR small_float operator*(small_float a, small_float b) noexcept {
    return small_float(static_cast<float>(a) * static_cast<float>(b));
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR small_float operator/(small_float a, small_float b) noexcept {
    return small_float(static_cast<float>(a) / static_cast<float>(b));
  }
  friend constexpr small_float operator-(small_float a) noexcept {  // exact, NaN too
    return from_bits(static_cast<storage_type>(a.bits_ ^ Format::sign_mask));
  }
  friend constexpr small_float operator+(small_float a) noexcept { return a; }
  LOWPREC_BIT_CAST_CONSTEXPR small_float& operator+=(small_float b) noexcept { return *this = *this + b; }
  LOWPREC_BIT_CAST_CONSTEXPR small_float& operator-=(small_float b) noexcept { return *this = *this - b; }
  LOWPREC_BIT_CAST_CONSTEXPR small_float& operator*=(small_float b) noexcept { return *this = *this * b; }
  LOWPREC_BIT_CAST_CONSTEXPR small_float& operator/=(small_float b) noexcept { return *this = *this / b; }

  // IEEE comparisons: NaN is unordered, -0 == +0.
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator==(small_float a, small_float b) noexcept {
    return static_cast<float>(a) == static_cast<float>(b);
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator!=(small_float a, small_float b) noexcept {
    return static_cast<float>(a) != static_cast<float>(b);
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator<(small_float a, small_float b) noexcept {
    return static_cast<float>(a) < static_cast<float>(b);
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator<=(small_float a, small_float b) noexcept {
    return static_cast<float>(a) <= static_cast<float>(b);
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator>(small_float a, small_float b) noexcept {
    return static_cast<float>(a) > static_cast<float>(b);
  }
  friend LOWPREC_BIT_CAST_CONSTEXPR bool operator>=(small_float a, small_float b) noexcept {
    return static_cast<float>(a) >= static_cast<float>(b);
  }

 private:
  struct raw_tag {};
  constexpr small_float(storage_type bits, raw_tag) noexcept : bits_(bits) {}

  template <class T>
  static LOWPREC_BIT_CAST_CONSTEXPR std::uint32_t encode(T value, rounding mode, overflow policy,
                                                        std::uint32_t random_bits) noexcept {
    if constexpr (std::is_same_v<T, bool>) {
      return value ? encode(1, mode, policy, random_bits) : 0u;
    } else if constexpr (std::is_integral_v<T>) {
      // Integers are encoded from their exact magnitude: no detour through float.
      bool negative = false;
      std::uint64_t magnitude = 0;
      if constexpr (std::is_signed_v<T>) {
        const auto v = static_cast<std::int64_t>(value);
        negative = v < 0;
        magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(v)
                             : static_cast<std::uint64_t>(v);
      } else {
        magnitude = static_cast<std::uint64_t>(value);
      }
      return detail::encode_finite<Format>(negative, magnitude, 0, mode, policy, random_bits);
    } else if constexpr (std::is_same_v<T, float>) {
      return detail::encode_ieee<Format, 8, 23>(detail::bit_cast<std::uint32_t>(value), mode,
                                                policy, random_bits);
    } else if constexpr (std::is_same_v<T, double> ||
                         std::numeric_limits<long double>::digits <= 53) {
      return detail::encode_ieee<Format, 11, 52>(
          detail::bit_cast<std::uint64_t>(static_cast<double>(value)), mode, policy,
          random_bits);
    } else {
      static_assert(std::is_floating_point_v<T>, "unsupported arithmetic type");
      return encode_long_double(value, mode, policy, random_bits);
    }
  }

  static std::uint32_t encode_long_double(long double value, rounding mode, overflow policy,
                                          std::uint32_t random_bits) noexcept;

  storage_type bits_;
};

// ---- Classification and exact functions, found by ADL -------------------------------

template <class F>
constexpr bool isnan(small_float<F> x) noexcept { return F::is_nan_code(x.bits()); }
template <class F>
constexpr bool isinf(small_float<F> x) noexcept { return F::is_inf_code(x.bits()); }
template <class F>
constexpr bool isfinite(small_float<F> x) noexcept {
  return !F::is_nan_code(x.bits()) && !F::is_inf_code(x.bits());
}
template <class F>
constexpr bool isnormal(small_float<F> x) noexcept {
  const std::uint32_t m = x.bits() & F::magnitude_mask;
  return isfinite(x) && m >= F::min_normal;
}
template <class F>
constexpr bool signbit(small_float<F> x) noexcept { return (x.bits() & F::sign_mask) != 0; }
template <class F>
constexpr small_float<F> abs(small_float<F> x) noexcept {
  return small_float<F>::from_bits(
      static_cast<typename F::storage_type>(x.bits() & F::magnitude_mask));
}
template <class F>
constexpr small_float<F> copysign(small_float<F> magnitude, small_float<F> sign) noexcept {
  return small_float<F>::from_bits(static_cast<typename F::storage_type>(
      (magnitude.bits() & F::magnitude_mask) | (sign.bits() & F::sign_mask)));
}

// ---- Math functions, found by ADL (Eigen and generic code call them unqualified) -----
// Each evaluates the float function and rounds the result once (nearest-even). sqrt is
// therefore correctly rounded (float has >= 2p+2 bits); the others are as accurate as the
// platform's float libm, plus the final rounding. min/max follow std::fmin/fmax on NaN.
#define LOWPREC_UNARY_MATH(fn)                                          \
  template <class F>                                                    \
  inline small_float<F> fn(small_float<F> x) noexcept {                 \
    return small_float<F>(std::fn(static_cast<float>(x)));              \
  }
#define LOWPREC_BINARY_MATH(fn)                                         \
  template <class F>                                                    \
  inline small_float<F> fn(small_float<F> x, small_float<F> y) noexcept { \
    return small_float<F>(std::fn(static_cast<float>(x), static_cast<float>(y))); \
  }
LOWPREC_UNARY_MATH(sqrt)
LOWPREC_UNARY_MATH(cbrt)
LOWPREC_UNARY_MATH(exp)
LOWPREC_UNARY_MATH(exp2)
LOWPREC_UNARY_MATH(expm1)
LOWPREC_UNARY_MATH(log)
LOWPREC_UNARY_MATH(log2)
LOWPREC_UNARY_MATH(log10)
LOWPREC_UNARY_MATH(log1p)
LOWPREC_UNARY_MATH(sin)
LOWPREC_UNARY_MATH(cos)
LOWPREC_UNARY_MATH(tan)
LOWPREC_UNARY_MATH(asin)
LOWPREC_UNARY_MATH(acos)
LOWPREC_UNARY_MATH(atan)
LOWPREC_UNARY_MATH(sinh)
LOWPREC_UNARY_MATH(cosh)
LOWPREC_UNARY_MATH(tanh)
LOWPREC_UNARY_MATH(erf)
LOWPREC_UNARY_MATH(floor)
LOWPREC_UNARY_MATH(ceil)
LOWPREC_UNARY_MATH(round)
LOWPREC_UNARY_MATH(trunc)
LOWPREC_UNARY_MATH(rint)
LOWPREC_BINARY_MATH(pow)
LOWPREC_BINARY_MATH(atan2)
LOWPREC_BINARY_MATH(fmod)
LOWPREC_BINARY_MATH(fmin)
LOWPREC_BINARY_MATH(fmax)
#undef LOWPREC_UNARY_MATH
#undef LOWPREC_BINARY_MATH
template <class F>
constexpr small_float<F> fabs(small_float<F> x) noexcept { return abs(x); }

template <class F>
std::ostream& operator<<(std::ostream& os, small_float<F> x) {
  return os << static_cast<float>(x);
}

}  // namespace lowprec

// long double with more than 53 significant bits (x87 80-bit, binary128): take the top
// 64 bits of the significand and fold the rest into a sticky bit. Every format here has
// at most 11 significant bits, so bit 0 lies far below any rounding position and only
// breaks ties, which is what the exact value would do.
template <class Format>
std::uint32_t lowprec::small_float<Format>::encode_long_double(long double value, rounding mode,
                                                               overflow policy,
                                                               std::uint32_t random_bits) noexcept {
  if (std::isnan(value) || std::isinf(value)) {
    return encode(static_cast<double>(value), mode, policy, random_bits);
  }
  const bool negative = std::signbit(value);
  int exp2 = 0;
  const long double m = std::ldexp(std::frexp(std::fabs(value), &exp2), 64);  // [2^63, 2^64)
  if (m == 0) return negative ? Format::sign_mask : 0u;
  std::uint64_t sig = static_cast<std::uint64_t>(m);
  if (static_cast<long double>(sig) != m) sig |= 1;
  return detail::encode_finite<Format>(negative, sig, exp2 - 64, mode, policy, random_bits);
}

// ---- std::numeric_limits, std::hash ------------------------------------------------

namespace std {

template <class F>
class numeric_limits<lowprec::small_float<F>> {
  using T = lowprec::small_float<F>;
  using S = typename F::storage_type;
  static constexpr int floor_log10(double x) {  // for the *_exponent10 members
    int n = 0;
    while (x >= 10.0) { x /= 10.0; ++n; }
    while (x < 1.0) { x *= 10.0; --n; }
    return n;
  }
  // The code of 2^k: normal ((k + bias) << M), or subnormal in formats with a tiny bias
  // (fp4 e2m1: 0.5 is the subnormal 0.1b x 2^0).
  static constexpr T pow2_value(int k) noexcept {
    return T::from_bits(static_cast<S>(
        k >= F::min_exponent
            ? static_cast<std::uint32_t>(k + F::bias) << F::mantissa_bits
            : 1u << (k - (F::min_exponent - F::mantissa_bits))));
  }
  static constexpr double pow2(int e) {
    double r = 1.0;
    for (; e > 0; --e) r *= 2.0;
    for (; e < 0; ++e) r *= 0.5;
    return r;
  }

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = F::has_infinity;
  static constexpr bool has_quiet_NaN = F::has_nan;
  static constexpr bool has_signaling_NaN = F::has_signaling_nan;
  static constexpr std::float_denorm_style has_denorm = std::denorm_present;
  static constexpr bool has_denorm_loss = false;
  static constexpr std::float_round_style round_style = std::round_to_nearest;
  static constexpr bool is_iec559 = F::is_iec559;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = F::mantissa_bits + 1;
  // floor((digits - 1) * log10(2)) and ceil(digits * log10(2) + 1), as for float.
  static constexpr int digits10 = (F::mantissa_bits * 30103) / 100000;
  static constexpr int max_digits10 = (digits * 30103 + 99999) / 100000 + 1;
  static constexpr int radix = 2;
  static constexpr int min_exponent = F::min_exponent + 1;  // C's convention: 0.5 <= m < 1
  static constexpr int max_exponent = F::max_exponent + 1;
  // ceil(log10(smallest normal)) and floor(log10(largest finite)).
  static constexpr int min_exponent10 =
      floor_log10(pow2(F::min_exponent)) + (F::min_exponent == 0 ? 0 : 1);  // 10^0 is 1
  static constexpr int max_exponent10 = floor_log10(
      pow2(F::max_exponent) * (1.0 + static_cast<double>(F::max_finite & F::mantissa_mask) *
                                         pow2(-F::mantissa_bits)));
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr T min() noexcept { return T::from_bits(static_cast<S>(F::min_normal)); }
  static constexpr T lowest() noexcept {
    return T::from_bits(static_cast<S>(F::sign_mask | F::max_finite));
  }
  static constexpr T max() noexcept { return T::from_bits(static_cast<S>(F::max_finite)); }
  static constexpr T epsilon() noexcept { return pow2_value(-F::mantissa_bits); }  // 2^-M
  static constexpr T round_error() noexcept { return pow2_value(-1); }              // 0.5
  // Formats with no infinity return NaN here, as ml_dtypes does for float8_e4m3fn.
  static constexpr T infinity() noexcept {
    return T::from_bits(static_cast<S>(F::has_infinity ? F::infinity : F::quiet_nan));
  }
  static constexpr T quiet_NaN() noexcept { return T::from_bits(static_cast<S>(F::quiet_nan)); }
  static constexpr T signaling_NaN() noexcept {
    return T::from_bits(static_cast<S>(F::signaling_nan));
  }
  static constexpr T denorm_min() noexcept { return T::from_bits(S{1}); }
};

template <class F>
struct hash<lowprec::small_float<F>> {
  // Consistent with ==: +0 and -0 hash alike. (NaN equals nothing, so any hash will do.)
  std::size_t operator()(lowprec::small_float<F> x) const noexcept {
    const std::uint32_t b = x.bits();
    return std::hash<std::uint32_t>{}((b & F::magnitude_mask) == 0 ? 0u : b);
  }
};

}  // namespace std
