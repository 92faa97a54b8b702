// Eigen in and out of lowprec's quantizers: quantize() any dense expression, Tensor or
// TensorMap (row- or column-major; float, double, lowprec::fp16 / bf16 or Eigen::half /
// Eigen::bfloat16 scalars),
// dequantize<Eigen::MatrixXf>() / dequantize<Eigen::Tensor<float, R>>(), and
// measure_error() against an Eigen reference. The only quant/ header that needs Eigen.
//
// Shapes: a matrix expression is [rows, cols] (axis 0 = rows: per_row() gives one scale
// per row), a compile-time vector is [size]; a Tensor's shape is its dimensions, axis d
// its dimension d. Storage order never changes the meaning of an axis, only speed: row-
// major data with the blocked axis last is read in place, anything else is gathered
// first (quantized_tensor.hpp).
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>
#include <vector>

#include "lowprec/eigen.hpp"
#include "lowprec/quant/quantized_tensor.hpp"

namespace lowprec::quant {

namespace detail {

// Eigen's own 16-bit scalars are sources too: read element by element through their exact
// conversion to float, as lowprec::fp16 and lowprec::bf16 are.
template <>
struct is_quant_source<Eigen::half> : std::true_type {};
template <>
struct is_quant_source<Eigen::bfloat16> : std::true_type {};

// A view of a dense Eigen object with direct access (Matrix, Map, Block, Ref, ...).
template <class Derived>
auto eigen_view(const Eigen::DenseBase<Derived>& m) {
  using Scalar = typename Derived::Scalar;
  const Derived& d = m.derived();
  tensor_view<Scalar> v;
  v.data = d.data();
  const auto inner = static_cast<std::ptrdiff_t>(d.innerStride());
  const auto outer = static_cast<std::ptrdiff_t>(d.outerStride());
  if constexpr (Derived::IsVectorAtCompileTime) {
    v.shape = {static_cast<std::size_t>(d.size())};
    v.strides = {inner};
  } else {
    v.shape = {static_cast<std::size_t>(d.rows()), static_cast<std::size_t>(d.cols())};
    v.strides = Derived::IsRowMajor ? std::vector<std::ptrdiff_t>{outer, inner}
                                    : std::vector<std::ptrdiff_t>{inner, outer};
  }
  return v;
}

template <class Derived>
constexpr bool has_direct_access =
    (Eigen::internal::traits<Derived>::Flags & Eigen::DirectAccessBit) != 0;

// Calls fn(view) with a view of any dense expression: in place when it has direct access,
// else through a row-major evaluated copy.
template <class Derived, class Fn>
decltype(auto) with_eigen_view(const Eigen::DenseBase<Derived>& m, Fn&& fn) {
  if constexpr (has_direct_access<Derived>) {
    return fn(eigen_view(m));
  } else {
    using Scalar = typename Derived::Scalar;
    constexpr int options = Derived::IsVectorAtCompileTime && Derived::ColsAtCompileTime == 1
                                ? Eigen::ColMajor
                                : Eigen::RowMajor;
    using Plain = Eigen::Matrix<Scalar, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime,
                                options>;
    const Plain tmp = m.derived();
    return fn(eigen_view(tmp));
  }
}

// A view of a Tensor or TensorMap's storage.
template <class Scalar, int Layout, std::size_t R, class Index>
tensor_view<Scalar> tensor_storage_view(const Scalar* data, const std::array<Index, R>& dims) {
  tensor_view<Scalar> v;
  v.data = data;
  v.shape.resize(R);
  v.strides.resize(R);
  std::ptrdiff_t step = 1;
  for (std::size_t k = 0; k < R; ++k) {
    const std::size_t d = Layout == Eigen::RowMajor ? R - 1 - k : k;
    v.shape[d] = static_cast<std::size_t>(dims[d]);
    v.strides[d] = step;
    step *= static_cast<std::ptrdiff_t>(dims[d]);
  }
  return v;
}

template <class TensorLike>
auto tensor_view_of(const TensorLike& t) {
  using Traits = Eigen::internal::traits<TensorLike>;
  using Scalar = std::remove_const_t<typename Traits::Scalar>;
  constexpr std::size_t R = static_cast<std::size_t>(Traits::NumDimensions);
  std::array<Eigen::Index, R> dims{};
  for (std::size_t k = 0; k < R; ++k) dims[k] = static_cast<Eigen::Index>(t.dimensions()[k]);
  return tensor_storage_view<Scalar, static_cast<int>(Traits::Layout), R>(
      static_cast<const Scalar*>(t.data()), dims);
}

inline void require_shape(const char* who, const std::vector<std::size_t>& have,
                          const std::vector<std::size_t>& want) {
  if (have != want) {
    throw std::invalid_argument(std::string(who) + ": reference shape " + shape_string(have) +
                                " does not match the quantized tensor's shape " +
                                shape_string(want));
  }
}

template <class T>
error_metrics measure_view(const quantized_tensor& q, const tensor_view<T>& ref) {
  require_shape("lowprec::quant::measure_error", ref.shape, q.shape());
  std::vector<double> x(q.size());
  gather_row_major(ref, q.size(), x.data());
  return measure_error(q, x.data());
}

}  // namespace detail

// ---- quantize --------------------------------------------------------------------------------

// Any dense Eigen expression (Matrix, Array, Map, Block, Ref, or an expression such as
// A * 2, which is evaluated first).
template <class Derived>
quantized_tensor quantize(const Eigen::DenseBase<Derived>& m, const scheme& s) {
  return detail::with_eigen_view(m, [&](const auto& v) { return quantize(v, s); });
}

// Tensor and TensorMap, either layout: read in place.
template <class S, int R, int O, class I>
quantized_tensor quantize(const Eigen::Tensor<S, R, O, I>& t, const scheme& s) {
  return quantize(detail::tensor_view_of(t), s);
}
template <class P, int O, template <class> class M>
quantized_tensor quantize(const Eigen::TensorMap<P, O, M>& t, const scheme& s) {
  return quantize(detail::tensor_view_of(t), s);
}
// Any other tensor expression: evaluated into a Tensor first.
template <class Derived>
quantized_tensor quantize(const Eigen::TensorBase<Derived, Eigen::ReadOnlyAccessors>& expr,
                          const scheme& s) {
  using Traits = Eigen::internal::traits<Derived>;
  using Scalar = std::remove_const_t<typename Traits::Scalar>;
  const Eigen::Tensor<Scalar, Traits::NumDimensions, Traits::Layout> tmp = static_cast<const Derived&>(expr);
  return quantize(detail::tensor_view_of(tmp), s);
}

// torch.quantize_per_tensor / quantize_per_channel on Eigen sources.
template <class Derived>
quantized_tensor quantize_per_tensor(const Eigen::DenseBase<Derived>& m, float scale,
                                     std::int32_t zero_point, code_format f) {
  return detail::with_eigen_view(
      m, [&](const auto& v) { return quantize_per_tensor(v, scale, zero_point, f); });
}
template <class Derived>
quantized_tensor quantize_per_channel(const Eigen::DenseBase<Derived>& m,
                                      const std::vector<float>& scales,
                                      const std::vector<std::int32_t>& zero_points, int axis,
                                      code_format f) {
  return detail::with_eigen_view(m, [&](const auto& v) {
    return quantize_per_channel(v, scales, zero_points, axis, f);
  });
}

// ---- dequantize ------------------------------------------------------------------------------

// Into a Matrix or Array: rank 2 as [rows, cols]; rank 1 as a column (a row for
// compile-time row vectors); rank 0 as 1x1. Throws std::invalid_argument for a higher
// rank or a shape that a fixed-size type cannot hold.
template <class Plain>
struct dense_dequantize {
  static Plain make(const quantized_tensor& q) {
    const std::vector<std::size_t>& s = q.shape();
    Eigen::Index rows = 1, cols = 1;
    if (s.size() == 2) {
      rows = static_cast<Eigen::Index>(s[0]);
      cols = static_cast<Eigen::Index>(s[1]);
    } else if (s.size() == 1) {
      (Plain::ColsAtCompileTime == 1 || Plain::RowsAtCompileTime != 1 ? rows : cols) =
          static_cast<Eigen::Index>(s[0]);
    } else if (s.size() > 2) {
      throw std::invalid_argument("lowprec::quant::dequantize: a rank-" +
                                  std::to_string(s.size()) + " tensor (shape " +
                                  shape_string(s) + ") is not a matrix; use an Eigen::Tensor");
    }
    if ((Plain::RowsAtCompileTime != Eigen::Dynamic && Plain::RowsAtCompileTime != rows) ||
        (Plain::ColsAtCompileTime != Eigen::Dynamic && Plain::ColsAtCompileTime != cols)) {
      throw std::invalid_argument("lowprec::quant::dequantize: shape " + shape_string(s) +
                                  " does not fit a " + std::to_string(Plain::RowsAtCompileTime) +
                                  "x" + std::to_string(Plain::ColsAtCompileTime) + " matrix");
    }
    const std::vector<float> y = q.dequantize();
    Plain out(rows, cols);
    using Scalar = typename Plain::Scalar;
    for (Eigen::Index i = 0; i < rows; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j) {
        out(i, j) = static_cast<Scalar>(y[static_cast<std::size_t>(i * cols + j)]);
      }
    }
    return out;
  }
};
template <class S, int R, int C, int O, int MR, int MC>
struct dequantize_traits<Eigen::Matrix<S, R, C, O, MR, MC>>
    : dense_dequantize<Eigen::Matrix<S, R, C, O, MR, MC>> {};
