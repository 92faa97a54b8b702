// The Highway kernels behind the affine (uint8, uint4) and fp8 (e4m3fn, e5m2) block
// quantizers (simd/quant-inl.hpp) against their scalar definitions (quant/affine.hpp,
// quant/blocks.hpp, quant/codes.hpp), bit for bit: codes, scales, zero points and
// dequantized values, on every compiled target the CPU supports, x every length 0..300
// and a few large ones x block sizes 1..4096 x misaligned pointers, on data with NaN,
// +-Inf, huge values, zeros, denormals, all-zero, all-non-finite and one-signed blocks
// and exact rounding ties; outputs are sentinel-filled so that a byte written out of place,
// or not written, shows.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lowprec/quant/absmax.hpp"
#include "lowprec/quant/affine.hpp"
#include "support/catch.hpp"
#include "support/targets.hpp"

namespace lq = lowprec::quant;
using lq::code_format;
using lowprec_test::for_each_target;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Gaussian values, with one kind of special block in turn (b % 11).
std::vector<float> make_input(std::size_t n, std::size_t block, std::uint32_t seed, int qmax) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  const std::size_t blocks = lq::block_count(n, block);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t start = b * block, end = std::min(n, start + block), len = end - start;
    switch (b % 11) {
      case 1: {  // affine ties: scale 2^-4 exactly, zero point z, values on (k + 1/2) / 16
        const int z = 1 + pick(gen) % (qmax - 1);
        for (std::size_t i = start; i < end; ++i) {
          const int k = -z - 2 + pick(gen) % (qmax + 4);
          x[i] = (static_cast<float>(k) + 0.5f) / 16.0f;
        }
        x[start] = static_cast<float>(-z) / 16.0f;
        if (len > 1) x[start + 1] = static_cast<float>(qmax - z) / 16.0f;
        break;
      }
      case 2:
        for (std::size_t i = start; i < end; ++i) x[i] = (i % 3 == 0) ? -0.0f : 0.0f;
        break;
      case 3:  // denormals and tiny values (scale eps / FLT_MIN)
        for (std::size_t i = start; i < end; ++i) x[i] *= (i % 2 == 0) ? 1e-40f : 1e-36f;
        break;
      case 4:
        x[start + len / 2] = kNaN;
        break;
      case 5:
        x[end - 1] = -kInf;
        x[start] = kInf;
        break;
      case 6:  // huge: the range overflows float for affine, fp8 saturates
        x[start] = FLT_MAX;
        x[end - 1] = -FLT_MAX;
        for (std::size_t i = start + 1; i + 1 < end; ++i) x[i] *= 1e37f;
        break;
      case 7:  // no finite element
        for (std::size_t i = start; i < end; ++i) x[i] = (i % 3 == 0) ? kNaN : (i % 3 == 1 ? kInf : -kInf);
        break;
      case 8:  // one sign: zero point qmin (or qmax below)
        for (std::size_t i = start; i < end; ++i) x[i] = std::fabs(x[i]) + 0.25f;
        break;
      case 9:
        for (std::size_t i = start; i < end; ++i) x[i] = -std::fabs(x[i]) * 1e3f;
        break;
      case 10:  // fp8 ties and subnormal codes: powers of two and halfway points
        for (std::size_t i = start; i < end; ++i) {
          x[i] = std::ldexp(1.0f + static_cast<float>(pick(gen) % 64) / 64.0f, pick(gen) % 40 - 30);
          if (i % 2) x[i] = -x[i];
        }
        break;
      default:
        break;
    }
  }
  return x;
}

constexpr std::size_t kGuard = 24;

struct outputs {
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
  std::vector<std::uint8_t> zero_points;
  std::vector<float> values;
};

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

template <code_format F>
outputs run_scalar(const float* x, std::size_t n, std::size_t block) {
  outputs o;
  o.codes.assign(lq::code_bytes(F, n) + kGuard, 0xAB);
  o.scales.assign(lq::block_count(n, block) + kGuard, -1.0f);
  o.zero_points.assign(lq::block_count(n, block) + kGuard, 0xCD);
  o.values.assign(n + kGuard, -3.0f);
  if constexpr (F == code_format::uint8 || F == code_format::uint4) {
    lq::detail::quantize_affine_blocks_scalar<F>(x, n, block, o.codes.data(), o.scales.data(),
                                                 o.zero_points.data());
    lq::detail::dequantize_affine_blocks_scalar<F>(o.codes.data(), o.scales.data(),
                                                   o.zero_points.data(), n, block, o.values.data());
  } else {
    lq::detail::quantize_absmax_blocks_scalar<F>(x, n, block, o.codes.data(), o.scales.data());
    lq::detail::dequantize_absmax_blocks_scalar<F>(o.codes.data(), o.scales.data(), n, block,
                                                   o.values.data());
  }
  return o;
}

