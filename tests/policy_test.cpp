// Rounding policies that are not covered by golden tables: stochastic rounding's
// determinism and statistics, and the policy names.
#include "lowprec/policy.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "support/catch.hpp"

using lowprec::bf16;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;
using lowprec::overflow;
using lowprec::rounding;

TEST_CASE("policies have readable names", "[formats]") {
  CHECK(std::string(lowprec::to_string(rounding::nearest_even)) == "nearest_even");
  CHECK(std::string(lowprec::to_string(rounding::stochastic)) == "stochastic");
  CHECK(std::string(lowprec::to_string(rounding::toward_negative)) == "toward_negative");
  CHECK(std::string(lowprec::to_string(overflow::saturate)) == "saturate");
  CHECK(std::string(lowprec::to_string(overflow::ieee)) == "ieee");
}

TEST_CASE("stochastic rounding with fixed bits is deterministic and brackets the value",
          "[formats]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1000.0f, 1000.0f);
  for (int i = 0; i < 100000; ++i) {
    const float x = dist(rng);
    const std::uint32_t r = static_cast<std::uint32_t>(rng());
    const bf16 a = bf16::from(x, rounding::stochastic, overflow::ieee, r);
    const bf16 b = bf16::from(x, rounding::stochastic, overflow::ieee, r);
    REQUIRE(a.bits() == b.bits());
    const bf16 lo = bf16::from(x, rounding::toward_negative);
    const bf16 hi = bf16::from(x, rounding::toward_positive);
    REQUIRE((a.bits() == lo.bits() || a.bits() == hi.bits()));
    // All-zero bits never round up (truncation); all-one bits round every inexact value up.
    REQUIRE(bf16::from(x, rounding::stochastic, overflow::ieee, 0).bits() ==
            bf16::from(x, rounding::toward_zero).bits());
    const bf16 away = std::fabs(static_cast<float>(lo)) > std::fabs(static_cast<float>(hi)) ? lo : hi;
    REQUIRE(bf16::from(x, rounding::stochastic, overflow::ieee, 0xFFFFFFFFu).bits() == away.bits());
  }
}

TEST_CASE("stochastic rounding to bf16 is (x_bits + (r >> 16)) & 0xFFFF0000", "[formats]") {
  // The formula of torchao / llm.c / PyTorch issue 120376 for normal floats.
  std::mt19937 rng(11);
  for (int i = 0; i < 100000; ++i) {
    std::uint32_t xb = static_cast<std::uint32_t>(rng());
    xb = (xb & 0x807FFFFFu) | ((1u + xb % 250u) << 23);  // a normal float, not near inf
    float x = 0;
    std::memcpy(&x, &xb, 4);
    const std::uint32_t r = static_cast<std::uint32_t>(rng());
    const auto want = static_cast<std::uint16_t>(((xb & 0x7FFFFFFFu) + (r >> 16)) >> 16 |
                                                 ((xb >> 16) & 0x8000u));
    REQUIRE(bf16::from(x, rounding::stochastic, overflow::ieee, r).bits() == want);
  }
}

// The mean of many stochastic roundings of x equals x: each rounding is lo or hi with
// P(hi) = (x - lo) / (hi - lo), so the error of the mean of n draws has standard
// deviation at most (hi - lo) / (2 sqrt(n)). We allow 6 of those.
template <class T>
void check_unbiased(double x, int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += static_cast<float>(T::from(x, rounding::stochastic, overflow::ieee,
                                      static_cast<std::uint32_t>(rng())));
  }
  const double lo = static_cast<float>(T::from(x, rounding::toward_negative));
  const double hi = static_cast<float>(T::from(x, rounding::toward_positive));
  const double bound = 6.0 * (hi - lo) / (2.0 * std::sqrt(static_cast<double>(n)));
  INFO("x = " << x << ", mean = " << sum / n << ", bound " << bound);
  CHECK(std::fabs(sum / n - x) <= bound);
  CHECK(hi > lo);  // the inputs are chosen inexact, else the test proves nothing
}

