// Target-independent part of the float-accumulating matrix-vector product: the argument
// block the kernels take, and the scalar reference that defines their results
// (simd/linalg-inl.hpp explains the order of accumulation).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"

namespace lowprec::detail {

enum class matrix_format : int { f32, fp16, bf16, fp8_e4m3fn, fp8_e5m2 };

template <class T> struct matrix_format_of;
template <> struct matrix_format_of<float> { static constexpr matrix_format value = matrix_format::f32; };
template <> struct matrix_format_of<fp16> { static constexpr matrix_format value = matrix_format::fp16; };
template <> struct matrix_format_of<bf16> { static constexpr matrix_format value = matrix_format::bf16; };
template <> struct matrix_format_of<fp8_e4m3fn> { static constexpr matrix_format value = matrix_format::fp8_e4m3fn; };
template <> struct matrix_format_of<fp8_e5m2> { static constexpr matrix_format value = matrix_format::fp8_e5m2; };

struct matvec_args {
  matrix_format format;
  bool row_major;
  std::size_t rows, cols;
  std::size_t stride;  // elements between consecutive rows (row-major) or columns
};

// Partial sums of a row-major dot product (one per k mod 32).
inline constexpr std::size_t kMatvecPartials = 32;

}  // namespace lowprec::detail

// The scalar reference, compiled like the kernels without floating-point contraction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
namespace lowprec::detail {

template <class T>
float dot_reference(const T* a, const float* x, std::size_t n) noexcept {
  float p[kMatvecPartials] = {};
  for (std::size_t k = 0; k < n; ++k) {
    const float prod = static_cast<float>(a[k]) * x[k];
    p[k % kMatvecPartials] = p[k % kMatvecPartials] + prod;
  }
  for (std::size_t s = kMatvecPartials / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

// Sum (square = false) or sum of squares of n elements, in dot_reference's order.
template <class T>
float reduce_reference(const T* a, std::size_t n, bool square) noexcept {
  float p[kMatvecPartials] = {};
  for (std::size_t k = 0; k < n; ++k) {
    const float v = static_cast<float>(a[k]);
    const float term = square ? v * v : v;
    p[k % kMatvecPartials] = p[k % kMatvecPartials] + term;
  }
  for (std::size_t s = kMatvecPartials / 2; s >= 1; s /= 2) {
    for (std::size_t j = 0; j < s; ++j) p[j] = p[j] + p[j + s];
  }
  return p[0];
}

template <class T>
void matvec_reference(const T* a, const matvec_args& m, const float* x, float* y) noexcept {
  if (m.row_major) {
    for (std::size_t i = 0; i < m.rows; ++i) y[i] = dot_reference(a + i * m.stride, x, m.cols);
    return;
  }
  for (std::size_t i = 0; i < m.rows; ++i) y[i] = 0.0f;
  for (std::size_t k = 0; k < m.cols; ++k) {
    for (std::size_t i = 0; i < m.rows; ++i) {
      const float prod = static_cast<float>(a[k * m.stride + i]) * x[k];
      y[i] = y[i] + prod;
    }
  }
}

}  // namespace lowprec::detail
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
