// Eigen objects as optimizer parameters and gradients: Matrix, Array, Map, Block and Ref
// (row- or column-major) and Tensor / TensorMap (either layout) of float, lowprec::bf16
// or lowprec::fp16, bound in place with basic_adam::add(param, grad). The only optim/
// header that needs Eigen.
//
// Adam is elementwise, so any storage order works, but a parameter and its gradient must
// share it (checked), and the storage must be contiguous: a Block that skips elements
// (a row of a column-major matrix) throws std::invalid_argument. A matrix has shape
// [rows, cols], a compile-time vector [size], a Tensor its dimensions. Expressions without
// storage (A * 2) are rejected at compile time.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>

#include "lowprec/optim/state.hpp"

namespace lowprec::optim {

namespace detail {

template <class W>
struct is_eigen_tensor : std::false_type {};
template <class S, int R, int O, class I>
struct is_eigen_tensor<Eigen::Tensor<S, R, O, I>> : std::true_type {};
template <class P, int O, template <class> class M>
struct is_eigen_tensor<Eigen::TensorMap<P, O, M>> : std::true_type {};

}  // namespace detail

// Matrix, Array, Map, Block, Ref.
template <class W>
struct view_traits<W, std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<W>, W>>> {
  static_assert((Eigen::internal::traits<W>::Flags & Eigen::DirectAccessBit) != 0,
                "lowprec::optim: this Eigen expression has no storage to update; evaluate it "
                "into a Matrix (or Array) first");
  template <class V>
  static tensor_ref get(V& w) {
    const auto inner = static_cast<long long>(w.innerStride());
    const auto outer = static_cast<long long>(w.outerStride());
    const bool dense =
        w.size() == 0 ||
        (inner == 1 && (w.outerSize() <= 1 || outer == static_cast<long long>(w.innerSize())));
    if (!dense) {
      throw std::invalid_argument(
          "lowprec::optim: an Eigen object of " + std::to_string(w.rows()) + "x" +
          std::to_string(w.cols()) + " is not contiguous (inner stride " + std::to_string(inner) +
          ", outer stride " + std::to_string(outer) + "); bind a contiguous matrix");
    }
    shape_t shape;
    if constexpr (W::IsVectorAtCompileTime) {
      shape = {static_cast<std::size_t>(w.size())};
    } else {
      shape = {static_cast<std::size_t>(w.rows()), static_cast<std::size_t>(w.cols())};
    }
    return view(w.data(), shape, W::IsRowMajor ? layout::row_major : layout::col_major);
  }
};

// Tensor and TensorMap.
template <class W>
struct view_traits<W, std::enable_if_t<detail::is_eigen_tensor<W>::value>> {
  template <class V>
  static tensor_ref get(V& t) {
    using Traits = Eigen::internal::traits<W>;
    constexpr auto rank = static_cast<std::size_t>(Traits::NumDimensions);
    shape_t shape(rank);
    const auto& dims = t.dimensions();
    for (std::size_t k = 0; k < rank; ++k) shape[k] = static_cast<std::size_t>(dims[k]);
    const layout order =
        static_cast<int>(Traits::Layout) == Eigen::RowMajor ? layout::row_major : layout::col_major;
    return view(t.data(), shape, order);
  }
};

}  // namespace lowprec::optim
