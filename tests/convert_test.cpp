// lowprec::convert against the scalar definition, bit for bit: every compiled target the
// CPU supports x lengths around the vector width x misalignments x every policy, with
// sentinel-filled outputs; every 16- and 8-bit input for the conversions from a narrow
// format; stochastic rounding across targets and chunkings; range overloads and errors.
#include "lowprec/convert.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define LOWPREC_TEST_X86 1
#endif

#include "support/catch.hpp"
#include "support/targets.hpp"

namespace {

using lowprec::bf16;
using lowprec::convert_options;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;
using lowprec::overflow;
using lowprec::rounding;

// ---- targets ----------------------------------------------------------------------------

// Runs body once per Highway target compiled into this binary and supported by the CPU,
// with convert() dispatching to it (checked through simd_target()).
using lowprec_test::for_each_target;

// ---- the scalar definition ----------------------------------------------------------------

template <class T>
std::uint32_t bits_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    std::uint32_t u = 0;
    std::memcpy(&u, &x, 4);
    return u;
  } else if constexpr (std::is_same_v<T, std::int8_t>) {
    return static_cast<std::uint8_t>(x);
  } else {
    return x.bits();
  }
}

template <class T>
std::uint64_t bits_of_any(T x) {
  if constexpr (std::is_same_v<T, double>) {
    std::uint64_t u = 0;
    std::memcpy(&u, &x, 8);
    return u;
  } else {
    return bits_of(x);
  }
}

template <class Src, class Dst>
Dst reference(Src x, const convert_options& o, std::uint64_t index) {
  const std::uint32_t r = lowprec::detail::random_bits(o.seed, index);
  if constexpr (std::is_same_v<Dst, float>) {
    return static_cast<float>(x);
  } else if constexpr (std::is_same_v<Dst, std::int8_t>) {
    return lowprec::round_to_int8(x, o.round, r);
  } else {
    return Dst::from(x, o.round, o.on_overflow, r);
  }
}

std::vector<convert_options> all_policies(std::uint64_t seed = 0x1234, std::uint64_t offset = 0) {
  std::vector<convert_options> out;
  for (rounding r : {rounding::nearest_even, rounding::toward_zero, rounding::toward_positive,
                     rounding::toward_negative, rounding::stochastic}) {
    for (overflow o : {overflow::ieee, overflow::saturate}) {
      out.push_back(convert_options{r, o, seed, offset});
    }
  }
  return out;
}

std::string describe(const convert_options& o) {
  return std::string(lowprec::to_string(o.round)) + "/" + lowprec::to_string(o.on_overflow) +
         " seed " + std::to_string(o.seed) + " offset " + std::to_string(o.offset);
}

// Converts src with convert() and checks every element against the scalar definition.
// Returns the number of mismatches (and reports the first).
template <class Src, class Dst>
std::size_t count_mismatches(const std::vector<Src>& src, const convert_options& o) {
  std::vector<Dst> out(src.size());
  lowprec::convert(src.data(), out.data(), src.size(), o);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < src.size(); ++i) {
    const Dst want = reference<Src, Dst>(src[i], o, o.offset + i);
    if (bits_of(out[i]) != bits_of(want)) {
      if (bad++ == 0) {
        UNSCOPED_INFO("first mismatch at " << i << ": input bits 0x" << std::hex
                                           << static_cast<std::uint64_t>(bits_of_any(src[i]))
                                           << " got 0x" << bits_of(out[i]) << " want 0x"
                                           << bits_of(want) << std::dec << " (" << describe(o)
                                           << ")");
      }
    }
  }
  return bad;
}

// ---- inputs ---------------------------------------------------------------------------------

float float_from_bits(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}
double double_from_bits(std::uint64_t u) {
  double f = 0;
  std::memcpy(&f, &u, 8);
  return f;
}

template <class T>
T code(std::uint32_t c) {
  if constexpr (std::is_same_v<T, std::int8_t>) {
    return static_cast<std::int8_t>(static_cast<std::uint8_t>(c));
  } else {
    return T::from_bits(static_cast<typename T::storage_type>(c));
  }
}

template <class T>
constexpr std::uint32_t code_count() {
  return sizeof(T) == 1 ? 256u : 65536u;
}

