// Bit-level helpers: a bit cast with no undefined behaviour and a portable
// count-leading-zeros. Both are constexpr where the compiler allows it.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowprec/detail/config.hpp"

namespace lowprec::detail {

template <class To, class From>
LOWPREC_BIT_CAST_CONSTEXPR To bit_cast(const From& from) noexcept {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs types of equal size");
  static_assert(std::is_trivially_copyable_v<To> && std::is_trivially_copyable_v<From>,
                "bit_cast needs trivially copyable types");
#if LOWPREC_HAS_CONSTEXPR_BIT_CAST
  return __builtin_bit_cast(To, from);
#else
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
#endif
}

// Index of the highest set bit of x (x != 0): 63 - clz.
constexpr int highest_bit(std::uint64_t x) noexcept {
#if LOWPREC_HAS_BUILTIN(__builtin_clzll) || defined(__GNUC__)
  return 63 - __builtin_clzll(x);
#else
  int n = 0;
  while (x >>= 1) ++n;
  return n;
#endif
}

}  // namespace lowprec::detail
