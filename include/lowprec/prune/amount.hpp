// How much to prune, as PyTorch's torch.nn.utils.prune says it (prune.py,
// _validate_pruning_amount_init, _validate_pruning_amount, _compute_nparams_toprune):
//
//   amount given as          meaning                       count pruned from n candidates
//   floating point f         a fraction, 0 <= f <= 1        round(f * n), f * n in double,
//                                                           ties to even (Python's round)
//   integer k                a count, 0 <= k <= n           k
//
// So 0.5 of 5 prunes 2 (2.5 rounds to even), 0.5 of 7 prunes 4, and 0.3 of 10 prunes 3.
// n counts the candidates: elements (or channels) not already pruned by a prior mask, as
// PyTorch's PruningContainer does. A fraction outside [0, 1] (or NaN), a negative count
// or a count above n is rejected with std::invalid_argument before anything is computed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "lowprec/detail/format.hpp"

namespace lowprec::prune {

namespace detail {

// Values quoted in error messages (lowprec/detail/format.hpp).
using ::lowprec::detail::shortest_decimal;

}  // namespace detail

class amount {
 public:
  // A fraction of the candidates, in [0, 1].
  static amount fraction(double f) noexcept { return amount(f, kind::fraction_k, false, 0); }
  // A number of candidates.
  static amount count(std::size_t k) noexcept {
    return amount(0.0, kind::count_k, false, static_cast<unsigned long long>(k));
  }

  // Implicit, with PyTorch's meaning: 0.5 is a fraction, 5 a count.
  template <class F, std::enable_if_t<std::is_floating_point_v<F>, int> = 0>
  amount(F f) noexcept : amount(static_cast<double>(f), kind::fraction_k, false, 0) {}
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  amount(I k) noexcept : amount(0.0, kind::count_k, negative(k), magnitude(k)) {}

  bool is_fraction() const noexcept { return kind_ == kind::fraction_k; }

  // Validates against n candidates and returns how many to prune. `who` names the
  // calling function and `what` the candidates ("elements", "channels") in messages.
  std::size_t resolve(std::size_t n, const char* who, const char* what = "elements") const {
    if (kind_ == kind::fraction_k) {
      if (!(fraction_ >= 0.0 && fraction_ <= 1.0)) {
        throw std::invalid_argument(std::string(who) + ": amount " + detail::shortest_decimal(fraction_) +
                                    " is not a fraction in [0, 1] (give an integer for a count)");
      }
      return round_half_even(fraction_ * static_cast<double>(n));
    }
    if (negative_) {
      throw std::invalid_argument(std::string(who) + ": amount -" + std::to_string(count_) +
                                  " is a negative count");
    }
    if (count_ > n) {
      throw std::invalid_argument(std::string(who) + ": amount " + std::to_string(count_) +
                                  " is more than the " + std::to_string(n) + " " + what +
                                  " that can be pruned");
    }
    return static_cast<std::size_t>(count_);
  }

  // Python's round() of a non-negative double: nearest integer, ties to even.
  static std::size_t round_half_even(double x) noexcept {
    const double r = std::floor(x);
    const double d = x - r;  // exact (Sterbenz)
    const bool up = d > 0.5 || (d == 0.5 && std::fmod(r, 2.0) != 0.0);
    return static_cast<std::size_t>(up ? r + 1.0 : r);
  }

 private:
  enum class kind : std::uint8_t { fraction_k, count_k };

  amount(double f, kind k, bool neg, unsigned long long c) noexcept
      : fraction_(f), count_(c), kind_(k), negative_(neg) {}

  template <class I>
  static constexpr bool negative(I k) noexcept {
    if constexpr (std::is_signed_v<I>) {
      return k < 0;
    } else {
      return false;
    }
  }
  template <class I>
  static constexpr unsigned long long magnitude(I k) noexcept {
    if constexpr (std::is_signed_v<I>) {
      const auto v = static_cast<long long>(k);
      return v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    } else {
      return static_cast<unsigned long long>(k);
    }
  }
  double fraction_;
  unsigned long long count_;
  kind kind_;
  bool negative_;
};

}  // namespace lowprec::prune
