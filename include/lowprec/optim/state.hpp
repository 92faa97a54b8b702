// Adam's state containers: how m, v (and AMSGrad's vmax) of one tensor are stored, what
// they cost, and the views through which the optimizer reads parameters and gradients.
//
//   state type   bytes / element              layout of one moment of n elements
//   fp32_state   4 per moment                 float[n]
//   bf16_state   2 per moment                 bf16 bits[n]; nearest-even or stochastic store
//   q8_state     1 + 4/256 per moment         uint8 codes[n] + float absmax[ceil(n/256)];
//                                             m: dynamic_signed8, v/vmax: dynamic_unsigned8
//   q4_state     0.5 + 4/128 per moment       packed codes[ceil(n/2)] (element 2k in the low
//                                             nibble) + float absmax[ceil(n/128)];
//                                             m: dynamic_signed4, v/vmax: linear_unsigned4
// q8/q4 keep fp32 moments for tensors below storage_options::min_quantized_size elements
// (4096, as bitsandbytes and torchao): their scales would cost more than they save, and
// small tensors (biases, norms) are the most sensitive. Maps: quant/dynamic_map.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/optim/update.hpp"
#include "lowprec/quant/dynamic_map.hpp"

namespace lowprec::optim {

// The state types: pick one as the optimizer's template argument.
struct fp32_state {
  static constexpr state_format format = state_format::fp32;
  static constexpr std::size_t block = 0;
};
struct bf16_state {
  static constexpr state_format format = state_format::bf16;
  static constexpr std::size_t block = 0;
};
struct q8_state {  // bitsandbytes' blockwise 8-bit dynamic quantization
  static constexpr state_format format = state_format::q8;
  static constexpr std::size_t block = 256;
};
struct q4_state {  // torchao's 4-bit optimizer states
  static constexpr state_format format = state_format::q4;
  static constexpr std::size_t block = 128;
};

constexpr std::size_t block_of(state_format f) noexcept {
  return f == state_format::q8 ? q8_state::block : f == state_format::q4 ? q4_state::block : 0;
}

// ---- parameters and gradients ------------------------------------------------------------

// Element types of parameters and gradients.
enum class dtype : std::uint8_t { fp32 = 0, bf16 = 1, fp16 = 2 };

constexpr const char* to_string(dtype t) noexcept {
  switch (t) {
    case dtype::fp32:
      return "fp32";
    case dtype::bf16:
      return "bf16";
    case dtype::fp16:
      return "fp16";
  }
  return "unknown";
}
constexpr std::size_t size_of(dtype t) noexcept { return t == dtype::fp32 ? 4 : 2; }

template <class T>
struct dtype_of {
  static_assert(!std::is_same_v<T, T>,
                "lowprec::optim: parameters and gradients must be float, lowprec::bf16 or "
                "lowprec::fp16 (for Eigen::bfloat16 / Eigen::half buffers use "
                "lowprec::view_as_lowprec from lowprec/eigen.hpp)");
};
template <>
struct dtype_of<float> {
  static constexpr dtype value = dtype::fp32;
};
template <>
struct dtype_of<bf16> {
  static constexpr dtype value = dtype::bf16;
};
template <>
struct dtype_of<fp16> {
  static constexpr dtype value = dtype::fp16;
};

using shape_t = std::vector<std::size_t>;

inline std::string shape_string(const shape_t& s) {
  std::string r = "[";
  for (std::size_t k = 0; k < s.size(); ++k) r += (k ? ", " : "") + std::to_string(s[k]);
  return r + "]";
}

// Storage order of a tensor's elements in memory. Tensors with at most one dimension
// above 1 are row_major whatever their container says (the orders coincide).
enum class layout : std::uint8_t { row_major = 0, col_major = 1 };

// A contiguous tensor the optimizer reads or updates in place (not owned). shape is the
// logical shape; element i of the buffer is the i-th in `order`.
struct tensor_ref {
  void* data = nullptr;
  dtype type = dtype::fp32;
  shape_t shape;
  layout order = layout::row_major;

  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (const std::size_t d : shape) n *= d;
    return n;
  }
};

inline layout normalized(const shape_t& shape, layout order) noexcept {
  std::size_t big = 0;
  for (const std::size_t d : shape) big += d > 1 ? 1 : 0;
  return big <= 1 ? layout::row_major : order;
}

// Raw buffers (const for gradients). Element i is data[i].
template <class T>
tensor_ref view(T* data, shape_t shape, layout order = layout::row_major) {
  using E = std::remove_const_t<T>;
  tensor_ref r;
  r.data = const_cast<E*>(data);
  r.type = dtype_of<E>::value;
  r.order = normalized(shape, order);
  r.shape = std::move(shape);
  return r;
}

