// Float-accumulating matrix-vector product, dot product, sum and squared norm over lowprec
// storage, on raw buffers: the kernels behind lowprec::matvec, dot, sum, squared_norm and
// norm for Eigen objects (eigen.hpp). A is fp16, bf16, fp8 or
// float; x and y are float; every product is widened exactly and accumulated in float in
// a fixed, documented order (simd/linalg-inl.hpp), so the result is bit-identical on
// every SIMD target and equal to detail::matvec_reference.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "lowprec/detail/linalg_common.hpp"
#include "lowprec/detail/simd.hpp"

namespace lowprec {

enum class layout { row_major, col_major };

namespace detail {
LOWPREC_SIMD_EXPORT(MatVecF32Acc);
LOWPREC_SIMD_EXPORT(ReduceF32Acc);
}  // namespace detail

// y[0..rows) = A x, with A(i, k) at a[i * stride + k] (row_major) or a[k * stride + i]
// (col_major). stride 0 means packed (cols for row-major, rows for column-major).
// y must not overlap A or x.
template <class T>
void matvec(const T* a, std::size_t rows, std::size_t cols, layout order, const float* x,
            float* y, std::size_t stride = 0) {
  const bool row_major = order == layout::row_major;
  const std::size_t packed = row_major ? cols : rows;
  if (stride == 0) stride = packed;
  if (stride < packed) {
    throw std::invalid_argument("lowprec::matvec: stride " + std::to_string(stride) +
                                " is smaller than the " + (row_major ? "row" : "column") +
                                " length " + std::to_string(packed));
  }
  if (rows == 0) return;
  const detail::matvec_args m{detail::matrix_format_of<T>::value, row_major, rows, cols, stride};
  using namespace detail;  // the dispatch tables
  LOWPREC_SIMD_CALL(MatVecF32Acc)(static_cast<const void*>(a), m, x, y);
}

// sum of a[0..n) (float accumulation; equal to detail::reduce_reference(a, n, false)).
template <class T>
float sum(const T* a, std::size_t n) {
  if (n == 0) return 0.0f;
  using namespace detail;  // the dispatch tables
  return LOWPREC_SIMD_CALL(ReduceF32Acc)(static_cast<const void*>(a),
                                         detail::matrix_format_of<T>::value, n, false);
}

// sum of a[k]^2 (each square rounded to float, then accumulated in float), and its root.
template <class T>
float squared_norm(const T* a, std::size_t n) {
  if (n == 0) return 0.0f;
  using namespace detail;  // the dispatch tables
  return LOWPREC_SIMD_CALL(ReduceF32Acc)(static_cast<const void*>(a),
                                         detail::matrix_format_of<T>::value, n, true);
}
template <class T>
float norm(const T* a, std::size_t n) {
  return std::sqrt(squared_norm(a, n));
}

// sum of round(a[k] * x[k]): a 1-row matvec (equal to detail::dot_reference(a, x, n)).
template <class T>
float dot(const T* a, const float* x, std::size_t n) {
  if (n == 0) return 0.0f;
  float y = 0.0f;
  matvec(a, 1, n, layout::row_major, x, &y);
  return y;
}

}  // namespace lowprec
