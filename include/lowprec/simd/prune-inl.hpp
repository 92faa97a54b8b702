// Per-target Highway kernels of lowprec::prune's 2:4 sparsity (prune/nm.hpp): selecting
// and compressing contiguous float lines, and the matrix x vector product on the
// compressed form. Included once per SIMD target by detail/simd.hpp; users include
// prune/nm.hpp. The scalar definitions in nm.hpp are the reference: the selection is the
// same total order (|w| bits, then index), the product the same order of accumulation, so
// every target gives the reference's bits (tested target by target).
//
// 2:4 layout reminder: a line stores 2 values per group of 4 and one 2-bit position per
// value, 4 positions per byte, first in the low bits; a block of 16 stored values has a
// 32-bit little-endian index word and covers 32 columns.

// ---- Target-independent part (normal include guard) ------------------------------------
#ifndef LOWPREC_SIMD_PRUNE_INL_COMMON_
#define LOWPREC_SIMD_PRUNE_INL_COMMON_

#include <cstddef>
#include <cstdint>

#include "lowprec/detail/linalg_common.hpp"

namespace lowprec::detail {

// A 2:4-compressed matrix pruned along its rows (axis 1), for the product kernel.
struct nm24_matvec_args {
  matrix_format format;    // f32, fp16 or bf16 values
  std::size_t rows;        // lines
  std::size_t per_row;     // stored values per row = cols / 2
  std::size_t row_bytes;   // index bytes per row = ceil(cols / 8)
};

// For a 4-bit keep pattern with exactly two bits set (a 2:4 group): its two positions as
// an index nibble, first position in bits 0-1. Other patterns never occur (0).
struct nm24_pair_table {
  std::uint8_t nibble[16];
};
constexpr nm24_pair_table make_nm24_pair_table() noexcept {
  nm24_pair_table tab{};
  for (unsigned q = 0; q < 16; ++q) {
    unsigned found = 0, nib = 0;
    for (unsigned t = 0; t < 4; ++t) {
      if ((q >> t) & 1u) nib |= t << (2 * found++);
    }
    tab.nibble[q] = static_cast<std::uint8_t>(found == 2 ? nib : 0);
  }
  return tab;
}
inline constexpr nm24_pair_table kNm24Pairs = make_nm24_pair_table();

}  // namespace lowprec::detail

#endif  // LOWPREC_SIMD_PRUNE_INL_COMMON_

// ---- Per-target part ---------------------------------------------------------------------
#if defined(LOWPREC_SIMD_PRUNE_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef LOWPREC_SIMD_PRUNE_INL_H_TARGET
#undef LOWPREC_SIMD_PRUNE_INL_H_TARGET
#else
#define LOWPREC_SIMD_PRUNE_INL_H_TARGET
#endif

#include <hwy/highway.h>

#include <cstring>
#include <type_traits>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

