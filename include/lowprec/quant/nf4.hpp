// nf4: a 4-bit code into QLoRA's NormalFloat table, bit-compatible with bitsandbytes.
//   storage   one byte, code in the low 4 bits (0..15); two per byte is packed.hpp
//   values    the 16 float32 values below (bitsandbytes functional.py get_4bit_type("nf4"),
//             REFERENCE.md section 3): -1 .. 1, exact 0 at code 7, ascending in the code
//   encode    code(t) = #{k : t > threshold[k]}, threshold[k] = bitsandbytes' float32
//             constant for the midpoint of values k and k+1 (kernels.cu dQuantizeNF4;
//             derived below, detail::bnb_threshold); strict ">", a tie stays low
//   NaN       code 7 (value 0); bitsandbytes' tree gives code 0 (-1.0) there
//   +-Inf     codes 15 / 0 (+-1.0), as the tree; |t| > 1 saturates the same way
// Four constants (k = 1, 3, 4, 8) lie above the exact midpoint, so at exactly t =
// threshold[k] the lower code is not the nearer value (by less than half an ulp). That is
// bitsandbytes' rule and lowprec keeps it; tests/quant/lowbit_test.cpp pins those floats.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <string>

namespace lowprec {

namespace detail {

// The table, once. Each literal is the float32 printed by bitsandbytes (bit patterns in
// REFERENCE.md section 3; tests check all 16).
inline constexpr std::array<float, 16> kNf4Values = {
    -1.0f,                 -0.6961928009986877f,  -0.5250730514526367f,  -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f,  0.16093020141124725f,  0.24611230194568634f,  0.33791524171829224f,
    0.44070982933044434f,  0.5626170039176941f,   0.7229568362236023f,   1.0f};

// The float32 threshold between neighbouring entries a < b, as bitsandbytes made its tree
// constants: the double midpoint m = (a + b) / 2 (exact) printed by Python (repr: the
// shortest decimal that reads back as m) and compiled as a float literal. That is the
// float nearest m, except when m lies exactly halfway between two floats: then the side of
// the printed decimal picks one (not round-half-even). For NF4 this happens at thresholds
// 0, 8, 12 and 14. Steps: 1. m; 2. a float, or not a tie: round to nearest; 3. a tie:
// compare the shortest decimal of m with its exact expansion (std::to_chars, both in
// scientific form with the same exponent) and take the float on that side.
inline float bnb_threshold(float a, float b) {
  const double m = (static_cast<double>(a) + static_cast<double>(b)) * 0.5;  // 1. exact
  const float rn = static_cast<float>(m);
  const float inf = std::numeric_limits<float>::infinity();
  const float other = std::nextafter(rn, static_cast<double>(rn) > m ? -inf : inf);
  if (static_cast<double>(rn) == m ||
      (static_cast<double>(rn) + static_cast<double>(other)) * 0.5 != m) {
    return rn;  // 2.
  }
  char shortest[64] = {}, exact[160] = {};  // 3.
  const auto r1 = std::to_chars(shortest, shortest + 63, std::fabs(m), std::chars_format::scientific);
  const auto r2 = std::to_chars(exact, exact + 159, std::fabs(m), std::chars_format::scientific, 120);
  const std::string s(shortest, r1.ptr), e(exact, r2.ptr);
  const std::size_t se = s.find('e'), ee = e.find('e');
  if (s.substr(se) != e.substr(ee)) return rn;  // a power-of-ten boundary: not here
  std::string sd = s.substr(0, se), ed = e.substr(0, ee);
  sd.resize(ed.size(), '0');
  const int cmp = sd.compare(ed);  // |decimal| vs |m|, digit by digit
  if (cmp == 0) return rn;
  const float bigger = std::fabs(rn) > std::fabs(other) ? rn : other;
  const float smaller = std::fabs(rn) > std::fabs(other) ? other : rn;
  return cmp > 0 ? bigger : smaller;
}

inline const std::array<float, 15>& nf4_thresholds() {
  static const std::array<float, 15> t = [] {
    std::array<float, 15> r{};
    for (std::size_t k = 0; k < 15; ++k) r[k] = bnb_threshold(kNf4Values[k], kNf4Values[k + 1]);
    return r;
  }();
  return t;
}

}  // namespace detail

class nf4 {
 public:
  static constexpr int bits_used = 4;  // packed.hpp stores two per byte
  static constexpr std::uint8_t zero_code = 7;
  static constexpr const std::array<float, 16>& values = detail::kNf4Values;
  // detail::bnb_threshold of neighbouring values (equal to bitsandbytes' literals).
  static const std::array<float, 15>& thresholds() { return detail::nf4_thresholds(); }

  nf4() = default;  // trivial; nf4{} is code 0 (-1.0), as a zeroed bitsandbytes buffer
  // The code of t (already divided by its block's absmax): see the card above.
  explicit nf4(float t) noexcept : bits_(encode(t)) {}

  static constexpr nf4 from_bits(std::uint8_t b) noexcept {
    nf4 r{};
    r.bits_ = static_cast<std::uint8_t>(b & 0x0F);
    return r;
  }
  constexpr std::uint8_t bits() const noexcept { return bits_; }
  // Exact, so implicit.
  constexpr operator float() const noexcept { return values[bits_]; }

  // The scalar definition every path (codebook, SIMD) reproduces.
  static std::uint8_t encode(float t) noexcept {
    if (t != t) return zero_code;
    std::uint8_t c = 0;
    for (const float th : thresholds()) c = static_cast<std::uint8_t>(c + (t > th ? 1 : 0));
    return c;
  }

  friend constexpr bool operator==(nf4 a, nf4 b) noexcept { return a.bits_ == b.bits_; }
  friend constexpr bool operator!=(nf4 a, nf4 b) noexcept { return a.bits_ != b.bits_; }

 private:
  std::uint8_t bits_;
};

inline std::ostream& operator<<(std::ostream& os, nf4 x) { return os << static_cast<float>(x); }

}  // namespace lowprec

template <>
struct std::hash<lowprec::nf4> {
  std::size_t operator()(lowprec::nf4 x) const noexcept { return x.bits(); }
};
