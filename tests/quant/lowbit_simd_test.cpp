// The Highway kernels of simd/quant_lowbit-inl.hpp against their scalar definitions, bit for
// bit, on every compiled target the CPU supports: codebook quantize/dequantize of 4-bit
// tables (NF4, FP4, a user table) and the fused int8/int4/NF4 products, plain and with
// double-quantized scales. Also: PyTorch golden NF4 data in bitsandbytes' layout, fused
// products against an fp32 product of the dequantized weights, and bad input. The only
// translation unit of these tests that compiles lowprec's SIMD kernels.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lowprec/quant/codebook_blocks.hpp"
#include "lowprec/quant/fused.hpp"
#include "support/expect.hpp"
#include "support/catch.hpp"
#include "support/targets.hpp"

namespace lq = lowprec::quant;
using lowprec_test::for_each_target;
using lowprec_test::require_invalid;

namespace {

const lq::codebook& user_table() {
  static const lq::codebook c({-0.9f, -0.7f, -0.5f, -0.3f, -0.2f, -0.1f, -0.05f, 0.0f, 0.02f,
                               0.1f, 0.2f, 0.3f, 0.45f, 0.6f, 0.8f, 1.0f},
                              "user16");
  return c;
}

// Thresholds (midpoints) exactly on the AVX-512 grid encoder's cell edges (multiples of
// 1/16 - 1: -0.8125, -0.5, -0.25, 0, 0.25, 0.5, 0.8125), where its cell lookup is decided
// by the rounding of 16 t + 16.
const lq::codebook& edge_table() {
  static const lq::codebook c({-1.0f, -0.625f, -0.375f, -0.125f, 0.125f, 0.375f, 0.625f, 1.0f},
                              "edges8");
  return c;
}

// Gaussian blocks mixed with blocks that reach every branch: elements exactly at, and one
// float either side of, every threshold (block absmax 1, so t = x exactly), all-zero,
// subnormal (1 / absmax overflows), NaN and Inf blocks.
std::vector<float> make_input(std::size_t n, std::size_t block, const lq::codebook& cb,
                              std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t end = std::min(n, start + block);
    switch (b % 8) {
      case 1: {
        std::size_t i = start;
        x[i++] = 1.0f;
        for (std::size_t k = 0; i < end; i++, ++k) {
          const float th = cb.thresholds()[(k / 3) % cb.thresholds().size()];
          x[i] = k % 3 == 0 ? th : std::nextafter(th, k % 3 == 1 ? -inf : inf);
        }
        break;
      }
      case 2:
        std::fill(x.begin() + static_cast<std::ptrdiff_t>(start),
                  x.begin() + static_cast<std::ptrdiff_t>(end), 0.0f);
        break;
      case 3:
        for (std::size_t i = start; i < end; ++i) x[i] *= 1e-40f;
        break;
      case 4: x[start + (end - start) / 2] = std::numeric_limits<float>::quiet_NaN(); break;
      case 5: x[end - 1] = -inf; break;
      default: break;
    }
  }
  return x;
}

constexpr std::size_t kGuard = 16;

struct coded {
  std::vector<std::uint8_t> codes;
  std::vector<float> absmax, values;
};

