// Blockwise codebook quantization over raw buffers (the rules are quant/codebook.hpp's),
// NF4 shorthands, and the bitsandbytes NF4 layout.
//
//   quantize_codebook_blocks(x, n, block, cb, codes, absmax)   codes: cb.code_bytes(n)
//   dequantize_codebook_blocks(codes, absmax, n, block, cb, out)   bytes; absmax: ceil(n/block)
//   quantize_nf4 / dequantize_nf4                               the same with nf4_codebook()
//   to_bitsandbytes_nf4 / from_bitsandbytes_nf4                 nibble order of the bytes
//
// Tables of <= 16 entries run Highway kernels (simd/quant_lowbit-inl.hpp), bit-identical to
// the scalar definition on every target; larger tables run the scalar definition.
// Including this header brings in lowprec's SIMD hub (detail/simd.hpp).
//
// bitsandbytes layout (quantize_4bit, quant_type="nf4"): byte k = code[2k] << 4 | code[2k+1]
// (first element in the HIGH nibble; lowprec's native order puts it in the low nibble), and
// absmax[b] = fp32 absmax of block b. For blocks with a finite, non-zero absmax whose
// reciprocal is finite, lowprec's codes and absmax equal bitsandbytes' CUDA kernel
// (x * (1 / absmax), the float thresholds, strict ">"). Where bitsandbytes' t is NaN
// (an all-zero block: 0 * inf; a NaN element) lowprec writes code 7 (value 0) and
// bitsandbytes code 0 (value -1 * absmax, i.e. -0 for a zero block); values agree except
// at NaN elements, whose value is NaN in neither (0 here, -absmax there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/detail/simd.hpp"
#include "lowprec/packed.hpp"
#include "lowprec/quant/codebook.hpp"

namespace lowprec::quant {

namespace detail {
LOWPREC_SIMD_EXPORT(QuantCodebook16Quantize);
LOWPREC_SIMD_EXPORT(QuantCodebook16Dequantize);
}  // namespace detail

// Quantizes x[0, n) in blocks (block: a power of two in [32, 4096]; the last block may be
// short). Writes cb.code_bytes(n) code bytes and ceil(n / block) absmax values. Throws
// std::invalid_argument naming the block size before writing anything.
inline void quantize_codebook_blocks(const float* x, std::size_t n, std::size_t block,
                                     const codebook& cb, std::uint8_t* codes, float* absmax) {
  detail::check_codebook_block("lowprec::quant::quantize_codebook_blocks", block);
  if (n == 0) return;
  if (cb.bits() == 4) {
    using namespace detail;  // the dispatch tables
    LOWPREC_SIMD_CALL(QuantCodebook16Quantize)(x, n, block, cb, codes, absmax);
    return;
  }
  detail::quantize_codebook_blocks_scalar(x, n, block, cb, codes, absmax);
}

// out[j] = cb.value(code j) * absmax[j / block].
inline void dequantize_codebook_blocks(const std::uint8_t* codes, const float* absmax,
                                       std::size_t n, std::size_t block, const codebook& cb,
                                       float* out) {
  detail::check_codebook_block("lowprec::quant::dequantize_codebook_blocks", block);
  if (n == 0) return;
  if (cb.bits() == 4) {
    using namespace detail;  // the dispatch tables
    LOWPREC_SIMD_CALL(QuantCodebook16Dequantize)(codes, absmax, n, block, cb, out);
    return;
  }
  detail::dequantize_codebook_blocks_scalar(codes, absmax, n, block, cb, out);
}

// NF4 (block 64 by default, as bitsandbytes): packed_size(n) bytes, native nibble order.
inline void quantize_nf4(const float* x, std::size_t n, std::uint8_t* packed, float* absmax,
                         std::size_t block = 64) {
  quantize_codebook_blocks(x, n, block, nf4_codebook(), packed, absmax);
}
inline void dequantize_nf4(const std::uint8_t* packed, const float* absmax, std::size_t n,
                           float* out, std::size_t block = 64) {
  dequantize_codebook_blocks(packed, absmax, n, block, nf4_codebook(), out);
}

// The bitsandbytes byte order of n packed codes (native order in, high-first out), and
// back. Either direction only swaps nibbles; an odd n leaves the unused nibble zero.
inline std::vector<std::uint8_t> to_bitsandbytes_nf4(const std::uint8_t* packed, std::size_t n) {
  std::vector<std::uint8_t> codes(n), out(packed_size(n));
  unpack4(packed, n, codes.data(), nibble_order::low_first);
  pack4(codes.data(), n, out.data(), nibble_order::high_first);
  return out;
}
// Throws std::invalid_argument when `bytes` does not hold n codes.
inline std::vector<std::uint8_t> from_bitsandbytes_nf4(const std::vector<std::uint8_t>& bytes,
                                                       std::size_t n) {
  if (bytes.size() != packed_size(n)) {
    throw std::invalid_argument("lowprec::quant::from_bitsandbytes_nf4: bytes has " +
                                std::to_string(bytes.size()) + " entries; n = " +
                                std::to_string(n) + " codes need " +
                                std::to_string(packed_size(n)));
  }
  std::vector<std::uint8_t> codes(n), out(packed_size(n));
  unpack4(bytes.data(), n, codes.data(), nibble_order::high_first);
  pack4(codes.data(), n, out.data(), nibble_order::low_first);
  return out;
}

}  // namespace lowprec::quant
