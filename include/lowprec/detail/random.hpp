// The random bits of stochastic rounding: a counter-based generator, r = H(seed, index).
//
// Every element draws its 32 bits from its own index in the whole tensor, never from a
// running state, so a conversion gives the same output for any SIMD width, thread count
// or split into chunks (a chunk passes the index of its first element as `offset`).
//
//   step                        input -> output                       cost
//   1. key (once per 2^32 run)  seed, index >> 32 -> k0, k1           scalar, splitmix64
//   2. lane mix                 index & 0xFFFFFFFF, k0, k1 -> r        2 mul, 3 xorshift, 2 xor
//
// Step 2 uses only 32-bit multiply, xor and constant shifts, so it vectorises on every
// Highway target; it is written once (LOWPREC_RANDOM_MIX) and expanded by random_bits
// below and by the SIMD kernels of simd/convert-inl.hpp. Step 2 is the lowbias32
// shape with the constants 0x21F0AAAD / 0x735A2D97 and shifts 16, 15, 15 that C. Wellons'
// hash-prospector search reports (github.com/skeeto/hash-prospector), with the second key
// word xored in between the rounds so that different seeds are different functions, not
// a relabelling of one permutation. Step 1 is the splitmix64 finaliser (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
// The generator is for rounding noise: well mixed and cheap, not cryptographic.
#pragma once

#include <cstdint>

namespace lowprec::detail {

inline constexpr std::uint32_t random_mul0 = 0x21F0AAADu;
inline constexpr std::uint32_t random_mul1 = 0x735A2D97u;

// The per-index key words for indices [hi * 2^32, (hi + 1) * 2^32).
struct random_key {
  std::uint32_t k0;
  std::uint32_t k1;
};

constexpr random_key make_random_key(std::uint64_t seed, std::uint32_t index_hi) noexcept {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (std::uint64_t{index_hi} + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return {static_cast<std::uint32_t>(z), static_cast<std::uint32_t>(z >> 32)};
}

// Step 2, written once as statements on a variable `x` that holds the low 32 bits of
// the index, so the same text expands in scalar code and inside Highway's per-target
// functions (a shared template function would be compiled without the target's ISA).
// SHR(v, k): logical shift right by the constant k; C(c): the constant c in x's type;
// x ^ y and x * y: the lane type's operators (wrapping 32-bit multiply).
#define LOWPREC_RANDOM_MIX(x, k0, k1, SHR, C)                        \
  do {                                                               \
    x = x ^ (k0);                                                    \
    x = (x ^ SHR(x, 16)) * C(::lowprec::detail::random_mul0);        \
    x = x ^ (k1);                                                    \
    x = (x ^ SHR(x, 15)) * C(::lowprec::detail::random_mul1);        \
    x = x ^ SHR(x, 15);                                              \
  } while (false)

// Step 2 for one index, given its run's key.
constexpr std::uint32_t random_bits(const random_key& key, std::uint32_t index_lo) noexcept {
  std::uint32_t x = index_lo;
#define LOWPREC_RANDOM_SHR(v, k) ((v) >> (k))
#define LOWPREC_RANDOM_CONST(c) (c)
  LOWPREC_RANDOM_MIX(x, key.k0, key.k1, LOWPREC_RANDOM_SHR, LOWPREC_RANDOM_CONST);
#undef LOWPREC_RANDOM_SHR
#undef LOWPREC_RANDOM_CONST
  return x;
}

// The 32 random bits for element `index` of a stream keyed by `seed`: what the bulk
// conversions pass to the scalar rounding step as `random_bits` for that element.
constexpr std::uint32_t random_bits(std::uint64_t seed, std::uint64_t index) noexcept {
  return random_bits(make_random_key(seed, static_cast<std::uint32_t>(index >> 32)),
                     static_cast<std::uint32_t>(index));
}

}  // namespace lowprec::detail