outputs run_public(const float* x, std::size_t n, std::size_t block, code_format f) {
  outputs o;
  o.codes.assign(lq::code_bytes(f, n) + kGuard, 0xAB);
  o.scales.assign(lq::block_count(n, block) + kGuard, -1.0f);
  o.zero_points.assign(lq::block_count(n, block) + kGuard, 0xCD);
  o.values.assign(n + kGuard, -3.0f);
  if (f == code_format::uint8 || f == code_format::uint4) {
    lq::quantize_affine_blocks(x, n, block, f, o.codes.data(), o.scales.data(), o.zero_points.data());
    lq::dequantize_affine_blocks(o.codes.data(), o.scales.data(), o.zero_points.data(), n, block, f,
                                 o.values.data());
  } else {
    lq::quantize_absmax_blocks(x, n, block, f, o.codes.data(), o.scales.data());
    lq::dequantize_absmax_blocks(o.codes.data(), o.scales.data(), n, block, f, o.values.data());
  }
  return o;
}

outputs run_scalar(const float* x, std::size_t n, std::size_t block, code_format f) {
  switch (f) {
    case code_format::uint8: return run_scalar<code_format::uint8>(x, n, block);
    case code_format::uint4: return run_scalar<code_format::uint4>(x, n, block);
    case code_format::fp8_e4m3fn: return run_scalar<code_format::fp8_e4m3fn>(x, n, block);
    default: return run_scalar<code_format::fp8_e5m2>(x, n, block);
  }
}

int qmax_of(code_format f) { return f == code_format::uint4 ? 15 : 255; }

constexpr code_format kFormats[] = {code_format::uint8, code_format::uint4, code_format::fp8_e4m3fn,
                                    code_format::fp8_e5m2};

// Compares one case; counts it.
void check_case(const std::vector<float>& x, std::size_t misalign, std::size_t block, code_format f,
                std::size_t& cases) {
  const std::size_t n = x.size() - misalign;
  const outputs want = run_scalar(x.data() + misalign, n, block, f);
  const outputs got = run_public(x.data() + misalign, n, block, f);
  INFO(lq::to_string(f) << " n " << n << " block " << block << " misalign " << misalign);
  REQUIRE(got.codes == want.codes);
  REQUIRE(same_floats(got.scales, want.scales));
  REQUIRE(got.zero_points == want.zero_points);
  REQUIRE(same_floats(got.values, want.values));
  ++cases;
}

}  // namespace

TEST_CASE("affine and fp8 kernels equal the scalar definition on every target: all short lengths",
          "[quant]") {
  const std::size_t blocks[] = {1, 2, 3, 5, 8, 16, 31, 32, 33, 64, 100, 4096};
  const std::size_t misaligns[] = {0, 1, 3};
  std::size_t cases = 0;
  for_each_target([&](const char*) {
    for (const code_format f : kFormats) {
      for (std::size_t n = 0; n <= 300; ++n) {
        for (const std::size_t block : blocks) {
          for (const std::size_t misalign : misaligns) {
            const std::vector<float> x = make_input(
                n + misalign, block, static_cast<std::uint32_t>(n * 131 + block * 7 + misalign), qmax_of(f));
            check_case(x, misalign, block, f, cases);
          }
        }
      }
    }
  });
  CHECK(cases > 0);
}

TEST_CASE("affine and fp8 kernels equal the scalar definition on every target: long buffers",
          "[quant]") {
  const std::size_t lengths[] = {1000, 4099, 8192, 65537};
  const std::size_t blocks[] = {1, 2, 7, 32, 64, 256, 4096, 100000};
  std::size_t cases = 0;
  for_each_target([&](const char*) {
    for (const code_format f : kFormats) {
      for (const std::size_t n : lengths) {
        for (const std::size_t block : blocks) {
          for (const std::size_t misalign : {std::size_t{0}, std::size_t{2}}) {
            const std::vector<float> x =
                make_input(n + misalign, block, static_cast<std::uint32_t>(n + block), qmax_of(f));
            check_case(x, misalign, block, f, cases);
          }
        }
      }
    }
  });
  CHECK(cases > 0);
}

