// The memcpy baseline every benchmark reports against, and the timing loop of the
// quantizer benchmarks. memcpy_seconds(bytes, k): the time memcpy takes to copy `bytes`
// (so 2 * bytes read + written) k times between 64-byte aligned buffers kept across calls,
// measured right after the kernel's own loop so that machine noise hits both.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "lowprec/detail/simd.hpp"  // simd_target()

namespace lowprec_bench {

inline double memcpy_seconds(std::size_t bytes, std::int64_t iterations) {
  struct free_deleter {
    void operator()(unsigned char* p) const noexcept { std::free(p); }
  };
  using buffer = std::unique_ptr<unsigned char, free_deleter>;
  const auto allocate = [](std::size_t n) {
    auto* p = static_cast<unsigned char*>(std::aligned_alloc(64, (n + 63) / 64 * 64 + 64));
    if (p == nullptr) throw std::bad_alloc();
    return buffer(p);
  };
  static buffer from, to;
  static std::size_t capacity = 0;
  if (bytes > capacity) {
    from = allocate(bytes);
    to = allocate(bytes);
    std::memset(from.get(), 1, bytes);
    std::memset(to.get(), 0, bytes);
    capacity = bytes;
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iterations; ++i) {
    std::memcpy(to.get(), from.get(), bytes);
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs fn once per iteration and sets the counters: items_per_second (`items` per call),
// bytes_per_second (`moved` bytes read + written per call), x_memcpy (memcpy's time for
// the same bytes over the kernel's), and the SIMD target as the label.
template <class Fn>
void measure(benchmark::State& state, std::size_t items, std::size_t moved, Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    fn();
    benchmark::ClobberMemory();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::int64_t iters = state.iterations();
  state.SetItemsProcessed(iters * static_cast<std::int64_t>(items));
  state.SetBytesProcessed(iters * static_cast<std::int64_t>(moved));
  const double copy = memcpy_seconds(moved / 2, iters);
  state.counters["x_memcpy"] = seconds > 0 ? copy / seconds : 0.0;
  state.SetLabel(lowprec::simd_target());
}

}  // namespace lowprec_bench
