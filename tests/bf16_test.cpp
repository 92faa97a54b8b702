// bf16 golden table: hand-derived boundary cases under every rounding policy.
#include "lowprec/bf16.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>

#include "support/catch.hpp"
#include "support/golden.hpp"

using lowprec::bf16;
using lowprec_test::golden_row;

// ulp at 1 is 2^-7; max 0x7F7F = (2 - 2^-7) * 2^127; min subnormal 2^-133.
// columns:            nearest  to_zero  to_+inf  to_-inf  saturate
const golden_row bf16_rows[] = {
    {"zero", 0.0, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000},
    {"negative zero", -0.0, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000},
    {"pi", 3.14159265358979311600, 0x4049, 0x4049, 0x404A, 0x4049, 0x4049},
    {"-pi", -3.14159265358979311600, 0xC049, 0xC049, 0xC049, 0xC04A, 0xC049},
    {"tie 1 + 2^-8 (even below)", 1.0 + 0x1p-8, 0x3F80, 0x3F80, 0x3F81, 0x3F80, 0x3F80},
    {"tie 1 + 3*2^-8 (even above)", 1.0 + 0x3p-8, 0x3F82, 0x3F81, 0x3F82, 0x3F81, 0x3F82},
    {"max finite", 0x1.FEp127, 0x7F7F, 0x7F7F, 0x7F7F, 0x7F7F, 0x7F7F},
    {"overflow tie 0x7F7F8000", 0x1.FFp127, 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F},
    {"FLT_MAX", static_cast<double>(FLT_MAX), 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F},
    {"-FLT_MAX", -static_cast<double>(FLT_MAX), 0xFF80, 0xFF7F, 0xFF7F, 0xFF80, 0xFF7F},
    {"just below overflow tie", 0x1.FEFFFFFFFFp127, 0x7F7F, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F},
    {"1e300 (double only)", 1e300, 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F},
    {"infinity", INFINITY, 0x7F80, 0x7F80, 0x7F80, 0x7F80, 0x7F7F},
    {"min normal 2^-126", 0x1p-126, 0x0080, 0x0080, 0x0080, 0x0080, 0x0080},
    {"subnormal 2^-130 is exact", 0x1p-130, 0x0008, 0x0008, 0x0008, 0x0008, 0x0008},
    {"min subnormal 2^-133", 0x1p-133, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001},
    {"2^-134 ties to zero", 0x1p-134, 0x0000, 0x0000, 0x0001, 0x0000, 0x0000},
    {"3*2^-135 rounds up", 0x3p-135, 0x0001, 0x0000, 0x0001, 0x0000, 0x0001},
    {"float min subnormal 2^-149", 0x1p-149, 0x0000, 0x0000, 0x0001, 0x0000, 0x0000},
    {"-2^-149", -0x1p-149, 0x8000, 0x8000, 0x8000, 0x8001, 0x8000},
    {"double above a float tie", 1.0 + 0x1p-8 + 0x1p-40, 0x3F81, 0x3F80, 0x3F81, 0x3F80, 0x3F81},
    {"1e-40 (float subnormal)", 1e-40, 0x0001, 0x0001, 0x0002, 0x0001, 0x0001},
};

TEST_CASE("bf16 golden boundary cases round as derived by hand", "[formats]") {
  lowprec_test::check_golden<bf16>(bf16_rows);
}

TEST_CASE("bf16 from double rounds once, not twice through float", "[formats]") {
  // 1 + 2^-8 + 2^-40 becomes the tie 1 + 2^-8 in float, which rounds to even (down);
  // the exact value is above the tie and rounds up.
  const double x = 1.0 + 0x1p-8 + 0x1p-40;
  CHECK(bf16(x).bits() == 0x3F81);
  CHECK(bf16(static_cast<float>(x)).bits() == 0x3F80);
}

TEST_CASE("bf16 NaN keeps its sign and top payload bits and is always quiet", "[formats]") {
  // (float bits >> 16) | 0x0040, as AVX512-BF16's vcvtneps2bf16 does for NaN.
  const struct {
    std::uint32_t in;
    std::uint16_t out;
  } rows[] = {{0x7FC00000u, 0x7FC0}, {0xFFC00000u, 0xFFC0}, {0x7F800001u, 0x7FC0},
              {0x7FA00000u, 0x7FE0}, {0x7FFFFFFFu, 0x7FFF}, {0xFF810000u, 0xFFC1}};
  for (const auto& r : rows) {
    INFO("float bits " << std::hex << r.in);
    CHECK(bf16(lowprec_test::float_from_bits(r.in)).bits() == r.out);
    CHECK(bf16::from(lowprec_test::float_from_bits(r.in), lowprec::rounding::stochastic,
                     lowprec::overflow::saturate, 0xFFFFFFFFu)
              .bits() == r.out);
  }
}

TEST_CASE("bf16 keeps subnormals that AVX512-BF16 flushes", "[formats]") {
  // vcvtneps2bf16 treats float subnormal inputs as zero (REFERENCE.md section 1).
  CHECK(bf16(lowprec_test::float_from_bits(0x00400000u)).bits() == 0x0040);
  CHECK(bf16(lowprec_test::float_from_bits(0x80018000u)).bits() == 0x8002);
  CHECK(static_cast<float>(bf16::from_bits(0x0001)) == 0x1p-133f);
}

TEST_CASE("bf16 shows pi as 3.140625", "[formats]") {
  CHECK(static_cast<float>(bf16(3.14159265f)) == 3.140625f);
  CHECK(bf16(3.14159265f).bits() == 0x4049);
}
