// Properties every lowprec small float must have, checked on every code of every format
// against the independent decoder in reference/decode_oracle.hpp.
#include "lowprec/small_float.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <type_traits>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>  // _mm_getcsr, _mm_setcsr
#endif

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "reference/decode_oracle.hpp"
#include "support/catch.hpp"

namespace {

using lowprec::bf16;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;
using lowprec::overflow;
using lowprec::rounding;
using lowprec_test::format_desc;

template <class T> constexpr format_desc desc_of();
template <> constexpr format_desc desc_of<fp16>() { return lowprec_test::fp16_desc; }
template <> constexpr format_desc desc_of<bf16>() { return lowprec_test::bf16_desc; }
template <> constexpr format_desc desc_of<fp8_e4m3fn>() { return lowprec_test::e4m3fn_desc; }
template <> constexpr format_desc desc_of<fp8_e5m2>() { return lowprec_test::e5m2_desc; }

template <class T>
std::uint32_t code_count() {
  return 1u << (8 * sizeof(T));
}
template <class T>
T from_code(std::uint32_t c) {
  return T::from_bits(static_cast<typename T::storage_type>(c));
}
std::uint32_t float_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

#define LOWPREC_ALL_FORMATS fp16, bf16, fp8_e4m3fn, fp8_e5m2

TEMPLATE_TEST_CASE("is a trivially copyable value of exactly its width", "[formats]",
                   LOWPREC_ALL_FORMATS) {
  using T = TestType;
  STATIC_REQUIRE(sizeof(T) == (T::format::total_bits + 7) / 8);
  STATIC_REQUIRE(std::is_trivially_copyable_v<T>);
  STATIC_REQUIRE(std::is_trivially_default_constructible_v<T>);
  STATIC_REQUIRE(std::is_standard_layout_v<T>);
  // Widening is implicit, narrowing never is.
  STATIC_REQUIRE(std::is_convertible_v<T, float>);
  STATIC_REQUIRE(!std::is_convertible_v<float, T>);
  STATIC_REQUIRE(!std::is_convertible_v<double, T>);
  STATIC_REQUIRE(!std::is_convertible_v<int, T>);
  STATIC_REQUIRE(std::is_constructible_v<T, double>);
  STATIC_REQUIRE(std::is_nothrow_constructible_v<T, float>);
  CHECK(T{}.bits() == 0);
}

TEMPLATE_TEST_CASE("every code decodes to the value an independent decoder gives", "[formats]",
                   LOWPREC_ALL_FORMATS) {
  using T = TestType;
  const format_desc f = desc_of<T>();
  std::uint32_t mismatches = 0;
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
    const float got = static_cast<float>(from_code<T>(c));
    const double want = lowprec_test::oracle_decode(f, c);
    if (want != want) {
      // NaN: a quiet float NaN with the sign kept and the payload shifted up unchanged.
      const std::uint32_t u = float_bits(got);
      const std::uint32_t payload = c & ((1u << f.mantissa_bits) - 1);
      const bool ok = std::isnan(got) && std::signbit(got) == std::signbit(want) &&
                      (u & 0x00400000u) != 0 &&
                      ((u & 0x003FFFFFu) >> (23 - f.mantissa_bits)) ==
                          (payload & ((1u << (f.mantissa_bits - 1)) - 1));
      mismatches += ok ? 0 : 1;
    } else if (static_cast<double>(got) != want || std::signbit(got) != std::signbit(want)) {
      ++mismatches;
      UNSCOPED_INFO("code " << c << " decodes to " << got << ", oracle " << want);
    }
  }
  CHECK(mismatches == 0);
}