// How a container becomes a tensor_ref: contiguous ranges (std::vector, std::array,
// spans: data() and size()) here; Eigen objects in optim/eigen.hpp.
template <class W, class = void>
struct view_traits {
  static_assert(!std::is_same_v<W, W>,
                "lowprec::optim: no view for this type. Pass raw pointers with a shape, a "
                "contiguous range (std::vector, std::array), or include lowprec/optim/eigen.hpp "
                "for Eigen matrices, maps and tensors");
};

namespace detail {

template <class W, class = void>
struct is_plain_range : std::false_type {};
template <class W>
struct is_plain_range<
    W, std::void_t<decltype(std::declval<W&>().data()), decltype(std::declval<W&>().size())>>
    : std::is_pointer<decltype(std::declval<W&>().data())> {};
template <class W, class = void>
struct has_strides : std::false_type {};
template <class W>
struct has_strides<W, std::void_t<decltype(std::declval<const W&>().innerStride())>>
    : std::true_type {};
template <class W, class = void>
struct has_dimensions : std::false_type {};
template <class W>
struct has_dimensions<W, std::void_t<decltype(std::declval<const W&>().dimensions())>>
    : std::true_type {};
// Eigen matrices and tensors have data() and size() too, but may be strided or
// column-major: optim/eigen.hpp views them.
template <class W>
struct has_strides_or_dims
    : std::integral_constant<bool, has_strides<W>::value || has_dimensions<W>::value> {};
}  // namespace detail

template <class W>
struct view_traits<W, std::enable_if_t<detail::is_plain_range<W>::value &&
                                       !detail::has_strides_or_dims<W>::value>> {
  template <class V>
  static tensor_ref get(V& w) {
    return view(w.data(), shape_t{static_cast<std::size_t>(w.size())});
  }
};

// ---- moments ------------------------------------------------------------------------------

namespace detail {

// The maps of the quantized formats and their SIMD encoders, built once.
struct quant_maps {
  quant::bucket_encoder s8, u8, s4, u4;
  map_ref s8_ref, u8_ref, s4_ref, u4_ref;
  quant_maps()
      : s8(quant::dynamic_signed8().make_bucket_encoder()),
        u8(quant::dynamic_unsigned8().make_bucket_encoder()),
        s4(quant::dynamic_signed4().make_bucket_encoder()),
        u4(quant::linear_unsigned4().make_bucket_encoder()),
        s8_ref(make_map_ref(quant::dynamic_signed8(), s8)),
        u8_ref(make_map_ref(quant::dynamic_unsigned8(), u8)),
        s4_ref(make_map_ref(quant::dynamic_signed4(), s4)),
        u4_ref(make_map_ref(quant::linear_unsigned4(), u4)) {}
};

inline const quant_maps& maps() {
  static const quant_maps m;
  return m;
}

}  // namespace detail

// Which moment a buffer holds (the signed map is for m, the unsigned one for v, vmax).
enum class moment : std::uint8_t { m = 0, v = 1, vmax = 2 };

// One moment of one tensor in its storage format.
class moment_buffer {
 public:
  moment_buffer() = default;
  // n zeros of `format` (for q8/q4, the code of 0 with absmax 0).
  moment_buffer(state_format format, moment which, std::size_t n)
      : format_(format), which_(which), n_(n) {
    switch (format) {
      case state_format::fp32:
        f32_.assign(n, 0.0f);
        break;
      case state_format::bf16:
        u16_.assign(n, 0);
        break;
      case state_format::q8:
      case state_format::q4: {
        const std::size_t block = block_of(format);
        absmax_.assign((n + block - 1) / block, 0.0f);
        const std::uint8_t zero = zero_code();
        if (format == state_format::q8) {
          codes_.assign(n, zero);
        } else {
          codes_.assign((n + 1) / 2, static_cast<std::uint8_t>(zero | zero << 4));
          if (n % 2 == 1) codes_.back() = zero;  // the unused high nibble stays 0
        }
        break;
      }
    }
  }

  // From raw storage (checkpoints): sizes must match n and the format.
  moment_buffer(state_format format, moment which, std::size_t n, std::vector<float> f32,
                std::vector<std::uint16_t> u16, std::vector<std::uint8_t> codes,
                std::vector<float> absmax)
      : format_(format),
        which_(which),
        n_(n),
        f32_(std::move(f32)),
        u16_(std::move(u16)),
        codes_(std::move(codes)),
        absmax_(std::move(absmax)) {}

  state_format format() const noexcept { return format_; }
  moment which() const noexcept { return which_; }
  std::size_t size() const noexcept { return n_; }
  // Bytes held: data plus block scales.
  std::size_t bytes() const noexcept {
    return f32_.size() * 4 + u16_.size() * 2 + codes_.size() + absmax_.size() * 4;
  }

