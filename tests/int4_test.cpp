// int4 / uint4: every code, saturating construction, float rounding, limits.
#include "lowprec/int4.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

#include "support/catch.hpp"

using lowprec::int4;
using lowprec::uint4;

TEST_CASE("int4 and uint4 are one-byte trivially copyable codes", "[quant]") {
  STATIC_REQUIRE(sizeof(int4) == 1);
  STATIC_REQUIRE(sizeof(uint4) == 1);
  STATIC_REQUIRE(std::is_trivially_copyable_v<int4>);
  STATIC_REQUIRE(std::is_convertible_v<int4, int>);
  STATIC_REQUIRE(!std::is_convertible_v<int, int4>);
  STATIC_REQUIRE(!std::is_convertible_v<float, uint4>);
  CHECK(int4{}.bits() == 0);
}

TEST_CASE("every int4 and uint4 code decodes to its two's complement or unsigned value",
          "[quant]") {
  for (unsigned b = 0; b < 16; ++b) {
    const int want_signed = b < 8 ? static_cast<int>(b) : static_cast<int>(b) - 16;
    CHECK(static_cast<int>(int4::from_bits(static_cast<std::uint8_t>(b))) == want_signed);
    CHECK(static_cast<int>(uint4::from_bits(static_cast<std::uint8_t>(b))) == static_cast<int>(b));
    // from_bits ignores the high nibble; the code round-trips through its value.
    CHECK(int4::from_bits(static_cast<std::uint8_t>(b | 0xA0)).bits() == b);
    CHECK(int4(want_signed).bits() == b);
    CHECK(uint4(static_cast<int>(b)).bits() == b);
  }
}

TEST_CASE("integers saturate and floats round half to even then saturate", "[quant]") {
  const struct {
    double x;
    int s, u;
  } rows[] = {{0.0, 0, 0},    {0.5, 0, 0},   {1.5, 2, 2},   {2.5, 2, 2},   {-0.5, 0, 0},
              {-1.5, -2, 0},  {-2.5, -2, 0}, {6.5, 6, 6},   {7.4, 7, 7},   {7.6, 7, 8},
              {100.0, 7, 15}, {-8.0, -8, 0}, {-8.6, -8, 0}, {15.5, 7, 15}, {-1e30, -8, 0},
              {INFINITY, 7, 15}, {-INFINITY, -8, 0}, {NAN, 0, 0}};
  for (const auto& r : rows) {
    INFO("x = " << r.x);
    CHECK(static_cast<int>(int4(r.x)) == r.s);
    CHECK(static_cast<int>(uint4(r.x)) == r.u);
    CHECK(static_cast<int>(int4(static_cast<float>(r.x))) == r.s);
  }
  CHECK(static_cast<int>(int4(100)) == 7);
  CHECK(static_cast<int>(int4(-100L)) == -8);
  CHECK(static_cast<int>(uint4(-3)) == 0);
  CHECK(static_cast<int>(uint4(300u)) == 15);
  CHECK(static_cast<int>(int4(std::numeric_limits<long long>::min())) == -8);
}

TEST_CASE("int4 limits, arithmetic in int, printing", "[quant]") {
  CHECK(static_cast<int>(std::numeric_limits<int4>::min()) == -8);
  CHECK(static_cast<int>(std::numeric_limits<int4>::max()) == 7);
  CHECK(static_cast<int>(std::numeric_limits<uint4>::max()) == 15);
  STATIC_REQUIRE(std::numeric_limits<int4>::digits == 3);
  STATIC_REQUIRE(std::numeric_limits<uint4>::digits == 4);
  CHECK(int4(7) + int4(7) == 14);  // widened: no 4-bit wrap-around
  CHECK(int4(-8) < int4(7));
  std::ostringstream os;
  os << int4(-3) << ' ' << uint4(12);
  CHECK(os.str() == "-3 12");
}
