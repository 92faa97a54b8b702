// detail::shortest_decimal, the spelling of every floating-point value an error message
// quotes: the shortest decimal that reads back as the value in its own type.
#include "lowprec/detail/format.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "support/catch.hpp"

using lowprec::detail::shortest_decimal;

TEST_CASE("values a message quotes are spelled shortest", "[formats]") {
  CHECK(shortest_decimal(1e-9) == "1e-09");
  CHECK(shortest_decimal(-1e-9f) == "-1e-09");  // std::to_string: -0.000000
  CHECK(shortest_decimal(1.1) == "1.1");         // not 1.1000000000000001
  CHECK(shortest_decimal(0.1f) == "0.1");        // the float, not the double it widens to
  CHECK(shortest_decimal(0.1) == "0.1");
  CHECK(shortest_decimal(0.0f) == "0");
  CHECK(shortest_decimal(-0.0) == "-0");
  CHECK(shortest_decimal(3.0f) == "3");
  CHECK(shortest_decimal(65504.0f) == "65504");
  CHECK(shortest_decimal(1e16) == "1e+16");
  CHECK(shortest_decimal(std::numeric_limits<float>::denorm_min()) == "1e-45");
  CHECK(shortest_decimal(std::numeric_limits<float>::max()) == "3.4028235e+38");
  CHECK(shortest_decimal(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(shortest_decimal(-std::numeric_limits<float>::infinity()) == "-inf");
  CHECK(shortest_decimal(std::numeric_limits<float>::quiet_NaN()) == "nan");
}

// x's spelling reads back as x (strtof for float, strtod for double) in at most max_len
// characters (-d.ddde-xx with max_digits10 significant digits); NaN and inf are skipped.
template <class T, class Bits>
void require_reads_back(Bits bits, T (*read)(const char*, char**), std::size_t max_len) {
  T x;
  std::memcpy(&x, &bits, sizeof x);
  if (!std::isfinite(x)) return;
  const std::string s = shortest_decimal(x);
  INFO("bits " << bits << " spelled " << s);
  REQUIRE(read(s.c_str(), nullptr) == x);
  REQUIRE(s.size() <= max_len);
}

TEST_CASE("shortest_decimal reads back exactly, in its own type", "[formats]") {
  std::mt19937 g(7);
  for (int i = 0; i < 20000; ++i) {
    // Random bit patterns: every binade, subnormals included.
    require_reads_back<float>(static_cast<std::uint32_t>(g()), std::strtof, 15);
    require_reads_back<double>((static_cast<std::uint64_t>(g()) << 32) | g(), std::strtod, 24);
  }
}
