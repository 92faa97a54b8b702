// N:M semi-structured sparsity: in every group of M consecutive weights along one axis,
// exactly N are kept (2:4 is what sparse tensor cores accelerate). Masks by magnitude,
// a compressed format, decompression, and a matrix x vector product on the compressed form.
//
// nm_compressed<T>: a tensor of shape [d0, .., d(r-1)] pruned N:M along axis a (d_a a multiple
// of M, 1 <= N < M <= 256)
//   lines     the d_a elements with all other indices fixed, numbered in row-major order of
//             the other axes (a matrix along axis 1: line i = row i; along axis 0: column j);
//             each has G = d_a / M groups of M consecutive elements
//   values    lines x G x N elements of T: values[(line * G + g) * N + k] is the k-th stored
//             element of group g, positions increasing with k
//   indices   b = ceil(log2 M) bits per stored element (2 for 2:4, 3 for 4:8, 1 for 1:2): its
//             position 0..M-1 in the group. Each line's indices form a little-endian bit
//             string: stored element j = g * N + k of the line has its position at bits
//             [j*b, j*b + b), bit t in byte t / 8 at bit t % 8; a line takes ceil(G*N*b / 8)
//             bytes, the unused high bits of its last byte are 0. For 2:4: one byte per two
//             groups, group 2q in the low nibble (first position in bits 0-1) -- the nibble
//             order of packed.hpp
//   padding   a group with fewer than N survivors (a mask composed with other prunings)
//             stores zeros at its lowest pruned positions, so every group has exactly N
//             entries and the layout never depends on the data
//   size      2:4 of float: 2 values + 4 bits per 4 weights = 2.125 bytes per weight (53%);
//             of bf16/fp16: 1.125 bytes per weight (56%)
// Positions are at most 8 bits and lines start on a byte, so a line's indices are read with
// byte loads alone; the layout is the same on every CPU (it can go to disk and back).
//
// Which N survive: the N highest of (|w|, index) in each group (select.hpp): among equal
// magnitudes the higher index is kept, NaN is kept first.
//
// matvec(A, x, y) on a compressed [rows, cols] matrix: y = A x in float (double for double
// values). Along axis 1 each y[i] is defined as
//     part[j mod 16] += value_j * x[column_j]   for the row's stored j = 0, 1, ..  (each
//     product rounded before the add, no fused multiply-add), then part[j] += part[j + s]
//     for s = 8, 4, 2, 1; y[i] = part[0]
// so every SIMD target gives the bits of the scalar reference. Along axis 0 it scatters:
// y[row] += value * x[j], columns j in order, stored entries in order.
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

#include "lowprec/detail/linalg_common.hpp"
#include "lowprec/detail/simd.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "lowprec/prune/mask.hpp"
#include "lowprec/prune/select.hpp"
#include "lowprec/prune/view.hpp"

namespace lowprec::detail {
LOWPREC_SIMD_EXPORT(PruneNm24MatVec);
LOWPREC_SIMD_EXPORT(PruneNm24SelectF32);
}  // namespace lowprec::detail

