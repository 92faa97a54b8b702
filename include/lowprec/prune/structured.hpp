// Structured pruning: whole channels -- the slices w[..., c, ...] at index c of one axis
// (rows of a matrix for axis 0, columns for axis 1, output channels of a conv weight
// [out, in, kh, kw] for axis 0) -- ranked by their Ln norm or at random.
//
//   function            PyTorch                         ranks channel c by
//   ln_structured       ln_structured(amount, n, dim)   ||w[..., c, ...]||_n over all other axes
//   random_structured   random_structured(amount, dim)  a seeded random key of (seed, c)
//   channel_norms       prune._compute_norm             (the norms themselves)
//
// n: as torch.norm's p: any p > 0, inf_norm (max |w|), -inf_norm (min |w|) or 0 (the count
// of non-zero elements); n = 1 and 2 are the usual choices. Norms are computed in double
// with scaling by the channel's largest |w| (no overflow for any p), so they rank exactly
// as PyTorch's float32 norms whenever those are not within rounding of each other. A
// channel containing NaN has norm NaN and ranks above every other (pruned last), except
// for n = 0, where a NaN counts as one non-zero (NaN != 0, as in torch). Equal norms (often
// with n = 0 or -inf_norm) prune the lower channel index first.
//
// The count is round(amount * C) channels (amount.hpp) of the C candidates. With a prior
// mask, channels it already pruned entirely are not candidates, and the result keeps
// nothing the prior pruned (PyTorch's PruningContainer). Norms are taken of the values
// passed: PyTorch ranks the original, unmasked weights (weight_orig); pass those, not
// weights already zeroed by mask::apply, to reproduce it. Ties between equal norms: the
// lower channel index is pruned first (select.hpp). As in PyTorch, the tensor must have at
// least two axes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/prune/amount.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "lowprec/prune/mask.hpp"
#include "lowprec/prune/select.hpp"
#include "lowprec/prune/view.hpp"

namespace lowprec::prune {

inline constexpr double inf_norm = std::numeric_limits<double>::infinity();

namespace detail {

// torch.norm's orders: p > 0 (inf_norm too), 0 and -inf_norm; not NaN or other p <= 0.
inline void require_norm_order(double p, const char* who) {
  if (!(p > 0.0 || p == 0.0 || p == -inf_norm)) {
    throw std::invalid_argument(std::string(who) + ": norm order n = " + shortest_decimal(p) +
                                " is not valid (use 1, 2, any p > 0, inf_norm, -inf_norm or 0)");
  }
}

// Norm of every index of `axis` (already normalised) over the other axes.
template <class T>
std::vector<double> norms_along(const tensor_ref<const T>& v, std::size_t axis, double p) {
  const std::size_t r = v.rank();
  const std::size_t channels = v.shape[axis];
  const auto visit = [&](auto&& fn) {
    for_each_indexed_run(v, [&](const T* q, std::ptrdiff_t stride, std::size_t len, std::size_t,
                                const std::size_t* index) {
      for (std::size_t i = 0; i < len; ++i) {
        const double x = std::fabs(static_cast<double>(q[static_cast<std::ptrdiff_t>(i) * stride]));
        fn(axis == r - 1 ? i : index[axis], x);
      }
    });
  };
  if (p == 0.0) {
    // The number of non-zeros, as torch.norm(p=0) counts them: NaN != 0, so a NaN counts
    // as one non-zero and does not make this "norm" NaN.
    std::vector<double> count(channels, 0.0);
    visit([&](std::size_t c, double x) { count[c] += x != 0.0 ? 1.0 : 0.0; });
    return count;
  }
  if (p == -inf_norm) {
    // min |w| (torch.norm(p=-inf)); NaN if any is NaN. A channel with no elements (another
    // axis of length 0) has norm 0, as for every other n.
    std::vector<double> small(channels, v.size() == 0 ? 0.0 : inf_norm);
    visit([&](std::size_t c, double x) {
      if (std::isnan(x) || std::isnan(small[c])) {
        small[c] = std::numeric_limits<double>::quiet_NaN();
      } else if (x < small[c]) {
        small[c] = x;
      }
    });
    return small;
  }
  std::vector<double> big(channels, 0.0);  // max |w| per channel; NaN if any is NaN
  visit([&](std::size_t c, double x) {
    if (std::isnan(x) || std::isnan(big[c])) {
      big[c] = std::numeric_limits<double>::quiet_NaN();
    } else if (x > big[c]) {
      big[c] = x;
    }
  });
  if (p == inf_norm) return big;
  std::vector<double> sum(channels, 0.0);
  if (p == 1.0) {
    visit([&](std::size_t c, double x) { sum[c] += x; });
  } else if (p == 2.0) {
    visit([&](std::size_t c, double x) {
      if (big[c] > 0.0 && std::isfinite(big[c])) {
        const double s = x / big[c];
        sum[c] += s * s;
      }
    });
  } else {
    visit([&](std::size_t c, double x) {
      if (big[c] > 0.0 && std::isfinite(big[c])) sum[c] += std::pow(x / big[c], p);
    });
  }
  for (std::size_t c = 0; c < channels; ++c) {
    const double m = big[c];
    if (std::isnan(m)) {
      sum[c] = m;
    } else if (p != 1.0) {  // p = 1 summed |w| directly
      sum[c] = m == 0.0 || std::isinf(m) ? m
                                         : m * (p == 2.0 ? std::sqrt(sum[c]) : std::pow(sum[c], 1.0 / p));
    }
  }
  return sum;
}

// Which channels still have a survivor in prior (all, without a prior).
inline std::vector<std::uint8_t> live_channels(const axis_split& s, const mask* prior) {
  std::vector<std::uint8_t> live(s.channels, prior == nullptr ? 1 : 0);
  if (prior == nullptr) return live;
  const std::uint8_t* m = prior->data();
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      const std::uint8_t* row = m + (o * s.channels + c) * s.inner;
      for (std::size_t i = 0; i < s.inner && live[c] == 0; ++i) live[c] = row[i] != 0 ? 1 : 0;
    }
  }
  return live;
}

