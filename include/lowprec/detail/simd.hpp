// The one place lowprec compiles its SIMD kernels. Highway's hwy/foreach_target.h has an
// include guard, so a translation unit can re-include only one file per target; lowprec
// therefore lists all its kernel files in simd/kernels-inl.hpp and every public header
// with kernels includes this hub. Any such header brings all of lowprec's kernels into
// the translation unit: one copy per Highway target the compiler can emit, the best of
// which is picked at run time (no -m flags needed). simd_target() names it.
//
// LOWPREC_STATIC_DISPATCH (define before any lowprec include) compiles only the target of
// the compiler flags instead: one copy of the kernels per translation unit and no
// foreach_target.h (so it combines with other users of it), but without -m flags that is
// 1-lane SCALAR code on g++ (EMU128 on clang).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(LOWPREC_STATIC_DISPATCH)
#include <hwy/highway.h>

#include "lowprec/simd/kernels-inl.hpp"
#define LOWPREC_SIMD_EXPORT(name) static_assert(true, "")
#define LOWPREC_SIMD_CALL(name) HWY_STATIC_DISPATCH(name)
#else
#if defined(HIGHWAY_HWY_FOREACH_TARGET_H_)
#error "lowprec: hwy/foreach_target.h was already included in this translation unit, and " \
       "Highway allows it once. Include lowprec's SIMD headers in another translation " \
       "unit, or define LOWPREC_STATIC_DISPATCH."
#endif
#pragma push_macro("HWY_TARGET_INCLUDE")
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lowprec/simd/kernels-inl.hpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include "lowprec/simd/kernels-inl.hpp"
#pragma pop_macro("HWY_TARGET_INCLUDE")
// One dispatch table per kernel per translation unit (internal linkage).
#define LOWPREC_SIMD_EXPORT(name) HWY_EXPORT(name)
#define LOWPREC_SIMD_CALL(name) HWY_DYNAMIC_DISPATCH(name)
#endif

namespace lowprec {
namespace detail {
LOWPREC_SIMD_EXPORT(SimdTarget);
}  // namespace detail

// The name of the Highway target lowprec's kernels run on in this process ("AVX3",
// "AVX2", "SSE4", "NEON", ...; under LOWPREC_STATIC_DISPATCH the compiled-in target).
static inline const char* simd_target() noexcept {
  using namespace detail;  // the dispatch tables
  return hwy::TargetName(LOWPREC_SIMD_CALL(SimdTarget)());
}

}  // namespace lowprec
