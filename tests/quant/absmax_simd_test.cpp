// The Highway kernels behind quantize/dequantize_absmax_blocks (simd/quant-inl.hpp)
// against the scalar definition (quant/blocks.hpp), bit for bit: every compiled target the
// CPU supports x lengths around the vector width x block sizes x misalignments, on data
// with ties, zero blocks, tiny blocks and NaN/Inf, with sentinel-filled outputs so that a
// byte written out of place, or not written, shows.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lowprec/quant/absmax.hpp"
#include "support/catch.hpp"
#include "support/targets.hpp"

namespace lq = lowprec::quant;
using lq::code_format;

namespace {

// Runs body once per Highway target compiled into this binary and supported by the CPU,
// with lowprec's kernels dispatching to it.
using lowprec_test::for_each_target;

// Inputs that reach every branch: Gaussian values, exact ties of the block scale
// ((k + 1/2) * absmax / qmax when that is exact), all-zero, tiny and NaN/Inf blocks.
std::vector<float> make_input(std::size_t n, std::size_t block, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  const std::size_t blocks = lq::block_count(n, block);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t start = b * block, end = std::min(n, start + block);
    switch (b % 7) {
      case 1:  // ties: absmax 127 * 2^-4 (int8 scale 2^-4) or 7 * 2^-4, values on halves
        for (std::size_t i = start; i < end; ++i) {
          x[i] = std::ldexp(std::round(x[i] * 16.0f) + 0.5f, -4) / 8.0f;
        }
        x[start] = 127.0f / 16.0f;
        break;
      case 2:
        for (std::size_t i = start; i < end; ++i) x[i] = 0.0f;
        break;
      case 3:
        for (std::size_t i = start; i < end; ++i) x[i] *= 1e-38f;  // scale FLT_MIN
        break;
      case 4:
        x[start + (end - start) / 2] = std::numeric_limits<float>::quiet_NaN();
        break;
      case 5:
        x[end - 1] = -std::numeric_limits<float>::infinity();
        break;
      default:
        break;
    }
  }
  return x;
}

struct outputs {
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
  std::vector<float> values;
};

constexpr std::size_t kGuard = 24;

outputs run(const std::vector<float>& x, std::size_t offset, std::size_t block, code_format f,
            bool scalar) {
  const std::size_t n = x.size() - offset;
  outputs o;
  o.codes.assign(lq::code_bytes(f, n) + kGuard, 0xAB);
  o.scales.assign(lq::block_count(n, block) + kGuard, -1.0f);
  o.values.assign(n + kGuard, -3.0f);
  if (scalar) {
    if (f == code_format::int8) {
      lq::detail::quantize_absmax_blocks_scalar<code_format::int8>(x.data() + offset, n, block, o.codes.data(), o.scales.data());
      lq::detail::dequantize_absmax_blocks_scalar<code_format::int8>(o.codes.data(), o.scales.data(), n, block, o.values.data());
    } else {
      lq::detail::quantize_absmax_blocks_scalar<code_format::int4>(x.data() + offset, n, block, o.codes.data(), o.scales.data());
      lq::detail::dequantize_absmax_blocks_scalar<code_format::int4>(o.codes.data(), o.scales.data(), n, block, o.values.data());
    }
  } else {
    lq::quantize_absmax_blocks(x.data() + offset, n, block, f, o.codes.data(), o.scales.data());
    lq::dequantize_absmax_blocks(o.codes.data(), o.scales.data(), n, block, f, o.values.data());
  }
  return o;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("int8 and int4 kernels equal the scalar definition on every target", "[quant]") {
  const std::size_t N = 16;  // the widest vector of floats on x86 (AVX-512)
  const std::size_t lengths[] = {0, 1, N - 1, N, N + 1, 2 * N + 3, 8 * N + 2, 1000, 4099};
  const std::size_t blocks[] = {1, 2, 3, 4, 6, 8, 16, 30, 32, 34, 64, 128, 256, 4096};
  std::size_t cases = 0;
  for_each_target([&](const char*) {
    for (const code_format f : {code_format::int8, code_format::int4}) {
      for (const std::size_t n : lengths) {
        for (const std::size_t block : blocks) {
          for (std::size_t misalign = 0; misalign < 4; ++misalign) {
            const std::vector<float> x = make_input(n + misalign, block, static_cast<std::uint32_t>(n * 131 + block));
            INFO(lq::to_string(f) << " n " << n << " block " << block << " misalign " << misalign);
            const outputs want = run(x, misalign, block, f, true);
            const outputs got = run(x, misalign, block, f, false);
            REQUIRE(got.codes == want.codes);
            REQUIRE(same_floats(got.scales, want.scales));
            REQUIRE(same_floats(got.values, want.values));
            ++cases;
          }
        }
      }
    }
  });
  CHECK(cases > 0);
}

TEST_CASE("kernels agree with the scalar definition at every rounding tie of int8", "[quant]") {
  // Scale exactly 1: t = x, so every k + 1/2 in (-127, 127) is a tie, and the floats next
  // to each tie are not.
  std::vector<float> x{127.0f};
  for (int k = -127; k < 127; ++k) {
    const float tie = static_cast<float>(k) + 0.5f;
    x.push_back(tie);
    x.push_back(std::nextafter(tie, 200.0f));
    x.push_back(std::nextafter(tie, -200.0f));
  }
  x.push_back(0.49999997f);
  x.push_back(-0.49999997f);
  for_each_target([&](const char*) {
    for (const code_format f : {code_format::int8, code_format::int4}) {
      const outputs want = run(x, 0, x.size() + (x.size() % 2), f, true);
      const outputs got = run(x, 0, x.size() + (x.size() % 2), f, false);
      REQUIRE(got.codes == want.codes);
      REQUIRE(same_floats(got.values, want.values));
    }
  });
}