template <class S, int R, int C, int O, int MR, int MC>
struct dequantize_traits<Eigen::Array<S, R, C, O, MR, MC>>
    : dense_dequantize<Eigen::Array<S, R, C, O, MR, MC>> {};

// Into a Tensor of the same rank, either layout.
template <class S, int R, int O, class I>
struct dequantize_traits<Eigen::Tensor<S, R, O, I>> {
  static Eigen::Tensor<S, R, O, I> make(const quantized_tensor& q) {
    if (q.rank() != static_cast<std::size_t>(R)) {
      throw std::invalid_argument("lowprec::quant::dequantize: the quantized tensor has rank " +
                                  std::to_string(q.rank()) + " (shape " +
                                  shape_string(q.shape()) + "), the Tensor type rank " +
                                  std::to_string(R));
    }
    std::array<I, static_cast<std::size_t>(R)> dims{};
    for (std::size_t k = 0; k < dims.size(); ++k) dims[k] = static_cast<I>(q.shape()[k]);
    Eigen::Tensor<S, R, O, I> out(dims);
    const std::vector<float> y = q.dequantize();
    // Scatter the row-major values through a strided view of out's storage.
    const tensor_view<S> v =
        detail::tensor_storage_view<S, (O & Eigen::RowMajor) ? Eigen::RowMajor : Eigen::ColMajor>(
            out.data(), dims);
    if (y.empty()) return out;
    const std::size_t r = dims.size();
    if (r == 0) {
      out.data()[0] = static_cast<S>(y[0]);
      return out;
    }
    std::vector<std::size_t> index(r, 0);
    S* base = out.data();
    for (std::size_t flat = 0; flat < y.size(); ++flat) {
      std::ptrdiff_t offset = 0;
      for (std::size_t d = 0; d < r; ++d) offset += static_cast<std::ptrdiff_t>(index[d]) * v.strides[d];
      base[offset] = static_cast<S>(y[flat]);
      for (std::size_t d = r; d-- > 0;) {
        if (++index[d] < v.shape[d]) break;
        index[d] = 0;
      }
    }
    return out;
  }
};

// ---- metrics ---------------------------------------------------------------------------------

// Metrics of the dequantized q against an Eigen reference of the same shape (as quantize()
// reads it). Throws std::invalid_argument when the shapes differ.
template <class Derived>
error_metrics measure_error(const quantized_tensor& q, const Eigen::DenseBase<Derived>& reference) {
  return detail::with_eigen_view(reference,
                                 [&](const auto& v) { return detail::measure_view(q, v); });
}
template <class S, int R, int O, class I>
error_metrics measure_error(const quantized_tensor& q, const Eigen::Tensor<S, R, O, I>& reference) {
  return detail::measure_view(q, detail::tensor_view_of(reference));
}
template <class P, int O, template <class> class M>
error_metrics measure_error(const quantized_tensor& q, const Eigen::TensorMap<P, O, M>& reference) {
  return detail::measure_view(q, detail::tensor_view_of(reference));
}

}  // namespace lowprec::quant
