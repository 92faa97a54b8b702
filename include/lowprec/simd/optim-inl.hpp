// Per-target Highway kernels behind lowprec::optim (optim/adam.hpp): one Adam/AdamW step
// over a run of elements with fp32, bf16, 8-bit or 4-bit moments, and the gradient
// scan that decides whether a step may run. Included once per SIMD target by
// simd/kernels-inl.hpp through detail/simd.hpp; users include optim/adam.hpp.
//
// Invariant: bit-identical to the scalar definition, optim/update.hpp
// (adam_run_reference), on every target: the same float operations in the same order,
// no fused multiply-add (floating-point contraction is off in this file), the same
// random bits (detail/random.hpp), and the same codes (quant/dynamic_map.hpp's bucket
// encoder, proven equal to nearest-entry encoding by the tests).
//
// Cost per element (AVX2, 8 lanes). The update is 13 arithmetic ops with a division and a
// square root (the divider is the in-cache bottleneck); fp32 states move 28 bytes and are
// memory-bound at DRAM sizes. 8-/4-bit states move 16.1 / 14.1 bytes but are
// compute-bound: per element two decodes (a gather from the 256-entry value table for
// 8-bit maps, two permutes for the 16-entry 4-bit maps) and two encodes (a gather from
// the bucket table, ~12 integer ops) on top of the update. AVX2 gathers are microcoded on
// AMD Zen 2/3 (about 10 cycles for 8 lanes), which sets the 8-bit rate there. AVX-512
// (measured on AMD Zen 5, 16 lanes): the 256-entry decodes are register permutes instead
// (RegisterTable256); the two encode gathers remain and take about half of an 8-bit step
// (as an experiment, the step ran twice as fast with them replaced by plain loads). A
// permute binary search of the thresholds instead of the bucket gather, with 7-8
// dependent permute-compare levels, was measured slower even four vectors at a time; so
// was interleaving one block's encode with the next block's update.
// Tails (the last n mod N elements) go through the same vector code on a zero-padded
// copy, so there is one code path per target.

#ifndef LOWPREC_SIMD_OPTIM_INL_COMMON_
#define LOWPREC_SIMD_OPTIM_INL_COMMON_
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <hwy/cache_control.h>

#include "lowprec/detail/random.hpp"
#include "lowprec/optim/update.hpp"
#endif  // LOWPREC_SIMD_OPTIM_INL_COMMON_

#if defined(LOWPREC_SIMD_OPTIM_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_OPTIM_INL_H_TARGET
#undef LOWPREC_SIMD_OPTIM_INL_H_TARGET
#else
#define LOWPREC_SIMD_OPTIM_INL_H_TARGET
#endif

