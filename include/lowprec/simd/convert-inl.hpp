// Per-target Highway kernels behind lowprec::convert (convert.hpp). Included once per SIMD
// target by simd/kernels-inl.hpp through detail/simd.hpp; users include convert.hpp.
//
// Invariant: every kernel is bit-identical to the scalar definition in small_float.hpp
// (encode_ieee / decode_to_float with detail/rounding.hpp) for every input, policy and
// target, and reads the same random bits (detail/random.hpp). Formats are handled as
// integer codes in uint32_t lanes: 16- and 8-bit codes are widened with PromoteTo, floats
// are reinterpreted; rounding is integer arithmetic. Highway's own f16/bf16 DemoteTo is
// never used for rounding (1.0.3 truncates bf16, and f16 without F16C). The hardware
// paths are x86 F16C (AVX2 and up) for float <-> fp16 and AVX512-BF16 (vcvtne2ps2bf16,
// with a fallback for subnormal inputs) for float -> bf16, both for nearest-even and IEEE
// overflow; their equality with the scalar definition is proven by the exhaustive tests.
//
// Narrowing float -> format, in the notation of small_float.hpp (M mantissa bits,
// S = 23 - M bits dropped from a float significand, B = the float exponent field of the
// format's smallest normal, a = |x| as bits):
//
//   a's exponent field   value in the format    rounding                         cost
//   >= B (normal)        normal or overflow     (a + R) >> S, minus (B-1) << M:   ~6 ops
//                                               the carry runs into the exponent
//   < B (tiny)           subnormal or zero      shift = S + B - max(E, 1) is per   ~20 ops,
//                                               lane: variable shifts              only when
//                                                                                  a lane needs it
//   all ones             inf or NaN             per-call constants / payload
//
// R decides rounding up, as in detail/rounding.hpp: with the dropped bits as a 32-bit
// fraction f, the kept part goes up when f + R carries out of 32 bits, where
//   nearest_even  R = 2^31 - 1 + (kept & 1)      directed  R = 0 or 2^32 - 1 (per sign)
//   stochastic    R = the element's random bits (f truncated to 32 bits, no sticky bit)
// For the normal case the same test is a plain add of R >> (32 - S) before the shift.
// One kernel serves every mode: R = random bits (zero unless stochastic) + a per-sign
// constant + (kept & parity), all from per-call constants (narrow_consts), which keeps
// the number of instantiations (and compile time) down; nearest-even + IEEE overflow,
// the default, has its own fast paths for bf16 and (F16C) fp16.

// ---- Target-independent part (normal include guard) ----------------------------------
#ifndef LOWPREC_SIMD_CONVERT_INL_COMMON_
#define LOWPREC_SIMD_CONVERT_INL_COMMON_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowprec/bf16.hpp"
#include "lowprec/detail/int8_rounding.hpp"
#include "lowprec/detail/random.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/small_float.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace lowprec::detail {

// The narrow side of a kernel call.
enum class convert_format : int { fp16, bf16, fp8_e4m3fn, fp8_e5m2, int8 };

// Everything a kernel needs besides the pointers. Built by convert.hpp per call (and per
// run of 2^32 indices, so that the random key is constant within a call).
struct convert_args {
  convert_format src;  // the narrow source (widening and 16 -> 16 bit kernels)
  convert_format dst;  // the narrow destination (narrowing kernels)
  rounding mode;
  overflow policy;
  std::uint32_t index_lo;  // low 32 bits of the index of element 0 (stochastic only)
  random_key key;          // key of the run of 2^32 indices element 0 belongs to
};

// Per-call constants of a narrowing: the scalar definition evaluated once, so kernels
// select between constants. Every rounding mode is one formula (see the top of this
// file): R = random bits + (r_pos or r_neg by sign) + (kept & parity).
struct narrow_consts {
  std::uint32_t ovf_pos, ovf_neg;  // codes (sign included): finite input beyond the largest
  std::uint32_t inf_pos, inf_neg;  // codes for +-infinity in
  std::uint32_t r_pos, r_neg;      // 2^31 - 1 (nearest), 2^32 - 1 (directed, away from 0), 0
  std::uint32_t parity;            // 1 for nearest-even: the kept part's lsb joins R
  std::uint32_t sticky;            // 1 unless stochastic: bits below the 32-bit fraction count
  bool stochastic;
};

template <class Format>
constexpr narrow_consts make_narrow_consts(rounding mode, overflow policy) noexcept {
  narrow_consts c{};
  c.ovf_pos = overflow_code<Format>(false, mode, policy);
  c.ovf_neg = overflow_code<Format>(true, mode, policy);
  c.inf_pos = encode_ieee<Format, 8, 23>(0x7F800000u, mode, policy, 0);
  c.inf_neg = encode_ieee<Format, 8, 23>(0xFF800000u, mode, policy, 0);
  const bool nearest = mode == rounding::nearest_even;
  c.r_pos = nearest ? 0x7FFFFFFFu : mode == rounding::toward_positive ? ~0u : 0u;
  c.r_neg = nearest ? 0x7FFFFFFFu : mode == rounding::toward_negative ? ~0u : 0u;
  c.parity = nearest ? 1u : 0u;
  c.stochastic = mode == rounding::stochastic;
  c.sticky = c.stochastic ? 0u : 1u;
  return c;
}

// The scalar definition element by element, for targets without real SIMD (EMU128).
template <class T>
void narrow_scalar(const float* src, T* dst, std::size_t n, const convert_args& a) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t r = random_bits(a.key, a.index_lo + static_cast<std::uint32_t>(i));
    if constexpr (std::is_same_v<T, std::int8_t>) {
      dst[i] = round_to_int8(src[i], a.mode, r);
    } else {
      dst[i] = T::from(src[i], a.mode, a.policy, r);
    }
  }
}
// A lowprec value as float, exactly and whatever MXCSR says: decode_to_float scales bf16
// subnormals by 2^-133, a float subnormal that DAZ/FTZ flush to zero, so bf16 goes by its
// bits (the other formats' scaling is exact with normal results).
template <class T>
float exact_float(T x) noexcept {
  if constexpr (std::is_same_v<T, bf16>) {
    const std::uint32_t w = std::uint32_t{x.bits()} << 16;
    const bool nan = (w & 0x7FFFFFFFu) > 0x7F800000u;
    return bit_cast<float>(w | (nan ? 0x00400000u : 0u));
  } else {
    return static_cast<float>(x);
  }
}

template <class Src, class T>
void narrow_scalar_from(const Src* src, T* dst, std::size_t n, const convert_args& a) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t r = random_bits(a.key, a.index_lo + static_cast<std::uint32_t>(i));
    if constexpr (std::is_same_v<Src, double>) {
      dst[i] = T::from(src[i], a.mode, a.policy, r);
    } else {
      dst[i] = T::from(exact_float(src[i]), a.mode, a.policy, r);
    }
  }
}
template <class Src>
void widen_scalar(const Src* src, float* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = exact_float(src[i]);
}

