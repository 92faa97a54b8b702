// An MPFR oracle for rounding into small binary float formats. It shares no code with
// include/lowprec: a format is described only by its parameters, rounding is done by
// MPFR at the format's precision with the format's exponent range (mpfr_set_emin/emax,
// mpfr_check_range, mpfr_subnormalize), and the code is built from the rounded value
// with frexp/ldexp.
//
//   target        S, E exponent bits (bias 2^(E-1)-1), M fraction bits, infinity or
//                 "fn" (no infinity, NaN only at S.1..1), largest finite value
//   MPFR setting  precision M+1; MPFR writes x = 0.1b..b * 2^e, so a format whose normal
//                 numbers are 1.f * 2^E with E in [1-bias, E_top] gets emax = E_top + 1
//                 and, for subnormals down to 2^(1-bias-M), emin = 2 - bias - M
//   overflow      a rounded value above the largest finite (MPFR's inf, or a top-binade
//                 value such as e4m3fn's 480) is an overflow: IEEE 754-2019 7.4 gives
//                 infinity (NaN for "fn") when the rounding moves away from zero and
//                 the largest finite otherwise; "saturate" clamps to +-largest finite
//   specials      infinity in: infinity (NaN for "fn"), or +-largest finite when
//                 saturating; NaN in: quiet NaN, sign and the top payload bits kept
//   stochastic    lo/hi = the input rounded toward/away from zero on the target grid;
//                 q = floor(2^32 * (|x| - lo) / (hi - lo)), computed exactly; with
//                 caller bits r the result is hi iff q + r >= 2^32 (the rule written in
//                 lowprec's detail/rounding.hpp); going past the largest finite is an
//                 overflow that rounds away from zero
//
// Every function throws std::logic_error when an internal invariant fails (an oracle
// bug, never a library bug), so a test cannot silently compare against garbage.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

// <cstdint> before <mpfr.h> makes MPFR declare its intmax_t functions (mpfr_set_sj).
#include <gmp.h>
#include <mpfr.h>

