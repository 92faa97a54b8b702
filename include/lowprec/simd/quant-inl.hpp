// Per-target Highway kernels behind lowprec::quant's block quantizers: absmax (absmax.hpp)
// int8, int4, fp8_e4m3fn and fp8_e5m2 quantize and dequantize; affine (affine.hpp) uint8
// and uint4 finite min/max, encode and decode. Included once per SIMD target by
// detail/simd.hpp; users include lowprec/quant/absmax.hpp or affine.hpp.
//
// Invariant: every output byte and float equals the scalar definition in quant/blocks.hpp
// and quant/codes.hpp, on every target, for every input. How each step stays exact:
//   step             scalar definition                 kernel
//   block absmax     max of finite |x|                 integer max of |x|'s bits: the
//                                                      order of non-negative floats, and
//                                                      any lane >= 0x7F800000 flags NaN/Inf
//   NaN/Inf block    (codes.hpp rules)                 the whole block goes to the scalar
//                                                      definition (rare; keeps lanes simple)
//   scale, 1/scale   absmax_scale, inverse_scale       the same IEEE divisions, N blocks at
//                                                      a time (QuantizeBlocksChunked)
//   t = x * (1/s)    one float multiply                hn::Mul (IEEE, same rounding)
//   nearest even     clamp to +-qmax, then magic add   AVX-512: vcvtps2dq {rn-sae} (the
//                                                      mode in the instruction); other x86:
//                                                      roundps; elsewhere the clamp and the
//                                                      magic add (BiasedRound)
//   code bits        two's complement of q             AVX-512: saturating packs + one dword
//                                                      permute; elsewhere low bits of
//                                                      r + 1.5 * 2^23, four vectors narrowed
//                                                      by ConcatEven (RoundToBytes4)
//   value            float(q) * scale                  PromoteTo, ConvertTo, hn::Mul
// In a finite block |t| <= 127 (1 + 2^-22), so skipping the clamp on x86 changes no code.
// Contraction: no multiply feeds an add except through a clamp or a round, and GCC is told
// not to contract in this file. Tails shorter than a vector use the scalar definition.
// Cost per 32-element int8 block on AVX2 (8 lanes): absmax pass 4 loads, 4 and, 3 max and
// a 6-op lane reduction; code pass 4 loads + multiplies, 4 rounds, 4 adds, 3 ConcatEven
// (about 12 shuffles and masks) and one 32-byte store; plus 2 divisions per 8 blocks.
// On AVX-512 (16 lanes) with block 32: absmax 2 loads + and, 1 max, plus 47 ops per 16
// blocks for their transposing reduction; codes for 2 blocks at once (encode_pair): 4
// loads + multiplies, 4 conversions, 3 packs, 1 permute, one 64-byte store.
//
// fp8 (e4m3fn, e5m2) absmax: the same block pass and scales (QuantizeBlocksChunked, NaN/Inf
// blocks to the scalar definition); codes are convert-inl.hpp's EncodeF32 of t = x * inv
// with nearest-even rounding and saturating overflow (narrow_consts of exactly
// small_float::from(t, nearest_even, saturate), the scalar definition); values are
// DecodeToF32 (exact) times the scale. Both are held equal to small_float by the convert
// tests; this file adds nothing to the rounding.
//
// affine (uint8, uint4), the scalar definition in codes.hpp / affine.hpp:
//   step             scalar definition                 kernel
//   block min / max  finite_minmax, then min(m, 0),    min / max of the lanes with NaN and
//                    max(M, 0) in affine_qparams       Inf replaced by 0: exactly min(m, 0)
//                                                      and max(M, 0) (also with no finite
//                                                      element: both 0, as finite_minmax)
//   qparams          affine_qparams (scalar)           its float operations, N blocks at a
//                                                      time (IEEE divisions; the overflow
//                                                      alternative selected per lane; the
//                                                      same magic add), AffineQparamsBlocks
//   NaN              code zp                           t = 0 where t != t (inv is finite
//                                                      and > 0, so only NaN x gives NaN t)
//   +-Inf, finite    clamp(t, qmin-zp-1, qmax-zp+1),   clamp(t, qmin-zp, qmax-zp), round,
//                    round, + zp, clamp(qmin, qmax)    + zp: the same integer (rounding is
//                                                      monotone and the bounds are integers)
//   nearest even     magic add                         x86: roundps, then + (1.5*2^23 + zp),
//                                                      exact; elsewhere (t + 1.5*2^23): the
//                                                      add rounds; then + zp, exact. (A tie
//                                                      rounds to the even integer of t, not
//                                                      of zp + t, as PyTorch.)
//   value            float(q - zp) * scale             int32 q - zp, ConvertTo, hn::Mul
// A block whose 1 / scale is not finite (a given scale below 2^-128) runs the scalar
// definition. uint4 packs code pairs as int4 does; blocks must start on a byte (even
// block sizes; affine.hpp runs odd ones on the scalar definition).
//
// EMU128 (clang without -m flags) runs the scalar definition for fp8, as convert-inl.hpp
// does: EncodeF32 emulated with arrays is no faster, and under ASan/UBSan it compiles for
// minutes. g++'s 1-lane SCALAR target runs the fp8 kernels (without the 4-vector
// narrowing); it has no uint4 vector path (one lane cannot hold a code pair).

// ---- Target-independent part (normal include guard) ----------------------------------
#ifndef LOWPREC_SIMD_QUANT_INL_COMMON_
#define LOWPREC_SIMD_QUANT_INL_COMMON_

#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowprec/fp8.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/quant/affine_qparams.hpp"
#include "lowprec/quant/blocks.hpp"
#include "lowprec/quant/codes.hpp"

#endif  // LOWPREC_SIMD_QUANT_INL_COMMON_

// ---- Per-target part (toggled by foreach_target.h) ------------------------------------
#if defined(LOWPREC_SIMD_QUANT_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_QUANT_INL_H_TARGET
#undef LOWPREC_SIMD_QUANT_INL_H_TARGET
#else
#define LOWPREC_SIMD_QUANT_INL_H_TARGET
#endif

#include <hwy/highway.h>

// EncodeF32 / DecodeToF32 (fp8). kernels-inl.hpp includes it first; re-including it for
// the same target is a no-op (per-target toggle), so this only documents the dependency.
#include "lowprec/simd/convert-inl.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace quant_kernels {

namespace hn = hwy::HWY_NAMESPACE;
using ::lowprec::quant::code_format;

// At most 16 lanes: the chunk buffers below hold kChunkBlocks (a multiple of 16) entries.
using DF = hn::CappedTag<float, 16>;
using DI = hn::RebindToSigned<DF>;

// Nearest integer, ties to even, of t (|t| <= qmax * (1 + 2^-22)) as int32 lanes. Adding
// 1.5 * 2^23 to an integral float r (|r| < 2^22) is exact and leaves r + 0x4B400000 in
// the bits, so one integer subtraction converts (no float->int conversion, whose
// overflow fix-up costs four instructions per vector on x86).
//   x86 SSSE3..AVX3  r = hn::Round(t): roundps (SSE4+) or Highway's exact 2^23 add (SSSE3)
//   other targets    r = (clamp(t, +-qmax) + 1.5 * 2^23): the add rounds; the clamp keeps
//                    it from being fused with the multiply (and Highway's SCALAR/EMU128
//                    Round adds 0.5, which is not exact at 0.5 - 2^-25)
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
#define LOWPREC_QUANT_HW_ROUND 1
#else
#define LOWPREC_QUANT_HW_ROUND 0
#endif