#include <hwy/highway.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace {  // internal linkage, as Highway's ops
namespace optim_kernels {

namespace hn = hwy::HWY_NAMESPACE;
using optim::state_format;
using optim::detail::adam_args;
using optim::detail::adam_coeffs;
using optim::detail::map_ref;

using DF = hn::ScalableTag<float>;
using DU = hn::RebindToUnsigned<DF>;
using DI = hn::RebindToSigned<DF>;
using VF = hn::Vec<DF>;
using VU = hn::Vec<DU>;
using VI = hn::Vec<DI>;

constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
constexpr std::size_t kMaxBlock = 256;
constexpr std::size_t kPrefetchBlocks = 2;  // how far ahead quantized runs prefetch

// a > b for lanes below 2^31: one signed compare (unsigned costs three before AVX-512).
HWY_INLINE hn::Mask<DU> GtSmall(VU a, VU b) {
  const DU du;
  const DI di;
  return hn::RebindMask(du, hn::Gt(hn::BitCast(di, a), hn::BitCast(di, b)));
}

// One vector of elements; optim/update.hpp's adam_element, op for op.
HWY_INLINE void Update(const adam_coeffs& c, VF& p, VF g, VF& m, VF& v, VF& vmax) {
  const DF df;
  const DU du;
  g = hn::Mul(g, hn::Set(df, c.grad_scale));
  if (c.l2) g = hn::Add(g, hn::Mul(p, hn::Set(df, c.weight_decay)));
  if (c.decoupled) p = hn::Mul(p, hn::Set(df, c.param_decay));
  m = hn::Add(hn::Mul(m, hn::Set(df, c.beta1)), hn::Mul(g, hn::Set(df, c.one_minus_beta1)));
  v = hn::Add(hn::Mul(v, hn::Set(df, c.beta2)),
              hn::Mul(hn::Mul(hn::Set(df, c.one_minus_beta2), g), g));
  VF s = v;
  if (c.amsgrad) {
    vmax = hn::BitCast(df, hn::Max(hn::BitCast(du, v), hn::BitCast(du, vmax)));
    s = vmax;
  }
  const VF d = hn::Add(hn::Mul(hn::Sqrt(s), hn::Set(df, c.inv_bc2_sqrt)), hn::Set(df, c.eps));
  p = hn::Add(p, hn::Div(hn::Mul(hn::Set(df, c.neg_step_size), m), d));
}

// Random bits of elements index_lo + 0 .. N-1 (detail::random_bits, lane-parallel).
HWY_INLINE VU RandomBits(std::uint32_t index_lo, const lowprec::detail::random_key& key) {
  const DU d;
  VU x = hn::Iota(d, index_lo);
#define LOWPREC_OPTIM_SHR(v, k) hn::ShiftRight<k>(v)
#define LOWPREC_OPTIM_CONST(c) hn::Set(d, c)
  LOWPREC_RANDOM_MIX(x, hn::Set(d, key.k0), hn::Set(d, key.k1), LOWPREC_OPTIM_SHR,
                     LOWPREC_OPTIM_CONST);
#undef LOWPREC_OPTIM_SHR
#undef LOWPREC_OPTIM_CONST
  return x;
}

// ---- fp32 and bf16 moments -------------------------------------------------------------

// How one vector of a moment is read and written.
struct F32Moment {
  float* p;
  HWY_INLINE VF Load(std::size_t i) const { return hn::LoadU(DF(), p + i); }
  HWY_INLINE void Store(VF x, std::size_t i) const { hn::StoreU(x, DF(), p + i); }
};

struct Bf16Moment {
  std::uint16_t* p;
  bool stochastic;
  lowprec::detail::random_key key;
  std::uint32_t index_lo;  // of element 0
  HWY_INLINE VF Load(std::size_t i) const {
    const DU du;
    const hn::Rebind<std::uint16_t, DU> d16;
    return hn::BitCast(DF(), hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, p + i))));
  }
  // bf16::from(x) or bf16::from(x, stochastic, ieee, bits): the carry of bits + r into
  // the upper half rounds; NaN keeps sign and top payload, quieted.
  HWY_INLINE void Store(VF x, std::size_t i) const {
    const DU du;
    const DI di;
    const hn::Rebind<std::uint16_t, DI> d16;
    const VU b = hn::BitCast(du, x);
    const VU r =
        stochastic ? hn::ShiftRight<16>(RandomBits(index_lo + static_cast<std::uint32_t>(i), key))
                   : hn::Add(hn::Set(du, 0x7FFFu), hn::And(hn::ShiftRight<16>(b), hn::Set(du, 1u)));
    const VU rounded = hn::ShiftRight<16>(hn::Add(b, r));
    const VU nan = hn::Or(hn::ShiftRight<16>(b), hn::Set(du, 0x40u));
    const auto is_nan = GtSmall(hn::And(b, hn::Set(du, 0x7FFFFFFFu)), hn::Set(du, 0x7F800000u));
    const VU code = hn::IfThenElse(is_nan, nan, rounded);
    hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, code)), d16, p + i);
  }
};

// Elements [i, i + N) of a run, N = Lanes.
// `c` is the caller's local copy of the coefficients: stores through float pointers could
// alias a.c, which would make the compiler reload and re-broadcast them per vector.
// The updated moments are also returned (for the quantized states' block maxima).
template <class M>
HWY_INLINE void StepVector(const adam_coeffs& c, const M& m, const M& v, const M& x, float* p,
                           const float* g, std::size_t i, VF& mv, VF& vv, VF& xv) {
  const DF df;
  VF pv = hn::LoadU(df, p);
  mv = m.Load(i);
  vv = v.Load(i);
  xv = c.amsgrad ? x.Load(i) : hn::Zero(df);
  Update(c, pv, hn::LoadU(df, g), mv, vv, xv);
  hn::StoreU(pv, df, p);
  m.Store(mv, i);
  v.Store(vv, i);
  if (c.amsgrad) x.Store(xv, i);
}
template <class M>
HWY_INLINE void StepVector(const adam_coeffs& c, const M& m, const M& v, const M& x, float* p,
                           const float* g, std::size_t i) {
  VF mv, vv, xv;
  StepVector(c, m, v, x, p, g, i, mv, vv, xv);
}

