// The quantization maps of the 8- and 4-bit optimizer states (quant/dynamic_map.hpp):
// bitsandbytes' construction (counts, smallest positive, PyTorch-built golden tables),
// nearest-entry encoding, and the SIMD kernels' bucket encoder against it at every edge.
#include "lowprec/quant/dynamic_map.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "optim/golden_reader.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;

namespace {

std::uint32_t bits(float x) {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, 4);
  return u;
}
float from_bits(std::uint32_t u) {
  float x = 0;
  std::memcpy(&x, &u, 4);
  return x;
}
// Distance in units in the last place between two floats of the same sign.
std::int64_t ulps(float a, float b) {
  const auto key = [](float x) {
    const std::uint32_t u = bits(x);
    return (u >> 31) ? -static_cast<std::int64_t>(u & 0x7FFFFFFFu) : static_cast<std::int64_t>(u);
  };
  return std::llabs(key(a) - key(b));
}

struct counts {
  int negative = 0, zero = 0, positive = 0;
};
template <class V>
counts count(const V& values) {
  counts c;
  for (const float x : values) (x < 0 ? c.negative : x == 0 ? c.zero : c.positive)++;
  return c;
}

// The nearest-entry definition, by brute force: the entry minimising |x - v|; of two at
// the same distance, the one of smaller magnitude.
template <std::size_t N>
std::uint8_t brute_nearest(const lq::code_map<N>& map, float x) {
  if (x != x) return map.nearest_zero_code();
  std::size_t best = 0;
  for (std::size_t k = 1; k < N; ++k) {
    const double dk = std::fabs(static_cast<double>(x) - map.value(k));
    const double db = std::fabs(static_cast<double>(x) - map.value(best));
    if (dk < db || (dk == db && std::fabs(map.value(k)) < std::fabs(map.value(best)))) best = k;
  }
  return static_cast<std::uint8_t>(best);
}

// Floats where encoding can change: thresholds and bucket edges, with neighbours.
template <std::size_t N>
std::vector<float> probes(const lq::code_map<N>& map, const lq::bucket_encoder& be) {
  std::vector<float> xs = {0.0f,
                           -0.0f,
                           1.0f,
                           -1.0f,
                           2.0f,
                           -2.0f,
                           1e-30f,
                           -1e-30f,
                           std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(),
                           -std::numeric_limits<float>::quiet_NaN()};
  const auto around = [&](float x) {
    for (int d = -2; d <= 2; ++d) {
      const std::uint32_t u = bits(x);
      const float y = from_bits(static_cast<std::uint32_t>(static_cast<std::int64_t>(u) + d));
      xs.push_back(y);
      xs.push_back(-y);
    }
  };
  for (const float t : map.thresholds()) around(t);
  for (const float v : map.values()) around(v);
  for (std::uint32_t b = 0; b <= be.count + 1; ++b) {
    if (be.first + b < 1) continue;
    around(from_bits((be.first + b) << 16));
  }
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1.05f, 1.05f);
  std::uniform_real_distribution<float> e(-30.0f, 0.0f);
  for (int k = 0; k < 20000; ++k) {
    xs.push_back(u(gen));
    xs.push_back(u(gen) * std::exp2(e(gen)));
  }
  return xs;
}

template <std::size_t N>
void check_encoders(const lq::code_map<N>& map) {
  const lq::bucket_encoder be = map.make_bucket_encoder();
  for (const float x : probes(map, be)) {
    INFO("x = " << x << " (0x" << std::hex << bits(x) << std::dec << ")");
    const std::uint8_t code = map.encode(x);
    if (std::fabs(x) <= 4.0f || x != x) {  // distances exact in double
      REQUIRE(code == brute_nearest(map, x));
    } else {
      REQUIRE(code == (x > 0 ? N - 1 : 0));
    }
    if (x == x) REQUIRE(lq::encode_with_buckets(be, x) == code);
  }
  for (std::size_t k = 0; k < N; ++k) {  // every code survives decode -> encode
    REQUIRE(map.encode(map.value(k)) == k);
    REQUIRE(lq::encode_with_buckets(be, map.value(k)) == k);
  }
}

}  // namespace

