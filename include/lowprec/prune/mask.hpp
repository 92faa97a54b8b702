// prune::mask: which weights of a tensor survive pruning, as a first-class value.
//
//   storage   one byte per element in logical (row-major) order: 1 = kept, 0 = pruned;
//             any non-zero byte written through data() counts as kept
//   shape     the shape of the tensor it was computed for; every use checks it
//   compose   a & b keeps what both keep. The pruning functions take a prior mask and
//             rank only its survivors, as PyTorch's PruningContainer does
//   apply     sets pruned weights to +0 in place (a select, not PyTorch's orig * mask,
//             so a pruned NaN or inf becomes 0 too). Call it again after every optimizer
//             step (or on the gradients before it) to keep pruned weights at zero
//   permanent make_permanent(w, std::move(m)) applies m one last time and consumes it,
//             like torch.nn.utils.prune.remove: the zeros become ordinary weights
//   report    kept(), pruned(), sparsity(); sparsity_report sums named tensors
//
// Masks never depend on how the weights are stored: a row-major and a column-major
// matrix with the same values get equal masks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/prune/view.hpp"

namespace lowprec::prune {

namespace detail {
struct mask_access;
}  // namespace detail

class mask {
 public:
  // An empty mask (shape [0]).
  mask() : shape_{0} {}
  // A mask of the given shape that keeps everything (or nothing).
  explicit mask(shape_t shape, bool keep = true) : shape_(std::move(shape)), keep_(element_count(shape_)) {
    if (keep_.size() != 0) std::memset(keep_.data(), keep ? 1 : 0, keep_.size());
  }
  // A mask from a row-major array of flags (non-zero = kept); flags.size() must match.
  mask(shape_t shape, const std::vector<std::uint8_t>& flags) : mask(std::move(shape), false) {
    if (flags.size() != size()) {
      throw std::invalid_argument("lowprec::prune::mask: " + std::to_string(flags.size()) +
                                  " flags for shape " + shape_string(shape_) + " (" +
                                  std::to_string(size()) + " elements)");
    }
    for (std::size_t i = 0; i < size(); ++i) keep_[i] = flags[i] != 0 ? 1 : 0;
  }

  const shape_t& shape() const noexcept { return shape_; }
  std::size_t size() const noexcept { return keep_.size(); }
  bool keeps(std::size_t i) const noexcept { return keep_[i] != 0; }
  std::uint8_t* data() noexcept { return keep_.data(); }
  const std::uint8_t* data() const noexcept { return keep_.data(); }

  // Counts (O(n)) and the pruned fraction (0 for an empty mask).
  std::size_t kept() const noexcept {
    std::size_t k = 0;
    const std::uint8_t* p = keep_.data();
    for (std::size_t i = 0; i < size(); ++i) k += p[i] != 0 ? 1u : 0u;
    return k;
  }
  std::size_t pruned() const noexcept { return size() - kept(); }
  double sparsity() const noexcept {
    return size() == 0 ? 0.0 : static_cast<double>(pruned()) / static_cast<double>(size());
  }

  // Composition: keeps what both keep. Throws if the shapes differ (this unchanged).
  mask& operator&=(const mask& o) {
    require_shape(o.shape_, "lowprec::prune::mask::operator&=", "other mask");
    std::uint8_t* p = keep_.data();
    const std::uint8_t* q = o.keep_.data();
    for (std::size_t i = 0; i < size(); ++i) p[i] = static_cast<std::uint8_t>((p[i] != 0) & (q[i] != 0));
    return *this;
  }
  friend mask operator&(mask a, const mask& b) { return a &= b; }

  friend bool operator==(const mask& a, const mask& b) noexcept {
    if (a.shape_ != b.shape_) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if ((a.keep_[i] != 0) != (b.keep_[i] != 0)) return false;
    }
    return true;
  }
  friend bool operator!=(const mask& a, const mask& b) noexcept { return !(a == b); }

  // Sets the pruned elements of w to +0 in place. w: anything viewable (tensor_ref,
  // std::vector, Eigen objects with prune/eigen.hpp) of this mask's shape; nothing is
  // written if the shape differs.
  template <class W>
  void apply(W&& w) const {
    static_assert(is_viewable_v<W>,
                  "lowprec::prune::mask::apply: the weights must be a tensor_ref, a std::vector "
                  "or (with lowprec/prune/eigen.hpp) an Eigen matrix, map, block, Tensor or "
                  "TensorMap");
    const auto v = view(w);
    using T = typename decltype(v)::value_type;
    static_assert(!std::is_const_v<std::remove_pointer_t<decltype(v.data)>>,
                  "lowprec::prune::mask::apply needs writable weights");
    require_shape(v.shape, "lowprec::prune::mask::apply");
    const T zero = T(0.0f);
    const std::uint8_t* keep = keep_.data();
    detail::for_each_run(v, [&](T* p, std::ptrdiff_t stride, std::size_t len, std::size_t pos) {
      const std::uint8_t* k = keep + pos;
      if (stride == 1) {
        zero_pruned(p, k, len);
      } else {
        for (std::size_t i = 0; i < len; ++i) {
          if (k[i] == 0) p[static_cast<std::ptrdiff_t>(i) * stride] = zero;
        }
      }
    });
  }