namespace lowprec::prune {

struct nm_pattern {
  std::size_t n = 2;
  std::size_t m = 4;
  friend bool operator==(nm_pattern a, nm_pattern b) noexcept { return a.n == b.n && a.m == b.m; }
  friend bool operator!=(nm_pattern a, nm_pattern b) noexcept { return !(a == b); }
};

inline constexpr std::size_t kMaxGroup = 256;

template <class T>
class nm_compressed;

namespace detail {

struct nm_access;

inline std::string pattern_string(nm_pattern p) {
  return std::to_string(p.n) + ":" + std::to_string(p.m);
}

inline void require_pattern(nm_pattern p, const char* who) {
  const std::string head = std::string(who) + ": N:M pattern " + pattern_string(p);
  if (p.m == 0) throw std::invalid_argument(head + " has M = 0 (M must be at least 2)");
  if (p.n >= p.m) throw std::invalid_argument(head + " needs N < M");
  if (p.n == 0) throw std::invalid_argument(head + " has N = 0 (N must be at least 1)");
  if (p.m > kMaxGroup) {
    throw std::invalid_argument(head + " has M = " + std::to_string(p.m) + " (at most " +
                                std::to_string(kMaxGroup) + " is supported)");
  }
}

// Bits per stored position: enough for 0 .. m-1 (at least 1).
constexpr unsigned position_bits(std::size_t m) noexcept {
  unsigned b = 1;
  while ((std::size_t{1} << b) < m) ++b;
  return b;
}

struct nm_geometry {
  std::size_t axis = 0;
  std::size_t groups = 0;  // per line
  std::size_t lines = 0;
  axis_split split;        // outer x d_a x inner; line l = (l / inner, l % inner)
};

inline nm_geometry make_geometry(const shape_t& shape, nm_pattern p, int axis, const char* who) {
  require_pattern(p, who);
  nm_geometry g;
  g.axis = normalize_axis(axis, shape.size(), who);
  const std::size_t len = shape[g.axis];
  if (len % p.m != 0) {
    throw std::invalid_argument(std::string(who) + ": axis " + std::to_string(axis) +
                                " has length " + std::to_string(len) +
                                ", which is not a multiple of M = " + std::to_string(p.m) +
                                " (pattern " + pattern_string(p) + ")");
  }
  g.split = split_at(shape, g.axis);
  g.groups = len / p.m;
  g.lines = g.split.outer * g.split.inner;
  return g;
}

// Calls fn(base, step, line, first) for every line along `axis`, in line order: element t
// of the line is base[t * step] and has logical index first + t * inner.
template <class T, class Fn>
void for_each_line(const tensor_ref<T>& v, std::size_t axis, Fn&& fn) {
  if (v.size() == 0) return;
  const std::size_t r = v.rank();
  const axis_split s = split_at(v.shape, axis);
  std::vector<std::size_t> index(r, 0);
  T* p = v.data;
  const std::size_t lines = s.outer * s.inner;
  for (std::size_t l = 0; l < lines; ++l) {
    fn(p, v.strides[axis], l, (l / s.inner) * s.channels * s.inner + l % s.inner);
    for (std::size_t d = r; d-- > 0;) {  // odometer over the other axes, last fastest
      if (d == axis) continue;
      p += v.strides[d];
      if (++index[d] < v.shape[d]) break;
      p -= v.strides[d] * static_cast<std::ptrdiff_t>(v.shape[d]);
      index[d] = 0;
    }
  }
}

// keep[t] = 1 for the n highest (key, t) of a group of m among the eligible (elig == null:
// all); fewer when fewer are eligible.
template <class K>
void select_group(const K* key, const std::uint8_t* elig, std::size_t n, std::size_t m,
                  std::uint8_t* keep) {
  if (m <= 16) {
    for (std::size_t t = 0; t < m; ++t) {
      if (elig != nullptr && elig[t] == 0) {
        keep[t] = 0;
        continue;
      }
      std::size_t above = 0;
      for (std::size_t u = 0; u < m; ++u) {
        const bool counts = u != t && (elig == nullptr || elig[u] != 0);
        above += static_cast<std::size_t>(counts && (key[u] > key[t] || (key[u] == key[t] && u > t)));
      }
      keep[t] = static_cast<std::uint8_t>(above < n);
    }
    return;
  }
  candidate<K> c[kMaxGroup];
  std::size_t e = 0;
  for (std::size_t t = 0; t < m; ++t) {
    keep[t] = 0;
    if (elig == nullptr || elig[t] != 0) c[e++] = {key[t], t};
  }
  if (e > n) {
    std::nth_element(c, c + n, c + e, [](const candidate<K>& a, const candidate<K>& b) {
      return a.key > b.key || (a.key == b.key && a.pos > b.pos);
    });
    e = n;
  }
  for (std::size_t i = 0; i < e; ++i) keep[c[i].pos] = 1;
}

using ::lowprec::detail::kNm24Pairs;  // 4-bit keep pattern -> index nibble (prune-inl.hpp)

// 2:4 on a contiguous line: the two highest of (key, t) in each group of four. For u > v,
// u outranks v iff key[u] >= key[v]; a rank is the number of group members above it.
template <class T>
struct nm24 {
  using K = typename native_key<T>::type;
  // Returns the 4-bit keep pattern of the group at w.
  static unsigned pattern(const T* w) noexcept {
    const K k0 = native_key<T>::of(w[0]), k1 = native_key<T>::of(w[1]);
    const K k2 = native_key<T>::of(w[2]), k3 = native_key<T>::of(w[3]);
    const unsigned c01 = k1 >= k0, c02 = k2 >= k0, c03 = k3 >= k0;  // cUV: V outranks U
    const unsigned c12 = k2 >= k1, c13 = k3 >= k1, c23 = k3 >= k2;
    const unsigned r0 = c01 + c02 + c03;
    const unsigned r1 = 1 - c01 + c12 + c13;
    const unsigned r2 = 2 - c02 - c12 + c23;
    const unsigned r3 = 3 - c03 - c13 - c23;
    return static_cast<unsigned>(r0 < 2) | static_cast<unsigned>(r1 < 2) << 1 |
           static_cast<unsigned>(r2 < 2) << 2 | static_cast<unsigned>(r3 < 2) << 3;
  }
};

// 2:4 compression of a kept pattern with at most two bits (from a mask): the two stored
// positions (first in bits 0-1) after padding with the lowest pruned positions, and which
// of the two hold real values (bit 0: first, bit 1: second); more than two bits: invalid.
struct pad24_entry {
  std::uint8_t nibble;
  std::uint8_t real;
  bool valid;
};
constexpr pad24_entry make_pad24(unsigned q) noexcept {
  unsigned count = 0;
  for (unsigned t = 0; t < 4; ++t) count += (q >> t) & 1u;
  if (count > 2) return {0, 0, false};
  unsigned pad = 2 - count, found = 0, nib = 0, real = 0;
  for (unsigned t = 0; t < 4 && found < 2; ++t) {
    const bool kept = ((q >> t) & 1u) != 0;
    if (!kept && pad == 0) continue;
    if (!kept) --pad;
    nib |= t << (2 * found);
    real |= static_cast<unsigned>(kept) << found;
    ++found;
  }
  return {static_cast<std::uint8_t>(nib), static_cast<std::uint8_t>(real), true};
}
struct pad24_table {
  pad24_entry e[16];
};
constexpr pad24_table make_pad24_table() noexcept {
  pad24_table t{};
  for (unsigned q = 0; q < 16; ++q) t.e[q] = make_pad24(q);
  return t;
}
inline constexpr pad24_table kPad24 = make_pad24_table();

// Appends b-bit fields to a byte string, low bits first.
class bit_writer {
 public:
  explicit bit_writer(std::uint8_t* out) noexcept : out_(out) {}
  void put(std::size_t v, unsigned b) noexcept {
    acc_ |= static_cast<std::uint32_t>(v) << bits_;
    bits_ += b;
    while (bits_ >= 8) {
      *out_++ = static_cast<std::uint8_t>(acc_);
      acc_ >>= 8;
      bits_ -= 8;
    }
  }
  void flush() noexcept {
    if (bits_ > 0) *out_++ = static_cast<std::uint8_t>(acc_);
    acc_ = 0;
    bits_ = 0;
  }