// Floats at and around every rounding boundary of format T: each value of T, the
// midpoints between neighbours, and one float ulp either side; plus specials, float
// subnormals and a stride through all bit patterns.
template <class T>
std::vector<float> boundary_floats() {
  std::vector<float> out;
  std::vector<float> values;
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) {
    const float v = static_cast<float>(code<T>(c));
    if (std::isfinite(v) && v >= 0) values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  const float inf = std::numeric_limits<float>::infinity();
  auto add_around = [&out, inf](float v) {
    for (float x : {v, std::nextafter(v, inf), std::nextafter(v, -inf)}) {
      out.push_back(x);
      out.push_back(-x);
    }
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    add_around(values[i]);
    const float next = i + 1 < values.size() ? values[i + 1] : values[i] * 1.0625f;
    add_around(values[i] + (next - values[i]) / 2);
    add_around(values[i] + (next - values[i]) / 4);
    add_around(values[i] + 3 * (next - values[i]) / 4);
  }
  for (std::uint32_t u : {0x7F800000u, 0x7F800001u, 0x7FC00000u, 0x7FFFFFFFu, 0x7FA00000u,
                          0x7F802000u, 0x7F810000u, 0x7FBFFFFFu, 0x00000001u, 0x007FFFFFu,
                          0x00400000u, 0x00800000u, 0x7F7FFFFFu, 0x7F7F8000u, 0x477FF000u,
                          0x477FEFFFu, 0x43E00000u, 0x43E80000u, 0x47600000u, 0x47700000u}) {
    out.push_back(float_from_bits(u));
    out.push_back(float_from_bits(u | 0x80000000u));
  }
  for (std::uint64_t u = 0; u < (1ull << 32); u += 0x10101u) {
    out.push_back(float_from_bits(static_cast<std::uint32_t>(u)));
  }
  return out;
}

std::vector<float> boundary_floats_int8() {
  std::vector<float> out;
  const float inf = std::numeric_limits<float>::infinity();
  for (int k = -140; k <= 140; ++k) {
    for (float base : {static_cast<float>(k), static_cast<float>(k) + 0.5f,
                       static_cast<float>(k) + 0.25f, static_cast<float>(k) + 0.75f}) {
      out.push_back(base);
      out.push_back(std::nextafter(base, inf));
      out.push_back(std::nextafter(base, -inf));
    }
  }
  for (std::uint64_t u = 0; u < (1ull << 32); u += 0x10101u) {
    out.push_back(float_from_bits(static_cast<std::uint32_t>(u)));
  }
  return out;
}

// Doubles: the float boundaries, nudged by amounts float cannot hold (rounding once), and
// doubles far outside float's range.
template <class T>
std::vector<double> boundary_doubles() {
  std::vector<double> out;
  for (float f : boundary_floats<T>()) {
    const double d = static_cast<double>(f);
    out.push_back(d);
    if (std::isfinite(d) && d != 0) {
      out.push_back(d * (1 + 0x1p-40));
      out.push_back(d * (1 - 0x1p-40));
      out.push_back(std::nextafter(d, 0.0));
    }
  }
  for (double d : {1e300, 1e-300, 0x1p-1074, 0x1p-1022, 0x1.fffffffffffffp1023, 1e-50, 1e50,
                   std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), double_from_bits(0x7FF0000000000001ull),
                   double_from_bits(0x7FF8000000000001ull), double_from_bits(0x7FF0000100000000ull),
                   double_from_bits(0x7FFFFFFFFFFFFFFFull)}) {
    out.push_back(d);
    out.push_back(-d);
  }
  std::mt19937_64 g(7);
  for (int i = 0; i < 100000; ++i) out.push_back(double_from_bits(g()));
  return out;
}

template <class T>
std::vector<T> all_codes() {
  std::vector<T> out;
  for (std::uint32_t c = 0; c < code_count<T>(); ++c) out.push_back(code<T>(c));
  return out;
}

// ---- target x length x misalignment x policy --------------------------------------------------

// Lengths around every step a kernel may take (1..16 lanes of 32 bits, 2..8 of 64, times
// 2 or 4 vectors per step): 0, N-1, N, N+1, 2N+3 for N = 1, 2, 4, ..., 64; and 3007.
std::vector<std::size_t> test_lengths() {
  std::vector<std::size_t> out{0, 1, 3000 + 7};
  for (std::size_t n : {1u, 2u, 4u, 8u, 16u, 32u, 64u}) {
    for (std::size_t len : {n - 1, n, n + 1, 2 * n + 3}) out.push_back(len);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

template <class T>
void fill_sentinel(T* p, std::size_t n) {
  std::memset(static_cast<void*>(p), 0xA5, n * sizeof(T));
}
template <class T>
bool is_sentinel(const T* p, std::size_t n) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n * sizeof(T); ++i) {
    if (b[i] != 0xA5) return false;
  }
  return true;
}

