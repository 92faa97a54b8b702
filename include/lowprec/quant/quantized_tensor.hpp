// quantized_tensor: codes + scales (+ zero points) + shape + scheme, and quantize(), the
// N-d front over every scheme of scheme.hpp. Standard library only; quant/eigen.hpp adds
// Eigen Matrix / Tensor inputs and outputs.
//
// Storage (what bytes() counts), for n elements in row-major order and G scale groups:
//   codes        n bytes (int8, uint8, fp8), or ceil(n/2) bytes for int4/uint4: two codes
//                per byte, element 2k in the low nibble (packed.hpp's native order)
//   scales       G floats (4 bytes each), in the order of scale_shape() (scheme.hpp)
//   zero points  G bytes, affine schemes only
// e.g. int8 per_block(32): 8 + 32/32 = 9 bits per parameter; int4 per_block(64): 4.5.
//
// Inputs are read as float: float, fp16 and bf16 exactly, double rounded to nearest
// float. A source that is not already a row-major contiguous float buffer is first
// gathered into one (one extra pass), then quantized; all arithmetic is float.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/int4.hpp"
#include "lowprec/quant/absmax.hpp"
#include "lowprec/quant/affine.hpp"
#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/metrics.hpp"
#include "lowprec/quant/scheme.hpp"

namespace lowprec::quant {

// A read-only view of an N-d array: element (i0, ..., i(r-1)) is at
// data[i0 * strides[0] + ... + i(r-1) * strides[r-1]] (strides in elements, any sign).
// Empty strides mean row-major contiguous. T: float, double, fp16 or bf16.
template <class T>
struct tensor_view {
  const T* data = nullptr;
  std::vector<std::size_t> shape;
  std::vector<std::ptrdiff_t> strides;
};

// Row-major strides of a shape (the last axis contiguous).
inline std::vector<std::ptrdiff_t> row_major_strides(const std::vector<std::size_t>& shape) {
  std::vector<std::ptrdiff_t> s(shape.size());
  std::ptrdiff_t step = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    s[d] = step;
    step *= static_cast<std::ptrdiff_t>(shape[d]);
  }
  return s;
}

class quantized_tensor;

namespace detail {
template <class>
inline constexpr bool always_false = false;
}  // namespace detail

// dequantize<Out>() builds an Out through this trait: std::vector<float> here, Eigen
// matrices and tensors in quant/eigen.hpp.
template <class Out, class = void>
struct dequantize_traits {
  template <class Q>
  static Out make(const Q&) {
    static_assert(detail::always_false<Out>,
                  "quantized_tensor::dequantize<Out>: unsupported Out. Supported: "
                  "std::vector<float>, and Eigen::Matrix / Eigen::Tensor after including "
                  "lowprec/quant/eigen.hpp");
    return Out{};
  }
};

namespace detail {

template <class Code>
inline constexpr bool is_code_type =
    std::is_same_v<Code, std::int8_t> || std::is_same_v<Code, std::uint8_t> ||
    std::is_same_v<Code, int4> || std::is_same_v<Code, uint4> ||
    std::is_same_v<Code, fp8_e4m3fn> || std::is_same_v<Code, fp8_e5m2>;

template <class Code>
constexpr bool code_type_matches(code_format f) noexcept {
  if constexpr (std::is_same_v<Code, std::int8_t>) return f == code_format::int8;
  if constexpr (std::is_same_v<Code, std::uint8_t>) return f == code_format::uint8;
  if constexpr (std::is_same_v<Code, int4>) return f == code_format::int4;
  if constexpr (std::is_same_v<Code, uint4>) return f == code_format::uint4;
  if constexpr (std::is_same_v<Code, fp8_e4m3fn>) return f == code_format::fp8_e4m3fn;
  if constexpr (std::is_same_v<Code, fp8_e5m2>) return f == code_format::fp8_e5m2;
  return false;
}

inline void check_scheme(const scheme& s, const char* who) {
  const bool affine_format = s.format == code_format::uint8 || s.format == code_format::uint4;
  if (affine_format != (s.map == mapping::affine)) {
    throw std::invalid_argument(std::string(who) + ": scheme pairs format " +
                                to_string(s.format) + " with mapping " + to_string(s.map) +
                                "; absmax takes int8/int4/fp8_e4m3fn/fp8_e5m2, affine takes "
                                "uint8/uint4");
  }
}

}  // namespace detail

