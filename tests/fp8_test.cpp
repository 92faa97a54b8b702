// fp8 golden tables (OCP OFP8 E4M3FN and E5M2): hand-derived boundary cases under every
// rounding policy, and the overflow behaviour users trip over.
#include "lowprec/fp8.hpp"

#include <cmath>
#include <limits>

#include "support/catch.hpp"
#include "support/golden.hpp"

using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;
using lowprec::overflow;
using lowprec::rounding;
using lowprec_test::golden_row;

// e4m3fn: ulp at [2,4) is 0.25, at [256,448] 32; 0x7E = 448 is the max, 0x7F is NaN;
// with overflow::ieee an overflow is NaN (there is no infinity), as in ml_dtypes.
// columns:            nearest  to_zero  to_+inf  to_-inf  saturate
const golden_row e4m3fn_rows[] = {
    {"zero", 0.0, 0x00, 0x00, 0x00, 0x00, 0x00},
    {"negative zero", -0.0, 0x80, 0x80, 0x80, 0x80, 0x80},
    {"pi", 3.14159265358979311600, 0x45, 0x44, 0x45, 0x44, 0x45},
    {"-pi", -3.14159265358979311600, 0xC5, 0xC4, 0xC4, 0xC5, 0xC5},
    {"256 has the all-ones exponent", 256.0, 0x78, 0x78, 0x78, 0x78, 0x78},
    {"max 448", 448.0, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E},
    {"464 ties to even 448", 464.0, 0x7E, 0x7E, 0x7F, 0x7E, 0x7E},
    {"465 overflows to NaN", 465.0, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E},
    {"-465", -465.0, 0xFF, 0xFE, 0xFE, 0xFF, 0xFE},
    {"1000", 1000.0, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E},
    {"infinity has no code", INFINITY, 0x7F, 0x7F, 0x7F, 0x7F, 0x7E},
    {"-infinity", -INFINITY, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE},
    {"min normal 2^-6", 0x1p-6, 0x08, 0x08, 0x08, 0x08, 0x08},
    {"min subnormal 2^-9", 0x1p-9, 0x01, 0x01, 0x01, 0x01, 0x01},
    {"2^-10 ties to zero", 0x1p-10, 0x00, 0x00, 0x01, 0x00, 0x00},
    {"3*2^-10 ties to even 2", 0x3p-10, 0x02, 0x01, 0x02, 0x01, 0x02},
    {"tie max subnormal / min normal", 0x1p-6 - 0x1p-10, 0x08, 0x07, 0x08, 0x07, 0x08},
};

// e5m2: ulp at [2,4) is 0.5; 0x7B = 57344 is the max, 0x7C is infinity.
const golden_row e5m2_rows[] = {
    {"pi", 3.14159265358979311600, 0x42, 0x42, 0x43, 0x42, 0x42},
    {"max 57344", 57344.0, 0x7B, 0x7B, 0x7B, 0x7B, 0x7B},
    {"61439 rounds down", 61439.0, 0x7B, 0x7B, 0x7C, 0x7B, 0x7B},
    {"61440 ties to infinity", 61440.0, 0x7C, 0x7B, 0x7C, 0x7B, 0x7B},
    {"-61440", -61440.0, 0xFC, 0xFB, 0xFB, 0xFC, 0xFB},
    {"infinity", INFINITY, 0x7C, 0x7C, 0x7C, 0x7C, 0x7B},
    {"min normal 2^-14", 0x1p-14, 0x04, 0x04, 0x04, 0x04, 0x04},
    {"min subnormal 2^-16", 0x1p-16, 0x01, 0x01, 0x01, 0x01, 0x01},
    {"2^-17 ties to zero", 0x1p-17, 0x00, 0x00, 0x01, 0x00, 0x00},
    {"1.125 ties to even 1", 1.125, 0x3C, 0x3C, 0x3D, 0x3C, 0x3C},
    {"1.375 ties to even 1.5", 1.375, 0x3E, 0x3D, 0x3E, 0x3D, 0x3E},
};

TEST_CASE("fp8_e4m3fn golden boundary cases round as derived by hand", "[formats]") {
  lowprec_test::check_golden<fp8_e4m3fn>(e4m3fn_rows);
}

TEST_CASE("fp8_e5m2 golden boundary cases round as derived by hand", "[formats]") {
  lowprec_test::check_golden<fp8_e5m2>(e5m2_rows);
}

TEST_CASE("fp8 overflow defaults follow ml_dtypes; saturation is one argument away",
          "[formats]") {
  CHECK(isnan(fp8_e4m3fn(465.0f)));
  CHECK(isinf(fp8_e5m2(61440.0f)));
  CHECK(static_cast<float>(fp8_e4m3fn::from(1000.0f, rounding::nearest_even,
                                            overflow::saturate)) == 448.0f);
  CHECK(static_cast<float>(fp8_e5m2::from(1e9f, rounding::nearest_even,
                                          overflow::saturate)) == 57344.0f);
}

TEST_CASE("fp8 NaN keeps its sign and is quiet", "[formats]") {
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  const float snan = lowprec_test::float_from_bits(0x7F800001u);
  CHECK(fp8_e4m3fn(qnan).bits() == 0x7F);
  CHECK(fp8_e4m3fn(-qnan).bits() == 0xFF);
  CHECK(fp8_e4m3fn::from(snan, rounding::nearest_even, overflow::saturate).bits() == 0x7F);
  CHECK(fp8_e5m2(qnan).bits() == 0x7E);
  CHECK(fp8_e5m2(snan).bits() == 0x7E);
  CHECK(fp8_e5m2(-snan).bits() == 0xFE);
  CHECK(fp8_e5m2(lowprec_test::float_from_bits(0x7FE00000u)).bits() == 0x7F);
}

TEST_CASE("fp8 decodes its named codes", "[formats]") {
  CHECK(static_cast<float>(fp8_e4m3fn::from_bits(0x7E)) == 448.0f);
  CHECK(static_cast<float>(fp8_e4m3fn::from_bits(0x77)) == 240.0f);
  CHECK(static_cast<float>(fp8_e4m3fn::from_bits(0x01)) == 0x1p-9f);
  CHECK(std::isnan(static_cast<float>(fp8_e4m3fn::from_bits(0x7F))));
  CHECK(static_cast<float>(fp8_e5m2::from_bits(0x7B)) == 57344.0f);
  CHECK(std::isinf(static_cast<float>(fp8_e5m2::from_bits(0xFC))));
  CHECK(static_cast<float>(fp8_e5m2::from_bits(0x01)) == 0x1p-16f);
}
