// Bulk casts of Eigen Tensors and TensorMaps between float/double and lowprec formats,
// through lowprec::convert (SIMD, bit-identical to the scalar conversion). Kept apart from
// eigen.hpp so that only users of Eigen's Tensor module compile it.
//
//   Eigen::Tensor<float, 4> t = ...;
//   Eigen::Tensor<lowprec::bf16, 4> h = lowprec::cast<lowprec::bf16>(t);   // same bits as
//   Eigen::Tensor<float, 4> back = lowprec::cast<float>(h);                // t.cast<bf16>()
#pragma once

#include <unsupported/Eigen/CXX11/Tensor>

#include "lowprec/convert.hpp"
#include "lowprec/eigen.hpp"

namespace lowprec {

// Tensor (any rank and layout) -> a Tensor of To with the same dimensions and layout.
template <class To, class From, int Rank, int Options, class Index>
Eigen::Tensor<To, Rank, Options, Index> cast(const Eigen::Tensor<From, Rank, Options, Index>& t,
                                             const convert_options& opts = {}) {
  Eigen::Tensor<To, Rank, Options, Index> out(t.dimensions());
  convert(t.data(), out.data(), static_cast<std::size_t>(t.size()), opts);
  return out;
}

// TensorMap (of a const or mutable Tensor) -> an owning Tensor of To.
template <class To, class Plain, int MapOptions, template <class> class MakePointer>
auto cast(const Eigen::TensorMap<Plain, MapOptions, MakePointer>& t,
          const convert_options& opts = {}) {
  using P = std::remove_const_t<Plain>;
  Eigen::Tensor<To, P::NumIndices, P::Options, typename P::Index> out(t.dimensions());
  convert(t.data(), out.data(), static_cast<std::size_t>(t.size()), opts);
  return out;
}

}  // namespace lowprec
