// Unstructured pruning: single weights, by magnitude, at random, or globally.
//
//   function              PyTorch (torch.nn.utils.prune)       ranks
//   l1_unstructured       l1_unstructured / L1Unstructured     |w|, or |score| given
//                                                              importance_scores of w's shape
//   random_unstructured   random_unstructured                  a seeded random key per index
//   global_unstructured   global_unstructured(L1Unstructured)  |w| (or |score|) across all
//                                                              tensors at once
//
// Each returns a new mask and modifies nothing; mask::apply zeroes the weights. The count
// pruned follows amount.hpp (round(f * n), ties to even, or an exact count). With a prior
// mask, only its survivors are candidates: n is prior.kept(), and the result keeps nothing
// the prior pruned (PyTorch's PruningContainer). Ties, NaN and the O(n) selection: select.hpp
// (among equal magnitudes the lower logical index is pruned first; NaN is pruned last).
//
// Random pruning keys each logical index with a counter-based hash of (seed, index)
// (detail/random.hpp): exactly the requested count is removed, the same mask comes back
// for the same seed on any machine and storage order, and it is not PyTorch's RNG stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/prune/amount.hpp"
#include "lowprec/prune/mask.hpp"
#include "lowprec/prune/select.hpp"
#include "lowprec/prune/view.hpp"

namespace lowprec::prune {

namespace detail {

template <class W>
constexpr void require_viewable() {
  static_assert(is_viewable_v<W>,
                "lowprec::prune: the weights must be a tensor_ref, a std::vector of float, "
                "double, fp16 or bf16, or (with lowprec/prune/eigen.hpp) an Eigen Matrix, "
                "Array, Map, Block, Tensor or TensorMap");
}

// Importance scores rank in place of the weights (PyTorch's importance_scores=): the
// mask is computed from them and applies to the weights, so the shapes must be equal.
// Checked before anything else.
inline void require_scores_shape(const shape_t& weights, const shape_t& scores, const char* who,
                                 const std::string& which = "") {
  if (scores != weights) {
    throw std::invalid_argument(std::string(who) + ": importance_scores" + which + " shape " +
                                shape_string(scores) + " does not match weights shape " +
                                shape_string(weights));
  }
}

template <class T>
mask l1_mask(const tensor_ref<const T>& v, amount a, const mask* prior, const char* who) {
  if (prior != nullptr) prior->require_shape(v.shape, who);
  const std::size_t eligible = prior != nullptr ? prior->kept() : v.size();
  const std::size_t k = a.resolve(eligible, who);
  using K = typename native_key<T>::type;
  mask out = mask_access::uninitialized(v.shape);
  const std::size_t n = v.size();
  if (prior == nullptr && n > kSmallSelection && n <= 0xFFFFFFFFu && v.is_contiguous()) {
    const T* w = v.data;
    select_prune_indexed<K>(n, k, [w](std::size_t i) { return native_key<T>::of(w[i]); }, out.data());
  } else {
    const magnitude_source<K, T> src(v, prior != nullptr ? prior->data() : nullptr);
    select_prune<K>(src, eligible, k, out.data());
  }
  return out;
}

inline mask random_mask(const shape_t& shape, amount a, std::uint64_t seed, const mask* prior,
                        const char* who) {
  if (prior != nullptr) prior->require_shape(shape, who);
  const std::size_t n = element_count(shape);
  const std::size_t eligible = prior != nullptr ? prior->kept() : n;
  const std::size_t k = a.resolve(eligible, who);
  mask out = mask_access::uninitialized(shape);
  if (prior == nullptr && n > kSmallSelection && n <= 0xFFFFFFFFu) {
    select_prune_indexed<std::uint32_t>(n, k, random_keys_low(seed), out.data());
  } else {
    const random_source src(n, seed, prior != nullptr ? prior->data() : nullptr);
    select_prune<std::uint32_t>(src, eligible, k, out.data());
  }
  return out;
}

}  // namespace detail

// ---- Magnitude (L1) ----------------------------------------------------------------------

// Prunes round(amount * n) (or `amount` when it is an integer) weights of smallest |w|.
template <class W>
mask l1_unstructured(const W& w, amount a) {
  detail::require_viewable<W>();
  return detail::l1_mask(cview(w), a, nullptr, "lowprec::prune::l1_unstructured");
}
// The same among the survivors of `prior` (n = prior.kept()); the result is within prior.
template <class W>
mask l1_unstructured(const W& w, amount a, const mask& prior) {
  detail::require_viewable<W>();
  return detail::l1_mask(cview(w), a, &prior, "lowprec::prune::l1_unstructured");
}
// Importance-score pruning (PyTorch's importance_scores=): prunes the weights whose scores
// have the smallest |score|, i.e. returns l1_unstructured(importance_scores, amount[, prior]);
// the scores may be of another scalar type or storage order than w but must have its shape
// (std::invalid_argument naming both shapes otherwise, before anything is computed).
template <class W, class S, std::enable_if_t<is_viewable_v<const S>, int> = 0>
mask l1_unstructured(const W& w, amount a, const S& importance_scores) {
  detail::require_viewable<W>();
  const char* who = "lowprec::prune::l1_unstructured";
  const auto s = cview(importance_scores);
  detail::require_scores_shape(cview(w).shape, s.shape, who);
  return detail::l1_mask(s, a, nullptr, who);
}
template <class W, class S, std::enable_if_t<is_viewable_v<const S>, int> = 0>
mask l1_unstructured(const W& w, amount a, const S& importance_scores, const mask& prior) {
  detail::require_viewable<W>();
  const char* who = "lowprec::prune::l1_unstructured";
  const auto s = cview(importance_scores);
  detail::require_scores_shape(cview(w).shape, s.shape, who);
  return detail::l1_mask(s, a, &prior, who);
}

// ---- Random ------------------------------------------------------------------------------

inline mask random_unstructured(const shape_t& shape, amount a, std::uint64_t seed) {
  return detail::random_mask(shape, a, seed, nullptr, "lowprec::prune::random_unstructured");
}
inline mask random_unstructured(const shape_t& shape, amount a, std::uint64_t seed,
                                const mask& prior) {
  return detail::random_mask(shape, a, seed, &prior, "lowprec::prune::random_unstructured");
}
// Only w's shape is read.
template <class W, std::enable_if_t<is_viewable_v<const W>, int> = 0>
mask random_unstructured(const W& w, amount a, std::uint64_t seed) {
  return random_unstructured(cview(w).shape, a, seed);
}
template <class W, std::enable_if_t<is_viewable_v<const W>, int> = 0>
mask random_unstructured(const W& w, amount a, std::uint64_t seed, const mask& prior) {
  return random_unstructured(cview(w).shape, a, seed, prior);
}

// ---- Global magnitude --------------------------------------------------------------------

// A read-only, type-erased tensor for global pruning: anything viewable, any scalar.
class weights_ref {
 public:
  template <class W, std::enable_if_t<is_viewable_v<const W> &&
                                          !std::is_same_v<std::remove_cv_t<W>, weights_ref>,
                                      int> = 0>
  weights_ref(const W& w) : impl_(make(cview(w))) {}  // NOLINT: implicit on purpose

