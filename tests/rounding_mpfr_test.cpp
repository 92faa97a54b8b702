// Every conversion into fp16, bf16, fp8_e4m3fn and fp8_e5m2 held code for code to an
// MPFR oracle (reference/mpfr_oracle.hpp, which shares no code with include/lowprec):
// sources float, double, int64 and long double; every deterministic rounding mode under
// both overflow policies; stochastic rounding with fixed random bits.
//
// Inputs per (format, source) are a fixed list (zeros, infinities, NaNs with assorted
// payloads, powers of two, the sources' own extremes) followed by random draws from
// these mixes:
//   pattern     uniformly random bit patterns of the source type
//   range       random significands at exponents from below half the smallest subnormal
//               to past the first overflowing value
//   boundary    the subnormal/normal boundary and the smallest subnormals
//   top         the largest finite, the first overflowing value and their neighbours
//   ties        exact halfway points (and grid points) and the source's next values
//   traps       double (long double, int64) inputs within half a float (double) ulp of a
//               halfway or grid point: the detour through the narrower type lands
//               exactly on it and would round wrongly; counted and required to occur
// LOWPREC_TEST_SCALE (default 1) scales the random counts: 10 for a deeper run, 0.1 for a
// quick one. `-s` lists every combination with the number of inputs it compared.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "reference/mpfr_oracle.hpp"
#include "support/catch.hpp"

namespace {

namespace oracle = lowprec_test::mpfr_oracle;
using lowprec::overflow;
using lowprec::rounding;

// ---- The grid of tested combinations ------------------------------------------------

template <class S>
using encoder = std::uint32_t (*)(S, rounding, overflow, std::uint32_t);

template <class T, class S>
std::uint32_t encode(S x, rounding mode, overflow policy, std::uint32_t random_bits) {
  return T::from(x, mode, policy, random_bits).bits();
}

// A format as the oracle sees it (parameters only) next to the library's encoders.
struct format_under_test {
  oracle::target target;
  encoder<float> from_float;
  encoder<double> from_double;
  encoder<std::int64_t> from_int64;
  encoder<long double> from_long_double;

