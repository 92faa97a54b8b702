// Per-target Highway kernels behind codebook quantization of <= 16-entry tables (NF4,
// FP4, user tables; quant/codebook_blocks.hpp) and the fused dequantize-and-multiply
// products (quant/fused.hpp). Included once per SIMD target by detail/simd.hpp.
//
// Invariant: every output equals the scalar definition (quant/codebook.hpp,
// quant/fused_reference.hpp) on every target. How:
//   encode     code = #{k : t > T[k]} as a 4-level binary search: T[7]; then T[3]/T[11]
//              (a blend); then {T1,T5,T9,T13} and {T0,T2,..,T14} (table lookups). The
//              compares are the scalar ones; missing thresholds are +inf. Blocks with
//              NaN/Inf, or whose 1/absmax overflows, go to the scalar definition.
//   decode     table16[code] by byte shuffles: the table as 4 byte planes, 4
//              TableLookupBytes and 8 interleaves per 32 codes (AVX2); see "4-bit decode"
//   fused      the documented order of fused_reference.hpp: partial r = k mod 32. 8-bit
//              codes: vector u of M lanes holds r = M u + l. 4-bit codes: the cheapest
//              byte arrangement for the decode (FusedElement), matched by a permuted
//              copy of x made once per call. The first tree steps are vector adds.
// SCALAR and scalable targets run the scalar definition. Encode vectors are capped at 16
// lanes, decode and fused vectors at 8 (a 32-element group is 16 code bytes), except on
// AVX-512, where the 16-entry table is one vector: dequantize and the 4-bit matvec use 16
// lanes and one vpermps per 16 codes (Dequantize16, FusedMatVec4EvenOdd).
// Contraction is off (GCC pragma below) so no multiply and add fuse on FMA targets.
// Cost on AVX2 per 32 elements: encode ~70 ops + 14 to pack; decode 14 shuffles + 2 ops;
// fused 4-bit 12 shuffles + 3 ops + 4 mul + 4 add (+ 4 mul, 4 add per block).

// ---- Target-independent part (normal include guard) ----------------------------------
#ifndef LOWPREC_SIMD_QUANT_LOWBIT_INL_COMMON_
#define LOWPREC_SIMD_QUANT_LOWBIT_INL_COMMON_

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "lowprec/quant/codebook.hpp"
#include "lowprec/quant/fused_reference.hpp"

#endif  // LOWPREC_SIMD_QUANT_LOWBIT_INL_COMMON_

// ---- Per-target part (toggled by foreach_target.h) ------------------------------------
#if defined(LOWPREC_SIMD_QUANT_LOWBIT_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_QUANT_LOWBIT_INL_H_TARGET
#undef LOWPREC_SIMD_QUANT_LOWBIT_INL_H_TARGET
#else
#define LOWPREC_SIMD_QUANT_LOWBIT_INL_H_TARGET
#endif

#include <hwy/highway.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace lowbit_kernels {

namespace hn = hwy::HWY_NAMESPACE;
namespace lq = ::lowprec::quant;
namespace lqd = ::lowprec::quant::detail;

#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
#define LOWPREC_LOWBIT_SIMD 0
#else
#define LOWPREC_LOWBIT_SIMD 1
#endif

#if LOWPREC_LOWBIT_SIMD
using DF = hn::CappedTag<float, 16>;
using DI = hn::RebindToSigned<DF>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;
constexpr std::size_t kN = hn::MaxLanes(DF());
static_assert(32 % (2 * kN) == 0, "two vectors must divide a 32-element group");

// A table of K <= 16 floats as ceil(K / N) vectors.
template <std::size_t K>
struct Table {
  static constexpr std::size_t kVecs = (K + kN - 1) / kN;
  VF v[kVecs];
  explicit Table(const float* values) {
    const DF df;
    HWY_ALIGN float buf[kVecs * kN];
    for (std::size_t i = 0; i < kVecs * kN; ++i) buf[i] = i < K ? values[i] : 0.0f;
    for (std::size_t t = 0; t < kVecs; ++t) v[t] = hn::Load(df, buf + t * kN);
  }
};

// table[idx] for int32 lanes idx in [0, K).
template <std::size_t K>
HWY_INLINE VF Lookup(const Table<K>& tab, VI idx) {
  const DF df;
  const DI di;
  if constexpr (Table<K>::kVecs == 1) {
    return hn::TableLookupLanes(tab.v[0], hn::IndicesFromVec(df, idx));
  } else {
    const auto ind = hn::IndicesFromVec(df, hn::And(idx, hn::Set(di, static_cast<int>(kN - 1))));
    VF r = hn::TableLookupLanes(tab.v[0], ind);
    for (std::size_t t = 1; t < Table<K>::kVecs; ++t) {
      const auto hit = hn::RebindMask(df, hn::Gt(idx, hn::Set(di, static_cast<int>(t * kN - 1))));
      r = hn::IfThenElse(hit, hn::TableLookupLanes(tab.v[t], ind), r);
    }
    return r;
  }
}