// AVX512-BF16 (vcvtne2ps2bf16), which Highway 1.0.3's AVX-512 targets do not enable:
// CPUID leaf 7 sub-leaf 1, EAX bit 5. Asked only from code that already runs on an
// AVX-512 target, so the OS saves the zmm state. LOWPREC_NO_AVX512BF16 turns it off.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(LOWPREC_NO_AVX512BF16) &&                                                          \
    ((defined(__clang__) && __clang_major__ >= 9) || (!defined(__clang__) && __GNUC__ >= 10))
// True in the per-target part for the targets that get NarrowF32Bf16Instruction.
#define LOWPREC_SIMD_BF16_INSTRUCTION \
  (HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL))
inline bool cpu_has_avx512_bf16() noexcept {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);  // EAX: the largest sub-leaf of leaf 7
    if (eax < 1) return false;
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    return (eax & (1u << 5)) != 0;
  }();
  return has;
}
#else
#define LOWPREC_SIMD_BF16_INSTRUCTION 0
#endif

}  // namespace lowprec::detail

#endif  // LOWPREC_SIMD_CONVERT_INL_COMMON_

// ---- Per-target part (toggled by foreach_target.h) ------------------------------------
#if defined(LOWPREC_SIMD_CONVERT_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_CONVERT_INL_H_TARGET
#undef LOWPREC_SIMD_CONVERT_INL_H_TARGET
#else
#define LOWPREC_SIMD_CONVERT_INL_H_TARGET
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace {  // internal linkage, as Highway's ops: TUs may differ in flags and targets
namespace convert_kernels {

namespace hn = hwy::HWY_NAMESPACE;
using detail::convert_args;
using detail::convert_format;
using detail::narrow_consts;

// x86 F16C (vcvtps2ph / vcvtph2ps with an immediate nearest-even mode, so MXCSR does not
// matter); Highway 1.0.3 uses it in DemoteTo/PromoteTo on AVX2 and AVX-512 targets
// unless HWY_DISABLE_F16C is defined, in which case it falls back to a truncating
// emulation that must not be used.
#if HWY_ARCH_X86 && (HWY_TARGET <= HWY_AVX2) && !defined(HWY_DISABLE_F16C)
constexpr bool kHardwareF16 = true;
#else
constexpr bool kHardwareF16 = false;
#endif

using DU32 = hn::ScalableTag<std::uint32_t>;
using VU32 = hn::Vec<DU32>;

// a > b for lanes known to be below 2^31: one signed compare, where an unsigned one costs
// three instructions before AVX-512.
template <class D, class V = hn::Vec<D>>
HWY_INLINE hn::Mask<D> GtSmall(D d, V a, V b) {
  const hn::RebindToSigned<D> di;
  return hn::RebindMask(d, hn::BitCast(di, a) > hn::BitCast(di, b));
}

// Random bits of lanes index_lo + 0 .. N-1 (the same function as detail::random_bits).
template <class D>
HWY_INLINE hn::Vec<D> RandomBits(D d, std::uint32_t first_index_lo, const detail::random_key& key) {
  hn::Vec<D> x = hn::Iota(d, first_index_lo);
#define LOWPREC_SIMD_SHR(v, k) hn::ShiftRight<k>(v)
#define LOWPREC_SIMD_CONST(c) hn::Set(d, c)
  LOWPREC_RANDOM_MIX(x, hn::Set(d, key.k0), hn::Set(d, key.k1), LOWPREC_SIMD_SHR, LOWPREC_SIMD_CONST);
#undef LOWPREC_SIMD_SHR
#undef LOWPREC_SIMD_CONST
  return x;
}

// The element's random bits under stochastic rounding, else zero (R's first term).
template <class D>
HWY_INLINE hn::Vec<D> RandomBitsIf(D d, const narrow_consts& c, std::uint32_t first_index_lo,
                                   const detail::random_key& key) {
  return c.stochastic ? RandomBits(d, first_index_lo, key) : hn::Zero(d);
}

// R without the random bits: the rounding constant for the lane's sign.
template <class D, class M = hn::Mask<D>>
HWY_INLINE hn::Vec<D> SignedBias(D d, M neg, const narrow_consts& c) {
  return hn::IfThenElse(neg, hn::Set(d, c.r_neg), hn::Set(d, c.r_pos));
}

// kept + (1 if rounded up). f: the dropped bits as a 32-bit fraction (truncated);
// rest: 1 where bits below f's window were dropped too (sticky), else 0.
template <class D, class V = hn::Vec<D>, class M = hn::Mask<D>>
HWY_INLINE V AddRoundingCarry(D d, V kept, V f, V rest, M neg, V rnd, const narrow_consts& c) {
  const V x = f | (rest & hn::Set(d, c.sticky));
  const V r = rnd + SignedBias(d, neg, c) + (kept & hn::Set(d, c.parity));
  const auto carry = (x + r) < x;  // unsigned: the one compare that needs all 32 bits
  return kept - hn::VecFromMask(d, carry);
}

// Rounds sig * 2^-shift to an integer, shift = kShift0 - max(E, 1), for lanes whose
// float exponent field E gives shift >= 1 (the "tiny" row of the table above; also the
// whole float -> int8 conversion). sig < 2^24, so kept = 0 once shift >= 24, and f is
// sig << (32 - shift) up to shift = 32, sig >> (shift - 32) beyond (clamped to 31).
// Other lanes get garbage but every shift count stays in [0, 31].
template <std::uint32_t kShift0, class D, class V = hn::Vec<D>, class M = hn::Mask<D>>
HWY_INLINE V RoundVariable(D d, V a, M neg, V rnd, const narrow_consts& c) {
  const V one = hn::Set(d, 1u);
  const V k32 = hn::Set(d, 32u);
  const V eeff = hn::Max(hn::ShiftRight<23>(a), one);
  const V sig = a - hn::ShiftLeft<23>(eeff - one);
  const V shift = hn::Set(d, kShift0) - eeff;  // wraps in lanes that are not tiny
  const auto within = shift < k32;            // unsigned, so wrapped lanes are "beyond"
  // Every variable shift count stays below 32: x86 shifts by >= 32 give 0, but EMU128
  // does them in C++ where they are undefined. shift == 0 keeps all bits (no fraction).
  const auto whole = shift == hn::Zero(d);
  const V left = hn::IfThenElseZero(hn::AndNot(whole, within), k32 - shift);
  const V right = hn::IfThenZeroElse(within, hn::Min(shift - k32, hn::Set(d, 31u)));
  const V kept = sig >> hn::Min(shift, hn::Set(d, 31u));
  const V sig_left = hn::IfThenZeroElse(whole, sig << left);
  const V f = sig_left >> right;
  const V rest = hn::VecFromMask(d, (f << right) != sig_left) & one;
  return AddRoundingCarry(d, kept, f, rest, neg, rnd, c);
}

// float bits -> Format code in uint32_t lanes (see the table at the top).
template <class Format, class D, class V = hn::Vec<D>>
HWY_INLINE V EncodeF32(D d, V bits, V rnd, const narrow_consts& c) {
  constexpr int M = Format::mantissa_bits;
  constexpr int S = 23 - M;
  constexpr std::uint32_t B = static_cast<std::uint32_t>(Format::min_exponent + 127);
  static_assert(B >= 1, "formats with a smaller exponent range than float's only");
  const hn::RebindToSigned<D> di;
  const V sign = bits & hn::Set(d, 0x80000000u);
  const V a = bits ^ sign;
  const auto neg = hn::RebindMask(d, hn::BitCast(di, bits) < hn::Zero(di));

  // Normal (and overflowing) magnitudes: R's top S bits, added below the kept part.
  const V r = hn::ShiftRight<32 - S>(rnd + SignedBias(d, neg, c)) +
              (hn::ShiftRight<S>(a) & hn::Set(d, c.parity));
  V code = hn::ShiftRight<S>(a + r) - hn::Set(d, (B - 1) << M);

  // Magnitudes below the smallest normal (zero included); their `code` above wrapped.
  // bf16 has none but float's own subnormals, which the line above gets right (B == 1).
  if constexpr (B > 1) {
    const V tiny_limit = hn::Set(d, B << 23);
    const auto tiny = hn::RebindMask(d, hn::BitCast(di, a) < hn::BitCast(di, tiny_limit));
    if (!hn::AllFalse(d, tiny)) {
      // Nearest-even sends everything up to half the smallest subnormal, 2^(B-M-1-127),
      // to zero: zeros and deep underflow need no per-lane shifts.
      const V deep_limit = hn::Set(d, (B - M - 1) << 23);
      const bool deep_only =
          c.parity != 0 && hn::AllFalse(d, hn::And(tiny, GtSmall(d, a, deep_limit - hn::Set(d, 1u))));
      code = deep_only ? hn::IfThenZeroElse(tiny, code)
                       : hn::IfThenElse(tiny, RoundVariable<S + B>(d, a, neg, rnd, c), code);
    }
  }
  code = hn::IfThenElse(GtSmall(d, code, hn::Set(d, Format::max_finite)),
                        hn::IfThenElse(neg, hn::Set(d, c.ovf_neg), hn::Set(d, c.ovf_pos)), code);

  const auto special = GtSmall(d, a, hn::Set(d, 0x7F7FFFFFu));
  if (!hn::AllFalse(d, special)) {
    const auto nan = GtSmall(d, a, hn::Set(d, 0x7F800000u));
    V nan_code = hn::Set(d, Format::quiet_nan);
    if constexpr (Format::special_values == specials::ieee) {
      // quiet, top payload bits kept: exponent all ones | quiet bit | frac >> S
      nan_code = nan_code | (hn::ShiftRight<S>(a) & hn::Set(d, Format::magnitude_mask));
    }
    const V inf_code = hn::IfThenElse(neg, hn::Set(d, c.inf_neg), hn::Set(d, c.inf_pos));
    code = hn::IfThenElse(special, hn::IfThenElse(nan, nan_code, inf_code), code);
  }
  return code | hn::ShiftRight<32 - Format::total_bits>(sign);
}

// float -> bf16 with nearest-even and IEEE overflow, the common case: returns the
// rounded float bits, whose upper half is the bf16 code. Overflow and infinity need no
// fix-up (rounding carries into 0x7F80 by itself); NaN keeps its top bits, quieted.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V RoundToBf16Nearest(D d, V bits) {
  const V a = bits & hn::Set(d, 0x7FFFFFFFu);
  const V rounded = bits + hn::Set(d, 0x7FFFu) + (hn::ShiftRight<16>(bits) & hn::Set(d, 1u));
  return hn::IfThenElse(GtSmall(d, a, hn::Set(d, 0x7F800000u)), bits | hn::Set(d, 0x00400000u),
                        rounded);
}

// Format code in uint32_t lanes -> float bits (exact; decode_to_float).
template <class Format, class D, class V = hn::Vec<D>>
HWY_INLINE V DecodeToF32(D d, V code) {
  constexpr int M = Format::mantissa_bits;
  if constexpr (Format::bias == 127) {  // bf16: the top half of a float; NaN gets quieted
    const V w = hn::ShiftLeft<16>(code);
    const auto nan = GtSmall(d, w & hn::Set(d, 0x7FFFFFFFu), hn::Set(d, 0x7F800000u));
    return w | hn::IfThenElseZero(nan, hn::Set(d, 0x00400000u));
  } else {
    constexpr int sub_exp = Format::min_exponent - M;  // weight of a subnormal's last bit
    static_assert(sub_exp >= -126, "subnormals must be normal floats");
    const hn::RebindToSigned<D> di;
    const hn::RebindToFloat<D> df;
    const V sign = hn::ShiftLeft<32 - Format::total_bits>(code & hn::Set(d, Format::sign_mask));
    const V mag = code & hn::Set(d, Format::magnitude_mask);
    const V wide = hn::ShiftLeft<23 - M>(mag);
    constexpr float scale =
        detail::bit_cast<float>(static_cast<std::uint32_t>(sub_exp + 127) << 23);
    // Exact (an integer below 2^M times a power of two, normal result), so neither the
    // rounding mode nor DAZ/FTZ can change it.
    const V sub = hn::BitCast(d, hn::ConvertTo(df, hn::BitCast(di, mag)) * hn::Set(df, scale));
    const V normal = wide + hn::Set(d, static_cast<std::uint32_t>(127 - Format::bias) << 23);
    V v = hn::IfThenElse(GtSmall(d, hn::Set(d, Format::min_normal), mag), sub, normal);
    if constexpr (Format::special_values == specials::ieee) {
      const auto special = GtSmall(d, mag, hn::Set(d, Format::exponent_field - 1));
      const auto nan = GtSmall(d, mag, hn::Set(d, Format::exponent_field));
      const V s = wide | hn::Set(d, 0x7F800000u) | hn::IfThenElseZero(nan, hn::Set(d, 0x00400000u));
      v = hn::IfThenElse(special, s, v);
    } else {
      const auto nan = mag == hn::Set(d, Format::magnitude_mask);
      v = hn::IfThenElse(nan, wide | hn::Set(d, 0x7FC00000u), v);
    }
    return sign | v;
  }
}

// ---- Loads and stores of codes in uint32_t lanes ---------------------------------------
// The kernels work on two vectors at a time, so 16-bit codes leave as one full vector.

template <class T>
using CodeT = std::conditional_t<sizeof(T) == 1, std::uint8_t, std::uint16_t>;

template <class T, class D>
HWY_INLINE hn::Vec<D> LoadCodes(D d, const T* p) {
  const hn::Rebind<CodeT<T>, D> dn;
  return hn::PromoteTo(d, hn::LoadU(dn, reinterpret_cast<const CodeT<T>*>(p)));
}

template <class T, class D>
HWY_INLINE void StoreCodes(D /*d*/, hn::Vec<D> code, T* p) {
  const hn::Rebind<CodeT<T>, D> dn;
  const hn::RebindToSigned<D> di;
  hn::StoreU(hn::DemoteTo(dn, hn::BitCast(di, code)), dn, reinterpret_cast<CodeT<T>*>(p));
}

// Codes of lanes [0, N) in lo and [N, 2N) in hi. kUpper: the codes sit in the upper
// 16 bits of each lane (bf16 from rounded float bits), else in the lower bits.
template <bool kUpper = false, class T, class D, class V = hn::Vec<D>>
HWY_INLINE void StoreCodes2(D d, V lo, V hi, T* p) {
#if HWY_TARGET == HWY_SCALAR
  if constexpr (kUpper) {
    lo = hn::ShiftRight<16>(lo);
    hi = hn::ShiftRight<16>(hi);
  }
  StoreCodes(d, lo, p);
  StoreCodes(d, hi, p + hn::Lanes(d));
#else
  if constexpr (sizeof(T) == 2) {
    const hn::Repartition<std::uint16_t, D> d16;
    const auto codes = kUpper ? hn::ConcatOdd(d16, hn::BitCast(d16, hi), hn::BitCast(d16, lo))
                              : hn::ConcatEven(d16, hn::BitCast(d16, hi), hn::BitCast(d16, lo));
    hn::StoreU(codes, d16, reinterpret_cast<std::uint16_t*>(p));
  } else {
    static_assert(!kUpper, "8-bit codes sit in the lower bits");
    StoreCodes(d, lo, p);
    StoreCodes(d, hi, p + hn::Lanes(d));
  }
#endif
}

// ---- The loop ------------------------------------------------------------------------
// Calls body(i, src + i, dst + i) for each step of Body::kVectors (default 2) vectors of
// N elements (N = lanes of the kernel's 32- or 64-bit tag); a last partial step goes
// through the same body via zero-padded stack buffers, so every element takes the one
// vector path. In-place (src == dst) is safe: a body loads all its lanes before it
// stores any.

template <class Body, class = void>
struct VectorsPerStep : std::integral_constant<std::size_t, 2> {};
template <class Body>
struct VectorsPerStep<Body, std::void_t<decltype(Body::kVectors)>>
    : std::integral_constant<std::size_t, Body::kVectors> {};

template <class Src, class Dst, class Body>
HWY_INLINE void ForEachStep(const Src* src, Dst* dst, std::size_t n, std::size_t lanes,
                            const Body& body) {
  const std::size_t step = VectorsPerStep<Body>::value * lanes;
  std::size_t i = 0;
  if (n >= step) {
    for (; i <= n - step; i += step) body(i, src + i, dst + i);
  }
  if (i < n) {
    // >= step: lanes <= HWY_MAX_BYTES / 4 for the 32-bit tags, / 8 for the 64-bit one.
    constexpr std::size_t kMax = HWY_MAX_BYTES > 4 ? HWY_MAX_BYTES : 4;
    HWY_ALIGN Src src_buf[kMax] = {};
    HWY_ALIGN Dst dst_buf[kMax] = {};
    std::memcpy(static_cast<void*>(src_buf), src + i, (n - i) * sizeof(Src));
    body(i, src_buf, dst_buf);
    std::memcpy(static_cast<void*>(dst + i), dst_buf, (n - i) * sizeof(Dst));
  }
}

// float -> Format
template <class Format, class Dst>
struct NarrowF32Body {
  DU32 d;
  narrow_consts c;
  convert_args a;
  HWY_INLINE void operator()(std::size_t i, const float* s, Dst* o) const {
    const hn::RebindToFloat<DU32> df;
    const std::size_t N = hn::Lanes(d);
    const auto first = a.index_lo + static_cast<std::uint32_t>(i);
    const VU32 v0 = hn::BitCast(d, hn::LoadU(df, s));
    const VU32 v1 = hn::BitCast(d, hn::LoadU(df, s + N));
    const VU32 r0 = RandomBitsIf(d, c, first, a.key);
    const VU32 r1 = RandomBitsIf(d, c, first + static_cast<std::uint32_t>(N), a.key);
    StoreCodes2(d, EncodeF32<Format>(d, v0, r0, c), EncodeF32<Format>(d, v1, r1, c), o);
  }
};

// Four vectors per step (ForEachStep with kVectors = 4).
struct NarrowF32Bf16NearestBody {
  DU32 d;
  static constexpr std::size_t kVectors = 4;

  HWY_INLINE void operator()(std::size_t, const float* s, bf16* o) const {
    const hn::RebindToFloat<DU32> df;
    const std::size_t N = hn::Lanes(d);
    const VU32 b0 = hn::BitCast(d, hn::LoadU(df, s));
    const VU32 b1 = hn::BitCast(d, hn::LoadU(df, s + N));
    const VU32 b2 = hn::BitCast(d, hn::LoadU(df, s + 2 * N));
    const VU32 b3 = hn::BitCast(d, hn::LoadU(df, s + 3 * N));
#if HWY_TARGET == HWY_SCALAR
    StoreCodes2<true>(d, RoundToBf16Nearest(d, b0), RoundToBf16Nearest(d, b1), o);
    StoreCodes2<true>(d, RoundToBf16Nearest(d, b2), RoundToBf16Nearest(d, b3), o + 2 * N);
#else
    // Only NaN needs more than the add below (which carries into inf by itself on
    // overflow): one test for the four vectors, on their largest magnitude. (Testing
    // the codes instead misses NaNs 0x7FFF8000.. whose rounding carries into the sign.)
    const hn::RebindToSigned<DU32> di;
    const VU32 abs_mask = hn::Set(d, 0x7FFFFFFFu);
    const auto largest =
        hn::Max(hn::Max(hn::BitCast(di, b0 & abs_mask), hn::BitCast(di, b1 & abs_mask)),
                hn::Max(hn::BitCast(di, b2 & abs_mask), hn::BitCast(di, b3 & abs_mask)));
    const hn::Repartition<std::uint16_t, DU32> d16;
    hn::Vec<decltype(d16)> lo, hi;
    if (HWY_LIKELY(hn::AllFalse(di, largest > hn::Set(di, 0x7F800000)))) {
      const VU32 bias = hn::Set(d, 0x7FFFu);
      const VU32 one = hn::Set(d, 1u);
      const VU32 r0 = b0 + bias + (hn::ShiftRight<16>(b0) & one);
      const VU32 r1 = b1 + bias + (hn::ShiftRight<16>(b1) & one);
      const VU32 r2 = b2 + bias + (hn::ShiftRight<16>(b2) & one);
      const VU32 r3 = b3 + bias + (hn::ShiftRight<16>(b3) & one);
      lo = hn::ConcatOdd(d16, hn::BitCast(d16, r1), hn::BitCast(d16, r0));
      hi = hn::ConcatOdd(d16, hn::BitCast(d16, r3), hn::BitCast(d16, r2));
    } else {
      lo = hn::ConcatOdd(d16, hn::BitCast(d16, RoundToBf16Nearest(d, b1)),
                         hn::BitCast(d16, RoundToBf16Nearest(d, b0)));
      hi = hn::ConcatOdd(d16, hn::BitCast(d16, RoundToBf16Nearest(d, b3)),
                         hn::BitCast(d16, RoundToBf16Nearest(d, b2)));
    }
    auto* out = reinterpret_cast<std::uint16_t*>(o);
    hn::StoreU(lo, d16, out);
    hn::StoreU(hi, d16, out + 2 * N);
#endif
  }
};

// float -> bf16 with AVX512-BF16: vcvtne2ps2bf16 rounds to nearest-even and quiets NaN
// keeping its top bits, exactly the definition above, but reads subnormal inputs as zero
// (Intel SDM, VCVTNE2PS2BF16: "denormal input values are treated as zero"). So a step of
// 64 floats whose codes include a zero (an exact zero, or a flushed subnormal) is tested
// for subnormal inputs and, if it has one, encoded by the integer path instead, with the
// next 15 steps (at most 1024 elements in all; both paths give the same codes). The loop
// carries its own target attribute (Highway's AVX3 string plus avx512bf16) and runs only
// when CPUID reports the extension; returns how many elements it converted (a multiple
// of 64), the rest is left to the caller.
#if LOWPREC_SIMD_BF16_INSTRUCTION
__attribute__((target(HWY_TARGET_STR ",avx512bf16"))) HWY_NOINLINE std::size_t
NarrowF32Bf16Instruction(const float* src, bf16* dst, std::size_t n) {
  // vfpclassps (the subnormal test) reads subnormals as zero under MXCSR.DAZ: then the
  // integer path does all of it.
  if ((_mm_getcsr() & 0x0040u) != 0) return 0;
  const NarrowF32Bf16NearestBody exact{DU32()};
  static_assert(NarrowF32Bf16NearestBody::kVectors * 16 == 64, "one step of the exact body");
  const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
  constexpr int kSubnormal = 0x20;  // vfpclassps category: denormal
  std::size_t i = 0;
  while (n - i >= 64) {
    const float* s = src + i;
    const __m512 a = _mm512_loadu_ps(s), b = _mm512_loadu_ps(s + 16);
    const __m512 c = _mm512_loadu_ps(s + 32), e = _mm512_loadu_ps(s + 48);
    const __m512i lo = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
    const __m512i hi = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(e, c));
    const __mmask32 zero = _mm512_testn_epi16_mask(lo, magnitude) |
                           _mm512_testn_epi16_mask(hi, magnitude);
    if (HWY_UNLIKELY(zero != 0)) {
      const __mmask16 tiny = static_cast<__mmask16>(
          _mm512_fpclass_ps_mask(a, kSubnormal) | _mm512_fpclass_ps_mask(b, kSubnormal) |
          _mm512_fpclass_ps_mask(c, kSubnormal) | _mm512_fpclass_ps_mask(e, kSubnormal));
      if (tiny != 0) {
        // Nothing of this step is stored yet, so in-place is still safe. Subnormals tend
        // to come in runs: this step and up to 15 more take the integer path.
        for (int k = 0; k < 16 && n - i >= 64; ++k, i += 64) exact(i, src + i, dst + i);
        continue;
      }
    }
    _mm512_storeu_si512(dst + i, lo);
    _mm512_storeu_si512(dst + i + 32, hi);
    i += 64;
  }
  return i;
}
#endif

