// Smoke test of a packaged lowprec: the headers are found, the target carries C++17,
// and bf16 rounds pi to nearest-even (3.140625, 0x4049).
#include <lowprec/bf16.hpp>
#include <lowprec/version.hpp>

#include <cstdio>
#include <cstring>

int main() {
  const lowprec::bf16 pi(3.14159265f);
  const float back = pi;
  if (back != 3.140625f || pi.bits() != 0x4049) {
    std::fprintf(stderr, "bf16(3.14159265f) read back %.9g (bits 0x%04x), expected 3.140625 (0x4049)\n",
                 static_cast<double>(back), static_cast<unsigned>(pi.bits()));
    return 1;
  }
#ifdef LOWPREC_PACKAGE_VERSION
  if (std::strcmp(lowprec::version_string, LOWPREC_PACKAGE_VERSION) != 0) {
    std::fprintf(stderr, "package says version %s, headers say %s\n", LOWPREC_PACKAGE_VERSION,
                 lowprec::version_string);
    return 1;
  }
#endif
  std::printf("lowprec %s: bf16(3.14159265f) = %.9g (0x%04x)\n", lowprec::version_string,
              static_cast<double>(back), static_cast<unsigned>(pi.bits()));
  return 0;
}
