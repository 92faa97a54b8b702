// Per-target Highway kernels behind lowprec's float-accumulating matrix-vector product
// (linalg.hpp). Included once per SIMD target by detail/simd.hpp; users include
// linalg.hpp or eigen.hpp.
//
// The order of accumulation is part of the definition, so that every target, the
// scalar reference (linalg.hpp, detail::matvec_reference) and any future target give the
// same bits:
//   row-major A   y[i] = tree( p[0..31] ),  p[j] = sum over k = j (mod 32), in k order,
//                 of round(A[i,k] * x[k]); tree adds p[j] += p[j + s] for s = 16, 8, .., 1
//   column-major  y[i] = sum over k in order of round(A[i,k] * x[k])
//   sum / squared norm of n contiguous elements: the row-major order with the term
//                 a[k] (sum) or round(a[k] * a[k]) (squared norm)
// Each product is rounded to float before it is added (no fused multiply-add: targets
// without FMA could not match it), and the kernels are compiled with floating-point
// contraction off so that GCC does not fuse them behind our back. 32 partial sums are
// enough independent chains to hide add latency on every x86 target, and 32 is a
// multiple of every vector width up to 16 floats (vectors are capped at 16 lanes).

#if defined(LOWPREC_SIMD_LINALG_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_LINALG_INL_H_TARGET
#undef LOWPREC_SIMD_LINALG_INL_H_TARGET
#else
#define LOWPREC_SIMD_LINALG_INL_H_TARGET
#endif

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "lowprec/detail/linalg_common.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace linalg_kernels {

namespace hn = hwy::HWY_NAMESPACE;
using detail::matrix_format;
using detail::matvec_args;
using detail::kMatvecPartials;

using DF = hn::CappedTag<float, 16>;
using DU = hn::Rebind<std::uint32_t, DF>;

// N elements of A starting at p, widened to float lanes (exactly as static_cast<float>,
// up to the quiet bit of a NaN, which no product can observe: arithmetic quiets NaNs).
template <class T>
HWY_INLINE hn::Vec<DF> LoadWide(const T* p) {
  const DF df;
  const DU du;
  if constexpr (std::is_same_v<T, float>) {
    return hn::LoadU(df, p);
  } else if constexpr (std::is_same_v<T, bf16>) {  // the top half of a float
    return hn::BitCast(df, hn::ShiftLeft<16>(convert_kernels::LoadCodes<T>(du, p)));
  } else if constexpr (std::is_same_v<T, fp16> && convert_kernels::kHardwareF16) {
    const hn::Rebind<hwy::float16_t, DF> dh;  // F16C: exact, quiets like the scalar path
    return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
  } else {
    return hn::BitCast(df, convert_kernels::DecodeToF32<typename T::format>(
                               du, convert_kernels::LoadCodes<T>(du, p)));
  }
}

template <class T>
HWY_INLINE float WidenOne(T v) {
  return static_cast<float>(v);
}

