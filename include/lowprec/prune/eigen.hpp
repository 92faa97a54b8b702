// Eigen objects in lowprec::prune: every pruning function, mask::apply, decompress and
// count_zeros take Eigen Matrix / Array / Map / Block / Ref (row- or column-major, any
// strides) and Tensor / TensorMap (either layout) of float, double, fp16 or bf16 in place,
// through view_traits (prune/view.hpp). The only prune/ header that needs Eigen.
//
// Shapes: a matrix is [rows, cols] (axis 0 = rows), a compile-time vector is [size], a
// Tensor is its dimensions. The mask of a column-major matrix is the mask of the same
// matrix stored row-major: masks follow logical (row-major) order, not storage.
// Expressions without storage (A * 2, A.transpose() of a temporary, ...) are not views:
// evaluate them into a Matrix or Tensor first.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>

#include "lowprec/eigen.hpp"
#include "lowprec/prune/view.hpp"

namespace lowprec::prune {

namespace detail {

template <class Derived>
constexpr bool eigen_direct_access =
    (Eigen::internal::traits<Derived>::Flags & Eigen::DirectAccessBit) != 0;

template <class Derived>
constexpr bool eigen_writable = (Eigen::internal::traits<Derived>::Flags & Eigen::LvalueBit) != 0;

template <class E, class Derived>
tensor_ref<E> dense_view(E* data, const Derived& d) {
  const auto inner = static_cast<std::ptrdiff_t>(d.innerStride());
  const auto outer = static_cast<std::ptrdiff_t>(d.outerStride());
  if constexpr (Derived::IsVectorAtCompileTime) {
    return tensor_ref<E>(data, shape_t{static_cast<std::size_t>(d.size())}, {inner});
  } else {
    const shape_t shape{static_cast<std::size_t>(d.rows()), static_cast<std::size_t>(d.cols())};
    return tensor_ref<E>(data, shape,
                         Derived::IsRowMajor ? std::vector<std::ptrdiff_t>{outer, inner}
                                             : std::vector<std::ptrdiff_t>{inner, outer});
  }
}

template <class E, int Layout, class Dims>
tensor_ref<E> tensor_storage_view(E* data, const Dims& dims, std::size_t rank) {
  shape_t shape(rank);
  std::vector<std::ptrdiff_t> strides(rank);
  std::ptrdiff_t step = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    const std::size_t d = Layout == Eigen::RowMajor ? rank - 1 - k : k;
    shape[d] = static_cast<std::size_t>(dims[d]);
    strides[d] = step;
    step *= static_cast<std::ptrdiff_t>(dims[d]);
  }
  return tensor_ref<E>(data, std::move(shape), std::move(strides));
}

template <class W>
struct is_eigen_tensor : std::false_type {};
template <class S, int R, int O, class I>
struct is_eigen_tensor<Eigen::Tensor<S, R, O, I>> : std::true_type {};
template <class P, int O, template <class> class M>
struct is_eigen_tensor<Eigen::TensorMap<P, O, M>> : std::true_type {};

}  // namespace detail

// Dense matrices and arrays with storage: Matrix, Array, Map, Block, Ref.
template <class W>
struct view_traits<W, std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<W>, W>>> {
  static_assert(detail::eigen_direct_access<W>,
                "lowprec::prune: this Eigen expression has no storage to prune; evaluate it into "
                "a Matrix (or Array) first");
  template <class V>
  static auto get(V& w) {
    using S = typename W::Scalar;
    constexpr bool read_only = std::is_const_v<V> || !detail::eigen_writable<W>;
    using E = std::conditional_t<read_only, const S, S>;
    return detail::dense_view<E>(const_cast<E*>(w.data()), w);
  }
};

// Tensor and TensorMap, row- or column-major.
template <class W>
struct view_traits<W, std::enable_if_t<detail::is_eigen_tensor<W>::value>> {
  template <class V>
  static auto get(V& t) {
    using Traits = Eigen::internal::traits<W>;
    using S = std::remove_const_t<typename Traits::Scalar>;
    constexpr bool read_only = std::is_const_v<V> || std::is_const_v<typename Traits::Scalar> ||
                               std::is_const_v<std::remove_pointer_t<decltype(t.data())>>;
    using E = std::conditional_t<read_only, const S, S>;
    constexpr auto rank = static_cast<std::size_t>(Traits::NumDimensions);
    return detail::tensor_storage_view<E, static_cast<int>(Traits::Layout)>(
        const_cast<E*>(t.data()), t.dimensions(), rank);
  }
};

template <class T>
class nm_compressed;

// y = A x for an N:M-compressed matrix A (include prune/nm.hpp) and any Eigen vector x:
// a float vector (double for double A), in the order nm.hpp documents.
template <class T, class XD>
auto matvec(const nm_compressed<T>& a, const Eigen::MatrixBase<XD>& x) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  static_assert(XD::IsVectorAtCompileTime, "lowprec::prune::matvec: x must be a vector");
  if (a.shape().size() != 2 || static_cast<std::size_t>(x.size()) != a.shape()[1]) {
    throw std::invalid_argument("lowprec::prune::matvec: x has " + std::to_string(x.size()) +
                                " elements for a compressed tensor of shape " +
                                shape_string(a.shape()));
  }
  const Eigen::Matrix<A, Eigen::Dynamic, 1> xv = x.derived().template cast<A>();
  Eigen::Matrix<A, Eigen::Dynamic, 1> y(static_cast<Eigen::Index>(a.shape()[0]));
  matvec(a, xv.data(), y.data());  // prune/nm.hpp, found by argument-dependent lookup
  return y;
}

}  // namespace lowprec::prune
