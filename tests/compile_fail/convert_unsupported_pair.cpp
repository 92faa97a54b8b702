// Must not compile: double -> int8 is not a supported pair, and the static_assert says so
// (registered by tests/convert.cmake as a test that expects the message).
#define LOWPREC_STATIC_DISPATCH  // one target: keeps this check quick
#include <cstdint>

#include "lowprec/convert.hpp"

int main() {
  const double x[2] = {1.0, 2.0};
  std::int8_t y[2];
  lowprec::convert(x, y, 2);
  return y[0];
}