// For each length and misalignment: out-of-range sentinels intact, every element equal
// to the scalar definition.
template <class Src, class Dst>
void check_shapes(const std::vector<Src>& pool, const std::vector<convert_options>& policies) {
  constexpr std::size_t kGuard = 64;
  const std::vector<std::size_t> lengths = test_lengths();
  for_each_target([&](const char*) {
    for (const convert_options& o : policies) {
      for (std::size_t len : lengths) {
        for (std::size_t mis : {0u, 1u, 3u}) {
          std::vector<Src> src(len + kGuard);
          for (std::size_t i = 0; i < src.size(); ++i) {
            src[i] = pool[(i * 7919 + len * 31 + mis) % pool.size()];
          }
          std::vector<Dst> dst(len + 2 * kGuard);
          fill_sentinel(dst.data(), dst.size());
          Dst* out = dst.data() + kGuard + mis;
          lowprec::convert(src.data() + mis, out, len, o);
          INFO("length " << len << " misalignment " << mis << " " << describe(o));
          REQUIRE(is_sentinel(dst.data(), kGuard + mis));
          REQUIRE(is_sentinel(out + len, kGuard - mis));
          std::size_t bad = 0;
          for (std::size_t i = 0; i < len; ++i) {
            const Dst want = reference<Src, Dst>(src[mis + i], o, o.offset + i);
            bad += bits_of(out[i]) != bits_of(want) ? 1 : 0;
          }
          REQUIRE(bad == 0);
        }
      }
    }
  });
}

// Every input of pool through one call per policy and target.
template <class Src, class Dst>
void check_pool(const std::vector<Src>& pool, const std::vector<convert_options>& policies) {
  for_each_target([&](const char*) {
    for (const convert_options& o : policies) {
      INFO(describe(o));
      CHECK(count_mismatches<Src, Dst>(pool, o) == 0);
    }
  });
}

const std::vector<convert_options> kDefault{convert_options{}};

}  // namespace

// ---- narrowing from float -------------------------------------------------------------------

TEST_CASE("float to each format matches the scalar definition on every target and policy",
          "[convert]") {
  SECTION("fp16") { check_pool<float, fp16>(boundary_floats<fp16>(), all_policies()); }
  SECTION("bf16") { check_pool<float, bf16>(boundary_floats<bf16>(), all_policies()); }
  SECTION("fp8_e4m3fn") {
    check_pool<float, fp8_e4m3fn>(boundary_floats<fp8_e4m3fn>(), all_policies());
  }
  SECTION("fp8_e5m2") { check_pool<float, fp8_e5m2>(boundary_floats<fp8_e5m2>(), all_policies()); }
  SECTION("int8") { check_pool<float, std::int8_t>(boundary_floats_int8(), all_policies()); }
}

TEST_CASE("double to each format rounds once, as the scalar definition, on every target",
          "[convert]") {
  SECTION("fp16") { check_pool<double, fp16>(boundary_doubles<fp16>(), all_policies()); }
  SECTION("bf16") { check_pool<double, bf16>(boundary_doubles<bf16>(), all_policies()); }
  SECTION("fp8_e4m3fn") {
    check_pool<double, fp8_e4m3fn>(boundary_doubles<fp8_e4m3fn>(), all_policies());
  }
  SECTION("fp8_e5m2") {
    check_pool<double, fp8_e5m2>(boundary_doubles<fp8_e5m2>(), all_policies());
  }
}

