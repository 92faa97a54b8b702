// lowprec's demo: what happens to a number when you store it in fewer bits.
// Prints pi (and a few instructive values) as stored in fp32, fp16, bf16, fp8_e4m3fn
// and fp8_e5m2: the value that reads back, its bits, and the error.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "lowprec/lowprec.hpp"

namespace {

// One row: the format's name, the stored value, its bits, and the error vs `x`.
template <class T>
void row(const char* name, double x, T stored) {
  const double back = static_cast<float>(stored);
  char bits[16];
  std::snprintf(bits, sizeof bits, sizeof(T) == 1 ? "0x%02X" : "0x%04X",
                static_cast<unsigned>(stored.bits()));
  const double abs_err = back - x;
  if (std::isfinite(back)) {
    std::printf("  %-11s %-14.9g %-10s %+.3e  %+.3e\n", name, back, bits, abs_err,
                x != 0 ? abs_err / x : 0.0);
  } else {
    const char* why = !std::isfinite(x) ? "" :
                      std::isnan(back) ? "(overflow: NaN, the format has no infinity)"
                                       : "(overflow: infinity)";
    std::printf("  %-11s %-14.9g %-10s %s\n", name, back, bits, why);
  }
}

void fp32_row(double x) {
  const float f = static_cast<float>(x);
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  if (!std::isfinite(x)) {  // NaN and infinity are stored as they are: no error to show
    std::printf("  %-11s %-14.9g 0x%08" PRIX32 "\n", "fp32", static_cast<double>(f), u);
    return;
  }
  const double err = static_cast<double>(f) - x;
  std::printf("  %-11s %-14.9g 0x%08" PRIX32 " %+.3e  %+.3e\n", "fp32", static_cast<double>(f),
              u, err, x != 0 ? err / x : 0.0);
}

void show(const char* title, double x) {
  std::printf("%s = %.17g\n", title, x);
  std::printf("  %-11s %-14s %-10s %-11s %s\n", "format", "reads back", "bits", "abs error",
              "rel error");
  fp32_row(x);
  row("fp16", x, lowprec::fp16(x));
  row("bf16", x, lowprec::bf16(x));
  row("fp8_e4m3fn", x, lowprec::fp8_e4m3fn(x));
  row("fp8_e5m2", x, lowprec::fp8_e5m2(x));
  std::printf("\n");
}

}  // namespace

int main() {
  std::printf("lowprec %s: numbers stored in fewer bits (round to nearest, ties to even)\n\n",
              lowprec::version_string);
  show("pi", 3.14159265358979323846);
  show("65504 (largest fp16)", 65504.0);
  show("65520 (halfway past it: fp16 overflows)", 65520.0);
  show("1e-8 (below fp16's smallest subnormal 5.96e-8)", 1e-8);
  show("500 (above fp8_e4m3fn's largest, 448)", 500.0);
  show("NaN", std::numeric_limits<double>::quiet_NaN());

  // The overflow policy is one argument away.
  const auto sat = lowprec::fp8_e4m3fn::from(500.0, lowprec::rounding::nearest_even,
                                             lowprec::overflow::saturate);
  std::printf("fp8_e4m3fn::from(500, nearest_even, saturate) = %g (0x%02X)\n",
              static_cast<double>(static_cast<float>(sat)), static_cast<unsigned>(sat.bits()));
  const auto rz = lowprec::fp16::from(65520.0, lowprec::rounding::toward_zero);
  std::printf("fp16::from(65520, toward_zero)                 = %g (0x%04X)\n",
              static_cast<double>(static_cast<float>(rz)), static_cast<unsigned>(rz.bits()));
  return 0;
}
