// ggml Q8_0 / Q4_0 / Q4_1 blocks on hand-built inputs, checked against REFERENCE.md
// section 7's formulas byte for byte; serialisation; import into and export from
// quantized_tensor; NaN/Inf and partial blocks.
#include "lowprec/quant/ggml.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
namespace gg = lowprec::quant::ggml;
using lowprec::fp16;
using lowprec_test::require_invalid;

namespace {

int lo(const gg::block_q4_0& b, int j) { return b.qs[j] & 15; }
int hi(const gg::block_q4_0& b, int j) { return b.qs[j] >> 4; }

std::vector<float> normal_data(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  return x;
}

}  // namespace

TEST_CASE("ggml blocks have ggml's sizes", "[quant]") {
  CHECK(sizeof(gg::block_q8_0) == 34);
  CHECK(sizeof(gg::block_q4_0) == 18);
  CHECK(sizeof(gg::block_q4_1) == 20);
  CHECK(gg::blocks_for(0) == 0);
  CHECK(gg::blocks_for(33) == 2);
}

TEST_CASE("Q8_0: d = amax/127 in fp16, q = round(x/d) with ties away from zero", "[quant]") {
  // Block 0: amax 127, so d = 1 and id = 1: codes are x rounded half away from zero.
  // Block 1: amax 63.5, d = 0.5, id = 2.
  std::vector<float> x(64, 0.0f);
  const float b0[] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f, 3.5f, -126.5f};
  for (int j = 0; j < 8; ++j) x[static_cast<std::size_t>(j)] = b0[j];
  x[32] = 63.5f;
  x[33] = 0.75f;   // 1.5 -> 2
  x[34] = -0.25f;  // -0.5 -> -1
  x[35] = 0.2f;    // 0.4 -> 0
  gg::block_q8_0 blk[2];
  gg::quantize_q8_0(x.data(), 64, blk);
  CHECK(blk[0].d.bits() == 0x3C00);
  const int want0[] = {127, 3, -3, 1, -1, 1, 4, -127};
  for (int j = 0; j < 8; ++j) CHECK(blk[0].qs[j] == want0[j]);
  CHECK(blk[1].d.bits() == 0x3800);
  CHECK(blk[1].qs[0] == 127);
  CHECK(blk[1].qs[1] == 2);
  CHECK(blk[1].qs[2] == -1);
  CHECK(blk[1].qs[3] == 0);
  // d is rounded to fp16 for storage only; codes use the float d.
  std::vector<float> y(32, 0.0f);
  y[0] = 100.0f;
  y[1] = 33.0f;
  gg::block_q8_0 b;
  gg::quantize_q8_0(y.data(), 32, &b);
  const float d = 100.0f / 127.0f;
  CHECK(b.d.bits() == fp16(d).bits());
  CHECK(b.qs[0] == 127);
  CHECK(b.qs[1] == static_cast<int>(std::round(33.0f * (1.0f / d))));
  std::vector<float> out(32);
  gg::dequantize_q8_0(&b, 32, out.data());
  CHECK(out[1] == static_cast<float>(b.qs[1]) * static_cast<float>(b.d));
}

TEST_CASE("Q4_0: d = m/-8 from the first largest magnitude, q = min(15, trunc(x/d + 8.5))",
          "[quant]") {
  // m = -4 (negative): d = 0.5, id = 2.
  std::vector<float> x(32, 0.0f);
  x[0] = -4.0f;
  x[1] = 3.5f;    // 7 + 8.5 = 15.5 -> 15
  x[2] = 0.25f;   // 9.0 -> 9
  x[3] = -0.25f;  // 8.0 -> 8
  x[16] = 1.75f;  // 12.0 -> 12, high nibble of byte 0
  x[17] = 4.0f;   // |4| ties with the first -4, which stays m: 16.5 -> 16 -> 15
  gg::block_q4_0 b;
  gg::quantize_q4_0(x.data(), 32, &b);
  CHECK(static_cast<float>(b.d) == 0.5f);
  CHECK(lo(b, 0) == 0);
  CHECK(hi(b, 0) == 12);
  CHECK(lo(b, 1) == 15);
  CHECK(hi(b, 1) == 15);
  CHECK(lo(b, 2) == 9);
  CHECK(lo(b, 3) == 8);
  CHECK(lo(b, 4) == 8);  // zero
  CHECK(b.qs[0] == (0 | (12 << 4)));
  // m = +4 (positive): d = -0.5, so -4 clips to (15 - 8) * -0.5 = -3.5, as in ggml.
  x[0] = 4.0f;
  x[17] = -4.0f;
  gg::quantize_q4_0(x.data(), 32, &b);
  CHECK(static_cast<float>(b.d) == -0.5f);
  std::vector<float> out(32);
  gg::dequantize_q4_0(&b, 32, out.data());
  CHECK(out[0] == 4.0f);
  CHECK(out[17] == -3.5f);
  CHECK(out[5] == 0.0f);
  // All zeros: d = -0 (0 / -8), codes 8.
  std::vector<float> z(32, 0.0f);
  gg::quantize_q4_0(z.data(), 32, &b);
  CHECK(b.d.bits() == 0x8000);
  for (int j = 0; j < 16; ++j) CHECK(b.qs[j] == 0x88);
}