TEST_CASE("stochastic rounding is unbiased", "[formats]") {
  const int n = 200000;
  check_unbiased<bf16>(1.0 + 1.0 / 3.0 * 0x1p-7, n, 1);           // a third of an ulp
  check_unbiased<bf16>(-3.14159265358979, n, 2);
  check_unbiased<bf16>(0x1.8p-133 / 1.7, n, 3);                     // bf16 subnormal range
  check_unbiased<fp16>(0.1, n, 4);
  check_unbiased<fp16>(1e-6, n, 5);                                  // fp16 subnormal
  check_unbiased<fp8_e4m3fn>(3.14159265358979, n, 6);
  check_unbiased<fp8_e5m2>(-1234.5678, n, 7);
}

TEST_CASE("stochastic rounding past the largest finite overflows per policy", "[formats]") {
  // Between 65504 and the next would-be value 65536, rounding up overflows.
  const double x = 65520.0;  // halfway: up with probability 1/2
  CHECK(fp16::from(x, rounding::stochastic, overflow::ieee, 0xFFFFFFFFu).bits() == 0x7C00);
  CHECK(fp16::from(x, rounding::stochastic, overflow::saturate, 0xFFFFFFFFu).bits() == 0x7BFF);
  CHECK(fp16::from(x, rounding::stochastic, overflow::ieee, 0).bits() == 0x7BFF);
  CHECK(fp8_e4m3fn::from(460.0, rounding::stochastic, overflow::ieee, 0xFFFFFFFFu).bits() == 0x7F);
  CHECK(fp8_e4m3fn::from(1e5, rounding::stochastic, overflow::ieee, 0).bits() == 0x7F);
}

TEST_CASE("policies can be given to the constructor and to from()", "[formats]") {
  const float x = 3.14159265f;
  // Constructor and from() agree for every policy combination.
  for (const rounding mode : {rounding::nearest_even, rounding::toward_zero,
                              rounding::toward_positive, rounding::toward_negative}) {
    for (const overflow policy : {overflow::ieee, overflow::saturate}) {
      CHECK(fp16(x, mode, policy).bits() == fp16::from(x, mode, policy).bits());
      CHECK(bf16(-1e30, mode, policy).bits() == bf16::from(-1e30, mode, policy).bits());
      CHECK(fp8_e4m3fn(1000.0f, mode, policy).bits() ==
            fp8_e4m3fn::from(1000.0f, mode, policy).bits());
    }
  }
  // pi: 0x4248 (3.140625) rounds down; toward +inf gives the next code.
  CHECK(fp16(x, rounding::toward_zero).bits() == 0x4248);
  CHECK(fp16(x, rounding::toward_positive).bits() == 0x4249);
  CHECK(fp8_e4m3fn(1000.0f, rounding::nearest_even, overflow::saturate).bits() == 0x7E);
  CHECK(fp8_e4m3fn(1000.0f, rounding::nearest_even).bits() == 0x7F);  // NaN: no infinity
  // Stochastic with random bits and IEEE overflow, both spellings.
  for (const std::uint32_t r : {0u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) {
    CHECK(bf16::from(x, rounding::stochastic, r).bits() ==
          bf16::from(x, rounding::stochastic, overflow::ieee, r).bits());
    CHECK(bf16(x, rounding::stochastic, overflow::ieee, r).bits() ==
          bf16::from(x, rounding::stochastic, overflow::ieee, r).bits());
  }
  CHECK(bf16::from(x, rounding::stochastic, 0u).bits() == 0x4049);
  CHECK(bf16::from(x, rounding::stochastic, 0xFFFFFFFFu).bits() == 0x404A);
  // Two-argument construction is explicit too.
  STATIC_REQUIRE_FALSE(std::is_convertible_v<float, fp16>);
  STATIC_REQUIRE(std::is_constructible_v<fp16, float, rounding>);
  STATIC_REQUIRE(std::is_constructible_v<fp16, double, rounding, overflow, std::uint32_t>);
}

TEST_CASE("integers wider than 64 bits are refused at compile time, not truncated",
          "[formats]") {
  STATIC_REQUIRE(std::is_constructible_v<fp16, long long>);
  STATIC_REQUIRE(std::is_constructible_v<bf16, unsigned long long>);
#ifdef __SIZEOF_INT128__
  __extension__ typedef __int128 i128;
  __extension__ typedef unsigned __int128 u128;
  STATIC_REQUIRE_FALSE(std::is_constructible_v<fp16, i128>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<bf16, u128>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<fp8_e5m2, u128, rounding>);
#endif
}
