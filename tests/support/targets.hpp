// Runs a test body once per SIMD target: every Highway target that was compiled into this
// binary and that the CPU supports, each forced in turn through
// hwy::SetSupportedTargetsForTest, so a test can hold each kernel bit-identical to the
// scalar definition on all of them. The body takes the target's name, or nothing.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "lowprec/detail/simd.hpp"  // first: it includes hwy/foreach_target.h
#include "support/catch.hpp"

#include <hwy/targets.h>

namespace lowprec_test {

template <class Body>
void for_each_target(const Body& body) {
  const std::vector<std::int64_t> targets = hwy::SupportedAndGeneratedTargets();
  REQUIRE(!targets.empty());
  for (const std::int64_t t : targets) {
    hwy::SetSupportedTargetsForTest(t);
    const char* name = hwy::TargetName(t);
    INFO("target " << name);
    // Dispatch really goes where we asked (the first call re-reads the forced targets).
    REQUIRE(std::string(lowprec::simd_target()) == name);
    if constexpr (std::is_invocable_v<const Body&, const char*>) {
      body(name);
    } else {
      body();
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace lowprec_test
