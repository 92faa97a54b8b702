// Umbrella header: every lowprec component that needs only the standard library — the
// float formats and their policies, int4/uint4, the NF4 code, packed 4-bit storage and
// the training memory calculator. The parts built on Highway or Eigen have their own headers
// (convert.hpp, linalg.hpp, eigen.hpp, quant/*.hpp, prune/*.hpp, optim/*.hpp), so that a
// translation unit pays for the SIMD kernels only when it asks for them.
#pragma once

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/int4.hpp"
#include "lowprec/memory.hpp"
#include "lowprec/packed.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/quant/nf4.hpp"
#include "lowprec/small_float.hpp"
#include "lowprec/version.hpp"