#if defined(__SSE2__) || defined(_M_X64)
// Widening is integer-only: bf16 subnormals are float subnormals, which a float multiply
// would flush to zero under FTZ/DAZ (a bug this test caught in an earlier version).
TEMPLATE_TEST_CASE("decoding does not depend on MXCSR (DAZ, FTZ, rounding mode)", "[formats]",
                   LOWPREC_ALL_FORMATS) {
  using T = TestType;
  std::vector<std::uint32_t> plain(code_count<T>());
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
    plain[c] = float_bits(static_cast<float>(from_code<T>(c)));
  }
  const unsigned int saved = _mm_getcsr();
  for (unsigned int csr : {0x8040u /* FTZ|DAZ */, 0x8040u | 0x6000u /* + toward zero */,
                           0x2000u /* down */, 0x4000u /* up */}) {
    INFO("MXCSR bits 0x" << std::hex << csr);
    std::vector<std::uint32_t> got(code_count<T>());
    _mm_setcsr((saved & ~0xE040u) | csr);
    for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
      got[c] = float_bits(static_cast<float>(from_code<T>(c)));
    }
    _mm_setcsr(saved);  // before comparing: DAZ would also change comparisons
    std::uint32_t mismatches = 0;
    for (std::uint32_t c = 0; c < code_count<T>(); ++c) mismatches += got[c] != plain[c];
    CHECK(mismatches == 0);
  }
}
#endif

