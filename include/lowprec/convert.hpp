// lowprec::convert: bulk conversion between float/double and lowprec's formats, at memory
// speed on every CPU and bit-identical to the scalar conversions.
//
//   from \ to   float   fp16   bf16   fp8_e4m3fn   fp8_e5m2   int8
//   float         -      x      x         x           x        x
//   double        -      x      x         x           x        -
//   fp16          x      -      x         -           -        -
//   bf16          x      x      -         -           -        -
//   fp8_*, int8   x      -      -         -           -        -
//
// Semantics: element i of the output is exactly the scalar conversion of element i,
//   Dst::from(src[i], opts.round, opts.on_overflow, detail::random_bits(opts.seed,
//   opts.offset + i)), or float(src[i]) for widening (exact), or round_to_int8 (in
//   detail/int8_rounding.hpp) for float -> int8.
// So every rounding and overflow policy of the scalar types applies, NaN stays a quiet
// NaN with its sign and top payload bits, and stochastic rounding is reproducible: the
// random bits of an element depend only on (seed, offset + i), never on the SIMD target,
// the thread count or how the array is split (convert chunk [k, k+m) with offset = k).
// No result depends on the floating-point environment (MXCSR rounding mode, DAZ, FTZ).
//
// Dispatch (detail/simd.hpp): the kernels (simd/convert-inl.hpp, with every other lowprec
// kernel file) are compiled for each Highway target the compiler can emit, and the best
// one the CPU supports runs; no -m flags needed. lowprec::simd_target() names it. Cost:
// each translation unit that includes this header compiles its own copy of the kernels
// per target (they have internal linkage, as Highway's ops). LOWPREC_STATIC_DISPATCH,
// defined before any lowprec include, compiles only the target of the compiler flags:
// one copy, but with no -m flags that is 1-lane SCALAR code (g++) or EMU128 (clang).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "lowprec/bf16.hpp"
#include "lowprec/detail/bits.hpp"
#include "lowprec/detail/config.hpp"
#include "lowprec/detail/int8_rounding.hpp"
#include "lowprec/detail/random.hpp"
#include "lowprec/detail/rounding.hpp"
#include "lowprec/detail/simd.hpp"  // all of lowprec's kernels, this file's included
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/policy.hpp"

