// Throughput of issue 6's low-bit paths: NF4 block-64 quantize and dequantize at 64 Ki (L2)
// and 16 Mi (DRAM) elements, SIMD and scalar definition; fused matvec at 4096 x 4096 with
// NF4 (plain and double-quantized scales), int4 and int8 weights, against Eigen's fp32
// matvec on the same shape (column-major, Eigen's default, and row-major); a fused NF4
// matrix x 8 vectors.
//
// Counters: items_per_second = elements (matrix elements for products); x_memcpy = memcpy's
// time to move the same bytes (read + written; half of them copied) divided by the
// kernel's, timed right after the kernel's loop in the same process. Built with the
// project's default flags (no -m/-march; the kernels pick the CPU's best Highway target at
// run time). Run e.g.
//   quant_lowbit_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
// and take the ratio of fused to Eigen times from the medians of one run.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "lowprec/quant/codebook_blocks.hpp"
#include "lowprec/quant/fused.hpp"
#include "memcpy_baseline.hpp"

namespace {

namespace lq = lowprec::quant;

constexpr std::size_t kBlock = 64;
constexpr std::size_t kDim = 4096;

const float* gaussian(std::size_t n) {
  static std::vector<float> data;
  if (data.size() < n) {
    data.resize(n);
    std::mt19937 g(20241124);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : data) v = dist(g);
  }
  return data.data();
}

using lowprec_bench::measure;

std::size_t nf4_bytes(std::size_t n) { return n / 2 + (n / kBlock) * sizeof(float); }

// ---- NF4 blocks ------------------------------------------------------------------------

void BM_nf4_quantize_block64(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  std::vector<std::uint8_t> codes(n / 2);
  std::vector<float> absmax(n / kBlock);
  measure(state, n, 4 * n + nf4_bytes(n),
          [&] { lq::quantize_nf4(x, n, codes.data(), absmax.data(), kBlock); });
}

void BM_nf4_quantize_block64_scalar(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = gaussian(n);
  std::vector<std::uint8_t> codes(n / 2);
  std::vector<float> absmax(n / kBlock);
  measure(state, n, 4 * n + nf4_bytes(n), [&] {
    lq::detail::quantize_codebook_blocks_scalar(x, n, kBlock, lq::nf4_codebook(), codes.data(),
                                                absmax.data());
  });
}

void BM_nf4_dequantize_block64(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> codes(n / 2);
  std::vector<float> absmax(n / kBlock), out(n);
  lq::quantize_nf4(gaussian(n), n, codes.data(), absmax.data(), kBlock);
  measure(state, n, nf4_bytes(n) + 4 * n,
          [&] { lq::dequantize_nf4(codes.data(), absmax.data(), n, out.data(), kBlock); });
}

void BM_nf4_dequantize_block64_scalar(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> codes(n / 2);
  std::vector<float> absmax(n / kBlock), out(n);
  lq::quantize_nf4(gaussian(n), n, codes.data(), absmax.data(), kBlock);
  measure(state, n, nf4_bytes(n) + 4 * n, [&] {
    lq::detail::dequantize_codebook_blocks_scalar(codes.data(), absmax.data(), n, kBlock,
                                                  lq::nf4_codebook(), out.data());
  });
}

// ---- fused products at 4096 x 4096 -------------------------------------------------------

const lq::blockwise_matrix& weights(lq::weight_format f, bool dq) {
  static lq::blockwise_matrix cache[4][2];
  static bool made[4][2] = {};
  const auto i = static_cast<std::size_t>(f);
  const std::size_t j = dq ? 1 : 0;
  if (!made[i][j]) {
    cache[i][j] = lq::blockwise_matrix::quantize(gaussian(kDim * kDim), kDim, kDim, f, kBlock, dq);
    made[i][j] = true;
  }
  return cache[i][j];
}

void fused_matvec(benchmark::State& state, lq::weight_format f, bool dq) {
  const lq::blockwise_matrix& w = weights(f, dq);
  const std::vector<float> x(gaussian(kDim), gaussian(kDim) + kDim);
  std::vector<float> y(kDim);
  measure(state, kDim * kDim, w.bytes() + 4 * kDim + 4 * kDim,
          [&] { w.matvec(x.data(), kDim, y.data(), kDim); });
}
void BM_fused_matvec_nf4(benchmark::State& s) { fused_matvec(s, lq::weight_format::nf4, false); }
void BM_fused_matvec_nf4_dq(benchmark::State& s) { fused_matvec(s, lq::weight_format::nf4, true); }
void BM_fused_matvec_int4(benchmark::State& s) { fused_matvec(s, lq::weight_format::int4, false); }
void BM_fused_matvec_int8(benchmark::State& s) { fused_matvec(s, lq::weight_format::int8, false); }

void BM_fused_matmat8_nf4(benchmark::State& state) {
  const lq::blockwise_matrix& w = weights(lq::weight_format::nf4, false);
  const std::size_t m = 8;
  const std::vector<float> x(gaussian(m * kDim), gaussian(m * kDim) + m * kDim);
  std::vector<float> y(m * kDim);
  measure(state, kDim * kDim * m, w.bytes() + 8 * m * kDim,
          [&] { w.matmat(x.data(), m, x.size(), y.data(), y.size()); });
}

template <int Order>
void eigen_matvec(benchmark::State& state) {
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Order>;
  const M a = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      gaussian(kDim * kDim), static_cast<Eigen::Index>(kDim), static_cast<Eigen::Index>(kDim));
  const Eigen::VectorXf x = Eigen::Map<const Eigen::VectorXf>(gaussian(kDim), static_cast<Eigen::Index>(kDim));
  Eigen::VectorXf y(static_cast<Eigen::Index>(kDim));
  measure(state, kDim * kDim, 4 * kDim * kDim + 8 * kDim, [&] { y.noalias() = a * x; });
}
void BM_eigen_fp32_matvec_colmajor(benchmark::State& s) { eigen_matvec<Eigen::ColMajor>(s); }
void BM_eigen_fp32_matvec_rowmajor(benchmark::State& s) { eigen_matvec<Eigen::RowMajor>(s); }

}  // namespace

BENCHMARK(BM_nf4_quantize_block64)->Arg(64 << 10)->Arg(16 << 20);
BENCHMARK(BM_nf4_quantize_block64_scalar)->Arg(64 << 10)->Arg(16 << 20);
BENCHMARK(BM_nf4_dequantize_block64)->Arg(64 << 10)->Arg(16 << 20);
BENCHMARK(BM_nf4_dequantize_block64_scalar)->Arg(64 << 10)->Arg(16 << 20);
BENCHMARK(BM_fused_matvec_nf4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fused_matvec_nf4_dq)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fused_matvec_int4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fused_matvec_int8)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fused_matmat8_nf4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_fp32_matvec_colmajor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_fp32_matvec_rowmajor)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