 private:
  std::uint8_t* out_;
  std::uint32_t acc_ = 0;
  unsigned bits_ = 0;
};

// The b-bit field j of a line's index bytes.
inline std::size_t read_position(const std::uint8_t* line, std::size_t j, unsigned b) noexcept {
  const std::size_t bit = j * b;
  std::uint32_t w = line[bit / 8];
  if (bit % 8 + b > 8) w |= static_cast<std::uint32_t>(line[bit / 8 + 1]) << 8;
  return (w >> (bit % 8)) & ((1u << b) - 1u);
}

}  // namespace detail

// ---- The compressed format ------------------------------------------------------------------

template <class T>
class nm_compressed {
  static_assert(is_prunable_v<T>, "lowprec::prune::nm_compressed holds float, double, fp16 or bf16");

 public:
  using value_type = T;

  nm_compressed() = default;

  // From its parts, e.g. read back from disk; validated (sizes, positions strictly
  // increasing and below M, unused bits zero): throws std::invalid_argument.
  nm_compressed(shape_t shape, int axis, nm_pattern p, const std::vector<T>& values,
                const std::vector<std::uint8_t>& indices) {
    const char* who = "lowprec::prune::nm_compressed";
    init(std::move(shape), axis, p, who);
    if (values.size() != value_count() || indices.size() != index_byte_count()) {
      throw std::invalid_argument(std::string(who) + ": shape " + shape_string(shape_) + " with " +
                                  detail::pattern_string(p) + " needs " + std::to_string(value_count()) +
                                  " values and " + std::to_string(index_byte_count()) +
                                  " index bytes, got " + std::to_string(values.size()) + " and " +
                                  std::to_string(indices.size()));
    }
    for (std::size_t l = 0; l < lines_; ++l) {
      const std::uint8_t* line = indices.data() + l * line_bytes_;
      for (std::size_t g = 0; g < groups_; ++g) {
        std::size_t prev = 0;
        for (std::size_t k = 0; k < pattern_.n; ++k) {
          const std::size_t pos = detail::read_position(line, g * pattern_.n + k, bits_);
          if (pos >= pattern_.m || (k > 0 && pos <= prev)) {
            throw std::invalid_argument(std::string(who) + ": line " + std::to_string(l) + " group " +
                                        std::to_string(g) + " stores position " + std::to_string(pos) +
                                        (pos >= pattern_.m ? " (not below M = " + std::to_string(pattern_.m) + ")"
                                                           : " after " + std::to_string(prev) +
                                                                 " (positions must increase)"));
          }
          prev = pos;
        }
      }
      const std::size_t used = groups_ * pattern_.n * bits_;
      if (used % 8 != 0 && (line[used / 8] >> (used % 8)) != 0) {
        throw std::invalid_argument(std::string(who) + ": line " + std::to_string(l) +
                                    " has non-zero bits after its last position");
      }
    }
    if (!values.empty()) std::memcpy(values_.data(), values.data(), values.size() * sizeof(T));
    if (!indices.empty()) std::memcpy(index_.data(), indices.data(), indices.size());
  }

