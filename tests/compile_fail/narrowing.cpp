// Compile-fail cases: each LOWPREC_CASE must be rejected by the compiler because
// narrowing into a lowprec type is never implicit. Case 0 is the control: the same
// file with explicit conversions, which must compile, so a failure of the others
// cannot come from anything but the marked line.
#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"

namespace {
float take_bf16(lowprec::bf16 x) { return x; }
}  // namespace

int main() {
#if LOWPREC_CASE == 0
  lowprec::bf16 a(1.0);
  lowprec::fp16 b(1.0f);
  lowprec::fp8_e4m3fn c(1);
  lowprec::bf16 d = lowprec::bf16(lowprec::fp16(2.0f));
  return static_cast<int>(take_bf16(lowprec::bf16(0.5f)) + a + b + c + d) - 5;
#elif LOWPREC_CASE == 1
  lowprec::bf16 a = 1.0;  // double -> bf16 copy-initialisation
  return a.bits();
#elif LOWPREC_CASE == 2
  lowprec::fp16 b = 1.0f;  // float -> fp16 copy-initialisation
  return b.bits();
#elif LOWPREC_CASE == 3
  return static_cast<int>(take_bf16(0.5f));  // implicit float -> bf16 argument
#elif LOWPREC_CASE == 4
  lowprec::bf16 d = lowprec::fp16(2.0f);  // fp16 -> bf16 rounds: not implicit either
  return d.bits();
#endif
}