// r + 1.5 * 2^23 as bits, r the nearest integer of t: the low 8 (16) bits are r as a
// two's-complement int8 (int16).
HWY_INLINE hn::Vec<DI> BiasedRound(DF df, hn::Vec<DF> t, float qmax) {
  const auto magic = hn::Set(df, 12582912.0f);  // 1.5 * 2^23
#if LOWPREC_QUANT_HW_ROUND
  (void)qmax;
  return hn::BitCast(DI(), hn::Add(hn::Round(t), magic));
#else
  const auto q = hn::Set(df, qmax);
  return hn::BitCast(DI(), hn::Add(hn::Min(hn::Max(t, hn::Neg(q)), q), magic));
#endif
}

HWY_INLINE hn::Vec<DI> RoundToInt(DF df, hn::Vec<DF> t, float qmax) {
  const DI di;
  return hn::Sub(BiasedRound(df, t, qmax), hn::Set(di, 0x4B400000));
}

#if HWY_TARGET != HWY_SCALAR
// Four vectors of biased codes (4N lanes in order) narrowed to their low bytes: the even
// 16-bit halves, then the even bytes of those (little-endian lanes), all in lane order.
HWY_INLINE hn::Vec<hn::Repartition<std::int8_t, DF>> LowBytes4(hn::Vec<DI> b0, hn::Vec<DI> b1,
                                                                hn::Vec<DI> b2, hn::Vec<DI> b3) {
  const hn::Repartition<std::int16_t, DF> d16;
  const hn::Repartition<std::int8_t, DF> d8;
  const auto h01 = hn::ConcatEven(d16, hn::BitCast(d16, b1), hn::BitCast(d16, b0));
  const auto h23 = hn::ConcatEven(d16, hn::BitCast(d16, b3), hn::BitCast(d16, b2));
  return hn::ConcatEven(d8, hn::BitCast(d8, h23), hn::BitCast(d8, h01));
}

// The nearest integers, ties to even, of t0..t3 (|t| <= qmax (1 + 2^-22), qmax <= 127) as
// 4N int8 lanes in order. AVX-512: a float->int32 conversion with the rounding mode in the
// instruction (nearest-even whatever MXCSR says; exact: |t| < 2^22), two saturating packs
// to int16 and one to int8 (which keep every value: |q| <= 127), then one dword permute
// to undo the packs' per-128-bit-block interleave: 8 ops for 4 vectors instead of 13
// (round, bias add, ConcatEven). Elsewhere BiasedRound and LowBytes4.
HWY_INLINE hn::Vec<hn::Repartition<std::int8_t, DF>> RoundToBytes4(DF df, hn::Vec<DF> t0,
                                                                   hn::Vec<DF> t1,
                                                                   hn::Vec<DF> t2,
                                                                   hn::Vec<DF> t3, float qmax) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  (void)df;
  (void)qmax;
  constexpr int kMode = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512i q0 = _mm512_cvt_roundps_epi32(t0.raw, kMode);
  const __m512i q1 = _mm512_cvt_roundps_epi32(t1.raw, kMode);
  const __m512i q2 = _mm512_cvt_roundps_epi32(t2.raw, kMode);
  const __m512i q3 = _mm512_cvt_roundps_epi32(t3.raw, kMode);
  // 128-bit block c of the packed bytes holds dwords [q0 c, q1 c, q2 c, q3 c] (4 codes
  // each); output dword 4 k + c is q_k's chunk c, i.e. input dword 4 c + k.
  const __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(q0, q1), _mm512_packs_epi32(q2, q3));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return hn::Vec<hn::Repartition<std::int8_t, DF>>{_mm512_permutexvar_epi32(order, bytes)};
#else
  return LowBytes4(BiasedRound(df, t0, qmax), BiasedRound(df, t1, qmax), BiasedRound(df, t2, qmax),
                   BiasedRound(df, t3, qmax));
#endif
}
#endif

// Bits of the largest |x[i]|, i < len, as an int32; >= 0x7F800000 when any is NaN/Inf.
HWY_INLINE std::int32_t AbsBitsMax(const float* HWY_RESTRICT p, std::size_t len) {
  const DF df;
  const DI di;
  const std::size_t N = hn::Lanes(df);
  auto m0 = hn::Zero(di);
  auto m1 = hn::Zero(di);
  std::size_t i = 0;
  for (; i + 2 * N <= len; i += 2 * N) {
    m0 = hn::Max(m0, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i))));
    m1 = hn::Max(m1, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i + N))));
  }
  if (i + N <= len) {
    m0 = hn::Max(m0, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i))));
    i += N;
  }
  std::int32_t m = hn::GetLane(hn::MaxOfLanes(di, hn::Max(m0, m1)));
  for (; i < len; ++i) {
    std::uint32_t u = 0;
    std::memcpy(&u, p + i, 4);
    const auto a = static_cast<std::int32_t>(u & 0x7FFFFFFFu);
    m = a > m ? a : m;
  }
  return m;
}

// Lane-wise maximum of |x|'s bits over the vectors of one block (block % N == 0): an
// integer max, so NaN/Inf (bits >= 0x7F800000) survive it.
HWY_INLINE hn::Vec<DI> BlockBitsMax(const float* HWY_RESTRICT p, std::size_t block) {
  const DF df;
  const DI di;
  const std::size_t N = hn::Lanes(df);
  auto m0 = hn::BitCast(di, hn::Abs(hn::LoadU(df, p)));
  if (block == N) return m0;
  auto m1 = hn::BitCast(di, hn::Abs(hn::LoadU(df, p + N)));
  std::size_t i = 2 * N;
  for (; i + 2 * N <= block; i += 2 * N) {
    m0 = hn::Max(m0, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i))));
    m1 = hn::Max(m1, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i + N))));
  }
  if (i < block) m0 = hn::Max(m0, hn::BitCast(di, hn::Abs(hn::LoadU(df, p + i))));
  return hn::Max(m0, m1);
}