TEST_CASE("every length and misalignment writes exactly n elements, equal to the scalar path",
          "[convert]") {
  const auto floats16 = boundary_floats<fp16>();
  const auto floats8 = boundary_floats<fp8_e4m3fn>();
  SECTION("float -> fp16") { check_shapes<float, fp16>(floats16, all_policies()); }
  SECTION("float -> bf16") { check_shapes<float, bf16>(boundary_floats<bf16>(), all_policies()); }
  SECTION("float -> fp8_e4m3fn") { check_shapes<float, fp8_e4m3fn>(floats8, all_policies()); }
  SECTION("float -> fp8_e5m2") {
    check_shapes<float, fp8_e5m2>(boundary_floats<fp8_e5m2>(), all_policies());
  }
  SECTION("float -> int8") {
    check_shapes<float, std::int8_t>(boundary_floats_int8(), all_policies());
  }
  SECTION("double -> fp16") { check_shapes<double, fp16>(boundary_doubles<fp16>(), all_policies()); }
  SECTION("double -> bf16") { check_shapes<double, bf16>(boundary_doubles<bf16>(), all_policies()); }
  SECTION("double -> fp8_e4m3fn") {
    check_shapes<double, fp8_e4m3fn>(boundary_doubles<fp8_e4m3fn>(), all_policies());
  }
  SECTION("double -> fp8_e5m2") {
    check_shapes<double, fp8_e5m2>(boundary_doubles<fp8_e5m2>(), all_policies());
  }
  SECTION("fp16 -> bf16") { check_shapes<fp16, bf16>(all_codes<fp16>(), all_policies()); }
  SECTION("bf16 -> fp16") { check_shapes<bf16, fp16>(all_codes<bf16>(), all_policies()); }
  SECTION("fp16 -> float") { check_shapes<fp16, float>(all_codes<fp16>(), kDefault); }
  SECTION("bf16 -> float") { check_shapes<bf16, float>(all_codes<bf16>(), kDefault); }
  SECTION("fp8_e4m3fn -> float") { check_shapes<fp8_e4m3fn, float>(all_codes<fp8_e4m3fn>(), kDefault); }
  SECTION("fp8_e5m2 -> float") { check_shapes<fp8_e5m2, float>(all_codes<fp8_e5m2>(), kDefault); }
  SECTION("int8 -> float") { check_shapes<std::int8_t, float>(all_codes<std::int8_t>(), kDefault); }
}

// ---- one special value among ordinary ones ---------------------------------------------------

// Each special value alone at every position of a 64-element block of ordinary values
// (and in the padded tail of a 67-element call): kernels that test a whole block for
// specials before taking a fast path must notice any single lane.
template <class Src, class Dst>
void check_lone_specials(Src ordinary, const std::vector<Src>& specials,
                         const std::vector<convert_options>& policies) {
  for_each_target([&](const char*) {
    for (const convert_options& o : policies) {
      for (const Src& special : specials) {
        for (std::size_t len : {64u, 67u}) {
          for (std::size_t pos = 0; pos < len; ++pos) {
            std::vector<Src> src(len, ordinary);
            src[pos] = special;
            std::vector<Dst> out(len);
            lowprec::convert(src.data(), out.data(), len, o);
            const Dst want = reference<Src, Dst>(special, o, o.offset + pos);
            if (bits_of(out[pos]) != bits_of(want)) {
              FAIL("input 0x" << std::hex << bits_of_any(special) << " at " << std::dec << pos
                              << " of " << len << " (" << describe(o) << "): got 0x" << std::hex
                              << bits_of(out[pos]) << " want 0x" << bits_of(want));
            }
          }
        }
      }
    }
  });
}

std::vector<float> special_floats() {
  std::vector<float> out;
  for (std::uint32_t u : {0x7F800000u, 0x7F800001u, 0x7F808000u, 0x7F80FFFFu, 0x7FBFFFFFu,
                          0x7FC00000u, 0x7FFF7FFFu, 0x7FFF8000u, 0x7FFFC000u, 0x7FFFFFFFu,
                          0x7F7FFFFFu, 0x7F7F8000u, 0x7F7F7FFFu, 0x477FF000u, 0x47800000u,
                          0x43E00000u, 0x43F00000u, 0x47700000u, 0x47800000u, 0x4F000000u,
                          0x42FF0000u, 0x43000000u, 0x3F000000u, 0x00000000u, 0x00000001u,
                          0x00800000u, 0x33000000u, 0x33000001u, 0x38800000u, 0x37800000u,
                          0x3B000000u, 0x3A800000u}) {
    out.push_back(float_from_bits(u));
    out.push_back(float_from_bits(u | 0x80000000u));
  }
  return out;
}

