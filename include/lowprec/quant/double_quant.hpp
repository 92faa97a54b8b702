// Double quantization of block scales (QLoRA; bitsandbytes quantize_4bit with
// compress_statistics=True; REFERENCE.md section 4):
//   offset      mean of the scales (summed in double, rounded once to float; torch's
//               float32 mean may differ from it in the last bit)
//   codes       (scale - offset) quantized blockwise with the signed 8-bit dynamic map
//               (quant/dynamic_map.hpp) in blocks of 256 scales, each block with its own
//               fp32 absmax2; nearest entry with codebook.hpp's rule
//   scale(b)    = map[codes[b]] * absmax2[b / 256] + offset   (two float operations,
//               each rounded; the fused kernels use exactly this value)
// Round trip: |scale(b) - scales[b]| <= absmax2 * (half the largest gap of the map next to
// the code) plus two roundings; tests/quant/double_quant_test.cpp checks the bound and
// that each code is the nearest entry.
//
// Storage, n elements in blocks of B (4-bit codes): plain scales 32 bits per block;
// double-quantized 8 bits per block + 32 bits per 256 blocks + 32 bits of offset. At
// B = 64: 4 + 32/64 = 4.5 bits per parameter plain, 4 + 8/64 + 32/16384 = 4.127 double.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/detail/format.hpp"
#include "lowprec/quant/codebook.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace lowprec::quant {

struct double_quant_scales {
  static constexpr std::size_t block = 256;  // scales per second-level block

  float offset = 0.0f;
  std::vector<std::uint8_t> codes;  // one per scale: index into dynamic_signed8_codebook()
  std::vector<float> absmax2;       // one per 256 codes

  std::size_t size() const noexcept { return codes.size(); }
  // The dequantized scale of block b.
  float scale(std::size_t b) const noexcept {
    const float v = dynamic_signed8_codebook().value(codes[b]) * absmax2[b / block];
    return v + offset;
  }
  void dequantize(float* out) const noexcept {
    for (std::size_t b = 0; b < codes.size(); ++b) out[b] = scale(b);
  }
  std::vector<float> dequantize() const {
    std::vector<float> out(codes.size());
    dequantize(out.data());
    return out;
  }
  // Bytes of codes, absmax2 and offset.
  std::size_t bytes() const noexcept { return codes.size() + 4 * absmax2.size() + 4; }
};

// Double-quantizes `count` block scales. Throws std::invalid_argument, naming the index and
// value, for a scale that is NaN, infinite or negative (absmax scales never are).
inline double_quant_scales double_quantize(const float* scales, std::size_t count) {
  for (std::size_t b = 0; b < count; ++b) {
    if (!(scales[b] >= 0.0f && scales[b] <= 3.4028234663852886e38f)) {
      throw std::invalid_argument("lowprec::quant::double_quantize: scales[" + std::to_string(b) +
                                  "] is " + ::lowprec::detail::shortest_decimal(scales[b]) +
                                  "; block scales must be finite and >= 0");
    }
  }
  double_quant_scales d;
  double sum = 0.0;
  for (std::size_t b = 0; b < count; ++b) sum += static_cast<double>(scales[b]);
  d.offset = count == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(count));
  std::vector<float> centred(count);
  for (std::size_t b = 0; b < count; ++b) centred[b] = scales[b] - d.offset;
  d.codes.resize(count);
  d.absmax2.resize((count + double_quant_scales::block - 1) / double_quant_scales::block);
  const codebook& map = dynamic_signed8_codebook();
  // The second level: codebook blocks of 256.
  for (std::size_t g = 0, start = 0; start < count; ++g, start += double_quant_scales::block) {
    const std::size_t end = count - start < double_quant_scales::block
                                ? count
                                : start + double_quant_scales::block;
    float m = 0.0f;
    for (std::size_t b = start; b < end; ++b) m = std::fmax(m, std::fabs(centred[b]));
    d.absmax2[g] = m;
    const float inv = detail::codebook_inverse(m);
    for (std::size_t b = start; b < end; ++b) d.codes[b] = map.encode(centred[b] * inv);
  }
  return d;
}
inline double_quant_scales double_quantize(const std::vector<float>& scales) {
  return double_quantize(scales.data(), scales.size());
}

// Bits per parameter of n elements with `code_bits`-bit codes in blocks of `block`
// (scales included): plain fp32 scales, or double-quantized ones.
inline double bits_per_parameter(std::size_t n, std::size_t block, int code_bits,
                                 bool double_quantized) {
  if (n == 0 || block == 0) return 0.0;
  const std::size_t blocks = n / block + (n % block != 0 ? 1 : 0);
  const double code_bytes = code_bits == 4 ? static_cast<double>(n / 2 + n % 2)
                                           : static_cast<double>(n);
  const double scale_bytes =
      double_quantized
          ? static_cast<double>(blocks) +
                4.0 * static_cast<double>(blocks / 256 + (blocks % 256 != 0 ? 1 : 0)) + 4.0
          : 4.0 * static_cast<double>(blocks);
  return 8.0 * (code_bytes + scale_bytes) / static_cast<double>(n);
}

}  // namespace lowprec::quant

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