// bits[k] = AbsBitsMax(x + k * block, block) for k < count (all blocks full). With
// 4 or 8 lanes and block % N == 0, N blocks at a time: each block's vector maximum, then
// one transposing reduction for the N blocks (interleave 32-bit, then 64-bit lanes within
// 128-bit blocks; for 8 lanes a last max of the two halves) instead of N cross-lane
// reductions and scalar moves: 21 instead of about 64 ops per 8 blocks on AVX2.
HWY_INLINE void AbsBitsMaxBlocks(const float* HWY_RESTRICT x, std::size_t count,
                                 std::size_t block, std::int32_t* HWY_RESTRICT bits) {
  std::size_t k = 0;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (hn::MaxLanes(DF()) == 4 || hn::MaxLanes(DF()) == 8) {
    const DF df;
    const DI di;
    const hn::Repartition<std::int64_t, DI> d64;
    const std::size_t N = hn::Lanes(df);
    if (block % N == 0) {
      for (; k + N <= count; k += N) {
        hn::Vec<DI> m[8];
        for (std::size_t j = 0; j < N; ++j) {
          m[j] = BlockBitsMax(x + (k + j) * block, block);
        }
        hn::Vec<DI> w[4];
        for (std::size_t j = 0; j < N / 2; ++j) {
          w[j] = hn::Max(hn::InterleaveLower(di, m[2 * j], m[2 * j + 1]),
                         hn::InterleaveUpper(di, m[2 * j], m[2 * j + 1]));
        }
        hn::Vec<DI> z[2];
        for (std::size_t j = 0; j < N / 4; ++j) {
          const auto a = hn::BitCast(d64, w[2 * j]), b = hn::BitCast(d64, w[2 * j + 1]);
          z[j] = hn::Max(hn::BitCast(di, hn::InterleaveLower(d64, a, b)),
                         hn::BitCast(di, hn::InterleaveUpper(d64, a, b)));
        }
        if constexpr (hn::MaxLanes(DF()) == 8) {
          z[0] = hn::Max(hn::ConcatLowerLower(di, z[1], z[0]), hn::ConcatUpperUpper(di, z[1], z[0]));
        }
        hn::StoreU(z[0], di, bits + k);
      }
    }
  }
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  // 16 lanes: the same two interleave steps leave z[j] holding, in each 128-bit block c,
  // the maxima of blocks 4j..4j+3 over the lanes of c. Folding 256-bit halves pairs z0
  // with z2 and z1 with z3 (y0 = [z0 c0|c2, z0 c1|c3, z2 c0|c2, z2 c1|c3]), and swapping
  // 128-bit blocks brings each block's two remaining partials together in lane order:
  // 16 blocks in 47 ops instead of 16 cross-lane reductions and scalar moves.
  if constexpr (hn::MaxLanes(DF()) == 16) {
    const DI di;
    const hn::Repartition<std::int64_t, DI> d64;
    constexpr std::size_t N = 16;
    if (block % N == 0) {
      for (; k + N <= count; k += N) {
        hn::Vec<DI> m[16];
        if (block == 2 * N) {  // block 32: the loop below with a constant block
          for (std::size_t j = 0; j < N; ++j) m[j] = BlockBitsMax(x + (k + j) * 2 * N, 2 * N);
        } else {
          for (std::size_t j = 0; j < N; ++j) m[j] = BlockBitsMax(x + (k + j) * block, block);
        }
        hn::Vec<DI> w[8];
        for (std::size_t j = 0; j < 8; ++j) {
          w[j] = hn::Max(hn::InterleaveLower(di, m[2 * j], m[2 * j + 1]),
                         hn::InterleaveUpper(di, m[2 * j], m[2 * j + 1]));
        }
        hn::Vec<DI> z[4];
        for (std::size_t j = 0; j < 4; ++j) {
          const auto a = hn::BitCast(d64, w[2 * j]), b = hn::BitCast(d64, w[2 * j + 1]);
          z[j] = hn::Max(hn::BitCast(di, hn::InterleaveLower(d64, a, b)),
                         hn::BitCast(di, hn::InterleaveUpper(d64, a, b)));
        }
        const auto y0 =
            hn::Max(hn::ConcatLowerLower(di, z[2], z[0]), hn::ConcatUpperUpper(di, z[2], z[0]));
        const auto y1 =
            hn::Max(hn::ConcatLowerLower(di, z[3], z[1]), hn::ConcatUpperUpper(di, z[3], z[1]));
        const auto u = hn::OddEvenBlocks(hn::SwapAdjacentBlocks(y1), y0);
        const auto v = hn::OddEvenBlocks(y1, hn::SwapAdjacentBlocks(y0));
        hn::StoreU(hn::Max(u, v), di, bits + k);
      }
    }
  }
#endif
#endif
  for (; k < count; ++k) bits[k] = AbsBitsMax(x + k * block, block);
}

// Scales and reciprocals of the blocks of a chunk, in two passes so that the divisions
// are vector divisions (IEEE: the same correctly rounded quotients as the scalar ones)
// instead of two dependent scalar divisions per block:
//   1. bits[k] = AbsBitsMax of block k
//   2. scale = absmax_scale(amax) = amax > 0 ? max(amax / fmax, FLT_MIN) : 0, and
//      inv = inverse_scale(scale) = scale != 0 ? 1 / scale : 0, N blocks at a time.
// Blocks holding NaN/Inf (bits >= 0x7F800000) get garbage here and are redone by the
// scalar definition.
constexpr std::size_t kChunkBlocks = 64;

// No pair encoder: QuantizeBlocksChunked encodes one block at a time.
struct NoPairs {};

// encode(p, len, inv, start) encodes one block; encode_pair(p, inv0, inv1, start), when
// given, encodes two adjacent full finite blocks of 2N elements (4 vectors) at once, which
// keeps the 4-vector narrowing for blocks of 2N (block 32 on AVX-512, 16 on AVX2).
template <code_format F, class EncodeBlock, class EncodePair = NoPairs>
HWY_INLINE void QuantizeBlocksChunked(const float* HWY_RESTRICT x, std::size_t n,
                                      std::size_t block, std::uint8_t* HWY_RESTRICT codes,
                                      float* HWY_RESTRICT scales, const EncodeBlock& encode,
                                      const EncodePair& encode_pair = {}) {
  constexpr bool kPairs = !std::is_same<EncodePair, NoPairs>::value;
  const DF df;
  const DI di;
  const std::size_t N = hn::Lanes(df);
  HWY_ALIGN std::int32_t bits[kChunkBlocks];
  HWY_ALIGN float scale_buf[kChunkBlocks];
  HWY_ALIGN float inv_buf[kChunkBlocks];
  const auto fmax = hn::Set(df, ::lowprec::quant::info(F).max_value);
  const auto one = hn::Set(df, 1.0f);
  const auto fmin = hn::Set(df, FLT_MIN);
  const std::size_t total = ::lowprec::quant::block_count(n, block);
  const bool pairs = kPairs && block == 2 * N;
  (void)pairs;
  (void)encode_pair;
  for (std::size_t b0 = 0; b0 < total; b0 += kChunkBlocks) {
    const std::size_t count = total - b0 < kChunkBlocks ? total - b0 : kChunkBlocks;
    const std::size_t full = b0 + count < total || n % block == 0 ? count : count - 1;
    AbsBitsMaxBlocks(x + b0 * block, full, block, bits);
    if (full < count) {
      const std::size_t start = (b0 + full) * block;
      bits[full] = AbsBitsMax(x + start, n - start);
    }
    for (std::size_t k = count; k < hwy::RoundUpTo(count, N); ++k) bits[k] = 0;
    for (std::size_t k = 0; k < count; k += N) {
      const auto amax = hn::BitCast(df, hn::Load(di, bits + k));
      const auto scale =
          hn::IfThenElseZero(hn::Gt(amax, hn::Zero(df)), hn::Max(hn::Div(amax, fmax), fmin));
      const auto inv = hn::IfThenElseZero(hn::Gt(scale, hn::Zero(df)), hn::Div(one, scale));
      hn::Store(scale, df, scale_buf + k);
      hn::Store(inv, df, inv_buf + k);
    }
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t b = b0 + k, start = b * block;
      if constexpr (kPairs) {
        if (pairs && k + 1 < full && bits[k] < 0x7F800000 && bits[k + 1] < 0x7F800000) {
          scales[b] = scale_buf[k];
          scales[b + 1] = scale_buf[k + 1];
          encode_pair(x + start, inv_buf[k], inv_buf[k + 1], start);
          ++k;
          continue;
        }
      }
      const std::size_t len = n - start < block ? n - start : block;
      if (bits[k] >= 0x7F800000) {
        ::lowprec::quant::detail::quantize_absmax_blocks_scalar<F>(
            x + start, len, len, codes + ::lowprec::quant::code_bytes(F, start), scales + b);
        continue;
      }
      scales[b] = scale_buf[k];
      encode(x + start, len, inv_buf[k], start);
    }
  }
}