class quantized_tensor {
 public:
  quantized_tensor() : quantized_tensor(scheme{}, {0}) {}

  // An all-zero tensor of the given shape and scheme (codes 0, scales 0; affine: scale
  // eps and zero point qmin, so that every element decodes to 0). Throws for a bad scheme.
  quantized_tensor(const scheme& s, std::vector<std::size_t> shape)
      : scheme_(s), shape_(std::move(shape)) {
    detail::check_scheme(s, "lowprec::quant::quantized_tensor");
    geo_ = make_geometry(s.groups, shape_, "lowprec::quant::quantized_tensor");
    codes_.assign(::lowprec::quant::code_bytes(s.format, geo_.count), 0);
    if (s.map == mapping::affine) {
      scales_.assign(geo_.groups, affine_eps);
      zero_points_.assign(geo_.groups, static_cast<std::uint8_t>(info(s.format).qmin));
    } else {
      scales_.assign(geo_.groups, 0.0f);
    }
  }

  // From parts (import of data quantized elsewhere): the sizes must match the scheme and
  // shape, and zero points must lie in the code range. Throws std::invalid_argument naming
  // the part and the sizes otherwise. Scales are taken as they are (any float).
  quantized_tensor(const scheme& s, std::vector<std::size_t> shape, std::vector<std::uint8_t> codes,
                   std::vector<float> scales, std::vector<std::uint8_t> zero_points = {})
      : scheme_(s), shape_(std::move(shape)) {
    const char* who = "lowprec::quant::quantized_tensor";
    detail::check_scheme(s, who);
    geo_ = make_geometry(s.groups, shape_, who);
    const auto need = [&](const char* part, std::size_t have, std::size_t want) {
      if (have != want) {
        throw std::invalid_argument(std::string(who) + ": " + part + " has " +
                                    std::to_string(have) + " entries; shape " +
                                    shape_string(shape_) + " with " + to_string(s.format) + " " +
                                    to_string(s.groups.kind) + " needs " + std::to_string(want));
      }
    };
    need("codes", codes.size(), ::lowprec::quant::code_bytes(s.format, geo_.count));
    need("scales", scales.size(), geo_.groups);
    need("zero_points", zero_points.size(), s.map == mapping::affine ? geo_.groups : 0);
    for (std::size_t g = 0; g < zero_points.size(); ++g) {
      if (zero_points[g] > info(s.format).qmax) {
        throw std::invalid_argument(std::string(who) + ": zero_points[" + std::to_string(g) +
                                    "] is " + std::to_string(zero_points[g]) + "; " +
                                    to_string(s.format) + " needs 0.." +
                                    std::to_string(info(s.format).qmax));
      }
    }
    if (info(s.format).bits == 4 && geo_.count % 2 != 0 && (codes.back() & 0xF0) != 0) {
      throw std::invalid_argument(std::string(who) + ": the unused high nibble of the last "
                                  "code byte is not zero (corrupt or not native order)");
    }
    codes_ = std::move(codes);
    scales_ = std::move(scales);
    zero_points_ = std::move(zero_points);
  }

  // ---- description -----------------------------------------------------------------------
  const scheme& qscheme() const noexcept { return scheme_; }
  code_format format() const noexcept { return scheme_.format; }
  const std::vector<std::size_t>& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::size_t size() const noexcept { return geo_.count; }
  const group_geometry& geometry() const noexcept { return geo_; }

  // ---- storage ---------------------------------------------------------------------------
  const std::vector<std::uint8_t>& codes() const noexcept { return codes_; }
  const std::vector<float>& scales() const noexcept { return scales_; }
  const std::vector<std::size_t>& scale_shape() const noexcept { return geo_.scale_shape; }
  const std::vector<std::uint8_t>& zero_points() const noexcept { return zero_points_; }