struct NarrowF32Fp16HardwareBody {
  HWY_INLINE void operator()(std::size_t, const float* s, fp16* o) const {
    const hn::ScalableTag<float> df;
    const hn::Rebind<hwy::float16_t, decltype(df)> df16;
    const std::size_t N = hn::Lanes(df);
    auto* out = reinterpret_cast<hwy::float16_t*>(o);
    hn::StoreU(hn::DemoteTo(df16, hn::LoadU(df, s)), df16, out);
    hn::StoreU(hn::DemoteTo(df16, hn::LoadU(df, s + N)), df16, out + N);
  }
};

template <class Format, class Dst>
HWY_NOINLINE void NarrowF32Loop(const float* src, Dst* dst, std::size_t n, const convert_args& a) {
  const DU32 d;
  const NarrowF32Body<Format, Dst> body{
      d, detail::make_narrow_consts<Format>(a.mode, a.policy), a};
  ForEachStep(src, dst, n, hn::Lanes(d), body);
}

template <class Format, class Dst>
HWY_INLINE void NarrowF32Dispatch(const float* src, Dst* dst, std::size_t n, const convert_args& a) {
  if (a.mode == rounding::nearest_even && a.policy == overflow::ieee) {
    if constexpr (std::is_same_v<Format, bf16_format>) {
      const DU32 d;
#if LOWPREC_SIMD_BF16_INSTRUCTION
      if (detail::cpu_has_avx512_bf16()) {
        const std::size_t done = NarrowF32Bf16Instruction(src, dst, n);
        src += done;
        dst += done;
        n -= done;
      }
#endif
      return ForEachStep(src, dst, n, hn::Lanes(d), NarrowF32Bf16NearestBody{d});
    }
    if constexpr (std::is_same_v<Format, fp16_format> && kHardwareF16) {
      return ForEachStep(src, dst, n, hn::Lanes(DU32()), NarrowF32Fp16HardwareBody{});
    }
  }
  NarrowF32Loop<Format>(src, dst, n, a);
}