// ---- int8 -------------------------------------------------------------------------------

HWY_MAYBE_UNUSED static void QuantizeInt8Blocks(const float* HWY_RESTRICT x, std::size_t n,
                                                std::size_t block, std::uint8_t* HWY_RESTRICT codes,
                                                float* HWY_RESTRICT scales) {
  constexpr code_format F = code_format::int8;
  const DF df;
  const hn::Rebind<std::int8_t, DF> d8;
  const std::size_t N = hn::Lanes(df);
  const auto encode = [&](const float* HWY_RESTRICT p, std::size_t len, float inv,
                          std::size_t start) {
    const auto vinv = hn::Set(df, inv);
    auto* HWY_RESTRICT out = reinterpret_cast<std::int8_t*>(codes + start);
    std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
    const hn::Repartition<std::int8_t, DF> d8x4;  // 4N lanes
    for (; i + 4 * N <= len; i += 4 * N) {
      hn::StoreU(RoundToBytes4(df, hn::Mul(hn::LoadU(df, p + i), vinv),
                               hn::Mul(hn::LoadU(df, p + i + N), vinv),
                               hn::Mul(hn::LoadU(df, p + i + 2 * N), vinv),
                               hn::Mul(hn::LoadU(df, p + i + 3 * N), vinv), 127.0f),
                 d8x4, out + i);
    }
#endif
    for (; i + N <= len; i += N) {
      const auto q = RoundToInt(df, hn::Mul(hn::LoadU(df, p + i), vinv), 127.0f);
      hn::StoreU(hn::DemoteTo(d8, q), d8, out + i);
    }
    for (; i < len; ++i) codes[start + i] = ::lowprec::quant::encode_absmax<F>(p[i], inv);
  };
#if HWY_TARGET != HWY_SCALAR
  const auto encode_pair = [&](const float* HWY_RESTRICT p, float inv0, float inv1,
                               std::size_t start) {
    const hn::Repartition<std::int8_t, DF> d8x4;  // 4N lanes
    const auto v0 = hn::Set(df, inv0), v1 = hn::Set(df, inv1);
    hn::StoreU(RoundToBytes4(df, hn::Mul(hn::LoadU(df, p), v0), hn::Mul(hn::LoadU(df, p + N), v0),
                             hn::Mul(hn::LoadU(df, p + 2 * N), v1),
                             hn::Mul(hn::LoadU(df, p + 3 * N), v1), 127.0f),
               d8x4, reinterpret_cast<std::int8_t*>(codes + start));
  };
  QuantizeBlocksChunked<F>(x, n, block, codes, scales, encode, encode_pair);
#else
  QuantizeBlocksChunked<F>(x, n, block, codes, scales, encode);
#endif
}

HWY_MAYBE_UNUSED static void DequantizeInt8Blocks(const std::uint8_t* HWY_RESTRICT codes,
                                                  const float* HWY_RESTRICT scales, std::size_t n,
                                                  std::size_t block, float* HWY_RESTRICT out) {
  constexpr code_format F = code_format::int8;
  const DF df;
  const DI di;
  const hn::Rebind<std::int8_t, DF> d8;
  const std::size_t N = hn::Lanes(df);
  const auto* HWY_RESTRICT q8 = reinterpret_cast<const std::int8_t*>(codes);
  const auto decode = [&](std::size_t i, hn::Vec<DF> vs) {
    hn::StoreU(hn::Mul(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, q8 + i))), vs), df,
               out + i);
  };
  std::size_t b = 0, start = 0;
  if (block == 2 * N) {
    // Blocks of two vectors (32 on AVX-512, 16 on AVX2): two blocks per iteration, no
    // inner loop; the general loop below takes the last (or a partial) block.
    for (; start + 2 * block <= n; b += 2, start += 2 * block) {
      const auto v0 = hn::Set(df, scales[b]), v1 = hn::Set(df, scales[b + 1]);
      decode(start, v0);
      decode(start + N, v0);
      decode(start + 2 * N, v1);
      decode(start + 3 * N, v1);
    }
  }
  for (; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float scale = scales[b];
    const auto vs = hn::Set(df, scale);
    std::size_t i = start;
    for (; i + N <= start + len; i += N) decode(i, vs);
    for (; i < start + len; ++i) out[i] = ::lowprec::quant::decode_absmax<F>(codes[i], scale);
  }
}

// ---- int4 (block even: every block starts on a byte) ----------------------------------------

HWY_MAYBE_UNUSED static void QuantizeInt4Blocks(const float* HWY_RESTRICT x, std::size_t n,
                                                std::size_t block, std::uint8_t* HWY_RESTRICT packed,
                                                float* HWY_RESTRICT scales) {
  constexpr code_format F = code_format::int4;
#if HWY_TARGET == HWY_SCALAR
  // One lane cannot hold a pair of codes: the scalar definition is this target's kernel.
  ::lowprec::quant::detail::quantize_absmax_blocks_scalar<F>(x, n, block, packed, scales);
#else
  const DF df;
  const hn::Rebind<std::int16_t, DF> d16;                 // N lanes
  const hn::Repartition<std::uint32_t, decltype(d16)> dp;  // N/2 lanes: one code pair each
  const hn::Rebind<std::uint8_t, decltype(dp)> d8;         // N/2 lanes: one byte each
  const hn::RebindToSigned<decltype(dp)> dpi;
  const hn::Repartition<std::uint16_t, DF> dw;    // 2N lanes: one code pair each
  const hn::RebindToSigned<decltype(dw)> dwi;
  const hn::Rebind<std::uint8_t, decltype(dw)> dwb;  // 2N lanes: one byte each
  const std::size_t N = hn::Lanes(df);
  const auto lo_mask = hn::Set(dp, 0x0Fu);
  const auto hi_mask = hn::Set(dp, 0xF0u);
  // 4N codes in order as int8 (LowBytes4), then byte k = low nibble of code 2k | low
  // nibble of code 2k+1 << 4 in 16-bit lanes (little-endian: code 2k in the low byte).
  // Vectors 0, 1 are scaled by v01 and 2, 3 by v23 (one block, or two blocks of 2N).
  const auto encode4 = [&](const float* HWY_RESTRICT p, hn::Vec<DF> v01, hn::Vec<DF> v23,
                           std::uint8_t* HWY_RESTRICT out) {
    const auto u = hn::BitCast(
        dw, RoundToBytes4(df, hn::Mul(hn::LoadU(df, p), v01), hn::Mul(hn::LoadU(df, p + N), v01),
                          hn::Mul(hn::LoadU(df, p + 2 * N), v23),
                          hn::Mul(hn::LoadU(df, p + 3 * N), v23), 7.0f));
    const auto byte = hn::Or(hn::And(u, hn::Set(dw, 0x000Fu)),
                             hn::And(hn::ShiftRight<4>(u), hn::Set(dw, 0x00F0u)));
    hn::StoreU(hn::DemoteTo(dwb, hn::BitCast(dwi, byte)), dwb, out);
  };
  const auto encode = [&](const float* HWY_RESTRICT p, std::size_t len, float inv,
                          std::size_t start) {
    const auto vinv = hn::Set(df, inv);
    std::size_t i = 0;
    for (; i + 4 * N <= len; i += 4 * N) encode4(p + i, vinv, vinv, packed + (start + i) / 2);
    for (; i + N <= len; i += N) {
      const auto q = RoundToInt(df, hn::Mul(hn::LoadU(df, p + i), vinv), 7.0f);
      // Two int16 codes per uint32 lane (code 2k in the low half), as above.
      const auto pair = hn::BitCast(dp, hn::DemoteTo(d16, q));
      const auto byte = hn::Or(hn::And(pair, lo_mask), hn::And(hn::ShiftRight<12>(pair), hi_mask));
      hn::StoreU(hn::DemoteTo(d8, hn::BitCast(dpi, byte)), d8, packed + (start + i) / 2);
    }
    for (std::size_t j = start + i; j < start + len; ++j) {
      ::lowprec::quant::detail::put_code<F>(packed, j, ::lowprec::quant::encode_absmax<F>(x[j], inv));
    }
  };
  const auto encode_pair = [&](const float* HWY_RESTRICT p, float inv0, float inv1,
                               std::size_t start) {
    encode4(p, hn::Set(df, inv0), hn::Set(df, inv1), packed + start / 2);
  };
  QuantizeBlocksChunked<F>(x, n, block, packed, scales, encode, encode_pair);
#endif
}

