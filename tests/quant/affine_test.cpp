// Zero-point quantization: the observer's qparams at their edges, the round-trip bound,
// NaN/Inf, all-zero and short blocks, and given-qparams errors that leave outputs alone.
// (Equality with PyTorch on ordinary data is torch_golden_test.)
#include "lowprec/quant/affine.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
using lq::code_format;
using lowprec_test::require_invalid;

namespace {

struct affine_result {
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
  std::vector<std::uint8_t> zps;
  std::vector<float> deq;
};

affine_result run(const std::vector<float>& x, std::size_t block, code_format f) {
  affine_result r;
  const std::size_t nb = lq::block_count(x.size(), block);
  r.codes.assign(lq::code_bytes(f, x.size()), 0xEE);
  r.scales.assign(nb, -1.0f);
  r.zps.assign(nb, 0xEE);
  lq::quantize_affine_blocks(x.data(), x.size(), block, f, r.codes.data(), r.scales.data(),
                             r.zps.data());
  r.deq.assign(x.size(), -7.0f);
  lq::dequantize_affine_blocks(r.codes.data(), r.scales.data(), r.zps.data(), x.size(), block, f,
                               r.deq.data());
  return r;
}

int code_at(const affine_result& r, code_format f, std::size_t i) {
  return f == code_format::uint4 ? (r.codes[i / 2] >> (4 * (i % 2))) & 15 : r.codes[i];
}

}  // namespace

TEST_CASE("observer qparams: PyTorch's formula at its edges", "[quant]") {
  // All zeros: scale eps, zero point qmin (torch: tensor([1.1921e-07]), tensor([0])).
  lq::qparams p = lq::affine_qparams(0.0f, 0.0f, code_format::uint8);
  CHECK(p.scale == 0x1p-23f);
  CHECK(p.zero_point == 0);
  // All positive: min_neg = 0, zero point at qmin.
  p = lq::affine_qparams(2.0f, 255.0f, code_format::uint8);
  CHECK(p.scale == 1.0f);
  CHECK(p.zero_point == 0);
  // All negative: max_pos = 0, zero point at qmax.
  p = lq::affine_qparams(-15.0f, -1.0f, code_format::uint4);
  CHECK(p.scale == 1.0f);
  CHECK(p.zero_point == 15);
  // min -8, max 7.9375 over 255 levels: scale 1/16 exactly, zero point 128.
  p = lq::affine_qparams(-8.0f, 7.9375f, code_format::uint8);
  CHECK(p.scale == 0.0625f);
  CHECK(p.zero_point == 128);
  // A zero point at a tie rounds half to even: min_neg / scale = -2.5 -> -2 -> zp 2.
  p = lq::affine_qparams(-2.5f, 12.5f, code_format::uint4);
  CHECK(p.scale == 1.0f);
  CHECK(p.zero_point == 2);
  p = lq::affine_qparams(-3.5f, 11.5f, code_format::uint4);
  CHECK(p.zero_point == 4);
  // A range wider than FLT_MAX: finite scale (torch's would be infinite).
  p = lq::affine_qparams(-FLT_MAX, FLT_MAX, code_format::uint8);
  CHECK(std::isfinite(p.scale));
  CHECK(p.scale == FLT_MAX / 255.0f - (-FLT_MAX / 255.0f));
  CHECK(p.zero_point == 128);  // 0 - round(-127.5) = 128 (ties to even)
  require_invalid([] { lq::affine_qparams(0, 1, code_format::int8); }, {"int8", "uint8 or uint4"});
}

TEST_CASE("affine codes round trip within scale/2 on every element", "[quant]") {
  std::mt19937 gen(7);
  for (const code_format f : {code_format::uint8, code_format::uint4}) {
    for (const std::size_t block : {std::size_t{1}, std::size_t{13}, std::size_t{64}, std::size_t{500}}) {
      for (const float shift : {-5.0f, 0.0f, 3.0f}) {
        std::normal_distribution<float> dist(shift, 2.0f);
        std::vector<float> x(500);
        for (float& v : x) v = dist(gen);
        const affine_result r = run(x, block, f);
        for (std::size_t i = 0; i < x.size(); ++i) {
          const float s = r.scales[i / block];
          // scale/2, plus the float roundings of x * (1/scale) and (q - zp) * scale.
          const double range = static_cast<double>(s) * lq::info(f).qmax;
          const double bound = s / 2.0 + 3.0 * range * 0x1p-24;
          INFO(lq::to_string(f) << " block " << block << " i " << i << " x " << x[i]);
          REQUIRE(std::fabs(static_cast<double>(x[i]) - r.deq[i]) <= bound);
        }
      }
    }
  }
}

TEST_CASE("zero is exact under every zero point", "[quant]") {
  const std::vector<float> x{-3.7f, 0.0f, 11.1f, -0.0f, 0.3f};
  for (const code_format f : {code_format::uint8, code_format::uint4}) {
    const affine_result r = run(x, x.size(), f);
    CHECK(r.deq[1] == 0.0f);
    CHECK(r.deq[3] == 0.0f);
    CHECK(code_at(r, f, 1) == r.zps[0]);
  }
}