// double -> Format, in uint64_t lanes down to the 32-bit quantities of the float path
// (kept part, 32-bit fraction, sticky bit), then the same rounding step in uint32_t
// lanes. S = 52 - M >= 42, so f is always a right shift of the significand.
template <class Format>
struct F64Encoder {
  using DU64 = hn::ScalableTag<std::uint64_t>;
  using D = hn::Rebind<std::uint32_t, DU64>;  // same lane count, 32-bit
  narrow_consts c;

  HWY_INLINE hn::Vec<D> operator()(const double* s, hn::Vec<D> rnd) const {
    const DU64 d64;
    const D d;
    const hn::RebindToSigned<D> di;
    using V = hn::Vec<D>;
    using VI = hn::Vec<decltype(di)>;
    using V64 = hn::Vec<DU64>;
    constexpr int M = Format::mantissa_bits;
    constexpr int S = 52 - M;
    constexpr int B = Format::min_exponent + 1023;  // double exponent field of min normal

    const V64 bits = hn::BitCast(d64, hn::LoadU(hn::RebindToFloat<DU64>(), s));
    const V64 a64 = bits & hn::Set(d64, 0x7FFFFFFFFFFFFFFFull);
    const V hi = hn::TruncateTo(d, hn::ShiftRight<32>(bits));
    const V lo = hn::TruncateTo(d, bits);
    const V sign = hi & hn::Set(d, 0x80000000u);
    const V ahi = hi ^ sign;
    const auto neg = hn::RebindMask(d, hn::BitCast(di, hi) < hn::Zero(di));

    const VI e = hn::BitCast(di, hn::ShiftRight<20>(ahi));
    const VI eeff = hn::Max(e, hn::Set(di, 1));
    const VI shift = hn::Max(hn::Set(di, S + B) - eeff, hn::Set(di, S));  // >= 42
    const V exp_code = hn::BitCast(d, hn::ShiftLeft<M>(hn::Max(eeff - hn::Set(di, B), hn::Zero(di))));
    const V64 sig = a64 - hn::ShiftLeft<52>(hn::PromoteTo(d64, hn::BitCast(d, eeff - hn::Set(di, 1))));
    const V64 kshift = hn::PromoteTo(d64, hn::BitCast(d, hn::Min(shift, hn::Set(di, 63))));
    const V64 fshift = hn::PromoteTo(d64, hn::BitCast(d, hn::Min(shift - hn::Set(di, 32), hn::Set(di, 63))));
    const V kept = hn::TruncateTo(d, sig >> kshift);
    const V f = hn::TruncateTo(d, sig >> fshift);
    const V64 below = sig & ((hn::Set(d64, 1ull) << fshift) - hn::Set(d64, 1ull));
    const V below32 = hn::TruncateTo(d, below) | hn::TruncateTo(d, hn::ShiftRight<32>(below));
    const V rest = hn::VecFromMask(d, below32 != hn::Zero(d)) & hn::Set(d, 1u);

    V code = exp_code + AddRoundingCarry(d, kept, f, rest, neg, rnd, c);
    code = hn::IfThenElse(GtSmall(d, code, hn::Set(d, Format::max_finite)),
                          hn::IfThenElse(neg, hn::Set(d, c.ovf_neg), hn::Set(d, c.ovf_pos)), code);

    const auto special = GtSmall(d, ahi, hn::Set(d, 0x7FEFFFFFu));
    if (!hn::AllFalse(d, special)) {
      const auto nan = hn::Or(GtSmall(d, ahi, hn::Set(d, 0x7FF00000u)), lo != hn::Zero(d));
      V nan_code = hn::Set(d, Format::quiet_nan);
      if constexpr (Format::special_values == specials::ieee) {
        nan_code = nan_code | (hn::TruncateTo(d, hn::ShiftRight<S>(a64)) &
                               hn::Set(d, Format::magnitude_mask));
      }
      const V inf_code = hn::IfThenElse(neg, hn::Set(d, c.inf_neg), hn::Set(d, c.inf_pos));
      code = hn::IfThenElse(special, hn::IfThenElse(nan, nan_code, inf_code), code);
    }
    return code | hn::ShiftRight<32 - Format::total_bits>(sign);
  }
};