TEST_CASE("a lone special value in a block of ordinary values converts exactly", "[convert]") {
  const std::vector<float> f = special_floats();
  const std::vector<convert_options> policies = all_policies(5, 11);
  SECTION("float -> fp16") { check_lone_specials<float, fp16>(1.5f, f, policies); }
  SECTION("float -> bf16") { check_lone_specials<float, bf16>(1.5f, f, policies); }
  SECTION("float -> fp8_e4m3fn") { check_lone_specials<float, fp8_e4m3fn>(1.5f, f, policies); }
  SECTION("float -> fp8_e5m2") { check_lone_specials<float, fp8_e5m2>(1.5f, f, policies); }
  SECTION("float -> int8") { check_lone_specials<float, std::int8_t>(1.5f, f, policies); }
  SECTION("double -> each") {
    std::vector<double> dd;
    for (float x : f) dd.push_back(static_cast<double>(x));
    for (std::uint64_t u : {0x7FF0000000000001ull, 0x7FF0000100000000ull, 0x7FF8000000000000ull,
                            0x7FFFFFFFFFFFFFFFull, 0x7FEFFFFFFFFFFFFFull, 0x0000000000000001ull}) {
      dd.push_back(double_from_bits(u));
      dd.push_back(double_from_bits(u | 0x8000000000000000ull));
    }
    check_lone_specials<double, fp16>(1.5, dd, policies);
    check_lone_specials<double, bf16>(1.5, dd, policies);
    check_lone_specials<double, fp8_e4m3fn>(1.5, dd, policies);
    check_lone_specials<double, fp8_e5m2>(1.5, dd, policies);
  }
  auto special_codes = [](auto tag, std::initializer_list<std::uint32_t> codes) {
    using T = decltype(tag);
    std::vector<T> out;
    for (std::uint32_t c : codes) out.push_back(code<T>(c));
    return out;
  };
  const auto h = special_codes(fp16{}, {0x7C00, 0x7C01, 0x7DFF, 0x7E00, 0x7FFF, 0xFC00, 0xFC01,
                                        0xFFFF, 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x0000, 0x8000});
  const auto b = special_codes(bf16{}, {0x7F80, 0x7F81, 0x7FBF, 0x7FC0, 0x7FFF, 0xFF80, 0xFF81,
                                        0xFFFF, 0x7F7F, 0xFF7F, 0x0001, 0x8001, 0x0000, 0x8000});
  SECTION("fp16 -> bf16, float") {
    check_lone_specials<fp16, bf16>(fp16(1.5f), h, policies);
    check_lone_specials<fp16, float>(fp16(1.5f), h, kDefault);
  }
  SECTION("bf16 -> fp16, float") {
    check_lone_specials<bf16, fp16>(bf16(1.5f), b, policies);
    check_lone_specials<bf16, float>(bf16(1.5f), b, kDefault);
  }
  SECTION("fp8 and int8 -> float") {
    check_lone_specials<fp8_e4m3fn, float>(fp8_e4m3fn(1.5f),
                                           special_codes(fp8_e4m3fn{}, {0x7F, 0xFF, 0x7E, 0x01}),
                                           kDefault);
    check_lone_specials<fp8_e5m2, float>(
        fp8_e5m2(1.5f), special_codes(fp8_e5m2{}, {0x7C, 0x7D, 0x7F, 0xFC, 0xFF, 0x01}), kDefault);
    check_lone_specials<std::int8_t, float>(1, {-128, 127, 0}, kDefault);
  }
}

// ---- every narrow input ---------------------------------------------------------------------

TEST_CASE("every 16-bit and 8-bit code widens to float exactly on every target", "[convert]") {
  SECTION("fp16") { check_pool<fp16, float>(all_codes<fp16>(), kDefault); }
  SECTION("bf16") { check_pool<bf16, float>(all_codes<bf16>(), kDefault); }
  SECTION("fp8_e4m3fn") { check_pool<fp8_e4m3fn, float>(all_codes<fp8_e4m3fn>(), kDefault); }
  SECTION("fp8_e5m2") { check_pool<fp8_e5m2, float>(all_codes<fp8_e5m2>(), kDefault); }
  SECTION("int8") { check_pool<std::int8_t, float>(all_codes<std::int8_t>(), kDefault); }
}

TEST_CASE("every fp16 and bf16 code converts to the other format under every policy",
          "[convert]") {
  SECTION("fp16 -> bf16") { check_pool<fp16, bf16>(all_codes<fp16>(), all_policies()); }
  SECTION("bf16 -> fp16") { check_pool<bf16, fp16>(all_codes<bf16>(), all_policies()); }
}

TEST_CASE("fp16 <-> bf16 in place equals out of place", "[convert]") {
  const std::vector<fp16> codes = all_codes<fp16>();
  for_each_target([&](const char*) {
    for (const convert_options& o : all_policies(99, 5)) {
      std::vector<bf16> expected(codes.size());
      lowprec::convert(codes.data(), expected.data(), codes.size(), o);
      std::vector<fp16> buf = codes;
      static_assert(sizeof(fp16) == sizeof(bf16));
      // The caller's buffer holds fp16 codes, then bf16 codes: one storage, two views.
      std::vector<std::uint16_t> raw(codes.size());
      std::memcpy(raw.data(), codes.data(), raw.size() * 2);
      auto* as_fp16 = reinterpret_cast<fp16*>(raw.data());
      auto* as_bf16 = reinterpret_cast<bf16*>(raw.data());
      lowprec::convert(as_fp16, as_bf16, raw.size(), o);
      INFO(describe(o));
      CHECK(std::memcmp(raw.data(), expected.data(), raw.size() * 2) == 0);
    }
  });
}