  const shape_t& shape() const noexcept { return shape_; }
  std::size_t axis() const noexcept { return axis_; }
  nm_pattern pattern() const noexcept { return pattern_; }
  std::size_t lines() const noexcept { return lines_; }
  std::size_t groups_per_line() const noexcept { return groups_; }
  std::size_t values_per_line() const noexcept { return groups_ * pattern_.n; }
  unsigned index_bits() const noexcept { return bits_; }
  std::size_t index_bytes_per_line() const noexcept { return line_bytes_; }

  const T* values() const noexcept { return values_.data(); }
  std::size_t value_count() const noexcept { return lines_ * values_per_line(); }
  const std::uint8_t* indices() const noexcept { return index_.data(); }
  std::size_t index_byte_count() const noexcept { return lines_ * line_bytes_; }
  std::size_t bytes() const noexcept { return value_count() * sizeof(T) + index_byte_count(); }

  // Position in its group (0 .. M-1) of stored element j of a line.
  std::size_t position(std::size_t line, std::size_t j) const noexcept {
    return detail::read_position(index_.data() + line * line_bytes_, j, bits_);
  }

  // Equal layout and bits (values compared as bits: a stored NaN equals itself).
  friend bool operator==(const nm_compressed& a, const nm_compressed& b) noexcept {
    if (a.shape_ != b.shape_ || a.axis_ != b.axis_ || a.pattern_ != b.pattern_) return false;
    return (a.value_count() == 0 ||
            std::memcmp(a.values_.data(), b.values_.data(), a.value_count() * sizeof(T)) == 0) &&
           (a.index_byte_count() == 0 ||
            std::memcmp(a.index_.data(), b.index_.data(), a.index_byte_count()) == 0);
  }
  friend bool operator!=(const nm_compressed& a, const nm_compressed& b) noexcept { return !(a == b); }

 private:
  friend struct detail::nm_access;

  void init(shape_t shape, int axis, nm_pattern p, const char* who) {
    const detail::nm_geometry g = detail::make_geometry(shape, p, axis, who);
    shape_ = std::move(shape);
    axis_ = g.axis;
    pattern_ = p;
    lines_ = g.lines;
    groups_ = g.groups;
    inner_ = g.split.inner;
    bits_ = detail::position_bits(p.m);
    line_bytes_ = (groups_ * p.n * bits_ + 7) / 8;
    // Storage of the right size is reused (re-compressing after every training step
    // then touches no fresh pages).
    if (values_.size() != value_count()) values_ = detail::buffer<T>(value_count());
    if (index_.size() != index_byte_count()) index_ = detail::buffer<std::uint8_t>(index_byte_count());
  }

