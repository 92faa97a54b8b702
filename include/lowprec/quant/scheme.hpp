// What a quantization scheme is: the code format, how a scale maps codes to values, and
// which elements share a scale. Every other quant/ header is written in these terms.
//
//   code format   bits  codes            mapping       value of code q     scale from
//   int8          8     -127..127        absmax        q * scale           absmax / 127
//   int4          4     -7..7            absmax        q * scale           absmax / 7
//   fp8_e4m3fn    8     fp8, |v| <= 448  absmax        fp8(q) * scale      absmax / 448
//   fp8_e5m2      8     fp8, |v| <= 57344 absmax       fp8(q) * scale      absmax / 57344
//   uint8         8     0..255           affine        (q - zp) * scale    PyTorch observer
//   uint4         4     0..15            affine        (q - zp) * scale    PyTorch observer
//
// Granularity (who shares one scale), for a tensor of shape [d0, ..., d(r-1)] read in
// row-major order (the last index varies fastest), whatever its storage order:
//   per_tensor        one scale
//   per_channel(a)    one scale per index along axis a (d_a scales); per_row() is axis 0
//                     and per_column() axis 1 of a matrix
//   per_block(B, a)   each line along axis a is cut into blocks of B consecutive elements;
//                     the last block of a line is shorter when B does not divide d_a.
//                     The scales form a tensor of the input's shape with d_a replaced by
//                     ceil(d_a / B), in row-major order. Axis -1 (the default) is the
//                     last, contiguous axis: the layout of ggml and of bitsandbytes on a
//                     1-D view. To block a flattened tensor, quantize a 1-D view of it.
// Axes may be negative and count from the end, as in NumPy and PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowprec::quant {

enum class code_format : std::uint8_t { int8, uint8, int4, uint4, fp8_e4m3fn, fp8_e5m2 };
enum class mapping : std::uint8_t { absmax, affine };
enum class granularity : std::uint8_t { per_tensor, per_channel, per_block };

// The constants of a code format. qmin/qmax bound the codes a quantizer writes (for fp8,
// the largest finite magnitude); max_value is the magnitude absmax maps to.
struct format_info {
  const char* name;
  int bits;       // 8 or 4: two 4-bit codes share a byte (packed.hpp, native order)
  bool is_float;  // fp8: codes are small floats
  int qmin, qmax;
  float max_value;
};

constexpr format_info info(code_format f) noexcept {
  switch (f) {
    case code_format::int8: return {"int8", 8, false, -127, 127, 127.0f};
    case code_format::uint8: return {"uint8", 8, false, 0, 255, 255.0f};
    case code_format::int4: return {"int4", 4, false, -7, 7, 7.0f};
    case code_format::uint4: return {"uint4", 4, false, 0, 15, 15.0f};
    case code_format::fp8_e4m3fn: return {"fp8_e4m3fn", 8, true, -448, 448, 448.0f};
    case code_format::fp8_e5m2: return {"fp8_e5m2", 8, true, -57344, 57344, 57344.0f};
  }
  return {"unknown", 8, false, 0, 0, 0.0f};
}
constexpr const char* to_string(code_format f) noexcept { return info(f).name; }
constexpr const char* to_string(mapping m) noexcept {
  return m == mapping::absmax ? "absmax" : "affine";
}
constexpr const char* to_string(granularity g) noexcept {
  switch (g) {
    case granularity::per_tensor: return "per_tensor";
    case granularity::per_channel: return "per_channel";
    case granularity::per_block: return "per_block";
  }
  return "unknown";
}

// Which elements share a scale (see the top of this file).
struct grouping {
  granularity kind = granularity::per_tensor;
  int axis = 0;                 // per_channel: the channel axis; per_block: the blocked axis
  std::size_t block_size = 0;   // per_block only
};
constexpr grouping per_tensor() noexcept { return {granularity::per_tensor, 0, 0}; }
constexpr grouping per_channel(int axis) noexcept { return {granularity::per_channel, axis, 0}; }
constexpr grouping per_row() noexcept { return per_channel(0); }
constexpr grouping per_column() noexcept { return per_channel(1); }
constexpr grouping per_block(std::size_t block_size, int axis = -1) noexcept {
  return {granularity::per_block, axis, block_size};
}

struct scheme {
  code_format format = code_format::int8;
  mapping map = mapping::absmax;
  grouping groups = per_tensor();
};