// ---- stochastic rounding ---------------------------------------------------------------------

TEST_CASE("stochastic rounding is identical across targets and chunkings", "[convert]") {
  std::vector<float> x(10007);
  std::mt19937 g(3);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (float& v : x) v = dist(g);
  convert_options o;
  o.round = rounding::stochastic;
  o.seed = 0xDEADBEEFCAFEull;

  std::vector<std::vector<bf16>> per_target;
  for_each_target([&](const char*) {
    std::vector<bf16> whole(x.size());
    lowprec::convert(x.data(), whole.data(), x.size(), o);
    // The same array in uneven chunks, each told where it starts.
    std::vector<bf16> chunked(x.size());
    for (std::size_t begin = 0, step = 1; begin < x.size(); begin += step, step = step * 3 + 1) {
      const std::size_t len = std::min(step, x.size() - begin);
      convert_options oc = o;
      oc.offset = o.offset + begin;
      lowprec::convert(x.data() + begin, chunked.data() + begin, len, oc);
    }
    CHECK(std::memcmp(whole.data(), chunked.data(), x.size() * 2) == 0);
    per_target.push_back(whole);
  });
  for (const auto& v : per_target) {
    CHECK(std::memcmp(v.data(), per_target.front().data(), x.size() * 2) == 0);
  }

  // A different seed gives different bits.
  std::vector<bf16> other(x.size());
  convert_options o2 = o;
  o2.seed = o.seed + 1;
  lowprec::convert(x.data(), other.data(), x.size(), o2);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < x.size(); ++i) differ += other[i].bits() != per_target[0][i].bits();
  CHECK(differ > x.size() / 10);
}

TEST_CASE("stochastic rounding keys each element by its index across 2^32 boundaries",
          "[convert]") {
  std::vector<float> x(300, 1.0f + 0x1p-9f);
  for (std::uint64_t offset : {(1ull << 32) - 150, (5ull << 32) - 1, ~0ull - 1000}) {
    convert_options o;
    o.round = rounding::stochastic;
    o.seed = 42;
    o.offset = offset;
    for_each_target([&](const char*) {
      INFO("offset " << offset);
      CHECK(count_mismatches<float, bf16>(x, o) == 0);
      CHECK(count_mismatches<float, fp16>(std::vector<float>(300, 1.0f + 0x1p-13f), o) == 0);
    });
  }
}

TEST_CASE("stochastic rounding is unbiased", "[convert]") {
  // x sits 1/8, 3/8, 1/2, 7/8 of the way between neighbours; the mean of 2^20 stochastic
  // roundings must be x within 6 standard errors.
  const std::size_t n = std::size_t{1} << 20;
  for_each_target([&](const char*) {
    for (double frac : {0.125, 0.375, 0.5, 0.875}) {
      convert_options o;
      o.round = rounding::stochastic;
      o.seed = 2024;
      auto check_mean = [&](double x, double ulp, auto tag) {
        using T = decltype(tag);
        std::vector<float> src(n, static_cast<float>(x));
        std::vector<T> dst(n);
        lowprec::convert(src.data(), dst.data(), n, o);
        double sum = 0;
        for (const T& v : dst) sum += static_cast<double>(static_cast<float>(v));
        const double mean = sum / static_cast<double>(n);
        const double se = ulp * std::sqrt(frac * (1 - frac) / static_cast<double>(n));
        INFO("x " << x << " mean " << mean << " se " << se);
        CHECK(std::abs(mean - x) < 6 * se);
      };
      check_mean(1.0 + frac * 0x1p-7, 0x1p-7, bf16{});
      check_mean(-(1.0 + frac * 0x1p-10), 0x1p-10, fp16{});
      check_mean(1.0 + frac * 0x1p-3, 0x1p-3, fp8_e4m3fn{});
      check_mean(0x1p-16 * frac, 0x1p-16, fp8_e5m2{});  // subnormal region
      {
        std::vector<float> src(n, static_cast<float>(3 + frac));
        std::vector<std::int8_t> dst(n);
        lowprec::convert(src.data(), dst.data(), n, o);
        double sum = 0;
        for (std::int8_t v : dst) sum += v;
        CHECK(std::abs(sum / static_cast<double>(n) - (3 + frac)) <
              6 * std::sqrt(frac * (1 - frac) / static_cast<double>(n)));
      }
    }
  });
}