coded run_codebook(const float* x, std::size_t n, std::size_t block, const lq::codebook& cb,
                   bool scalar) {
  coded o;
  o.codes.assign(cb.code_bytes(n) + kGuard, 0xAB);
  o.absmax.assign((n + block - 1) / block + kGuard, -1.0f);
  o.values.assign(n + kGuard, -3.0f);
  if (scalar) {
    lq::detail::quantize_codebook_blocks_scalar(x, n, block, cb, o.codes.data(), o.absmax.data());
    lq::detail::dequantize_codebook_blocks_scalar(o.codes.data(), o.absmax.data(), n, block, cb,
                                                  o.values.data());
  } else {
    lq::quantize_codebook_blocks(x, n, block, cb, o.codes.data(), o.absmax.data());
    lq::dequantize_codebook_blocks(o.codes.data(), o.absmax.data(), n, block, cb, o.values.data());
  }
  return o;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("4-bit codebook kernels equal the scalar definition on every target", "[quant][nf4]") {
  const lq::codebook* tables[] = {&lq::nf4_codebook(), &lq::fp4_bnb_codebook(), &user_table(),
                                  &edge_table()};
  const std::size_t lengths[] = {0, 1, 2, 7, 31, 32, 33, 64, 65, 127, 129, 1000, 4096 + 17};
  const std::size_t blocks[] = {32, 64, 128, 4096};
  for (const lq::codebook* cb : tables) {
    for (const std::size_t block : blocks) {
      const std::vector<float> input = make_input(4096 + 17 + 3, block, *cb, 7);
      for (const std::size_t n : lengths) {
        for (const std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
          const float* x = input.data() + offset;
          const coded want = run_codebook(x, n, block, *cb, true);
          for_each_target([&] {
            INFO(cb->name() << " block " << block << " n " << n << " offset " << offset);
            const coded got = run_codebook(x, n, block, *cb, false);
            CHECK(got.codes == want.codes);
            CHECK(same_bits(got.absmax, want.absmax));
            CHECK(same_bits(got.values, want.values));
          });
        }
      }
    }
  }
}

TEST_CASE("NF4 codes of a million Gaussian values equal the scalar encoder on every target",
          "[quant][nf4]") {
  const std::size_t n = std::size_t{1} << 20;
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  std::vector<float> absmax(n / 64);
  std::vector<std::uint8_t> packed(n / 2);
  for_each_target([&] {
    lq::quantize_nf4(x.data(), n, packed.data(), absmax.data());
    std::size_t bad = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint8_t want = lowprec::nf4::encode(x[j] * (1.0f / absmax[j / 64]));
      const auto got = static_cast<std::uint8_t>((packed[j / 2] >> ((j % 2) * 4)) & 0x0F);
      bad += want != got ? 1 : 0;
    }
    CHECK(bad == 0);
  });
}

// ---- golden data from PyTorch (tests/data/quant/make_nf4_golden.py) ----------------------

namespace {

std::vector<std::uint32_t> read_hex_line(std::istringstream& ss) {
  std::vector<std::uint32_t> v;
  std::string h;
  while (ss >> h) v.push_back(static_cast<std::uint32_t>(std::stoul(h, nullptr, 16)));
  return v;
}
float as_float(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

TEST_CASE("NF4 blocks match PyTorch's independent bitsandbytes-rule golden data byte for byte",
          "[quant][nf4]") {
  std::ifstream in(std::string(LOWPREC_QUANT_DATA_DIR) + "/nf4_golden.txt");
  REQUIRE(in);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.rfind("case", 0) != 0) continue;
    std::istringstream head(line);
    std::string word, name;
    std::size_t block = 0, n = 0;
    head >> word >> name >> block >> n;
    std::vector<float> x, absmax, deq;
    std::vector<std::uint8_t> bnb;
    for (int part = 0; part < 4 && std::getline(in, line); ++part) {
      std::istringstream ss(line);
      ss >> word;
      const std::vector<std::uint32_t> v = read_hex_line(ss);
      if (word == "x") {
        for (auto u : v) x.push_back(as_float(u));
      } else if (word == "absmax") {
        for (auto u : v) absmax.push_back(as_float(u));
      } else if (word == "bnb_bytes") {
        for (auto u : v) bnb.push_back(static_cast<std::uint8_t>(u));
      } else if (word == "deq") {
        for (auto u : v) deq.push_back(as_float(u));
      }
    }
    INFO("case " << name << " block " << block << " n " << n);
    REQUIRE(x.size() == n);
    REQUIRE(deq.size() == n);
    std::vector<std::uint8_t> packed(lowprec::packed_size(n));
    std::vector<float> got_absmax((n + block - 1) / block), got_deq(n);
    lq::quantize_nf4(x.data(), n, packed.data(), got_absmax.data(), block);
    CHECK(same_bits(got_absmax, absmax));
    CHECK(lq::to_bitsandbytes_nf4(packed.data(), n) == bnb);
    CHECK(lq::from_bitsandbytes_nf4(bnb, n) == packed);
    lq::dequantize_nf4(packed.data(), got_absmax.data(), n, got_deq.data(), block);
    CHECK(same_bits(got_deq, deq));
    ++cases;
  }
  CHECK(cases >= 4);
}