// The binary-search encoder of a table with up to 16 entries (15 thresholds, +inf-padded).
template <std::size_t K>
Table<K> Pick(const float* th, std::size_t first, std::size_t step) {
  float v[K];
  for (std::size_t i = 0; i < K; ++i) v[i] = th[first + i * step];
  return Table<K>(v);
}
struct Encoder {
  explicit Encoder(const float* th)  // th: 15 ascending thresholds
      : t3(hn::Set(DF(), th[3])),
        t7(hn::Set(DF(), th[7])),
        t11(hn::Set(DF(), th[11])),
        l3(Pick<4>(th, 1, 4)),
        l4(Pick<8>(th, 0, 2)) {}
  VF t3, t7, t11;
  Table<4> l3;  // T1, T5, T9, T13
  Table<8> l4;  // T0, T2, ..., T14
};

// Mask lanes as int 1 / 0 added to 2 * idx. AVX-512 masks live in k registers: a
// merge-masked add there, instead of materialising the mask as a vector and subtracting.
HWY_INLINE VI Step(VI idx, hn::Mask<DF> m) {
  const DI di;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  const VI twice = hn::Add(idx, idx);
  return hn::IfThenElse(hn::RebindMask(di, m), hn::Add(twice, hn::Set(di, 1)), twice);
#else
  return hn::Sub(hn::Add(idx, idx), hn::BitCast(di, hn::VecFromMask(DF(), m)));
#endif
}

HWY_INLINE VI Encode(const Encoder& e, VF t) {
  const DI di;
  const auto m1 = hn::Gt(t, e.t7);
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  VI idx = hn::IfThenElseZero(hn::RebindMask(di, m1), hn::Set(di, 1));
#else
  VI idx = hn::Sub(hn::Zero(di), hn::BitCast(di, hn::VecFromMask(DF(), m1)));
#endif
  idx = Step(idx, hn::Gt(t, hn::IfThenElse(m1, e.t11, e.t3)));
  idx = Step(idx, hn::Gt(t, Lookup(e.l3, idx)));
  return Step(idx, hn::Gt(t, Lookup(e.l4, idx)));
}
#endif  // LOWPREC_LOWBIT_SIMD

#if LOWPREC_LOWBIT_SIMD && HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// AVX-512 grid encoder. t in [-1, 1] falls in one of 32 cells, c(t) = clamp(trunc(16 t +
// 16), 0, 31), which is non-decreasing in t. If no cell holds two thresholds, then
//   code(t) = #{thresholds < t} = base[c] + (t > thr[c])
// with base[c] = #{thresholds th : c(th) < c} and thr[c] the threshold with c(th) = c (or
// +inf): a threshold in an earlier cell is below t and one in a later cell above it, by
// monotonicity alone, so the result equals the binary search's for every t, ties included
// (strict >). Both 32-entry tables are two vectors, looked up with one two-table permute
// each: 10 ops per 16 elements instead of about 22. Tables whose thresholds crowd a cell
// (two within 1/16) keep the binary search. 16 t is exact, so a fused 16 t + 16 (clang
// may contract the scalar one) rounds the same as the separate operations.
inline int GridCell(float t) {
  const float u = t * 16.0f + 16.0f;
  const int c = static_cast<int>(u);  // |t| <= ~1: no overflow
  return c < 0 ? 0 : (c > 31 ? 31 : c);
}
struct GridEncoder {
  bool ok = true;
  __m512 thr_lo, thr_hi;
  __m512i base_lo, base_hi;
  explicit GridEncoder(const float* th) {  // 15 ascending thresholds, +inf padded
    HWY_ALIGN float thr[32];
    HWY_ALIGN std::int32_t base[32];
    for (int c = 0; c < 32; ++c) {
      thr[c] = std::numeric_limits<float>::infinity();
      base[c] = 0;
    }
    for (std::size_t k = 0; k < 15; ++k) {
      if (!(th[k] <= FLT_MAX)) continue;  // padding: never below any t
      if (!(th[k] >= -2.0f && th[k] <= 2.0f)) { ok = false; continue; }
      const int c = GridCell(th[k]);
      if (thr[c] <= FLT_MAX) ok = false;  // two thresholds in one cell
      thr[c] = th[k];
      for (int later = c + 1; later < 32; ++later) ++base[later];
    }
    thr_lo = _mm512_load_ps(thr);
    thr_hi = _mm512_load_ps(thr + 16);
    base_lo = _mm512_load_si512(base);
    base_hi = _mm512_load_si512(base + 16);
  }
  HWY_INLINE VI Encode(VF t) const {
    const __m512 u = _mm512_add_ps(_mm512_mul_ps(t.raw, _mm512_set1_ps(16.0f)),
                                   _mm512_set1_ps(16.0f));
    const __m512i c = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvttps_epi32(u), _mm512_setzero_si512()),
                                       _mm512_set1_epi32(31));
    const __m512 thr = _mm512_permutex2var_ps(thr_lo, c, thr_hi);
    const __m512i base = _mm512_permutex2var_epi32(base_lo, c, base_hi);
    const __mmask16 up = _mm512_cmp_ps_mask(t.raw, thr, _CMP_GT_OQ);
    return VI{_mm512_mask_add_epi32(base, up, base, _mm512_set1_epi32(1))};
  }
};
#endif