  shape_t shape_{0};
  std::size_t axis_ = 0;
  nm_pattern pattern_{};
  std::size_t lines_ = 0;
  std::size_t groups_ = 0;
  std::size_t inner_ = 1;
  unsigned bits_ = 2;
  std::size_t line_bytes_ = 0;
  detail::buffer<T> values_;
  detail::buffer<std::uint8_t> index_;
};

namespace detail {

struct nm_access {
  template <class T>
  static void init(nm_compressed<T>& c, shape_t shape, int axis, nm_pattern p, const char* who) {
    c.init(std::move(shape), axis, p, who);
  }
  template <class T>
  static T* values(nm_compressed<T>& c) noexcept { return c.values_.data(); }
  template <class T>
  static std::uint8_t* indices(nm_compressed<T>& c) noexcept { return c.index_.data(); }
  template <class T>
  static std::size_t inner(const nm_compressed<T>& c) noexcept { return c.inner_; }
};

// The keep flags of one line: by magnitude among the eligible (elig: null = all), or
// copied from a mask (from_mask). keys/keep hold d_a entries.
template <class T>
void line_keep(const T* base, std::ptrdiff_t step, std::size_t len, nm_pattern p,
               const std::uint8_t* elig, typename native_key<T>::type* keys, std::uint8_t* keep) {
  for (std::size_t t = 0; t < len; ++t) keys[t] = native_key<T>::of(base[static_cast<std::ptrdiff_t>(t) * step]);
  for (std::size_t g = 0; g < len; g += p.m) {
    select_group(keys + g, elig != nullptr ? elig + g : nullptr, p.n, p.m, keep + g);
  }
}

// The SIMD kernels (simd/prune-inl.hpp), equal to the scalar code here by construction.
inline void select24_f32(const float* w, std::size_t len, std::uint8_t* keep, float* values,
                         std::uint8_t* idx) {
  using namespace ::lowprec::detail;  // the dispatch tables
  LOWPREC_SIMD_CALL(PruneNm24SelectF32)(w, len, keep, values, idx);
}
template <class T>
void matvec24_rows(const nm_compressed<T>& a, const float* x, float* y) {
  using namespace ::lowprec::detail;  // the dispatch tables
  const nm24_matvec_args args{matrix_format_of<T>::value, a.lines(), a.values_per_line(),
                              a.index_bytes_per_line()};
  LOWPREC_SIMD_CALL(PruneNm24MatVec)(static_cast<const void*>(a.values()), a.indices(), args, x, y);
}

template <class T>
mask nm_mask_impl(const tensor_ref<const T>& v, nm_pattern p, int axis, const mask* prior) {
  const char* who = "lowprec::prune::nm_mask";
  const nm_geometry g = make_geometry(v.shape, p, axis, who);
  if (prior != nullptr) prior->require_shape(v.shape, who);
  mask out = mask_access::uninitialized(v.shape);
  const std::size_t len = v.shape[g.axis];
  const std::size_t inner = g.split.inner;
  const bool fast24 = p.n == 2 && p.m == 4 && prior == nullptr;
  std::vector<typename native_key<T>::type> keys(len);
  std::vector<std::uint8_t> keep(len), elig(prior != nullptr ? len : 0);
  std::uint8_t* o = out.data();
  for_each_line(v, g.axis, [&](const T* base, std::ptrdiff_t step, std::size_t, std::size_t first) {
    if (fast24 && step == 1 && inner == 1) {
      std::uint8_t* row = o + first;
      if constexpr (std::is_same_v<T, float>) {
        select24_f32(base, len, row, nullptr, nullptr);
        return;
      }
      for (std::size_t t = 0; t < len; t += 4) {
        const unsigned q = nm24<T>::pattern(base + t);
        row[t] = static_cast<std::uint8_t>(q & 1u);
        row[t + 1] = static_cast<std::uint8_t>((q >> 1) & 1u);
        row[t + 2] = static_cast<std::uint8_t>((q >> 2) & 1u);
        row[t + 3] = static_cast<std::uint8_t>(q >> 3);
      }
      return;
    }
    if (prior != nullptr) {
      for (std::size_t t = 0; t < len; ++t) elig[t] = prior->data()[first + t * inner];
    }
    line_keep(base, step, len, p, prior != nullptr ? elig.data() : nullptr, keys.data(), keep.data());
    for (std::size_t t = 0; t < len; ++t) o[first + t * inner] = keep[t];
  });
  return out;
}

// Compresses by keep flags per line; flags either selected (m == null) or read from m.
template <class T>
void compress_impl(const tensor_ref<const T>& v, nm_pattern p, int axis, const mask* m,
                   const char* who, nm_compressed<T>& c) {
  make_geometry(v.shape, p, axis, who);  // validate before c is touched
  if (m != nullptr) m->require_shape(v.shape, who);
  nm_access::init(c, v.shape, axis, p, who);
  const std::size_t ax = c.axis();
  const std::size_t len = v.shape[ax];
  const std::size_t inner = nm_access::inner(c);
  const unsigned b = c.index_bits();
  const std::size_t vpl = c.values_per_line();
  const std::size_t bpl = c.index_bytes_per_line();
  T* values = nm_access::values(c);
  std::uint8_t* index = nm_access::indices(c);
  const T zero = T(0.0f);
  const bool fast24 = p.n == 2 && p.m == 4 && m == nullptr;
  std::vector<typename native_key<T>::type> keys(len);
  std::vector<std::uint8_t> keep(len);
  for_each_line(v, ax, [&](const T* base, std::ptrdiff_t step, std::size_t line, std::size_t first) {
    T* out = values + line * vpl;
    std::uint8_t* idx = index + line * bpl;
    if (fast24 && step == 1) {
      if constexpr (std::is_same_v<T, float>) {
        select24_f32(base, len, nullptr, out, idx);
        return;
      }
      std::size_t t = 0;
      for (; t + 8 <= len; t += 8, out += 4) {  // two groups, one index byte
        const unsigned q0 = nm24<T>::pattern(base + t), q1 = nm24<T>::pattern(base + t + 4);
        const unsigned n0 = kNm24Pairs.nibble[q0], n1 = kNm24Pairs.nibble[q1];
        out[0] = base[t + (n0 & 3)];
        out[1] = base[t + (n0 >> 2)];
        out[2] = base[t + 4 + (n1 & 3)];
        out[3] = base[t + 4 + (n1 >> 2)];
        *idx++ = static_cast<std::uint8_t>(n0 | n1 << 4);
      }
      if (t < len) {  // an odd group count: the last byte's high nibble stays 0
        const unsigned n0 = kNm24Pairs.nibble[nm24<T>::pattern(base + t)];
        out[0] = base[t + (n0 & 3)];
        out[1] = base[t + (n0 >> 2)];
        *idx = static_cast<std::uint8_t>(n0);
      }
      return;
    }
    if (m != nullptr && p.n == 2 && p.m == 4 && step == 1 && inner == 1) {  // 2:4 by a mask
      const std::uint8_t* k = m->data() + first;
      std::uint8_t nibbles = 0;
      for (std::size_t t = 0; t < len; t += 4, out += 2) {
        const unsigned q = static_cast<unsigned>(k[t] != 0) | static_cast<unsigned>(k[t + 1] != 0) << 1 |
                           static_cast<unsigned>(k[t + 2] != 0) << 2 | static_cast<unsigned>(k[t + 3] != 0) << 3;
        const pad24_entry e = kPad24.e[q];
        if (!e.valid) {
          throw std::invalid_argument(std::string(who) + ": the mask keeps " +
                                      std::to_string((q & 1u) + (q >> 1 & 1u) + (q >> 2 & 1u) + (q >> 3)) +
                                      " elements in group " + std::to_string(t / 4) + " of line " +
                                      std::to_string(line) + "; pattern 2:4 stores at most 2");
        }
        out[0] = (e.real & 1u) != 0 ? base[t + (e.nibble & 3u)] : zero;
        out[1] = (e.real & 2u) != 0 ? base[t + (e.nibble >> 2)] : zero;
        if ((t / 4) % 2 == 0) {
          nibbles = e.nibble;
        } else {
          *idx++ = static_cast<std::uint8_t>(nibbles | e.nibble << 4);
        }
      }
      if ((len / 4) % 2 != 0) *idx = nibbles;
      return;
    }
    if (m != nullptr) {
      for (std::size_t t = 0; t < len; ++t) keep[t] = m->data()[first + t * inner] != 0 ? 1 : 0;
    } else {
      line_keep(base, step, len, p, nullptr, keys.data(), keep.data());
    }
    bit_writer bits(idx);
    for (std::size_t g = 0; g < len; g += p.m) {
      std::size_t kept = 0;
      for (std::size_t t = 0; t < p.m; ++t) kept += keep[g + t];
      if (kept > p.n) {
        throw std::invalid_argument(std::string(who) + ": the mask keeps " + std::to_string(kept) +
                                    " elements in group " + std::to_string(g / p.m) + " of line " +
                                    std::to_string(line) + "; pattern " + pattern_string(p) +
                                    " stores at most " + std::to_string(p.n));
      }
      std::size_t pad = p.n - kept;  // zeros at the lowest pruned positions
      for (std::size_t t = 0; t < p.m; ++t) {
        if (keep[g + t] != 0) {
          *out++ = base[static_cast<std::ptrdiff_t>(g + t) * step];
        } else if (pad > 0) {
          *out++ = zero;
          --pad;
        } else {
          continue;
        }
        bits.put(t, b);
      }
    }
    bits.flush();
  });
}

// ---- matvec: the scalar definition -------------------------------------------------------

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

inline constexpr std::size_t kNmPartials = 16;

}  // namespace detail
}  // namespace lowprec::prune