template <class Format, class Dst>
struct NarrowF64Body {
  F64Encoder<Format> encode;
  convert_args a;
  HWY_INLINE void operator()(std::size_t i, const double* s, Dst* o) const {
    const typename F64Encoder<Format>::D d;
    const std::size_t N = hn::Lanes(d);
    const auto first = a.index_lo + static_cast<std::uint32_t>(i);
    const auto c0 = encode(s, RandomBitsIf(d, encode.c, first, a.key));
    const auto c1 = encode(s + N, RandomBitsIf(d, encode.c, first + static_cast<std::uint32_t>(N), a.key));
    StoreCodes(d, c0, o);  // half-width vectors: two plain stores
    StoreCodes(d, c1, o + N);
  }
};

template <class Format, class Dst>
HWY_NOINLINE void NarrowF64Loop(const double* src, Dst* dst, std::size_t n, const convert_args& a) {
  const NarrowF64Body<Format, Dst> body{{detail::make_narrow_consts<Format>(a.mode, a.policy)}, a};
  ForEachStep(src, dst, n, hn::Lanes(hn::ScalableTag<std::uint64_t>()), body);
}

// float -> int8: round(x) under the mode, saturated to [-128, 127], NaN -> 0
// (lowprec::round_to_int8 in convert.hpp). |x| >= 128 saturates whatever the rounding;
// below, the integer quantum is a shift of 150 - max(E, 1): RoundVariable.
struct NarrowF32Int8Body {
  DU32 d;
  narrow_consts c;
  convert_args a;