namespace lowprec_test::mpfr_oracle {

enum class round_mode { nearest_even, toward_zero, toward_positive, toward_negative };
enum class overflow_mode { ieee, saturate };

struct target {
  const char* name;
  int exponent_bits;
  int mantissa_bits;
  bool has_infinity;  // false: "fn" style, no infinity and NaN only at S.1..1
  double max_finite;
};

// ---- Derived parameters, checked once per call (cheap) -------------------------------

struct layout {
  int M;
  int bias;
  int min_normal_exp;  // E of the smallest normal, 2^(1-bias)
  int top_exp;         // E of the largest finite value's binade
  std::uint32_t sign_bit;
  std::uint32_t exponent_ones;  // exponent field all ones, shifted into place
};

inline void require(bool ok, const char* what, const char* name = "") {
  if (!ok) throw std::logic_error(std::string("mpfr_oracle: ") + what + name);
}

inline layout layout_of(const target& t) {
  require(
      t.exponent_bits >= 2 && t.exponent_bits <= 8 && t.mantissa_bits >= 1 && t.mantissa_bits <= 10,
      "unsupported target ", t.name);
  layout l{};
  l.M = t.mantissa_bits;
  l.bias = (1 << (t.exponent_bits - 1)) - 1;
  l.min_normal_exp = 1 - l.bias;
  int e = 0;
  const double m = std::frexp(t.max_finite, &e);
  l.top_exp = e - 1;
  // The largest finite must have M+1 significant bits at most and sit in a binade the
  // exponent field can hold: field 2^E-2 with infinity, 2^E-1 without.
  require(std::ldexp(m, l.M + 1) == std::floor(std::ldexp(m, l.M + 1)),
          "max_finite not representable in ", t.name);
  const int top_field = (1 << t.exponent_bits) - (t.has_infinity ? 2 : 1);
  require(l.top_exp + l.bias == top_field, "max_finite out of range for ", t.name);
  l.sign_bit = 1u << (t.exponent_bits + t.mantissa_bits);
  l.exponent_ones = ((1u << t.exponent_bits) - 1) << t.mantissa_bits;
  return l;
}

inline std::uint32_t infinity_code(const target& t, bool negative) {
  const layout l = layout_of(t);
  require(t.has_infinity, "no infinity in ", t.name);
  return (negative ? l.sign_bit : 0u) | l.exponent_ones;
}

// The code of an exactly representable value v with |v| <= max_finite (or +-inf for
// formats that have it): sign, then frexp's exponent and significand laid out by hand.
inline std::uint32_t code_of(const target& t, double v) {
  const layout l = layout_of(t);
  const bool negative = std::signbit(v);
  const std::uint32_t sign = negative ? l.sign_bit : 0u;
  const double a = std::fabs(v);
  if (a == 0) return sign;
  if (std::isinf(a)) return infinity_code(t, negative);
  require(a <= t.max_finite, "code_of: value above the largest finite");
  int e2 = 0;
  const double m = std::frexp(a, &e2);  // a = m * 2^e2, m in [0.5, 1)
  const int E = e2 - 1;                 // a = (2m) * 2^E
  std::uint32_t field = 0;
  double fraction = 0;
  if (E < l.min_normal_exp) {  // subnormal: a = fraction * 2^(min_normal_exp - M)
    fraction = std::ldexp(a, l.M - l.min_normal_exp);
  } else {  // normal: 2m * 2^M = 2^M + fraction
    field = static_cast<std::uint32_t>(E + l.bias);
    fraction = std::ldexp(m, l.M + 1) - std::ldexp(1.0, l.M);
  }
  require(fraction >= 0 && fraction < std::ldexp(1.0, l.M) && fraction == std::floor(fraction),
          "code_of: value not on the target grid");
  return sign | (field << l.M) | static_cast<std::uint32_t>(fraction);
}

inline std::uint32_t max_code(const target& t, bool negative) {
  return code_of(t, negative ? -t.max_finite : t.max_finite);
}

// NaN in: quiet NaN with the sign kept; for formats with payload room the fraction is
// the quiet bit plus the source payload bits just below the source's quiet bit.
// `source_fraction` holds `source_bits` fraction bits, its top bit being the quiet bit.
inline std::uint32_t nan_code(const target& t, bool negative, std::uint64_t source_fraction,
                              int source_bits) {
  const layout l = layout_of(t);
  const std::uint32_t sign = negative ? l.sign_bit : 0u;
  if (!t.has_infinity) return sign | l.exponent_ones | ((1u << l.M) - 1);
  const std::uint64_t payload_mask = (std::uint64_t{1} << (source_bits - 1)) - 1;
  const std::uint64_t payload = source_fraction & payload_mask;  // below the quiet bit
  const std::uint64_t kept = payload >> (source_bits - l.M);     // top M-1 of them
  return sign | l.exponent_ones | (1u << (l.M - 1)) | static_cast<std::uint32_t>(kept);
}

// What a format without infinity gives where IEEE would give one: its NaN.
inline std::uint32_t infinity_or_nan_code(const target& t, bool negative) {
  if (t.has_infinity) return infinity_code(t, negative);
  const layout l = layout_of(t);
  return (negative ? l.sign_bit : 0u) | l.exponent_ones | ((1u << l.M) - 1);
}

// Overflow of a finite value, given whether the (IEEE) rounding direction moves away
// from zero.
inline std::uint32_t overflow_code(const target& t, bool negative, bool away,
                                   overflow_mode policy) {
  if (policy == overflow_mode::saturate || !away) return max_code(t, negative);
  return infinity_or_nan_code(t, negative);
}

inline std::uint32_t infinite_input_code(const target& t, bool negative, overflow_mode policy) {
  if (policy == overflow_mode::saturate) return max_code(t, negative);
  return infinity_or_nan_code(t, negative);
}

// ---- MPFR rounding onto the target grid -----------------------------------------------

// Sets MPFR's exponent range for the lifetime of the object.
class exponent_range {
 public:
  exponent_range(mpfr_exp_t emin, mpfr_exp_t emax)
      : old_emin_(mpfr_get_emin()), old_emax_(mpfr_get_emax()) {
    require(mpfr_set_emin(emin) == 0 && mpfr_set_emax(emax) == 0, "bad exponent range");
  }
  ~exponent_range() {
    mpfr_set_emin(old_emin_);
    mpfr_set_emax(old_emax_);
  }
  exponent_range(const exponent_range&) = delete;
  exponent_range& operator=(const exponent_range&) = delete;

