// A second translation unit of convert_test, built with LOWPREC_STATIC_DISPATCH: only the
// baseline target of the compiler flags is compiled, and it agrees with the scalar
// definition too. Linking it with convert_test.cpp (runtime dispatch) also shows that two
// translation units with different dispatch settings coexist in one program.
#define LOWPREC_STATIC_DISPATCH
#include "lowprec/convert.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "support/catch.hpp"

TEST_CASE("LOWPREC_STATIC_DISPATCH converts on the baseline target, bit-exactly", "[convert]") {
  CHECK(std::string(lowprec::simd_target()) == hwy::TargetName(HWY_STATIC_TARGET));
  std::vector<float> x;
  for (std::uint64_t u = 0; u < (1ull << 32); u += 0x3F0F1ull) {
    float f = 0;
    const auto b = static_cast<std::uint32_t>(u);
    std::memcpy(&f, &b, 4);
    x.push_back(f);
  }
  for (lowprec::rounding r : {lowprec::rounding::nearest_even, lowprec::rounding::toward_zero,
                              lowprec::rounding::stochastic}) {
    lowprec::convert_options o;
    o.round = r;
    o.seed = 77;
    std::vector<lowprec::fp16> h(x.size());
    std::vector<lowprec::bf16> b(x.size());
    std::vector<std::int8_t> q(x.size());
    lowprec::convert(x.data(), h.data(), x.size(), o);
    lowprec::convert(x.data(), b.data(), x.size(), o);
    lowprec::convert(x.data(), q.data(), x.size(), o);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::uint32_t rb = lowprec::detail::random_bits(o.seed, i);
      bad += h[i].bits() != lowprec::fp16::from(x[i], r, o.on_overflow, rb).bits();
      bad += b[i].bits() != lowprec::bf16::from(x[i], r, o.on_overflow, rb).bits();
      bad += q[i] != lowprec::round_to_int8(x[i], r, rb);
    }
    INFO(lowprec::to_string(r));
    CHECK(bad == 0);
  }
}