  HWY_INLINE hn::Vec<hn::RebindToSigned<DU32>> Encode(VU32 bits, VU32 rnd) const {
    const hn::RebindToSigned<DU32> di;
    const VU32 a32 = bits & hn::Set(d, 0x7FFFFFFFu);
    const auto neg = hn::RebindMask(d, hn::BitCast(di, bits) < hn::Zero(di));
    VU32 mag = RoundVariable<150>(d, a32, neg, rnd, c);
    mag = hn::IfThenElse(GtSmall(d, a32, hn::Set(d, 0x42FFFFFFu)), hn::Set(d, 128u), mag);
    const auto m = hn::BitCast(di, mag);
    const auto v = hn::IfThenElse(hn::RebindMask(di, neg), hn::Neg(m), m);
    return hn::IfThenZeroElse(hn::RebindMask(di, GtSmall(d, a32, hn::Set(d, 0x7F800000u))), v);
  }

  HWY_INLINE void operator()(std::size_t i, const float* s, std::int8_t* o) const {
    const hn::RebindToFloat<DU32> df;
    const hn::Rebind<std::int8_t, DU32> d8;
    const std::size_t N = hn::Lanes(d);
    const auto first = a.index_lo + static_cast<std::uint32_t>(i);
    const auto q0 = Encode(hn::BitCast(d, hn::LoadU(df, s)), RandomBitsIf(d, c, first, a.key));
    const auto q1 = Encode(hn::BitCast(d, hn::LoadU(df, s + N)),
                           RandomBitsIf(d, c, first + static_cast<std::uint32_t>(N), a.key));
    hn::StoreU(hn::DemoteTo(d8, q0), d8, o);  // saturates 128 -> 127
    hn::StoreU(hn::DemoteTo(d8, q1), d8, o + N);
  }
};

HWY_MAYBE_UNUSED HWY_NOINLINE void NarrowF32Int8Loop(const float* src, std::int8_t* dst, std::size_t n,
                                    const convert_args& a) {
  const DU32 d;
  // Only the rounding words of the constants apply to int8 (any format gives them).
  const NarrowF32Int8Body body{d, detail::make_narrow_consts<fp16_format>(a.mode, a.policy), a};
  ForEachStep(src, dst, n, hn::Lanes(d), body);
}

// Format -> float (exact)
template <class Format, class Src>
struct WidenBody {
  DU32 d;
  HWY_INLINE void operator()(std::size_t, const Src* s, float* o) const {
    const hn::RebindToFloat<DU32> df;
    const std::size_t N = hn::Lanes(d);
    const VU32 w0 = DecodeToF32<Format>(d, LoadCodes(d, s));
    const VU32 w1 = DecodeToF32<Format>(d, LoadCodes(d, s + N));
    hn::StoreU(hn::BitCast(df, w0), df, o);
    hn::StoreU(hn::BitCast(df, w1), df, o + N);
  }
};

