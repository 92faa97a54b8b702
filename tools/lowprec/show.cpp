// `lowprec show VALUES...`: what each format stores for a number -- the value that reads
// back, its bits in hex and as fields, and the error -- under a chosen rounding and
// overflow policy. Scalar code only (no SIMD kernels in this translation unit).
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/quant/nf4.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/version.hpp"

namespace lowprec_cli {
namespace {

struct show_options {
  std::vector<std::string> values;
  std::string rounding_name = "nearest_even";
  std::string overflow_name = "ieee";
  std::uint64_t seed = 0;
};

lowprec::rounding parse_rounding(const std::string& s) {
  for (const auto r : {lowprec::rounding::nearest_even, lowprec::rounding::toward_zero,
                       lowprec::rounding::toward_positive, lowprec::rounding::toward_negative,
                       lowprec::rounding::stochastic}) {
    if (s == lowprec::to_string(r)) return r;
  }
  throw tool_error("--rounding: unknown mode '" + s +
                   "' (expected nearest_even, toward_zero, toward_positive, toward_negative "
                   "or stochastic)");
}

lowprec::overflow parse_overflow(const std::string& s) {
  if (s == "ieee") return lowprec::overflow::ieee;
  if (s == "saturate") return lowprec::overflow::saturate;
  throw tool_error("--overflow: unknown policy '" + s + "' (expected ieee or saturate)");
}

// 32 random bits for stochastic rounding, a function of (seed, value index, format row)
// only, so a run is reproducible (splitmix64's finaliser).
std::uint32_t random_bits(std::uint64_t seed, std::uint64_t value_index, std::uint64_t row) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (1 + value_index * 16 + row);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

// True when a value between `lo` (toward zero) and `hi` (away) should go away from zero.
// frac = (|x| - |lo|) / (|hi| - |lo|) in [0, 1).
bool round_away(lowprec::rounding mode, bool negative, double frac, bool lo_is_even,
                std::uint32_t random) {
  if (frac == 0.0) return false;
  switch (mode) {
    case lowprec::rounding::nearest_even: return frac > 0.5 || (frac == 0.5 && !lo_is_even);
    case lowprec::rounding::toward_zero: return false;
    case lowprec::rounding::toward_positive: return !negative;
    case lowprec::rounding::toward_negative: return negative;
    case lowprec::rounding::stochastic: return static_cast<double>(random) < frac * 4294967296.0;
  }
  return false;
}

std::string binary(std::uint64_t v, int bits) {
  std::string s;
  for (int b = bits - 1; b >= 0; --b) s += ((v >> b) & 1) != 0 ? '1' : '0';
  return s;
}

std::string hex(std::uint64_t v, int bits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*" PRIX64, (bits + 3) / 4, v);
  return buf;
}

struct row {
  std::string format, stored, bits, fields, note;
  double value = 0;  // the stored value, for the errors
};

// ---- the formats ----------------------------------------------------------------------------

// fp32 under every policy: the nearest float is computed by the conversion; a directed
// or stochastic mode moves to the neighbour on the other side of x when needed.
row fp32_row(double x, lowprec::rounding mode, lowprec::overflow policy, std::uint32_t random) {
  constexpr float max = std::numeric_limits<float>::max();
  float f = static_cast<float>(x);  // nearest, ties to even (default environment)
  if (std::isfinite(x) && static_cast<double>(f) != x) {
    const bool negative = x < 0;
    // lo: the float next to x toward zero, hi: away from zero.
    float lo = f, hi = f;
    if (std::fabs(static_cast<double>(f)) > std::fabs(x)) {
      lo = std::nextafter(f, 0.0f);
    } else {
      hi = std::nextafter(f, negative ? -std::numeric_limits<float>::infinity()
                                      : std::numeric_limits<float>::infinity());
    }
    // Beyond the largest finite float the far neighbour is 2^128, as for the small formats.
    const double hi_d = std::isinf(hi) ? std::copysign(std::ldexp(1.0, 128), x)
                                       : static_cast<double>(hi);
    const double frac = (std::fabs(x) - std::fabs(static_cast<double>(lo))) /
                        (std::fabs(hi_d) - std::fabs(static_cast<double>(lo)));
    std::uint32_t lo_bits = 0;
    std::memcpy(&lo_bits, &lo, 4);
    f = round_away(mode, negative, frac, (lo_bits & 1) == 0, random) ? hi : lo;
  }
  if (policy == lowprec::overflow::saturate && std::isinf(f)) f = std::copysign(max, f);
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  row r;
  r.format = "fp32";
  r.value = static_cast<double>(f);
  r.bits = hex(u, 32);
  r.fields = binary(u >> 31, 1) + " " + binary((u >> 23) & 0xFF, 8) + " " + binary(u & 0x7FFFFF, 23);
  return r;
}

template <class T>
row float_row(double x, lowprec::rounding mode, lowprec::overflow policy, std::uint32_t random) {
  using F = typename T::format;
  const T t = T::from(x, mode, policy, random);
  const std::uint32_t b = t.bits();
  row r;
  r.format = F::name;
  r.value = static_cast<double>(static_cast<float>(t));
  r.bits = hex(b, F::total_bits);
  r.fields = binary(b >> (F::total_bits - 1), 1) + " " +
             binary((b >> F::mantissa_bits) & ((1u << F::exponent_bits) - 1), F::exponent_bits) +
             " " + binary(b & F::mantissa_mask, F::mantissa_bits);
  if (isnan(t) && !std::isnan(x)) {
    r.note = "overflow: NaN, the format has no infinity";
  } else if (isinf(t) && !std::isinf(x)) {
    r.note = "overflow: infinity";
  }
  return r;
}

// A plain two's-complement integer of `bits` bits: rounded under the mode, then
// saturated (integers have no infinity; the overflow policy does not apply); NaN -> 0.
row int_row(const char* name, int bits, double x, lowprec::rounding mode, std::uint32_t random) {
  const double lo_limit = -std::ldexp(1.0, bits - 1);
  const double hi_limit = std::ldexp(1.0, bits - 1) - 1;
  double v = 0.0;
  std::string note;
  if (std::isnan(x)) {
    note = "NaN has no integer code: 0";
  } else {
    const double t = std::trunc(x);
    const double frac = std::fabs(x - t);
    const bool even = std::fmod(t, 2.0) == 0.0;
    v = round_away(mode, x < 0, frac, even, random) ? t + (x < 0 ? -1.0 : 1.0) : t;
    if (v < lo_limit || v > hi_limit) {
      v = v < lo_limit ? lo_limit : hi_limit;
      note = "saturated to the range " + std::to_string(static_cast<long long>(lo_limit)) + ".." +
             std::to_string(static_cast<long long>(hi_limit));
    }
  }
  const auto code = static_cast<std::uint64_t>(static_cast<long long>(v)) &
                    ((std::uint64_t{1} << bits) - 1);
  row r;
  r.format = name;
  r.value = v;
  r.bits = hex(code, bits);
  r.fields = binary(code, bits);
  r.note = note;
  return r;
}

// nf4 stores x / absmax of its block as the nearest of 16 NormalFloat values in [-1, 1]
// (always nearest; the rounding policy does not apply). Shown with absmax 1.
row nf4_row(double x) {
  const lowprec::nf4 q(static_cast<float>(x));
  row r;
  r.format = "nf4";
  r.value = static_cast<double>(static_cast<float>(q));
  r.bits = hex(q.bits(), 4);
  r.fields = binary(q.bits(), 4) + " (table index)";
  if (std::isnan(x)) {
    r.note = "NaN has no code: code 7, value 0";
  } else if (std::fabs(x) > 1.0) {
    r.note = "saturated: nf4 holds x / block absmax, in [-1, 1]";
  }
  return r;
}

std::string number(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// The shortest %g text that reads back as v.
std::string shortest(double v) {
  for (int p = 1; p < 17; ++p) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return number(v, "%.17g");
}

void print_value(const std::string& text, double x, const show_options& o,
                 lowprec::rounding mode, lowprec::overflow policy, std::uint64_t index) {
  // The errors are measured against the double nearest the text; say which one that is
  // when it needs more digits than its shortest form (3.14159265 is 3.1415926500000002).
  std::printf("%s", text.c_str());
  if (number(x, "%.17g") != shortest(x)) std::printf(" (nearest double %.17g)", x);
  std::printf("\n");
  std::vector<row> rows;
  std::uint64_t k = 0;
  const auto rnd = [&]() { return random_bits(o.seed, index, k++); };
  rows.push_back(fp32_row(x, mode, policy, rnd()));
  rows.push_back(float_row<lowprec::fp16>(x, mode, policy, rnd()));
  rows.push_back(float_row<lowprec::bf16>(x, mode, policy, rnd()));
  rows.push_back(float_row<lowprec::fp8_e4m3fn>(x, mode, policy, rnd()));
  rows.push_back(float_row<lowprec::fp8_e5m2>(x, mode, policy, rnd()));
  rows.push_back(int_row("int8", 8, x, mode, rnd()));
  rows.push_back(int_row("int4", 4, x, mode, rnd()));
  rows.push_back(nf4_row(x));
  std::printf("  %-11s %-15s %-11s %-36s %-11s %s\n", "format", "stored value", "bits",
              "fields: sign exponent mantissa", "abs error", "rel error");
  for (row& r : rows) {
    r.stored = number(r.value, "%.9g");
    std::string errors = "-";
    if (std::isfinite(r.value) && std::isfinite(x)) {
      const double abs_err = r.value - x;
      const double rel = abs_err == 0 ? 0.0 : abs_err / x;
      errors = number(abs_err, "%+.3e") + "  " + (x != 0 ? number(rel, "%+.3e") : std::string("-"));
    } else if (std::isnan(x) && std::isnan(r.value)) {
      errors = "NaN stays NaN";
    } else if (std::isinf(x) && r.value == x) {
      errors = "exact";
    }
    std::printf("  %-11s %-15s %-11s %-36s %s%s%s\n", r.format.c_str(), r.stored.c_str(),
                r.bits.c_str(), r.fields.c_str(), errors.c_str(), r.note.empty() ? "" : "  ",
                r.note.empty() ? "" : ("(" + r.note + ")").c_str());
  }
  std::printf("\n");
}

void run_show(const show_options& o) {
  const lowprec::rounding mode = parse_rounding(o.rounding_name);
  const lowprec::overflow policy = parse_overflow(o.overflow_name);
  std::vector<double> xs;
  for (const std::string& v : o.values) xs.push_back(parse_double(v, "show"));  // all first
  std::printf("lowprec %s: rounding %s, overflow %s; int8/int4 are plain integers "
              "(round, then saturate);\nnf4 is the nearest NormalFloat4 value of x with a block absmax of 1\n\n",
              lowprec::version_string, lowprec::to_string(mode), lowprec::to_string(policy));
  for (std::size_t i = 0; i < xs.size(); ++i) print_value(o.values[i], xs[i], o, mode, policy, i);
}

}  // namespace

void add_show_command(CLI::App& app) {
  auto o = std::make_shared<show_options>();
  CLI::App* cmd = app.add_subcommand(
      "show", "Show how numbers are stored in every format: value, bits, fields, error");
  cmd->add_option("values", o->values, "Numbers to show (3.14159265, 1e-8, 65520, inf, nan, ...)")
      ->required();
  cmd->add_option("--rounding", o->rounding_name,
                  "nearest_even (default), toward_zero, toward_positive, toward_negative, "
                  "stochastic");
  cmd->add_option("--overflow", o->overflow_name, "ieee (default) or saturate");
  cmd->add_option("--seed", o->seed, "Random stream of --rounding stochastic (default 0)");
  cmd->callback([o]() { run_show(*o); });
}

}  // namespace lowprec_cli