template <class T>
HWY_INLINE void CopyIn(T* dst, const T* src, std::size_t r) {
  std::memcpy(dst, src, r * sizeof(T));
}

HWY_NOINLINE void RunF32(const adam_args& a) {
  const DF df;
  const std::size_t N = hn::Lanes(df);
  const adam_coeffs c = a.c;
  const F32Moment m{static_cast<float*>(a.m)}, v{static_cast<float*>(a.v)},
      x{static_cast<float*>(a.vmax)};
  std::size_t i = 0;
  for (; i + N <= a.n; i += N) StepVector(c, m, v, x, a.p + i, a.g + i, i);
  if (i == a.n) return;
  // Tail: the same code on zero-padded copies.
  const std::size_t r = a.n - i;
  HWY_ALIGN float tp[kMaxLanes] = {}, tg[kMaxLanes] = {}, tm[kMaxLanes] = {}, tv[kMaxLanes] = {},
                  tx[kMaxLanes] = {};
  CopyIn(tp, a.p + i, r);
  CopyIn(tg, a.g + i, r);
  CopyIn(tm, m.p + i, r);
  CopyIn(tv, v.p + i, r);
  if (a.c.amsgrad) CopyIn(tx, x.p + i, r);
  StepVector(c, F32Moment{tm}, F32Moment{tv}, F32Moment{tx}, tp, tg, 0);
  CopyIn(a.p + i, tp, r);
  CopyIn(m.p + i, tm, r);
  CopyIn(v.p + i, tv, r);
  if (a.c.amsgrad) CopyIn(x.p + i, tx, r);
}

HWY_NOINLINE void RunBf16(const adam_args& a) {
  const DF df;
  const std::size_t N = hn::Lanes(df);
  const auto lo = static_cast<std::uint32_t>(a.offset);
  const std::uint32_t hi = static_cast<std::uint32_t>(a.offset >> 32);
  const Bf16Moment m{static_cast<std::uint16_t*>(a.m), a.stochastic,
                     lowprec::detail::make_random_key(a.seed_m, hi), lo};
  const Bf16Moment v{static_cast<std::uint16_t*>(a.v), a.stochastic,
                     lowprec::detail::make_random_key(a.seed_v, hi), lo};
  const Bf16Moment x{static_cast<std::uint16_t*>(a.vmax), a.stochastic,
                     lowprec::detail::make_random_key(a.seed_vmax, hi), lo};
  const adam_coeffs c = a.c;
  std::size_t i = 0;
  for (; i + N <= a.n; i += N) StepVector(c, m, v, x, a.p + i, a.g + i, i);
  if (i == a.n) return;
  const std::size_t r = a.n - i;
  HWY_ALIGN float tp[kMaxLanes] = {}, tg[kMaxLanes] = {};
  HWY_ALIGN std::uint16_t tm[kMaxLanes] = {}, tv[kMaxLanes] = {}, tx[kMaxLanes] = {};
  CopyIn(tp, a.p + i, r);
  CopyIn(tg, a.g + i, r);
  CopyIn(tm, m.p + i, r);
  CopyIn(tv, v.p + i, r);
  if (a.c.amsgrad) CopyIn(tx, x.p + i, r);
  // Same random bits as in place: the staged moments keep the element index of lane 0.
  const auto at = [&](const Bf16Moment& s, std::uint16_t* t) {
    return Bf16Moment{t, s.stochastic, s.key, s.index_lo + static_cast<std::uint32_t>(i)};
  };
  StepVector(c, at(m, tm), at(v, tv), at(x, tx), tp, tg, 0);
  CopyIn(a.p + i, tp, r);
  CopyIn(m.p + i, tm, r);
  CopyIn(v.p + i, tv, r);
  if (a.c.amsgrad) CopyIn(x.p + i, tx, r);
}

// ---- 8- and 4-bit blockwise moments -----------------------------------------------------