// The 15 thresholds of a <= 16-entry codebook, padded with +inf.
inline void Thresholds15(const lq::codebook& cb, float* th) {
  for (std::size_t k = 0; k < 15; ++k) {
    th[k] = k < cb.thresholds().size() ? cb.thresholds()[k]
                                       : std::numeric_limits<float>::infinity();
  }
}

// ---- codebook quantize / dequantize (4-bit tables) ------------------------------------

#if LOWPREC_LOWBIT_SIMD
// Blockwise absmax + 4-bit codebook encode with `encode` (t -> code lanes), packed two per
// byte. Blocks with NaN/Inf, a subnormal absmax (1 / absmax overflows) or an odd start go
// to the scalar definition.
template <class EncodeFn>
HWY_INLINE void Quantize16Blocks(const float* HWY_RESTRICT x, std::size_t n, std::size_t block,
                                 const lq::codebook& cb, std::uint8_t* HWY_RESTRICT packed,
                                 float* HWY_RESTRICT absmax, const EncodeFn& encode) {
  const DF df;
  const hn::Repartition<std::uint16_t, DF> dw;       // 2N lanes: a code pair each
  const hn::RebindToSigned<decltype(dw)> dwi;
  const hn::Rebind<std::uint8_t, decltype(dw)> dwb;  // 2N bytes
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float* HWY_RESTRICT p = x + start;
    const std::int32_t bits = quant_kernels::AbsBitsMax(p, len);
    float amax = 0.0f;
    std::memcpy(&amax, &bits, 4);
    const float inv = lqd::codebook_inverse(amax);
    if (bits >= 0x7F800000 || !(inv <= FLT_MAX) || start % 2 != 0) {
      lqd::quantize_codebook_blocks_scalar(p, len, len, cb, packed + start / 2, absmax + b);
      continue;
    }
    absmax[b] = amax;
    const auto vinv = hn::Set(df, inv);
    std::size_t i = 0;
    for (; i + 4 * kN <= len; i += 4 * kN) {
      const VI c0 = encode(hn::Mul(hn::LoadU(df, p + i), vinv));
      const VI c1 = encode(hn::Mul(hn::LoadU(df, p + i + kN), vinv));
      const VI c2 = encode(hn::Mul(hn::LoadU(df, p + i + 2 * kN), vinv));
      const VI c3 = encode(hn::Mul(hn::LoadU(df, p + i + 3 * kN), vinv));
      // 4N codes as bytes in order; byte k = code 2k | code 2k+1 << 4 from 16-bit pairs.
      const auto u = hn::BitCast(dw, quant_kernels::LowBytes4(c0, c1, c2, c3));
      const auto byte = hn::Or(hn::And(u, hn::Set(dw, 0x000Fu)),
                               hn::And(hn::ShiftRight<4>(u), hn::Set(dw, 0x00F0u)));
      hn::StoreU(hn::DemoteTo(dwb, hn::BitCast(dwi, byte)), dwb, packed + (start + i) / 2);
    }
    for (std::size_t j = start + i; j < start + len; ++j) {
      const std::uint8_t c = lqd::codebook_code(cb, x[j], inv);
      packed[j / 2] = j % 2 == 0 ? c : static_cast<std::uint8_t>(packed[j / 2] | (c << 4));
    }
  }
}
#endif

HWY_MAYBE_UNUSED static void Quantize16(const float* HWY_RESTRICT x, std::size_t n,
                                        std::size_t block, const lq::codebook& cb,
                                        std::uint8_t* HWY_RESTRICT packed,
                                        float* HWY_RESTRICT absmax) {
#if !LOWPREC_LOWBIT_SIMD
  lqd::quantize_codebook_blocks_scalar(x, n, block, cb, packed, absmax);
#else
  float th[15];
  Thresholds15(cb, th);
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  const GridEncoder grid(th);
  if (grid.ok) {
    Quantize16Blocks(x, n, block, cb, packed, absmax, [&](VF t) { return grid.Encode(t); });
    return;
  }
#endif
  const Encoder enc(th);
  Quantize16Blocks(x, n, block, cb, packed, absmax, [&](VF t) { return Encode(enc, t); });
#endif
}

