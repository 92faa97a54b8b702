// What pruning reads and writes: tensor_ref, a strided N-d view of weights, and how any
// supported container becomes one (view_traits). Standard library only; prune/eigen.hpp
// adds Eigen matrices, maps, blocks, Tensors and TensorMaps.
//
//   element (i0, ..., i(r-1))   data[i0 * strides[0] + ... + i(r-1) * strides[r-1]]
//   logical index               i0 * (d1 * ... * d(r-1)) + ... + i(r-1): row-major, the last
//                               axis fastest, whatever the storage order
//   axis                        0 .. r-1, or negative counting from the end (-1 = last)
//   scalars                     float, double, fp16, bf16 (any lowprec small_float)
//
// Everything pruning produces -- masks, tie-breaks, random keys -- is indexed by the
// logical index, so a row-major and a column-major copy of one matrix get the same mask,
// and a mask matches PyTorch's (contiguous, row-major) mask element for element.
// An Eigen matrix is [rows, cols] (axis 0 = rows); a compile-time vector is [size].
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/small_float.hpp"

#if defined(__linux__)
#include <sys/mman.h>  // madvise (huge pages for large buffers)
#endif

namespace lowprec::prune {

using shape_t = std::vector<std::size_t>;

namespace detail {

template <class T>
struct is_small_float : std::false_type {};
template <class F>
struct is_small_float<small_float<F>> : std::true_type {};

}  // namespace detail

// The weight scalars pruning accepts.
template <class T>
inline constexpr bool is_prunable_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || detail::is_small_float<T>::value;

inline std::size_t element_count(const shape_t& shape) noexcept {
  std::size_t n = 1;
  for (const std::size_t d : shape) n *= d;
  return n;
}

inline std::string shape_string(const shape_t& shape) {
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k != 0) s += ", ";
    s += std::to_string(shape[k]);
  }
  return s + "]";
}

// Row-major strides of a shape (the last axis contiguous).
inline std::vector<std::ptrdiff_t> row_major_strides(const shape_t& shape) {
  std::vector<std::ptrdiff_t> s(shape.size());
  std::ptrdiff_t step = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    s[d] = step;
    step *= static_cast<std::ptrdiff_t>(shape[d]);
  }
  return s;
}

// A strided view of an N-d array of T (T may be const). Copying it copies the view.
template <class T>
struct tensor_ref {
  static_assert(is_prunable_v<std::remove_const_t<T>>,
                "lowprec::prune works on float, double, fp16 and bf16 weights");
  using value_type = std::remove_const_t<T>;

  T* data = nullptr;
  shape_t shape;
  std::vector<std::ptrdiff_t> strides;  // in elements, one per axis

  tensor_ref() = default;
  // A row-major contiguous buffer.
  tensor_ref(T* d, shape_t s) : data(d), shape(std::move(s)), strides(row_major_strides(shape)) {}
  tensor_ref(T* d, shape_t s, std::vector<std::ptrdiff_t> st)
      : data(d), shape(std::move(s)), strides(std::move(st)) {
    if (strides.size() != shape.size()) {
      throw std::invalid_argument("lowprec::prune::tensor_ref: " + std::to_string(strides.size()) +
                                  " strides for a shape of rank " + std::to_string(shape.size()));
    }
  }
  // A view of U is also a view of const U.
  template <class U, std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>, int> = 0>
  tensor_ref(const tensor_ref<U>& o) : data(o.data), shape(o.shape), strides(o.strides) {}

  std::size_t rank() const noexcept { return shape.size(); }
  std::size_t size() const noexcept { return element_count(shape); }
  bool is_contiguous() const { return strides == row_major_strides(shape); }
};

// Makes a view of a raw row-major buffer: prune::view(ptr, {rows, cols}).
template <class T>
tensor_ref<T> view(T* data, shape_t shape) {
  return tensor_ref<T>(data, std::move(shape));
}