TEMPLATE_TEST_CASE("every code survives decode then encode", "[formats]", LOWPREC_ALL_FORMATS) {
  using T = TestType;
  const format_desc f = desc_of<T>();
  std::uint32_t mismatches = 0;
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
    const T x = from_code<T>(c);
    const float v = x;
    for (const T back : {T(v), T(static_cast<double>(v)), T::from(static_cast<long double>(v))}) {
      if (lowprec_test::oracle_is_nan(f, c)) {
        // A NaN comes back as a NaN of the same sign (quieted).
        mismatches += (isnan(back) && signbit(back) == signbit(x)) ? 0 : 1;
      } else if (back.bits() != c) {
        ++mismatches;
        UNSCOPED_INFO("code " << c << " came back as " << +back.bits());
      }
    }
    // Integer-valued codes also come back from the integer.
    if (isfinite(x) && std::fabs(v) < 9.0e18f && std::trunc(v) == v && v != 0.0f) {
      const auto i = static_cast<std::int64_t>(v);
      if (T(i).bits() != c) {
        ++mismatches;
        UNSCOPED_INFO("integer " << i << " encodes to " << +T(i).bits() << ", want " << c);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEMPLATE_TEST_CASE("numeric_limits agree with a scan of all codes", "[formats]",
                   LOWPREC_ALL_FORMATS) {
  using T = TestType;
  using L = std::numeric_limits<T>;
  const format_desc f = desc_of<T>();
  double max_finite = 0, min_normal = INFINITY, min_sub = INFINITY;
  for (std::uint32_t c = 0; c < code_count<T>() / 2; ++c) {
    const double v = lowprec_test::oracle_decode(f, c);
    if (!std::isfinite(v) || v == 0) continue;
    max_finite = std::max(max_finite, v);
    min_sub = std::min(min_sub, v);
    if (((c >> f.mantissa_bits) & ((1u << f.exponent_bits) - 1)) != 0) {
      min_normal = std::min(min_normal, v);
    }
  }
  STATIC_REQUIRE(L::is_specialized);
  CHECK(static_cast<double>(L::max()) == max_finite);
  CHECK(static_cast<double>(L::lowest()) == -max_finite);
  CHECK(static_cast<double>(L::min()) == min_normal);
  CHECK(static_cast<double>(L::denorm_min()) == min_sub);
  CHECK(static_cast<double>(L::epsilon()) == std::ldexp(1.0, -f.mantissa_bits));
  CHECK(static_cast<float>(L::round_error()) == 0.5f);
  CHECK(isnan(L::quiet_NaN()));
  CHECK(isnan(L::signaling_NaN()));
  CHECK(L::has_infinity == f.has_infinity);
  if (L::has_infinity) {
    CHECK(std::isinf(static_cast<float>(L::infinity())));
  }
  CHECK(L::digits == f.mantissa_bits + 1);
  // C's exponent convention: max = (1 - 2^-digits) * 2^max_exponent for IEEE formats.
  int e = 0;
  std::frexp(max_finite, &e);
  CHECK(L::max_exponent == e);
  std::frexp(min_normal, &e);
  CHECK(L::min_exponent == e);
  CHECK(L::min_exponent10 == static_cast<int>(std::ceil(std::log10(min_normal))));
  CHECK(L::max_exponent10 == static_cast<int>(std::floor(std::log10(max_finite))));
  CHECK(L::digits10 == static_cast<int>(std::floor((L::digits - 1) * std::log10(2.0))));
  CHECK(L::max_digits10 == static_cast<int>(std::ceil(L::digits * std::log10(2.0) + 1)));
}

TEST_CASE("numeric_limits match the C++23 std::float16_t and float's exponent range",
          "[formats]") {
  // Values of std::numeric_limits<std::float16_t> in C++23 (P1467), and bf16 shares
  // float's exponent range.
  using L16 = std::numeric_limits<fp16>;
  STATIC_REQUIRE(L16::digits == 11);
  STATIC_REQUIRE(L16::digits10 == 3);
  STATIC_REQUIRE(L16::max_digits10 == 5);
  STATIC_REQUIRE(L16::min_exponent == -13);
  STATIC_REQUIRE(L16::max_exponent == 16);
  STATIC_REQUIRE(L16::min_exponent10 == -4);
  STATIC_REQUIRE(L16::max_exponent10 == 4);
  STATIC_REQUIRE(L16::is_iec559);
  using LB = std::numeric_limits<bf16>;
  STATIC_REQUIRE(LB::min_exponent == std::numeric_limits<float>::min_exponent);
  STATIC_REQUIRE(LB::max_exponent == std::numeric_limits<float>::max_exponent);
  STATIC_REQUIRE(LB::min_exponent10 == std::numeric_limits<float>::min_exponent10);
  STATIC_REQUIRE(LB::max_exponent10 == std::numeric_limits<float>::max_exponent10);
  STATIC_REQUIRE(!LB::is_iec559);
  STATIC_REQUIRE(!std::numeric_limits<fp8_e4m3fn>::has_infinity);
  STATIC_REQUIRE(!std::numeric_limits<fp8_e4m3fn>::has_signaling_NaN);
  STATIC_REQUIRE(std::numeric_limits<fp8_e5m2>::has_signaling_NaN);
}

TEMPLATE_TEST_CASE("classification and sign functions agree with float on every code",
                   "[formats]", LOWPREC_ALL_FORMATS) {
  using T = TestType;
  const float min_normal = std::numeric_limits<T>::min();
  std::uint32_t mismatches = 0;
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
    const T x = from_code<T>(c);
    const float v = x;
    const T y = from_code<T>(c ^ 0x5Au);
    const bool ok = isnan(x) == std::isnan(v) && isinf(x) == std::isinf(v) &&
                    isfinite(x) == std::isfinite(v) &&
                    // normal in the format, not in float: fp16 subnormals are normal floats
                    isnormal(x) == (std::isnormal(v) && std::fabs(v) >= min_normal) &&
                    signbit(x) == std::signbit(v) &&
                    float_bits(abs(x)) == float_bits(std::fabs(v)) &&
                    float_bits(-x) == float_bits(-v) &&
                    float_bits(copysign(x, y)) ==
                        float_bits(std::copysign(v, static_cast<float>(y)));
    mismatches += ok ? 0 : 1;
  }
  CHECK(mismatches == 0);
}

// Every pair of 8-bit codes; for 16-bit formats a large random sample of pairs.
template <class T, class F>
void for_code_pairs(F&& body) {
  if constexpr (sizeof(T) == 1) {
    for (std::uint32_t a = 0; a < 256; ++a)
      for (std::uint32_t b = 0; b < 256; ++b) body(from_code<T>(a), from_code<T>(b));
  } else {
    std::mt19937 rng(20261123);
    for (int i = 0; i < 1 << 20; ++i) {
      body(from_code<T>(rng() & 0xFFFFu), from_code<T>(rng() & 0xFFFFu));
    }
  }
}

TEMPLATE_TEST_CASE("arithmetic is correctly rounded and comparisons follow IEEE", "[formats]",
                   LOWPREC_ALL_FORMATS) {
  using T = TestType;
  std::uint64_t mismatches = 0;
  // The reference: the exact result (double holds sums and products of these formats
  // exactly; a quotient is rounded to 53 bits, which is innocuous before rounding to
  // <= 11 bits) rounded once by the double encoder.
  const auto same = [](T got, double exact) {
    const T want = T(exact);
    return isnan(want) ? isnan(got) : got.bits() == want.bits();
  };
  for_code_pairs<T>([&](T a, T b) {
    const double x = static_cast<float>(a), y = static_cast<float>(b);
    bool ok = same(a + b, x + y) && same(a - b, x - y) && same(a * b, x * y) &&
              same(a / b, x / y);
    ok = ok && (a == b) == (x == y) && (a != b) == (x != y) && (a < b) == (x < y) &&
         (a <= b) == (x <= y) && (a > b) == (x > y) && (a >= b) == (x >= y);
    T c = a;
    c += b;
    ok = ok && (c.bits() == (a + b).bits() || (isnan(c) && isnan(a + b)));
    mismatches += ok ? 0 : 1;
  });
  CHECK(mismatches == 0);
}

TEMPLATE_TEST_CASE("hash agrees with equality", "[formats]", LOWPREC_ALL_FORMATS) {
  using T = TestType;
  const std::hash<T> h;
  CHECK(h(T(0.0f)) == h(T(-0.0f)));
  CHECK(T(0.0f) == T(-0.0f));
  CHECK(h(T(1.0f)) != h(T(2.0f)));
  CHECK(h(T(1.0f)) == h(T(1.0)));
}

TEMPLATE_TEST_CASE("prints its value like float", "[formats]", LOWPREC_ALL_FORMATS) {
  using T = TestType;
  std::ostringstream a, b;
  a << T(1.5f) << ' ' << T(-0.25f) << ' ' << std::numeric_limits<T>::max();
  b << 1.5f << ' ' << -0.25f << ' ' << static_cast<float>(std::numeric_limits<T>::max());
  CHECK(a.str() == b.str());
}

TEST_CASE("converts between formats with one rounding", "[formats]") {
  std::uint32_t mismatches = 0;
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    const fp16 h = fp16::from_bits(static_cast<std::uint16_t>(c));
    const bf16 b = bf16::from_bits(static_cast<std::uint16_t>(c));
    const bool ok = (isnan(h) ? isnan(bf16(h)) : bf16(h).bits() == bf16(static_cast<float>(h)).bits()) &&
                    (isnan(b) ? isnan(fp16(b)) : fp16(b).bits() == fp16(static_cast<float>(b)).bits()) &&
                    (isnan(b) || fp8_e4m3fn(b).bits() == fp8_e4m3fn(static_cast<float>(b)).bits());
    mismatches += ok ? 0 : 1;
  }
  CHECK(mismatches == 0);
  CHECK(bf16(fp16(3.14159265f)).bits() == 0x4049);
  CHECK(fp16::from(bf16(1e10f), rounding::nearest_even, overflow::saturate).bits() == 0x7BFF);
}

TEST_CASE("integers round once, never through double", "[formats]") {
  // 2^60 + 2^52 + 1 is just above the midpoint of the bf16 neighbours 2^60 and
  // 2^60 + 2^53. Through double it would first become 2^60 + 2^52 (a tie) and then
  // round to even, 2^60: the wrong answer.
  const std::int64_t x = (std::int64_t{1} << 60) + (std::int64_t{1} << 52) + 1;
  CHECK(bf16(x).bits() == 0x5D81);
  CHECK(bf16(static_cast<double>(x)).bits() == 0x5D80);
  CHECK(bf16(-x).bits() == 0xDD81);
  CHECK(bf16(std::numeric_limits<std::int64_t>::min()).bits() == 0xDF00);  // -2^63
  CHECK(bf16(std::numeric_limits<std::uint64_t>::max()).bits() == 0x5F80);  // 2^64
  CHECK(fp16(65519).bits() == 0x7BFF);
  CHECK(fp16(65520u).bits() == 0x7C00);
  CHECK(fp16(static_cast<short>(-2048)).bits() == 0xE800);
  CHECK(fp16(true).bits() == 0x3C00);
  CHECK(fp8_e4m3fn(1000).bits() == 0x7F);
  CHECK(fp8_e4m3fn::from(-1000, rounding::nearest_even, overflow::saturate).bits() == 0xFE);
}

TEST_CASE("long double inputs round once from their full precision", "[formats]") {
  // 1 + 2^-11 + 2^-60: just above the fp16 tie between 1 and 1 + 2^-10. Where long double
  // keeps more than 53 bits, a detour through double would lose 2^-60 and round to even.
  const long double x = 1.0L + std::ldexp(1.0L, -11) + std::ldexp(1.0L, -60);
  if (std::numeric_limits<long double>::digits >= 61) {
    CHECK(fp16::from(x).bits() == 0x3C01);
  } else {
    CHECK(fp16::from(x).bits() == 0x3C00);
  }
  CHECK(fp16::from(-x, rounding::toward_zero).bits() == 0xBC00);
  CHECK(isnan(bf16::from(std::numeric_limits<long double>::quiet_NaN())));
  CHECK(bf16::from(-std::numeric_limits<long double>::infinity()).bits() == 0xFF80);
  CHECK(bf16::from(std::numeric_limits<long double>::max()).bits() == 0x7F80);
  CHECK(fp16::from(std::numeric_limits<long double>::denorm_min()).bits() == 0x0000);
}

#if LOWPREC_HAS_CONSTEXPR_BIT_CAST
TEST_CASE("conversions are usable in constant expressions", "[formats]") {
  constexpr bf16 pi_b(3.14159265f);
  constexpr fp16 pi_h(3.14159265358979);
  constexpr float back = pi_b;
  STATIC_REQUIRE(pi_b.bits() == 0x4049);
  STATIC_REQUIRE(pi_h.bits() == 0x4248);
  STATIC_REQUIRE(back == 3.140625f);
  STATIC_REQUIRE((bf16(1.0f) + bf16(2.0f)).bits() == bf16(3).bits());
  STATIC_REQUIRE(std::numeric_limits<fp8_e4m3fn>::max().bits() == 0x7E);
}
#endif

TEMPLATE_TEST_CASE("math functions are found by ADL and sqrt is correctly rounded",
                   "[formats]", LOWPREC_ALL_FORMATS) {
  using T = TestType;
  using std::sqrt;  // as generic code (Eigen) writes it: ADL must still pick ours
  STATIC_REQUIRE(std::is_same_v<decltype(sqrt(T{})), T>);
  STATIC_REQUIRE(std::is_same_v<decltype(pow(T{}, T{})), T>);
  std::uint32_t mismatches = 0;
  for (std::uint32_t c = 0; c < code_count<T>(); c += sizeof(T) == 1 ? 1 : 7) {
    const T x = from_code<T>(c);
    // double's sqrt is correctly rounded and has >= 2p+2 bits: rounding it once more
    // gives the correctly rounded result in T.
    const T want = T(std::sqrt(static_cast<double>(static_cast<float>(x))));
    const T got = sqrt(x);
    mismatches += (isnan(want) ? isnan(got) : got.bits() == want.bits()) ? 0 : 1;
  }
  CHECK(mismatches == 0);
  CHECK(static_cast<float>(exp(T(0.0f))) == 1.0f);
  CHECK(static_cast<float>(fmax(T(1.0f), std::numeric_limits<T>::quiet_NaN())) == 1.0f);
  CHECK(static_cast<float>(floor(T(-1.5f))) == -2.0f);
  CHECK(fabs(T(-2.0f)).bits() == T(2.0f).bits());
}
