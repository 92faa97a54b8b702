// Makes every lowprec small float a first-class Eigen scalar, and adds float-accumulating
// reductions and products for 16- and 8-bit storage. The only lowprec header that needs
// Eigen for its types.
//
// What Eigen needs from a custom scalar (Eigen's "Using custom scalar types" page):
//   - NumTraits<T>: precision, limits, costs          (below)
//   - ScalarBinaryOpTraits for mixed T/float, T/double (below: the result is float/double)
//   - operators and the math functions by ADL          (small_float.hpp)
// With those, Matrix, Array, Map, Tensor and TensorMap of lowprec types support arithmetic,
// reductions, products and .cast<>() both ways.
//
// Accumulation: Eigen accumulates in the scalar type, so summing 4096 ones in bf16 gives
// 256 (Eigen's own bfloat16 too): once the sum reaches 256, adding 1 is below half an ulp.
// For sums, dots, norms and products over 16/8-bit storage use lowprec::sum, dot,
// squared_norm, norm, matvec and matmul below: they widen each element to float and
// accumulate in float, and return float results.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "lowprec/bf16.hpp"
#include "lowprec/convert.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/linalg.hpp"
#include "lowprec/small_float.hpp"

namespace Eigen {

template <class F>
struct NumTraits<lowprec::small_float<F>> : GenericNumTraits<lowprec::small_float<F>> {
  using T = lowprec::small_float<F>;
  enum {
    IsSigned = 1,
    IsInteger = 0,
    IsComplex = 0,
    RequireInitialization = 0,
    ReadCost = 1,
    AddCost = 3,  // widen, add, round back
    MulCost = 3,
  };
  using Real = T;
  using NonInteger = T;
  using Literal = T;
  using Nested = T;

  static T epsilon() { return std::numeric_limits<T>::epsilon(); }
  // isApprox()'s default tolerance: 8 ulps at 1, at most 1/4 (fp8 has only 3 or 2 bits).
  // That is Eigen's own 1e-2 for half and 5e-2 for bfloat16, to within a factor of 1.25.
  static T dummy_precision() {
    return T(std::min(8.0f * static_cast<float>(epsilon()), 0.25f));
  }
  static T highest() { return std::numeric_limits<T>::max(); }
  static T lowest() { return std::numeric_limits<T>::lowest(); }
  static T infinity() { return std::numeric_limits<T>::infinity(); }
  static T quiet_NaN() { return std::numeric_limits<T>::quiet_NaN(); }
  static constexpr int digits() { return std::numeric_limits<T>::digits; }
  static constexpr int digits10() { return std::numeric_limits<T>::digits10; }
  static constexpr int max_digits10() { return std::numeric_limits<T>::max_digits10; }
};

// Mixed expressions widen: bf16 * float is float, bf16 * double is double.
template <class F, class BinaryOp>
struct ScalarBinaryOpTraits<lowprec::small_float<F>, float, BinaryOp> {
  using ReturnType = float;
};
template <class F, class BinaryOp>
struct ScalarBinaryOpTraits<float, lowprec::small_float<F>, BinaryOp> {
  using ReturnType = float;
};
template <class F, class BinaryOp>
struct ScalarBinaryOpTraits<lowprec::small_float<F>, double, BinaryOp> {
  using ReturnType = double;
};
template <class F, class BinaryOp>
struct ScalarBinaryOpTraits<double, lowprec::small_float<F>, BinaryOp> {
  using ReturnType = double;
};

}  // namespace Eigen

