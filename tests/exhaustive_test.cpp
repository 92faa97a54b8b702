// The long test: every one of the 2^32 float inputs converted with nearest-even to each
// format and compared with an oracle that shares no code with the library
// (reference/nearest_oracle.hpp: the sorted table of the format's values, walked in
// step with the inputs). Positive finite floats are visited in increasing order, so the
// walk is O(1) per input; each is also checked negated. NaNs and infinities are checked
// against the documented rule. Two threads split the range. Where the CPU has F16C, fp16
// is also compared with the hardware conversion on every one of the 2^32 inputs, NaNs
// included (lowprec's NaN rule is the instruction's).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOWPREC_TEST_HAVE_F16C_ORACLE 1
#endif

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

#ifdef LOWPREC_TEST_HAVE_F16C_ORACLE
// The hardware oracle: VCVTPS2PH with round-to-nearest-even, 8 inputs at a time.
__attribute__((target("avx,f16c"))) void f16c_convert8(const std::uint32_t* in,
                                                      std::uint16_t* out) {
  const __m256 v = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

// All 2^32 bit patterns in [begin, end) (end exclusive, as 64-bit).
sweep_result sweep_f16c(std::uint64_t begin, std::uint64_t end) {
  sweep_result r;
  std::uint32_t in[8];
  std::uint16_t hw[8];
  for (std::uint64_t u = begin; u < end; u += 8) {
    for (int i = 0; i < 8; ++i) in[i] = static_cast<std::uint32_t>(u + static_cast<unsigned>(i));
    f16c_convert8(in, hw);
    for (int i = 0; i < 8; ++i) {
      float x = 0;
      std::memcpy(&x, &in[i], 4);
      if (lowprec::fp16(x).bits() != hw[i] && r.mismatches++ == 0) r.first_bad_input = in[i];
    }
  }
  r.checked = end - begin;
  return r;
}
#endif

}  // namespace

TEST_CASE("every float converts to fp16 exactly as the F16C instruction does", "[exhaustive]") {
#ifdef LOWPREC_TEST_HAVE_F16C_ORACLE
  if (!__builtin_cpu_supports("f16c")) {
    WARN("this CPU has no F16C: the hardware fp16 oracle is not run (the table oracle is)");
    return;
  }
  constexpr std::uint64_t all = 1ull << 32, mid = all / 2;
  sweep_result lo, hi;
  std::thread worker([&] { hi = sweep_f16c(mid, all); });
  lo = sweep_f16c(0, mid);
  worker.join();
  INFO("first mismatching float bits: 0x" << std::hex << lo.first_bad_input << " / 0x"
                                          << hi.first_bad_input);
  CHECK(lo.mismatches + hi.mismatches == 0);
  CHECK(lo.checked + hi.checked == all);
#else
  WARN("not an x86 CPU: the hardware fp16 oracle is not run (the table oracle is)");
#endif
}

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