#if LOWPREC_LOWBIT_SIMD
// ---- 4-bit decode by byte shuffles ------------------------------------------------------
// Vectors of at most 8 floats (<= two 128-bit blocks), so that a group of 32 elements (16
// code bytes) is one (AVX2) or two (128-bit targets) vectors of byte codes. A 16-entry
// table is kept as 4 byte planes, each repeated in every 128-bit block; 4 TableLookupBytes
// give the 4 bytes of every code's value and two rounds of interleaving assemble them:
//   DecodeCodes   vector v (0..3), lane 4 kb + l  =  value of code byte 16 kb + 4 v + l
//                 (kb = 128-bit block): 12 shuffles per 4M values (AVX2: 32)
// Which element each code byte holds is chosen by the caller's byte arrangement:
//   OrderedCodes  the decoded vectors hold elements 0..31 in order (dequantize)
//   GroupCodes    cheaper arrangement (one shift, no byte shuffle) whose element order,
//                 FusedElement, the fused kernels absorb into a permuted copy of x
using DF8 = hn::CappedTag<float, 8>;
using VF8 = hn::Vec<DF8>;
using DB8 = hn::Repartition<std::uint8_t, DF8>;
using VB8 = hn::Vec<DB8>;
using DH8 = hn::Repartition<std::uint16_t, DF8>;
constexpr std::size_t kM = hn::MaxLanes(DF8());  // 4 or 8
constexpr std::size_t kU = 32 / kM;              // float vectors per 32-element group
constexpr std::size_t kC = 8 / kM;               // byte-code vectors per group
static_assert(kM == 4 || kM == 8, "a 32-element group is 1 or 2 vectors of codes");

struct Planes {
  VB8 b[4];
  explicit Planes(const float* v16) {
    const DB8 d8;
    for (std::size_t j = 0; j < 4; ++j) {
      HWY_ALIGN std::uint8_t plane[16];
      for (std::size_t k = 0; k < 16; ++k) {
        std::uint32_t u = 0;
        std::memcpy(&u, v16 + k, 4);
        plane[k] = static_cast<std::uint8_t>(u >> (8 * j));
      }
      b[j] = hn::LoadDup128(d8, plane);
    }
  }
};

HWY_INLINE void DecodeCodes(const Planes& t, VB8 c, VF8* out) {
  const DB8 d8;
  const DH8 d16;
  const DF8 df;
  const VB8 b0 = hn::TableLookupBytes(t.b[0], c);
  const VB8 b1 = hn::TableLookupBytes(t.b[1], c);
  const VB8 b2 = hn::TableLookupBytes(t.b[2], c);
  const VB8 b3 = hn::TableLookupBytes(t.b[3], c);
  const auto lo01 = hn::BitCast(d16, hn::InterleaveLower(d8, b0, b1));
  const auto hi01 = hn::BitCast(d16, hn::InterleaveUpper(d8, b0, b1));
  const auto lo23 = hn::BitCast(d16, hn::InterleaveLower(d8, b2, b3));
  const auto hi23 = hn::BitCast(d16, hn::InterleaveUpper(d8, b2, b3));
  out[0] = hn::BitCast(df, hn::InterleaveLower(d16, lo01, lo23));
  out[1] = hn::BitCast(df, hn::InterleaveUpper(d16, lo01, lo23));
  out[2] = hn::BitCast(df, hn::InterleaveLower(d16, hi01, hi23));
  out[3] = hn::BitCast(df, hn::InterleaveUpper(d16, hi01, hi23));
}

HWY_INLINE VB8 LowNibbles(VB8 v) { return hn::And(v, hn::Set(DB8(), 0x0F)); }
HWY_INLINE VB8 HighNibbles(VB8 v) {
  const DB8 d8;
  return hn::And(hn::BitCast(d8, hn::ShiftRight<4>(hn::BitCast(DH8(), v))), hn::Set(d8, 0x0F));
}

// The 32 codes of the 16 bytes at p arranged so that DecodeCodes yields elements 0..31 in
// order (vector u holds elements M u .. M u + M - 1):
//   M = 8  code byte 16 kb + 4 v + l = element 8 v + 4 kb + l: bytes 4 v + 2 kb and
//          4 v + 2 kb + 1 picked by one TableLookupBytes, then nibbles interleaved
//   M = 4  code vector g = elements 16 g .. 16 g + 15: nibbles interleaved
HWY_INLINE void OrderedCodes(const std::uint8_t* HWY_RESTRICT p, VB8* c) {
  const DB8 d8;
  if constexpr (kM == 8) {
    alignas(32) static constexpr std::uint8_t kPick[32] = {
        0, 1, 4, 5, 8, 9, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0,
        2, 3, 6, 7, 10, 11, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0};
    const VB8 v = hn::TableLookupBytes(hn::LoadDup128(d8, p), hn::Load(d8, kPick));
    c[0] = hn::InterleaveLower(d8, LowNibbles(v), HighNibbles(v));
  } else {
    const VB8 v = hn::LoadU(d8, p);
    c[0] = hn::InterleaveLower(d8, LowNibbles(v), HighNibbles(v));
    c[1] = hn::InterleaveUpper(d8, LowNibbles(v), HighNibbles(v));
  }
}