  // Element i as a float (decoded).
  float value(std::size_t i) const noexcept {
    switch (format_) {
      case state_format::fp32:
        return f32_[i];
      case state_format::bf16:
        return bf16::from_bits(u16_[i]);
      case state_format::q8:
      case state_format::q4: {
        const bool packed = format_ == state_format::q4;
        const detail::map_ref& map = this->map();
        return map.values[detail::load_code(codes_.data(), i, packed)] *
               absmax_[i / block_of(format_)];
      }
    }
    return 0.0f;
  }
  std::vector<float> to_float() const {
    std::vector<float> r(n_);
    for (std::size_t i = 0; i < n_; ++i) r[i] = value(i);
    return r;
  }

  // Raw storage (checkpoints, kernels, tests).
  std::vector<float>& f32() noexcept { return f32_; }
  std::vector<std::uint16_t>& u16() noexcept { return u16_; }
  std::vector<std::uint8_t>& codes() noexcept { return codes_; }
  std::vector<float>& absmax() noexcept { return absmax_; }
  const std::vector<float>& f32() const noexcept { return f32_; }
  const std::vector<std::uint16_t>& u16() const noexcept { return u16_; }
  const std::vector<std::uint8_t>& codes() const noexcept { return codes_; }
  const std::vector<float>& absmax() const noexcept { return absmax_; }

  // The code map of a quantized buffer.
  const detail::map_ref& map() const noexcept { return map_for(format_, which_); }
  static const detail::map_ref& map_for(state_format f, moment which) noexcept {
    const detail::quant_maps& q = detail::maps();
    const bool is_m = which == moment::m;
    if (f == state_format::q4) return is_m ? q.s4_ref : q.u4_ref;
    return is_m ? q.s8_ref : q.u8_ref;
  }

  // Pointer to element `offset` (a multiple of the block for q8/q4) for the kernels.
  void* data_at(std::size_t offset) noexcept {
    switch (format_) {
      case state_format::fp32:
        return f32_.data() + offset;
      case state_format::bf16:
        return u16_.data() + offset;
      case state_format::q8:
        return codes_.data() + offset;
      case state_format::q4:
        return codes_.data() + offset / 2;
    }
    return nullptr;
  }
  float* absmax_at(std::size_t offset) noexcept {
    return absmax_.empty() ? nullptr : absmax_.data() + offset / block_of(format_);
  }

  // Equal storage, bit for bit (so +0 and -0 differ, and a NaN equals the same NaN).
  friend bool operator==(const moment_buffer& a, const moment_buffer& b) noexcept {
    return a.format_ == b.format_ && a.which_ == b.which_ && a.n_ == b.n_ &&
           same_bits(a.f32_, b.f32_) && same_bits(a.u16_, b.u16_) &&
           same_bits(a.codes_, b.codes_) && same_bits(a.absmax_, b.absmax_);
  }
  friend bool operator!=(const moment_buffer& a, const moment_buffer& b) noexcept {
    return !(a == b);
  }

 private:
  template <class T>
  static bool same_bits(const std::vector<T>& a, const std::vector<T>& b) noexcept {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
  }

  std::uint8_t zero_code() const noexcept {
    // the code of 0 (q4's unsigned map has no 0: its smallest entry, times absmax 0)
    return detail::encode_reference(map_for(format_, which_), 0.0f);
  }

  state_format format_ = state_format::fp32;
  moment which_ = moment::m;
  std::size_t n_ = 0;
  std::vector<float> f32_;
  std::vector<std::uint16_t> u16_;
  std::vector<std::uint8_t> codes_;
  std::vector<float> absmax_;
};

// Everything the optimizer keeps for one parameter tensor.
struct param_state {
  tensor_ref param;  // bound by add(); not owned
  tensor_ref grad;
  std::uint64_t step = 0;  // updates applied to this tensor (PyTorch's state["step"])
  state_format format = state_format::fp32;  // fp32 for q8/q4 tensors below the threshold
  moment_buffer m, v, vmax;                  // vmax: AMSGrad only (else empty)
  std::vector<float> master;                 // fp32 master weights, 16-bit params only

  std::size_t size() const noexcept { return param.size(); }
  // Bytes of the optimizer state: moments (with scales) and master weights.
  std::size_t state_bytes() const noexcept { return m.bytes() + v.bytes() + vmax.bytes(); }
  std::size_t master_bytes() const noexcept { return master.size() * 4; }
  std::size_t bytes() const noexcept { return state_bytes() + master_bytes(); }
};

}  // namespace lowprec::optim