  const shape_t& shape() const noexcept { return impl_->shape(); }
  std::size_t size() const noexcept { return element_count(shape()); }
  bool is_double() const noexcept { return impl_->is_double(); }

  // Key sources over this tensor (detail).
  std::unique_ptr<detail::key_source<std::uint32_t>> keys32(const std::uint8_t* prior) const {
    return impl_->keys32(prior);
  }
  std::unique_ptr<detail::key_source<std::uint64_t>> keys64(const std::uint8_t* prior) const {
    return impl_->keys64(prior);
  }

 private:
  struct base {
    virtual ~base() = default;
    virtual const shape_t& shape() const noexcept = 0;
    virtual bool is_double() const noexcept = 0;
    virtual std::unique_ptr<detail::key_source<std::uint32_t>> keys32(const std::uint8_t*) const = 0;
    virtual std::unique_ptr<detail::key_source<std::uint64_t>> keys64(const std::uint8_t*) const = 0;
  };
  template <class T>
  struct impl final : base {
    explicit impl(tensor_ref<const T> r) : v(std::move(r)) {}
    const shape_t& shape() const noexcept override { return v.shape; }
    bool is_double() const noexcept override { return std::is_same_v<T, double>; }
    std::unique_ptr<detail::key_source<std::uint32_t>> keys32(const std::uint8_t* prior) const override {
      if constexpr (std::is_same_v<T, double>) {
        return nullptr;  // never asked: a double tensor makes the keys 64-bit
      } else {
        return std::make_unique<detail::magnitude_source<std::uint32_t, T>>(v, prior);
      }
    }
    std::unique_ptr<detail::key_source<std::uint64_t>> keys64(const std::uint8_t* prior) const override {
      return std::make_unique<detail::magnitude_source<std::uint64_t, T>>(v, prior);
    }
    tensor_ref<const T> v;
  };
  template <class T>
  static std::shared_ptr<const base> make(tensor_ref<const T> r) {
    return std::make_shared<impl<T>>(std::move(r));
  }

