// Throughput of lowprec's quantizers at 64 Ki (L2) and 16 Mi (DRAM) elements: the SIMD
// int8 / int4 / fp8 absmax block kernels, their scalar definition, ggml Q8_0 (lowprec's
// scalar reproduction of ggml's reference), PyTorch-style affine (SIMD), the N-d front
// (quantize() into a quantized_tensor), and three floors for the int8 dequantize (a vector
// copy of its bytes, the int8 -> float widening without scales, and the dequantize itself
// with its codes kept in L1).
//
// Counters: items_per_second = elements; bytes_per_second = bytes read + written (floats,
// codes, scales); x_memcpy = memcpy's time to move the same number of bytes (copying half
// of them: read + written) divided by the kernel's, timed right after the kernel's loop
// in the same process, so machine noise hits both. Built with the project's default flags
// (no -m/-march: the kernels pick the CPU's best Highway target at run time). Run e.g.
//   quant_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "lowprec/quant/absmax.hpp"
#include "lowprec/quant/affine.hpp"
#include "lowprec/quant/ggml.hpp"
#include "lowprec/quant/quantized_tensor.hpp"
#include "floor_kernels.hpp"
#include "lowprec/convert.hpp"
#include "memcpy_baseline.hpp"

namespace {

namespace lq = lowprec::quant;
using lq::code_format;

constexpr std::int64_t kSizes[] = {std::int64_t{64} << 10, std::int64_t{16} << 20};

// 64-byte aligned, zero-initialised bytes.
struct aligned_bytes {
  explicit aligned_bytes(std::size_t n) {
    const std::size_t rounded = (n + 63) / 64 * 64 + 64;
    p = static_cast<unsigned char*>(std::aligned_alloc(64, rounded));
    if (p == nullptr) throw std::bad_alloc();
    std::memset(p, 0, rounded);
  }
  aligned_bytes(const aligned_bytes&) = delete;
  aligned_bytes& operator=(const aligned_bytes&) = delete;
  ~aligned_bytes() { std::free(p); }
  unsigned char* p = nullptr;
};

// N(0, 1) weights: the usual input of a weight quantizer.
const float* gaussian(std::size_t n) {
  static std::vector<float> data;
  if (data.size() < n) {
    data.resize(n);
    std::mt19937 g(20241123);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : data) v = dist(g);
  }
  return data.data();
}

using lowprec_bench::measure;

std::size_t scale_bytes(std::size_t n, std::size_t block) {
  return lq::block_count(n, block) * sizeof(float);
}

// ---- absmax blocks (SIMD for int8, int4 and fp8) ----------------------------------------

void quantize_blocks(benchmark::State& state, code_format f, std::size_t block) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  aligned_bytes codes(lq::code_bytes(f, n));
  aligned_bytes scales(scale_bytes(n, block));
  measure(state, n, 4 * n + lq::code_bytes(f, n) + scale_bytes(n, block), [&] {
    lq::quantize_absmax_blocks(x, n, block, f, codes.p, reinterpret_cast<float*>(scales.p));
  });
}

void dequantize_blocks(benchmark::State& state, code_format f, std::size_t block) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aligned_bytes codes(lq::code_bytes(f, n));
  aligned_bytes scales(scale_bytes(n, block));
  aligned_bytes out(4 * n);
  lq::quantize_absmax_blocks(gaussian(n), n, block, f, codes.p, reinterpret_cast<float*>(scales.p));
  measure(state, n, lq::code_bytes(f, n) + scale_bytes(n, block) + 4 * n, [&] {
    lq::dequantize_absmax_blocks(codes.p, reinterpret_cast<const float*>(scales.p), n, block, f,
                                 reinterpret_cast<float*>(out.p));
  });
}

template <code_format F>
void quantize_blocks_scalar(benchmark::State& state, std::size_t block) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  aligned_bytes codes(lq::code_bytes(F, n));
  aligned_bytes scales(scale_bytes(n, block));
  measure(state, n, 4 * n + lq::code_bytes(F, n) + scale_bytes(n, block), [&] {
    lq::detail::quantize_absmax_blocks_scalar<F>(x, n, block, codes.p,
                                                 reinterpret_cast<float*>(scales.p));
  });
}

void BM_int8_quantize_block32(benchmark::State& s) { quantize_blocks(s, code_format::int8, 32); }
void BM_int8_quantize_block64(benchmark::State& s) { quantize_blocks(s, code_format::int8, 64); }
void BM_int8_dequantize_block32(benchmark::State& s) { dequantize_blocks(s, code_format::int8, 32); }
void BM_int4_quantize_block32(benchmark::State& s) { quantize_blocks(s, code_format::int4, 32); }
void BM_int4_quantize_block64(benchmark::State& s) { quantize_blocks(s, code_format::int4, 64); }
void BM_int4_dequantize_block32(benchmark::State& s) { dequantize_blocks(s, code_format::int4, 32); }
void BM_fp8_e4m3fn_quantize_block32(benchmark::State& s) {
  quantize_blocks(s, code_format::fp8_e4m3fn, 32);
}
void BM_fp8_e4m3fn_dequantize_block32(benchmark::State& s) {
  dequantize_blocks(s, code_format::fp8_e4m3fn, 32);
}
void BM_int8_quantize_block32_scalar(benchmark::State& s) {
  quantize_blocks_scalar<code_format::int8>(s, 32);
}
void BM_int4_quantize_block32_scalar(benchmark::State& s) {
  quantize_blocks_scalar<code_format::int4>(s, 32);
}