// The 32 codes of the 16 bytes at p, arranged as "group block" gb = (code vector) * M / 4 +
// kb: gb 0 = low nibbles (element 2 j of byte j), gb 1 = high nibbles (element 2 j + 1).
HWY_INLINE void GroupCodes(const std::uint8_t* HWY_RESTRICT p, VB8* c) {
  const DB8 d8;
  if constexpr (kM == 8) {
    const VB8 v = hn::LoadDup128(d8, p);
    c[0] = LowNibbles(hn::ConcatUpperLower(d8, hn::BitCast(d8, hn::ShiftRight<4>(hn::BitCast(DH8(), v))), v));
  } else {
    const VB8 v = hn::LoadU(d8, p);
    c[0] = LowNibbles(v);
    c[1] = HighNibbles(v);
  }
}
// The element (0..31 within its group) that lane L of decoded vector u holds after
// GroupCodes: u = 4 g + v, L = 4 kb + l  ->  2 (4 v + l) + gb.
constexpr std::size_t FusedElement(std::size_t u, std::size_t lane) {
  return 2 * (4 * (u % 4) + lane % 4) + (u / 4) * (kM / 4) + lane / 4;
}
HWY_INLINE void DecodeGroup(const Planes& t, const std::uint8_t* HWY_RESTRICT p, VF8* v) {
  VB8 c[2];
  GroupCodes(p, c);
  for (std::size_t g = 0; g < kC; ++g) DecodeCodes(t, c[g], v + 4 * g);
}
#endif  // LOWPREC_LOWBIT_SIMD

HWY_MAYBE_UNUSED static void Dequantize16(const std::uint8_t* HWY_RESTRICT packed,
                                          const float* HWY_RESTRICT absmax, std::size_t n,
                                          std::size_t block, const lq::codebook& cb,
                                          float* HWY_RESTRICT out) {
#if !LOWPREC_LOWBIT_SIMD
  lqd::dequantize_codebook_blocks_scalar(packed, absmax, n, block, cb, out);
#else
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  {
    static_assert(kN == 16, "AVX-512: 16 float lanes");
    // 16 lanes (AVX-512): the whole 16-entry table is one vector, so a code is one
    // permute (vpermps, which reads only the low 4 bits of each index lane) away from its
    // value. 32 elements (16 code bytes, broadcast to every 128-bit block): a byte shuffle
    // puts byte i / 2 (vector 0) or 8 + i / 2 (vector 1) in the low byte of lane i, and a
    // per-lane shift by 4 in odd lanes brings the high nibble (element 2 j + 1) down:
    // 11 ops per 32 elements, elements in order.
    const DF df;
    alignas(64) static constexpr std::uint8_t kPick[2][64] = {
        {0, 128, 128, 128, 0, 128, 128, 128, 1, 128, 128, 128, 1, 128, 128, 128,
         2, 128, 128, 128, 2, 128, 128, 128, 3, 128, 128, 128, 3, 128, 128, 128,
         4, 128, 128, 128, 4, 128, 128, 128, 5, 128, 128, 128, 5, 128, 128, 128,
         6, 128, 128, 128, 6, 128, 128, 128, 7, 128, 128, 128, 7, 128, 128, 128},
        {8, 128, 128, 128, 8, 128, 128, 128, 9, 128, 128, 128, 9, 128, 128, 128,
         10, 128, 128, 128, 10, 128, 128, 128, 11, 128, 128, 128, 11, 128, 128, 128,
         12, 128, 128, 128, 12, 128, 128, 128, 13, 128, 128, 128, 13, 128, 128, 128,
         14, 128, 128, 128, 14, 128, 128, 128, 15, 128, 128, 128, 15, 128, 128, 128}};
    alignas(64) static constexpr std::uint32_t kShift[16] = {0, 4, 0, 4, 0, 4, 0, 4,
                                                             0, 4, 0, 4, 0, 4, 0, 4};
    const __m512i pick0 = _mm512_load_si512(kPick[0]);
    const __m512i pick1 = _mm512_load_si512(kPick[1]);
    const __m512i shift = _mm512_load_si512(kShift);
    const __m512 tab = hn::LoadU(df, cb.padded_values().data()).raw;
    for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
      const std::size_t end = n - start < block ? n : start + block;
      const __m512 vs = _mm512_set1_ps(absmax[b]);
      std::size_t j = start;  // even: blocks are powers of two >= 32
      for (; j + 32 <= end; j += 32) {
        const __m512i bytes = _mm512_broadcast_i32x4(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + j / 2)));
        const __m512i i0 = _mm512_srlv_epi32(_mm512_shuffle_epi8(bytes, pick0), shift);
        const __m512i i1 = _mm512_srlv_epi32(_mm512_shuffle_epi8(bytes, pick1), shift);
        _mm512_storeu_ps(out + j, _mm512_mul_ps(_mm512_permutexvar_ps(i0, tab), vs));
        _mm512_storeu_ps(out + j + 16, _mm512_mul_ps(_mm512_permutexvar_ps(i1, tab), vs));
      }
      for (; j < end; ++j) {
        out[j] = cb.value(static_cast<std::uint8_t>((packed[j / 2] >> ((j % 2) * 4)) & 0x0F)) *
                 absmax[b];
      }
    }
    return;
  }