// Maps of at most 16 entries are looked up within registers where a vector holds 8 or
// more lanes (AVX2: two permutes and a blend); the 256-entry maps gather, except on
// AVX-512 (RegisterTable256, below), and so do narrow targets. All give values[code]
// exactly.
#if HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE
constexpr bool kRegisterTables = hn::MaxLanes(DF()) >= 8;
#else
constexpr bool kRegisterTables = false;
#endif

template <bool kSmall>
HWY_INLINE VF LookUp(const float* values, VU c) {
  const DF df;
  const DI di;
  if constexpr (kSmall && kRegisterTables) {
    const DU du;
    if constexpr (hn::MaxLanes(DF()) >= 16) {
      return hn::TableLookupLanes(hn::LoadU(df, values),
                                  hn::IndicesFromVec(df, hn::BitCast(di, c)));
    } else {
      const auto idx = hn::IndicesFromVec(df, hn::BitCast(di, hn::And(c, hn::Set(du, 7u))));
      const VF lo = hn::TableLookupLanes(hn::LoadU(df, values), idx);
      const VF hi = hn::TableLookupLanes(hn::LoadU(df, values + 8), idx);
      return hn::IfThenElse(hn::RebindMask(df, hn::Ne(hn::And(c, hn::Set(du, 8u)), hn::Zero(du))),
                            hi, lo);
    }
  } else {
    return hn::GatherIndex(df, values, hn::BitCast(di, c));
  }
}

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// A 256-entry value table in 16 registers (AVX-512): values[c] is one of eight
// two-register permutes (entries 32 q .. 32 q + 31, indexed by the low 5 bits of c), picked
// by bits 5, 6 and 7 of c in a tree of seven mask blends. 18 register ops per 16 lanes
// instead of a 16-lane gather: the 8-bit step gained 20% on AMD Zen 5. A block decodes
// one moment at a time so that only one table (16 of the 32 registers) is live; loading
// the tables inside the loop would cost 16 loads per vector.
struct RegisterTable256 {
  __m512 t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15;
  explicit RegisterTable256(const float* v)
      : t0(_mm512_loadu_ps(v)), t1(_mm512_loadu_ps(v + 16)), t2(_mm512_loadu_ps(v + 32)),
        t3(_mm512_loadu_ps(v + 48)), t4(_mm512_loadu_ps(v + 64)), t5(_mm512_loadu_ps(v + 80)),
        t6(_mm512_loadu_ps(v + 96)), t7(_mm512_loadu_ps(v + 112)), t8(_mm512_loadu_ps(v + 128)),
        t9(_mm512_loadu_ps(v + 144)), t10(_mm512_loadu_ps(v + 160)),
        t11(_mm512_loadu_ps(v + 176)), t12(_mm512_loadu_ps(v + 192)),
        t13(_mm512_loadu_ps(v + 208)), t14(_mm512_loadu_ps(v + 224)),
        t15(_mm512_loadu_ps(v + 240)) {}
  HWY_INLINE VF LookUp(VU c) const {
    const __m512i i = c.raw;
    const __mmask16 b5 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(32));
    const __mmask16 b6 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(64));
    const __mmask16 b7 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(128));
    const __m512 q0 = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t0, i, t1),
                                           _mm512_permutex2var_ps(t2, i, t3));
    const __m512 q1 = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t4, i, t5),
                                           _mm512_permutex2var_ps(t6, i, t7));
    const __m512 q2 = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t8, i, t9),
                                           _mm512_permutex2var_ps(t10, i, t11));
    const __m512 q3 = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t12, i, t13),
                                           _mm512_permutex2var_ps(t14, i, t15));
    return VF{_mm512_mask_blend_ps(b7, _mm512_mask_blend_ps(b6, q0, q1),
                                   _mm512_mask_blend_ps(b6, q2, q3))};
  }
};
constexpr bool kRegisterTable256 = true;
#else
constexpr bool kRegisterTable256 = false;
#endif