  std::size_t code_bytes() const noexcept { return codes_.size(); }
  std::size_t scale_bytes() const noexcept { return scales_.size() * sizeof(float); }
  std::size_t zero_point_bytes() const noexcept { return zero_points_.size(); }
  std::size_t bytes() const noexcept { return code_bytes() + scale_bytes() + zero_point_bytes(); }
  // 8 * bytes() / size(): scales and zero points included. 0 for an empty tensor.
  double bits_per_parameter() const noexcept {
    return size() == 0 ? 0.0 : 8.0 * static_cast<double>(bytes()) / static_cast<double>(size());
  }

  // ---- elements (row-major index i) --------------------------------------------------------
  std::size_t group_of(std::size_t i) const noexcept { return geo_.group_of_flat(i); }
  std::uint8_t code_bits(std::size_t i) const noexcept {
    return info(format()).bits == 4
               ? static_cast<std::uint8_t>((codes_[i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0x0F)
               : codes_[i];
  }
  // Code i as its lowprec type: std::int8_t, std::uint8_t, int4, uint4, fp8_e4m3fn or
  // fp8_e5m2. Throws std::invalid_argument if Code is not the tensor's format.
  template <class Code>
  Code code(std::size_t i) const {
    static_assert(detail::is_code_type<Code>,
                  "quantized_tensor::code<Code>: Code must be std::int8_t, std::uint8_t, "
                  "lowprec::int4, lowprec::uint4, lowprec::fp8_e4m3fn or lowprec::fp8_e5m2");
    if (!detail::code_type_matches<Code>(format())) {
      throw std::invalid_argument(std::string("lowprec::quant::quantized_tensor::code: "
                                              "the codes are ") + to_string(format()) +
                                  ", not the requested type");
    }
    const std::uint8_t b = code_bits(i);
    if constexpr (std::is_same_v<Code, std::int8_t>) {
      return static_cast<std::int8_t>(b >= 128 ? static_cast<int>(b) - 256 : static_cast<int>(b));
    } else if constexpr (std::is_same_v<Code, std::uint8_t>) {
      return b;
    } else {
      return Code::from_bits(b);
    }
  }
  // The dequantized value of element i.
  float value(std::size_t i) const noexcept {
    const std::size_t g = group_of(i);
    return decode(code_bits(i), format(), scales_[g],
                  zero_points_.empty() ? 0 : static_cast<int>(zero_points_[g]));
  }

  // ---- dequantize --------------------------------------------------------------------------
  // size() floats in row-major order.
  void dequantize(float* out) const;
  // std::vector<float> by default; Eigen types with quant/eigen.hpp.
  template <class Out = std::vector<float>>
  Out dequantize() const {
    return dequantize_traits<Out>::make(*this);
  }

 private:
  template <class T>
  friend quantized_tensor quantize(const tensor_view<T>& x, const scheme& s);
  template <class T>
  friend quantized_tensor quantize_per_channel(const tensor_view<T>& x,
                                               const std::vector<float>& scales,
                                               const std::vector<std::int32_t>& zero_points,
                                               int axis, code_format f);
  void quantize_from(const float* x);
  void quantize_with(const float* x, const std::vector<qparams>& p);

  scheme scheme_;
  std::vector<std::size_t> shape_;
  group_geometry geo_;
  std::vector<std::uint8_t> codes_;
  std::vector<float> scales_;
  std::vector<std::uint8_t> zero_points_;
};

template <>
struct dequantize_traits<std::vector<float>> {
  static std::vector<float> make(const quantized_tensor& q) {
    std::vector<float> out(q.size());
    q.dequantize(out.data());
    return out;
  }
};

namespace detail {

// The element types quantize() reads, each converted to float exactly (double rounds to
// nearest). quant/eigen.hpp adds Eigen::half and Eigen::bfloat16.
template <class T>
struct is_quant_source
    : std::bool_constant<std::is_same_v<T, float> || std::is_same_v<T, double> ||
                         std::is_same_v<T, fp16> || std::is_same_v<T, bf16>> {};

// Checks a view and returns its element count.
template <class T>
std::size_t check_view(const tensor_view<T>& x, const char* who) {
  static_assert(is_quant_source<T>::value,
                "lowprec::quant: sources are float, double, fp16 or bf16 (and Eigen::half or "
                "Eigen::bfloat16 with lowprec/quant/eigen.hpp)");
  const std::size_t n = element_count(x.shape, who);
  if (!x.strides.empty() && x.strides.size() != x.shape.size()) {
    throw std::invalid_argument(std::string(who) + ": strides has " +
                                std::to_string(x.strides.size()) + " entries for a rank-" +
                                std::to_string(x.shape.size()) + " shape " +
                                shape_string(x.shape));
  }
  if (x.data == nullptr && n != 0) {
    throw std::invalid_argument(std::string(who) + ": data is null but shape " +
                                shape_string(x.shape) + " has " + std::to_string(n) +
                                " elements");
  }
  return n;
}

// Copies the view's elements, converted to Out, into dst[0, n) in row-major order.
template <class Out, class T>
void gather_row_major(const tensor_view<T>& x, std::size_t n, Out* dst) {
  if (n == 0) return;
  if (x.strides.empty() || x.strides == row_major_strides(x.shape)) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(x.data[i]);
    return;
  }
  // Odometer over all but the last axis; the last axis is a strided run.
  const std::size_t r = x.shape.size();
  const std::size_t last = x.shape[r - 1];
  const std::ptrdiff_t step = x.strides[r - 1];
  std::vector<std::size_t> index(r, 0);
  std::ptrdiff_t offset = 0;
  for (std::size_t out = 0; out < n; out += last) {
    const T* p = x.data + offset;
    for (std::size_t j = 0; j < last; ++j) {
      dst[out + j] = static_cast<Out>(p[static_cast<std::ptrdiff_t>(j) * step]);
    }
    for (std::size_t d = r - 1; d-- > 0;) {  // advance the outer index
      offset += x.strides[d];
      if (++index[d] < x.shape[d]) break;
      offset -= x.strides[d] * static_cast<std::ptrdiff_t>(x.shape[d]);
      index[d] = 0;
    }
  }
}

// The view's elements as floats in row-major order: the data itself when it already is
// that, else a gathered copy in `buffer`.
template <class T>
const float* row_major_floats(const tensor_view<T>& x, std::size_t n, std::vector<float>& buffer) {
  if constexpr (std::is_same_v<T, float>) {
    if (n == 0 || x.strides.empty() || x.strides == row_major_strides(x.shape)) return x.data;
  }
  buffer.resize(n);
  gather_row_major(x, n, buffer.data());
  return buffer.data();
}

// Visits every element as (row-major offset, group), in row-major order.
template <class Fn>
void for_each_grouped(const group_geometry& geo, Fn&& fn) {
  const bool blocks = geo.kind == granularity::per_block;
  std::size_t flat = 0;
  for (std::size_t o = 0; o < geo.outer; ++o) {
    for (std::size_t k = 0; k < geo.len; ++k) {
      const std::size_t g0 = geo.group_of(o, k, 0);
      for (std::size_t i = 0; i < geo.inner; ++i, ++flat) fn(flat, blocks ? g0 + i : g0);
    }
  }
}

}  // namespace detail

// ---- quantize ------------------------------------------------------------------------------

// Quantizes x under scheme s: absmax or PyTorch-observer affine parameters per group,
// then codes. Throws std::invalid_argument (nothing is returned or written) for an axis
// out of range, block size 0, strides that do not match the shape, a null pointer with
// elements, or a scheme whose format and mapping do not go together.
template <class T>
quantized_tensor quantize(const tensor_view<T>& x, const scheme& s) {
  const char* who = "lowprec::quant::quantize";
  const std::size_t n = detail::check_view(x, who);
  detail::check_scheme(s, who);  // (the constructor checks again, under its own name)
  (void)make_geometry(s.groups, x.shape, who);
  quantized_tensor q(s, x.shape);
  std::vector<float> buffer;
  q.quantize_from(detail::row_major_floats(x, n, buffer));
  return q;
}

// The same for a row-major contiguous buffer.
template <class T>
quantized_tensor quantize(const T* data, const std::vector<std::size_t>& shape, const scheme& s) {
  return quantize(tensor_view<T>{data, shape, {}}, s);
}

// torch.quantize_per_channel: affine codes under given per-channel scales and zero points
// along `axis` (uint8 or uint4). Throws for a count that does not match the axis length,
// a non-positive or non-finite scale, or a zero point outside the code range.
template <class T>
quantized_tensor quantize_per_channel(const tensor_view<T>& x, const std::vector<float>& scales,
                                      const std::vector<std::int32_t>& zero_points, int axis,
                                      code_format f) {
  const char* who = "lowprec::quant::quantize_per_channel";
  detail::check_affine_format(who, f);
  const std::size_t n = detail::check_view(x, who);
  (void)make_geometry(per_channel(axis), x.shape, who);  // axis out of range: named here
  quantized_tensor q(scheme{f, mapping::affine, per_channel(axis)}, x.shape);
  const std::size_t channels = q.geometry().groups;
  if (scales.size() != channels || zero_points.size() != channels) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(scales.size()) +
                                " scales and " + std::to_string(zero_points.size()) +
                                " zero points for axis " + std::to_string(axis) + " of shape " +
                                shape_string(x.shape) + ", which has " +
                                std::to_string(channels) + " channels");
  }
  std::vector<qparams> p(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    p[c] = {scales[c], zero_points[c]};
    detail::check_qparams(who, p[c], f, c, true);
  }
  std::vector<float> buffer;
  q.quantize_with(detail::row_major_floats(x, n, buffer), p);
  return q;
}

