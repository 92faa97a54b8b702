// Symmetric absmax quantization on raw buffers: the scale rule, the round-trip bound on
// every element, NaN/Inf/zero/tiny blocks, short last blocks, empty inputs, fp8 codes,
// and argument errors that leave the output untouched.
#include "lowprec/quant/absmax.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
using lq::code_format;

namespace {

constexpr code_format kAbsmaxFormats[] = {code_format::int8, code_format::int4,
                                          code_format::fp8_e4m3fn, code_format::fp8_e5m2};

struct quantized {
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
  std::vector<float> deq;
};

quantized run(const std::vector<float>& x, std::size_t block, code_format f) {
  quantized q;
  q.codes.assign(lq::code_bytes(f, x.size()), 0xEE);
  q.scales.assign(lq::block_count(x.size(), block), -1.0f);
  lq::quantize_absmax_blocks(x.data(), x.size(), block, f, q.codes.data(), q.scales.data());
  q.deq.assign(x.size(), -7.0f);
  lq::dequantize_absmax_blocks(q.codes.data(), q.scales.data(), x.size(), block, f, q.deq.data());
  return q;
}

std::uint8_t code_at(const quantized& q, code_format f, std::size_t i) {
  if (lq::info(f).bits == 4) return static_cast<std::uint8_t>((q.codes[i / 2] >> (4 * (i % 2))) & 15);
  return q.codes[i];
}

std::vector<float> normal_data(std::size_t n, std::uint32_t seed, float spread) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, spread);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  return x;
}

}  // namespace

TEST_CASE("the scale is absmax over the format max, 0 for zero, FLT_MIN at the bottom", "[quant]") {
  CHECK(lq::absmax_scale(127.0f, code_format::int8) == 1.0f);
  CHECK(lq::absmax_scale(7.0f, code_format::int4) == 1.0f);
  CHECK(lq::absmax_scale(448.0f, code_format::fp8_e4m3fn) == 1.0f);
  CHECK(lq::absmax_scale(57344.0f, code_format::fp8_e5m2) == 1.0f);
  CHECK(lq::absmax_scale(1.0f, code_format::int8) == 1.0f / 127.0f);
  CHECK(lq::absmax_scale(0.0f, code_format::int8) == 0.0f);
  CHECK(lq::absmax_scale(std::numeric_limits<float>::quiet_NaN(), code_format::int8) == 0.0f);
  CHECK(lq::absmax_scale(1e-37f, code_format::int8) == FLT_MIN);
  CHECK(lq::absmax_scale(127.0f * FLT_MIN, code_format::int8) == FLT_MIN);
  CHECK(lq::absmax_scale(FLT_MAX, code_format::int8) == FLT_MAX / 127.0f);
}

TEST_CASE("integer codes round trip within scale/2 on every element", "[quant]") {
  // The exact bound is scale/2; computing x * (1/scale) and code * scale in float adds at
  // most 3 roundings of the block's absmax (see the derivation in docs/quant.md).
  for (const code_format f : {code_format::int8, code_format::int4}) {
    for (const std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{32},
                                    std::size_t{64}, std::size_t{256}, std::size_t{1000}}) {
      for (const float spread : {1e-30f, 1e-3f, 1.0f, 1e30f}) {
        const std::vector<float> x = normal_data(1000, static_cast<std::uint32_t>(block), spread);
        const quantized q = run(x, block, f);
        const int qmax = lq::info(f).qmax;
        for (std::size_t i = 0; i < x.size(); ++i) {
          const float s = q.scales[i / block];
          const float amax = s * static_cast<float>(qmax);
          const double err = std::fabs(static_cast<double>(x[i]) - q.deq[i]);
          const double bound = s / 2.0 + 3.0 * amax * 0x1p-24;
          INFO(lq::to_string(f) << " block " << block << " element " << i << " x " << x[i]
                                << " deq " << q.deq[i] << " scale " << s);
          REQUIRE(err <= bound);
          const int v = f == code_format::int8 ? lq::code_value<code_format::int8>(code_at(q, f, i))
                                               : lq::code_value<code_format::int4>(code_at(q, f, i));
          REQUIRE(std::abs(v) <= qmax);
        }
      }
    }
  }
}

