// Independent references for lowprec::prune's tests, written the slow, obvious way: full
// sorts of (key, index) pairs, values compared as doubles, every rule restated from the
// documentation rather than from the implementation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"

namespace prune_ref {

// The magnitude order of select.hpp, on values: NaN above +inf, -0 == +0.
inline bool magnitude_less(double a, double b) {
  const double x = std::fabs(a), y = std::fabs(b);
  if (std::isnan(y)) return !std::isnan(x);
  if (std::isnan(x)) return false;
  return x < y;
}
inline bool magnitude_equal(double a, double b) {
  return !magnitude_less(a, b) && !magnitude_less(b, a);
}

// Prunes the k lowest (|v|, index) among the eligible (elig empty = all); 1 = kept.
inline std::vector<std::uint8_t> prune_lowest(const std::vector<double>& v, std::size_t k,
                                              const std::vector<std::uint8_t>& elig = {}) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (elig.empty() || elig[i] != 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return magnitude_less(v[a], v[b]); });
  std::vector<std::uint8_t> keep(v.size(), 0);
  for (std::size_t r = k; r < order.size(); ++r) keep[order[r]] = 1;
  return keep;
}

// Python's round(x) for x >= 0 (half to even), via long double.
inline std::size_t python_round(double x) {
  const long double r = std::nearbyint(static_cast<long double>(x));  // FE_TONEAREST: even
  return static_cast<std::size_t>(r);
}

// Message of the std::invalid_argument fn throws ("" if it throws nothing).
template <class Fn>
std::string invalid_argument_message(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Normal values with some exact ties, zeros of both signs and (optionally) NaNs.
inline std::vector<float> messy_values(std::size_t n, std::uint32_t seed, bool nans) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<float> v(n);
  for (auto& x : v) {
    const int p = pick(rng);
    if (p < 5) {
      x = 0.5f;  // ties
    } else if (p < 8) {
      x = -0.5f;
    } else if (p < 10) {
      x = p == 8 ? 0.0f : -0.0f;
    } else if (nans && p < 12) {
      x = std::numeric_limits<float>::quiet_NaN();
    } else if (p < 14) {
      x = std::round(d(rng) * 4.0f) / 4.0f;  // more ties
    } else {
      x = d(rng);
    }
  }
  return v;
}

template <class T>
T from_double(double x) {
  return T(static_cast<float>(x));
}
template <>
inline double from_double<double>(double x) {
  return x;
}
template <>
inline float from_double<float>(double x) {
  return static_cast<float>(x);
}

}  // namespace prune_ref