// Selects channels by key (sentinel for dead ones) and expands them to an element mask.
inline mask channel_mask(const shape_t& shape, const axis_split& s, std::vector<std::uint64_t>& keys,
                         const std::vector<std::uint8_t>& live, amount a, const mask* prior,
                         const char* who) {
  std::size_t eligible = 0;
  for (std::size_t c = 0; c < s.channels; ++c) {
    if (live[c] == 0) keys[c] = kSentinel<std::uint64_t>;
    eligible += live[c];
  }
  const std::size_t k = a.resolve(eligible, who, "channels");
  std::vector<std::uint8_t> keep(s.channels);
  const array_source<std::uint64_t> src(keys.data(), keys.size());
  select_prune<std::uint64_t>(src, eligible, k, keep.data());
  mask out = mask_access::uninitialized(shape);
  std::uint8_t* o = out.data();
  const std::uint8_t* pm = prior != nullptr ? prior->data() : nullptr;
  for (std::size_t b = 0; b < s.outer; ++b) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      const std::size_t at = (b * s.channels + c) * s.inner;
      for (std::size_t i = 0; i < s.inner; ++i) {
        o[at + i] = static_cast<std::uint8_t>(keep[c] != 0 && (pm == nullptr || pm[at + i] != 0));
      }
    }
  }
  return out;
}

template <class T>
mask ln_mask(const tensor_ref<const T>& v, amount a, double p, int axis, const mask* prior) {
  const char* who = "lowprec::prune::ln_structured";
  require_norm_order(p, who);
  const std::size_t ax = normalize_axis(axis, v.rank(), who);
  if (v.rank() < 2) {
    throw std::invalid_argument(std::string(who) + ": a tensor of rank " + std::to_string(v.rank()) +
                                " has no channels (structured pruning needs rank >= 2)");
  }
  if (prior != nullptr) prior->require_shape(v.shape, who);
  const axis_split s = split_at(v.shape, ax);
  const std::vector<std::uint8_t> live = live_channels(s, prior);
  std::size_t eligible = 0;
  for (const auto l : live) eligible += l;
  a.resolve(eligible, who, "channels");  // validate before the norms are computed
  const std::vector<double> norms = norms_along(v, ax, p);
  std::vector<std::uint64_t> keys(s.channels);
  for (std::size_t c = 0; c < s.channels; ++c) keys[c] = native_key<double>::of(norms[c]);
  return channel_mask(v.shape, s, keys, live, a, prior, who);
}