namespace lowprec {

namespace detail {

template <class T>
struct is_lowprec_float : std::false_type {};
template <class F>
struct is_lowprec_float<small_float<F>> : std::true_type {};

// Float-accumulating kernels work on any scalar that widens to float exactly.
template <class Scalar>
constexpr bool widens_to_float_v =
    is_lowprec_float<Scalar>::value || std::is_same_v<Scalar, float>;

inline void require_same_size(const char* what, Eigen::Index a, Eigen::Index b) {
  if (a != b) {
    throw std::invalid_argument(std::string(what) + ": sizes differ (" + std::to_string(a) +
                                " vs " + std::to_string(b) + ")");
  }
}

}  // namespace detail

namespace detail {

// Formats with a SIMD kernel (linalg.hpp); other small_float formats use the reference
// loop, which defines the same order.
template <class S>
constexpr bool has_linalg_kernel_v =
    std::is_same_v<S, float> || std::is_same_v<S, fp16> || std::is_same_v<S, bf16> ||
    std::is_same_v<S, fp8_e4m3fn> || std::is_same_v<S, fp8_e5m2>;

template <class S>
float reduce_run(const S* p, std::size_t n, bool square) {
  if constexpr (has_linalg_kernel_v<S>) {
    return square ? lowprec::squared_norm(p, n) : lowprec::sum(p, n);
  } else {
    return reduce_reference(p, n, square);
  }
}

// Sum or sum of squares of every coefficient, in storage order (a plain copy in the
// expression's storage order when x is not one contiguous run).
template <class Derived>
float reduce_dense(const Derived& x, bool square) {
  const auto n = static_cast<std::size_t>(x.size());
  if (n == 0) return 0.0f;
  if constexpr ((int(Derived::Flags) & Eigen::DirectAccessBit) != 0) {
    if (x.innerStride() == 1 && x.outerStride() == x.innerSize()) {
      return reduce_run(x.data(), n, square);
    }
  }
  const typename Derived::PlainObject packed = x;
  return reduce_run(packed.data(), n, square);
}

// A vector's coefficients as one contiguous run: the data itself, or a packed copy.
template <class Derived>
struct contiguous_vector {
  using S = typename Derived::Scalar;
  explicit contiguous_vector(const Derived& v) {
    if constexpr ((int(Derived::Flags) & Eigen::DirectAccessBit) != 0) {
      if (v.innerStride() == 1 || v.size() <= 1) {
        data = v.data();
        return;
      }
    }
    copy = v;
    data = copy.data();
  }
  Eigen::Matrix<S, Eigen::Dynamic, 1> copy;
  const S* data = nullptr;
};

}  // namespace detail

// Sum of all coefficients, accumulated in float: the coefficients in storage order, 32
// partial sums (element k into partial k mod 32) combined by a fixed tree
// (simd/linalg-inl.hpp). SIMD, and the same bits on every target.
template <class Derived>
float sum(const Eigen::DenseBase<Derived>& x) {
  static_assert(detail::widens_to_float_v<typename Derived::Scalar>,
                "lowprec::sum needs lowprec or float scalars");
  return detail::reduce_dense(x.derived(), false);
}

// Dot product of two vectors (any mix of lowprec and float scalars), accumulated in float:
// each product is rounded to float and added in the order of sum(). When neither side is
// float, b is first widened to float (exactly).
template <class A, class B>
float dot(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  using SA = typename A::Scalar;
  using SB = typename B::Scalar;
  static_assert(detail::widens_to_float_v<SA> && detail::widens_to_float_v<SB>,
                "lowprec::dot needs lowprec or float scalars");
  static_assert(A::IsVectorAtCompileTime && B::IsVectorAtCompileTime,
                "lowprec::dot takes two vectors");
  detail::require_same_size("lowprec::dot", a.size(), b.size());
  const auto n = static_cast<std::size_t>(a.size());
  if (n == 0) return 0.0f;
  if constexpr (!std::is_same_v<SB, float> && std::is_same_v<SA, float>) {
    return dot(b, a);  // round(a * b) == round(b * a): the same bits
  } else if constexpr (!std::is_same_v<SB, float>) {
    const Eigen::VectorXf bf = b.derived().template cast<float>();
    return dot(a, bf);
  } else {
    const detail::contiguous_vector<A> av(a.derived());
    const detail::contiguous_vector<B> bv(b.derived());
    if constexpr (detail::has_linalg_kernel_v<SA>) {
      return lowprec::dot(av.data, bv.data, n);
    } else {
      return detail::dot_reference(av.data, bv.data, n);
    }
  }
}

// Squared Euclidean (Frobenius) norm and the norm, accumulated in float: the squares,
// each rounded to float, summed in the order of sum().
template <class Derived>
float squared_norm(const Eigen::DenseBase<Derived>& x) {
  static_assert(detail::widens_to_float_v<typename Derived::Scalar>,
                "lowprec::squared_norm needs lowprec or float scalars");
  return detail::reduce_dense(x.derived(), true);
}
template <class Derived>
float norm(const Eigen::DenseBase<Derived>& x) {
  return std::sqrt(squared_norm(x));
}

// y = A * x with A in lowprec (or float) storage and x in any widening scalar, float
// accumulation; y is a float vector. Runs the SIMD kernel of linalg.hpp on A's storage
// when its elements are contiguous within rows or columns (any outer stride), else on an
// evaluated copy; the order of accumulation is documented there and is the same on every
// target (row-major and column-major A may differ in the last bits).
template <class MA, class VX>
Eigen::VectorXf matvec(const Eigen::MatrixBase<MA>& a, const Eigen::MatrixBase<VX>& x) {
  using S = typename MA::Scalar;
  static_assert(detail::widens_to_float_v<S> &&
                    detail::widens_to_float_v<typename VX::Scalar>,
                "lowprec::matvec needs lowprec or float scalars");
  static_assert(VX::IsVectorAtCompileTime, "lowprec::matvec: x must be a vector");
  detail::require_same_size("lowprec::matvec (A.cols() vs x.size())", a.cols(), x.size());
  const Eigen::VectorXf xf = x.derived().template cast<float>();
  Eigen::VectorXf y(a.rows());
  if (a.rows() == 0) return y;
  if (a.cols() == 0) return y.setZero();
  constexpr bool direct = (int(MA::Flags) & Eigen::DirectAccessBit) != 0;
  if constexpr (direct) {
    const auto& A = a.derived();
    if (A.innerStride() == 1) {
      matvec(A.data(), static_cast<std::size_t>(A.rows()), static_cast<std::size_t>(A.cols()),
             MA::IsRowMajor ? layout::row_major : layout::col_major, xf.data(), y.data(),
             static_cast<std::size_t>(A.outerStride()));
      return y;
    }
  }
  const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> packed = a;
  matvec(packed.data(), static_cast<std::size_t>(packed.rows()),
         static_cast<std::size_t>(packed.cols()), layout::row_major, xf.data(), y.data());
  return y;
}

// A dense Eigen object converted to another scalar through lowprec::convert: the same
// bits as .cast<To>() (and, for narrowing, as the scalar constructor), at SIMD speed,
// with any rounding and overflow policy. The result is a Matrix (or an Array for array
// expressions) of the same shape and storage order. Unsupported pairs fail to compile
// with convert's static_assert, which names them. (The parameter is constrained rather
// than written DenseBase<Derived>: Eigen's own scalar_cast_op calls an unqualified
// cast<Scalar, NewType>(x), which finds this template by ADL for lowprec scalars and
// must see it drop out quietly.)
template <class To, class Derived,
          std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<Derived>, Derived>, int> = 0>
auto cast(const Derived& x, const convert_options& opts = {}) {
  using From = typename Derived::Scalar;
  constexpr int order = Derived::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
  constexpr bool is_array = std::is_base_of_v<Eigen::ArrayBase<Derived>, Derived>;
  using Plain = std::conditional_t<
      is_array,
      Eigen::Array<To, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime, order,
                   Derived::MaxRowsAtCompileTime, Derived::MaxColsAtCompileTime>,
      Eigen::Matrix<To, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime, order,
                    Derived::MaxRowsAtCompileTime, Derived::MaxColsAtCompileTime>>;
  Plain out(x.rows(), x.cols());
  if constexpr (std::is_same_v<From, To>) {
    out = x;
  } else {
    const auto n = static_cast<std::size_t>(x.size());
    constexpr bool direct = (int(Derived::Flags) & Eigen::DirectAccessBit) != 0;
    if constexpr (direct) {
      const auto& d = x;
      if (d.innerStride() == 1 && d.outerStride() == d.innerSize()) {
        convert(d.data(), out.data(), n, opts);
        return out;
      }
    }
    using Source = std::conditional_t<
        is_array,
        Eigen::Array<From, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime, order,
                     Derived::MaxRowsAtCompileTime, Derived::MaxColsAtCompileTime>,
        Eigen::Matrix<From, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime, order,
                      Derived::MaxRowsAtCompileTime, Derived::MaxColsAtCompileTime>>;
    const Source packed = x;
    convert(packed.data(), out.data(), n, opts);
  }
  return out;
}

// C = A * B with float accumulation; C is a float matrix.
template <class MA, class MB>
Eigen::MatrixXf matmul(const Eigen::MatrixBase<MA>& a, const Eigen::MatrixBase<MB>& b) {
  static_assert(detail::widens_to_float_v<typename MA::Scalar> &&
                    detail::widens_to_float_v<typename MB::Scalar>,
                "lowprec::matmul needs lowprec or float scalars");
  detail::require_same_size("lowprec::matmul (A.cols() vs B.rows())", a.cols(), b.rows());
  const Eigen::MatrixXf af = cast<float>(a.derived());  // bulk SIMD widening, exact
  const Eigen::MatrixXf bf = cast<float>(b.derived());
  return af * bf;  // Eigen's float GEMM accumulates in float
}

// ---- Zero-copy interop with Eigen's own half and bfloat16 -----------------------------
// lowprec::fp16 and Eigen::half (lowprec::bf16 and Eigen::bfloat16) have the same bits,
// size and alignment, so a buffer of one can be used as the other without a second
// buffer. To stay within the C++ object model (no pointer-cast type punning), the view
// functions end the old objects' lifetime and start the new ones' with an in-place
// memmove, which implicitly creates objects of implicit-lifetime types ([intro.object],
// P0593R6); g++ and clang fold memmove(p, p, n) away, so no byte moves. After viewing,
// use the buffer only through the new type (view it back to switch again).
namespace detail {

template <class T> struct eigen_twin;
template <> struct eigen_twin<fp16> { using type = Eigen::half; };
template <> struct eigen_twin<bf16> { using type = Eigen::bfloat16; };
template <class T> struct lowprec_twin;
template <> struct lowprec_twin<Eigen::half> { using type = fp16; };
template <> struct lowprec_twin<Eigen::bfloat16> { using type = bf16; };

template <class To, class From>
To* restart_lifetime_as(From* p, std::size_t n) noexcept {
  static_assert(sizeof(To) == sizeof(From) && alignof(To) == alignof(From),
                "views need types of the same size and alignment");
  static_assert(std::is_trivially_copyable_v<To> && std::is_trivially_copyable_v<From>,
                "views need trivially copyable types");
  if (n == 0) return nullptr;
  return std::launder(static_cast<To*>(std::memmove(p, p, n * sizeof(From))));
}

}  // namespace detail

// Raw buffers: lowprec::bf16* <-> Eigen::bfloat16*, lowprec::fp16* <-> Eigen::half*.
template <class T, class Twin = typename detail::eigen_twin<T>::type>
Twin* as_eigen_scalars(T* p, std::size_t n) noexcept {
  return detail::restart_lifetime_as<Twin>(p, n);
}
template <class E, class Twin = typename detail::lowprec_twin<E>::type>
Twin* as_lowprec_scalars(E* p, std::size_t n) noexcept {
  return detail::restart_lifetime_as<Twin>(p, n);
}

namespace detail {
template <class Twin, int R, int C, int O, int MR, int MC, class Scalar>
auto twin_map(Scalar* data, Eigen::Index rows, Eigen::Index cols) {
  return Eigen::Map<Eigen::Matrix<Twin, R, C, O, MR, MC>>(
      restart_lifetime_as<Twin>(data, static_cast<std::size_t>(rows * cols)), rows, cols);
}
}  // namespace detail

// Whole matrices, or maps of them: an Eigen::Map of the twin type over the same storage.
template <class T, int R, int C, int O, int MR, int MC>
auto view_as_eigen(Eigen::Matrix<T, R, C, O, MR, MC>& m) {
  using Twin = typename detail::eigen_twin<T>::type;
  return detail::twin_map<Twin, R, C, O, MR, MC>(m.data(), m.rows(), m.cols());
}
template <class T, int R, int C, int O, int MR, int MC>
auto view_as_eigen(Eigen::Map<Eigen::Matrix<T, R, C, O, MR, MC>> m) {
  using Twin = typename detail::eigen_twin<T>::type;
  return detail::twin_map<Twin, R, C, O, MR, MC>(m.data(), m.rows(), m.cols());
}
template <class E, int R, int C, int O, int MR, int MC>
auto view_as_lowprec(Eigen::Matrix<E, R, C, O, MR, MC>& m) {
  using Twin = typename detail::lowprec_twin<E>::type;
  return detail::twin_map<Twin, R, C, O, MR, MC>(m.data(), m.rows(), m.cols());
}
template <class E, int R, int C, int O, int MR, int MC>
auto view_as_lowprec(Eigen::Map<Eigen::Matrix<E, R, C, O, MR, MC>> m) {
  using Twin = typename detail::lowprec_twin<E>::type;
  return detail::twin_map<Twin, R, C, O, MR, MC>(m.data(), m.rows(), m.cols());
}

}  // namespace lowprec