// ---- floating-point environment -------------------------------------------------------------

#if defined(LOWPREC_TEST_X86)
TEST_CASE("results do not depend on MXCSR (DAZ, FTZ, rounding mode)", "[convert]") {
  std::vector<float> x = boundary_floats<fp16>();
  for (std::uint32_t u = 1; u < 0x00800000u; u += 0x1001u) x.push_back(float_from_bits(u));
  const std::vector<fp16> h = all_codes<fp16>();
  const std::vector<bf16> b = all_codes<bf16>();
  const unsigned int saved = _mm_getcsr();
  for_each_target([&](const char*) {
    for (unsigned int csr : {0x8040u /* FTZ|DAZ */, 0x8040u | 0x4000u /* + round up */,
                             0x2000u /* round down */, 0x6000u /* toward zero */}) {
      INFO("MXCSR bits 0x" << std::hex << csr);
      for (const convert_options& o : all_policies()) {
        std::vector<fp16> got(x.size());
        std::vector<bf16> got_b(x.size());
        std::vector<fp8_e4m3fn> got_8(x.size());
        std::vector<float> wide(h.size());
        std::vector<float> wide_b(b.size());
        std::vector<bf16> h_to_b(h.size());
        std::vector<fp16> b_to_h(b.size());
        _mm_setcsr((saved & ~0xE040u) | csr);
        lowprec::convert(x.data(), got.data(), x.size(), o);
        lowprec::convert(x.data(), got_b.data(), x.size(), o);
        lowprec::convert(x.data(), got_8.data(), x.size(), o);
        lowprec::convert(h.data(), wide.data(), h.size());
        lowprec::convert(b.data(), wide_b.data(), b.size());
        lowprec::convert(h.data(), h_to_b.data(), h.size(), o);
        lowprec::convert(b.data(), b_to_h.data(), b.size(), o);
        _mm_setcsr(saved);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          const std::uint32_t r = lowprec::detail::random_bits(o.seed, i);
          bad += got[i].bits() != fp16::from(x[i], o.round, o.on_overflow, r).bits();
          bad += got_b[i].bits() != bf16::from(x[i], o.round, o.on_overflow, r).bits();
          bad += got_8[i].bits() != fp8_e4m3fn::from(x[i], o.round, o.on_overflow, r).bits();
        }
        for (std::size_t i = 0; i < h.size(); ++i) {
          const std::uint32_t r = lowprec::detail::random_bits(o.seed, i);
          bad += bits_of(wide[i]) != bits_of(static_cast<float>(h[i]));
          bad += bits_of(wide_b[i]) != bits_of(static_cast<float>(b[i]));
          bad += h_to_b[i].bits() != bf16::from(h[i], o.round, o.on_overflow, r).bits();
          bad += b_to_h[i].bits() != fp16::from(b[i], o.round, o.on_overflow, r).bits();
        }
        INFO(describe(o));
        CHECK(bad == 0);
      }
    }
  });
}
#endif

// ---- ranges and errors ---------------------------------------------------------------------

namespace {
template <class T>
struct span_like {  // a minimal view, as std::span / gsl::span
  T* ptr;
  std::size_t count;
  T* data() const { return ptr; }
  std::size_t size() const { return count; }
};
}  // namespace