// x -> codes of the nearest entries in u32 lanes (quant/dynamic_map.hpp, bucket_encoder;
// NaN gets the largest magnitude's rank, as encode_with_buckets).
HWY_INLINE VU EncodeCodes(const map_ref& map, VF x) {
  const DU du;
  const DI di;
  const VU bits = hn::BitCast(du, x);
  const VU a = hn::And(bits, hn::Set(du, 0x7FFFFFFFu));
  const auto idx = hn::Min(hn::Max(hn::Sub(hn::BitCast(di, hn::ShiftRight<16>(a)),
                                           hn::Set(di, static_cast<std::int32_t>(map.first))),
                                   hn::Zero(di)),
                           hn::Set(di, static_cast<std::int32_t>(map.count - 1)));
  const VU e = hn::GatherIndex(du, map.entries, idx);
  const VU low = hn::Set(du, 0xFFFFu);
  const VU rank = hn::Sub(hn::ShiftRight<16>(e),
                          hn::VecFromMask(du, GtSmall(hn::And(a, low), hn::And(e, low))));
  const VI s = hn::ShiftRight<31>(hn::BitCast(di, bits));  // -1 where x < 0
  if (map.is_signed) {  // zero +- rank; the largest positive rank has no negative twin
    const VI signed_rank = hn::Sub(hn::Xor(hn::BitCast(di, rank), s), s);
    return hn::BitCast(
        du, hn::Max(hn::Add(hn::Set(di, static_cast<std::int32_t>(map.zero_code)), signed_rank),
                    hn::Zero(di)));
  }
  return hn::AndNot(hn::BitCast(du, s), rank);
}

// Packed pairs (element 2k low nibble) <-> one code per byte, for n codes; unpack may
// write one code past n (the high nibble of the last byte).
HWY_INLINE void Unpack4(const std::uint8_t* packed, std::size_t n, std::uint8_t* codes) {
  std::size_t k = 0;
  const std::size_t bytes = (n + 1) / 2;
#if HWY_TARGET != HWY_SCALAR  // (no lane-size-changing casts on SCALAR)
  const hn::ScalableTag<std::uint16_t> d16;
  const hn::Repartition<std::uint8_t, decltype(d16)> d8;
  const hn::Rebind<std::uint8_t, decltype(d16)> d8h;
  const std::size_t N = hn::Lanes(d16);  // bytes in, 2N codes out
  for (; k + N <= bytes; k += N) {
    const auto x = hn::PromoteTo(d16, hn::LoadU(d8h, packed + k));
    const auto pairs =
        hn::Or(hn::And(x, hn::Set(d16, 0x0Fu)), hn::ShiftLeft<4>(hn::And(x, hn::Set(d16, 0xF0u))));
    hn::StoreU(hn::BitCast(d8, pairs), d8, codes + 2 * k);
  }
#endif
  for (; k < bytes; ++k) {
    codes[2 * k] = static_cast<std::uint8_t>(packed[k] & 0x0F);
    codes[2 * k + 1] = static_cast<std::uint8_t>(packed[k] >> 4);
  }
}

HWY_INLINE void Pack4(const std::uint8_t* codes, std::size_t n, std::uint8_t* packed) {
  std::size_t k = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::uint16_t> d16;
  const hn::RebindToSigned<decltype(d16)> di16;
  const hn::Repartition<std::uint8_t, decltype(d16)> d8;
  const hn::Rebind<std::uint8_t, decltype(d16)> d8h;
  const std::size_t N = hn::Lanes(d16);
  for (; 2 * (k + N) <= n; k += N) {
    const auto pairs = hn::BitCast(d16, hn::LoadU(d8, codes + 2 * k));
    const auto b = hn::Or(hn::And(pairs, hn::Set(d16, 0x0Fu)),
                          hn::ShiftRight<4>(hn::And(pairs, hn::Set(d16, 0x0F00u))));
    hn::StoreU(hn::DemoteTo(d8h, hn::BitCast(di16, b)), d8h, packed + k);
  }
#endif
  for (; 2 * k < n; ++k) {
    const std::uint8_t hi = 2 * k + 1 < n ? codes[2 * k + 1] : std::uint8_t{0};
    packed[k] = static_cast<std::uint8_t>(codes[2 * k] | (hi << 4));
  }
}

// A block goes through three loops -- decode, update, encode -- over L1 scratch arrays
// padded to whole vectors (kMaxLanes spare elements), so decode and encode need no tail:
// lanes past `len` hold valid codes and harmless values that are never stored back.
// Encoding needs the block's new absmax, so it runs after the whole block is updated.
// Separate loops keep each loop's dependency chain short; on AVX2 the cost is the four
// table lookups per element (two decodes, two encodes), gathers that are microcoded on
// AMD Zen 2/3 and cost about as much as eight scalar loads; on AVX-512 the two encode
// gathers.

