// require_invalid(fn, {fragments...}): fn must throw std::invalid_argument (or a type
// derived from it) whose message contains every fragment. Written without Catch2 matchers
// so it compiles against Catch2 v2 and v3 alike.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "support/catch.hpp"

namespace lowprec_test {

template <class Fn>
void require_invalid(Fn&& fn, const std::vector<std::string>& fragments) {
  bool thrown = false;
  std::string what;
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    thrown = true;
    what = e.what();
  }
  INFO("message: " << what);
  REQUIRE(thrown);
  for (const std::string& f : fragments) {
    INFO("expected fragment: " << f);
    CHECK(what.find(f) != std::string::npos);
  }
}

}  // namespace lowprec_test
