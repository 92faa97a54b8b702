// Throughput of lowprec::convert against memcpy, Eigen's element-wise cast and a plain
// scalar loop, at 4 Ki (L1), 64 Ki (L2) and 16 Mi (DRAM) elements; beside them the
// floors of floor_kernels.hpp (a vector copy of the same bytes, the bf16 data movement
// without rounding), which show what ordinary vector stores reach against memcpy.
//
// Counters: bytes_per_second counts bytes read + written; x_memcpy is that rate divided by
// memcpy's over the same number of bytes (B = n * (sizeof src + sizeof dst) / 2 copied,
// so also read + written), timed right after the benchmark's own loop in the same
// process, so machine noise hits both. Run with repetitions and read the medians:
//   convert_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <type_traits>

#include "lowprec/convert.hpp"
#include "floor_kernels.hpp"
#include "memcpy_baseline.hpp"

namespace {

using lowprec::bf16;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t kSizes[] = {std::size_t{4} << 10, std::size_t{64} << 10,
                                  std::size_t{16} << 20};

struct free_deleter {
  void operator()(void* p) const noexcept { std::free(p); }
};
using buffer = std::unique_ptr<unsigned char, free_deleter>;

buffer allocate(std::size_t bytes) {
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  auto* p = static_cast<unsigned char*>(std::aligned_alloc(64, rounded == 0 ? 64 : rounded));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return buffer(p);
}

// Realistic inputs: N(0, 1) floats (weights and activations), their conversions for
// narrow sources.
template <class T>
void fill(T* p, std::size_t n) {
  std::mt19937 g(12345);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const float x = dist(g);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      p[i] = static_cast<T>(x);
    } else if constexpr (std::is_same_v<T, std::uint16_t>) {  // bf16 bits (the floors)
      p[i] = bf16(x).bits();
    } else if constexpr (std::is_same_v<T, std::int8_t>) {
      p[i] = lowprec::round_to_int8(x * 32);
    } else {  // lowprec and Eigen 16-bit types
      p[i] = T(x);
    }
  }
}

using lowprec_bench::memcpy_seconds;

void report(benchmark::State& state, std::size_t n, std::size_t bytes_per_element,
            double seconds) {
  const auto iters = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iters * static_cast<std::int64_t>(n));
  state.SetBytesProcessed(iters * static_cast<std::int64_t>(n * bytes_per_element));
  const double copy = memcpy_seconds(n * bytes_per_element / 2, iters);
  state.counters["x_memcpy"] = copy / seconds;
  state.counters["memcpy_GBps"] =
      static_cast<double>(n * bytes_per_element) * static_cast<double>(iters) / copy * 1e-9;
}

// One benchmark: `run(src, dst, n)` converts n elements.
// half_zeros: every other input is 0 (pruned weights, ReLU activations).
template <class Src, class Dst, class Run>
void run_benchmark(benchmark::State& state, Run run, bool half_zeros = false) {
  const auto n = static_cast<std::size_t>(state.range(0));
  buffer src_buf = allocate(n * sizeof(Src));
  buffer dst_buf = allocate(n * sizeof(Dst));
  auto* src = reinterpret_cast<Src*>(src_buf.get());
  auto* dst = reinterpret_cast<Dst*>(dst_buf.get());
  fill(src, n);
  if (half_zeros) {
    for (std::size_t i = 1; i < n; i += 2) src[i] = Src{};
  }
  run(src, dst, n);  // warm up: first dispatch, page faults
  const auto t0 = clock_type::now();
  for (auto _ : state) {
    run(src, dst, n);
    benchmark::DoNotOptimize(dst);
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  report(state, n, sizeof(Src) + sizeof(Dst), seconds);
}

template <class Src, class Dst>
void bm_convert(benchmark::State& state, lowprec::convert_options opts, bool half_zeros = false) {
  run_benchmark<Src, Dst>(
      state, [&opts](const Src* s, Dst* d, std::size_t n) { lowprec::convert(s, d, n, opts); },
      half_zeros);
}

// The scalar definition, one element at a time.
template <class Src, class Dst>
void bm_scalar(benchmark::State& state) {
  run_benchmark<Src, Dst>(state, [](const Src* s, Dst* d, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<Dst, float>) {
        d[i] = static_cast<float>(s[i]);
      } else {
        d[i] = Dst(s[i]);
      }
    }
  });
}

// Eigen's element-wise cast between dense arrays.
template <class Src, class Dst>
void bm_eigen(benchmark::State& state) {
  run_benchmark<Src, Dst>(state, [](const Src* s, Dst* d, std::size_t n) {
    const auto len = static_cast<Eigen::Index>(n);
    Eigen::Map<Eigen::Array<Dst, Eigen::Dynamic, 1>>(d, len) =
        Eigen::Map<const Eigen::Array<Src, Eigen::Dynamic, 1>>(s, len).template cast<Dst>();
  });
}