// torch.quantize_per_tensor: affine codes under a given scale and zero point.
template <class T>
quantized_tensor quantize_per_tensor(const tensor_view<T>& x, float scale,
                                     std::int32_t zero_point, code_format f) {
  const char* who = "lowprec::quant::quantize_per_tensor";
  detail::check_affine_format(who, f);
  detail::check_qparams(who, qparams{scale, zero_point}, f, 0, false);
  const std::size_t n = detail::check_view(x, who);
  std::vector<float> buffer;
  const float* xf = detail::row_major_floats(x, n, buffer);
  std::vector<std::uint8_t> codes(code_bytes(f, n));
  quantize_affine(xf, n, qparams{scale, zero_point}, f, codes.data());
  return quantized_tensor(scheme{f, mapping::affine, per_tensor()}, x.shape, std::move(codes),
                          {scale}, {static_cast<std::uint8_t>(zero_point)});
}

// Metrics of the dequantized q against the reference it came from (row-major, q.size()
// elements).
template <class R>
error_metrics measure_error(const quantized_tensor& q, const R* reference) {
  const std::vector<float> y = q.dequantize();
  return measure_error(reference, y.data(), y.size());
}

// ---- implementation ------------------------------------------------------------------------

inline void quantized_tensor::quantize_from(const float* x) {
  const group_geometry& g = geo_;
  const code_format f = format();
  const bool affine_map = scheme_.map == mapping::affine;
  const bool packed = info(f).bits == 4;
  const auto run = [&](const float* src, std::size_t n, std::size_t block, std::uint8_t* codes,
                       std::size_t group0) {
    if (affine_map) {
      quantize_affine_blocks(src, n, block, f, codes, scales_.data() + group0,
                             zero_points_.data() + group0);
    } else {
      quantize_absmax_blocks(src, n, block, f, codes, scales_.data() + group0);
    }
  };
  if (g.count == 0) return;  // the constructor's zero scales (or eps) stand
  // Groups that are contiguous runs go through the 1-D block kernels.
  if (g.kind == granularity::per_tensor) return run(x, g.count, g.count, codes_.data(), 0);
  if (g.kind == granularity::per_channel && g.outer == 1) {
    return run(x, g.count, g.inner, codes_.data(), 0);
  }
  if (g.kind == granularity::per_block && g.inner == 1 && (!packed || g.len % 2 == 0)) {
    for (std::size_t o = 0; o < g.outer; ++o) {
      run(x + o * g.len, g.len, g.block, codes_.data() + ::lowprec::quant::code_bytes(f, o * g.len),
          o * g.blocks_per_line);
    }
    return;
  }
  // Anything else: statistics per group, then parameters, then codes.
  std::vector<qparams> p(g.groups);
  if (affine_map) {
    std::vector<float> lo(g.groups, FLT_MAX), hi(g.groups, -FLT_MAX);
    detail::for_each_grouped(g, [&](std::size_t i, std::size_t grp) {
      const float v = x[i];
      if (v >= -FLT_MAX && v <= FLT_MAX) {
        lo[grp] = v < lo[grp] ? v : lo[grp];
        hi[grp] = v > hi[grp] ? v : hi[grp];
      }
    });
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      const bool any = lo[grp] <= hi[grp];
      p[grp] = affine_qparams(any ? lo[grp] : 0.0f, any ? hi[grp] : 0.0f, f);
    }
  } else {
    std::vector<float> amax(g.groups, 0.0f);
    detail::for_each_grouped(g, [&](std::size_t i, std::size_t grp) {
      const float a = std::fabs(x[i]);
      if (a <= FLT_MAX && a > amax[grp]) amax[grp] = a;
    });
    for (std::size_t grp = 0; grp < g.groups; ++grp) p[grp].scale = absmax_scale(amax[grp], f);
  }
  quantize_with(x, p);
}