// The scalar reference is compiled without floating-point contraction, like the kernels.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
namespace lowprec::prune::detail {

// y = A x along axis 1 (rows are lines), in the documented order.
template <class T>
void nm_matvec_rows_reference(const nm_compressed<T>& a, const acc_t<T>* x, acc_t<T>* y) noexcept {
  using A = acc_t<T>;
  const std::size_t n = a.pattern().n, m = a.pattern().m, vpl = a.values_per_line();
  for (std::size_t i = 0; i < a.lines(); ++i) {
    A part[kNmPartials] = {};
    const T* v = a.values() + i * vpl;
    const std::uint8_t* idx = a.indices() + i * a.index_bytes_per_line();
    for (std::size_t j = 0; j < vpl; ++j) {
      const std::size_t col = (j / n) * m + read_position(idx, j, a.index_bits());
      const A prod = static_cast<A>(v[j]) * x[col];
      part[j % kNmPartials] = part[j % kNmPartials] + prod;
    }
    for (std::size_t s = kNmPartials / 2; s >= 1; s /= 2) {
      for (std::size_t j = 0; j < s; ++j) part[j] = part[j] + part[j + s];
    }
    y[i] = part[0];
  }
}

// y = A x along axis 0 (columns are lines): scatter, columns in order.
template <class T>
void nm_matvec_cols_reference(const nm_compressed<T>& a, const acc_t<T>* x, acc_t<T>* y) noexcept {
  using A = acc_t<T>;
  const std::size_t n = a.pattern().n, m = a.pattern().m, vpl = a.values_per_line();
  for (std::size_t i = 0; i < a.shape()[0]; ++i) y[i] = A(0);
  for (std::size_t j = 0; j < a.lines(); ++j) {
    const T* v = a.values() + j * vpl;
    const std::uint8_t* idx = a.indices() + j * a.index_bytes_per_line();
    const A xj = x[j];
    for (std::size_t k = 0; k < vpl; ++k) {
      const std::size_t row = (k / n) * m + read_position(idx, k, a.index_bits());
      const A prod = static_cast<A>(v[k]) * xj;
      y[row] = y[row] + prod;
    }
  }
}

}  // namespace lowprec::prune::detail
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