// ---- How a container becomes a tensor_ref ------------------------------------------------
// view_traits<W>::get(w) returns a tensor_ref of w (const if w is const). Specialised here
// for tensor_ref and std::vector (1-D), and in prune/eigen.hpp for Eigen types. Every
// pruning function takes anything with a view_traits specialisation.
template <class W, class = void>
struct view_traits {};

template <class T>
struct view_traits<tensor_ref<T>> {
  static tensor_ref<T> get(const tensor_ref<T>& r) { return r; }
};

template <class T, class A>
struct view_traits<std::vector<T, A>, std::enable_if_t<is_prunable_v<T>>> {
  template <class V>
  static auto get(V& v) {
    using E = std::conditional_t<std::is_const_v<V>, const T, T>;
    return tensor_ref<E>(v.data(), shape_t{v.size()});
  }
};

template <class W, class = void>
struct is_viewable : std::false_type {};
template <class W>
struct is_viewable<W, std::void_t<decltype(view_traits<std::remove_cv_t<W>>::get(
                          std::declval<W&>()))>> : std::true_type {};
template <class W>
inline constexpr bool is_viewable_v = is_viewable<std::remove_reference_t<W>>::value;

// The tensor_ref of any viewable object: const objects give views of const elements.
template <class W, std::enable_if_t<is_viewable_v<W>, int> = 0>
auto view(W& w) {
  return view_traits<std::remove_cv_t<W>>::get(w);
}
// A read-only view, whatever the constness of w.
template <class W, std::enable_if_t<is_viewable_v<W>, int> = 0>
auto cview(const W& w) {
  using R = decltype(view(w));
  return tensor_ref<const typename R::value_type>(view(w));
}

namespace detail {

template <class W>
using scalar_of = typename decltype(view(std::declval<W&>()))::value_type;

// Normalises an axis in [-rank, rank) to [0, rank); throws otherwise.
inline std::size_t normalize_axis(int axis, std::size_t rank, const char* who) {
  const auto r = static_cast<long long>(rank);
  const long long a = axis < 0 ? axis + r : axis;
  if (rank == 0 || a < 0 || a >= r) {
    throw std::invalid_argument(std::string(who) + ": axis " + std::to_string(axis) +
                                " is out of range for a tensor of rank " + std::to_string(rank) +
                                (rank == 0 ? std::string(" (it has no axes)")
                                           : " (valid: " + std::to_string(-r) + ".." +
                                                 std::to_string(r - 1) + ")"));
  }
  return static_cast<std::size_t>(a);
}

// Calls fn(p, stride, len, pos, index) for each run of the view along its last axis, in
// logical order: p points at the run's first element, elements are stride apart, pos is
// the logical index of p, and index[0 .. rank-2] holds the run's indices on the other axes.
// Nothing is called for an empty view; a rank-0 view is one run of one element.
template <class T, class Fn>
void for_each_indexed_run(const tensor_ref<T>& v, Fn&& fn) {
  const std::size_t r = v.rank();
  const std::size_t n = v.size();
  if (n == 0) return;
  std::vector<std::size_t> index(r == 0 ? 1 : r, 0);
  if (r == 0) {
    fn(v.data, std::ptrdiff_t{1}, std::size_t{1}, std::size_t{0}, index.data());
    return;
  }
  const std::size_t len = v.shape[r - 1];
  const std::ptrdiff_t stride = v.strides[r - 1];
  T* p = v.data;
  for (std::size_t pos = 0; pos < n; pos += len) {
    fn(p, stride, len, pos, index.data());
    for (std::size_t d = r - 1; d-- > 0;) {  // odometer over axes r-2 .. 0
      p += v.strides[d];
      if (++index[d] < v.shape[d]) break;
      p -= v.strides[d] * static_cast<std::ptrdiff_t>(v.shape[d]);
      index[d] = 0;
    }
  }
}

// As above without the index, and a row-major contiguous view as a single run:
// fn(p, stride, len, pos).
template <class T, class Fn>
void for_each_run(const tensor_ref<T>& v, Fn&& fn) {
  if (v.rank() >= 2 && v.is_contiguous()) {
    if (v.size() != 0) fn(v.data, std::ptrdiff_t{1}, v.size(), std::size_t{0});
    return;
  }
  for_each_indexed_run(v, [&](T* p, std::ptrdiff_t stride, std::size_t len, std::size_t pos,
                              const std::size_t*) { fn(p, stride, len, pos); });
}

// Shape split around an axis: outer (axes before), channels, inner (axes after).
struct axis_split {
  std::size_t outer = 1, channels = 1, inner = 1;
};
inline axis_split split_at(const shape_t& shape, std::size_t axis) {
  axis_split s;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < axis) s.outer *= shape[d];
    if (d == axis) s.channels = shape[d];
    if (d > axis) s.inner *= shape[d];
  }
  return s;
}