// ---- fused products ---------------------------------------------------------------------

namespace {

struct fused_case {
  lq::weight_format format;
  const lq::codebook* cb;
};

lq::blockwise_matrix make_matrix(const std::vector<float>& w, std::size_t rows, std::size_t cols,
                                 const fused_case& f, std::size_t block, bool dq) {
  if (f.cb != nullptr) return lq::blockwise_matrix::quantize(w.data(), rows, cols, *f.cb, block, dq);
  return lq::blockwise_matrix::quantize(w.data(), rows, cols, f.format, block, dq);
}

}  // namespace

TEST_CASE("fused matvec and matmat equal the scalar reference on every target",
          "[quant][fused]") {
  const fused_case formats[] = {{lq::weight_format::int8, nullptr},
                                {lq::weight_format::int4, nullptr},
                                {lq::weight_format::nf4, nullptr},
                                {lq::weight_format::codebook4, &lq::fp4_bnb_codebook()}};
  const struct {
    std::size_t rows, cols, block;
  } shapes[] = {{1, 32, 32}, {3, 64, 32}, {5, 128, 64}, {17, 256, 128}, {2, 4096, 4096},
                {33, 96, 32}, {300, 512, 64}};
  std::mt19937 gen(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const auto& f : formats) {
    for (const auto& s : shapes) {
      std::vector<float> w(s.rows * s.cols);
      for (float& v : w) v = dist(gen);
      w[w.size() / 3] = 9.0f;  // an outlier weight
      for (const bool dq : {false, true}) {
        const lq::blockwise_matrix m = make_matrix(w, s.rows, s.cols, f, s.block, dq);
        for (const std::size_t batch : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
          std::vector<float> x(batch * s.cols);
          for (float& v : x) v = dist(gen);
          std::vector<float> want(batch * s.rows);
          lq::detail::fused_matmat_reference(m.args(), x.data(), batch, want.data());
          // The fp32 product of the dequantized weights, in double: the fused result may
          // differ only by float rounding, bounded by n * 2^-22 * sum |w x|.
          const std::vector<float> wd = m.dequantize();
          for (std::size_t c = 0; c < batch; ++c) {
            for (std::size_t i = 0; i < s.rows; ++i) {
              double ref = 0.0, mag = 0.0;
              for (std::size_t k = 0; k < s.cols; ++k) {
                const double p = static_cast<double>(wd[i * s.cols + k]) * x[c * s.cols + k];
                ref += p;
                mag += std::fabs(p);
              }
              const double tol = mag * 1e-6 * static_cast<double>(s.cols / 32 + s.cols / s.block + 8);
              INFO(lq::to_string(f.format) << " " << s.rows << "x" << s.cols << " row " << i);
              REQUIRE(std::fabs(want[c * s.rows + i] - ref) <= tol);
            }
          }
          for_each_target([&] {
            INFO(lq::to_string(f.format) << " " << s.rows << "x" << s.cols << " block "
                                         << s.block << " dq " << dq << " m " << batch);
            std::vector<float> y(batch * s.rows + 1, -12345.0f);  // sentinel past the end
            if (batch == 1) {
              m.matvec(x.data(), x.size(), y.data(), s.rows);
            } else {
              m.matmat(x.data(), batch, x.size(), y.data(), batch * s.rows);
            }
            CHECK(y.back() == -12345.0f);
            y.pop_back();
            CHECK(same_bits(y, want));
            // Column c of a batch is matvec of input c, bit for bit.
            std::vector<float> one(s.rows);
            m.matvec(x.data() + (batch - 1) * s.cols, s.cols, one.data(), s.rows);
            CHECK(std::memcmp(one.data(), y.data() + (batch - 1) * s.rows,
                              s.rows * sizeof(float)) == 0);
          });
        }
      }
    }
  }
}

