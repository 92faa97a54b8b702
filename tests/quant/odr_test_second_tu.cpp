// The second translation unit of quant/odr_test.cpp.
#include <cstdint>
#include <vector>

#include "lowprec/quant/eigen.hpp"
#include "lowprec/quant/ggml.hpp"

std::vector<std::uint8_t> quant_odr_second_tu_codes(const std::vector<float>& x) {
  namespace lq = lowprec::quant;
  return lq::quantize(x.data(), {x.size()}, lq::absmax(lq::code_format::int4, lq::per_block(32)))
      .codes();
}