namespace lowprec::prune {

// ---- Masks, compression, decompression, product ---------------------------------------------

// The N:M mask of w along `axis` (default: the last) by magnitude.
template <class W>
mask nm_mask(const W& w, nm_pattern p, int axis = -1) {
  detail::require_viewable<W>();
  return detail::nm_mask_impl(cview(w), p, axis, nullptr);
}
// Among the survivors of prior: the N largest survivors per group (all of them if fewer).
template <class W>
mask nm_mask(const W& w, nm_pattern p, int axis, const mask& prior) {
  detail::require_viewable<W>();
  return detail::nm_mask_impl(cview(w), p, axis, &prior);
}

// Selects N:M by magnitude and compresses in one pass (the same survivors as nm_mask).
template <class W>
auto nm_compress(const W& w, nm_pattern p, int axis = -1) {
  detail::require_viewable<W>();
  nm_compressed<detail::scalar_of<const W>> c;
  detail::compress_impl(cview(w), p, axis, nullptr, "lowprec::prune::nm_compress", c);
  return c;
}
// The same into `out`, reusing its storage when the sizes match.
template <class W, class T>
void nm_compress(const W& w, nm_pattern p, int axis, nm_compressed<T>& out) {
  detail::require_viewable<W>();
  static_assert(std::is_same_v<T, detail::scalar_of<const W>>,
                "lowprec::prune::nm_compress: out must hold the weights' scalar type");
  detail::compress_impl(cview(w), p, axis, nullptr, "lowprec::prune::nm_compress", out);
}
// Compresses the elements a mask keeps (at most N per group; fewer are padded with zeros).
template <class W>
auto nm_compress(const W& w, const mask& m, nm_pattern p, int axis = -1) {
  detail::require_viewable<W>();
  nm_compressed<detail::scalar_of<const W>> c;
  detail::compress_impl(cview(w), p, axis, &m, "lowprec::prune::nm_compress", c);
  return c;
}

// Writes the dense tensor (zeros where pruned) into out, a viewable of c's shape and type.
template <class T, class W>
void decompress(const nm_compressed<T>& c, W&& out) {
  detail::require_viewable<W>();
  const auto v = view(out);
  using U = typename decltype(v)::value_type;
  static_assert(std::is_same_v<U, T>, "lowprec::prune::decompress: out must hold the compressed scalar type");
  static_assert(!std::is_const_v<std::remove_pointer_t<decltype(v.data)>>,
                "lowprec::prune::decompress needs a writable output");
  if (v.shape != c.shape()) {
    throw std::invalid_argument("lowprec::prune::decompress: output shape " + shape_string(v.shape) +
                                " does not match the compressed shape " + shape_string(c.shape()));
  }
  const std::size_t n = c.pattern().n, m = c.pattern().m, vpl = c.values_per_line();
  const T zero = T(0.0f);
  detail::for_each_line(v, c.axis(), [&](T* base, std::ptrdiff_t step, std::size_t line, std::size_t) {
    const T* vals = c.values() + line * vpl;
    const std::uint8_t* idx = c.indices() + line * c.index_bytes_per_line();
    for (std::size_t g = 0; g < c.groups_per_line(); ++g) {
      T* group = base + static_cast<std::ptrdiff_t>(g * m) * step;
      for (std::size_t t = 0; t < m; ++t) group[static_cast<std::ptrdiff_t>(t) * step] = zero;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t j = g * n + k;
        group[static_cast<std::ptrdiff_t>(detail::read_position(idx, j, c.index_bits())) * step] = vals[j];
      }
    }
  });
}
// The dense tensor as a row-major std::vector.
template <class T>
std::vector<T> decompress(const nm_compressed<T>& c) {
  std::vector<T> out(element_count(c.shape()));
  decompress(c, tensor_ref<T>(out.data(), c.shape()));
  return out;
}

// y = A x for a compressed matrix A of shape [rows, cols]: x holds cols values, y rows
// (float; double for double A). y must not overlap x. Order of accumulation: see the top.
template <class T>
void matvec(const nm_compressed<T>& a, const detail::acc_t<T>* x, detail::acc_t<T>* y) {
  if (a.shape().size() != 2) {
    throw std::invalid_argument("lowprec::prune::matvec: the compressed tensor has shape " +
                                shape_string(a.shape()) + "; matvec needs a matrix (rank 2)");
  }
  if (a.axis() == 1) {
    if constexpr (!std::is_same_v<T, double>) {
      if (a.pattern() == nm_pattern{2, 4} && (std::is_same_v<T, float> || std::is_same_v<T, fp16> ||
                                              std::is_same_v<T, bf16>)) {
        detail::matvec24_rows(a, x, y);
        return;
      }
    }
    detail::nm_matvec_rows_reference(a, x, y);
  } else {
    detail::nm_matvec_cols_reference(a, x, y);
  }
}

}  // namespace lowprec::prune