HWY_MAYBE_UNUSED static void DequantizeInt4Blocks(const std::uint8_t* HWY_RESTRICT packed,
                                                  const float* HWY_RESTRICT scales, std::size_t n,
                                                  std::size_t block, float* HWY_RESTRICT out) {
  constexpr code_format F = code_format::int4;
#if HWY_TARGET == HWY_SCALAR
  ::lowprec::quant::detail::dequantize_absmax_blocks_scalar<F>(packed, scales, n, block, out);
#else
  const DF df;
  const DI di;
  const hn::Rebind<std::int16_t, DF> d16;                 // N lanes
  const hn::Repartition<std::uint32_t, decltype(d16)> dp;  // N/2 lanes
  const hn::Rebind<std::uint8_t, decltype(dp)> d8;         // N/2 lanes
  const std::size_t N = hn::Lanes(df);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float scale = scales[b];
    const auto vs = hn::Set(df, scale);
    std::size_t i = 0;
    for (; i + N <= len; i += N) {
      // Byte k -> uint32 lane (hi << 16 | lo), shifted so each nibble tops an int16 lane,
      // then an arithmetic shift sign-extends it: int16 lanes = codes 2k, 2k+1.
      const auto bytes = hn::PromoteTo(dp, hn::LoadU(d8, packed + (start + i) / 2));
      const auto spread = hn::Or(hn::ShiftLeft<12>(hn::And(bytes, hn::Set(dp, 0x0Fu))),
                                 hn::ShiftLeft<24>(hn::And(bytes, hn::Set(dp, 0xF0u))));
      const auto codes16 = hn::ShiftRight<12>(hn::BitCast(d16, spread));
      const auto v = hn::ConvertTo(df, hn::PromoteTo(di, codes16));
      hn::StoreU(hn::Mul(v, vs), df, out + start + i);
    }
    for (std::size_t j = start + i; j < start + len; ++j) {
      out[j] = ::lowprec::quant::decode_absmax<F>(::lowprec::quant::detail::get_code<F>(packed, j),
                                                  scale);
    }
  }
#endif
}

// ---- fp8 (e4m3fn, e5m2) ------------------------------------------------------------------

template <code_format F>
using Fp8FormatOf = std::conditional_t<F == code_format::fp8_e4m3fn, ::lowprec::fp8_e4m3fn_format,
                                       ::lowprec::fp8_e5m2_format>;

template <code_format F>
HWY_MAYBE_UNUSED static void QuantizeFp8Blocks(const float* HWY_RESTRICT x, std::size_t n,
                                        std::size_t block, std::uint8_t* HWY_RESTRICT codes,
                                        float* HWY_RESTRICT scales) {
#if HWY_TARGET == HWY_EMU128
  ::lowprec::quant::detail::quantize_absmax_blocks_scalar<F>(x, n, block, codes, scales);
#else
  using Format = Fp8FormatOf<F>;
  const DF df;
  const DI di;
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<std::uint8_t, DF> d8;
  const std::size_t N = hn::Lanes(df);
  // small_float::from(t, nearest_even, saturate): the scalar definition's conversion.
  const ::lowprec::detail::narrow_consts c =
      ::lowprec::detail::make_narrow_consts<Format>(::lowprec::rounding::nearest_even,
                                                    ::lowprec::overflow::saturate);
  QuantizeBlocksChunked<F>(x, n, block, codes, scales,
                           [&](const float* HWY_RESTRICT p, std::size_t len, float inv,
                               std::size_t start) {
    // Finite block: |t| <= format max * (1 + 2^-22), so no NaN/Inf reaches EncodeF32.
    const auto vinv = hn::Set(df, inv);
    const auto rnd = hn::Zero(du);
    std::uint8_t* HWY_RESTRICT out = codes + start;
    const auto encode = [&](std::size_t i) {
      return hn::BitCast(di, convert_kernels::EncodeF32<Format>(
                                 du, hn::BitCast(du, hn::Mul(hn::LoadU(df, p + i), vinv)), rnd, c));
    };
    std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
    const hn::Repartition<std::int8_t, DF> d8x4;  // 4N lanes
    for (; i + 4 * N <= len; i += 4 * N) {
      const auto c0 = encode(i), c1 = encode(i + N), c2 = encode(i + 2 * N), c3 = encode(i + 3 * N);
      hn::StoreU(LowBytes4(c0, c1, c2, c3), d8x4, reinterpret_cast<std::int8_t*>(out + i));
    }
#endif
    for (; i + N <= len; i += N) hn::StoreU(hn::DemoteTo(d8, encode(i)), d8, out + i);
    for (; i < len; ++i) out[i] = ::lowprec::quant::encode_absmax<F>(p[i], inv);
  });
#endif
}

template <code_format F>
HWY_MAYBE_UNUSED static void DequantizeFp8Blocks(const std::uint8_t* HWY_RESTRICT codes,
                                          const float* HWY_RESTRICT scales, std::size_t n,
                                          std::size_t block, float* HWY_RESTRICT out) {
#if HWY_TARGET == HWY_EMU128
  ::lowprec::quant::detail::dequantize_absmax_blocks_scalar<F>(codes, scales, n, block, out);
#else
  using Format = Fp8FormatOf<F>;
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<std::uint8_t, DF> d8;
  const std::size_t N = hn::Lanes(df);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = n - start < block ? n : start + block;
    const float scale = scales[b];
    const auto vs = hn::Set(df, scale);
    std::size_t i = start;
    for (; i + N <= end; i += N) {
      const auto v = convert_kernels::DecodeToF32<Format>(du, hn::PromoteTo(du, hn::LoadU(d8, codes + i)));
      hn::StoreU(hn::Mul(hn::BitCast(df, v), vs), df, out + i);
    }
    for (; i < end; ++i) out[i] = ::lowprec::quant::decode_absmax<F>(codes[i], scale);
  }
