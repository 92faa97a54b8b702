// See floor_kernels.hpp. Highway re-includes this file once per target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "floor_kernels.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <cstring>

#include "floor_kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace lowprec_bench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void VectorCopy(const unsigned char* src, unsigned char* dst, std::size_t bytes) {
  const hn::ScalableTag<std::uint8_t> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + 2 * N <= bytes; i += 2 * N) {
    hn::StoreU(hn::LoadU(d, src + i), d, dst + i);
    hn::StoreU(hn::LoadU(d, src + i + N), d, dst + i + N);
  }
  if (i < bytes) std::memcpy(dst + i, src + i, bytes - i);
}

void F32Bf16Truncate(const float* src, std::uint16_t* dst, std::size_t n) {
  std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR  // one-lane vectors have no 16-bit halves to pick
  const hn::ScalableTag<std::uint32_t> d32;
  const hn::Repartition<std::uint16_t, decltype(d32)> d16;
  const hn::RebindToFloat<decltype(d32)> df;
  const std::size_t N = hn::Lanes(d32);
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto lo = hn::BitCast(d16, hn::LoadU(df, src + i));
    const auto hi = hn::BitCast(d16, hn::LoadU(df, src + i + N));
    hn::StoreU(hn::ConcatOdd(d16, hi, lo), d16, dst + i);
  }
#endif
  for (; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, src + i, sizeof bits);
    dst[i] = static_cast<std::uint16_t>(bits >> 16);
  }
}

void Bf16F32Shift(const std::uint16_t* src, float* dst, std::size_t n) {
  const hn::ScalableTag<std::uint32_t> d32;
  const hn::Rebind<std::uint16_t, decltype(d32)> d16;
  const hn::RebindToFloat<decltype(d32)> df;
  const std::size_t N = hn::Lanes(d32);
  std::size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto w0 = hn::ShiftLeft<16>(hn::PromoteTo(d32, hn::LoadU(d16, src + i)));
    const auto w1 = hn::ShiftLeft<16>(hn::PromoteTo(d32, hn::LoadU(d16, src + i + N)));
    hn::StoreU(hn::BitCast(df, w0), df, dst + i);
    hn::StoreU(hn::BitCast(df, w1), df, dst + i + N);
  }
  for (; i < n; ++i) {
    const std::uint32_t bits = std::uint32_t{src[i]} << 16;
    std::memcpy(dst + i, &bits, sizeof bits);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace lowprec_bench
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace lowprec_bench {

HWY_EXPORT(VectorCopy);
HWY_EXPORT(F32Bf16Truncate);
HWY_EXPORT(Bf16F32Shift);

void vector_copy(const unsigned char* src, unsigned char* dst, std::size_t bytes) {
  HWY_DYNAMIC_DISPATCH(VectorCopy)(src, dst, bytes);
}
void f32_bf16_truncate(const float* src, std::uint16_t* dst, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(F32Bf16Truncate)(src, dst, n);
}
void bf16_f32_shift(const std::uint16_t* src, float* dst, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(Bf16F32Shift)(src, dst, n);
}

}  // namespace lowprec_bench
#endif  // HWY_ONCE