#endif
  const DF8 df;
  const Planes tab(cb.padded_values().data());
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = n - start < block ? n : start + block;
    const auto vs = hn::Set(df, absmax[b]);
    std::size_t j = start;  // even: blocks are powers of two >= 32
    for (; j + 32 <= end; j += 32) {
      VB8 c[2];
      OrderedCodes(packed + j / 2, c);
      for (std::size_t g = 0; g < kC; ++g) {
        VF8 v[4];
        DecodeCodes(tab, c[g], v);
        for (std::size_t u = 0; u < 4; ++u) {
          hn::StoreU(hn::Mul(v[u], vs), df, out + j + (4 * g + u) * kM);
        }
      }
    }
    for (; j < end; ++j) {
      out[j] = cb.value(static_cast<std::uint8_t>((packed[j / 2] >> ((j % 2) * 4)) & 0x0F)) *
               absmax[b];
    }
  }
#endif
}

// ---- fused products ------------------------------------------------------------------
// Vectors of M lanes; a group of 32 elements is kU vectors. 8-bit codes: vector u, lane L
// holds partial r = M u + L. 4-bit codes: r = FusedElement(u, L), x permuted to match
// once per call. In both layouts the first two (8-bit, M = 4: three) steps of the tree
// pair lanes of whole vectors, so they run as vector adds; the last steps are scalar.
// A block's first group initialises q (0 + v x = v x up to the sign of a zero product,
// and p = p + s q, which starts at +0, is never -0, so no result changes).