#endif
}

// ---- affine (uint8, uint4) ---------------------------------------------------------------

// lo = min(0, finite p[i]) and hi = max(0, finite p[i]) over i < len (NaN, Inf left out).
HWY_INLINE void ZeroFiniteMinMax(const float* HWY_RESTRICT p, std::size_t len, float& lo_out,
                                 float& hi_out) {
  const DF df;
  const std::size_t N = hn::Lanes(df);
  const auto big = hn::Set(df, FLT_MAX);
  auto lo0 = hn::Zero(df), lo1 = hn::Zero(df), hi0 = hn::Zero(df), hi1 = hn::Zero(df);
  std::size_t i = 0;
  for (; i + 2 * N <= len; i += 2 * N) {
    const auto v0 = hn::LoadU(df, p + i);
    const auto v1 = hn::LoadU(df, p + i + N);
    const auto f0 = hn::IfThenElseZero(hn::Le(hn::Abs(v0), big), v0);
    const auto f1 = hn::IfThenElseZero(hn::Le(hn::Abs(v1), big), v1);
    lo0 = hn::Min(lo0, f0);
    hi0 = hn::Max(hi0, f0);
    lo1 = hn::Min(lo1, f1);
    hi1 = hn::Max(hi1, f1);
  }
  if (i + N <= len) {
    const auto v0 = hn::LoadU(df, p + i);
    const auto f0 = hn::IfThenElseZero(hn::Le(hn::Abs(v0), big), v0);
    lo0 = hn::Min(lo0, f0);
    hi0 = hn::Max(hi0, f0);
    i += N;
  }
  float lo = hn::GetLane(hn::MinOfLanes(df, hn::Min(lo0, lo1)));
  float hi = hn::GetLane(hn::MaxOfLanes(df, hn::Max(hi0, hi1)));
  for (; i < len; ++i) {
    const float v = p[i];
    if (v >= -FLT_MAX && v <= FLT_MAX) {
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
  }
  lo_out = lo;
  hi_out = hi;
}

// The vector constants of one group's affine encode under (inv, zp): the clamp bounds
// qmin - zp and qmax - zp, and what turns the clamped t into the biased code (below).
struct AffineConsts {
  float inv, lo, hi, add, zp;
};
template <code_format F>
HWY_INLINE AffineConsts MakeAffineConsts(float inv, int zp) {
  constexpr int qmin = ::lowprec::quant::info(F).qmin;
  constexpr int qmax = ::lowprec::quant::info(F).qmax;
  const float z = static_cast<float>(zp);
#if LOWPREC_QUANT_HW_ROUND
  return {inv, static_cast<float>(qmin - zp), static_cast<float>(qmax - zp), 12582912.0f + z, z};
#else
  return {inv, static_cast<float>(qmin - zp), static_cast<float>(qmax - zp), 12582912.0f, z};
#endif
}

// 1.5 * 2^23 + q as bits, q = the code (0..qmax) of x under c, in the low byte: t = x *
// inv with NaN -> 0 (code zp), clamped to [qmin - zp, qmax - zp], rounded half to even.
// With a rounding instruction q = round(t) + (1.5 * 2^23 + zp), exact; else the add of
// 1.5 * 2^23 rounds t and zp is added after (exact too: the sum stays an integer).
HWY_INLINE hn::Vec<DI> AffineBiased(hn::Vec<DF> x, hn::Vec<DF> vinv, hn::Vec<DF> lo,
                                    hn::Vec<DF> hi, hn::Vec<DF> add, hn::Vec<DF> vzp) {
  const DI di;
  auto t = hn::Mul(x, vinv);
  t = hn::IfThenElseZero(hn::Eq(t, t), t);  // NaN -> 0 -> zp
  t = hn::Min(hn::Max(t, lo), hi);
#if LOWPREC_QUANT_HW_ROUND
  (void)vzp;
  return hn::BitCast(di, hn::Add(hn::Round(t), add));
#else
  return hn::BitCast(di, hn::Add(hn::Add(t, add), vzp));
#endif
}

// Codes of p[0, len) under (inv, zp) into out (4-bit: element 0 in the low nibble of
// out[0]). inv must be finite (and > 0).
template <code_format F>
HWY_INLINE void EncodeAffineRun(const float* HWY_RESTRICT p, std::size_t len, float inv, int zp,
                                std::uint8_t* HWY_RESTRICT out) {
  const DF df;
  const DI di;
  const std::size_t N = hn::Lanes(df);
  const AffineConsts c = MakeAffineConsts<F>(inv, zp);
  const auto vinv = hn::Set(df, c.inv), lo = hn::Set(df, c.lo), hi = hn::Set(df, c.hi);
  const auto add = hn::Set(df, c.add), vzp = hn::Set(df, c.zp);
  const auto biased = [&](std::size_t i) {
    return AffineBiased(hn::LoadU(df, p + i), vinv, lo, hi, add, vzp);
  };
  std::size_t i = 0;
  if constexpr (F == code_format::uint8) {
    const hn::Rebind<std::uint8_t, DF> d8;
#if HWY_TARGET != HWY_SCALAR
    const hn::Repartition<std::int8_t, DF> d8x4;  // 4N lanes
    for (; i + 4 * N <= len; i += 4 * N) {
      const auto b0 = biased(i), b1 = biased(i + N), b2 = biased(i + 2 * N), b3 = biased(i + 3 * N);
      hn::StoreU(LowBytes4(b0, b1, b2, b3), d8x4, reinterpret_cast<std::int8_t*>(out + i));
    }
#endif
    for (; i + N <= len; i += N) {
      hn::StoreU(hn::DemoteTo(d8, hn::Sub(biased(i), hn::Set(di, 0x4B400000))), d8, out + i);
    }
  } else {
#if HWY_TARGET != HWY_SCALAR  // (one lane cannot hold a pair of codes)
    const hn::Rebind<std::int16_t, DF> d16;                 // N lanes
    const hn::Repartition<std::uint32_t, decltype(d16)> dp;  // N/2 lanes: one code pair each
    const hn::Rebind<std::uint8_t, decltype(dp)> d8;         // N/2 lanes: one byte each
    const hn::RebindToSigned<decltype(dp)> dpi;
    const hn::Repartition<std::uint16_t, DF> dw;       // 2N lanes: one code pair each
    const hn::RebindToSigned<decltype(dw)> dwi;
    const hn::Rebind<std::uint8_t, decltype(dw)> dwb;  // 2N lanes: one byte each
    // As int4: byte k = code 2k | code 2k+1 << 4 (codes are 0..15: no masking of signs).
    for (; i + 4 * N <= len; i += 4 * N) {
      const auto b0 = biased(i), b1 = biased(i + N), b2 = biased(i + 2 * N), b3 = biased(i + 3 * N);
      const auto u = hn::BitCast(dw, LowBytes4(b0, b1, b2, b3));
      const auto byte = hn::Or(hn::And(u, hn::Set(dw, 0x000Fu)),
                               hn::And(hn::ShiftRight<4>(u), hn::Set(dw, 0x00F0u)));
      hn::StoreU(hn::DemoteTo(dwb, hn::BitCast(dwi, byte)), dwb, out + i / 2);
    }
    for (; i + N <= len; i += N) {
      const auto q = hn::Sub(biased(i), hn::Set(di, 0x4B400000));
      const auto pair = hn::BitCast(dp, hn::DemoteTo(d16, q));
      const auto byte = hn::Or(hn::And(pair, hn::Set(dp, 0x0Fu)),
                               hn::And(hn::ShiftRight<12>(pair), hn::Set(dp, 0xF0u)));
      hn::StoreU(hn::DemoteTo(d8, hn::BitCast(dpi, byte)), d8, out + i / 2);
    }
#endif
  }
  for (; i < len; ++i) {
    ::lowprec::quant::detail::put_code<F>(out, i, ::lowprec::quant::encode_affine<F>(p[i], inv, zp));
  }
}

// lo[k], hi[k] of block k of x[0, n) (see ZeroFiniteMinMax).
HWY_MAYBE_UNUSED static void AffineMinMaxBlocks(const float* HWY_RESTRICT x, std::size_t n,
                                                std::size_t block, float* HWY_RESTRICT lo,
                                                float* HWY_RESTRICT hi) {
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    ZeroFiniteMinMax(x + start, len, lo[b], hi[b]);
  }
}