inline mask random_channel_mask(const shape_t& shape, amount a, int axis, std::uint64_t seed,
                                const mask* prior) {
  const char* who = "lowprec::prune::random_structured";
  const std::size_t ax = normalize_axis(axis, shape.size(), who);
  if (shape.size() < 2) {
    throw std::invalid_argument(std::string(who) + ": a tensor of rank " +
                                std::to_string(shape.size()) +
                                " has no channels (structured pruning needs rank >= 2)");
  }
  if (prior != nullptr) prior->require_shape(shape, who);
  const axis_split s = split_at(shape, ax);
  const std::vector<std::uint8_t> live = live_channels(s, prior);
  std::vector<std::uint64_t> keys(s.channels);
  for (std::size_t c = 0; c < s.channels; ++c) keys[c] = random_key(seed, c);
  return channel_mask(shape, s, keys, live, a, prior, who);
}

}  // namespace detail

// The Ln norm of every channel along `axis` (negative counts from the end), in double.
template <class W>
std::vector<double> channel_norms(const W& w, double n, int axis) {
  detail::require_viewable<W>();
  const char* who = "lowprec::prune::channel_norms";
  detail::require_norm_order(n, who);
  const auto v = cview(w);
  return detail::norms_along(v, detail::normalize_axis(axis, v.rank(), who), n);
}

// Prunes round(amount * C) of the C channels along `axis` with the smallest Ln norms.
template <class W>
mask ln_structured(const W& w, amount a, double n, int axis) {
  detail::require_viewable<W>();
  return detail::ln_mask(cview(w), a, n, axis, nullptr);
}
template <class W>
mask ln_structured(const W& w, amount a, double n, int axis, const mask& prior) {
  detail::require_viewable<W>();
  return detail::ln_mask(cview(w), a, n, axis, &prior);
}
// Importance-score pruning (PyTorch's importance_scores=): channels ranked by the Ln norms
// of the scores, which must have w's shape (checked first; any scalar type or storage
// order); returns ln_structured(importance_scores, amount, n, axis[, prior]).
template <class W, class S, std::enable_if_t<is_viewable_v<const S>, int> = 0>
mask ln_structured(const W& w, amount a, double n, int axis, const S& importance_scores) {
  detail::require_viewable<W>();
  const auto s = cview(importance_scores);
  detail::require_scores_shape(cview(w).shape, s.shape, "lowprec::prune::ln_structured");
  return detail::ln_mask(s, a, n, axis, nullptr);
}
template <class W, class S, std::enable_if_t<is_viewable_v<const S>, int> = 0>
mask ln_structured(const W& w, amount a, double n, int axis, const S& importance_scores,
                   const mask& prior) {
  detail::require_viewable<W>();
  const auto s = cview(importance_scores);
  detail::require_scores_shape(cview(w).shape, s.shape, "lowprec::prune::ln_structured");
  return detail::ln_mask(s, a, n, axis, &prior);
}

// Prunes round(amount * C) channels along `axis`, chosen by a seeded random key per channel.
inline mask random_structured(const shape_t& shape, amount a, int axis, std::uint64_t seed) {
  return detail::random_channel_mask(shape, a, axis, seed, nullptr);
}
inline mask random_structured(const shape_t& shape, amount a, int axis, std::uint64_t seed,
                              const mask& prior) {
  return detail::random_channel_mask(shape, a, axis, seed, &prior);
}
template <class W, std::enable_if_t<is_viewable_v<const W>, int> = 0>
mask random_structured(const W& w, amount a, int axis, std::uint64_t seed) {
  return random_structured(cview(w).shape, a, axis, seed);
}
template <class W, std::enable_if_t<is_viewable_v<const W>, int> = 0>
mask random_structured(const W& w, amount a, int axis, std::uint64_t seed, const mask& prior) {
  return random_structured(cview(w).shape, a, axis, seed, prior);
}

}  // namespace lowprec::prune