// bf16 -> float on x86: each code moves to the upper half of a 32-bit lane, and NaN, which
// the definition quiets (bit 22 set, sign and payload kept), needs a test. What is fastest
// differs by target (64 Ki elements in L2, measured on Zen 5):
// - AVX-512: branch-free. vfpclassps finds NaN in the shifted words (it raises no
//   floating-point exception, and DAZ, which it follows, only changes how it classes
//   subnormals) and a masked OR quiets it; 0.95x memcpy against 0.70-0.75x for the AVX2
//   body run with 512-bit vectors.
// - AVX2: zero-extending loads and a shift; NaN is tested once on the 16-bit codes and
//   takes the general decode (0.72x against 0.61x for a permute and zero interleave).
// - SSSE3/SSE4: the zero interleave, with the same NaN test (the shift body is slower).
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_SSSE3
struct WidenBf16X86Body {
  DU32 d;
  HWY_INLINE void operator()(std::size_t, const bf16* s, float* o) const {
    const hn::RebindToFloat<DU32> df;
    const std::size_t N = hn::Lanes(d);
#if HWY_TARGET <= HWY_AVX3
    const auto quiet = hn::Set(d, 0x00400000u);
    const VU32 w0 = hn::ShiftLeft<16>(LoadCodes(d, s));
    const VU32 w1 = hn::ShiftLeft<16>(LoadCodes(d, s + N));
    const auto nan0 = hn::RebindMask(d, hn::IsNaN(hn::BitCast(df, w0)));
    const auto nan1 = hn::RebindMask(d, hn::IsNaN(hn::BitCast(df, w1)));
    hn::StoreU(hn::BitCast(df, hn::IfThenElse(nan0, w0 | quiet, w0)), df, o);
    hn::StoreU(hn::BitCast(df, hn::IfThenElse(nan1, w1 | quiet, w1)), df, o + N);
#else
    const hn::Repartition<std::uint16_t, DU32> d16;
    const hn::RebindToSigned<decltype(d16)> di16;
    const auto codes = hn::LoadU(d16, reinterpret_cast<const std::uint16_t*>(s));
    const auto mag = hn::BitCast(di16, codes) & hn::Set(di16, std::int16_t{0x7FFF});
    if (HWY_UNLIKELY(!hn::AllFalse(di16, mag > hn::Set(di16, std::int16_t{0x7F80})))) {
      hn::StoreU(hn::BitCast(df, DecodeToF32<bf16_format>(d, LoadCodes(d, s))), df, o);
      hn::StoreU(hn::BitCast(df, DecodeToF32<bf16_format>(d, LoadCodes(d, s + N))), df, o + N);
      return;
    }
#if HWY_TARGET == HWY_AVX2
    hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(LoadCodes(d, s))), df, o);
    hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(LoadCodes(d, s + N))), df, o + N);
#else
    const auto zero = hn::Zero(d16);
    hn::StoreU(hn::BitCast(df, hn::InterleaveLower(d16, zero, codes)), df, o);
    hn::StoreU(hn::BitCast(df, hn::InterleaveUpper(d16, zero, codes)), df, o + N);
#endif
#endif
  }
};
#endif

struct WidenFp16HardwareBody {
  HWY_INLINE void operator()(std::size_t, const fp16* s, float* o) const {
    const hn::ScalableTag<float> df;
    const hn::Rebind<hwy::float16_t, decltype(df)> df16;
    const std::size_t N = hn::Lanes(df);
    const auto* in = reinterpret_cast<const hwy::float16_t*>(s);
    hn::StoreU(hn::PromoteTo(df, hn::LoadU(df16, in)), df, o);
    hn::StoreU(hn::PromoteTo(df, hn::LoadU(df16, in + N)), df, o + N);
  }
};

struct WidenInt8Body {
  HWY_INLINE void operator()(std::size_t, const std::int8_t* s, float* o) const {
    const hn::ScalableTag<float> df;
    const hn::RebindToSigned<decltype(df)> di;
    const hn::Rebind<std::int8_t, decltype(df)> d8;
    const std::size_t N = hn::Lanes(df);
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, s))), df, o);
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, s + N))), df, o + N);
  }
};

template <class Format, class Src>
HWY_NOINLINE void WidenLoop(const Src* src, float* dst, std::size_t n) {
  const DU32 d;
  if constexpr (std::is_same_v<Format, fp16_format> && kHardwareF16) {
    ForEachStep(src, dst, n, hn::Lanes(d), WidenFp16HardwareBody{});
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_SSSE3
  } else if constexpr (std::is_same_v<Format, bf16_format>) {
    ForEachStep(src, dst, n, hn::Lanes(d), WidenBf16X86Body{d});
#endif
  } else {
    ForEachStep(src, dst, n, hn::Lanes(d), WidenBody<Format, Src>{d});
  }
}

// fp16 <-> bf16: exact widening to float bits, then the narrowing above (the scalar
// definition converts through float too).
template <class SrcFormat, class DstFormat, class Src, class Dst>
struct Convert16Body {
  DU32 d;
  narrow_consts c;
  convert_args a;
  HWY_INLINE void operator()(std::size_t i, const Src* s, Dst* o) const {
    const std::size_t N = hn::Lanes(d);
    const auto first = a.index_lo + static_cast<std::uint32_t>(i);
    const VU32 w0 = DecodeToF32<SrcFormat>(d, LoadCodes(d, s));
    const VU32 w1 = DecodeToF32<SrcFormat>(d, LoadCodes(d, s + N));
    const VU32 r0 = RandomBitsIf(d, c, first, a.key);
    const VU32 r1 = RandomBitsIf(d, c, first + static_cast<std::uint32_t>(N), a.key);
    StoreCodes2(d, EncodeF32<DstFormat>(d, w0, r0, c), EncodeF32<DstFormat>(d, w1, r1, c), o);
  }
};

template <class SrcFormat, class DstFormat, class Src, class Dst>
HWY_NOINLINE void Convert16Loop(const Src* src, Dst* dst, std::size_t n, const convert_args& a) {
  const DU32 d;
  const Convert16Body<SrcFormat, DstFormat, Src, Dst> body{
      d, detail::make_narrow_consts<DstFormat>(a.mode, a.policy), a};
  ForEachStep(src, dst, n, hn::Lanes(d), body);
}

}  // namespace convert_kernels
}  // namespace

// ---- Entry points (one per dispatch table; internal linkage, as Highway's ops) --------

