// How far a quantized tensor is from its source: the numbers people quote for a scheme.
//
//   max_abs   max |x - y|
//   rmse      sqrt(mean((x - y)^2))
//   sqnr_db   10 log10(sum x^2 / sum (x - y)^2): +inf when the error is exactly zero
//             (a zero signal included), -inf when the signal is zero and the error not
//
// x is the reference, y the approximation. Sums are accumulated in double. Elements whose
// reference is NaN or Inf are skipped (counted in `skipped`): a quantizer has no finite
// value to be compared against there. A non-finite y against a finite x makes max_abs and
// rmse infinite (or NaN) rather than hiding it.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

namespace lowprec::quant {

struct error_metrics {
  double max_abs = 0.0;
  double rmse = 0.0;
  double sqnr_db = std::numeric_limits<double>::infinity();
  std::size_t count = 0;    // elements compared
  std::size_t skipped = 0;  // elements whose reference was NaN or Inf
};

// Accumulates pairs one at a time; finish() gives the metrics.
class error_accumulator {
 public:
  void add(double x, double y) noexcept {
    if (!std::isfinite(x)) {
      ++skipped_;
      return;
    }
    const double e = y - x;
    const double a = std::fabs(e);
    if (!(a <= max_abs_)) max_abs_ = a;  // a NaN error sticks
    signal_ += x * x;
    noise_ += e * e;
    ++count_;
  }
  error_metrics finish() const noexcept {
    error_metrics m;
    m.count = count_;
    m.skipped = skipped_;
    m.max_abs = max_abs_;
    m.rmse = count_ == 0 ? 0.0 : std::sqrt(noise_ / static_cast<double>(count_));
    if (noise_ == 0.0) {
      m.sqnr_db = std::numeric_limits<double>::infinity();
    } else if (signal_ == 0.0) {
      m.sqnr_db = -std::numeric_limits<double>::infinity();
    } else {
      m.sqnr_db = 10.0 * std::log10(signal_ / noise_);
    }
    return m;
  }

 private:
  double max_abs_ = 0.0, signal_ = 0.0, noise_ = 0.0;
  std::size_t count_ = 0, skipped_ = 0;
};

// Metrics of approx[0, n) against reference[0, n).
template <class R, class A>
error_metrics measure_error(const R* reference, const A* approx, std::size_t n) {
  error_accumulator acc;
  for (std::size_t i = 0; i < n; ++i) {
    acc.add(static_cast<double>(reference[i]), static_cast<double>(approx[i]));
  }
  return acc.finish();
}

}  // namespace lowprec::quant