// The tail and the tree of a row-major dot product; p holds the 32 partial sums.
template <class T>
HWY_INLINE float FinishRow(float* p, const T* a, const float* x, std::size_t k, std::size_t n) {
  for (std::size_t j = 0; k < n; ++k, ++j) {
    const float prod = WidenOne(a[k]) * x[k];
    p[j] = p[j] + prod;
  }
  for (std::size_t s = kMatvecPartials / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

// The main loop on fixed-width targets: V = 32/N accumulators, unrolled at compile time
// (an index sequence) so that they stay in registers.
template <class T, std::size_t... V>
HWY_INLINE void DotRowFixed(const T* HWY_RESTRICT a, const float* HWY_RESTRICT x,
                            std::size_t n, std::size_t& k, float* p,
                            std::index_sequence<V...>) {
  const DF df;
  constexpr std::size_t N = hn::MaxLanes(DF());
  hn::Vec<DF> acc[sizeof...(V)] = {(static_cast<void>(V), hn::Zero(df))...};
  for (; k + kMatvecPartials <= n; k += kMatvecPartials) {
    ((acc[V] = hn::Add(acc[V], hn::Mul(LoadWide(a + k + V * N), hn::LoadU(df, x + k + V * N)))),
     ...);
  }
  (hn::Store(acc[V], df, p + V * N), ...);
}

// One row-major dot product in the documented order. On fixed-width targets the 32
// partial sums live in 32/N registers; scalable vectors keep them in memory.
template <class T>
HWY_INLINE float DotRow(const T* HWY_RESTRICT a, const float* HWY_RESTRICT x, std::size_t n) {
  HWY_ALIGN float p[kMatvecPartials] = {};
  std::size_t k = 0;
#if HWY_HAVE_SCALABLE
  const DF df;
  const std::size_t N = hn::Lanes(df);
  for (; k + kMatvecPartials <= n; k += kMatvecPartials) {
    for (std::size_t v = 0; v < kMatvecPartials; v += N) {
      const auto prod = hn::Mul(LoadWide(a + k + v), hn::LoadU(df, x + k + v));
      hn::Store(hn::Add(hn::Load(df, p + v), prod), df, p + v);
    }
  }
#else
  constexpr std::size_t N = hn::MaxLanes(DF());
  static_assert(kMatvecPartials % N == 0, "vector width must divide 32");
  DotRowFixed(a, x, n, k, p, std::make_index_sequence<kMatvecPartials / N>());
#endif
  return FinishRow(p, a, x, k, n);
}

// Sum (kSquare = false) or sum of squares of n contiguous elements, in the row-major dot
// product's order: 32 partial sums p[k mod 32], then the same tree.
template <bool kSquare>
HWY_INLINE hn::Vec<DF> Term(hn::Vec<DF> v) {
  if constexpr (kSquare) {
    return hn::Mul(v, v);
  } else {
    return v;
  }
}

template <class T, bool kSquare, std::size_t... V>
HWY_INLINE void ReduceFixed(const T* HWY_RESTRICT a, std::size_t n, std::size_t& k, float* p,
                            std::index_sequence<V...>) {
  const DF df;
  constexpr std::size_t N = hn::MaxLanes(DF());
  hn::Vec<DF> acc[sizeof...(V)] = {(static_cast<void>(V), hn::Zero(df))...};
  for (; k + kMatvecPartials <= n; k += kMatvecPartials) {
    ((acc[V] = hn::Add(acc[V], Term<kSquare>(LoadWide(a + k + V * N)))), ...);
  }
  (hn::Store(acc[V], df, p + V * N), ...);
}

template <class T, bool kSquare>
HWY_INLINE float Reduce(const T* HWY_RESTRICT a, std::size_t n) {
  HWY_ALIGN float p[kMatvecPartials] = {};
  std::size_t k = 0;
#if HWY_HAVE_SCALABLE
  const DF df;
  const std::size_t N = hn::Lanes(df);
  for (; k + kMatvecPartials <= n; k += kMatvecPartials) {
    for (std::size_t v = 0; v < kMatvecPartials; v += N) {
      hn::Store(hn::Add(hn::Load(df, p + v), Term<kSquare>(LoadWide(a + k + v))), df, p + v);
    }
  }
#else
  constexpr std::size_t N = hn::MaxLanes(DF());
  ReduceFixed<T, kSquare>(a, n, k, p, std::make_index_sequence<kMatvecPartials / N>());
#endif
  for (std::size_t j = 0; k < n; ++k, ++j) {
    const float v = WidenOne(a[k]);
    const float term = kSquare ? v * v : v;
    p[j] = p[j] + term;
  }
  for (std::size_t s = kMatvecPartials / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

template <class T>
HWY_INLINE float ReduceTyped(const void* a, std::size_t n, bool square) {
  const T* at = static_cast<const T*>(a);
#if HWY_TARGET == HWY_EMU128
  return detail::reduce_reference(at, n, square);  // as MatVecTyped
#endif
  return square ? Reduce<T, true>(at, n) : Reduce<T, false>(at, n);
}

// y = A x for a row-major A (rows of `cols` elements, `stride` elements apart).
template <class T>
HWY_NOINLINE void MatVecRows(const T* a, const matvec_args& m, const float* x, float* y) {
  for (std::size_t i = 0; i < m.rows; ++i) y[i] = DotRow(a + i * m.stride, x, m.cols);
}

// y = A x for a column-major A: y accumulates column after column.
template <class T>
HWY_NOINLINE void MatVecCols(const T* a, const matvec_args& m, const float* x, float* y) {
  const DF df;
  const std::size_t N = hn::Lanes(df);
  for (std::size_t i = 0; i < m.rows; ++i) y[i] = 0.0f;
  for (std::size_t k = 0; k < m.cols; ++k) {
    const T* col = a + k * m.stride;
    const float xk = x[k];
    const auto xv = hn::Set(df, xk);
    std::size_t i = 0;
    for (; i + N <= m.rows; i += N) {
      const auto prod = hn::Mul(LoadWide(col + i), xv);
      hn::StoreU(hn::Add(hn::LoadU(df, y + i), prod), df, y + i);
    }
    for (; i < m.rows; ++i) {
      const float prod = WidenOne(col[i]) * xk;
      y[i] = y[i] + prod;
    }
  }
}

template <class T>
HWY_INLINE void MatVecTyped(const void* a, const matvec_args& m, const float* x, float* y) {
  const T* at = static_cast<const T*>(a);
#if HWY_TARGET == HWY_EMU128
  // EMU128 emulates vectors with arrays: no faster than the scalar definition, and under
  // ASan/UBSan the unrolled kernels take minutes to compile. It runs the definition.
  detail::matvec_reference(at, m, x, y);
  return;
#endif
  if (m.row_major) {
    MatVecRows(at, m, x, y);
  } else {
    MatVecCols(at, m, x, y);
  }
}

}  // namespace linalg_kernels

// The exported entry: one function per target, the format chosen at run time.
HWY_MAYBE_UNUSED static void MatVecF32Acc(const void* a, const detail::matvec_args& m, const float* x,
                                          float* y) {
  namespace k = linalg_kernels;
  using detail::matrix_format;
  switch (m.format) {
    case matrix_format::f32: return k::MatVecTyped<float>(a, m, x, y);
    case matrix_format::fp16: return k::MatVecTyped<fp16>(a, m, x, y);
    case matrix_format::bf16: return k::MatVecTyped<bf16>(a, m, x, y);
    case matrix_format::fp8_e4m3fn: return k::MatVecTyped<fp8_e4m3fn>(a, m, x, y);
    case matrix_format::fp8_e5m2: return k::MatVecTyped<fp8_e5m2>(a, m, x, y);
  }
}

// Sum (square = false) or squared norm of n elements of the given format.
HWY_MAYBE_UNUSED static float ReduceF32Acc(const void* a, detail::matrix_format f, std::size_t n,
                                           bool square) {
  namespace k = linalg_kernels;
  using detail::matrix_format;
  switch (f) {
    case matrix_format::f32: return k::ReduceTyped<float>(a, n, square);
    case matrix_format::fp16: return k::ReduceTyped<fp16>(a, n, square);
    case matrix_format::bf16: return k::ReduceTyped<bf16>(a, n, square);
    case matrix_format::fp8_e4m3fn: return k::ReduceTyped<fp8_e4m3fn>(a, n, square);
    case matrix_format::fp8_e5m2: return k::ReduceTyped<fp8_e5m2>(a, n, square);
  }
  return 0.0f;
}

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif  // per-target guard