// scales[k], zero_points[k] = affine_qparams(lo[k], hi[k], F) for k < count (finite lo,
// hi): the same float operations N groups at a time — IEEE division and subtraction are
// the same in lanes; the overflowed-range alternative is computed in every lane and taken
// where the range overflowed; nearest-even by round_half_even's own 1.5 * 2^23 add
// (|t| <= qmax - qmin) — and the rest one at a time.
template <code_format F>
HWY_INLINE void AffineQparamsBlocks(const float* HWY_RESTRICT lo, const float* HWY_RESTRICT hi,
                                    std::size_t count, float* HWY_RESTRICT scales,
                                    std::uint8_t* HWY_RESTRICT zero_points) {
  std::size_t k = 0;
#if HWY_TARGET != HWY_SCALAR
  constexpr int qmin = ::lowprec::quant::info(F).qmin;
  constexpr int qmax = ::lowprec::quant::info(F).qmax;
  const DF df;
  const DI di;
  const hn::Rebind<std::uint8_t, DF> d8;
  const std::size_t N = hn::Lanes(df);
  const auto zero = hn::Zero(df);
  const auto levels = hn::Set(df, static_cast<float>(qmax - qmin));
  const auto eps = hn::Set(df, ::lowprec::quant::affine_eps);
  const auto big = hn::Set(df, FLT_MAX);
  const auto magic = hn::Set(df, 12582912.0f);  // 1.5 * 2^23
  const auto vqmin = hn::Set(di, qmin), vqmax = hn::Set(di, qmax);
  for (; k + N <= count; k += N) {
    const auto mn = hn::LoadU(df, lo + k), mx = hn::LoadU(df, hi + k);
    const auto min_neg = hn::IfThenElseZero(hn::Lt(mn, zero), mn);
    const auto max_pos = hn::IfThenElseZero(hn::Gt(mx, zero), mx);
    auto scale = hn::Div(hn::Sub(max_pos, min_neg), levels);
    scale = hn::IfThenElse(hn::Le(scale, big), scale,
                           hn::Sub(hn::Div(max_pos, levels), hn::Div(min_neg, levels)));
    scale = hn::IfThenElse(hn::Ge(scale, eps), scale, eps);
    const auto r = hn::Sub(hn::Add(hn::Div(min_neg, scale), magic), magic);
    const auto zp = hn::Min(hn::Max(hn::Sub(vqmin, hn::ConvertTo(di, r)), vqmin), vqmax);
    hn::StoreU(scale, df, scales + k);
    hn::StoreU(hn::DemoteTo(d8, zp), d8, zero_points + k);
  }
#endif
  for (; k < count; ++k) {
    const ::lowprec::quant::qparams p = ::lowprec::quant::affine_qparams(lo[k], hi[k], F);
    scales[k] = p.scale;
    zero_points[k] = static_cast<std::uint8_t>(p.zero_point);
  }
}

// Codes of x[0, n) in blocks under given scales and zero points (block even for uint4
// unless n <= block).
template <code_format F>
HWY_MAYBE_UNUSED static void EncodeAffineBlocks(const float* HWY_RESTRICT x, std::size_t n,
                                         std::size_t block, const float* HWY_RESTRICT scales,
                                         const std::uint8_t* HWY_RESTRICT zero_points,
                                         std::uint8_t* HWY_RESTRICT codes) {
  std::size_t b = 0, start = 0;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (F == code_format::uint8) {
    // Blocks of two vectors (32 on AVX-512, 16 on AVX2): two blocks, four vectors, one
    // four-way narrowing per step, as EncodeAffineRun does within a longer block. A scale
    // below 2^-128 (infinite inverse) leaves the rest to the loop below.
    const DF df;
    const std::size_t N = hn::Lanes(df);
    if (block == 2 * N) {
      const hn::Repartition<std::int8_t, DF> d8x4;  // 4N lanes
      for (; start + 2 * block <= n; b += 2, start += 2 * block) {
        const float inv0 = 1.0f / scales[b], inv1 = 1.0f / scales[b + 1];
        if (!(inv0 <= FLT_MAX && inv1 <= FLT_MAX)) break;
        const AffineConsts c0 = MakeAffineConsts<F>(inv0, zero_points[b]);
        const AffineConsts c1 = MakeAffineConsts<F>(inv1, zero_points[b + 1]);
        const float* HWY_RESTRICT p = x + start;
        const auto i0 = hn::Set(df, c0.inv), l0 = hn::Set(df, c0.lo), h0 = hn::Set(df, c0.hi);
        const auto a0 = hn::Set(df, c0.add), z0 = hn::Set(df, c0.zp);
        const auto i1 = hn::Set(df, c1.inv), l1 = hn::Set(df, c1.lo), h1 = hn::Set(df, c1.hi);
        const auto a1 = hn::Set(df, c1.add), z1 = hn::Set(df, c1.zp);
        hn::StoreU(LowBytes4(AffineBiased(hn::LoadU(df, p), i0, l0, h0, a0, z0),
                             AffineBiased(hn::LoadU(df, p + N), i0, l0, h0, a0, z0),
                             AffineBiased(hn::LoadU(df, p + 2 * N), i1, l1, h1, a1, z1),
                             AffineBiased(hn::LoadU(df, p + 3 * N), i1, l1, h1, a1, z1)),
                   d8x4, reinterpret_cast<std::int8_t*>(codes + start));
      }
    }
  }
#endif
  for (; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float inv = 1.0f / scales[b];
    const int zp = zero_points[b];
    std::uint8_t* HWY_RESTRICT out = codes + ::lowprec::quant::code_bytes(F, start);
    if (inv <= FLT_MAX) {
      EncodeAffineRun<F>(x + start, len, inv, zp, out);
    } else {  // scale below 2^-128: the scalar definition (t = 0 * inf is NaN there)
      for (std::size_t j = 0; j < len; ++j) {
        ::lowprec::quant::detail::put_code<F>(out, j,
                                              ::lowprec::quant::encode_affine<F>(x[start + j], inv, zp));
      }
    }
  }
}