TEST_CASE("a given scale so small that 1/scale overflows still encodes 0 as the zero point",
          "[quant]") {
  // 1 / 2^-140 is +Inf in float: 0 * Inf would be NaN, and NaN -> int is undefined.
  const float tiny = std::ldexp(1.0f, -140);
  const std::vector<float> x{0.0f, -0.0f, 1e-30f, -1e-30f, 0.0f, 0.0f, 0.0f, 0.0f,
                             0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 5.0f};
  for (const code_format f : {code_format::uint8, code_format::uint4}) {
    const int zp = f == code_format::uint8 ? 100 : 9;
    const int qmax = f == code_format::uint8 ? 255 : 15;
    std::vector<std::uint8_t> codes(lq::code_bytes(f, x.size()), 0xEE);
    lq::quantize_affine(x.data(), x.size(), lq::qparams{tiny, zp}, f, codes.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const int c = f == code_format::uint4 ? (codes[i / 2] >> (4 * (i % 2))) & 15 : codes[i];
      INFO("format " << lq::to_string(f) << ", element " << i << " = " << x[i]);
      CHECK(c == (x[i] > 0.0f ? qmax : (x[i] < 0.0f ? 0 : zp)));
    }
  }
}

TEST_CASE("NaN encodes as the zero point, Inf as qmax/qmin; neither moves the qparams",
          "[quant]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x{-1.0f, nan, inf, -inf, 3.0f};
  for (const code_format f : {code_format::uint8, code_format::uint4}) {
    const affine_result r = run(x, x.size(), f);
    const lq::qparams p = lq::affine_qparams(-1.0f, 3.0f, f);
    CHECK(r.scales[0] == p.scale);
    CHECK(r.zps[0] == p.zero_point);
    CHECK(code_at(r, f, 1) == p.zero_point);
    CHECK(r.deq[1] == 0.0f);
    CHECK(code_at(r, f, 2) == lq::info(f).qmax);
    CHECK(code_at(r, f, 3) == lq::info(f).qmin);
  }
  // Only non-finite values: the all-zero qparams.
  const affine_result r = run({nan, inf}, 2, code_format::uint8);
  CHECK(r.scales[0] == lq::affine_eps);
  CHECK(r.zps[0] == 0);
  CHECK(r.codes[0] == 0);
  CHECK(r.codes[1] == 255);
}

TEST_CASE("values beyond the range clamp, huge ones included", "[quant]") {
  const std::vector<float> x{1e30f, -1e30f, 1e6f, FLT_MAX, -FLT_MAX};
  std::vector<std::uint8_t> codes(x.size());
  lq::quantize_affine(x.data(), x.size(), {0.1f, 10}, code_format::uint8, codes.data());
  CHECK(codes == std::vector<std::uint8_t>{255, 0, 255, 255, 0});
}

TEST_CASE("all-zero blocks decode to exact zeros; short last blocks have their own qparams",
          "[quant]") {
  std::vector<float> x(40, 0.0f);
  for (std::size_t i = 32; i < 40; ++i) x[i] = static_cast<float>(i);
  const affine_result r = run(x, 16, code_format::uint4);
  REQUIRE(r.scales.size() == 3);
  for (std::size_t i = 0; i < 32; ++i) REQUIRE(r.deq[i] == 0.0f);
  CHECK(r.scales[2] == lq::affine_qparams(32.0f, 39.0f, code_format::uint4).scale);
  CHECK(r.scales[2] == 39.0f / 15.0f);
}

TEST_CASE("given qparams are validated before anything is written", "[quant]") {
  const std::vector<float> x{1.0f, 2.0f};
  std::vector<std::uint8_t> codes(2, 0xEE);
  const auto call = [&](float scale, int zp, code_format f) {
    return [&codes, &x, scale, zp, f] {
      lq::quantize_affine(x.data(), x.size(), {scale, zp}, f, codes.data());
    };
  };
  require_invalid(call(0.0f, 0, code_format::uint8), {"quantize_affine", "scale", "> 0"});
  require_invalid(call(-1.0f, 0, code_format::uint8), {"scale"});
  // The rejected value is quoted as it is (std::to_string would print -0.000000).
  require_invalid(call(-1e-9f, 0, code_format::uint8), {"scale is -1e-09;"});
  require_invalid(call(std::numeric_limits<float>::quiet_NaN(), 0, code_format::uint8), {"scale"});
  require_invalid(call(std::numeric_limits<float>::infinity(), 0, code_format::uint8), {"finite"});
  require_invalid(call(1.0f, 256, code_format::uint8), {"zero_point", "256", "0..255"});
  require_invalid(call(1.0f, 16, code_format::uint4), {"zero_point", "16", "0..15"});
  require_invalid(call(1.0f, -1, code_format::uint8), {"zero_point", "-1"});
  require_invalid(call(1.0f, 0, code_format::int8), {"int8"});
  CHECK(codes == std::vector<std::uint8_t>(2, 0xEE));
  std::vector<float> s(1, -1.0f);
  std::vector<std::uint8_t> z(1, 0xEE);
  require_invalid([&] {
    lq::quantize_affine_blocks(x.data(), 2, 0, code_format::uint8, codes.data(), s.data(), z.data());
  }, {"block is 0"});
  CHECK(codes == std::vector<std::uint8_t>(2, 0xEE));
  CHECK(s[0] == -1.0f);
}

TEST_CASE("uint4 codes are packed first element in the low nibble (torch.quint4x2)", "[quant]") {
  // torch.quantize_per_tensor(tensor([1., 2., 3.]), 0.5, 1, torch.quint4x2).int_repr()
  // is tensor([83, 7]): codes 3, 5, 7.
  const std::vector<float> x{1.0f, 2.0f, 3.0f};
  std::vector<std::uint8_t> codes(2);
  lq::quantize_affine(x.data(), 3, {0.5f, 1}, code_format::uint4, codes.data());
  CHECK(codes == std::vector<std::uint8_t>{83, 7});
}