 private:
  mpfr_exp_t old_emin_;
  mpfr_exp_t old_emax_;
};

// An mpfr_t that clears itself.
class real {
 public:
  explicit real(mpfr_prec_t precision) { mpfr_init2(x_, precision); }
  ~real() { mpfr_clear(x_); }
  real(const real&) = delete;
  real& operator=(const real&) = delete;
  mpfr_ptr get() { return x_; }
  mpfr_srcptr get() const { return x_; }

 private:
  mpfr_t x_;
};

inline mpfr_rnd_t mpfr_mode(round_mode mode) {
  switch (mode) {
    case round_mode::nearest_even:
      return MPFR_RNDN;
    case round_mode::toward_zero:
      return MPFR_RNDZ;
    case round_mode::toward_positive:
      return MPFR_RNDU;
    case round_mode::toward_negative:
      return MPFR_RNDD;
  }
  return MPFR_RNDN;
}

// Rounds the exact finite x into `out` (precision M+1) on the target's grid: subnormals
// always, and the target's emax when `bounded` (else the exponent is unbounded above,
// as stochastic rounding's neighbours need). The rounding happens in MPFR's wide
// default range first; mpfr_check_range and mpfr_subnormalize then redo it for the
// narrow range using the ternary value, so there is no double rounding.
inline void round_to_grid(const target& t, mpfr_srcptr x, mpfr_rnd_t rnd, bool bounded,
                          mpfr_ptr out) {
  const layout l = layout_of(t);
  require(mpfr_get_prec(out) == l.M + 1, "round_to_grid: wrong output precision");
  require(mpfr_number_p(x) != 0, "round_to_grid: input not finite");
  int ternary = mpfr_set(out, x, rnd);
  const exponent_range range(l.min_normal_exp + 1 - l.M, bounded ? l.top_exp + 1 : mpfr_get_emax());
  ternary = mpfr_check_range(out, ternary, rnd);
  mpfr_subnormalize(out, ternary, rnd);
}

// ---- Deterministic modes ---------------------------------------------------------------

// The expected codes for both overflow policies (they share the MPFR rounding).
struct expected {
  std::uint32_t ieee;
  std::uint32_t saturate;
  std::uint32_t operator[](overflow_mode p) const {
    return p == overflow_mode::ieee ? ieee : saturate;
  }
};

inline expected expect_finite(const target& t, mpfr_srcptr x, round_mode mode) {
  const layout l = layout_of(t);
  real y(l.M + 1);
  round_to_grid(t, x, mpfr_mode(mode), true, y.get());
  const double v = mpfr_get_d(y.get(), MPFR_RNDN);  // exact: every target fits a double
  const bool negative = mpfr_signbit(x) != 0;
  require(std::signbit(v) == negative, "sign lost in rounding");
  if (std::isinf(v) || std::fabs(v) > t.max_finite) {
    const bool away = mode == round_mode::nearest_even ||
                      (mode == round_mode::toward_positive && !negative) ||
                      (mode == round_mode::toward_negative && negative);
    return {overflow_code(t, negative, away, overflow_mode::ieee),
            overflow_code(t, negative, away, overflow_mode::saturate)};
  }
  const std::uint32_t c = code_of(t, v);
  return {c, c};
}

inline expected same(std::uint32_t c) { return {c, c}; }

inline expected expect(const target& t, mpfr_srcptr x, round_mode mode) {
  require(!mpfr_nan_p(x), "an mpfr NaN has no payload: use the typed overloads");
  if (mpfr_inf_p(x)) {
    const bool negative = mpfr_signbit(x) != 0;
    return {infinite_input_code(t, negative, overflow_mode::ieee),
            infinite_input_code(t, negative, overflow_mode::saturate)};
  }
  return expect_finite(t, x, mode);
}

inline expected expect(const target& t, double x, round_mode mode) {
  if (std::isnan(x)) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    return same(nan_code(t, std::signbit(x), bits & ((std::uint64_t{1} << 52) - 1), 52));
  }
  real v(53);
  mpfr_set_d(v.get(), x, MPFR_RNDN);  // exact, keeps -0 and infinities
  return expect(t, v.get(), mode);
}