// codes[0, len) -> values[code] * absmax, whole vectors.
template <bool kSmall>
HWY_INLINE void DecodeBlock(const float* values, const std::uint8_t* codes, float absmax,
                            std::size_t len, float* out) {
  const DF df;
  const DU du;
  const hn::Rebind<std::uint8_t, DU> d8;
  const std::size_t N = hn::Lanes(df);
  const VF s = hn::Set(df, absmax);
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if constexpr (!kSmall) {
    const RegisterTable256 table(values);
    for (std::size_t j = 0; j < len; j += N) {
      hn::Store(hn::Mul(table.LookUp(hn::PromoteTo(du, hn::LoadU(d8, codes + j))), s), df,
                out + j);
    }
    return;
  }
#endif
  for (std::size_t j = 0; j < len; j += N) {
    hn::Store(hn::Mul(LookUp<kSmall>(values, hn::PromoteTo(du, hn::LoadU(d8, codes + j))), s), df,
              out + j);
  }
}

// Both moments at once: two independent lookups per iteration.
template <bool kSmall>
HWY_INLINE void DecodeBlock2(const float* values_m, const std::uint8_t* codes_m, float absmax_m,
                             float* out_m, const float* values_v, const std::uint8_t* codes_v,
                             float absmax_v, float* out_v, std::size_t len) {
  if constexpr (!kSmall && kRegisterTable256) {  // one table in registers at a time
    DecodeBlock<false>(values_m, codes_m, absmax_m, len, out_m);
    DecodeBlock<false>(values_v, codes_v, absmax_v, len, out_v);
    return;
  }
  const DF df;
  const DU du;
  const hn::Rebind<std::uint8_t, DU> d8;
  const std::size_t N = hn::Lanes(df);
  const VF sm = hn::Set(df, absmax_m), sv = hn::Set(df, absmax_v);
  for (std::size_t j = 0; j < len; j += N) {
    const VF m = LookUp<kSmall>(values_m, hn::PromoteTo(du, hn::LoadU(d8, codes_m + j)));
    const VF v = LookUp<kSmall>(values_v, hn::PromoteTo(du, hn::LoadU(d8, codes_v + j)));
    hn::Store(hn::Mul(m, sm), df, out_m + j);
    hn::Store(hn::Mul(v, sv), df, out_v + j);
  }
}

// values[0, len) * (1 / absmax) -> codes, whole vectors.
HWY_INLINE void EncodeBlock(const map_ref& map, const float* values, std::size_t len, float amax,
                            std::uint8_t* codes) {
  const DF df;
  const DI di;
  const hn::Rebind<std::uint8_t, DI> d8;
  const std::size_t N = hn::Lanes(df);
  const VF inv = hn::Set(df, amax > 0.0f ? 1.0f / amax : 0.0f);
  for (std::size_t j = 0; j < len; j += N) {
    const VU code = EncodeCodes(map, hn::Mul(hn::Load(df, values + j), inv));
    hn::StoreU(hn::DemoteTo(d8, hn::BitCast(di, code)), d8, codes + j);
  }
}

HWY_INLINE void EncodeBlock2(const map_ref& map_m, const float* values_m, float amax_m,
                             std::uint8_t* codes_m, const map_ref& map_v, const float* values_v,
                             float amax_v, std::uint8_t* codes_v, std::size_t len) {
  const DF df;
  const DI di;
  const hn::Rebind<std::uint8_t, DI> d8;
  const std::size_t N = hn::Lanes(df);
  const VF im = hn::Set(df, amax_m > 0.0f ? 1.0f / amax_m : 0.0f);
  const VF iv = hn::Set(df, amax_v > 0.0f ? 1.0f / amax_v : 0.0f);
  for (std::size_t j = 0; j < len; j += N) {
    const VU cm = EncodeCodes(map_m, hn::Mul(hn::Load(df, values_m + j), im));
    const VU cv = EncodeCodes(map_v, hn::Mul(hn::Load(df, values_v + j), iv));
    hn::StoreU(hn::DemoteTo(d8, hn::BitCast(di, cm)), d8, codes_m + j);
    hn::StoreU(hn::DemoteTo(d8, hn::BitCast(di, cv)), d8, codes_v + j);
  }
}