// ---- ggml Q8_0 (scalar, ggml's reference formulas) and affine (SIMD) ----------------------

void BM_ggml_q8_0_quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  std::vector<lq::ggml::block_q8_0> blocks(lq::ggml::blocks_for(n));
  measure(state, n, 4 * n + blocks.size() * 34, [&] { lq::ggml::quantize_q8_0(x, n, blocks.data()); });
}

void BM_uint8_affine_quantize_block32(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  aligned_bytes codes(n), scales(scale_bytes(n, 32)), zps(n / 32 + 1);
  measure(state, n, 4 * n + n + scale_bytes(n, 32) + n / 32, [&] {
    lq::quantize_affine_blocks(x, n, 32, code_format::uint8, codes.p,
                               reinterpret_cast<float*>(scales.p), zps.p);
  });
}

void BM_uint8_affine_dequantize_block32(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aligned_bytes codes(n), scales(scale_bytes(n, 32)), zps(n / 32 + 1), out(4 * n);
  lq::quantize_affine_blocks(gaussian(n), n, 32, code_format::uint8, codes.p,
                             reinterpret_cast<float*>(scales.p), zps.p);
  measure(state, n, n + scale_bytes(n, 32) + n / 32 + 4 * n, [&] {
    lq::dequantize_affine_blocks(codes.p, reinterpret_cast<const float*>(scales.p), zps.p, n, 32,
                                 code_format::uint8, reinterpret_cast<float*>(out.p));
  });
}

// ---- floors for the int8 block-32 dequantize: the same bytes moved by a vector copy, and
// the int8 -> float widening (lowprec::convert: no scale, no scale loads) -----------------

std::size_t int8_dequant_bytes(std::size_t n) { return n + scale_bytes(n, 32) + 4 * n; }

void BM_floor_vector_copy_int8_dequantize_bytes(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::size_t half = int8_dequant_bytes(n) / 2;
  aligned_bytes from(half), to(half);
  measure(state, n, 2 * half, [&] { lowprec_bench::vector_copy(from.p, to.p, half); });
}

void BM_floor_int8_to_float(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  aligned_bytes codes(n), out(4 * n);
  for (std::size_t i = 0; i < n; ++i) codes.p[i] = static_cast<unsigned char>(i * 37);
  measure(state, n, n + 4 * n, [&] {
    lowprec::convert(reinterpret_cast<const std::int8_t*>(codes.p), reinterpret_cast<float*>(out.p), n);
  });
}

// The block-32 dequantize itself, but every 4 Ki-element slice of the output decoded from
// the same 4 KiB of codes, which therefore stay in L1: the kernel's rate when only its
// output (and scales) stream through L2. Counted as moving the same bytes as the real
// dequantize (docs/quant.md, "Where the last 20% goes").
void BM_floor_int8_dequantize_codes_in_l1(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kSlice = 4096;
  aligned_bytes codes(kSlice);
  aligned_bytes scales(scale_bytes(n, 32));
  aligned_bytes out(4 * n);
  lq::quantize_absmax_blocks(gaussian(kSlice), kSlice, 32, code_format::int8, codes.p,
                             reinterpret_cast<float*>(scales.p));
  const auto* s = reinterpret_cast<const float*>(scales.p);
  auto* o = reinterpret_cast<float*>(out.p);
  measure(state, n, int8_dequant_bytes(n), [&] {
    for (std::size_t j = 0; j < n; j += kSlice) {
      lq::dequantize_absmax_blocks(codes.p, s + j / 32, kSlice, 32, code_format::int8, o + j);
    }
  });
}

// ---- the N-d front: quantize() of a [n/4096, 4096] matrix into a new quantized_tensor ----

void BM_quantize_tensor_int8_block32(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  const lq::scheme s = lq::absmax(code_format::int8, lq::per_block(32));
  measure(state, n, 4 * n + n + scale_bytes(n, 32), [&] {
    benchmark::DoNotOptimize(lq::quantize(x, {n / 4096, 4096}, s));
  });
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : kSizes) b->Arg(n);
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_int8_quantize_block32)->Apply(sizes);
BENCHMARK(BM_int8_quantize_block64)->Apply(sizes);
BENCHMARK(BM_int8_dequantize_block32)->Apply(sizes);
BENCHMARK(BM_int4_quantize_block32)->Apply(sizes);
BENCHMARK(BM_int4_quantize_block64)->Apply(sizes);
BENCHMARK(BM_int4_dequantize_block32)->Apply(sizes);
BENCHMARK(BM_fp8_e4m3fn_quantize_block32)->Apply(sizes);
BENCHMARK(BM_fp8_e4m3fn_dequantize_block32)->Apply(sizes);
BENCHMARK(BM_int8_quantize_block32_scalar)->Apply(sizes);
BENCHMARK(BM_int4_quantize_block32_scalar)->Apply(sizes);
BENCHMARK(BM_ggml_q8_0_quantize)->Apply(sizes);
BENCHMARK(BM_uint8_affine_quantize_block32)->Apply(sizes);
BENCHMARK(BM_uint8_affine_dequantize_block32)->Apply(sizes);
BENCHMARK(BM_quantize_tensor_int8_block32)->Apply(sizes);
BENCHMARK(BM_floor_vector_copy_int8_dequantize_bytes)->Apply(sizes);
BENCHMARK(BM_floor_int8_to_float)->Apply(sizes);
BENCHMARK(BM_floor_int8_dequantize_codes_in_l1)->Apply(sizes);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("simd_target", lowprec::simd_target());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