inline void quantized_tensor::quantize_with(const float* x, const std::vector<qparams>& p) {
  std::vector<float> inv(p.size());
  for (std::size_t grp = 0; grp < p.size(); ++grp) {
    scales_[grp] = p[grp].scale;
    if (!zero_points_.empty()) zero_points_[grp] = static_cast<std::uint8_t>(p[grp].zero_point);
    inv[grp] = inverse_scale(p[grp].scale);
  }
  visit_format(format(), [&](auto tag) {
    constexpr code_format F = decltype(tag)::value;
    std::uint8_t* codes = codes_.data();
    detail::for_each_grouped(geo_, [&](std::size_t i, std::size_t grp) {
      if constexpr (F == code_format::uint8 || F == code_format::uint4) {
        detail::put_code<F>(codes, i, encode_affine<F>(x[i], inv[grp], p[grp].zero_point));
      } else {
        detail::put_code<F>(codes, i, encode_absmax<F>(x[i], inv[grp]));
      }
    });
  });
}

inline void quantized_tensor::dequantize(float* out) const {
  const group_geometry& g = geo_;
  if (g.count == 0) return;
  const code_format f = format();
  const bool affine_map = scheme_.map == mapping::affine;
  const bool packed = info(f).bits == 4;
  const auto run = [&](std::size_t first, std::size_t n, std::size_t block, std::size_t group0) {
    const std::uint8_t* codes = codes_.data() + ::lowprec::quant::code_bytes(f, first);
    if (affine_map) {
      dequantize_affine_blocks(codes, scales_.data() + group0, zero_points_.data() + group0, n,
                               block, f, out + first);
    } else {
      dequantize_absmax_blocks(codes, scales_.data() + group0, n, block, f, out + first);
    }
  };
  if (g.kind == granularity::per_tensor) return run(0, g.count, g.count, 0);
  if (g.kind == granularity::per_channel && g.outer == 1) return run(0, g.count, g.inner, 0);
  if (g.kind == granularity::per_block && g.inner == 1 && (!packed || g.len % 2 == 0)) {
    for (std::size_t o = 0; o < g.outer; ++o) run(o * g.len, g.len, g.block, o * g.blocks_per_line);
    return;
  }
  visit_format(f, [&](auto tag) {
    constexpr code_format F = decltype(tag)::value;
    const std::uint8_t* codes = codes_.data();
    detail::for_each_grouped(g, [&](std::size_t i, std::size_t grp) {
      if constexpr (F == code_format::uint8 || F == code_format::uint4) {
        out[i] = decode_affine(detail::get_code<F>(codes, i), scales_[grp], zero_points_[grp]);
      } else {
        out[i] = decode_absmax<F>(detail::get_code<F>(codes, i), scales_[grp]);
      }
    });
  });
}

}  // namespace lowprec::quant