TEST_CASE("the element of largest magnitude gets code +-qmax", "[quant]") {
  const std::vector<float> x{0.5f, -3.0f, 1.25f, 2.0f};
  CHECK(lq::code_value<code_format::int8>(run(x, 4, code_format::int8).codes[1]) == -127);
  const quantized q4 = run(x, 4, code_format::int4);
  CHECK(lq::code_value<code_format::int4>(code_at(q4, code_format::int4, 1)) == -7);
  CHECK(run(x, 4, code_format::int8).scales[0] == 3.0f / 127.0f);
}

TEST_CASE("ties round to even", "[quant]") {
  // scale = 127/127 = 1: x * inv is x itself, so 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
  const std::vector<float> x{127.0f, 0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 126.5f};
  const quantized q = run(x, x.size(), code_format::int8);
  REQUIRE(q.scales[0] == 1.0f);
  const int want[] = {127, 0, 2, 2, -2, 0, 126};
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(lq::code_value<code_format::int8>(q.codes[i]) == want[i]);
  }
  // 0.49999997 is below the tie: a round(x + 0.5) implementation would give 1.
  const std::vector<float> y{127.0f, 0.49999997f, -0.49999997f};
  const quantized r = run(y, 3, code_format::int8);
  CHECK(lq::code_value<code_format::int8>(r.codes[1]) == 0);
  CHECK(lq::code_value<code_format::int8>(r.codes[2]) == 0);
}

TEST_CASE("NaN and Inf are ignored by the scale; NaN -> 0, Inf -> +-qmax (fp8: NaN, +-max)",
          "[quant]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x{1.0f, nan, inf, -inf, -2.0f, 0.5f};
  for (const code_format f : kAbsmaxFormats) {
    INFO(lq::to_string(f));
    const quantized q = run(x, x.size(), f);
    CHECK(q.scales[0] == lq::absmax_scale(2.0f, f));
    if (f == code_format::fp8_e4m3fn) {
      CHECK(code_at(q, f, 1) == 0x7F);  // NaN (sign kept)
      CHECK(code_at(q, f, 2) == 0x7E);  // +448
      CHECK(code_at(q, f, 3) == 0xFE);  // -448
      CHECK(std::isnan(q.deq[1]));
      CHECK(q.deq[2] == 448.0f * q.scales[0]);
    } else if (f == code_format::fp8_e5m2) {
      CHECK(lowprec::isnan(lowprec::fp8_e5m2::from_bits(code_at(q, f, 1))));
      CHECK(code_at(q, f, 2) == 0x7B);  // +57344
      CHECK(code_at(q, f, 3) == 0xFB);
    } else {
      const int qmax = lq::info(f).qmax;
      CHECK(q.deq[1] == 0.0f);
      CHECK(q.deq[2] == static_cast<float>(qmax) * q.scales[0]);
      CHECK(q.deq[3] == -static_cast<float>(qmax) * q.scales[0]);
    }
  }
  // A group of only NaN/Inf has scale 0 and no division by zero.
  const std::vector<float> bad{nan, inf, -inf};
  for (const code_format f : kAbsmaxFormats) {
    const quantized q = run(bad, 3, f);
    CHECK(q.scales[0] == 0.0f);
    if (!lq::info(f).is_float) {
      CHECK(q.deq[0] == 0.0f);
      CHECK(q.deq[1] == 0.0f);  // +-qmax * 0
      CHECK(q.deq[2] == 0.0f);
    }
  }
}

TEST_CASE("all-zero blocks have scale 0 and decode to exact zeros", "[quant]") {
  std::vector<float> x(96, 0.0f);
  for (std::size_t i = 64; i < 96; ++i) x[i] = static_cast<float>(i) - 80.0f;
  x[3] = -0.0f;
  for (const code_format f : kAbsmaxFormats) {
    const quantized q = run(x, 32, f);
    CHECK(q.scales[0] == 0.0f);
    CHECK(q.scales[1] == 0.0f);
    CHECK(q.scales[2] > 0.0f);
    for (std::size_t i = 0; i < 64; ++i) REQUIRE(q.deq[i] == 0.0f);
  }
}