template <code_format F>
HWY_MAYBE_UNUSED static void DequantizeAffineBlocks(const std::uint8_t* HWY_RESTRICT codes,
                                             const float* HWY_RESTRICT scales,
                                             const std::uint8_t* HWY_RESTRICT zero_points,
                                             std::size_t n, std::size_t block,
                                             float* HWY_RESTRICT out) {
  const DF df;
  const DI di;
  const std::size_t N = hn::Lanes(df);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = n - start < block ? n - start : block;
    const float scale = scales[b];
    const int zp = zero_points[b];
    const auto vs = hn::Set(df, scale);
    const auto vzp = hn::Set(di, zp);
    std::size_t i = 0;
    if constexpr (F == code_format::uint8) {
      const hn::Rebind<std::uint8_t, DF> d8;
      for (; i + N <= len; i += N) {
        const auto q = hn::PromoteTo(di, hn::LoadU(d8, codes + start + i));
        hn::StoreU(hn::Mul(hn::ConvertTo(df, hn::Sub(q, vzp)), vs), df, out + start + i);
      }
    } else {
#if HWY_TARGET != HWY_SCALAR
      const hn::Rebind<std::uint16_t, DF> d16;                 // N lanes
      const hn::Repartition<std::uint32_t, decltype(d16)> dp;  // N/2 lanes
      const hn::Rebind<std::uint8_t, decltype(dp)> d8;         // N/2 lanes
      for (; i + N <= len; i += N) {
        // Byte k -> uint32 lane (hi nibble << 16 | lo nibble): uint16 lanes = codes 2k, 2k+1.
        const auto bytes = hn::PromoteTo(dp, hn::LoadU(d8, codes + (start + i) / 2));
        const auto spread = hn::Or(hn::And(bytes, hn::Set(dp, 0x0Fu)),
                                   hn::ShiftLeft<12>(hn::And(bytes, hn::Set(dp, 0xF0u))));
        const auto q = hn::PromoteTo(di, hn::BitCast(d16, spread));
        hn::StoreU(hn::Mul(hn::ConvertTo(df, hn::Sub(q, vzp)), vs), df, out + start + i);
      }
#endif
    }
    for (std::size_t j = start + i; j < start + len; ++j) {
      out[j] = ::lowprec::quant::decode_affine(::lowprec::quant::detail::get_code<F>(codes, j), scale,
                                               zp);
    }
  }
}

}  // namespace quant_kernels

// Exported entry points (names unique across lowprec's kernel files).
HWY_MAYBE_UNUSED static void QuantQuantizeInt8Blocks(const float* x, std::size_t n,
                                                     std::size_t block, std::uint8_t* codes,
                                                     float* scales) {
  quant_kernels::QuantizeInt8Blocks(x, n, block, codes, scales);
}
HWY_MAYBE_UNUSED static void QuantDequantizeInt8Blocks(const std::uint8_t* codes,
                                                       const float* scales, std::size_t n,
                                                       std::size_t block, float* out) {
  quant_kernels::DequantizeInt8Blocks(codes, scales, n, block, out);
}
HWY_MAYBE_UNUSED static void QuantQuantizeInt4Blocks(const float* x, std::size_t n,
                                                     std::size_t block, std::uint8_t* packed,
                                                     float* scales) {
  quant_kernels::QuantizeInt4Blocks(x, n, block, packed, scales);
}
HWY_MAYBE_UNUSED static void QuantDequantizeInt4Blocks(const std::uint8_t* packed,
                                                       const float* scales, std::size_t n,
                                                       std::size_t block, float* out) {
  quant_kernels::DequantizeInt4Blocks(packed, scales, n, block, out);
}

using ::lowprec::quant::code_format;

// fp8: f is fp8_e4m3fn or fp8_e5m2.
HWY_MAYBE_UNUSED static void QuantQuantizeFp8Blocks(const float* x, std::size_t n,
                                                    std::size_t block, code_format f,
                                                    std::uint8_t* codes, float* scales) {
  if (f == code_format::fp8_e4m3fn) {
    quant_kernels::QuantizeFp8Blocks<code_format::fp8_e4m3fn>(x, n, block, codes, scales);
  } else {
    quant_kernels::QuantizeFp8Blocks<code_format::fp8_e5m2>(x, n, block, codes, scales);
  }
}
HWY_MAYBE_UNUSED static void QuantDequantizeFp8Blocks(const std::uint8_t* codes,
                                                      const float* scales, std::size_t n,
                                                      std::size_t block, code_format f,
                                                      float* out) {
  if (f == code_format::fp8_e4m3fn) {
    quant_kernels::DequantizeFp8Blocks<code_format::fp8_e4m3fn>(codes, scales, n, block, out);
  } else {
    quant_kernels::DequantizeFp8Blocks<code_format::fp8_e5m2>(codes, scales, n, block, out);
  }
}
// affine: f is uint8 or uint4 (uint4: block even, or n <= block).
HWY_MAYBE_UNUSED static void QuantAffineMinMaxBlocks(const float* x, std::size_t n,
                                                     std::size_t block, float* lo, float* hi) {
  quant_kernels::AffineMinMaxBlocks(x, n, block, lo, hi);
}
HWY_MAYBE_UNUSED static void QuantAffineQparamsBlocks(const float* lo, const float* hi,
                                                      std::size_t count, code_format f,
                                                      float* scales, std::uint8_t* zero_points) {
  if (f == code_format::uint8) {
    quant_kernels::AffineQparamsBlocks<code_format::uint8>(lo, hi, count, scales, zero_points);
  } else {
    quant_kernels::AffineQparamsBlocks<code_format::uint4>(lo, hi, count, scales, zero_points);
  }
}
HWY_MAYBE_UNUSED static void QuantEncodeAffineBlocks(const float* x, std::size_t n,
                                                     std::size_t block, code_format f,
                                                     const float* scales,
                                                     const std::uint8_t* zero_points,
                                                     std::uint8_t* codes) {
  if (f == code_format::uint8) {
    quant_kernels::EncodeAffineBlocks<code_format::uint8>(x, n, block, scales, zero_points, codes);
  } else {
    quant_kernels::EncodeAffineBlocks<code_format::uint4>(x, n, block, scales, zero_points, codes);
  }
}
HWY_MAYBE_UNUSED static void QuantDequantizeAffineBlocks(const std::uint8_t* codes,
                                                         const float* scales,
                                                         const std::uint8_t* zero_points,
                                                         std::size_t n, std::size_t block,
                                                         code_format f, float* out) {
  if (f == code_format::uint8) {
    quant_kernels::DequantizeAffineBlocks<code_format::uint8>(codes, scales, zero_points, n, block,
                                                              out);
  } else {
    quant_kernels::DequantizeAffineBlocks<code_format::uint4>(codes, scales, zero_points, n, block,
                                                              out);
  }
}

#undef LOWPREC_QUANT_HW_ROUND

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif  // per-target guard