namespace lowprec {

// Policies of a bulk conversion; the defaults are those of the scalar constructors.
struct convert_options {
  rounding round = rounding::nearest_even;
  overflow on_overflow = overflow::ieee;  // int8 always saturates (it has no infinity)
  std::uint64_t seed = 0;    // stochastic rounding: the random stream
  std::uint64_t offset = 0;  // stochastic rounding: index of src[0] in the whole tensor
};

// float -> int8, one element (detail/int8_rounding.hpp): round_to_int8(x, mode,
// random_bits) rounds x to an integer under `mode`, then saturates to [-128, 127];
// infinities saturate, NaN gives 0. The bulk float -> std::int8_t conversion applies it.

namespace detail {

LOWPREC_SIMD_EXPORT(ConvertNarrowF32);
LOWPREC_SIMD_EXPORT(ConvertNarrowF64);
LOWPREC_SIMD_EXPORT(ConvertWidenToF32);
LOWPREC_SIMD_EXPORT(ConvertFp16Bf16);

// The narrow types a kernel knows, and the pairs convert() accepts.
template <class T>
struct narrow_id {
  static constexpr bool known = false;
};
template <convert_format F>
struct narrow_id_is {
  static constexpr bool known = true;
  static constexpr convert_format id = F;
};
template <> struct narrow_id<fp16> : narrow_id_is<convert_format::fp16> {};
template <> struct narrow_id<bf16> : narrow_id_is<convert_format::bf16> {};
template <> struct narrow_id<fp8_e4m3fn> : narrow_id_is<convert_format::fp8_e4m3fn> {};
template <> struct narrow_id<fp8_e5m2> : narrow_id_is<convert_format::fp8_e5m2> {};
template <> struct narrow_id<std::int8_t> : narrow_id_is<convert_format::int8> {};

template <class T>
inline constexpr bool is_small_float = narrow_id<T>::known && !std::is_same_v<T, std::int8_t>;
template <class T>
inline constexpr bool is_16bit_float = std::is_same_v<T, fp16> || std::is_same_v<T, bf16>;

template <class Src, class Dst>
inline constexpr bool convert_supported =
    (std::is_same_v<Src, float> && narrow_id<Dst>::known) ||           // float -> narrow
    (std::is_same_v<Src, double> && is_small_float<Dst>) ||            // double -> float formats
    (narrow_id<Src>::known && std::is_same_v<Dst, float>) ||           // narrow -> float
    (is_16bit_float<Src> && is_16bit_float<Dst> && !std::is_same_v<Src, Dst>);  // fp16 <-> bf16

// One kernel call per run of indices that shares index >> 32 (the random key).
template <class Src, class Dst>
static inline void convert_runs(const Src* src, Dst* dst, std::size_t n,
                                const convert_options& opts) noexcept {
  convert_args a{};
  a.mode = opts.round;
  a.policy = opts.on_overflow;
  if constexpr (narrow_id<Src>::known) a.src = narrow_id<Src>::id;
  if constexpr (narrow_id<Dst>::known) a.dst = narrow_id<Dst>::id;
  std::uint64_t index = opts.offset;
  while (n > 0) {
    const std::uint64_t room = (std::uint64_t{1} << 32) - (index & 0xFFFFFFFFu);
    const std::size_t m = static_cast<std::uint64_t>(n) < room ? n : static_cast<std::size_t>(room);
    a.index_lo = static_cast<std::uint32_t>(index);
    a.key = make_random_key(opts.seed, static_cast<std::uint32_t>(index >> 32));
    if constexpr (std::is_same_v<Src, float>) {
      LOWPREC_SIMD_CALL(ConvertNarrowF32)(src, static_cast<void*>(dst), m, a);
    } else if constexpr (std::is_same_v<Src, double>) {
      LOWPREC_SIMD_CALL(ConvertNarrowF64)(src, static_cast<void*>(dst), m, a);
    } else if constexpr (std::is_same_v<Dst, float>) {
      LOWPREC_SIMD_CALL(ConvertWidenToF32)(static_cast<const void*>(src), dst, m, a);
    } else {
      LOWPREC_SIMD_CALL(ConvertFp16Bf16)(static_cast<const void*>(src), static_cast<void*>(dst), m,
                                         a);
    }
    src += m;
    dst += m;
    n -= m;
    index += m;
  }
}

// ---- contiguous ranges ----------------------------------------------------------------
template <class R, class = void>
struct is_contiguous_range : std::false_type {};
template <class R>
struct is_contiguous_range<
    R, std::void_t<decltype(std::declval<R&>().data()), decltype(std::declval<R&>().size())>>
    : std::is_pointer<decltype(std::declval<R&>().data())> {};

template <class R>
using range_element_t = std::remove_pointer_t<decltype(std::declval<R&>().data())>;

// Eigen blocks have data() but may be strided: they qualify when they are dense.
template <class R, class = void>
struct has_strides : std::false_type {};
template <class R>
struct has_strides<R, std::void_t<decltype(std::declval<const R&>().innerStride()),
                                  decltype(std::declval<const R&>().outerStride()),
                                  decltype(std::declval<const R&>().outerSize())>>
    : std::true_type {};

template <class R>
static inline void require_dense(const R& r, const char* which) {
  if constexpr (has_strides<R>::value) {
    const auto inner = static_cast<long long>(r.innerStride());
    const auto outer = static_cast<long long>(r.outerStride());
    const bool dense = r.size() == 0 ||
                       (inner == 1 && (r.outerSize() <= 1 ||
                                       outer == static_cast<long long>(r.innerSize())));
    if (!dense) {
      throw std::invalid_argument(std::string("lowprec::convert: ") + which +
                                  " is not contiguous (inner stride " + std::to_string(inner) +
                                  ", outer stride " + std::to_string(outer) + ")");
    }
  } else {
    (void)r;
    (void)which;
  }
}

// Two Eigen objects must also agree in shape and storage order (or both be vectors): only
// then is element i of one element i of the other.
template <class S, class D>
static inline void require_same_shape(const S& src, const D& dst) {
  if constexpr (has_strides<S>::value && has_strides<D>::value) {
    const bool vectors = (src.rows() == 1 || src.cols() == 1) &&
                         (dst.rows() == 1 || dst.cols() == 1);  // sizes are equal already
    const bool same_dims = src.rows() == dst.rows() && src.cols() == dst.cols();
    if (!vectors && (!same_dims || bool(S::IsRowMajor) != bool(D::IsRowMajor))) {
      throw std::invalid_argument(
          "lowprec::convert: shape mismatch: src is " + std::to_string(src.rows()) + "x" +
          std::to_string(src.cols()) + (S::IsRowMajor ? " row-major" : " column-major") +
          ", dst is " + std::to_string(dst.rows()) + "x" + std::to_string(dst.cols()) +
          (D::IsRowMajor ? " row-major" : " column-major"));
    }
  } else {
    (void)src;
    (void)dst;
  }
}

}  // namespace detail

// Converts src[0, n) into dst[0, n) (see the top of this file). Total: every input has
// one defined output. n == 0 does nothing; any alignment is fine. src and dst must not
// overlap, except src == dst for fp16 <-> bf16 (in place); checked by LOWPREC_ASSERT.
template <class Src, class Dst>
static inline void convert(const Src* src, Dst* dst, std::size_t n,
                           const convert_options& opts = {}) noexcept {
  static_assert(!std::is_const_v<Dst>, "lowprec::convert: the destination must be writable");
  static_assert(detail::convert_supported<std::remove_cv_t<Src>, Dst>,
                "lowprec::convert: unsupported (Src, Dst) pair (see the instantiation for the "
                "types). Supported: float -> fp16/bf16/fp8_e4m3fn/fp8_e5m2/int8_t, double -> "
                "fp16/bf16/fp8_e4m3fn/fp8_e5m2, each of those -> float, fp16 <-> bf16");
  if (n == 0) return;
#ifndef NDEBUG
  const auto s = reinterpret_cast<std::uintptr_t>(src);
  const auto d = reinterpret_cast<std::uintptr_t>(dst);
  const bool disjoint = s + n * sizeof(Src) <= d || d + n * sizeof(Dst) <= s;
  const bool in_place = sizeof(Src) == sizeof(Dst) && s == d;
  LOWPREC_ASSERT((disjoint || in_place) && "lowprec::convert: src and dst overlap");
  (void)disjoint;
  (void)in_place;
#endif
  detail::convert_runs(src, dst, n, opts);
}

// Contiguous ranges: std::vector, std::array, spans, dense Eigen objects (anything with
// data() and size(); Eigen expressions must also be dense). Throws std::invalid_argument,
// before writing anything, when the sizes differ or a range is strided.
template <class SrcRange, class DstRange,
          std::enable_if_t<detail::is_contiguous_range<const SrcRange>::value &&
                               detail::is_contiguous_range<std::remove_reference_t<DstRange>>::value,
                           int> = 0>
static inline void convert(const SrcRange& src, DstRange&& dst, const convert_options& opts = {}) {
  using Src = std::remove_cv_t<detail::range_element_t<const SrcRange>>;
  using Dst = detail::range_element_t<std::remove_reference_t<DstRange>>;
  static_assert(!std::is_const_v<Dst>, "lowprec::convert: the destination range must be writable");
  static_assert(detail::convert_supported<Src, Dst>,
                "lowprec::convert: unsupported (Src, Dst) element pair (see the instantiation "
                "for the types). Supported: float -> fp16/bf16/fp8_e4m3fn/fp8_e5m2/int8_t, "
                "double -> fp16/bf16/fp8_e4m3fn/fp8_e5m2, each of those -> float, fp16 <-> bf16");
  const auto src_size = static_cast<std::size_t>(src.size());
  const auto dst_size = static_cast<std::size_t>(dst.size());
  if (src_size != dst_size) {
    throw std::invalid_argument("lowprec::convert: size mismatch: src has " +
                                std::to_string(src_size) + " elements, dst has " +
                                std::to_string(dst_size));
  }
  detail::require_dense(src, "src");
  detail::require_dense(dst, "dst");
  detail::require_same_shape(src, dst);
  convert(src.data(), dst.data(), src_size, opts);
}

// The first n elements of two contiguous ranges (lowprec::convert(src, dst, n) on
// containers): throws std::invalid_argument, before writing anything, when n exceeds
// either range or a range is strided.
template <class SrcRange, class DstRange,
          std::enable_if_t<detail::is_contiguous_range<const SrcRange>::value &&
                               detail::is_contiguous_range<std::remove_reference_t<DstRange>>::value,
                           int> = 0>
static inline void convert(const SrcRange& src, DstRange&& dst, std::size_t n,
                           const convert_options& opts = {}) {
  const auto src_size = static_cast<std::size_t>(src.size());
  const auto dst_size = static_cast<std::size_t>(dst.size());
  if (n > src_size || n > dst_size) {
    throw std::invalid_argument("lowprec::convert: n = " + std::to_string(n) +
                                " exceeds the range (src has " + std::to_string(src_size) +
                                " elements, dst has " + std::to_string(dst_size) + ")");
  }
  detail::require_dense(src, "src");
  detail::require_dense(dst, "dst");
  convert(src.data(), dst.data(), n, opts);
}

}  // namespace lowprec