TEST_CASE("fused products reproduce hand-computed values", "[quant][fused]") {
  // int8, block 32: row 0 = k/31 * 127 / 127 ..., check against W x computed by hand.
  std::vector<float> w(2 * 32, 0.0f), x(32, 0.0f);
  w[0] = 127.0f;  // row 0: scale 1, codes 127 and 3
  w[5] = 3.0f;
  w[32 + 31] = -254.0f;  // row 1: scale 2, code -127
  x[0] = 0.5f;
  x[5] = 2.0f;
  x[31] = 0.25f;
  const auto m8 = lq::blockwise_matrix::quantize(w.data(), 2, 32, lq::weight_format::int8, 32);
  const std::vector<float> y = m8.matvec(x);
  CHECK(y[0] == 69.5f);   // 127 * 0.5 + 3 * 2
  CHECK(y[1] == -63.5f);  // -254 * 0.25
  // NF4: the row's absmax is 2, so codes 15 and 0 give +-2 and code 7 gives 0.
  std::vector<float> wn(64, 0.0f), xn(64, 1.0f);
  wn[0] = 2.0f;
  wn[63] = -2.0f;
  wn[10] = 2.0f * 0.5626170039176941f;  // exactly an NF4 value times absmax
  xn[0] = 0.0f;                         // keep the +-2 out of the sum: y is one product
  xn[63] = 0.0f;
  const auto mn = lq::blockwise_matrix::quantize(wn.data(), 1, 64, lq::weight_format::nf4, 64);
  CHECK(mn.matvec(xn)[0] == 2.0f * 0.5626170039176941f);
  CHECK(mn.bits_per_parameter() == 4.5);
}

TEST_CASE("bad codebook and fused arguments throw before writing", "[quant][errors]") {
  std::vector<float> x(256, 1.0f);
  std::vector<std::uint8_t> codes(128, 0xAB);
  std::vector<float> absmax(8, -1.0f);
  for (const std::size_t block : {std::size_t{0}, std::size_t{16}, std::size_t{48},
                                  std::size_t{8192}}) {
    require_invalid([&] {
      lq::quantize_nf4(x.data(), x.size(), codes.data(), absmax.data(), block);
    }, {"quantize_codebook_blocks", "block is " + std::to_string(block), "power of two"});
    require_invalid([&] {
      lq::dequantize_nf4(codes.data(), absmax.data(), x.size(), x.data(), block);
    }, {"dequantize_codebook_blocks", "block is " + std::to_string(block)});
  }
  CHECK(std::all_of(codes.begin(), codes.end(), [](std::uint8_t c) { return c == 0xAB; }));
  CHECK(std::all_of(absmax.begin(), absmax.end(), [](float a) { return a == -1.0f; }));
  CHECK(std::all_of(x.begin(), x.end(), [](float a) { return a == 1.0f; }));
  require_invalid([&] { lq::from_bitsandbytes_nf4(codes, 300); }, {"bytes has 128", "need 150"});

  std::vector<float> w(4 * 96, 0.5f);
  require_invalid([&] {
    lq::blockwise_matrix::quantize(w.data(), 4, 96, lq::weight_format::nf4, 64);
  }, {"block 64 does not divide cols 96"});
  require_invalid([&] {
    lq::blockwise_matrix::quantize(w.data(), 4, 96, lq::dynamic_signed8_codebook(), 32);
  }, {"codebook 'dynamic_signed8' has 256 entries"});
  const auto m = lq::blockwise_matrix::quantize(w.data(), 4, 96, lq::weight_format::int4, 32);
  std::vector<float> xin(96, 1.0f), y(4, -7.0f);
  require_invalid([&] { m.matvec(xin.data(), 95, y.data(), 4); },
                  {"matvec", "x has 95 elements", "4 x 96", "needs 96"});
  require_invalid([&] { m.matvec(xin.data(), 96, y.data(), 5); }, {"y has 5 elements", "needs 4"});
  require_invalid([&] { m.matmat(xin.data(), 2, 96, y.data(), 8); },
                  {"matmat", "x has 96 elements", "m is 2", "needs 192"});
  CHECK(std::all_of(y.begin(), y.end(), [](float a) { return a == -7.0f; }));
}