TEST_CASE("Q4_1: d = (max - min)/15, m = min, q = min(15, trunc((x - min)/d + 0.5))", "[quant]") {
  std::vector<float> x(32);
  for (std::size_t j = 0; j < 32; ++j) x[j] = 2.0f + static_cast<float>(j % 16);  // 2..17
  x[5] = 9.5f;    // (7.5 + 0.5) = 8
  x[6] = 9.49f;   // 7.99 -> 7
  x[20] = 16.6f;  // 15.1 -> 15
  gg::block_q4_1 b;
  gg::quantize_q4_1(x.data(), 32, &b);
  CHECK(static_cast<float>(b.d) == 1.0f);
  CHECK(static_cast<float>(b.m) == 2.0f);
  CHECK((b.qs[5] & 15) == 8);
  CHECK((b.qs[6] & 15) == 7);
  CHECK((b.qs[4] >> 4) == 15);  // element 20
  CHECK((b.qs[0] & 15) == 0);
  std::vector<float> out(32);
  gg::dequantize_q4_1(&b, 32, out.data());
  CHECK(out[5] == 10.0f);
  CHECK(out[20] == 17.0f);
  // A general block against the formula, value by value.
  const std::vector<float> r = normal_data(32, 3);
  gg::quantize_q4_1(r.data(), 32, &b);
  const float mn = *std::min_element(r.begin(), r.end());
  const float mx = *std::max_element(r.begin(), r.end());
  const float d = (mx - mn) / 15.0f, id = 1.0f / d;
  CHECK(b.d.bits() == fp16(d).bits());
  CHECK(b.m.bits() == fp16(mn).bits());
  gg::dequantize_q4_1(&b, 32, out.data());
  for (std::size_t j = 0; j < 32; ++j) {
    const float t = (r[j] - mn) * id;
    const int q = std::min(15, static_cast<int>(t + 0.5f));
    const int got = j < 16 ? (b.qs[j] & 15) : (b.qs[j - 16] >> 4);
    CHECK(got == q);
    const float p = static_cast<float>(q) * static_cast<float>(b.d);
    CHECK(out[j] == p + static_cast<float>(b.m));
  }
}

TEST_CASE("a partial last block is quantized as if zero-padded", "[quant]") {
  const std::vector<float> x = normal_data(40, 8);
  std::vector<float> padded(x);
  padded.resize(64, 0.0f);
  gg::block_q4_1 a[2], b[2];
  gg::quantize_q4_1(x.data(), 40, a);
  gg::quantize_q4_1(padded.data(), 64, b);
  CHECK(gg::to_bytes(a, 2) == gg::to_bytes(b, 2));
  gg::block_q8_0 c[2];
  gg::quantize_q8_0(x.data(), 40, c);
  std::vector<float> out(40);
  gg::dequantize_q8_0(c, 40, out.data());
  for (std::size_t i = 0; i < 40; ++i) {
    CHECK(std::fabs(out[i] - x[i]) <= static_cast<float>(c[i / 32].d) * 0.5f * 1.01f);
  }
}

TEST_CASE("NaN and Inf: no effect on the scale; NaN as 0, Inf as the extreme code", "[quant]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(32, 0.0f);
  x[0] = 1.0f;
  x[1] = nan;
  x[2] = inf;
  x[3] = -inf;
  gg::block_q8_0 q8;
  gg::quantize_q8_0(x.data(), 32, &q8);
  CHECK(static_cast<float>(q8.d) == static_cast<float>(fp16(1.0f / 127.0f)));
  CHECK(q8.qs[1] == 0);
  CHECK(q8.qs[2] == 127);
  CHECK(q8.qs[3] == -127);
  gg::block_q4_0 q4;
  gg::quantize_q4_0(x.data(), 32, &q4);
  CHECK(static_cast<float>(q4.d) == static_cast<float>(fp16(-0.125f)));
  CHECK(hi(q4, 0) == 8);  // element 16 = 0
  CHECK(lo(q4, 1) == 8);  // NaN as 0
  CHECK(lo(q4, 2) == 0);  // +Inf: the largest positive value, (0 - 8) * d
  CHECK(lo(q4, 3) == 15);
  gg::block_q4_1 q41;
  gg::quantize_q4_1(x.data(), 32, &q41);
  CHECK(static_cast<float>(q41.d) == static_cast<float>(fp16(1.0f / 15.0f)));
  CHECK((q41.qs[1] & 15) == 0);  // NaN as 0 = min
  CHECK((q41.qs[2] & 15) == 15);
  CHECK((q41.qs[3] & 15) == 0);
}