template <bool kSmall>
HWY_NOINLINE void RunQuantT(const adam_args& a) {
  const DF df;
  const DU du;
  const std::size_t N = hn::Lanes(df);
  const bool packed = a.format == state_format::q4;
  const adam_coeffs c = a.c;  // local copies: see StepVector
  const map_ref sm = a.signed_map;
  const map_ref um = a.unsigned_map;
  const bool ams = c.amsgrad;
  constexpr std::size_t kPadded = kMaxBlock + kMaxLanes;
  HWY_ALIGN std::uint8_t cm[kPadded] = {}, cv[kPadded] = {}, cx[kPadded] = {};
  HWY_ALIGN float fm[kPadded], fv[kPadded], fx[kPadded];
  auto* m8 = static_cast<std::uint8_t*>(a.m);
  auto* v8 = static_cast<std::uint8_t*>(a.v);
  auto* x8 = static_cast<std::uint8_t*>(a.vmax);
  const auto load = [&](const std::uint8_t* state, std::size_t start, std::size_t len,
                        std::uint8_t* codes) {
    if (packed) {
      Unpack4(state + start / 2, len, codes);
    } else {
      CopyIn(codes, state + start, len);
    }
  };
  const auto store = [&](const std::uint8_t* codes, std::size_t start, std::size_t len,
                         std::uint8_t* state) {
    if (packed) {
      Pack4(codes, len, state + start / 2);
    } else {
      CopyIn(state + start, codes, len);
    }
  };
  const F32Moment m{fm}, v{fv}, x{fx};
  const VU mag = hn::Set(du, 0x7FFFFFFFu);
  for (std::size_t start = 0, b = 0; start < a.n; start += a.block, ++b) {
    const std::size_t len = a.n - start < a.block ? a.n - start : a.block;
    // Parameters and gradients of a later block are requested now: the update loop reads
    // them in a short burst between compute-bound decode and encode loops, too late for
    // the hardware prefetcher at DRAM sizes.
    const std::size_t ahead = start + kPrefetchBlocks * a.block;
    if (ahead < a.n) {
      const std::size_t end = a.n - ahead < a.block ? a.n : ahead + a.block;
      for (std::size_t k = ahead; k < end; k += 64 / sizeof(float)) {
        hwy::Prefetch(a.p + k);
        hwy::Prefetch(a.g + k);
      }
    }
    // 1. Decode. Whole 8-bit blocks are read and written in place (their length is a
    // multiple of any vector); 4-bit and partial blocks go through the padded scratch.
    const bool direct = !packed && len % N == 0;
    std::uint8_t* qm = direct ? m8 + start : cm;
    std::uint8_t* qv = direct ? v8 + start : cv;
    std::uint8_t* qx = direct && ams ? x8 + start : cx;
    if (!direct) {
      load(m8, start, len, cm);
      load(v8, start, len, cv);
      if (ams) load(x8, start, len, cx);
    }
    DecodeBlock2<kSmall>(sm.values, qm, a.absmax_m[b], fm, um.values, qv, a.absmax_v[b], fv, len);
    if (ams) DecodeBlock<kSmall>(um.values, qx, a.absmax_vmax[b], len, fx);
    // 2. Update parameters (in place) and moments (in scratch); the blocks' new absmax
    // (magnitude bits compared as integers, so NaN wins).
    float* p = a.p + start;
    const float* g = a.g + start;
    VU max_m = hn::Zero(du), max_v = hn::Zero(du), max_x = hn::Zero(du);
    VF mv, vv, xv;
    std::size_t j = 0;
    for (; j + N <= len; j += N) {
      StepVector(c, m, v, x, p + j, g + j, j, mv, vv, xv);
      max_m = hn::Max(max_m, hn::And(hn::BitCast(du, mv), mag));
      max_v = hn::Max(max_v, hn::And(hn::BitCast(du, vv), mag));
      max_x = hn::Max(max_x, hn::And(hn::BitCast(du, xv), mag));  // 0 without AMSGrad
    }
    if (j < len) {
      const std::size_t r = len - j;
      HWY_ALIGN float tp[kMaxLanes] = {}, tg[kMaxLanes] = {};
      CopyIn(tp, p + j, r);
      CopyIn(tg, g + j, r);
      StepVector(c, m, v, x, tp, tg, j, mv, vv, xv);
      CopyIn(p + j, tp, r);
      const auto keep = hn::FirstN(du, r);
      max_m = hn::Max(max_m, hn::IfThenElseZero(keep, hn::And(hn::BitCast(du, mv), mag)));
      max_v = hn::Max(max_v, hn::IfThenElseZero(keep, hn::And(hn::BitCast(du, vv), mag)));
      max_x = hn::Max(max_x, hn::IfThenElseZero(keep, hn::And(hn::BitCast(du, xv), mag)));
    }
    const auto reduce = [&](VU bits) {
      return optim::detail::float_of(hn::GetLane(hn::MaxOfLanes(du, bits)));
    };
    // 3. Encode with the new scales.
    const float new_m = reduce(max_m), new_v = reduce(max_v);
    EncodeBlock2(sm, fm, new_m, qm, um, fv, new_v, qv, len);
    a.absmax_m[b] = new_m;
    a.absmax_v[b] = new_v;
    if (ams) {
      const float new_x = reduce(max_x);
      EncodeBlock(um, fx, len, new_x, qx);
      a.absmax_vmax[b] = new_x;
    }
    if (!direct) {
      store(cm, start, len, m8);
      store(cv, start, len, v8);
      if (ams) store(cx, start, len, x8);
    }
  }
}