TEST_CASE("dynamic maps have bitsandbytes' and torchao's shape", "[optim]") {
  const auto& s8 = lq::dynamic_signed8().values();
  const counts c8 = count(s8);
  CHECK(c8.negative == 127);
  CHECK(c8.zero == 1);
  CHECK(c8.positive == 128);
  CHECK(s8[128] == 5.5e-7f);  // smallest positive: mean(0.1, 1) * 1e-6
  CHECK(s8[0] == -s8[254]);
  CHECK(s8[255] == 1.0f);
  CHECK(s8[0] > -1.0f);  // no -1: the largest negative magnitude is below 1

  const counts u8 = count(lq::dynamic_unsigned8().values());
  CHECK(u8.negative == 0);
  CHECK(u8.zero == 1);
  CHECK(u8.positive == 255);
  CHECK(lq::dynamic_unsigned8().value(1) == 3.25e-7f);  // mean(0.1, 0.55) * 1e-6

  const counts s4 = count(lq::dynamic_signed4().values());
  CHECK(s4.negative == 7);
  CHECK(s4.zero == 1);
  CHECK(s4.positive == 8);
  CHECK(lq::dynamic_signed4().value(8) == 0.0055f);

  const auto& l4 = lq::linear_unsigned4().values();
  for (std::size_t k = 0; k < 16; ++k) CHECK(l4[k] == static_cast<float>(k + 1) / 16.0f);
  CHECK(lq::linear_unsigned4().nearest_zero_code() == 0);
  CHECK(lq::dynamic_signed8().nearest_zero_code() == 127);
}

TEST_CASE("dynamic maps equal the exact formula and PyTorch's float32 build to 2 ulp", "[optim]") {
  const auto golden =
      lowprec_test::read_golden_maps(std::string(LOWPREC_OPTIM_DATA_DIR) + "/maps.txt");
  const struct {
    const char* name;
    std::vector<float> values;
  } maps[] = {
      {"dynamic_signed8",
       {lq::dynamic_signed8().values().begin(), lq::dynamic_signed8().values().end()}},
      {"dynamic_unsigned8",
       {lq::dynamic_unsigned8().values().begin(), lq::dynamic_unsigned8().values().end()}},
      {"dynamic_signed4",
       {lq::dynamic_signed4().values().begin(), lq::dynamic_signed4().values().end()}},
      {"linear_unsigned4",
       {lq::linear_unsigned4().values().begin(), lq::linear_unsigned4().values().end()}},
  };
  for (const auto& m : maps) {
    INFO("map " << m.name);
    const auto& exact = golden.at(m.name).at("exact");
    const auto& torch = golden.at(m.name).at("torch");
    REQUIRE(exact.size() == m.values.size());
    REQUIRE(torch.size() == m.values.size());
    std::int64_t worst = 0;
    for (std::size_t k = 0; k < m.values.size(); ++k) {
      INFO("entry " << k);
      CHECK(bits(m.values[k]) == bits(exact[k]));
      worst = std::max(worst, ulps(m.values[k], torch[k]));
    }
    UNSCOPED_INFO(m.name << ": at most " << worst << " ulp from PyTorch's float32 construction");
    CHECK(worst <= 2);
  }
}

TEST_CASE("encoding is nearest entry, and the bucket encoder agrees at every edge", "[optim]") {
  SECTION("dynamic_signed8") { check_encoders(lq::dynamic_signed8()); }
  SECTION("dynamic_unsigned8") { check_encoders(lq::dynamic_unsigned8()); }
  SECTION("dynamic_signed4") { check_encoders(lq::dynamic_signed4()); }
  SECTION("linear_unsigned4") { check_encoders(lq::linear_unsigned4()); }
}

TEST_CASE("create_dynamic_map follows bitsandbytes' parameters and rejects the rest", "[optim]") {
  // Signed with extra linear items (max_exponent_bits < total_bits - 1) still has 2^T values.
  const std::vector<float> m = lq::create_dynamic_map(true, 5, 8);
  CHECK(m.size() == 256);
  CHECK(std::is_sorted(m.begin(), m.end()));
  CHECK_THROWS_AS(lq::create_dynamic_map(false, 5, 8), std::invalid_argument);  // 250 values
  CHECK_THROWS_AS(lq::create_dynamic_map(true, 0, 8), std::invalid_argument);
  CHECK_THROWS_AS(lq::create_dynamic_map(true, 8, 8), std::invalid_argument);
  CHECK_THROWS_AS(lq::create_dynamic_map(true, 3, 9), std::invalid_argument);
  CHECK_THROWS_AS(lq::code_map<4>({0.0f, 0.5f, 0.5f, 1.0f}), std::invalid_argument);
  CHECK_THROWS_AS(lq::code_map<4>({0.0f, 0.5f, std::numeric_limits<float>::quiet_NaN(), 1.0f}),
                  std::invalid_argument);
}