void bm_memcpy(benchmark::State& state) {
  run_benchmark<float, float>(state, [](const float* s, float* d, std::size_t len) {
    std::memcpy(d, s, len * sizeof(float));
  });
}

// The floors (floor_kernels.hpp): a vector-load/store copy of the bytes a float <-> 16-bit
// conversion moves (6 per element, so x_memcpy compares the two copies directly), and the
// bf16 conversions' data movement without their rounding and NaN handling.
void bm_floor_vector_copy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::size_t bytes = 3 * n;
  buffer src = allocate(bytes);
  buffer dst = allocate(bytes);
  std::memset(src.get(), 1, bytes);
  lowprec_bench::vector_copy(src.get(), dst.get(), bytes);
  const auto t0 = clock_type::now();
  for (auto _ : state) {
    lowprec_bench::vector_copy(src.get(), dst.get(), bytes);
    benchmark::DoNotOptimize(dst.get());
    benchmark::ClobberMemory();
  }
  report(state, n, 6, std::chrono::duration<double>(clock_type::now() - t0).count());
}

template <class F>
void add(const std::string& name, F f) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), f);
  for (std::size_t n : kSizes) b->Arg(static_cast<std::int64_t>(n));
  b->Unit(benchmark::kMicrosecond);
}

void register_all() {
  const lowprec::convert_options def{};
  lowprec::convert_options sr{};
  sr.round = lowprec::rounding::stochastic;
  sr.seed = 1;
  lowprec::convert_options sat{};
  sat.on_overflow = lowprec::overflow::saturate;

  add("memcpy_f32", bm_memcpy);

  add("convert/f32_fp16", [def](benchmark::State& s) { bm_convert<float, fp16>(s, def); });
  add("eigen/f32_half", bm_eigen<float, Eigen::half>);
  add("scalar/f32_fp16", bm_scalar<float, fp16>);
  add("convert/fp16_f32", [def](benchmark::State& s) { bm_convert<fp16, float>(s, def); });
  add("eigen/half_f32", bm_eigen<Eigen::half, float>);
  add("scalar/fp16_f32", bm_scalar<fp16, float>);

  add("convert/f32_bf16", [def](benchmark::State& s) { bm_convert<float, bf16>(s, def); });
  add("eigen/f32_bfloat16", bm_eigen<float, Eigen::bfloat16>);
  add("scalar/f32_bf16", bm_scalar<float, bf16>);
  add("convert/f32_bf16_half_zeros",
      [def](benchmark::State& s) { bm_convert<float, bf16>(s, def, true); });
  add("convert/bf16_f32", [def](benchmark::State& s) { bm_convert<bf16, float>(s, def); });
  add("eigen/bfloat16_f32", bm_eigen<Eigen::bfloat16, float>);
  add("scalar/bf16_f32", bm_scalar<bf16, float>);

  add("floor/vector_copy", bm_floor_vector_copy);
  add("floor/f32_bf16_truncate", [](benchmark::State& s) {
    run_benchmark<float, std::uint16_t>(s, lowprec_bench::f32_bf16_truncate);
  });
  add("floor/bf16_f32_shift", [](benchmark::State& s) {
    run_benchmark<std::uint16_t, float>(s, lowprec_bench::bf16_f32_shift);
  });

  add("convert/f32_fp16_saturate", [sat](benchmark::State& s) { bm_convert<float, fp16>(s, sat); });
  add("convert/f32_fp16_stochastic", [sr](benchmark::State& s) { bm_convert<float, fp16>(s, sr); });
  add("convert/f32_bf16_stochastic", [sr](benchmark::State& s) { bm_convert<float, bf16>(s, sr); });
  add("convert/f32_e4m3fn", [def](benchmark::State& s) { bm_convert<float, fp8_e4m3fn>(s, def); });
  add("convert/e4m3fn_f32", [def](benchmark::State& s) { bm_convert<fp8_e4m3fn, float>(s, def); });
  add("convert/f32_e5m2", [def](benchmark::State& s) { bm_convert<float, fp8_e5m2>(s, def); });
  add("convert/e5m2_f32", [def](benchmark::State& s) { bm_convert<fp8_e5m2, float>(s, def); });
  add("convert/f32_int8", [def](benchmark::State& s) { bm_convert<float, std::int8_t>(s, def); });
  add("convert/int8_f32", [def](benchmark::State& s) { bm_convert<std::int8_t, float>(s, def); });
  add("convert/f64_fp16", [def](benchmark::State& s) { bm_convert<double, fp16>(s, def); });
  add("convert/f64_bf16", [def](benchmark::State& s) { bm_convert<double, bf16>(s, def); });
  add("convert/fp16_bf16", [def](benchmark::State& s) { bm_convert<fp16, bf16>(s, def); });
  add("convert/bf16_fp16", [def](benchmark::State& s) { bm_convert<bf16, fp16>(s, def); });
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("lowprec_simd_target", lowprec::simd_target());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
