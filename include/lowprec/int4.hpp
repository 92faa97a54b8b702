// int4 / uint4: 4-bit integers, one code per byte (packing two per byte is packed.hpp).
//   int4     two's complement in the low 4 bits: -8..7;  bits 0x8 = -8, 0xF = -1, 0x7 = 7
//   uint4    unsigned in the low 4 bits: 0..15
//   storage  one byte; the high 4 bits are always zero (from_bits masks them)
//   from int       saturates to the range (int4(100) = 7, uint4(-3) = 0)
//   from float     rounds half to even, then saturates; NaN gives 0
//   to int         implicit and exact, so arithmetic and comparisons happen in int
// The same template gives int2/uint2 or int6 if a scheme needs them: small_int<Bits, S>.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <type_traits>

namespace lowprec {

template <int Bits, bool Signed>
class small_int {
  static_assert(Bits >= 1 && Bits <= 7, "small_int holds 1..7 bits in one byte");

 public:
  static constexpr int bits_used = Bits;
  static constexpr bool is_signed = Signed;
  static constexpr int min_value = Signed ? -(1 << (Bits - 1)) : 0;
  static constexpr int max_value = Signed ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;
  static constexpr std::uint8_t mask = static_cast<std::uint8_t>((1u << Bits) - 1);

  small_int() = default;  // trivial, like int; small_int{} is 0

  // Saturating construction from any integer.
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  constexpr explicit small_int(T v) noexcept : bits_(encode(clamp_integer(v))) {}

  // Round half to even, then saturate; NaN gives 0.
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  explicit small_int(T v) noexcept : bits_(encode(clamp_float(v))) {}

  static constexpr small_int from_bits(std::uint8_t b) noexcept {
    small_int r{};
    r.bits_ = static_cast<std::uint8_t>(b & mask);
    return r;
  }
  constexpr std::uint8_t bits() const noexcept { return bits_; }

  // Widening is exact, so it is implicit: arithmetic and comparison happen in int.
  constexpr operator int() const noexcept {
    if constexpr (Signed) {
      return (bits_ & (1u << (Bits - 1))) != 0 ? static_cast<int>(bits_) - (1 << Bits)
                                               : static_cast<int>(bits_);
    } else {
      return static_cast<int>(bits_);
    }
  }

 private:
  template <class T>
  static constexpr int clamp_integer(T v) noexcept {
    if constexpr (std::is_signed_v<T>) {
      if (v < static_cast<T>(min_value)) return min_value;
    }
    if (v > static_cast<T>(max_value)) return max_value;
    return static_cast<int>(v);
  }
  template <class T>
  static int clamp_float(T v) noexcept {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<T>(min_value)) return min_value;
    if (v >= static_cast<T>(max_value)) return max_value;
    return static_cast<int>(std::nearbyint(v));  // default FP environment: ties to even
  }
  static constexpr std::uint8_t encode(int v) noexcept {
    return static_cast<std::uint8_t>(static_cast<unsigned>(v) & mask);
  }

  std::uint8_t bits_;
};

using int4 = small_int<4, true>;
using uint4 = small_int<4, false>;

template <int B, bool S>
std::ostream& operator<<(std::ostream& os, small_int<B, S> x) {
  return os << static_cast<int>(x);
}

}  // namespace lowprec

namespace std {

template <int B, bool S>
class numeric_limits<lowprec::small_int<B, S>> {
  using T = lowprec::small_int<B, S>;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = S;
  static constexpr bool is_integer = true;
  static constexpr bool is_exact = true;
  static constexpr bool has_infinity = false;
  static constexpr bool has_quiet_NaN = false;
  static constexpr bool has_signaling_NaN = false;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int radix = 2;
  static constexpr int digits = S ? B - 1 : B;
  static constexpr int digits10 = digits * 30103 / 100000;
  static constexpr T min() noexcept { return T(T::min_value); }
  static constexpr T lowest() noexcept { return T(T::min_value); }
  static constexpr T max() noexcept { return T(T::max_value); }
};

template <int B, bool S>
struct hash<lowprec::small_int<B, S>> {
  std::size_t operator()(lowprec::small_int<B, S> x) const noexcept { return x.bits(); }
};

}  // namespace std