HWY_BEFORE_NAMESPACE();
namespace lowprec {
namespace HWY_NAMESPACE {
namespace {  // internal linkage: translation units may differ in flags and targets
namespace prune_kernels {

namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::CappedTag<float, 16>;  // as linalg-inl.hpp, whose LoadWide widens values
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;

// The SIMD paths need whole groups of four in a vector (4, 8 or 16 lanes); 1-lane and
// scalable targets run the scalar loops below.
#undef LOWPREC_PRUNE_VECTOR
#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
#define LOWPREC_PRUNE_VECTOR 0
#else
#define LOWPREC_PRUNE_VECTOR 1
static_assert(hn::MaxLanes(DF()) >= 4 && 16 % hn::MaxLanes(DF()) == 0, "4, 8 or 16 lanes");
#endif

constexpr std::size_t kPartials = 16;  // = prune::detail::kNmPartials

HWY_INLINE std::uint32_t LoadWord(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// ---- Product ---------------------------------------------------------------------------

// Stored values j .. per_row of one row into the 16 partial sums, one at a time.
template <class T>
HWY_INLINE void RowTail(const T* v, const std::uint8_t* idx, const float* x, std::size_t j,
                        std::size_t per_row, float* part) {
  for (; j < per_row; ++j) {
    const std::size_t pos = (idx[j / 4] >> (2 * (j % 4))) & 3u;
    const float prod = static_cast<float>(v[j]) * x[(j / 2) * 4 + pos];
    part[j % kPartials] = part[j % kPartials] + prod;
  }
}

// R rows at once (R independent memory streams keep more loads in flight than one:
// single-stream reads reach about 60% of this machine's bandwidth). Each row is computed
// exactly as alone: blocks of 16 stored values, vector c of a block holding partials
// c*L .. c*L+L-1. Lane t of vector c is stored value j = j0 + c*L + t, in group j/2 of the
// 2L-column window starting at column 2*(j0 + c*L): its column is 4*(t/2) + position,
// found in xa (the window's first L columns) for t < L/2 and in xb for the rest, at lane
// 4*((t mod L/2)/2) + position of either.
template <std::size_t R, class T>
HWY_INLINE void Rows(const T* HWY_RESTRICT v, const std::uint8_t* HWY_RESTRICT idx,
                     const float* HWY_RESTRICT x, const detail::nm24_matvec_args& a,
                     float* HWY_RESTRICT y) {
  const std::size_t per_row = a.per_row;
  HWY_ALIGN float part[R][kPartials] = {};
  std::size_t j = 0;
#if LOWPREC_PRUNE_VECTOR
  {
    const DF df;
    const DU du;
    const DI di;
    constexpr std::size_t L = hn::MaxLanes(DF());
    constexpr std::size_t C = kPartials / L;
    const auto lane = hn::Iota(du, 0);
    const auto base = hn::ShiftLeft<2>(hn::ShiftRight<1>(hn::And(lane, hn::Set(du, L / 2 - 1))));
    const auto three = hn::Set(du, 3u);
    const auto first_half = hn::FirstN(df, L / 2);
    hn::Vec<DU> shift[C];
    hn::Vec<DF> acc[R][C];
    for (std::size_t c = 0; c < C; ++c) {
      shift[c] = hn::Add(hn::ShiftLeft<1>(lane), hn::Set(du, static_cast<std::uint32_t>(2 * c * L)));
      for (std::size_t r = 0; r < R; ++r) acc[r][c] = hn::Zero(df);
    }
    for (; j + kPartials <= per_row; j += kPartials) {
      for (std::size_t r = 0; r < R; ++r) {
        const auto word = hn::Set(du, LoadWord(idx + r * a.row_bytes + j / 4));
        for (std::size_t c = 0; c < C; ++c) {
          const auto pos = hn::And(word >> shift[c], three);
          const auto ix = hn::IndicesFromVec(df, hn::BitCast(di, hn::Add(base, pos)));
          const float* w = x + 2 * (j + c * L);
          const auto xa = hn::LoadU(df, w);
          const auto xb = hn::LoadU(df, w + L);
          const auto sel = hn::IfThenElse(first_half, hn::TableLookupLanes(xa, ix),
                                          hn::TableLookupLanes(xb, ix));
          const auto prod = hn::Mul(linalg_kernels::LoadWide(v + r * per_row + j + c * L), sel);
          acc[r][c] = hn::Add(acc[r][c], prod);
        }
      }
    }
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c = 0; c < C; ++c) hn::Store(acc[r][c], df, part[r] + c * L);
    }
  }
#endif
  for (std::size_t r = 0; r < R; ++r) {
    float* p = part[r];
    RowTail(v + r * per_row, idx + r * a.row_bytes, x, j, per_row, p);
    for (std::size_t s = kPartials / 2; s >= 1; s /= 2) {
      for (std::size_t i = 0; i < s; ++i) p[i] = p[i] + p[i + s];
    }
    y[r] = p[0];
  }
}

template <class T>
HWY_NOINLINE void MatVecRows(const T* v, const std::uint8_t* idx, const detail::nm24_matvec_args& a,
                             const float* x, float* y) {
#if LOWPREC_PRUNE_VECTOR
  constexpr std::size_t kRows = hn::MaxLanes(DF()) >= 8 ? 4 : 2;  // 8 accumulators
#else
  constexpr std::size_t kRows = 1;
#endif
  std::size_t i = 0;
  for (; i + kRows <= a.rows; i += kRows) {
    Rows<kRows>(v + i * a.per_row, idx + i * a.row_bytes, x, a, y + i);
  }
  for (; i < a.rows; ++i) Rows<1>(v + i * a.per_row, idx + i * a.row_bytes, x, a, y + i);
}

// ---- Selection and compression of float lines -------------------------------------------

// The 4-bit keep pattern of one group: the two highest of (|w| bits, position).
HWY_INLINE unsigned GroupPattern(const float* w) {
  std::uint32_t k[4];
  std::memcpy(k, w, sizeof(k));
  for (auto& e : k) e &= 0x7FFFFFFFu;
  unsigned pattern = 0;
  for (unsigned t = 0; t < 4; ++t) {
    unsigned above = 0;
    for (unsigned u = 0; u < 4; ++u) above += u != t && (k[u] > k[t] || (k[u] == k[t] && u > t));
    pattern |= static_cast<unsigned>(above < 2) << t;
  }
  return pattern;
}

// One contiguous line of len floats (a multiple of 4). Writes, when not null, the len keep
// bytes, the len/2 kept values and the ceil(len/8) index bytes.
HWY_NOINLINE void SelectLine(const float* HWY_RESTRICT w, std::size_t len, std::uint8_t* HWY_RESTRICT keep,
                             float* HWY_RESTRICT values, std::uint8_t* HWY_RESTRICT idx) {
  std::size_t t = 0;
#if LOWPREC_PRUNE_VECTOR
  {
    const DF df;
    const DI di;
    const hn::Rebind<std::uint8_t, DI> d8;
    constexpr std::size_t L = hn::MaxLanes(DF());
    constexpr std::size_t C = 16 / L;
    // Lane t%4 of a group: the lane d places up (mod 4) has a higher index iff t%4 < 4-d.
    const auto pos4 = hn::And(hn::Iota(di, 0), hn::Set(di, 3));
    const auto up1 = hn::Lt(pos4, hn::Set(di, 3));
    const auto up2 = hn::Lt(pos4, hn::Set(di, 2));
    const auto up3 = hn::Lt(pos4, hn::Set(di, 1));
    const auto magnitude = hn::Set(di, 0x7FFFFFFF);
    const auto one = hn::Set(di, 1);
    for (; t + 16 <= len; t += 16) {
      std::uint32_t pattern16 = 0;
      for (std::size_t c = 0; c < C; ++c) {
        const auto v = hn::LoadU(df, w + t + c * L);
        const auto k = hn::And(hn::BitCast(di, v), magnitude);
        const auto k1 = hn::Shuffle0321(k);  // lane i: key of lane i+1 (mod 4)
        const auto k2 = hn::Shuffle1032(k);
        const auto k3 = hn::Shuffle2103(k);
        const auto b1 = hn::Or(hn::Gt(k1, k), hn::And(hn::Eq(k1, k), up1));
        const auto b2 = hn::Or(hn::Gt(k2, k), hn::And(hn::Eq(k2, k), up2));
        const auto b3 = hn::Or(hn::Gt(k3, k), hn::And(hn::Eq(k3, k), up3));
        // VecFromMask is -1 per true lane: above = -(b1 + b2 + b3); kept iff above < 2.
        const auto minus_above = hn::Add(hn::Add(hn::VecFromMask(di, b1), hn::VecFromMask(di, b2)),
                                         hn::VecFromMask(di, b3));
        const auto kept = hn::Gt(minus_above, hn::Set(di, -2));
        if (keep != nullptr) {
          hn::StoreU(hn::DemoteTo(d8, hn::And(hn::VecFromMask(di, kept), one)), d8, keep + t + c * L);
        }
        if (values != nullptr) {
          std::uint8_t bits[8] = {};
          hn::StoreMaskBits(df, hn::RebindMask(df, kept), bits);
          pattern16 |= (static_cast<std::uint32_t>(bits[0]) | static_cast<std::uint32_t>(bits[1]) << 8)
                       << (c * L);
        }
      }
      if (values != nullptr) {  // two values and one nibble per group, in scalar code
        float* out = values + t / 2;
        for (std::size_t g = 0; g < 4; ++g) {
          const unsigned nib = detail::kNm24Pairs.nibble[(pattern16 >> (4 * g)) & 15u];
          out[2 * g] = w[t + 4 * g + (nib & 3u)];
          out[2 * g + 1] = w[t + 4 * g + (nib >> 2)];
        }
        idx[t / 8] = static_cast<std::uint8_t>(detail::kNm24Pairs.nibble[pattern16 & 15u] |
                                               detail::kNm24Pairs.nibble[(pattern16 >> 4) & 15u] << 4);
        idx[t / 8 + 1] = static_cast<std::uint8_t>(detail::kNm24Pairs.nibble[(pattern16 >> 8) & 15u] |
                                                   detail::kNm24Pairs.nibble[pattern16 >> 12] << 4);
      }
    }
  }
#endif
  for (; t < len; t += 4) {
    const unsigned q = GroupPattern(w + t);
    if (keep != nullptr) {
      for (unsigned i = 0; i < 4; ++i) keep[t + i] = static_cast<std::uint8_t>((q >> i) & 1u);
    }
    if (values != nullptr) {
      const std::uint8_t nib = detail::kNm24Pairs.nibble[q];
      values[t / 2] = w[t + (nib & 3u)];
      values[t / 2 + 1] = w[t + (nib >> 2)];
      if ((t / 4) % 2 == 0) {
        idx[t / 8] = nib;
      } else {
        idx[t / 8] = static_cast<std::uint8_t>(idx[t / 8] | nib << 4);
      }
    }
  }
}

}  // namespace prune_kernels
}  // namespace

// ---- Exported entries ---------------------------------------------------------------------

HWY_MAYBE_UNUSED static void PruneNm24MatVec(const void* values, const std::uint8_t* idx,
                                            const detail::nm24_matvec_args& a, const float* x,
                                            float* y) {
  namespace k = prune_kernels;
  switch (a.format) {
    case detail::matrix_format::f32: return k::MatVecRows(static_cast<const float*>(values), idx, a, x, y);
    case detail::matrix_format::fp16: return k::MatVecRows(static_cast<const fp16*>(values), idx, a, x, y);
    case detail::matrix_format::bf16: return k::MatVecRows(static_cast<const bf16*>(values), idx, a, x, y);
    default: return;  // not dispatched here (nm.hpp)
  }
}

HWY_MAYBE_UNUSED static void PruneNm24SelectF32(const float* w, std::size_t len, std::uint8_t* keep,
                                               float* values, std::uint8_t* idx) {
  prune_kernels::SelectLine(w, len, keep, values, idx);
}

}  // namespace HWY_NAMESPACE
}  // namespace lowprec
HWY_AFTER_NAMESPACE();

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#undef LOWPREC_PRUNE_VECTOR
#endif  // per-target guard