  encoder<float> get(float) const { return from_float; }
  encoder<double> get(double) const { return from_double; }
  encoder<std::int64_t> get(std::int64_t) const { return from_int64; }
  encoder<long double> get(long double) const { return from_long_double; }
};

template <class T>
format_under_test describe_format(oracle::target t) {
  return {t, encode<T, float>, encode<T, double>, encode<T, std::int64_t>, encode<T, long double>};
}

const std::vector<format_under_test>& formats() {
  static const std::vector<format_under_test> all = {
      describe_format<lowprec::fp16>({"fp16", 5, 10, true, 65504.0}),
      describe_format<lowprec::bf16>({"bf16", 8, 7, true, 0x1.FEp127}),
      describe_format<lowprec::fp8_e4m3fn>({"fp8_e4m3fn", 4, 3, false, 448.0}),
      describe_format<lowprec::fp8_e5m2>({"fp8_e5m2", 5, 2, true, 57344.0}),
  };
  return all;
}

struct mode_case {
  rounding lib;
  oracle::round_mode ref;
};
constexpr mode_case deterministic_modes[] = {
    {rounding::nearest_even, oracle::round_mode::nearest_even},
    {rounding::toward_zero, oracle::round_mode::toward_zero},
    {rounding::toward_positive, oracle::round_mode::toward_positive},
    {rounding::toward_negative, oracle::round_mode::toward_negative},
};

struct policy_case {
  overflow lib;
  oracle::overflow_mode ref;
};
constexpr policy_case policies[] = {
    {overflow::ieee, oracle::overflow_mode::ieee},
    {overflow::saturate, oracle::overflow_mode::saturate},
};

// ---- Size knob and randomness -------------------------------------------------------

double test_scale() {
  const char* s = std::getenv("LOWPREC_TEST_SCALE");
  if (s == nullptr || *s == '\0') return 1.0;
  const double v = std::strtod(s, nullptr);
  return v > 0 ? v : 1.0;
}

std::size_t scaled(std::size_t n) {
  const double v = static_cast<double>(n) * test_scale();
  return v < 1000.0 ? std::size_t{1000} : static_cast<std::size_t>(v);
}

// Own helpers on top of the engine, so draws do not depend on the standard library's
// distributions: the same seed gives the same inputs everywhere.
class random_source {
 public:
  explicit random_source(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t bits(int n) {  // n uniformly random low bits
    if (n <= 0) return 0;
    return n >= 64 ? engine_() : engine_() >> (64 - n);
  }
  int between(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool coin() { return (engine_() >> 63) != 0; }

 private:
  std::mt19937_64 engine_;
};

template <class To, class From>
To bits_as(const From& from) {
  static_assert(sizeof(To) <= sizeof(From), "bits_as reads the leading bytes");
  To to{};
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

// ---- The target's grid, from the oracle's description (not from lowprec) -------------

struct grid {
  int M = 0;
  int min_normal_exp = 0;  // 2^E of the smallest normal
  int top_exp = 0;         // 2^E of the largest finite's binade
  double max_finite = 0;

  explicit grid(const oracle::target& t)
      : M(t.mantissa_bits),
        min_normal_exp(2 - (1 << (t.exponent_bits - 1))),
        max_finite(t.max_finite) {
    int e = 0;
    std::frexp(t.max_finite, &e);
    top_exp = e - 1;
  }
  int min_subnormal_exp() const { return min_normal_exp - M; }
  double quantum(int E) const { return std::ldexp(1.0, std::max(E, min_normal_exp) - M); }
  // A point of the grid in binade E (E < min_normal_exp: the subnormals), fraction n.
  double point(int E, std::uint64_t n) const {
    const double f = static_cast<double>(n & ((std::uint64_t{1} << M) - 1));
    if (E < min_normal_exp) return f * quantum(E);
    return (std::ldexp(1.0, M) + f) * quantum(E);
  }
  // The largest finite, where overflow starts, and the grid beyond (with an unbounded
  // exponent): for e4m3fn 448, 464, 480, 496, 512; for fp16 65504, 65520, 65536, ...
  std::vector<double> top_anchors() const {
    const double ulp = quantum(top_exp);
    std::vector<double> a;
    for (double v = max_finite - ulp; v <= std::ldexp(1.0, top_exp + 1) + ulp; v += ulp / 2) {
      a.push_back(v);
    }
    a.push_back(std::ldexp(1.0, top_exp + 2));
    return a;
  }
};

// ---- Source types --------------------------------------------------------------------

template <class S>
struct source;

template <>
struct source<float> {
  static constexpr const char* name = "float";
  static float pattern(random_source& r) {
    return bits_as<float>(static_cast<std::uint32_t>(r.bits(32)));
  }
  static float nan(bool negative, bool quiet, std::uint64_t payload) {
    std::uint32_t b = 0x7F800000u | (negative ? 0x80000000u : 0u) | (quiet ? 0x400000u : 0u) |
                      static_cast<std::uint32_t>(payload & 0x3FFFFFu);
    if ((b & 0x7FFFFFu) == 0) b |= 1u;  // a signalling NaN needs a payload
    return bits_as<float>(b);
  }
  static std::string describe(float x) {
    std::ostringstream os;
    os << "float 0x" << std::hex << std::setw(8) << std::setfill('0') << bits_as<std::uint32_t>(x)
       << " (" << std::hexfloat << x << ")";
    return os.str();
  }
};

template <>
struct source<double> {
  static constexpr const char* name = "double";
  static double pattern(random_source& r) { return bits_as<double>(r.bits(64)); }
  static double nan(bool negative, bool quiet, std::uint64_t payload) {
    std::uint64_t b = 0x7FF0000000000000u | (negative ? 0x8000000000000000u : 0u) |
                      (quiet ? 0x8000000000000u : 0u) | (payload & 0x7FFFFFFFFFFFFu);
    if ((b & 0xFFFFFFFFFFFFFu) == 0) b |= 1u;
    return bits_as<double>(b);
  }
  static std::string describe(double x) {
    std::ostringstream os;
    os << "double 0x" << std::hex << std::setw(16) << std::setfill('0') << bits_as<std::uint64_t>(x)
       << " (" << std::hexfloat << x << ")";
    return os.str();
  }
};

// x87 extended: 64-bit significand with an explicit leading bit (quiet bit 62), then
// 16 bits of sign and exponent (little-endian). Only this layout is tested.
constexpr bool x87_long_double = std::numeric_limits<long double>::digits == 64 &&
                                 std::numeric_limits<long double>::max_exponent == 16384;

template <>
struct source<long double> {
  static constexpr const char* name = "long double";
  static long double make(std::uint16_t sign_exponent, std::uint64_t significand) {
    unsigned char bytes[sizeof(long double) < 10 ? 10 : sizeof(long double)] = {};
    std::memcpy(bytes, &significand, 8);
    std::memcpy(bytes + 8, &sign_exponent, 2);
    long double x = 0;
    std::memcpy(&x, bytes, sizeof x);
    return x;
  }
  static long double pattern(random_source& r) {
    // Any sign and exponent; the explicit bit set unless the exponent field is 0.
    const auto se = static_cast<std::uint16_t>(r.bits(16));
    std::uint64_t sig = r.bits(64);
    const std::uint64_t explicit_bit = std::uint64_t{1} << 63;
    sig = (se & 0x7FFFu) != 0 ? sig | explicit_bit : sig & ~explicit_bit;
    return make(se, sig);
  }
  static long double nan(bool negative, bool quiet, std::uint64_t payload) {
    std::uint64_t sig = (std::uint64_t{1} << 63) | (quiet ? std::uint64_t{1} << 62 : 0u) |
                        (payload & ((std::uint64_t{1} << 62) - 1));
    if ((sig & ~(std::uint64_t{1} << 63)) == 0) sig |= 1u;
    return make(static_cast<std::uint16_t>(negative ? 0xFFFFu : 0x7FFFu), sig);
  }
  static std::string describe(long double x) {
    std::ostringstream os;
    unsigned char bytes[sizeof(long double) < 10 ? 10 : sizeof(long double)] = {};
    std::memcpy(bytes, &x, sizeof x);
    std::uint64_t sig = 0;
    std::uint16_t se = 0;
    std::memcpy(&sig, bytes, 8);
    std::memcpy(&se, bytes + 8, 2);
    os << "long double 0x" << std::hex << std::setfill('0') << std::setw(4) << se << ':'
       << std::setw(16) << sig << " (" << std::hexfloat << x << ")";
    return os.str();
  }
};

template <>
struct source<std::int64_t> {
  static constexpr const char* name = "int64";
  static std::int64_t pattern(random_source& r) { return bits_as<std::int64_t>(r.bits(64)); }
  static std::string describe(std::int64_t x) { return "int64 " + std::to_string(x); }
};

// ---- Input generation ----------------------------------------------------------------

// x if the exact value v converts to S without rounding (v finite).
template <class S>
bool exactly(double v, S& out) {
  if constexpr (std::is_integral_v<S>) {
    if (!(std::fabs(v) < 0x1p63) || v != std::floor(v)) return false;
    out = static_cast<S>(v);
    return true;
  } else {
    if (!(std::fabs(v) <= static_cast<double>(std::numeric_limits<S>::max()))) return false;
    out = static_cast<S>(v);
    return static_cast<double>(out) == v;
  }
}

template <class S>
S step(S x, int k) {  // k source-ulps away (integers: k units)
  if constexpr (std::is_integral_v<S>) {
    if (k > 0 && x > std::numeric_limits<S>::max() - k) return x;
    if (k < 0 && x < std::numeric_limits<S>::min() - k) return x;
    return static_cast<S>(x + k);
  } else {
    const S toward =
        k > 0 ? std::numeric_limits<S>::infinity() : -std::numeric_limits<S>::infinity();
    for (int i = 0; i < std::abs(k); ++i) x = std::nextafter(x, toward);
    return x;
  }
}

template <class S>
S negate_maybe(S x, bool negative) {
  if constexpr (std::is_integral_v<S>) {
    return negative && x != std::numeric_limits<S>::min() ? static_cast<S>(-x) : x;
  } else {
    return negative ? -x : x;
  }
}

// +-1.f * 2^E with all of S's significand bits random (integers: bit length E+1).
template <class S>
S random_in_binade(random_source& r, int E) {
  if constexpr (std::is_integral_v<S>) {
    if (E < 0) return 0;
    if (E > 62) E = 62;
    const auto v = static_cast<S>((std::uint64_t{1} << E) | r.bits(E));
    return negate_maybe(v, r.coin());
  } else {
    constexpr int d = std::numeric_limits<S>::digits;
    const std::uint64_t sig = (std::uint64_t{1} << (d - 1)) | r.bits(d - 1);
    const S v = std::ldexp(static_cast<S>(sig), E - (d - 1));
    return negate_maybe(v, r.coin());
  }
}

// A value within half an ulp of the narrower type N of the positive base, on either side,
// so that converting it to N gives exactly base: a double-rounding trap.
template <class S, class N>
bool near_narrow(random_source& r, double base, S& out) {
  S b{};
  if (!exactly(base, b)) return false;
  const bool up = r.coin() || base == 0;
  constexpr int spare = std::numeric_limits<S>::digits - std::numeric_limits<N>::digits - 1;
  const int len = r.between(1, spare);
  const std::uint64_t k = (std::uint64_t{1} << (len - 1)) | r.bits(len - 1);
  if constexpr (std::is_integral_v<S>) {
    // base is an integer >= 2^54 here; k < 2^spare units stays below half a double ulp.
    const S delta = static_cast<S>(k);
    out = up ? static_cast<S>(b + delta) : static_cast<S>(b - delta);
  } else {
    const S next = std::nextafter(b, up ? std::numeric_limits<S>::infinity() : S{0});
    const S ulp = up ? next - b : b - next;
    out = up ? b + static_cast<S>(k) * ulp : b - static_cast<S>(k) * ulp;
  }
  return out != b && static_cast<N>(out) == static_cast<N>(b);
}

template <class S>
struct input_set {
  std::vector<S> values;
  std::vector<bool> trap;  // built to round onto a narrower type's tie or grid point
  std::size_t traps = 0;
  std::size_t fixed = 0;  // the first `fixed` values are the fixed list
  std::size_t random_count() const { return values.size() - fixed; }
  void add(S x, bool is_trap = false) {
    values.push_back(x);
    trap.push_back(is_trap);
    traps += is_trap ? 1 : 0;
  }
};

template <class S>
void add_fixed(const grid& g, std::vector<S>& v) {
  S x{};
  auto push_both = [&v](S y) {
    v.push_back(y);
    v.push_back(negate_maybe(y, true));
  };
  // Powers of two over the whole interesting range, with their neighbours.
  for (int E = g.min_subnormal_exp() - 3; E <= g.top_exp + 3; ++E) {
    if (exactly(std::ldexp(1.0, E), x)) {
      for (int k = -2; k <= 2; ++k) push_both(step(x, k));
    }
  }
  for (double a : g.top_anchors()) {
    if (exactly(a, x)) {
      for (int k = -2; k <= 2; ++k) push_both(step(x, k));
    }
  }
  if constexpr (std::is_integral_v<S>) {
    for (S y : {S{0}, S{1}, std::numeric_limits<S>::max(), std::numeric_limits<S>::min(),
                static_cast<S>(std::numeric_limits<S>::min() + 1)}) {
      push_both(y);
    }
    for (int e = 0; e < 63; ++e) {
      const auto p = static_cast<S>(std::uint64_t{1} << e);
      for (int k = -1; k <= 1; ++k) push_both(step(p, k));
    }
  } else {
    using lim = std::numeric_limits<S>;
    for (S y : {S{0}, lim::infinity(), lim::max(), lim::min(), lim::denorm_min(),
                step(lim::min(), -1), S{1}}) {
      push_both(y);
    }
    for (bool negative : {false, true}) {
      for (bool quiet : {false, true}) {
        for (std::uint64_t payload :
             {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}, std::uint64_t{1} << 21,
              std::uint64_t{1} << 50, std::uint64_t{0x5555555555555555u}}) {
          v.push_back(source<S>::nan(negative, quiet, payload));
        }
      }
    }
  }
}

template <class S>
input_set<S> make_inputs(const grid& g, std::size_t n, std::uint64_t seed) {
  input_set<S> in;
  add_fixed(g, in.values);
  in.trap.assign(in.values.size(), false);
  in.fixed = in.values.size();
  random_source r(seed);
  const int lo_exp = g.min_subnormal_exp() - 3;
  const int hi_exp = g.top_exp + 2;
  const std::vector<double> anchors = g.top_anchors();
  // A grid point or halfway point at binade E (E = min_normal_exp - 1: subnormals).
  auto tie_or_point = [&g, &r](int E, bool tie) {
    const double p = g.point(E, r.bits(g.M));
    return tie ? p + g.quantum(E) / 2 : p;
  };
  S x{};
  while (in.random_count() < n) {
    const int mix = r.between(0, 15);
    if (mix == 0) {  // pattern (twice for integers: every pattern is a plain value)
      in.add(source<S>::pattern(r));
      if (std::is_integral_v<S>) in.add(source<S>::pattern(r));
    } else if (mix <= 4) {  // range
      in.add(random_in_binade<S>(r, r.between(lo_exp, hi_exp)));
    } else if (mix <= 6) {  // boundary
      const int E =
          r.coin() ? g.min_normal_exp + r.between(-2, 1) : g.min_subnormal_exp() + r.between(-2, 1);
      in.add(random_in_binade<S>(r, E));
      if (exactly(tie_or_point(g.min_normal_exp - 1, r.coin()), x)) {
        in.add(negate_maybe(step(x, r.between(-2, 2)), r.coin()));
      }
    } else if (mix <= 8) {  // top
      const double a =
          anchors[static_cast<std::size_t>(r.between(0, static_cast<int>(anchors.size()) - 1))];
      if (exactly(a, x)) in.add(negate_maybe(step(x, r.between(-4, 4)), r.coin()));
      in.add(random_in_binade<S>(r, g.top_exp + r.between(-1, 1)));
    } else if (mix <= 12) {  // ties
      const int E = r.between(g.min_normal_exp - 1, g.top_exp + 1);
      if (exactly(tie_or_point(E, r.between(0, 3) != 0), x)) {
        const int k = r.coin() ? 0 : r.between(-3, 3);
        in.add(negate_maybe(step(x, k), r.coin()));
      }
    } else {  // traps
      const int E = r.between(g.min_normal_exp - 1, g.top_exp + 1);
      const double base = tie_or_point(E, r.between(0, 2) != 0);
      const bool negative = r.coin();
      if constexpr (std::is_same_v<S, double>) {
        if (near_narrow<double, float>(r, base, x)) in.add(negate_maybe(x, negative), true);
      } else if constexpr (std::is_same_v<S, long double>) {
        if (r.coin() ? near_narrow<long double, double>(r, base, x)
                     : near_narrow<long double, float>(r, base, x)) {
          in.add(negate_maybe(x, negative), true);
        }
      } else if constexpr (std::is_same_v<S, std::int64_t>) {
        if (g.top_exp >= 54) {  // integer ties and grid points >= 2^54, within half a double ulp
          const double big =
              std::ldexp(tie_or_point(g.M + 1, r.coin()), r.between(54, 62) - g.M - 1);
          if (near_narrow<std::int64_t, double>(r, big, x)) in.add(negate_maybe(x, negative), true);
        } else if (exactly(tie_or_point(r.between(g.M + 1, g.top_exp + 1), true), x)) {
          // every integer in range is a double: integer ties and their neighbours instead
          in.add(negate_maybe(step(x, r.between(-3, 3)), negative));
        }
      } else {  // float: near ties and grid points by up to 2^12 float ulps
        if (exactly(base, x)) {
          const int k = static_cast<int>(r.bits(r.between(1, 12)));
          in.add(negate_maybe(step(x, r.coin() ? k : -k), negative));
        }
      }
    }
  }
  return in;
}

// ---- Comparison and reporting --------------------------------------------------------

constexpr std::size_t max_examples = 10;

class mismatch_log {
 public:
  void add(const std::string& line) {
    ++count_;
    if (lines_.size() < max_examples) lines_.push_back(line);
  }
  std::size_t count() const { return count_; }
  std::string text() const {
    std::string s;
    for (const std::string& l : lines_) s += "  " + l + "\n";
    if (count_ > lines_.size()) {
      s += "  ... and " + std::to_string(count_ - lines_.size()) + " more\n";
    }
    return s;
  }

 private:
  std::size_t count_ = 0;
  std::vector<std::string> lines_;
};

std::string hex_code(std::uint32_t c) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << c;
  return os.str();
}

struct tally {
  std::string label;
  std::size_t checked = 0;
  std::size_t mismatches = 0;
};

// One CHECK per combination with its counts (shown by `-s`), then the first examples
// of the whole test case, once.
void report(const std::vector<tally>& tallies, const mismatch_log& log) {
  for (const tally& t : tallies) {
    INFO(t.label << ": " << t.checked << " inputs compared, " << t.mismatches << " mismatches");
    CHECK(t.mismatches == 0);
  }
  INFO("first mismatches (format mode/overflow source input: expected, got):\n" << log.text());
  CHECK(log.count() == 0);
}

template <class S>
std::uint64_t seed_for(const oracle::target& t, std::uint64_t salt) {
  std::uint64_t h = 0x9E3779B97F4A7C15u ^ salt;
  for (const char* name : {t.name, source<S>::name}) {
    for (const char* p = name; *p != '\0'; ++p) {
      h = (h ^ static_cast<unsigned char>(*p)) * 0x100000001B3u;  // FNV-1a step
    }
  }
  return h;
}

// The conversion a trap is built to catch: through the narrower type first.
template <class S>
auto detour(S x) {
  if constexpr (std::is_same_v<S, double>) {
    return static_cast<float>(x);
  } else if constexpr (std::is_same_v<S, long double> || std::is_same_v<S, std::int64_t>) {
    return static_cast<double>(x);
  } else {
    return x;
  }
}

template <class S>
void check_deterministic(std::size_t per_format) {
  mismatch_log log;
  std::vector<tally> tallies;
  for (const format_under_test& f : formats()) {
    const input_set<S> in = make_inputs<S>(grid(f.target), per_format, seed_for<S>(f.target, 1));
    const encoder<S> convert = f.get(S{});
    std::size_t detour_wrong = 0;  // inputs whose detour result differs from the exact one
    for (const mode_case& m : deterministic_modes) {
      tally t[2];
      for (std::size_t i = 0; i < in.values.size(); ++i) {
        const S x = in.values[i];
        const oracle::expected want = oracle::expect(f.target, x, m.ref);
        if (in.trap[i] && oracle::expect(f.target, detour(x), m.ref).ieee != want.ieee) {
          ++detour_wrong;
        }
        for (std::size_t p = 0; p < 2; ++p) {
          const std::uint32_t got = convert(x, m.lib, policies[p].lib, 0);
          const std::uint32_t expected = want[policies[p].ref];
          ++t[p].checked;
          if (got != expected) {
            ++t[p].mismatches;
            log.add(std::string(f.target.name) + " " + lowprec::to_string(m.lib) + "/" +
                    lowprec::to_string(policies[p].lib) + " " + source<S>::describe(x) + ": " +
                    hex_code(expected) + ", " + hex_code(got));
          }
        }
      }
      for (std::size_t p = 0; p < 2; ++p) {
        t[p].label = std::string(f.target.name) + " from " + source<S>::name + ", " +
                     lowprec::to_string(m.lib) + ", overflow " +
                     lowprec::to_string(policies[p].lib);
        tallies.push_back(t[p]);
      }
    }
    if (!std::is_same_v<S, float> && (!std::is_integral_v<S> || grid(f.target).top_exp >= 54)) {
      // The generator must really produce inputs on which a detour rounds wrongly.
      INFO(f.target.name << " from " << source<S>::name << ": " << in.traps
                         << " trap inputs; a detour through the narrower type is wrong on "
                         << detour_wrong << " (input, mode) pairs");
      CHECK(in.traps > in.random_count() / 20);
      CHECK(detour_wrong > in.random_count() / 100);
    }
  }
  report(tallies, log);
}

template <class S>
void check_stochastic(std::size_t per_format) {
  mismatch_log log;
  std::vector<tally> tallies;
  for (const format_under_test& f : formats()) {
    const input_set<S> in = make_inputs<S>(grid(f.target), per_format, seed_for<S>(f.target, 2));
    const encoder<S> convert = f.get(S{});
    random_source r(seed_for<S>(f.target, 3));
    tally t[2];
    std::size_t on_threshold = 0;  // inputs checked at r = 2^32 - q and one below
    for (const S x : in.values) {
      const oracle::stochastic_split s = oracle::split(f.target, x);
      std::vector<std::uint32_t> bits = {0u, 0xFFFFFFFFu, static_cast<std::uint32_t>(r.bits(32)),
                                         static_cast<std::uint32_t>(r.bits(32))};
      if (!s.special && !s.exact && s.q > 0) {  // the smallest r that rounds away, and one less
        bits.push_back(static_cast<std::uint32_t>((std::uint64_t{1} << 32) - s.q));
        bits.push_back(static_cast<std::uint32_t>((std::uint64_t{1} << 32) - s.q - 1));
        ++on_threshold;
      }
      for (const std::uint32_t rb : bits) {
        for (std::size_t p = 0; p < 2; ++p) {
          const std::uint32_t got = convert(x, rounding::stochastic, policies[p].lib, rb);
          const std::uint32_t expected = oracle::stochastic_code(f.target, s, rb, policies[p].ref);
          ++t[p].checked;
          if (got != expected) {
            ++t[p].mismatches;
            log.add(std::string(f.target.name) + " stochastic/" +
                    lowprec::to_string(policies[p].lib) + " " + source<S>::describe(x) +
                    " r=" + hex_code(rb) + " q=" + hex_code(static_cast<std::uint32_t>(s.q)) +
                    ": " + hex_code(expected) + ", " + hex_code(got));
          }
        }
      }
    }
    for (std::size_t p = 0; p < 2; ++p) {
      t[p].label = std::string(f.target.name) + " from " + source<S>::name +
                   ", stochastic (input, bits) pairs, overflow " +
                   lowprec::to_string(policies[p].lib);
      tallies.push_back(t[p]);
    }
    INFO(f.target.name << " from " << source<S>::name << ": " << on_threshold
                       << " inputs checked on both sides of their threshold");
    CHECK(on_threshold > in.random_count() / 4);
  }
  report(tallies, log);
}

// Only x87 long double has an input generator here; elsewhere the test says so. S is a
// template parameter so that the discarded branch is not instantiated.
template <class S>
void check_long_double(std::size_t n, bool stochastic) {
  if constexpr (x87_long_double && std::is_same_v<S, long double>) {
    if (stochastic) {
      check_stochastic<S>(n);
    } else {
      check_deterministic<S>(n);
    }
  } else {
    SUCCEED("long double is not x87 extended on this platform: not generated");
  }
}

// Random inputs per format and source (long double: half), each checked in 4 modes x
// 2 policies; stochastic: each with 4 to 6 random-bit values x 2 policies.
constexpr std::size_t deterministic_inputs = 150000;
constexpr std::size_t stochastic_inputs = 50000;

}  // namespace

TEST_CASE("the MPFR oracle agrees with hand-derived boundary values", "[formats][mpfr]") {
  const oracle::target fp16{"fp16", 5, 10, true, 65504.0};
  const oracle::target bf16{"bf16", 8, 7, true, 0x1.FEp127};
  const oracle::target e4m3{"fp8_e4m3fn", 4, 3, false, 448.0};
  const oracle::target e5m2{"fp8_e5m2", 5, 2, true, 57344.0};
  using rm = oracle::round_mode;
  using om = oracle::overflow_mode;
  struct row {
    const oracle::target* t;
    double x;
    rm mode;
    om policy;
    std::uint32_t code;
  };
  const double inf = std::numeric_limits<double>::infinity();
  const row rows[] = {
      {&fp16, 65504, rm::nearest_even, om::ieee, 0x7BFF},
      {&fp16, 65519, rm::nearest_even, om::ieee, 0x7BFF},
      {&fp16, 65520, rm::nearest_even, om::ieee, 0x7C00},
      {&fp16, 65520, rm::nearest_even, om::saturate, 0x7BFF},
      {&fp16, 65520, rm::toward_zero, om::ieee, 0x7BFF},
      {&fp16, 1e6, rm::toward_positive, om::ieee, 0x7C00},
      {&fp16, -1e6, rm::toward_positive, om::ieee, 0xFBFF},
      {&fp16, -1e6, rm::toward_negative, om::ieee, 0xFC00},
      {&fp16, -inf, rm::toward_zero, om::ieee, 0xFC00},
      {&fp16, -inf, rm::nearest_even, om::saturate, 0xFBFF},
      {&fp16, 3.14159265358979311600, rm::nearest_even, om::ieee, 0x4248},
      {&fp16, 0x1p-24, rm::nearest_even, om::ieee, 0x0001},
      {&fp16, 0x1p-25, rm::nearest_even, om::ieee, 0x0000},
      {&fp16, 0x1.000001p-25, rm::nearest_even, om::ieee, 0x0001},
      {&fp16, 0x3p-25, rm::nearest_even, om::ieee, 0x0002},
      {&fp16, 0x1p-60, rm::toward_positive, om::ieee, 0x0001},
      {&fp16, -0x1p-60, rm::toward_positive, om::ieee, 0x8000},
      {&fp16, 0x1p-14 - 0x1p-25, rm::nearest_even, om::ieee, 0x0400},
      {&fp16, 0x1p-14 - 0x1p-25, rm::toward_zero, om::ieee, 0x03FF},
      {&fp16, 1 + 0x1p-11, rm::nearest_even, om::ieee, 0x3C00},
      {&fp16, 1 + 0x3p-11, rm::nearest_even, om::ieee, 0x3C02},
      {&fp16, 1 + 0x1p-11 + 0x1p-40, rm::nearest_even, om::ieee, 0x3C01},
      {&bf16, 3.14159265358979311600, rm::nearest_even, om::ieee, 0x4049},
      {&bf16, 0x1.FFFFFEp127, rm::nearest_even, om::ieee, 0x7F80},
      {&bf16, 0x1.FFFFFEp127, rm::toward_zero, om::ieee, 0x7F7F},
      {&bf16, 0x1p-133, rm::nearest_even, om::ieee, 0x0001},
      {&bf16, 0x1p-134, rm::nearest_even, om::ieee, 0x0000},
      {&bf16, 1e-300, rm::toward_positive, om::ieee, 0x0001},
      {&e4m3, 448, rm::nearest_even, om::ieee, 0x7E},
      {&e4m3, 464, rm::nearest_even, om::ieee, 0x7E},
      {&e4m3, 465, rm::nearest_even, om::ieee, 0x7F},
      {&e4m3, 465, rm::nearest_even, om::saturate, 0x7E},
      {&e4m3, 449, rm::toward_positive, om::ieee, 0x7F},
      {&e4m3, 500, rm::toward_zero, om::ieee, 0x7E},
      {&e4m3, -465, rm::toward_positive, om::ieee, 0xFE},
      {&e4m3, -1000, rm::nearest_even, om::ieee, 0xFF},
      {&e4m3, inf, rm::toward_zero, om::ieee, 0x7F},
      {&e4m3, -inf, rm::nearest_even, om::saturate, 0xFE},
      {&e4m3, 0x1p-9, rm::nearest_even, om::ieee, 0x01},
      {&e4m3, 0x1p-10, rm::nearest_even, om::ieee, 0x00},
      {&e4m3, 0x3p-10, rm::nearest_even, om::ieee, 0x02},
      {&e4m3, 0x1p-6 - 0x1p-10, rm::nearest_even, om::ieee, 0x08},
      {&e5m2, 57344, rm::nearest_even, om::ieee, 0x7B},
      {&e5m2, 61439, rm::nearest_even, om::ieee, 0x7B},
      {&e5m2, 61440, rm::nearest_even, om::ieee, 0x7C},
      {&e5m2, 1.375, rm::nearest_even, om::ieee, 0x3E},
      {&e5m2, 0x1p-17, rm::toward_positive, om::ieee, 0x01},
  };
  for (const row& r : rows) {
    INFO(r.t->name << " of " << std::hexfloat << r.x);
    CHECK(oracle::expected_code(*r.t, r.x, r.mode, r.policy) == r.code);
  }

  // NaN: quiet, sign kept, top payload bits kept.
  const float snan_top = bits_as<float>(std::uint32_t{0x7FA00000u});  // payload 0x200000
  const float neg_snan = bits_as<float>(std::uint32_t{0xFF800001u});
  CHECK(oracle::expected_code(fp16, snan_top, rm::nearest_even, om::ieee) == 0x7F00);
  CHECK(oracle::expected_code(bf16, neg_snan, rm::nearest_even, om::ieee) == 0xFFC0);
  CHECK(oracle::expected_code(e4m3, neg_snan, rm::nearest_even, om::saturate) == 0xFF);
  CHECK(oracle::expected_code(e5m2, snan_top, rm::toward_zero, om::ieee) == 0x7F);

  // Integers above double's precision round from their exact value.
  const std::int64_t big =
      (std::int64_t{1} << 62) + (std::int64_t{1} << 54) + 1;  // just past a bf16 tie
  CHECK(oracle::expected_code(bf16, big, rm::nearest_even, om::ieee) == 0x5E81);

  // Stochastic: q = floor(2^32 * fraction of the gap).
  using oracle::expected_stochastic_code;
  CHECK(expected_stochastic_code(fp16, 1 + 0x1p-11, 0x80000000u, om::ieee) == 0x3C01);
  CHECK(expected_stochastic_code(fp16, 1 + 0x1p-11, 0x7FFFFFFFu, om::ieee) == 0x3C00);
  CHECK(expected_stochastic_code(e4m3, 1 + 0x1p-40, 0xFFFFFFFFu, om::ieee) == 0x38);  // q = 0
  CHECK(expected_stochastic_code(e4m3, 470.0, 0x50000000u, om::ieee) == 0x7F);  // q = 0xB0000000
  CHECK(expected_stochastic_code(e4m3, 470.0, 0x50000000u, om::saturate) == 0x7E);
  CHECK(expected_stochastic_code(e4m3, -470.0, 0x4FFFFFFFu, om::ieee) == 0xFE);
  CHECK(expected_stochastic_code(e4m3, 490.0, 0u, om::ieee) == 0x7F);  // lo = 480 > max
  CHECK(expected_stochastic_code(fp16, 0x1p-26, 0xC0000000u, om::ieee) == 0x0001);
  CHECK(expected_stochastic_code(fp16, -0x1p-26, 0xBFFFFFFFu, om::ieee) == 0x8000);
}

TEST_CASE("float inputs round like MPFR in every format, mode and overflow policy",
          "[formats][mpfr]") {
  check_deterministic<float>(scaled(deterministic_inputs));
}

TEST_CASE("double inputs round once, like MPFR, never through float", "[formats][mpfr]") {
  check_deterministic<double>(scaled(deterministic_inputs));
}

TEST_CASE("int64 inputs round from their exact value, like MPFR", "[formats][mpfr]") {
  check_deterministic<std::int64_t>(scaled(deterministic_inputs));
}

TEST_CASE("long double inputs round once, like MPFR", "[formats][mpfr]") {
  check_long_double<long double>(scaled(deterministic_inputs / 2), false);
}

TEST_CASE("stochastic rounding with fixed bits matches the MPFR neighbours and the q + r rule",
          "[formats][mpfr]") {
  const std::size_t n = scaled(stochastic_inputs);
  SECTION("float") { check_stochastic<float>(n); }
  SECTION("double") { check_stochastic<double>(n); }
  SECTION("int64") { check_stochastic<std::int64_t>(n); }
  SECTION("long double") { check_long_double<long double>(n / 2, true); }
}