// Symmetric absmax: int8, int4, fp8_e4m3fn or fp8_e5m2.
inline scheme absmax(code_format f, grouping g = per_tensor()) {
  if (f == code_format::uint8 || f == code_format::uint4) {
    throw std::invalid_argument(std::string("lowprec::quant::absmax: format ") + to_string(f) +
                                " is unsigned; absmax needs int8, int4, fp8_e4m3fn or fp8_e5m2"
                                " (use affine for uint8/uint4)");
  }
  return {f, mapping::absmax, g};
}
// Asymmetric min/max with a zero point: uint8 or uint4.
inline scheme affine(code_format f, grouping g = per_tensor()) {
  if (f != code_format::uint8 && f != code_format::uint4) {
    throw std::invalid_argument(std::string("lowprec::quant::affine: format ") + to_string(f) +
                                " is not unsigned; affine needs uint8 or uint4");
  }
  return {f, mapping::affine, g};
}

// "[2, 3, 4]", for messages.
inline std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Product of the dimensions; throws when it does not fit in size_t.
inline std::size_t element_count(const std::vector<std::size_t>& shape, const char* who) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) {
      throw std::invalid_argument(std::string(who) + ": shape " + shape_string(shape) +
                                  " has more elements than size_t can count");
    }
    n *= d;
  }
  return n;
}

// Axis `axis` of a rank-`rank` tensor as 0..rank-1, or an exception naming both.
inline std::size_t resolve_axis(int axis, std::size_t rank, const std::vector<std::size_t>& shape,
                                const char* who) {
  const long long r = static_cast<long long>(rank);
  const long long a = axis < 0 ? axis + r : axis;
  if (rank == 0 || a < 0 || a >= r) {
    throw std::invalid_argument(std::string(who) + ": axis " + std::to_string(axis) +
                                " is out of range for a rank-" + std::to_string(rank) +
                                " tensor (shape " + shape_string(shape) + ")" +
                                (rank == 0 ? std::string("; a scalar has no axes")
                                           : "; valid axes are " + std::to_string(-r) + ".." +
                                                 std::to_string(r - 1)));
  }
  return static_cast<std::size_t>(a);
}

// How a shape splits into scale groups. The tensor is viewed as [outer, len, inner]
// around the axis (per_tensor: outer = inner = 1, len = all elements), so element
// (o, k, i) sits at row-major offset (o * len + k) * inner + i, and belongs to group
//   per_tensor   0
//   per_channel  k
//   per_block    (o * blocks_per_line + k / block) * inner + i
struct group_geometry {
  granularity kind = granularity::per_tensor;
  std::size_t count = 0;  // elements
  std::size_t outer = 1, len = 0, inner = 1;
  std::size_t block = 0;            // per_block: B; per_channel: 0
  std::size_t blocks_per_line = 0;  // per_block: ceil(len / B)
  std::size_t groups = 0;           // number of scales
  std::vector<std::size_t> scale_shape;

  std::size_t group_of(std::size_t o, std::size_t k, std::size_t i) const noexcept {
    switch (kind) {
      case granularity::per_tensor: return 0;
      case granularity::per_channel: return k;
      case granularity::per_block: return (o * blocks_per_line + k / block) * inner + i;
    }
    return 0;
  }
  // The scale group of the element at row-major offset `flat` (not for hot loops).
  std::size_t group_of_flat(std::size_t flat) const noexcept {
    const std::size_t i = flat % inner;
    const std::size_t k = (flat / inner) % len;
    const std::size_t o = flat / inner / len;
    return group_of(o, k, i);
  }
};

// Checks `g` against `shape` and returns the geometry; throws std::invalid_argument
// naming the argument and the values (axis out of range, block size 0, too many elements).
inline group_geometry make_geometry(const grouping& g, const std::vector<std::size_t>& shape,
                                    const char* who) {
  group_geometry geo;
  geo.kind = g.kind;
  geo.count = element_count(shape, who);
  if (g.kind == granularity::per_tensor) {
    geo.len = geo.count;
    geo.groups = 1;
    return geo;  // scale_shape {}: a single scale
  }
  const std::size_t a = resolve_axis(g.axis, shape.size(), shape, who);
  if (g.kind == granularity::per_block && g.block_size == 0) {
    throw std::invalid_argument(std::string(who) + ": block_size is 0; a block needs at "
                                "least one element");
  }
  for (std::size_t d = 0; d < a; ++d) geo.outer *= shape[d];
  geo.len = shape[a];
  for (std::size_t d = a + 1; d < shape.size(); ++d) geo.inner *= shape[d];
  if (g.kind == granularity::per_channel) {
    geo.groups = geo.len;
    geo.scale_shape = {geo.len};
  } else {
    geo.block = g.block_size;
    geo.blocks_per_line = geo.len / g.block_size + (geo.len % g.block_size != 0 ? 1 : 0);
    geo.groups = geo.outer * geo.blocks_per_line * geo.inner;
    geo.scale_shape = shape;
    geo.scale_shape[a] = geo.blocks_per_line;
  }
  return geo;
}

}  // namespace lowprec::quant
