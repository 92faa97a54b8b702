// Two translation units include every quant header (and with them lowprec's SIMD hub,
// whose kernels and dispatch tables are per translation unit): they must link, and agree.
#include <cstdint>
#include <vector>

#include "lowprec/quant/eigen.hpp"
#include "lowprec/quant/ggml.hpp"
#include "support/catch.hpp"

std::vector<std::uint8_t> quant_odr_second_tu_codes(const std::vector<float>& x);  // second TU

TEST_CASE("quant headers link from two translation units and agree", "[quant]") {
  std::vector<float> x(100);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17) - 8.25f;
  const auto q = lowprec::quant::quantize(
      x.data(), {x.size()}, lowprec::quant::absmax(lowprec::quant::code_format::int4, lowprec::quant::per_block(32)));
  CHECK(q.codes() == quant_odr_second_tu_codes(x));
}
