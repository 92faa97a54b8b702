// Two 4-bit codes per byte, in one fixed order that does not depend on the CPU or the
// SIMD width, so a packed buffer written on one machine reads back on any other.
//
//   order                       byte k holds                   used by
//   nibble_order::low_first     c[2k] | c[2k+1] << 4           lowprec (native), ONNX int4/
//                                                              uint4, PyTorch quint4x2
//   nibble_order::high_first    c[2k] << 4 | c[2k+1]           bitsandbytes (NF4/FP4)
//
// An odd count leaves the last byte's second nibble zero. ggml's 4-bit blocks use a third,
// block-structured order (element j and j+16 of a 32-block share byte j); it lives with
// the ggml block formats, since it never occurs without their scales.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lowprec/int4.hpp"

namespace lowprec {

enum class nibble_order { low_first, high_first };

constexpr std::size_t packed_size(std::size_t count) noexcept { return count / 2 + count % 2; }

namespace detail {

// The 4 bits of a code: small_int's own bits, or the low nibble of a raw byte code.
template <class Code>
constexpr std::uint8_t nibble_of(Code c) noexcept {
  if constexpr (std::is_same_v<Code, std::uint8_t>) {
    return static_cast<std::uint8_t>(c & 0x0F);
  } else {
    static_assert(Code::bits_used == 4, "packed 4-bit storage needs a 4-bit code type");
    return c.bits();
  }
}
template <class Code>
constexpr Code code_from_nibble(std::uint8_t n) noexcept {
  if constexpr (std::is_same_v<Code, std::uint8_t>) {
    return n;
  } else {
    return Code::from_bits(n);
  }
}

}  // namespace detail

// Packs `count` codes into packed_size(count) bytes at `out`.
template <class Code>
void pack4(const Code* codes, std::size_t count, std::uint8_t* out,
           nibble_order order = nibble_order::low_first) noexcept {
  const int first_shift = order == nibble_order::low_first ? 0 : 4;
  const int second_shift = 4 - first_shift;
  for (std::size_t k = 0; k < count / 2; ++k) {
    out[k] = static_cast<std::uint8_t>((detail::nibble_of(codes[2 * k]) << first_shift) |
                                       (detail::nibble_of(codes[2 * k + 1]) << second_shift));
  }
  if (count % 2 != 0) {
    out[count / 2] =
        static_cast<std::uint8_t>(detail::nibble_of(codes[count - 1]) << first_shift);
  }
}

// Unpacks `count` codes from packed_size(count) bytes at `in`.
template <class Code>
void unpack4(const std::uint8_t* in, std::size_t count, Code* out,
             nibble_order order = nibble_order::low_first) noexcept {
  const int first_shift = order == nibble_order::low_first ? 0 : 4;
  const int second_shift = 4 - first_shift;
  for (std::size_t i = 0; i < count; ++i) {
    const int shift = i % 2 == 0 ? first_shift : second_shift;
    out[i] = detail::code_from_nibble<Code>(static_cast<std::uint8_t>((in[i / 2] >> shift) & 0x0F));
  }
}

// An owning array of `size()` 4-bit codes stored two per byte in the native order.
template <class Code>
class packed4_array {
 public:
  packed4_array() = default;
  explicit packed4_array(std::size_t count) : count_(count), bytes_(packed_size(count)) {}

  // From unpacked codes, or from bytes in any supported order (converted to native).
  static packed4_array from_codes(const Code* codes, std::size_t count) {
    packed4_array a(count);
    pack4(codes, count, a.bytes_.data());
    return a;
  }
  static packed4_array from_bytes(const std::uint8_t* bytes, std::size_t byte_count,
                                  std::size_t count, nibble_order order) {
    if (byte_count != packed_size(count)) {
      throw std::invalid_argument("packed4_array::from_bytes: byte_count " +
                                  std::to_string(byte_count) + " does not hold count " +
                                  std::to_string(count) + " codes (needs " +
                                  std::to_string(packed_size(count)) + ")");
    }
    packed4_array a(count);
    if (order == nibble_order::low_first) {
      for (std::size_t k = 0; k < byte_count; ++k) a.bytes_[k] = bytes[k];
      if (count % 2 != 0) a.bytes_[count / 2] &= 0x0F;  // canonical: unused nibble is zero
    } else {
      std::vector<std::uint8_t> codes(count);
      unpack4(bytes, count, codes.data(), order);
      pack4(codes.data(), count, a.bytes_.data());
    }
    return a;
  }
  // The bytes in another order (a copy), for export.
  std::vector<std::uint8_t> to_bytes(nibble_order order) const {
    if (order == nibble_order::low_first) return bytes_;
    std::vector<std::uint8_t> codes(count_), out(bytes_.size());
    unpack4(bytes_.data(), count_, codes.data());
    pack4(codes.data(), count_, out.data(), order);
    return out;
  }

  std::size_t size() const noexcept { return count_; }
  std::size_t size_bytes() const noexcept { return bytes_.size(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }

  Code get(std::size_t i) const noexcept {
    return detail::code_from_nibble<Code>(
        static_cast<std::uint8_t>((bytes_[i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0x0F));
  }
  void set(std::size_t i, Code c) noexcept {
    const int shift = i % 2 == 0 ? 0 : 4;
    std::uint8_t& b = bytes_[i / 2];
    b = static_cast<std::uint8_t>((b & ~(0x0F << shift)) | (detail::nibble_of(c) << shift));
  }
  void unpack(Code* out) const noexcept { unpack4(bytes_.data(), count_, out); }

 private:
  std::size_t count_ = 0;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace lowprec
