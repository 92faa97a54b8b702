// A new format is a few lines: the OCP Microscaling (MX v1.0, 2023) element formats FP4
// E2M1 and FP6 E2M3 / E3M2 defined here, in the test, from small_float with
// specials::none (finite only: no infinity, no NaN). Checked against value tables derived
// by hand from the MX specification's definition (bias 2^(E-1) - 1, subnormals at
// exponent field 0, every code a number) and a brute-force nearest-value oracle.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "lowprec/small_float.hpp"
#include "support/catch.hpp"

namespace {

// The whole definition of each format:
struct fp4_e2m1_format : lowprec::float_format<2, 1, lowprec::specials::none> {
  static constexpr const char* name = "fp4_e2m1";
};
struct fp6_e2m3_format : lowprec::float_format<2, 3, lowprec::specials::none> {
  static constexpr const char* name = "fp6_e2m3";
};
struct fp6_e3m2_format : lowprec::float_format<3, 2, lowprec::specials::none> {
  static constexpr const char* name = "fp6_e3m2";
};
using fp4_e2m1 = lowprec::small_float<fp4_e2m1_format>;
using fp6_e2m3 = lowprec::small_float<fp6_e2m3_format>;
using fp6_e3m2 = lowprec::small_float<fp6_e3m2_format>;

using lowprec::overflow;
using lowprec::rounding;

// Non-negative values by code, from the MX spec's tables (E2M1: Table 5; E2M3 / E3M2:
// subnormal step 2^-3 / 2^-4, largest 7.5 / 28).
template <class T> std::vector<double> spec_values();
template <> std::vector<double> spec_values<fp4_e2m1>() {
  return {0, 0.5, 1, 1.5, 2, 3, 4, 6};
}
template <> std::vector<double> spec_values<fp6_e2m3>() {
  std::vector<double> v;
  for (int k = 0; k < 8; ++k) v.push_back(k / 8.0);           // subnormals, 0.125 apart
  for (int e = 0; e < 3; ++e)                                  // 1..1.875, 2..3.75, 4..7.5
    for (int k = 0; k < 8; ++k) v.push_back(std::ldexp(1.0 + k / 8.0, e));
  return v;
}
template <> std::vector<double> spec_values<fp6_e3m2>() {
  std::vector<double> v;
  for (int k = 0; k < 4; ++k) v.push_back(k / 16.0);          // subnormals, 0.0625 apart
  for (int e = -2; e <= 4; ++e)                                // 0.25 .. 28
    for (int k = 0; k < 4; ++k) v.push_back(std::ldexp(1.0 + k / 4.0, e));
  return v;
}

template <class T> T from_code(std::uint32_t c) {
  return T::from_bits(static_cast<typename T::storage_type>(c));
}

// Brute force: the code of the nearest table value to x >= 0, ties to the even code;
// beyond the largest value, the largest (the formats saturate).
std::uint32_t nearest_code(const std::vector<double>& v, double x) {
  if (x >= v.back()) return static_cast<std::uint32_t>(v.size() - 1);  // (distances absorb)
  std::uint32_t best = 0;
  for (std::uint32_t c = 1; c < v.size(); ++c) {
    const double d = std::fabs(v[c] - x), db = std::fabs(v[best] - x);
    if (d < db || (d == db && (c & 1u) == 0)) best = c;
  }
  return best;
}

}  // namespace

#define LOWPREC_FINITE_FORMATS fp4_e2m1, fp6_e2m3, fp6_e3m2

TEMPLATE_TEST_CASE("finite-only formats decode every code to the MX table", "[formats]",
                   LOWPREC_FINITE_FORMATS) {
  using F = typename TestType::format;
  const std::vector<double> v = spec_values<TestType>();
  REQUIRE(v.size() == (1u << (F::total_bits - 1)));
  STATIC_REQUIRE(sizeof(TestType) == 1);
  STATIC_REQUIRE(std::is_trivially_copyable_v<TestType>);
  for (std::uint32_t c = 0; c < v.size(); ++c) {
    INFO(F::name << " code " << c);
    const TestType pos = from_code<TestType>(c), neg = from_code<TestType>(c | F::sign_mask);
    CHECK(static_cast<double>(static_cast<float>(pos)) == v[c]);
    CHECK(static_cast<double>(static_cast<float>(neg)) == -v[c]);
    CHECK_FALSE(isnan(pos));
    CHECK_FALSE(isinf(neg));
    CHECK(isfinite(pos));
    CHECK(signbit(neg));
    CHECK(TestType(static_cast<float>(pos)).bits() == c);  // decode then encode
    CHECK(TestType(static_cast<float>(neg)).bits() == (c | F::sign_mask));
  }
}

