// Two translation units include every header and exchange lowprec values: a header-only
// library must link without duplicate symbols and agree with itself across TUs.
#include "lowprec/lowprec.hpp"
#include "support/catch.hpp"

lowprec::bf16 odr_second_tu_pi();                 // defined in odr_test_second_tu.cpp
std::size_t odr_second_tu_hash(lowprec::fp16 x);  // ditto

TEST_CASE("lowprec links and agrees with itself across translation units", "[formats]") {
  CHECK(odr_second_tu_pi().bits() == lowprec::bf16(3.14159265f).bits());
  CHECK(odr_second_tu_hash(lowprec::fp16(2.5f)) == std::hash<lowprec::fp16>{}(lowprec::fp16(2.5f)));
}