#if LOWPREC_LOWBIT_SIMD
HWY_INLINE float Finish8(VF8* acc) {
  const DF8 df;
  for (std::size_t nv = kU; nv > 1; nv /= 2) {
    for (std::size_t c = 0; c < nv / 2; ++c) acc[c] = hn::Add(acc[c], acc[c + nv / 2]);
  }
  HWY_ALIGN float p[kM];
  hn::Store(acc[0], df, p);
  for (std::size_t s = kM / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}
HWY_INLINE float Finish4(VF8* acc) {
  const DF8 df;
  HWY_ALIGN float tmp[8];
  for (std::size_t g = 0; g < kC; ++g) {
    VF8* a = acc + 4 * g;  // r = 8 v + 2 l + gb: steps 16 and 8 pair v with v + 2, v + 1
    a[0] = hn::Add(a[0], a[2]);
    a[1] = hn::Add(a[1], a[3]);
    a[0] = hn::Add(a[0], a[1]);
    hn::Store(a[0], df, tmp + g * kM);
  }
  float p[8];
  for (std::size_t g = 0; g < kC; ++g) {
    for (std::size_t l = 0; l < kM; ++l) p[FusedElement(4 * g, l)] = tmp[g * kM + l];
  }
  for (std::size_t s = 4; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

// x with each group of 32 elements in FusedElement order.
inline void PermuteX(const float* x, std::size_t cols, float* xp) {
  for (std::size_t k = 0; k < cols; k += 32) {
    for (std::size_t u = 0; u < kU; ++u) {
      for (std::size_t l = 0; l < kM; ++l) xp[k + u * kM + l] = x[k + FusedElement(u, l)];
    }
  }
}

HWY_INLINE VF8 Decode8(const std::uint8_t* HWY_RESTRICT p) {
  const DF8 df;
  const hn::Rebind<std::int8_t, DF8> d8;
  return hn::ConvertTo(
      df, hn::PromoteTo(hn::RebindToSigned<DF8>(), hn::LoadU(d8, reinterpret_cast<const std::int8_t*>(p))));
}

// q += v x for one group (first: q = v x).
template <bool kFirst>
HWY_INLINE void Accumulate(VF8* q, const VF8* v, const float* HWY_RESTRICT x) {
  const DF8 df;
  for (std::size_t u = 0; u < kU; ++u) {
    const VF8 prod = hn::Mul(v[u], hn::LoadU(df, x + u * kM));
    q[u] = kFirst ? prod : hn::Add(q[u], prod);
  }
}
HWY_INLINE void Decode8Group(const std::uint8_t* HWY_RESTRICT p, VF8* v) {
  for (std::size_t u = 0; u < kU; ++u) v[u] = Decode8(p + u * kM);
}

// One row times one input, registers only (the matvec path). xs: x (8-bit) or PermuteX(x).
template <bool kFour>
HWY_INLINE float Row(const Planes& tab, const std::uint8_t* HWY_RESTRICT codes,
                     const float* HWY_RESTRICT xs, const float* HWY_RESTRICT s, std::size_t nb,
                     std::size_t block) {
  const DF8 df;
  VF8 acc[kU];
  for (auto& a : acc) a = hn::Zero(df);
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t k0 = b * block;
    VF8 q[kU], v[kU];
    if constexpr (kFour) DecodeGroup(tab, codes + k0 / 2, v); else Decode8Group(codes + k0, v);
    Accumulate<true>(q, v, xs + k0);
    for (std::size_t k = k0 + 32; k < k0 + block; k += 32) {
      if constexpr (kFour) DecodeGroup(tab, codes + k / 2, v); else Decode8Group(codes + k, v);
      Accumulate<false>(q, v, xs + k);
    }
    const auto vs = hn::Set(df, s[b]);
    for (std::size_t u = 0; u < kU; ++u) acc[u] = hn::Add(acc[u], hn::Mul(vs, q[u]));
  }
  return kFour ? Finish4(acc) : Finish8(acc);
}
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// 4-bit matvec with 16 lanes (AVX-512): the whole 16-entry table is one vector, so a code
// is one TableLookupLanes (vpermps) from its value. The 16 code bytes of a group,
// zero-extended to 32-bit lanes w, hold in lane j elements 2 j (w & 15) and 2 j + 1
// (w >> 4): vector e accumulates partials r = 2 j, vector o partials r = 2 j + 1, with x
// permuted to match (PermuteXEvenOdd). Per 32 elements: one load + zero-extend, 2 ops for
// the nibbles, 2 vpermps, 2 multiplies (x loaded) and 2 adds; the 8-lane path above needs
// 12 shuffles for the decode.
inline void PermuteXEvenOdd(const float* x, std::size_t cols, float* xp) {
  for (std::size_t k = 0; k < cols; k += 32) {
    for (std::size_t j = 0; j < 16; ++j) {
      xp[k + j] = x[k + 2 * j];
      xp[k + 16 + j] = x[k + 2 * j + 1];
    }
  }
}

template <bool kFirst>
HWY_INLINE void AccumulateEvenOdd(VF tab, const std::uint8_t* HWY_RESTRICT codes,
                                  const float* HWY_RESTRICT xs, VF& qe, VF& qo) {
  const DF df;
  const DI di;
  const hn::Full128<std::uint8_t> d8;
  const hn::Rebind<std::uint32_t, decltype(d8)> du;
  const auto w = hn::PromoteTo(du, hn::LoadU(d8, codes));
  const VF ve = hn::TableLookupLanes(tab, hn::IndicesFromVec(df, hn::BitCast(di, hn::And(w, hn::Set(du, 0x0Fu)))));
  const VF vo = hn::TableLookupLanes(tab, hn::IndicesFromVec(df, hn::BitCast(di, hn::ShiftRight<4>(w))));
  const VF pe = hn::Mul(ve, hn::LoadU(df, xs));
  const VF po = hn::Mul(vo, hn::LoadU(df, xs + 16));
  qe = kFirst ? pe : hn::Add(qe, pe);
  qo = kFirst ? po : hn::Add(qo, po);
}

// One row of 4-bit codes times PermuteXEvenOdd(x). The tree's step 16 pairs lane j of e
// (r = 2 j) with lane j + 8 (r = 2 j + 16), and likewise in o: one add of the vector
// halves each; the remaining 16 partials are interleaved back into r order.
HWY_INLINE float RowEvenOdd(VF tab, const std::uint8_t* HWY_RESTRICT codes,
                            const float* HWY_RESTRICT xs, const float* HWY_RESTRICT s,
                            std::size_t nb, std::size_t block) {
  const DF df;
  VF ae = hn::Zero(df), ao = hn::Zero(df);
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t k0 = b * block;
    VF qe, qo;
    AccumulateEvenOdd<true>(tab, codes + k0 / 2, xs + k0, qe, qo);
    for (std::size_t k = k0 + 32; k < k0 + block; k += 32) {
      AccumulateEvenOdd<false>(tab, codes + k / 2, xs + k, qe, qo);
    }
    const VF vs = hn::Set(df, s[b]);
    ae = hn::Add(ae, hn::Mul(vs, qe));
    ao = hn::Add(ao, hn::Mul(vs, qo));
  }
  const hn::Half<DF> dh;
  HWY_ALIGN float te[8], to[8];
  hn::Store(hn::Add(hn::LowerHalf(dh, ae), hn::UpperHalf(dh, ae)), dh, te);
  hn::Store(hn::Add(hn::LowerHalf(dh, ao), hn::UpperHalf(dh, ao)), dh, to);
  float p[16];
  for (std::size_t j = 0; j < 8; ++j) {
    p[2 * j] = te[j];
    p[2 * j + 1] = to[j];
  }
  for (std::size_t st = 8; st >= 1; st /= 2) {
    for (std::size_t j = 0; j < st; ++j) p[j] = p[j] + p[j + st];
  }
  return p[0];
}

HWY_INLINE void FusedMatVec4EvenOdd(const lqd::fused_args& a, const float* HWY_RESTRICT x,
                                    float* HWY_RESTRICT y) {
  const std::size_t nb = a.cols / a.block;
  std::vector<float> s(nb);
  std::vector<float> xp(a.cols);
  PermuteXEvenOdd(x, a.cols, xp.data());
  const VF tab = hn::LoadU(DF(), a.table16);
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t b = 0; b < nb; ++b) s[b] = lqd::fused_block_scale(a, i * nb + b);
    y[i] = RowEvenOdd(tab, a.codes + i * (a.cols / 2), xp.data(), s.data(), nb, a.block);
  }
}
#endif  // AVX3
#endif  // LOWPREC_LOWBIT_SIMD

