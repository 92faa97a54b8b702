// The scalar definitions of issue 6 against brute-force oracles and hand-computed cases:
// the NF4 table and its encoder (millions of values, every threshold neighbourhood),
// codebooks (NF4, FP4, the 8-bit dynamic map, user tables) and their bad tables, double
// quantization of block scales, and the LLM.int8() outlier decomposition. Standard library
// only: no SIMD kernels are compiled here.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lowprec/quant/codebook.hpp"
#include "lowprec/quant/double_quant.hpp"
#include "lowprec/quant/nf4.hpp"
#include "lowprec/quant/outlier.hpp"
#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
using lowprec::nf4;
using lowprec_test::require_invalid;

namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

// Brute force: the entry nearest t (distances in double, exact for floats in [-2, 2]); an
// exact tie goes to the lower entry (bitsandbytes' strict ">"). NaN: the entry nearest 0.
std::uint8_t nearest_oracle(const std::vector<float>& table, float t) {
  if (t != t) t = 0.0f;
  std::size_t best = 0;
  double best_d = std::fabs(static_cast<double>(t) - table[0]);
  for (std::size_t k = 1; k < table.size(); ++k) {
    const double d = std::fabs(static_cast<double>(t) - table[k]);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return static_cast<std::uint8_t>(best);
}

// Where a float32 threshold and the exact nearest value part: t is a threshold that lies
// above the exact midpoint. There bitsandbytes (and lowprec) keep the lower code. (Which
// floats those are comes from the thresholds under test; the NF4 ones are checked against
// bitsandbytes' literals separately.)
bool threshold_above_midpoint(const std::vector<float>& table, const std::vector<float>& th,
                              float t, std::size_t* lower) {
  for (std::size_t k = 0; k + 1 < table.size(); ++k) {
    const double m = (static_cast<double>(table[k]) + table[k + 1]) / 2;
    if (t == th[k] && static_cast<double>(t) > m) {
      *lower = k;
      return true;
    }
  }
  return false;
}

std::uint8_t expected_code(const std::vector<float>& table, const std::vector<float>& th,
                           float t) {
  std::size_t lower = 0;
  if (threshold_above_midpoint(table, th, t, &lower)) return static_cast<std::uint8_t>(lower);
  return nearest_oracle(table, t);
}

const std::vector<float>& nf4_table() {
  static const std::vector<float> v(nf4::values.begin(), nf4::values.end());
  return v;
}

// Every float within `radius` ulps of each threshold and each table value.
std::vector<float> neighbourhoods(const std::vector<float>& table, int radius) {
  std::vector<float> pts;
  std::vector<float> centres = table;
  for (std::size_t k = 0; k + 1 < table.size(); ++k) {
    centres.push_back(static_cast<float>((static_cast<double>(table[k]) + table[k + 1]) / 2));
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (const float c : centres) {
    float lo = c, hi = c;
    pts.push_back(c);
    for (int i = 0; i < radius; ++i) {
      lo = std::nextafter(lo, -inf);
      hi = std::nextafter(hi, inf);
      pts.push_back(lo);
      pts.push_back(hi);
    }
  }
  return pts;
}

}  // namespace

// ---- nf4 ---------------------------------------------------------------------------------

TEST_CASE("nf4 values are bitsandbytes' float32 table and thresholds its float literals",
          "[nf4]") {
  // REFERENCE.md section 3.
  const std::uint32_t want_bits[16] = {
      0xBF800000, 0xBF3239B1, 0xBF066B30, 0xBECA32A0, 0xBE91A24D, 0xBE3D353F,
      0xBDBA7871, 0x00000000, 0x3DA2FAFF, 0x3E24CAE3, 0x3E7C04DD, 0x3EAD033A,
      0x3EE1A4B8, 0x3F1007AB, 0x3F3913B3, 0x3F800000};
  for (std::size_t k = 0; k < 16; ++k) {
    INFO("code " << k);
    CHECK(bits_of(nf4::values[k]) == want_bits[k]);
    CHECK(bits_of(static_cast<float>(nf4::from_bits(static_cast<std::uint8_t>(k)))) ==
          want_bits[k]);
  }
  // bitsandbytes kernels.cu dQuantizeNF4's decision-tree constants, as float literals.
  const float tree[15] = {-0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f,
                          -0.33967943489551544f, -0.23460740596055984f, -0.13791173323988914f,
                          -0.045525018125772476f, 0.03979014977812767f, 0.1202552504837513f,
                          0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
                          0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};
  for (std::size_t k = 0; k < 15; ++k) {
    INFO("threshold " << k);
    CHECK(bits_of(nf4::thresholds()[k]) == bits_of(tree[k]));
  }
  CHECK(lq::nf4_codebook().thresholds() ==
        std::vector<float>(nf4::thresholds().begin(), nf4::thresholds().end()));
  static_assert(nf4::values[7] == 0.0f && nf4::from_bits(15) == nf4::from_bits(0x1F),
                "the table and from_bits are constexpr");
}

TEST_CASE("four NF4 thresholds lie above the midpoint, and the tree keeps the lower code there",
          "[nf4]") {
  std::vector<std::size_t> up;
  for (std::size_t k = 0; k < 15; ++k) {
    const double m = (static_cast<double>(nf4::values[k]) + nf4::values[k + 1]) / 2;
    const float t = nf4::thresholds()[k];
    if (static_cast<double>(t) > m) {
      up.push_back(k);
      CHECK(nf4::encode(t) == k);                  // bitsandbytes: not above the threshold
      CHECK(nearest_oracle(nf4_table(), t) == k + 1);  // the exact nearest value is above
    } else {
      CHECK(nf4::encode(t) == nearest_oracle(nf4_table(), t));
    }
  }
  CHECK(up == std::vector<std::size_t>{1, 3, 4, 8});
}

TEST_CASE("nf4 encodes every threshold neighbourhood and millions of values as the oracle",
          "[nf4]") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> pts = neighbourhoods(nf4_table(), 64);
  std::mt19937 gen(2024);
  std::uniform_real_distribution<float> uni(-1.05f, 1.05f);
  std::normal_distribution<float> gauss(0.0f, 0.35f);
  for (int i = 0; i < 2'000'000; ++i) pts.push_back(uni(gen));
  for (int i = 0; i < 2'000'000; ++i) pts.push_back(gauss(gen));
  for (int i = 0; i < 100'000; ++i) pts.push_back(std::ldexp(uni(gen), -30 - (i % 100)));
  std::size_t mismatches = 0;
  for (const float t : pts) {
    const std::uint8_t want = expected_code(nf4_table(), lq::nf4_codebook().thresholds(), t);
    const std::uint8_t got = nf4::encode(t);
    if (got != want) {
      ++mismatches;
      UNSCOPED_INFO("t " << t << " code " << int(got) << " oracle " << int(want));
    }
    if (lq::nf4_codebook().encode(t) != got) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(nf4::encode(std::numeric_limits<float>::quiet_NaN()) == 7);
  CHECK(nf4::encode(inf) == 15);
  CHECK(nf4::encode(-inf) == 0);
  CHECK(nf4::encode(-0.0f) == 7);
  for (std::uint8_t c = 0; c < 16; ++c) CHECK(nf4(static_cast<float>(nf4::from_bits(c))).bits() == c);
}

// ---- codebooks ---------------------------------------------------------------------------

TEST_CASE("codebooks encode to the nearest entry, ties to the lower one", "[codebook]") {
  const lq::codebook user({-3.0f, -1.0f, -0.5f, 0.25f, 0.5f, 2.0f}, "user");
  const lq::codebook* books[] = {&lq::nf4_codebook(), &lq::fp4_bnb_codebook(),
                                 &lq::dynamic_signed8_codebook(), &user};
  std::mt19937 gen(3);
  for (const lq::codebook* cb : books) {
    INFO(cb->name());
    std::vector<float> pts = neighbourhoods(cb->values(), 4);
    const float lo = cb->values().front() * 1.1f, hi = cb->values().back() * 1.1f;
    std::uniform_real_distribution<float> uni(lo, hi);
    for (int i = 0; i < 200'000; ++i) pts.push_back(uni(gen));
    std::size_t mismatches = 0;
    for (const float t : pts) {
      mismatches += cb->encode(t) != expected_code(cb->values(), cb->thresholds(), t) ? 1 : 0;
    }
    CHECK(mismatches == 0);
    CHECK(cb->encode(std::numeric_limits<float>::quiet_NaN()) ==
          nearest_oracle(cb->values(), 0.0f));
  }
  CHECK(lq::fp4_bnb_codebook().size() == 15);
  CHECK(lq::fp4_bnb_codebook().value(15) != lq::fp4_bnb_codebook().value(15));  // NaN pad
  CHECK(lq::fp4_bnb_codebook().values()[14] == 1.0f);
  CHECK(lq::fp4_bnb_codebook().values()[8] == 0.0625f / 12.0f);
  CHECK(lq::dynamic_signed8_codebook().bits() == 8);
  CHECK(user.bits() == 4);
}

TEST_CASE("bad codebook tables throw naming the entry", "[codebook][errors]") {
  require_invalid([] { lq::codebook({0.5f, 0.25f, 1.0f}); },
                  {"table[1] = 0.25", "not greater than table[0] = 0.5", "strictly ascending"});
  require_invalid([] { lq::codebook({0.0f, 0.0f}); }, {"table[1]", "strictly ascending"});
  require_invalid([] { lq::codebook({1.0f}); }, {"table has 1 entries", "2..256"});
  require_invalid([] { lq::codebook(std::vector<float>(257, 0.0f)); }, {"table has 257 entries"});
  require_invalid([] { lq::codebook({0.0f, std::numeric_limits<float>::quiet_NaN()}); },
                  {"table[1] is nan", "finite"});
  require_invalid([] { lq::codebook({-std::numeric_limits<float>::infinity(), 0.0f}); },
                  {"table[0] is -inf"});
  std::vector<float> ok(256);
  for (std::size_t k = 0; k < ok.size(); ++k) ok[k] = static_cast<float>(k);
  CHECK(lq::codebook(ok).size() == 256);
}

TEST_CASE("blockwise codebook quantization: zero blocks, NaN, Inf and short tails",
          "[codebook]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 3 blocks of 32 (+ a tail of 5): zeros; NaN, Inf and finite; tiny.
  std::vector<float> x(101, 0.0f);
  x[32] = nan;
  x[33] = -inf;
  x[34] = 2.0f;
  x[35] = -1.0f;
  x[64] = 1e-42f;
  x[100] = -3.0f;
  std::vector<std::uint8_t> codes(51, 0xAB);
  std::vector<float> absmax(4, -1.0f), out(101);
  lq::detail::quantize_codebook_blocks_scalar(x.data(), x.size(), 32, lq::nf4_codebook(),
                                              codes.data(), absmax.data());
  lq::detail::dequantize_codebook_blocks_scalar(codes.data(), absmax.data(), x.size(), 32,
                                                lq::nf4_codebook(), out.data());
  CHECK(absmax == std::vector<float>{0.0f, 2.0f, 1e-42f, 3.0f});
  CHECK(codes[0] == 0x77);  // zero block: code 7 (value 0)
  CHECK(codes[16] == (7 | 0 << 4));   // NaN -> 7, -Inf -> 0
  CHECK(codes[17] == (15 | 2 << 4));  // 2 / 2 = 1 -> 15; -1 / 2 = -0.5 -> code 2 (-0.525)
  CHECK(codes[32] == 0x7F);           // 1 / 1e-42 overflows: 1e-42 * inf = inf -> 15; 0*inf -> 7
  CHECK(codes[50] == 0x00);           // the tail: -3 / 3 -> code 0; the unused nibble is 0
  CHECK(out[0] == 0.0f);
  CHECK(out[32] == 0.0f);
  CHECK(out[33] == -2.0f);
  CHECK(out[100] == -3.0f);
}

// ---- double quantization -------------------------------------------------------------

TEST_CASE("double-quantized scales round-trip within half a map gap", "[double_quant]") {
  std::mt19937 gen(9);
  std::gamma_distribution<float> g(4.0f, 0.01f);  // absmax-like: positive, skewed
  std::vector<float> s(1000 * 3 + 17);
  for (float& v : s) v = g(gen);
  s[5] = 0.0f;  // an all-zero block
  const lq::double_quant_scales d = lq::double_quantize(s);
  REQUIRE(d.codes.size() == s.size());
  REQUIRE(d.absmax2.size() == (s.size() + 255) / 256);
  double sum = 0;
  for (const float v : s) sum += v;
  CHECK(d.offset == static_cast<float>(sum / static_cast<double>(s.size())));
  const std::vector<float>& map = lq::dynamic_signed8_codebook().values();
  const std::vector<float> back = d.dequantize();
  for (std::size_t b = 0; b < s.size(); ++b) {
    const float a2 = d.absmax2[b / 256];
    const float t = (s[b] - d.offset) * (1.0f / a2);
    INFO("scale " << b << " = " << s[b] << " back " << back[b]);
    REQUIRE(d.codes[b] == expected_code(map, lq::dynamic_signed8_codebook().thresholds(), t));
    const std::size_t c = d.codes[b];
    const double gap = std::max(c > 0 ? map[c] - map[c - 1] : 0.0f,
                                c + 1 < map.size() ? map[c + 1] - map[c] : 0.0f);
    const double bound = a2 * gap / 2 + 4 * std::numeric_limits<float>::epsilon() *
                                            (std::fabs(s[b]) + std::fabs(d.offset) + a2);
    REQUIRE(std::fabs(static_cast<double>(back[b]) - s[b]) <= bound);
    REQUIRE(back[b] == d.scale(b));
  }
  CHECK(lq::double_quantize(nullptr, 0).codes.empty());
}

TEST_CASE("double quantization saves 0.37 bits per parameter at block 64", "[double_quant]") {
  const std::size_t n = std::size_t{4096} * 4096;
  CHECK(lq::bits_per_parameter(n, 64, 4, false) == 4.5);
  const double dq = lq::bits_per_parameter(n, 64, 4, true);
  CHECK(dq == Approx(4.0 + 8.0 / 64 + 32.0 / (64 * 256)).epsilon(1e-6));
  CHECK(std::round(dq * 1000) / 1000 == 4.127);
  CHECK(lq::bits_per_parameter(n, 64, 8, false) == 8.5);
}

TEST_CASE("double_quantize rejects NaN, infinite and negative scales", "[double_quant][errors]") {
  std::vector<float> s(10, 1.0f);
  s[7] = -0.5f;
  require_invalid([&] { lq::double_quantize(s); }, {"scales[7] is -0.5", "finite and >= 0"});
  s[7] = std::numeric_limits<float>::quiet_NaN();
  require_invalid([&] { lq::double_quantize(s); }, {"scales[7] is nan"});
}

// ---- LLM.int8() ----------------------------------------------------------------------

TEST_CASE("LLM.int8 splits the outlier column and reproduces a hand-computed product",
          "[outlier]") {
  // X: 2 tokens x 3 features; feature 1 has |8| > 6, so it is the outlier column.
  const float x[6] = {1.0f, 8.0f, -0.5f,  //
                      2.0f, 0.5f, 1.0f};
  // W: 2 outputs x 3 features, chosen so that every code is exact (scales 1/127 * 127).
  const float w[6] = {127.0f, 2.0f, -127.0f,  //
                      0.0f, -64.0f, 127.0f};
  const lq::llm_int8_linear layer(w, 2, 3);
  CHECK(layer.scales() == std::vector<float>{1.0f, 1.0f});
  CHECK(layer.codes() == std::vector<std::int8_t>{127, 2, -127, 0, -64, 127});
  float y[4] = {};
  const std::vector<std::size_t> cols = layer.forward(x, 2, 6, y, 4);
  CHECK(cols == std::vector<std::size_t>{1});
  // Token 0: regular part from features 0, 2: absmax 1, sx = 1/127, codes 127, -64 (-63.5
  // rounds half to even). y00 = (127*127 + -64*-127) * sx * 1 + 8 * 2.
  const float sx0 = 1.0f / 127.0f;
  CHECK(y[0] == static_cast<float>(127 * 127 + 64 * 127) * sx0 * 1.0f + 16.0f);
  CHECK(y[1] == static_cast<float>(-64 * 127) * sx0 * 1.0f + 8.0f * -64.0f);
  // Token 1: absmax 2 over features 0, 2: sx = 2/127, codes 127 and 64 (63.5 -> 64).
  const float sx1 = 2.0f / 127.0f;
  CHECK(y[2] == static_cast<float>(127 * 127 - 64 * 127) * sx1 * 1.0f + 0.5f * 2.0f);
  CHECK(y[3] == static_cast<float>(64 * 127) * sx1 * 1.0f + 0.5f * -64.0f);
  // Without the split (threshold above every |x|) the 8 is quantized with the rest.
  CHECK(layer.forward(x, 2, 6, y, 4, 100.0f).empty());
}

TEST_CASE("LLM.int8 error against fp32 stays small with outliers; without the split it grows",
          "[outlier]") {
  const std::size_t tokens = 16, in = 256, out = 64;
  std::mt19937 gen(17);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(tokens * in), w(out * in);
  for (float& v : x) v = dist(gen) * 0.5f;
  for (float& v : w) v = dist(gen) * 0.05f;
  for (std::size_t t = 0; t < tokens; ++t) x[t * in + 13] = 40.0f + static_cast<float>(t);
  const lq::llm_int8_report split = lq::llm_int8_matmul(x.data(), tokens, w.data(), out, in);
  CHECK(split.outlier_columns == std::vector<std::size_t>{13});
  const lq::llm_int8_report plain =
      lq::llm_int8_matmul(x.data(), tokens, w.data(), out, in, 1000.0f);
  CHECK(plain.outlier_columns.empty());
  CHECK(split.error.sqnr_db > 35.0);
  CHECK(split.error.sqnr_db > plain.error.sqnr_db + 10.0);
}

TEST_CASE("LLM.int8 rejects bad sizes, thresholds and weights; NaN activations propagate",
          "[outlier][errors]") {
  const float w[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  const lq::llm_int8_linear layer(w, 2, 2);
  float x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  float y[4] = {-1.0f, -1.0f, -1.0f, -1.0f};
  require_invalid([&] { layer.forward(x, 2, 3, y, 4); }, {"x has 3 elements", "needs 4"});
  require_invalid([&] { layer.forward(x, 2, 4, y, 5); }, {"y has 5 elements", "needs 4"});
  require_invalid([&] { layer.forward(x, 2, 4, y, 4, 0.0f); }, {"threshold is 0", "> 0"});
  CHECK(std::all_of(y, y + 4, [](float v) { return v == -1.0f; }));
  const float bad[4] = {1.0f, std::numeric_limits<float>::infinity(), 0.0f, 0.0f};
  require_invalid([&] { lq::llm_int8_linear(bad, 2, 2); }, {"w[1] (row 0) is inf", "finite"});
  x[2] = std::numeric_limits<float>::quiet_NaN();
  CHECK(layer.forward(x, 2, 4, y, 4) == std::vector<std::size_t>{0});
  CHECK(std::isnan(y[2]));
  CHECK(std::isnan(y[3]));
  CHECK(y[0] == y[0]);
}