TEST_CASE("tiny blocks use scale FLT_MIN, never a subnormal scale", "[quant]") {
  const std::vector<float> x{1e-40f, -3e-39f, 0.0f, 2e-45f};
  const quantized q = run(x, 4, code_format::int8);
  CHECK(q.scales[0] == FLT_MIN);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(std::fabs(x[i] - q.deq[i]) <= FLT_MIN / 2);
  }
}

TEST_CASE("a short last block has its own scale", "[quant]") {
  std::vector<float> x(70);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const quantized q = run(x, 32, code_format::int4);
  REQUIRE(q.scales.size() == 3);
  CHECK(q.scales[2] == 69.0f / 7.0f);  // block 2 = elements 64..69
  CHECK(q.codes.size() == 35);
  CHECK(q.deq[69] == 7.0f * (69.0f / 7.0f));
}

TEST_CASE("odd block sizes with 4-bit codes pack across block boundaries", "[quant]") {
  const std::vector<float> x = normal_data(77, 5, 1.0f);
  const quantized q = run(x, 5, code_format::int4);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float inv = lq::inverse_scale(q.scales[i / 5]);
    REQUIRE(code_at(q, code_format::int4, i) == lq::encode_absmax<code_format::int4>(x[i], inv));
  }
  CHECK((q.codes.back() & 0xF0) == 0);  // the unused high nibble of the last byte
}

TEST_CASE("fp8 codes are the format's saturating nearest-even rounding of x / scale", "[quant]") {
  const std::vector<float> x = normal_data(512, 11, 3.0f);
  const quantized e4 = run(x, 64, code_format::fp8_e4m3fn);
  const quantized e5 = run(x, 64, code_format::fp8_e5m2);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float t4 = x[i] * lq::inverse_scale(e4.scales[i / 64]);
    const float t5 = x[i] * lq::inverse_scale(e5.scales[i / 64]);
    REQUIRE(e4.codes[i] == lowprec::fp8_e4m3fn::from(t4, lowprec::rounding::nearest_even,
                                                     lowprec::overflow::saturate).bits());
    REQUIRE(e5.codes[i] == lowprec::fp8_e5m2::from(t5, lowprec::rounding::nearest_even,
                                                   lowprec::overflow::saturate).bits());
    REQUIRE(e4.deq[i] == static_cast<float>(lowprec::fp8_e4m3fn::from_bits(e4.codes[i])) * e4.scales[i / 64]);
  }
  // The block's largest magnitude maps to the format's max.
  std::size_t arg = 0;
  for (std::size_t i = 0; i < 64; ++i) arg = std::fabs(x[i]) > std::fabs(x[arg]) ? i : arg;
  CHECK((e4.codes[arg] & 0x7F) == 0x7E);
  CHECK((e5.codes[arg] & 0x7F) == 0x7B);
}

TEST_CASE("empty inputs write nothing", "[quant]") {
  std::uint8_t code = 0xEE;
  float scale = -1.0f, out = -1.0f;
  lq::quantize_absmax_blocks(nullptr, 0, 32, code_format::int8, &code, &scale);
  lq::dequantize_absmax_blocks(&code, &scale, 0, 32, code_format::int8, &out);
  CHECK(code == 0xEE);
  CHECK(scale == -1.0f);
  CHECK(out == -1.0f);
}

TEST_CASE("block 0 and unsigned formats throw before writing", "[quant]") {
  const std::vector<float> x{1.0f, 2.0f};
  std::vector<std::uint8_t> codes(2, 0xEE);
  std::vector<float> scales(2, -1.0f);
  CHECK_THROWS_AS(lq::quantize_absmax_blocks(x.data(), 2, 0, code_format::int8, codes.data(),
                                             scales.data()),
                  std::invalid_argument);
  CHECK_THROWS_AS(lq::quantize_absmax_blocks(x.data(), 2, 2, code_format::uint8, codes.data(),
                                             scales.data()),
                  std::invalid_argument);
  lowprec_test::require_invalid(
      [&] {
        lq::quantize_absmax_blocks(x.data(), 2, 0, code_format::int8, codes.data(), scales.data());
      },
      {"quantize_absmax_blocks", "block is 0"});
  CHECK(codes == std::vector<std::uint8_t>(2, 0xEE));
  CHECK(scales == std::vector<float>(2, -1.0f));
}
