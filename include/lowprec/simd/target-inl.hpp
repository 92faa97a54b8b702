// Per-target: reports which Highway target a dispatched call lands on (simd_target()).
#if defined(LOWPREC_SIMD_TARGET_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_TARGET_INL_H_TARGET
#undef LOWPREC_SIMD_TARGET_INL_H_TARGET
#else
#define LOWPREC_SIMD_TARGET_INL_H_TARGET
#endif

#include <hwy/highway.h>

#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
HWY_MAYBE_UNUSED static std::int64_t SimdTarget() { return HWY_TARGET; }
}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
