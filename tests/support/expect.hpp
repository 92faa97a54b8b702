// require_throws<E>(fn, {fragments...}): fn must throw E (or a type derived from it) whose
// message contains every fragment; require_invalid(fn, {...}) is the std::invalid_argument
// case. Written without Catch2 matchers, so it compiles against Catch2 v2 and v3 alike.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "support/catch.hpp"

namespace lowprec_test {

template <class E, class Fn>
void require_throws(Fn&& fn, const std::vector<std::string>& fragments) {
  bool thrown = false;
  std::string what;
  try {
    fn();
  } catch (const E& e) {
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

template <class Fn>
void require_invalid(Fn&& fn, const std::vector<std::string>& fragments) {
  require_throws<std::invalid_argument>(static_cast<Fn&&>(fn), fragments);
}

}  // namespace lowprec_test