TEST_CASE("quantize_affine with given qparams equals the scalar definition on every target",
          "[quant]") {
  std::mt19937 gen(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(1031);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = dist(gen) * 40.0f;
  x[3] = kNaN;
  x[17] = kInf;
  x[18] = -kInf;
  x[40] = FLT_MAX;
  x[41] = -FLT_MAX;
  x[42] = 1e-45f;
  x[43] = -0.0f;
  x[44] = 0.0f;
  x[99] = 3e38f;
  // Every tie of scale 1 (t = x) within and beyond the code range, and its neighbours.
  for (int k = -300; k < 300; ++k) {
    const float tie = static_cast<float>(k) + 0.5f;
    x.push_back(tie);
    x.push_back(std::nextafter(tie, 1000.0f));
    x.push_back(std::nextafter(tie, -1000.0f));
  }
  x.push_back(0.49999997f);
  x.push_back(-0.49999997f);
  const float scales[] = {1.0f, 0.0625f, 0.1f, 3.7f, 1e-3f, 1e30f, 1e-30f};
  std::size_t cases = 0;
  for_each_target([&](const char*) {
    for (const code_format f : {code_format::uint8, code_format::uint4}) {
      const int qmax = qmax_of(f);
      for (const float scale : scales) {
        for (const int zp : {0, 1, 2, 7, qmax / 2, qmax - 1, qmax}) {
          for (std::size_t misalign = 0; misalign < 3; ++misalign) {
            for (const std::size_t n : {x.size() - misalign, std::size_t{37}, std::size_t{0}}) {
              const lq::qparams p{scale, zp};
              std::vector<std::uint8_t> want(lq::code_bytes(f, n) + kGuard, 0xAB);
              std::vector<std::uint8_t> got = want;
              if (f == code_format::uint8) {
                lq::detail::quantize_affine_run<code_format::uint8>(x.data() + misalign, 0, n, p, want.data());
              } else {
                lq::detail::quantize_affine_run<code_format::uint4>(x.data() + misalign, 0, n, p, want.data());
              }
              lq::quantize_affine(x.data() + misalign, n, p, f, got.data());
              INFO(lq::to_string(f) << " scale " << scale << " zp " << zp << " n " << n);
              REQUIRE(got == want);
              ++cases;
            }
          }
        }
      }
    }
  });
  CHECK(cases > 0);
}

TEST_CASE("dequantize kernels decode every code like the scalar definition", "[quant]") {
  // All 256 byte values (fp8: every code, NaNs included), per-block scales and zero points.
  std::vector<std::uint8_t> codes;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 256; ++c) codes.push_back(static_cast<std::uint8_t>((c * (2 * r + 1)) & 0xFF));
  }
  const std::size_t n = codes.size();  // 768 elements (uint4: 1536)
  const float scale_set[] = {0.0f, 1.0f, FLT_MIN, 1.17e-38f, 3.5e-3f, 1e30f, 2.5e35f, 0.1f, 1e-45f};
  std::size_t cases = 0;
  for_each_target([&](const char*) {
    for (const code_format f : kFormats) {
      for (const std::size_t block : {std::size_t{1}, std::size_t{2}, std::size_t{16},
                                      std::size_t{30}, std::size_t{32}, std::size_t{1536}}) {
        const std::size_t elems = lq::info(f).bits == 4 ? 2 * n : n;
        const std::size_t nb = lq::block_count(elems, block);
        std::vector<float> scales(nb);
        std::vector<std::uint8_t> zps(nb);
        for (std::size_t b = 0; b < nb; ++b) {
          scales[b] = scale_set[b % (sizeof(scale_set) / sizeof(scale_set[0]))];
          zps[b] = static_cast<std::uint8_t>((b * 37) % static_cast<std::size_t>(qmax_of(f) + 1));
        }
        std::vector<float> want(elems + kGuard, -3.0f), got = want;
        INFO(lq::to_string(f) << " block " << block);
        switch (f) {
          case code_format::uint8:
            lq::detail::dequantize_affine_blocks_scalar<code_format::uint8>(codes.data(), scales.data(), zps.data(), elems, block, want.data());
            lq::dequantize_affine_blocks(codes.data(), scales.data(), zps.data(), elems, block, f, got.data());
            break;
          case code_format::uint4:
            lq::detail::dequantize_affine_blocks_scalar<code_format::uint4>(codes.data(), scales.data(), zps.data(), elems, block, want.data());
            lq::dequantize_affine_blocks(codes.data(), scales.data(), zps.data(), elems, block, f, got.data());
            break;
          case code_format::fp8_e4m3fn:
            lq::detail::dequantize_absmax_blocks_scalar<code_format::fp8_e4m3fn>(codes.data(), scales.data(), elems, block, want.data());
            lq::dequantize_absmax_blocks(codes.data(), scales.data(), elems, block, f, got.data());
            break;
          default:
            lq::detail::dequantize_absmax_blocks_scalar<code_format::fp8_e5m2>(codes.data(), scales.data(), elems, block, want.data());
            lq::dequantize_absmax_blocks(codes.data(), scales.data(), elems, block, f, got.data());
            break;
        }
        REQUIRE(same_floats(got, want));
        ++cases;
      }
    }
  });
  CHECK(cases > 0);
}