inline expected expect(const target& t, float x, round_mode mode) {
  if (std::isnan(x)) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    return same(nan_code(t, std::signbit(x), bits & 0x7FFFFFu, 23));
  }
  real v(24);
  mpfr_set_flt(v.get(), x, MPFR_RNDN);  // exact
  return expect(t, v.get(), mode);
}

inline expected expect(const target& t, std::int64_t x, round_mode mode) {
  real v(64);
  mpfr_set_sj(v.get(), static_cast<intmax_t>(x), MPFR_RNDN);  // exact
  return expect(t, v.get(), mode);
}

// long double NaN payloads are read for the usual layouts (little-endian): x87 80-bit
// (64-bit significand with an explicit leading bit, quiet bit 62), IEEE binary128 (the
// top 48 fraction bits sit below sign and exponent in the high 8 bytes), and a long
// double that is a double. Values of any layout go through mpfr_set_ld.
inline expected expect(const target& t, long double x, round_mode mode) {
  constexpr int digits = std::numeric_limits<long double>::digits;
  static_assert(digits == 53 || digits == 64 || digits == 113,
                "mpfr_oracle: unsupported long double layout");
  if (std::isnan(x)) {
    unsigned char bytes[sizeof(long double)] = {};
    std::memcpy(bytes, &x, sizeof x);
    std::uint64_t word = 0;
    if constexpr (digits == 64) {
      std::memcpy(&word, bytes, 8);
      return same(nan_code(t, std::signbit(x), word & ~(std::uint64_t{1} << 63), 63));
    } else if constexpr (digits == 113) {
      std::memcpy(&word, bytes + 8, 8);
      return same(nan_code(t, std::signbit(x), word & ((std::uint64_t{1} << 48) - 1), 48));
    } else {
      return expect(t, static_cast<double>(x), mode);
    }
  }
  real v(std::numeric_limits<long double>::digits);
  mpfr_set_ld(v.get(), x, MPFR_RNDN);  // exact
  return expect(t, v.get(), mode);
}

template <class Source>
std::uint32_t expected_code(const target& t, Source x, round_mode mode, overflow_mode policy) {
  return expect(t, x, mode)[policy];
}

// ---- Stochastic rounding with given random bits ---------------------------------------

struct stochastic_split {
  bool special = false;                    // NaN or infinite input: `special_code` for every r
  std::uint32_t special_code[2] = {0, 0};  // indexed by overflow_mode
  bool negative = false;
  bool exact = false;         // on the grid: lo == hi == |x|
  std::uint64_t q = 0;        // floor(2^32 * (|x| - lo) / (hi - lo))
  bool lo_overflows = false;  // lo above the largest finite
  bool hi_overflows = false;
  double lo = 0, hi = 0;  // the neighbours' magnitudes when finite
};

