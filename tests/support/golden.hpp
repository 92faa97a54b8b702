// Table-driven golden checks: one row per hand-derived boundary case, one column per
// rounding policy, so each format's test is just its table.
#pragma once

#include <cstdint>
#include <cstring>

#include "lowprec/policy.hpp"
#include "support/catch.hpp"

namespace lowprec_test {

// Expected codes of one input under each rounding mode (overflow::ieee), and under
// nearest-even with overflow::saturate.
struct golden_row {
  const char* what;
  double x;
  std::uint32_t nearest, toward_zero, toward_positive, toward_negative, saturate;
};

// Runs every row through T::from for double input and, when the input is a float, for
// float input too. `x` written as a double literal must be exact in double.
template <class T, std::size_t N>
void check_golden(const golden_row (&rows)[N]) {
  using lowprec::overflow;
  using lowprec::rounding;
  for (const golden_row& r : rows) {
    const struct {
      rounding mode;
      overflow policy;
      std::uint32_t want;
    } cases[] = {{rounding::nearest_even, overflow::ieee, r.nearest},
                 {rounding::toward_zero, overflow::ieee, r.toward_zero},
                 {rounding::toward_positive, overflow::ieee, r.toward_positive},
                 {rounding::toward_negative, overflow::ieee, r.toward_negative},
                 {rounding::nearest_even, overflow::saturate, r.saturate}};
    const bool float_exact = static_cast<double>(static_cast<float>(r.x)) == r.x ||
                             r.x != r.x;
    for (const auto& c : cases) {
      INFO(r.what << " (" << r.x << ") under " << lowprec::to_string(c.mode) << "/"
                  << lowprec::to_string(c.policy));
      CHECK(+T::from(r.x, c.mode, c.policy).bits() == c.want);
      if (float_exact) CHECK(+T::from(static_cast<float>(r.x), c.mode, c.policy).bits() == c.want);
    }
  }
}

// A float from its bit pattern, for NaN payload rows.
inline float float_from_bits(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}
inline double double_from_bits(std::uint64_t u) {
  double d = 0;
  std::memcpy(&d, &u, 8);
  return d;
}

}  // namespace lowprec_test