// Raw storage for buffer. Blocks of at least 32 MiB are 2 MiB-aligned and, on Linux, advised
// as transparent huge pages (MADV_HUGEPAGE: in the common "madvise" THP mode only advised
// memory gets them). glibc's malloc serves such blocks with a fresh mmap every time, so
// every allocation is first touched page by page: 2:4-compressing 16 Mi floats into new
// storage (32 MiB of values) took 8,192 page faults, 120-135 ms on this VM, for 11 ms of
// work; with huge pages it takes 16 faults and 11 ms. Smaller blocks are left alone: glibc recycles
// them without faults (a fresh huge page would cost a 2 MiB clear each time: +1 ms per
// 16 MiB mask, measured). The advice may be refused (THP off, another OS): the memory is
// then ordinary pages, nothing else changes.
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
inline constexpr std::size_t kHugeBufferBytes = std::size_t{32} << 20;

inline void* allocate_bytes(std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= kHugeBufferBytes) {
    void* p = ::operator new(bytes, std::align_val_t{kHugePageBytes});
    (void)::madvise(p, bytes, MADV_HUGEPAGE);  // advice only; failure leaves 4 KiB pages
    return p;
  }
#endif
  return ::operator new(bytes);
}

// Frees what allocate_bytes(bytes) returned (the size selects the matching delete).
inline void release_bytes(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= kHugeBufferBytes) {
    ::operator delete(p, std::align_val_t{kHugePageBytes});
    return;
  }
#endif
  static_cast<void>(bytes);
  ::operator delete(p);
}

// An owned array of trivially copyable T that is not zero-filled on allocation (a mask or
// a compressed tensor is written in full right after; zero-filling 16 Mi bytes first would
// cost a pass). Large arrays get huge pages where available (allocate_bytes). Copyable;
// moved-from buffers are empty.
template <class T>
class buffer {
  static_assert(std::is_trivially_copyable_v<T>, "buffer holds trivially copyable values");

 public:
  buffer() = default;
  explicit buffer(std::size_t n) : size_(n), data_(n == 0 ? nullptr : allocate(n)) {}
  buffer(const buffer& o) : buffer(o.size_) {
    if (size_ != 0) std::memcpy(data_, o.data_, size_ * sizeof(T));
  }
  buffer(buffer&& o) noexcept : size_(std::exchange(o.size_, 0)), data_(std::exchange(o.data_, nullptr)) {}
  buffer& operator=(const buffer& o) {
    if (this != &o) *this = buffer(o);
    return *this;
  }
  buffer& operator=(buffer&& o) noexcept {
    if (this != &o) {
      release();
      size_ = std::exchange(o.size_, 0);
      data_ = std::exchange(o.data_, nullptr);
    }
    return *this;
  }
  ~buffer() { release(); }

  std::size_t size() const noexcept { return size_; }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  static T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    T* p = static_cast<T*>(allocate_bytes(n * sizeof(T)));
    std::uninitialized_default_construct_n(p, n);  // starts the lifetimes; no code for T
    return p;
  }
  void release() noexcept {
    if (data_ != nullptr) release_bytes(data_, size_ * sizeof(T));  // T is trivially destructible
    data_ = nullptr;
    size_ = 0;
  }

  std::size_t size_ = 0;
  T* data_ = nullptr;
};

}  // namespace detail
}  // namespace lowprec::prune