TEMPLATE_TEST_CASE("finite-only formats round to nearest, ties to even, and saturate",
                   "[formats]", LOWPREC_FINITE_FORMATS) {
  using F = typename TestType::format;
  const std::vector<double> v = spec_values<TestType>();
  // Every float on a fine grid up to twice the largest value, plus each midpoint between
  // neighbours and the floats either side of it.
  std::vector<float> xs;
  for (float x = 0; x < 2 * static_cast<float>(v.back()); x += 1.0f / 1024) xs.push_back(x);
  for (std::size_t c = 0; c + 1 < v.size(); ++c) {
    const float mid = static_cast<float>((v[c] + v[c + 1]) / 2);
    xs.insert(xs.end(), {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 100.0f)});
  }
  xs.push_back(std::numeric_limits<float>::max());
  for (const float x : xs) {
    INFO(F::name << " x = " << x);
    const std::uint32_t want = nearest_code(v, static_cast<double>(x));
    CHECK(TestType(x).bits() == want);
    CHECK(TestType(-x).bits() == (want | F::sign_mask));
    CHECK(TestType(static_cast<double>(x)).bits() == want);
    // Overflow has nowhere to go but the largest value, under either policy.
    CHECK(TestType::from(x, rounding::nearest_even, overflow::saturate).bits() == want);
  }
}

TEMPLATE_TEST_CASE("finite-only formats: NaN, infinity, directed rounding and limits",
                   "[formats]", LOWPREC_FINITE_FORMATS) {
  using F = typename TestType::format;
  using L = std::numeric_limits<TestType>;
  const std::vector<double> v = spec_values<TestType>();
  const auto max_code = static_cast<std::uint32_t>(v.size() - 1);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Infinity saturates; NaN becomes zero with its sign (documented in small_float.hpp).
  CHECK(TestType(inf).bits() == max_code);
  CHECK(TestType(-inf).bits() == (max_code | F::sign_mask));
  CHECK(TestType(nan).bits() == 0u);
  CHECK(TestType(-nan).bits() == F::sign_mask);
  CHECK(TestType::from(1e30, rounding::toward_positive, overflow::ieee).bits() == max_code);
  CHECK(TestType::from(-1e30, rounding::toward_negative, overflow::ieee).bits() ==
        (max_code | F::sign_mask));
  // Directed rounding between the two largest values.
  const double between = (v[max_code - 1] + v[max_code]) / 2 - 1e-3;
  CHECK(TestType(between, rounding::toward_positive).bits() == max_code);
  CHECK(TestType(between, rounding::toward_zero).bits() == max_code - 1);
  CHECK(TestType(-between, rounding::toward_negative).bits() == (max_code | F::sign_mask));
  // Arithmetic in float, rounded back.
  CHECK(static_cast<float>(from_code<TestType>(max_code) + from_code<TestType>(max_code)) ==
        static_cast<float>(v[max_code]));
  // Limits.
  STATIC_REQUIRE_FALSE(L::has_infinity);
  STATIC_REQUIRE_FALSE(L::has_quiet_NaN);
  STATIC_REQUIRE_FALSE(L::has_signaling_NaN);
  STATIC_REQUIRE(L::digits == F::mantissa_bits + 1);
  CHECK(static_cast<double>(static_cast<float>(L::max())) == v.back());
  CHECK(static_cast<double>(static_cast<float>(L::lowest())) == -v.back());
  CHECK(static_cast<float>(L::denorm_min()) == static_cast<float>(v[1]));
  CHECK(static_cast<float>(L::min()) == std::ldexp(1.0f, F::min_exponent));
  CHECK(static_cast<float>(L::epsilon()) == std::ldexp(1.0f, -F::mantissa_bits));
  CHECK(static_cast<float>(L::round_error()) == 0.5f);
  // min_exponent10 / max_exponent10: as C defines them, from the values.
  CHECK(std::pow(10.0, L::min_exponent10) >= std::ldexp(1.0, F::min_exponent));
  CHECK(std::pow(10.0, L::min_exponent10 - 1) < std::ldexp(1.0, F::min_exponent));
  CHECK(std::pow(10.0, L::max_exponent10) <= v.back());
  CHECK(std::pow(10.0, L::max_exponent10 + 1) > v.back());
}