  std::shared_ptr<const base> impl_;
};

namespace detail {

template <class K>
void global_select(const std::vector<weights_ref>& ts, const std::vector<const std::uint8_t*>& priors,
                   std::size_t eligible, std::size_t k, std::uint8_t* out) {
  std::vector<std::unique_ptr<key_source<K>>> owned;
  std::vector<const key_source<K>*> parts;
  for (std::size_t t = 0; t < ts.size(); ++t) {
    if constexpr (std::is_same_v<K, std::uint32_t>) {
      owned.push_back(ts[t].keys32(priors[t]));
    } else {
      owned.push_back(ts[t].keys64(priors[t]));
    }
    parts.push_back(owned.back().get());
  }
  const concat_source<K> all(std::move(parts));
  select_prune<K>(all, eligible, k, out);
}

inline std::vector<mask> global_masks(const std::vector<weights_ref>& ts, amount a,
                                      const std::vector<mask>* priors) {
  const char* who = "lowprec::prune::global_unstructured";
  if (priors != nullptr && priors->size() != ts.size()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(priors->size()) +
                                " prior masks for " + std::to_string(ts.size()) + " tensors");
  }
  std::size_t n = 0;
  std::size_t eligible = 0;
  bool wide = false;
  std::vector<const std::uint8_t*> prior_data(ts.size(), nullptr);
  for (std::size_t t = 0; t < ts.size(); ++t) {
    if (priors != nullptr) {
      const mask& p = (*priors)[t];
      p.require_shape(ts[t].shape(), (std::string(who) + " (tensor " + std::to_string(t) + ")").c_str());
      prior_data[t] = p.data();
      eligible += p.kept();
    } else {
      eligible += ts[t].size();
    }
    n += ts[t].size();
    wide = wide || ts[t].is_double();
  }
  const std::size_t k = a.resolve(eligible, who);
  buffer<std::uint8_t> flat(n);
  if (wide) {
    global_select<std::uint64_t>(ts, prior_data, eligible, k, flat.data());
  } else {
    global_select<std::uint32_t>(ts, prior_data, eligible, k, flat.data());
  }
  std::vector<mask> out;
  out.reserve(ts.size());
  std::size_t offset = 0;
  for (const weights_ref& t : ts) {
    out.push_back(mask_access::uninitialized(t.shape()));
    if (t.size() != 0) std::memcpy(out.back().data(), flat.data() + offset, t.size());
    offset += t.size();
  }
  return out;
}

}  // namespace detail

// Prunes the round(amount * N) smallest |w| over all tensors together (N = total size):
// one threshold, so layers of small weights lose more. Returns one mask per tensor, in
// order. Tensors may mix scalar types (compared after exact widening).
inline std::vector<mask> global_unstructured(const std::vector<weights_ref>& tensors, amount a) {
  return detail::global_masks(tensors, a, nullptr);
}
// The same among the survivors of one prior mask per tensor (N = total survivors).
inline std::vector<mask> global_unstructured(const std::vector<weights_ref>& tensors, amount a,
                                             const std::vector<mask>& priors) {
  return detail::global_masks(tensors, a, &priors);
}

namespace detail {
inline void require_scores_shapes(const std::vector<weights_ref>& tensors,
                                  const std::vector<weights_ref>& scores, const char* who) {
  if (scores.size() != tensors.size()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(scores.size()) +
                                " importance_scores for " + std::to_string(tensors.size()) + " tensors");
  }
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    require_scores_shape(tensors[t].shape(), scores[t].shape(), who, " (tensor " + std::to_string(t) + ")");
  }
}
}  // namespace detail

// Importance-score pruning across tensors: one score tensor per weight tensor, of its
// shape (any scalar type); ranks |score| with one threshold, i.e. returns
// global_unstructured(importance_scores, amount[, priors]).
inline std::vector<mask> global_unstructured(const std::vector<weights_ref>& tensors, amount a,
                                             const std::vector<weights_ref>& importance_scores) {
  detail::require_scores_shapes(tensors, importance_scores, "lowprec::prune::global_unstructured");
  return detail::global_masks(importance_scores, a, nullptr);
}
inline std::vector<mask> global_unstructured(const std::vector<weights_ref>& tensors, amount a,
                                             const std::vector<weights_ref>& importance_scores,
                                             const std::vector<mask>& priors) {
  detail::require_scores_shapes(tensors, importance_scores, "lowprec::prune::global_unstructured");
  return detail::global_masks(importance_scores, a, &priors);
}

}  // namespace lowprec::prune
