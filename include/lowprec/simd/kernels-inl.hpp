// Every per-target kernel file of lowprec, in dependency order. detail/simd.hpp includes
// this once per SIMD target (through hwy/foreach_target.h); nothing else should.
// No include guard: each file below has its own per-target toggle.
#include "lowprec/simd/target-inl.hpp"
#include "lowprec/simd/convert-inl.hpp"
#include "lowprec/simd/linalg-inl.hpp"
#include "lowprec/simd/prune-inl.hpp"
#include "lowprec/simd/quant-inl.hpp"
#include "lowprec/simd/quant_lowbit-inl.hpp"
#include "lowprec/simd/optim-inl.hpp"