TEST_CASE("bytes: little-endian fp16 then the codes, and back", "[quant]") {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = -1.0f;
  gg::block_q8_0 b;
  gg::quantize_q8_0(x.data(), 32, &b);
  const std::vector<std::uint8_t> bytes = gg::to_bytes(&b, 1);
  REQUIRE(bytes.size() == 34);
  CHECK(bytes[0] == 0x00);
  CHECK(bytes[1] == 0x3C);
  CHECK(bytes[2] == 127);
  CHECK(bytes[3] == 0xFF);
  const auto back = gg::from_bytes<gg::block_q8_0>(bytes.data(), bytes.size());
  REQUIRE(back.size() == 1);
  CHECK(gg::to_bytes(back.data(), 1) == bytes);
  gg::block_q4_1 c[3];
  const std::vector<float> y = normal_data(96, 4);
  gg::quantize_q4_1(y.data(), 96, c);
  const std::vector<std::uint8_t> cb = gg::to_bytes(c, 3);
  CHECK(cb.size() == 60);
  CHECK(cb[2] == (c[0].m.bits() & 0xFF));
  CHECK(gg::to_bytes(gg::from_bytes<gg::block_q4_1>(cb.data(), cb.size()).data(), 3) == cb);
  require_invalid([&] { gg::from_bytes<gg::block_q4_0>(cb.data(), 19); },
                  {"from_bytes<Q4_0>", "size 19", "18"});
}

TEST_CASE("Q8_0 and Q4_0 import into quantized_tensor and export back byte for byte",
          "[quant]") {
  const std::vector<std::size_t> shape{3, 40};  // rows of 40: two blocks per row, padded
  const std::vector<float> x = normal_data(120, 5);
  std::vector<gg::block_q8_0> b8(6);
  std::vector<gg::block_q4_0> b4(6);
  for (std::size_t r = 0; r < 3; ++r) {
    gg::quantize_q8_0(x.data() + r * 40, 40, b8.data() + r * 2);
    gg::quantize_q4_0(x.data() + r * 40, 40, b4.data() + r * 2);
  }
  const lq::quantized_tensor q8 = gg::import_q8_0(b8.data(), b8.size(), shape);
  const lq::quantized_tensor q4 = gg::import_q4_0(b4.data(), b4.size(), shape);
  CHECK(q8.format() == lq::code_format::int8);
  CHECK(q8.qscheme().groups.block_size == 32);
  CHECK(q4.format() == lq::code_format::int4);
  CHECK(q8.scale_shape() == std::vector<std::size_t>{3, 2});
  const std::vector<float> d8 = q8.dequantize(), d4 = q4.dequantize();
  std::vector<float> g8(40), g4(40);
  for (std::size_t r = 0; r < 3; ++r) {
    gg::dequantize_q8_0(b8.data() + r * 2, 40, g8.data());
    gg::dequantize_q4_0(b4.data() + r * 2, 40, g4.data());
    for (std::size_t k = 0; k < 40; ++k) {
      REQUIRE(d8[r * 40 + k] == g8[k]);
      REQUIRE(d4[r * 40 + k] == g4[k]);
    }
  }
  const auto e8 = gg::export_q8_0(q8);
  const auto e4 = gg::export_q4_0(q4);
  CHECK(gg::to_bytes(e8.data(), e8.size()) == gg::to_bytes(b8.data(), b8.size()));
  CHECK(gg::to_bytes(e4.data(), e4.size()) == gg::to_bytes(b4.data(), b4.size()));
}

TEST_CASE("import and export reject what does not fit", "[quant]") {
  std::vector<gg::block_q8_0> b(3);
  require_invalid([&] { gg::import_q8_0(b.data(), 3, {2, 64}); },
                  {"import_q8_0", "3 Q8_0 blocks", "[2, 64]", "needs 4"});
  require_invalid([&] { gg::import_q8_0(b.data(), 3, {}); }, {"rank 0"});
  const std::vector<float> x = normal_data(64, 6);
  // lowprec's own int8 block-32 scales are floats, not fp16 values.
  const lq::quantized_tensor q = lq::quantize(x.data(), {64}, lq::absmax(lq::code_format::int8, lq::per_block(32)));
  require_invalid([&] { gg::export_q8_0(q); }, {"not an fp16 value", "nearest fp16: "});
  {  // the message quotes the scale and the fp16 value nearest it, both read back exactly
    const float s0 = q.scales()[0];
    const std::string quoted = lowprec::detail::shortest_decimal(s0);
    CHECK(std::stof(quoted) == s0);
    require_invalid([&] { gg::export_q8_0(q); }, {"scale 0 (" + quoted + ")"});
  }
  const lq::quantized_tensor r = lq::quantize(x.data(), {64}, lq::absmax(lq::code_format::int8, lq::per_block(64)));
  require_invalid([&] { gg::export_q8_0(r); }, {"per_block(32)", "block 64"});
  require_invalid([&] { gg::export_q4_0(r); }, {"int4"});
}