TEST_CASE("contiguous ranges convert like pointer and count", "[convert]") {
  const std::vector<float> x{1.0f, -2.5f, 3.14159265f, 65520.0f, 1e-8f, -0.0f};
  std::vector<fp16> want(x.size());
  lowprec::convert(x.data(), want.data(), x.size());

  std::vector<fp16> v(x.size());
  lowprec::convert(x, v);
  CHECK(std::memcmp(v.data(), want.data(), x.size() * 2) == 0);

  std::array<fp16, 6> a{};
  lowprec::convert(x, a);
  CHECK(std::memcmp(a.data(), want.data(), x.size() * 2) == 0);

  std::vector<fp16> s(x.size());
  lowprec::convert(span_like<const float>{x.data(), x.size()}, span_like<fp16>{s.data(), s.size()});
  CHECK(std::memcmp(s.data(), want.data(), x.size() * 2) == 0);

  // Eigen: dense objects and maps, both directions.
  Eigen::ArrayXf e = Eigen::Map<const Eigen::ArrayXf>(x.data(), static_cast<Eigen::Index>(x.size()));
  Eigen::Array<fp16, Eigen::Dynamic, 1> eh(static_cast<Eigen::Index>(x.size()));
  lowprec::convert(e, eh);
  CHECK(std::memcmp(eh.data(), want.data(), x.size() * 2) == 0);
  Eigen::Matrix<float, 2, 3> back;
  lowprec::convert(eh, Eigen::Map<Eigen::VectorXf>(back.data(), 6));
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(bits_of(back.data()[i]) == bits_of(static_cast<float>(want[i])));
  }
  // A column of a column-major matrix is contiguous; a row is not.
  Eigen::MatrixXf m = Eigen::MatrixXf::Constant(3, 4, 1.5f);
  std::vector<bf16> col(3);
  lowprec::convert(m.col(1), col);
  CHECK(static_cast<float>(col[2]) == 1.5f);
  std::vector<bf16> row(4);
  CHECK_THROWS_AS(lowprec::convert(m.row(1), row), std::invalid_argument);

  // The first n elements: lowprec::convert(src, dst, n) on containers.
  std::vector<fp16> first(x.size(), fp16::from_bits(0x1234));
  lowprec::convert(x, first, 4);
  CHECK(std::memcmp(first.data(), want.data(), 4 * 2) == 0);
  CHECK(first[4].bits() == 0x1234);
  CHECK_THROWS_WITH(lowprec::convert(x, first, 7),
                    "lowprec::convert: n = 7 exceeds the range (src has 6 elements, dst has 6)");
  CHECK(first[4].bits() == 0x1234);

  // Two matrices must agree in shape and storage order; vectors of one size always do.
  Eigen::Matrix<bf16, Eigen::Dynamic, Eigen::Dynamic> m43(4, 3);
  m43.setConstant(bf16::from_bits(0x1234));
  CHECK_THROWS_WITH(lowprec::convert(m, m43),
                    "lowprec::convert: shape mismatch: src is 3x4 column-major, dst is 4x3 "
                    "column-major");
  Eigen::Matrix<bf16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m34r(3, 4);
  CHECK_THROWS_AS(lowprec::convert(m, m34r), std::invalid_argument);
  CHECK(m43(0, 0).bits() == 0x1234);
  Eigen::Matrix<bf16, 1, Eigen::Dynamic> rowvec(3);
  lowprec::convert(m.col(2), rowvec);
  CHECK(static_cast<float>(rowvec(2)) == 1.5f);
}

TEST_CASE("mismatched sizes throw before anything is written", "[convert]") {
  const std::vector<float> x(10, 1.0f);
  std::vector<bf16> y(12, bf16::from_bits(0x1234));
  try {
    lowprec::convert(x, y);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("10") != std::string::npos);
    CHECK(what.find("12") != std::string::npos);
  }
  for (const bf16& v : y) CHECK(v.bits() == 0x1234);
}

TEST_CASE("n = 0 touches nothing, null pointers included", "[convert]") {
  lowprec::convert(static_cast<const float*>(nullptr), static_cast<fp16*>(nullptr), 0);
  std::vector<float> empty;
  std::vector<bf16> empty_out;
  lowprec::convert(empty, empty_out);
  SUCCEED();
}

TEST_CASE("round_to_int8 rounds half to even, saturates and maps NaN to 0", "[convert]") {
  CHECK(lowprec::round_to_int8(2.5f) == 2);
  CHECK(lowprec::round_to_int8(3.5f) == 4);
  CHECK(lowprec::round_to_int8(-2.5f) == -2);
  CHECK(lowprec::round_to_int8(127.4f) == 127);
  CHECK(lowprec::round_to_int8(127.5f) == 127);
  CHECK(lowprec::round_to_int8(-128.4f) == -128);
  CHECK(lowprec::round_to_int8(-1e9f) == -128);
  CHECK(lowprec::round_to_int8(std::numeric_limits<float>::infinity()) == 127);
  CHECK(lowprec::round_to_int8(std::nanf("")) == 0);
  CHECK(lowprec::round_to_int8(-0.4f) == 0);
  CHECK(lowprec::round_to_int8(0.5f, rounding::toward_positive) == 1);
  CHECK(lowprec::round_to_int8(-0.5f, rounding::toward_zero) == 0);
  CHECK(lowprec::round_to_int8(-0.1f, rounding::toward_negative) == -1);
  CHECK(lowprec::round_to_int8(1e-40f, rounding::toward_positive) == 1);
}

TEST_CASE("simd_target names a target this CPU supports", "[convert]") {
  const std::string name = lowprec::simd_target();
  bool found = false;
  for (std::int64_t t : hwy::SupportedAndGeneratedTargets()) found |= name == hwy::TargetName(t);
  CHECK(found);
}