inline stochastic_split split_finite(const target& t, mpfr_srcptr x) {
  const layout l = layout_of(t);
  stochastic_split s;
  s.negative = mpfr_signbit(x) != 0;
  real ax(mpfr_get_prec(x));
  mpfr_abs(ax.get(), x, MPFR_RNDN);  // exact
  real lo(l.M + 1), hi(l.M + 1);
  round_to_grid(t, ax.get(), MPFR_RNDZ, false, lo.get());
  round_to_grid(t, ax.get(), MPFR_RNDA, false, hi.get());
  s.lo = mpfr_get_d(lo.get(), MPFR_RNDZ);
  s.hi = mpfr_get_d(hi.get(), MPFR_RNDZ);
  s.lo_overflows = mpfr_cmp_d(lo.get(), t.max_finite) > 0;
  s.hi_overflows = mpfr_cmp_d(hi.get(), t.max_finite) > 0;
  s.exact = mpfr_equal_p(lo.get(), hi.get()) != 0;
  if (s.exact) {
    require(mpfr_equal_p(lo.get(), ax.get()) != 0, "lo == hi but x is not on the grid");
    return s;
  }
  // |x| - lo spans at most the input's significand; hi - lo is a power of two. With 256
  // bits both the difference and the quotient are exact, which the ternaries confirm.
  real dist(256), gap(256), frac(256);
  require(mpfr_sub(dist.get(), ax.get(), lo.get(), MPFR_RNDN) == 0, "inexact |x| - lo");
  require(mpfr_sub(gap.get(), hi.get(), lo.get(), MPFR_RNDN) == 0, "inexact hi - lo");
  require(mpfr_div(frac.get(), dist.get(), gap.get(), MPFR_RNDN) == 0, "inexact fraction");
  require(mpfr_sgn(frac.get()) > 0 && mpfr_cmp_ui(frac.get(), 1) < 0, "fraction not in (0,1)");
  mpfr_mul_2ui(frac.get(), frac.get(), 32, MPFR_RNDN);                   // exact
  s.q = static_cast<std::uint64_t>(mpfr_get_uj(frac.get(), MPFR_RNDZ));  // floor
  require(s.q < (std::uint64_t{1} << 32), "q out of range");
  return s;
}

inline stochastic_split special_split(expected e) {
  stochastic_split s;
  s.special = true;
  s.special_code[0] = e.ieee;
  s.special_code[1] = e.saturate;
  return s;
}

inline stochastic_split split(const target& t, mpfr_srcptr x) {
  if (mpfr_inf_p(x)) return special_split(expect(t, x, round_mode::nearest_even));
  return split_finite(t, x);
}
inline stochastic_split split(const target& t, double x) {
  if (!std::isfinite(x)) return special_split(expect(t, x, round_mode::nearest_even));
  real v(53);
  mpfr_set_d(v.get(), x, MPFR_RNDN);
  return split_finite(t, v.get());
}
inline stochastic_split split(const target& t, float x) {
  if (!std::isfinite(x)) return special_split(expect(t, x, round_mode::nearest_even));
  real v(24);
  mpfr_set_flt(v.get(), x, MPFR_RNDN);
  return split_finite(t, v.get());
}
inline stochastic_split split(const target& t, std::int64_t x) {
  real v(64);
  mpfr_set_sj(v.get(), static_cast<intmax_t>(x), MPFR_RNDN);
  return split_finite(t, v.get());
}
inline stochastic_split split(const target& t, long double x) {
  if (!std::isfinite(x)) return special_split(expect(t, x, round_mode::nearest_even));
  real v(std::numeric_limits<long double>::digits);
  mpfr_set_ld(v.get(), x, MPFR_RNDN);
  return split_finite(t, v.get());
}

// The code stochastic rounding must give for the split input and random bits r.
inline std::uint32_t stochastic_code(const target& t, const stochastic_split& s, std::uint32_t r,
                                     overflow_mode policy) {
  if (s.special) return s.special_code[policy == overflow_mode::ieee ? 0 : 1];
  const bool up = !s.exact && s.q + r >= (std::uint64_t{1} << 32);
  const bool overflows = up ? s.hi_overflows : s.lo_overflows;
  if (overflows) return overflow_code(t, s.negative, true, policy);
  const double m = up ? s.hi : s.lo;
  return code_of(t, s.negative ? -m : m);
}

template <class Source>
std::uint32_t expected_stochastic_code(const target& t, Source x, std::uint32_t r,
                                       overflow_mode policy) {
  return stochastic_code(t, split(t, x), r, policy);
}

}  // namespace lowprec_test::mpfr_oracle