// y[c * rows + i] = W row i times input c, for m inputs x[c * cols ...].
// m == 1: each row in registers. m > 1: each block of a row is decoded once into `vals`
// (values in the vector layout above, no scale) and used for all m inputs, whose
// partials live in memory between blocks; the arithmetic is the same.
HWY_MAYBE_UNUSED static void FusedMatMat(const lqd::fused_args& a, const float* HWY_RESTRICT x,
                                         std::size_t m, float* HWY_RESTRICT y) {
#if !LOWPREC_LOWBIT_SIMD
  lqd::fused_matmat_reference(a, x, m, y);
#else
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if (m == 1 && a.four_bit) {
    FusedMatVec4EvenOdd(a, x, y);
    return;
  }
#endif
  const DF8 df;
  const std::size_t nb = a.cols / a.block;
  std::vector<float> s(nb);
  std::vector<float> xp(a.four_bit ? a.cols * m : 0);
  for (std::size_t c = 0; a.four_bit && c < m; ++c) {
    PermuteX(x + c * a.cols, a.cols, xp.data() + c * a.cols);
  }
  const float* xs = a.four_bit ? xp.data() : x;
  const Planes tab(a.four_bit ? a.table16 : lqd::kZeroTable16);
  const std::size_t row_bytes = a.four_bit ? a.cols / 2 : a.cols;
  std::vector<float> vals;
  std::vector<float> accs;
  if (m > 1) {
    vals.resize(a.block);
    accs.resize(m * 32);
  }
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t b = 0; b < nb; ++b) s[b] = lqd::fused_block_scale(a, i * nb + b);
    const std::uint8_t* codes = a.codes + i * row_bytes;
    if (m == 1) {
      y[i] = a.four_bit ? Row<true>(tab, codes, xs, s.data(), nb, a.block)
                        : Row<false>(tab, codes, xs, s.data(), nb, a.block);
      continue;
    }
    for (std::size_t j = 0; j < m * 32; j += kM) hn::StoreU(hn::Zero(df), df, accs.data() + j);
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t k0 = b * a.block;
      for (std::size_t e = 0; e < a.block; e += 32) {
        VF8 v[kU];
        if (a.four_bit) {
          DecodeGroup(tab, codes + (k0 + e) / 2, v);
        } else {
          Decode8Group(codes + k0 + e, v);
        }
        for (std::size_t u = 0; u < kU; ++u) hn::StoreU(v[u], df, vals.data() + e + u * kM);
      }
      const auto vs = hn::Set(df, s[b]);
      for (std::size_t c = 0; c < m; ++c) {
        const float* xc = xs + c * a.cols + k0;
        float* acc = accs.data() + c * 32;
        VF8 q[kU], v[kU];
        for (std::size_t u = 0; u < kU; ++u) v[u] = hn::LoadU(df, vals.data() + u * kM);
        Accumulate<true>(q, v, xc);
        for (std::size_t k = 32; k < a.block; k += 32) {
          for (std::size_t u = 0; u < kU; ++u) v[u] = hn::LoadU(df, vals.data() + k + u * kM);
          Accumulate<false>(q, v, xc + k);
        }
        for (std::size_t u = 0; u < kU; ++u) {
          hn::StoreU(hn::Add(hn::LoadU(df, acc + u * kM), hn::Mul(vs, q[u])), df, acc + u * kM);
        }
      }
    }
    for (std::size_t c = 0; c < m; ++c) {
      VF8 acc[kU];
      for (std::size_t u = 0; u < kU; ++u) acc[u] = hn::LoadU(df, accs.data() + c * 32 + u * kM);
      y[c * a.rows + i] = a.four_bit ? Finish4(acc) : Finish8(acc);
    }
  }
#endif
}

#undef LOWPREC_LOWBIT_SIMD

}  // namespace lowbit_kernels

// Exported entry points (names unique across lowprec's kernel files).
HWY_MAYBE_UNUSED static void QuantCodebook16Quantize(const float* x, std::size_t n,
                                                     std::size_t block,
                                                     const ::lowprec::quant::codebook& cb,
                                                     std::uint8_t* packed, float* absmax) {
  lowbit_kernels::Quantize16(x, n, block, cb, packed, absmax);
}
HWY_MAYBE_UNUSED static void QuantCodebook16Dequantize(const std::uint8_t* packed,
                                                       const float* absmax, std::size_t n,
                                                       std::size_t block,
                                                       const ::lowprec::quant::codebook& cb,
                                                       float* out) {
  lowbit_kernels::Dequantize16(packed, absmax, n, block, cb, out);
}
HWY_MAYBE_UNUSED static void QuantFusedMatMat(const ::lowprec::quant::detail::fused_args& a,
                                              const float* x, std::size_t m, float* y) {
  lowbit_kernels::FusedMatMat(a, x, m, y);
}

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif  // per-target guard