#if HWY_TARGET == HWY_EMU128
// EMU128 (clang's baseline without -m flags; the fallback on CPUs with no SIMD target
// Highway knows) emulates vectors with arrays: the kernels above would be no faster than
// the scalar definition, and under ASan/UBSan they take minutes to compile. This target
// runs the scalar definition itself (their helpers stay: other kernel files use them).
// g++'s 1-lane SCALAR target does run the kernels.
HWY_MAYBE_UNUSED static void ConvertNarrowF32(const float* src, void* dst, std::size_t n,
                                              const detail::convert_args& a) {
  switch (a.dst) {
    case detail::convert_format::fp16: return detail::narrow_scalar(src, static_cast<fp16*>(dst), n, a);
    case detail::convert_format::bf16: return detail::narrow_scalar(src, static_cast<bf16*>(dst), n, a);
    case detail::convert_format::fp8_e4m3fn:
      return detail::narrow_scalar(src, static_cast<fp8_e4m3fn*>(dst), n, a);
    case detail::convert_format::fp8_e5m2:
      return detail::narrow_scalar(src, static_cast<fp8_e5m2*>(dst), n, a);
    case detail::convert_format::int8:
      return detail::narrow_scalar(src, static_cast<std::int8_t*>(dst), n, a);
  }
}
HWY_MAYBE_UNUSED static void ConvertNarrowF64(const double* src, void* dst, std::size_t n,
                                              const detail::convert_args& a) {
  switch (a.dst) {
    case detail::convert_format::fp16:
      return detail::narrow_scalar_from(src, static_cast<fp16*>(dst), n, a);
    case detail::convert_format::bf16:
      return detail::narrow_scalar_from(src, static_cast<bf16*>(dst), n, a);
    case detail::convert_format::fp8_e4m3fn:
      return detail::narrow_scalar_from(src, static_cast<fp8_e4m3fn*>(dst), n, a);
    case detail::convert_format::fp8_e5m2:
      return detail::narrow_scalar_from(src, static_cast<fp8_e5m2*>(dst), n, a);
    case detail::convert_format::int8: return;  // not offered (convert.hpp rejects it)
  }
}
HWY_MAYBE_UNUSED static void ConvertWidenToF32(const void* src, float* dst, std::size_t n,
                                               const detail::convert_args& a) {
  switch (a.src) {
    case detail::convert_format::fp16: return detail::widen_scalar(static_cast<const fp16*>(src), dst, n);
    case detail::convert_format::bf16: return detail::widen_scalar(static_cast<const bf16*>(src), dst, n);
    case detail::convert_format::fp8_e4m3fn:
      return detail::widen_scalar(static_cast<const fp8_e4m3fn*>(src), dst, n);
    case detail::convert_format::fp8_e5m2:
      return detail::widen_scalar(static_cast<const fp8_e5m2*>(src), dst, n);
    case detail::convert_format::int8:
      return detail::widen_scalar(static_cast<const std::int8_t*>(src), dst, n);
  }
}
// In place (src == dst) is fine: element i is read before it is written.
HWY_MAYBE_UNUSED static void ConvertFp16Bf16(const void* src, void* dst, std::size_t n,
                                             const detail::convert_args& a) {
  if (a.src == detail::convert_format::fp16) {
    return detail::narrow_scalar_from(static_cast<const fp16*>(src), static_cast<bf16*>(dst), n, a);
  }
  return detail::narrow_scalar_from(static_cast<const bf16*>(src), static_cast<fp16*>(dst), n, a);
}
#else  // real SIMD targets: the kernels above


HWY_MAYBE_UNUSED static void ConvertNarrowF32(const float* src, void* dst, std::size_t n,
                                              const detail::convert_args& a) {
  namespace k = convert_kernels;
  switch (a.dst) {
    case detail::convert_format::fp16:
      return k::NarrowF32Dispatch<fp16_format>(src, static_cast<fp16*>(dst), n, a);
    case detail::convert_format::bf16:
      return k::NarrowF32Dispatch<bf16_format>(src, static_cast<bf16*>(dst), n, a);
    case detail::convert_format::fp8_e4m3fn:
      return k::NarrowF32Dispatch<fp8_e4m3fn_format>(src, static_cast<fp8_e4m3fn*>(dst), n, a);
    case detail::convert_format::fp8_e5m2:
      return k::NarrowF32Dispatch<fp8_e5m2_format>(src, static_cast<fp8_e5m2*>(dst), n, a);
    case detail::convert_format::int8:
      return k::NarrowF32Int8Loop(src, static_cast<std::int8_t*>(dst), n, a);
  }
}

HWY_MAYBE_UNUSED static void ConvertNarrowF64(const double* src, void* dst, std::size_t n,
                                              const detail::convert_args& a) {
  namespace k = convert_kernels;
  switch (a.dst) {
    case detail::convert_format::fp16:
      return k::NarrowF64Loop<fp16_format>(src, static_cast<fp16*>(dst), n, a);
    case detail::convert_format::bf16:
      return k::NarrowF64Loop<bf16_format>(src, static_cast<bf16*>(dst), n, a);
    case detail::convert_format::fp8_e4m3fn:
      return k::NarrowF64Loop<fp8_e4m3fn_format>(src, static_cast<fp8_e4m3fn*>(dst), n, a);
    case detail::convert_format::fp8_e5m2:
      return k::NarrowF64Loop<fp8_e5m2_format>(src, static_cast<fp8_e5m2*>(dst), n, a);
    case detail::convert_format::int8: return;  // not offered (convert.hpp rejects it)
  }
}

HWY_MAYBE_UNUSED static void ConvertWidenToF32(const void* src, float* dst, std::size_t n,
                                               const detail::convert_args& a) {
  namespace k = convert_kernels;
  switch (a.src) {
    case detail::convert_format::fp16:
      return k::WidenLoop<fp16_format>(static_cast<const fp16*>(src), dst, n);
    case detail::convert_format::bf16:
      return k::WidenLoop<bf16_format>(static_cast<const bf16*>(src), dst, n);
    case detail::convert_format::fp8_e4m3fn:
      return k::WidenLoop<fp8_e4m3fn_format>(static_cast<const fp8_e4m3fn*>(src), dst, n);
    case detail::convert_format::fp8_e5m2:
      return k::WidenLoop<fp8_e5m2_format>(static_cast<const fp8_e5m2*>(src), dst, n);
    case detail::convert_format::int8: {
      return k::ForEachStep(static_cast<const std::int8_t*>(src), dst, n,
                            hwy::HWY_NAMESPACE::Lanes(k::DU32()), k::WidenInt8Body{});
    }
  }
}

// fp16 -> bf16 or bf16 -> fp16 (a.src, a.dst); src may equal dst.
HWY_MAYBE_UNUSED static void ConvertFp16Bf16(const void* src, void* dst, std::size_t n,
                                             const detail::convert_args& a) {
  namespace k = convert_kernels;
  if (a.src == detail::convert_format::fp16) {
    return k::Convert16Loop<fp16_format, bf16_format>(static_cast<const fp16*>(src),
                                                      static_cast<bf16*>(dst), n, a);
  }
  return k::Convert16Loop<bf16_format, fp16_format>(static_cast<const bf16*>(src),
                                                    static_cast<fp16*>(dst), n, a);
}

#endif  // HWY_TARGET == HWY_EMU128

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#endif  // per-target toggle
