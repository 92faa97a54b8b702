// Float-accumulating matrix-vector product over lowprec storage, on raw buffers: the
// kernel behind lowprec::matvec for Eigen objects (eigen.hpp). A is fp16, bf16, fp8 or
// float; x and y are float; every product is widened exactly and accumulated in float in
// a fixed, documented order (simd/linalg-inl.hpp), so the result is bit-identical on
// every SIMD target and equal to detail::matvec_reference.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "lowprec/detail/linalg_common.hpp"
#include "lowprec/detail/simd.hpp"

namespace lowprec {

enum class layout { row_major, col_major };

namespace detail {
LOWPREC_SIMD_EXPORT(MatVecF32Acc);
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

}  // namespace lowprec