  // Throws std::invalid_argument naming `who` unless `shape` is this mask's shape; `what`
  // names the owner of `shape` in the message ("tensor", or "other mask" for operator&=).
  void require_shape(const shape_t& shape, const char* who, const char* what = "tensor") const {
    if (shape != shape_) {
      throw std::invalid_argument(std::string(who) + ": mask shape " + shape_string(shape_) +
                                  " does not match " + what + " shape " + shape_string(shape));
    }
  }

 private:
  friend struct detail::mask_access;

  // p[i] = keep[i] ? p[i] : +0 on the bits, branch-free (the compiler vectorises it; a
  // branch on a 50% random mask would mispredict every other element).
  template <class T>
  static void zero_pruned(T* p, const std::uint8_t* keep, std::size_t len) noexcept {
    using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>;
    static_assert(sizeof(U) == sizeof(T), "weights are 2, 4 or 8 bytes");
    for (std::size_t i = 0; i < len; ++i) {
      U bits;
      std::memcpy(&bits, p + i, sizeof(T));
      bits = static_cast<U>(bits & static_cast<U>(U{0} - static_cast<U>(keep[i] != 0)));
      std::memcpy(static_cast<void*>(p + i), &bits, sizeof(T));  // T is trivially copyable
    }
  }

  struct no_init {};
  mask(shape_t shape, no_init) : shape_(std::move(shape)), keep_(element_count(shape_)) {}

  shape_t shape_;
  detail::buffer<std::uint8_t> keep_;
};

namespace detail {
// For the pruning functions, which write every byte: a mask without the zero-fill pass.
struct mask_access {
  static mask uninitialized(shape_t shape) { return mask(std::move(shape), mask::no_init{}); }
};
}  // namespace detail

// Applies m to w a last time and consumes m (PyTorch's prune.remove): afterwards the
// zeros are plain weights and a new pruning starts from a fresh mask. Returns the
// number of pruned weights. Throws (w unchanged, m kept) if the shapes differ.
template <class W>
std::size_t make_permanent(W&& w, mask&& m) {
  m.apply(std::forward<W>(w));
  const std::size_t pruned = m.pruned();
  m = mask();
  return pruned;
}

// Zero weights in w (what a pruned, applied tensor reports; NaN is not zero).
template <class W>
std::size_t count_zeros(const W& w) {
  const auto v = cview(w);
  using T = typename decltype(v)::value_type;
  std::size_t zeros = 0;
  detail::for_each_run(v, [&](const T* p, std::ptrdiff_t stride, std::size_t len, std::size_t) {
    for (std::size_t i = 0; i < len; ++i) {
      zeros += static_cast<float>(p[static_cast<std::ptrdiff_t>(i) * stride]) == 0.0f ? 1u : 0u;
    }
  });
  return zeros;
}

// Sparsity per named tensor and overall (pruned elements over all elements).
class sparsity_report {
 public:
  struct entry {
    std::string name;
    std::size_t size;
    std::size_t pruned;
    double sparsity() const noexcept {
      return size == 0 ? 0.0 : static_cast<double>(pruned) / static_cast<double>(size);
    }
  };

  sparsity_report& add(std::string name, const mask& m) {
    entries_.push_back({std::move(name), m.size(), m.pruned()});
    return *this;
  }
  // The zeros actually present in a weight tensor (after apply), for tensors whose masks
  // are gone (make_permanent) or were never kept.
  template <class W>
  sparsity_report& add_weights(std::string name, const W& w) {
    const std::size_t n = cview(w).size();
    entries_.push_back({std::move(name), n, count_zeros(w)});
    return *this;
  }

  const std::vector<entry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const entry& e : entries_) n += e.size;
    return n;
  }
  std::size_t pruned() const noexcept {
    std::size_t n = 0;
    for (const entry& e : entries_) n += e.pruned;
    return n;
  }
  double sparsity() const noexcept {
    return size() == 0 ? 0.0 : static_cast<double>(pruned()) / static_cast<double>(size());
  }

  // One line per tensor and a total line: name, pruned / size, percent.
  friend std::ostream& operator<<(std::ostream& os, const sparsity_report& r) {
    std::size_t width = 5;  // "total"
    for (const entry& e : r.entries_) width = std::max(width, e.name.size());
    const auto line = [&](const std::string& name, std::size_t pruned, std::size_t size,
                          double s) {
      std::ostringstream o;
      o << std::left << std::setw(static_cast<int>(width)) << name << "  " << std::right
        << std::setw(12) << pruned << " / " << std::setw(12) << size << "  " << std::fixed
        << std::setprecision(2) << std::setw(6) << 100.0 * s << "%\n";
      os << o.str();
    };
    for (const entry& e : r.entries_) line(e.name, e.pruned, e.size, e.sparsity());
    line("total", r.pruned(), r.size(), r.sparsity());
    return os;
  }

 private:
  std::vector<entry> entries_;
};

}  // namespace lowprec::prune
