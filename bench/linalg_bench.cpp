// Matrix x vector with low-precision storage and float accumulation (issue: bf16 weights
// at 4096 x 4096), against Eigen's fp32 matvec and a matvec on Eigen::bfloat16 storage.
// Run:  linalg_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
// Counters: elem/s = matrix elements per second; bytes/s = matrix bytes read per second;
// the memcpy row copies the same matrix bytes, so the ratio of bytes/s is "x memcpy".
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstring>
#include <random>
#include <vector>

#include "lowprec/eigen.hpp"
#include "lowprec/linalg.hpp"

namespace {

constexpr Eigen::Index kDim = 4096;

Eigen::MatrixXf random_matrix() {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 1.0f);
  Eigen::MatrixXf m(kDim, kDim);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(rng);
  return m;
}

const Eigen::MatrixXf& weights() {
  static const Eigen::MatrixXf w = random_matrix();
  return w;
}

void set_counters(benchmark::State& state, double bytes_per_elem) {
  const double elems = static_cast<double>(kDim) * static_cast<double>(kDim);
  state.counters["elem/s"] = benchmark::Counter(elems, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] =
      benchmark::Counter(elems * bytes_per_elem, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_lowprec_bf16_rowmajor(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a =
      weights().cast<lowprec::bf16>();
  const Eigen::VectorXf x = Eigen::VectorXf::Random(kDim);
  Eigen::VectorXf y(kDim);
  for (auto _ : state) {
    lowprec::matvec(a.data(), kDim, kDim, lowprec::layout::row_major, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 2);
  state.SetLabel(lowprec::simd_target());
}

void BM_lowprec_bf16_colmajor(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic> a =
      weights().cast<lowprec::bf16>();
  const Eigen::VectorXf x = Eigen::VectorXf::Random(kDim);
  Eigen::VectorXf y(kDim);
  for (auto _ : state) {
    lowprec::matvec(a.data(), kDim, kDim, lowprec::layout::col_major, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 2);
}

void BM_eigen_fp32(benchmark::State& state) {
  const Eigen::MatrixXf& a = weights();
  const Eigen::VectorXf x = Eigen::VectorXf::Random(kDim);
  Eigen::VectorXf y(kDim);
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 4);
}

void BM_eigen_fp32_rowmajor(benchmark::State& state) {
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a = weights();
  const Eigen::VectorXf x = Eigen::VectorXf::Random(kDim);
  Eigen::VectorXf y(kDim);
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 4);
}

void BM_eigen_bfloat16(benchmark::State& state) {
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic> a =
      weights().cast<Eigen::bfloat16>();
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, 1> x =
      Eigen::VectorXf::Random(kDim).cast<Eigen::bfloat16>();
  Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, 1> y(kDim);
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 2);
}

void BM_memcpy_bf16_matrix(benchmark::State& state) {
  std::vector<std::uint16_t> src(static_cast<std::size_t>(kDim * kDim), 1), dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size() * 2);
    benchmark::DoNotOptimize(dst.data());
  }
  set_counters(state, 2);
}

}  // namespace


// Reductions over the same 16 Mi elements: lowprec::sum / squared_norm of bf16 storage
// (float accumulation, SIMD) against Eigen's float sum and Eigen's bfloat16 sum (which
// accumulates in bf16, so its result is wrong as well as slow).
void BM_lowprec_bf16_sum(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic> a =
      lowprec::cast<lowprec::bf16>(weights());
  for (auto _ : state) benchmark::DoNotOptimize(lowprec::sum(a));
  set_counters(state, 2);
  state.SetLabel(lowprec::simd_target());
}

void BM_lowprec_bf16_squared_norm(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic> a =
      lowprec::cast<lowprec::bf16>(weights());
  for (auto _ : state) benchmark::DoNotOptimize(lowprec::squared_norm(a));
  set_counters(state, 2);
}

void BM_eigen_fp32_sum(benchmark::State& state) {
  const Eigen::MatrixXf& a = weights();
  for (auto _ : state) benchmark::DoNotOptimize(a.sum());
  set_counters(state, 4);
}

void BM_eigen_bfloat16_sum(benchmark::State& state) {
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic> a =
      weights().cast<Eigen::bfloat16>();
  for (auto _ : state) benchmark::DoNotOptimize(a.sum());
  set_counters(state, 2);
}

BENCHMARK(BM_memcpy_bf16_matrix)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lowprec_bf16_rowmajor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lowprec_bf16_colmajor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_fp32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_fp32_rowmajor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_bfloat16)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_lowprec_bf16_sum)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lowprec_bf16_squared_norm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_fp32_sum)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eigen_bfloat16_sum)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