HWY_INLINE void RunQuant(const adam_args& a) {
  if (a.signed_map.size <= 16 && a.unsigned_map.size <= 16) {
    RunQuantT<true>(a);
  } else {
    RunQuantT<false>(a);
  }
}

// ---- the gradient scan ---------------------------------------------------------------------

// Largest magnitude bits (x & mask) of n elements, read as four interleaved streams: one
// stream leaves DRAM bandwidth unused (measured 15 vs 21 GB/s here).
template <class T>
HWY_INLINE std::uint32_t MaxMagnitude(const T* x, std::size_t n, std::uint32_t mask) {
  const hn::ScalableTag<std::uint32_t> d;
  const hn::Rebind<T, decltype(d)> dt;
  const std::size_t N = hn::Lanes(d);
  const auto vmask = hn::Set(d, mask);
  const auto load = [&](std::size_t i) {
    if constexpr (sizeof(T) == 4) {
      return hn::And(hn::LoadU(d, x + i), vmask);
    } else {
      return hn::And(hn::PromoteTo(d, hn::LoadU(dt, x + i)), vmask);
    }
  };
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  const std::size_t q = n / 4 / N * N;
  for (std::size_t i = 0; i < q; i += N) {
    a0 = hn::Max(a0, load(i));
    a1 = hn::Max(a1, load(q + i));
    a2 = hn::Max(a2, load(2 * q + i));
    a3 = hn::Max(a3, load(3 * q + i));
  }
  std::size_t i = 4 * q;
  for (; i + N <= n; i += N) a0 = hn::Max(a0, load(i));
  std::uint32_t m = hn::GetLane(hn::MaxOfLanes(d, hn::Max(hn::Max(a0, a1), hn::Max(a2, a3))));
  for (; i < n; ++i) {
    const std::uint32_t e = static_cast<std::uint32_t>(x[i]) & mask;
    m = m > e ? m : e;
  }
  return m;
}

}  // namespace optim_kernels
}  // namespace

// The exported entries (optim/adam.hpp).
HWY_MAYBE_UNUSED static void OptimAdamRun(const optim::detail::adam_args& a) {
  namespace k = optim_kernels;
  switch (a.format) {
    case optim::state_format::fp32:
      return k::RunF32(a);
    case optim::state_format::bf16:
      return k::RunBf16(a);
    case optim::state_format::q8:
    case optim::state_format::q4:
      return k::RunQuant(a);
  }
}

// Largest magnitude bit pattern (sign cleared) of n floats (bytes 4) or 16-bit floats
// (bytes 2): NaN and infinity compare above every finite value.
HWY_MAYBE_UNUSED static std::uint32_t OptimMaxMagnitude(const void* data, std::size_t n,
                                                        int bytes) {
  namespace k = optim_kernels;
  if (bytes == 4) return k::MaxMagnitude(static_cast<const std::uint32_t*>(data), n, 0x7FFFFFFFu);
  return k::MaxMagnitude(static_cast<const std::uint16_t*>(data), n, 0x7FFFu);
}

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif  // per-target guard
