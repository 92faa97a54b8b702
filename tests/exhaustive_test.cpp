// The long test: every one of the 2^32 float inputs converted with nearest-even to each
// format and compared with an oracle that shares no code with the library
// (reference/nearest_oracle.hpp: the sorted table of the format's values, walked in
// step with the inputs). Positive finite floats are visited in increasing order, so the
// walk is O(1) per input; each is also checked negated. NaNs and infinities are checked
// against the documented rule. Two threads split the range.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "reference/nearest_oracle.hpp"
#include "support/catch.hpp"

namespace {

struct sweep_result {
  std::uint64_t checked = 0;
  std::uint64_t mismatches = 0;
  std::uint32_t first_bad_input = 0;
};

// Inputs [begin, end) of positive finite float bit patterns, and their negations.
template <class T>
sweep_result sweep_finite(lowprec_test::format_desc desc, std::uint32_t begin,
                          std::uint32_t end) {
  lowprec_test::nearest_walker walker(desc);
  constexpr std::uint32_t sign = T::format::sign_mask;
  sweep_result r;
  for (std::uint32_t u = begin; u < end; ++u) {
    float x = 0;
    std::memcpy(&x, &u, 4);
    const std::uint32_t want = walker.next(static_cast<double>(x));
    const std::uint32_t got_pos = T(x).bits();
    const std::uint32_t got_neg = T(-x).bits();
    if (got_pos != want || got_neg != (want | sign)) {
      if (r.mismatches++ == 0) r.first_bad_input = u;
    }
  }
  r.checked = 2ull * (end - begin);
  return r;
}

template <class T>
void sweep_all_floats(lowprec_test::format_desc desc) {
  // Split the positive finite range [0, 0x7F800000) between two threads.
  constexpr std::uint32_t end = 0x7F800000u;
  constexpr std::uint32_t mid = end / 2;
  sweep_result lo, hi;
  std::thread worker([&] { hi = sweep_finite<T>(desc, mid, end); });
  lo = sweep_finite<T>(desc, 0, mid);
  worker.join();
  INFO(T::format::name << ": first mismatching float bits (low half) 0x" << std::hex
                       << lo.first_bad_input << ", (high half) 0x" << hi.first_bad_input);
  CHECK(lo.mismatches + hi.mismatches == 0);
  CHECK(lo.checked + hi.checked == 2ull * end);

  // Infinities and every NaN pattern (2^24 of them with both signs).
  constexpr int M = T::format::mantissa_bits;
  constexpr std::uint32_t sign = T::format::sign_mask;
  lowprec_test::nearest_walker walker(desc);
  std::uint64_t special_mismatches = 0, specials = 0;
  for (std::uint32_t u = 0x7F800000u; u != 0x80000000u; ++u) {
    for (const std::uint32_t s : {0u, 0x80000000u}) {
      const std::uint32_t bits = u | s;
      float x = 0;
      std::memcpy(&x, &bits, 4);
      std::uint32_t want = 0;
      if (u == 0x7F800000u) {
        want = walker.overflow_code();  // inf, or NaN where the format has no inf
      } else if (desc.has_infinity) {   // quiet NaN, payload's top bits kept
        want = (((1u << desc.exponent_bits) - 1) << M) | (1u << (M - 1)) |
               ((u & 0x007FFFFFu) >> (23 - M));
      } else {
        want = (1u << (desc.exponent_bits + M)) - 1;
      }
      if (s != 0) want |= sign;
      special_mismatches += T(x).bits() == want ? 0 : 1;
      ++specials;
    }
  }
  CHECK(specials == 2ull * (1u << 23));
  CHECK(special_mismatches == 0);
}

}  // namespace

TEST_CASE("every float rounds to the nearest fp16 (ties to even)", "[exhaustive]") {
  sweep_all_floats<lowprec::fp16>(lowprec_test::fp16_desc);
}
TEST_CASE("every float rounds to the nearest bf16 (ties to even)", "[exhaustive]") {
  sweep_all_floats<lowprec::bf16>(lowprec_test::bf16_desc);
}
TEST_CASE("every float rounds to the nearest fp8_e4m3fn (ties to even)", "[exhaustive]") {
  sweep_all_floats<lowprec::fp8_e4m3fn>(lowprec_test::e4m3fn_desc);
}
TEST_CASE("every float rounds to the nearest fp8_e5m2 (ties to even)", "[exhaustive]") {
  sweep_all_floats<lowprec::fp8_e5m2>(lowprec_test::e5m2_desc);
}
