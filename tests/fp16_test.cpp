// fp16 golden table: hand-derived boundary cases under every rounding policy.
#include "lowprec/fp16.hpp"

#include <cmath>
#include <sstream>

#include "support/catch.hpp"
#include "support/golden.hpp"

using lowprec::fp16;
using lowprec_test::golden_row;

// ulp at 1 is 2^-10; at [2048, 4096) it is 2; min subnormal 2^-24; max 65504.
// columns:            nearest  to_zero  to_+inf  to_-inf  saturate
const golden_row fp16_rows[] = {
    {"zero", 0.0, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000},
    {"negative zero", -0.0, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000},
    {"one", 1.0, 0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00},
    {"pi", 3.14159265358979311600, 0x4248, 0x4248, 0x4249, 0x4248, 0x4248},
    {"0.1", 0.1, 0x2E66, 0x2E66, 0x2E67, 0x2E66, 0x2E66},
    {"tie 1 + 2^-11 (even below)", 1.0 + 0x1p-11, 0x3C00, 0x3C00, 0x3C01, 0x3C00, 0x3C00},
    {"tie 1 + 3*2^-11 (even above)", 1.0 + 0x3p-11, 0x3C02, 0x3C01, 0x3C02, 0x3C01, 0x3C02},
    {"just above tie", 1.0 + 0x1p-11 + 0x1p-40, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01},
    {"just below tie", 1.0 + 0x1p-11 - 0x1p-40, 0x3C00, 0x3C00, 0x3C01, 0x3C00, 0x3C00},
    {"integer tie 2049", 2049.0, 0x6800, 0x6800, 0x6801, 0x6800, 0x6800},
    {"negative integer tie -2051", -2051.0, 0xE802, 0xE801, 0xE801, 0xE802, 0xE802},
    {"max finite 65504", 65504.0, 0x7BFF, 0x7BFF, 0x7BFF, 0x7BFF, 0x7BFF},
    {"65519 rounds down", 65519.0, 0x7BFF, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF},
    {"65520 tie overflows", 65520.0, 0x7C00, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF},
    {"-65520", -65520.0, 0xFC00, 0xFBFF, 0xFBFF, 0xFC00, 0xFBFF},
    {"1e6", 1e6, 0x7C00, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF},
    {"1e300 (double only)", 1e300, 0x7C00, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF},
    {"infinity", INFINITY, 0x7C00, 0x7C00, 0x7C00, 0x7C00, 0x7BFF},
    {"-infinity", -INFINITY, 0xFC00, 0xFC00, 0xFC00, 0xFC00, 0xFBFF},
    {"min normal 2^-14", 0x1p-14, 0x0400, 0x0400, 0x0400, 0x0400, 0x0400},
    {"tie max subnormal / min normal", 0x1p-14 - 0x1p-25, 0x0400, 0x03FF, 0x0400, 0x03FF,
     0x0400},
    {"min subnormal 2^-24", 0x1p-24, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001},
    {"2^-25 ties to zero", 0x1p-25, 0x0000, 0x0000, 0x0001, 0x0000, 0x0000},
    {"-2^-25", -0x1p-25, 0x8000, 0x8000, 0x8000, 0x8001, 0x8000},
    {"3*2^-26 rounds up", 0x3p-26, 0x0001, 0x0000, 0x0001, 0x0000, 0x0001},
    {"3*2^-25 ties up to even", 0x3p-25, 0x0002, 0x0001, 0x0002, 0x0001, 0x0002},
    {"1e-8", 1e-8, 0x0000, 0x0000, 0x0001, 0x0000, 0x0000},
    {"smallest double", 0x1p-1074, 0x0000, 0x0000, 0x0001, 0x0000, 0x0000},
};

TEST_CASE("fp16 golden boundary cases round as derived by hand", "[formats]") {
  lowprec_test::check_golden<fp16>(fp16_rows);
}

TEST_CASE("fp16 NaN keeps its sign and top payload bits and is always quiet", "[formats]") {
  const struct {
    std::uint32_t in;
    std::uint16_t out;
  } rows[] = {{0x7FC00000u, 0x7E00}, {0xFFC00000u, 0xFE00}, {0x7F800001u, 0x7E00},
              {0x7FA00000u, 0x7F00}, {0x7FFFFFFFu, 0x7FFF}, {0xFF802000u, 0xFE01}};
  for (const auto& r : rows) {
    for (const auto policy : {lowprec::overflow::ieee, lowprec::overflow::saturate}) {
      INFO("float bits " << std::hex << r.in);
      CHECK(fp16::from(lowprec_test::float_from_bits(r.in), lowprec::rounding::toward_zero,
                       policy)
                .bits() == r.out);
    }
  }
  // Widening quiets too: 0x7C01 (signalling) reads back as a quiet float NaN.
  CHECK(static_cast<float>(fp16::from_bits(0x7C01)) != 0.0f);
  const float w = fp16::from_bits(0x7C01);
  std::uint32_t u = 0;
  std::memcpy(&u, &w, 4);
  CHECK(u == 0x7FC02000u);
}

TEST_CASE("fp16 shows pi as 3.140625", "[formats]") {
  const fp16 pi(3.14159265358979);
  CHECK(static_cast<float>(pi) == 3.140625f);
  std::ostringstream os;
  os.precision(8);
  os << pi;
  CHECK(os.str() == "3.140625");
}
